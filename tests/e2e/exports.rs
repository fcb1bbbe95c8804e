//! Released answers taken away: a question's tables as files (CSV, Parquet, XLSX)
//! through `POST /graphql/export` and `consortium export-answers`, each carrying its
//! data version, disclosure policy and audit record; and the cohort report, rendered
//! from a token's released answers as HTML and printed to PDF by headless Chromium
//! (its text read back with `pdftotext`).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use crate::helpers::{missing, Backend, TestApp};
use crate::on_both_backends;

/// Cohort by sex: on the company's exact tier some of these groups are small.
const QUESTION: &str = "{ patientCounts(population: ENROLLED, groupBy: [COHORT, SEX]) {
    groups { keys { dimension code } patients { value precision rule } } } }";

async fn export(app: &TestApp, token: &str, format: &str, table: Option<&str>, query: &str) -> reqwest::Response {
    let mut url = format!("{}/graphql/export?format={format}", app.address);
    if let Some(table) = table {
        url.push_str(&format!("&table={table}"));
    }
    app.client.post(url).bearer_auth(token).json(&json!({ "query": query })).send().await.expect("the export")
}

/// The `# data version N; disclosure policy P; audit record R` line's audit record.
fn audit_record(line: &str) -> i64 {
    let record = line.rsplit("audit record ").next().expect("an audit record");
    record.trim().parse().unwrap_or_else(|_| panic!("an audit record id in {line:?}"))
}

/// A CSV line's cells (every cell quoted, as the export writes them).
fn cells(line: &str) -> Vec<String> {
    let inner =
        line.strip_prefix('"').and_then(|l| l.strip_suffix('"')).unwrap_or_else(|| panic!("a quoted line: {line}"));
    inner.split("\",\"").map(|c| c.replace("\"\"", "\"")).collect()
}

/// The rows the JSON answer's groups give: cohort, sex, value, precision, rule, margin.
fn expected_rows(answer: &Value) -> Vec<Vec<String>> {
    answer["patientCounts"]["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| {
            let keys = g["keys"].as_array().expect("keys");
            let text = |v: &Value| match v {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let mut row: Vec<String> = keys.iter().map(|k| text(&k["code"])).collect();
            row.extend([
                text(&g["patients"]["value"]),
                text(&g["patients"]["precision"]),
                text(&g["patients"]["rule"]),
                String::new(),
            ]);
            row
        })
        .collect()
}

