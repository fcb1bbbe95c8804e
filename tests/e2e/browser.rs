//! The pages in a real browser (Debian's Chromium, driven by Playwright from npm under
//! `tests/browser`), with every request to another origin blocked: the playground and
//! the dashboards must work on a network without internet access. Screenshots are kept
//! in `tests/browser/artefacts/`.

use std::path::PathBuf;
use std::process::Command;

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
    let run = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(dir.join("pages.mjs"))
            .env("BASE", address)
            .env("TOKEN", token)
            .env("COMPANY_TOKEN", company)
            .env("NOISY_TOKEN", noisy)
            .env("ARTEFACTS", dir.join("artefacts"))
            .env("CHROMIUM", chromium)
            .output()
            .expect("run node")
    })
    .await
    .expect("the browser run");
    let report = String::from_utf8_lossy(&run.stdout);
    println!("{report}");
    assert!(run.status.success(), "{report}\n{}", String::from_utf8_lossy(&run.stderr));
    assert!(report.contains("ok   the funnel query ran"), "{report}");
}
