//! The pages in a real browser (Debian's Chromium, driven by Playwright from npm under
//! `tests/browser`), with every request to another origin blocked: the playground and
//! the dashboards must work on a network without internet access. Screenshots are kept
//! in `tests/browser/artefacts/`. When the browser script prints [`BUMP`], new data
//! lands (the data version moves), for the playground's subscription to hear of it.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The line the browser script prints when its subscription waits for new data.
const BUMP: &str = "BUMP DATA VERSION";

use crate::helpers::{missing, Backend, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_playground_and_the_dashboards_work_offline_in_a_browser() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    if !dir.join("node_modules/playwright-core").exists() || !PathBuf::from(&chromium).exists() {
        missing(
            "Chromium and tests/browser (apt-get install chromium; npm ci --prefix tests/browser): the browser test",
        );
        return;
    }
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    let token = app.registry_token().await;
    let company = app.token_for("ROCHE", None).await;
    let noisy = app.token_for("EARLYLOOK", None).await;
    let address = app.address.clone();
    let (db, state) = (app.db.clone(), app.state.clone());
    let runtime = tokio::runtime::Handle::current();
    let (status, report) = tokio::task::spawn_blocking(move || {
        let mut node = Command::new("node")
            .arg(dir.join("pages.mjs"))
            .env("BASE", address)
            .env("TOKEN", token)
            .env("COMPANY_TOKEN", company)
            .env("NOISY_TOKEN", noisy)
            .env("ARTEFACTS", dir.join("artefacts"))
            .env("CHROMIUM", chromium)
            .stdout(Stdio::piped())
            .spawn()
            .expect("run node");
        let mut report = String::new();
        for line in BufReader::new(node.stdout.take().expect("its output")).lines() {
            let line = line.expect("a line");
            if line == BUMP {
                runtime.block_on(async {
                    consortium_entity::data_version::bump(&db).await.expect("bump");
                    state.refresh().await.expect("refresh");
                });
            }
            println!("{line}");
            report.push_str(&line);
            report.push('\n');
        }
        (node.wait().expect("node ends"), report)
    })
    .await
    .expect("the browser run");
    assert!(status.success(), "{report}");
    assert!(report.contains("ok   the funnel query ran"), "{report}");
}