on_both_backends! {
    /// A question's table as CSV, Parquet and XLSX: the numbers of the JSON answer,
    /// withheld values empty with their rule, and the audit record that released them.
    async fn an_answer_exports_as_files_with_its_provenance(app: TestApp) {
        let company = app.token_for("ROCHE", None).await;
        let answer = app.graphql_as(&company, QUESTION, json!({})).await;
        let expected = expected_rows(&answer["data"]);
        assert!(expected.iter().any(|r| r[2].is_empty()), "some group is withheld: {expected:?}");
        assert!(expected.iter().any(|r| !r[2].is_empty()), "some group is published: {expected:?}");

        let csv = export(&app, &company, "csv", None, QUESTION).await;
        assert_eq!(csv.status(), 200);
        assert!(csv.headers()["content-type"].to_str().expect("text").starts_with("text/csv"));
        let text = csv.text().await.expect("text");
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].starts_with("# data version ") && lines[1].contains("; disclosure policy "), "{}", lines[1]);
        let record = audit_record(lines[1]);
        assert_eq!(app.sql_count(&format!("SELECT COUNT(*) FROM audit_record WHERE id = {record}")).await, 1);
        assert_eq!(
            cells(lines[3]),
            ["cohort", "sex", "patients", "patients precision", "patients rule", "patients margin95"]
        );
        let rows: Vec<Vec<String>> = lines[4..].iter().map(|l| cells(l)).collect();
        assert_eq!(rows, expected);

        let parquet = export(&app, &company, "parquet", Some("patientCounts.groups"), QUESTION).await;
        assert_eq!(parquet.status(), 200);
        let bytes = parquet.bytes().await.expect("bytes");
        assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"));
        let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        assert!(contains(b"audit_record") && contains(b"data_version") && contains(b"disclosure_policy"));

        let xlsx = export(&app, &company, "xlsx", None, QUESTION).await;
        assert_eq!(xlsx.status(), 200);
        assert!(xlsx.bytes().await.expect("bytes").starts_with(b"PK"));

        // Two tables and no choice; no format; a table the answer does not hold; no token.
        let two = "{ funnel { steps { population patients { value } } } patientCounts { total { value } } }";
        let ambiguous = export(&app, &company, "csv", None, two).await;
        assert_eq!(ambiguous.status(), 400);
        let body: Value = ambiguous.json().await.expect("JSON");
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST");
        assert!(body["errors"][0]["message"].as_str().expect("a message").contains("funnel.steps"), "{body}");
        let unnamed = export(&app, &company, "docx", None, QUESTION).await;
        assert_eq!(unnamed.status(), 400);
        assert_eq!(export(&app, &company, "csv", Some("nothing.here"), QUESTION).await.status(), 404);
        assert_eq!(export(&app, "cat_forged_0000000000000000000000000000", "csv", None, QUESTION).await.status(), 401);
        // A question that is not answered: its errors, as the API gives them, with 422.
        let refused = export(&app, &company, "csv", None, "{ noSuchField }").await;
        assert_eq!(refused.status(), 422);
        let body: Value = refused.json().await.expect("JSON");
        assert_eq!(body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED", "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_answers_writes_every_table_of_a_question() {
    let Some(binary) = crate::helpers::consortium_binary() else {
        return missing("the consortium binary (build the workspace)");
    };
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    let company = app.token_for("ROCHE", None).await;
    let dir = tempfile::tempdir().expect("a directory");
    let question = dir.path().join("enrolment.graphql");
    std::fs::write(&question, QUESTION).expect("the question");
    let out = dir.path().join("out");
    let run = |format: &str| {
        Command::new(&binary)
            .args(["export-answers", question.to_str().expect("a path"), "--format", format, "--url", &app.address])
            .arg("--out")
            .arg(&out)
            .env("CONSORTIUM_TOKEN", &company)
            .output()
            .expect("run export-answers")
    };
    for format in ["csv", "parquet", "xlsx"] {
        let output = run(format);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let file = |name: &str| out.join(name);
    let csv = std::fs::read_to_string(file("enrolment.patientCounts.groups.csv")).expect("the CSV");
    let lines: Vec<&str> = csv.lines().collect();
    let answer = app.graphql_as(&company, QUESTION, json!({})).await;
    let rows: Vec<Vec<String>> = lines[4..].iter().map(|l| cells(l)).collect();
    assert_eq!(rows, expected_rows(&answer["data"]));
    let record = audit_record(lines[1]);
    assert_eq!(app.sql_count(&format!("SELECT COUNT(*) FROM audit_record WHERE id = {record}")).await, 1);
    assert!(std::fs::read(file("enrolment.patientCounts.groups.parquet")).expect("the Parquet").starts_with(b"PAR1"));
    assert!(std::fs::read(file("enrolment.xlsx")).expect("the workbook").starts_with(b"PK"));

    // A forged token: a clear error, no file.
    let refused = Command::new(&binary)
        .args(["export-answers", question.to_str().expect("a path"), "--url", &app.address])
        .arg("--out")
        .arg(dir.path().join("refused"))
        .env("CONSORTIUM_TOKEN", "cat_forged_0000000000000000000000000000")
        .output()
        .expect("run export-answers");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("UNAUTHENTICATED"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(!dir.path().join("refused").exists());
}

/// Every cohort code the token's `cohortMonitoring` lists.
async fn cohorts(app: &TestApp, token: &str) -> BTreeSet<String> {
    let answer = app.graphql_as(token, "{ cohortMonitoring { cohort { code } } }", json!({})).await;
    answer["data"]["cohortMonitoring"]
        .as_array()
        .expect("cohorts")
        .iter()
        .map(|c| c["cohort"]["code"].as_str().expect("a code").to_owned())
        .collect()
}

/// Whether `code` appears in `text` as a word of its own (not inside a longer code).
fn mentions(text: &str, code: &str) -> bool {
    text.match_indices(code).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + code.len()..].chars().next();
        let part = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-');
        !part(before) && !part(after)
    })
}

