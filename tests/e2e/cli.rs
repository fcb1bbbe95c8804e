//! The `consortium` command line as a shell user runs it: its output into a pipe that
//! closes early, columns that hold long names, and `serve` refusing without leaving a
//! database behind.

use std::process::{Command, Stdio};

use crate::helpers::{Backend, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partner_list_into_a_closed_pipe_ends_quietly_and_keeps_its_columns() {
    let Some(binary) = crate::helpers::consortium_binary() else {
        return crate::helpers::missing("the consortium binary (build the workspace)");
    };
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    use consortium_entity::partner;
    use sea_orm::{ActiveModelTrait, Set};
    let long = "The Very Long Name of a Regional Health Trust's Clinical Research Office and Biobank";
    partner::ActiveModel {
        code: Set("LONGNAME".into()),
        name: Set(long.into()),
        kind: Set(consortium_entity::PartnerKind::Academic),
        org_number: Set("987654321".into()),
        scopes: Set(None),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("a partner with a long name");

    // The reader goes away before anything is written (`| head -0`).
    let mut child = Command::new(&binary)
        .args(["--database-url", &app.database_url(), "partner", "list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run partner list");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("it ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "exit {:?}: {stderr}", output.status);
    assert!(!stderr.contains("panicked"), "{stderr}");

    let listed = Command::new(&binary)
        .args(["--database-url", &app.database_url(), "partner", "list"])
        .output()
        .expect("run partner list");
    let text = String::from_utf8_lossy(&listed.stdout);
    let lines: Vec<&str> = text.lines().collect();
    let scopes_at = lines[0].find("scopes").expect("a header");
    let long_line = lines.iter().find(|l| l.starts_with("LONGNAME")).expect("the long partner");
    assert!(long_line.contains('…'), "{long_line}");
    for line in &lines[1..] {
        let before: String = line.chars().take(scopes_at).collect();
        assert!(before.ends_with(' '), "columns out of line: {line:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_without_a_database_refuses_and_leaves_nothing_behind() {
    let Some(binary) = crate::helpers::consortium_binary() else {
        return crate::helpers::missing("the consortium binary (build the workspace)");
    };
    let dir = tempfile::tempdir().expect("an empty directory");
    let output = Command::new(&binary)
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .args(["serve", "--bind", "127.0.0.1:0"])
        .output()
        .expect("run serve");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("consortium migrate"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).expect("read the directory").collect();
    assert!(left.is_empty(), "serve left {left:?} behind");
}