/// The text of a PDF, by `pdftotext` (poppler-utils).
fn pdf_text(pdf: &[u8], dir: &Path) -> Option<String> {
    let path = dir.join("report.pdf");
    std::fs::write(&path, pdf).expect("the PDF");
    let output = Command::new("pdftotext").arg(&path).arg("-").output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// How often a text says "withheld".
fn withheld_count(text: &str) -> usize {
    text.matches("withheld").count()
}

/// The text an HTML page shows: its markup and its style left out.
fn visible(html: &str) -> String {
    let body = html.split("</style>").last().unwrap_or(html);
    let mut text = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cohort_report_holds_the_callers_cohorts_and_shows_withheld_values_as_withheld() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    let company = app.token_for("ROCHE", None).await;
    let academic = app.token_for("TRIALSTAT", None).await;
    let everyone = cohorts(&app, &app.registry_token().await).await;
    let own = cohorts(&app, &company).await;
    assert!(!own.is_empty() && own.len() < everyone.len(), "{own:?} of {everyone:?}");

    let html = |token: String| {
        let (client, address) = (app.client.clone(), app.address.clone());
        async move {
            let response = client
                .get(format!("{address}/reports/cohorts.html"))
                .bearer_auth(token)
                .send()
                .await
                .expect("the report");
            assert_eq!(response.status(), 200);
            response.text().await.expect("HTML")
        }
    };
    let page = html(company.clone()).await;
    for code in &everyone {
        assert_eq!(page.contains(&format!("id=\"cohort-{code}\"")), own.contains(code), "{code}");
    }
    assert_eq!(page.matches("class=\"page cohort\"").count(), own.len());
    for nothing in ["null", "NaN", "undefined"] {
        assert!(!page.contains(nothing), "{nothing} in the report");
    }
    let withheld = withheld_count(&visible(&page));
    assert!(withheld > page.matches("class=\"withheld\"").count() / 2, "the company's report withholds something");
    let unauthenticated = app.client.get(format!("{}/reports/cohorts.html", app.address)).send().await.expect("asked");
    assert_eq!(unauthenticated.status(), 401);

    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    let has_pdftotext = Command::new("pdftotext").arg("-v").output().is_ok();
    if !Path::new(&chromium).exists() || !has_pdftotext {
        return missing("Chromium and pdftotext (apt-get install chromium poppler-utils): the report's PDF");
    }
    let dir = tempfile::tempdir().expect("a directory");
    let pdf = |token: String| {
        let (client, address) = (app.client.clone(), app.address.clone());
        async move {
            let response =
                client.get(format!("{address}/reports/cohorts.pdf")).bearer_auth(token).send().await.expect("the PDF");
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers()["content-type"], "application/pdf");
            response.bytes().await.expect("bytes").to_vec()
        }
    };
    let text = pdf_text(&pdf(company).await, dir.path()).expect("pdftotext reads it");
    for code in &everyone {
        assert_eq!(mentions(&text, code), own.contains(code), "{code} in the company's PDF");
    }
    assert_eq!(withheld_count(&text), withheld, "every withheld value of the page is withheld in the PDF");
    let academic_text = pdf_text(&pdf(academic).await, dir.path()).expect("pdftotext reads it");
    assert!(everyone.iter().all(|code| mentions(&academic_text, code)), "the academic report holds every cohort");
}
