//! The cohort report for the trial statistics group and the data monitoring committee:
//! a consortium summary page, then one page per cohort — design and decision with its
//! boundaries, clinical benefit and objective response with exact intervals, best
//! response, Kaplan–Meier curves of PFS and OS with numbers at risk, adverse events by
//! organ class and grade.
//!
//! The service renders it from released answers only: the report's questions are asked
//! as one batch through the same pipeline as any client's (admission, the release step,
//! the audit record), with the caller's token, so a company's report holds its own
//! cohorts only and every number is protected as it would be in the API; a withheld
//! value is printed as "withheld (RULE)", and a part the token may not see says so.
//! `GET /reports/cohorts.html` is a standalone page with a print stylesheet (one cohort
//! per printed page); `GET /reports/cohorts.pdf` is that page printed by headless
//! Chromium (`--chromium`), and `/reports` shows it in the browser with the token in
//! memory, like the other pages. The routes' handlers are HTTP glue
//! (`crate::http::report_html`, `report_pdf`): they send [`questions`] through the
//! pipeline and give its response to [`Answers::read`].

use std::fmt::Write as _;
use std::path::PathBuf;

use poem::http::{header, HeaderValue, StatusCode};
use poem::web::Json;
use poem::{Body, IntoResponse, Response};
use serde_json::{json, Value};

use crate::error::Code;
use crate::pipeline::reply::Refusal;

/// Where the report's PDF is printed, when this service may print it: one report at a
/// time (a Chromium each), others refused while it prints.
#[derive(Debug, Clone)]
pub struct Printer {
    /// Chromium (or Chrome), run headless to print the report's page.
    pub chromium: Option<PathBuf>,
    /// The one print that may run.
    printing: std::sync::Arc<tokio::sync::Semaphore>,
}

/// Debian's Chromium, used when none is configured.
const DEBIAN_CHROMIUM: &str = "/usr/bin/chromium";

/// The report's questions, one operation per scope they need (`response:read`,
/// `outcome:read`, `safety:read`), so a part the token may not see leaves the others
/// answered.
const QUESTIONS: [(&str, &str); 3] = [
    (
        "monitoring",
        "{ viewer { partner { code name kind } }
           cohortMonitoring {
             cohort { code name tumourType gene alterationClass drugCode status openedOn closedOn design { r1 n1 r n } }
             decision { kind evaluableNeeded { value precision rule } benefitsNeeded { value precision rule } isFinal rule }
             statusAgrees recordedStatus
             enrolled { value precision rule margin95 } treated { value precision rule margin95 }
             stage1 { evaluable { value precision rule } benefits { value precision rule } }
             stage2 { evaluable { value precision rule } benefits { value precision rule } }
             expansion { evaluable { value precision rule } benefits { value precision rule } }
             clinicalBenefit { ...proportion }
           }
           responses(groupBy: [COHORT]) { groups {
             keys { code } treated { value precision rule } evaluable { value precision rule }
             objectiveResponse { ...proportion }
             bestResponse { response patients { value precision rule margin95 } } } } }
         fragment proportion on Proportion {
           numerator { value precision rule } denominator { value precision rule }
           estimate { value precision rule } lower95 { value precision rule } upper95 { value precision rule } }",
    ),
    (
        "survival",
        "{ pfs: survival(endpoint: PFS, groupBy: COHORT) { ...curve } os: survival(endpoint: OS, groupBy: COHORT) { ...curve } }
         fragment curve on SurvivalCurve {
           group { code } patients { value precision rule } events { value precision rule }
           steps { months { value } survival { value } lower95 { value } upper95 { value } }
           median { months { value precision rule } lower95 { value } upper95 { value } }
           atRisk { months patients { value precision rule } } }",
    ),
    (
        "safety",
        "{ adverseEvents(category: ORGAN_CLASS, split: COHORT) {
             split { code } category treated { value precision rule }
             anyGrade { numerator { value precision rule margin95 } }
             grade3Plus { numerator { value precision rule margin95 } }
             serious { numerator { value precision rule margin95 } } } }",
    ),
];

/// Only inline styles and pictures: the report fetches nothing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/// The answers to the report's questions, by name: each `data`, or the first error.
pub struct Answers {
    parts: Vec<(&'static str, Result<Value, String>)>,
    provenance: crate::export::Provenance,
}

/// The report's questions as the body of one batched GraphQL request, for the
/// pipeline to answer with the caller's token (`crate::http::report_html`).
pub fn questions() -> Body {
    let batch: Vec<Value> = QUESTIONS.iter().map(|(_, query)| json!({ "query": query })).collect();
    Body::from_vec(Value::Array(batch).to_string().into_bytes())
}

impl Answers {
    /// The pipeline's `response` to [`questions`]; a refused request comes back as it is.
    pub async fn read(response: Response) -> Result<Answers, Response> {
        if response.status() != StatusCode::OK {
            return Err(response);
        }
        let internal = || Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, Code::Internal, "internal error").response();
        let bytes = response.into_body().into_vec().await.map_err(|_| internal())?;
        let answers: Vec<Value> = match serde_json::from_slice::<Value>(&bytes).map_err(|_| internal())? {
            Value::Array(answers) => answers,
            // The whole batch refused in one answer (a privacy budget spent, say): as it is.
            refused => return Err((StatusCode::UNPROCESSABLE_ENTITY, Json(refused)).into_response()),
        };
        if answers.len() != QUESTIONS.len() {
            return Err(internal());
        }
        let provenance =
            answers.iter().map(crate::export::Provenance::of).find(|p| p.audit_record.is_some()).unwrap_or_default();
        let parts = QUESTIONS
            .iter()
            .zip(answers)
            .map(|((name, _), answer)| {
                let data = &answer["data"];
                let result = match answer["errors"].as_array().and_then(|e| e.first()) {
                    Some(error)
                        if data.is_null() || data.as_object().is_some_and(|o| o.values().all(Value::is_null)) =>
                    {
                        let code = error["extensions"]["code"].as_str().unwrap_or("ERROR");
                        Err(format!("{} ({code})", error["message"].as_str().unwrap_or_default()))
                    }
                    _ => Ok(data.clone()),
                };
                (*name, result)
            })
            .collect();
        Ok(Answers { parts, provenance })
    }

    fn part(&self, name: &str) -> Result<&Value, &str> {
        match self.parts.iter().find(|(n, _)| *n == name) {
            Some((_, Ok(data))) => Ok(data),
            Some((_, Err(message))) => Err(message),
            None => Err("not asked"),
        }
    }
}

/// Text made safe for HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A released number as HTML: its value (with `digits` decimals, ± its margin when it
/// has one), or "withheld (RULE)".
fn number(released: &Value, digits: Option<usize>) -> String {
    match &released["value"] {
        Value::Null => {
            let rule = released["rule"].as_str().map(|r| format!(" ({})", r.split(':').next().unwrap_or(r)));
            format!("<span class=\"withheld\">withheld{}</span>", escape(&rule.unwrap_or_default()))
        }
        value => {
            let shown = match (digits, value.as_f64()) {
                (Some(d), Some(v)) => format!("{v:.d$}"),
                _ => escape(&text(value)),
            };
            match released["margin95"].as_f64() {
                Some(m) if m > 0.0 => format!("{shown} ±{m}"),
                _ => shown,
            }
        }
    }
}

/// A proportion as `r/n = estimate (lower–upper)`, each part released on its own; a
/// withheld estimate as one "withheld", with the rule of the first part withheld (its
/// counts' own where they are).
fn proportion(p: &Value) -> String {
    if p.is_null() {
        return "<span class=\"withheld\">not available</span>".to_owned();
    }
    if p["estimate"]["value"].is_null() {
        let parts = [&p["numerator"], &p["denominator"], &p["estimate"]];
        let cause = parts.into_iter().find(|part| part["value"].is_null()).unwrap_or(&p["estimate"]);
        return number(cause, None);
    }
    format!(
        "{}/{} = {} (95% CI {}–{})",
        number(&p["numerator"], None),
        number(&p["denominator"], None),
        number(&p["estimate"], Some(2)),
        number(&p["lower95"], Some(2)),
        number(&p["upper95"], Some(2)),
    )
}

fn words(code: &Value) -> String {
    escape(&text(code).replace('_', " ").to_lowercase())
}

/// The rows of `part` whose key `field.code` is `cohort`.
fn rows_of<'a>(part: Result<&'a Value, &str>, list: &str, field: &str, cohort: &str) -> Vec<&'a Value> {
    let Ok(data) = part else { return Vec::new() };
    data[list].as_array().into_iter().flatten().filter(|row| row[field]["code"].as_str() == Some(cohort)).collect()
}

fn unavailable(message: &str) -> String {
    format!("<p class=\"unavailable\">Not available to this token: {}</p>", escape(message))
}

const CURVE_COLOURS: [(&str, &str); 2] = [("PFS", "#2c7da0"), ("OS", "#e76f51")];

/// Kaplan–Meier curves (or life tables) of one cohort as an SVG: survival against
/// months, each curve a step function through its released steps.
fn curves_svg(curves: &[(&str, &Value)]) -> String {
    let (width, height, left, bottom, top, right) = (560.0, 200.0, 40.0, 28.0, 8.0, 12.0);
    let months = |step: &Value| step["months"]["value"].as_f64();
    let most = curves
        .iter()
        .flat_map(|(_, c)| c["steps"].as_array().into_iter().flatten().filter_map(months))
        .fold(12.0_f64, f64::max);
    let x = |m: f64| left + m / most * (width - left - right);
    let y = |s: f64| top + (1.0 - s) * (height - top - bottom);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"km\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"10\">"
    );
    for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let _ = write!(
            svg,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\" stroke=\"#e4e9ef\"/><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{tick}</text>",
            width - right,
            left - 4.0,
            y(tick) + 3.0,
            y = y(tick)
        );
    }
    let step = if most > 36.0 { 12.0 } else { 6.0 };
    let mut m = 0.0;
    while m <= most {
        let _ = write!(svg, "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{m}</text>", x(m), height - bottom + 12.0);
        m += step;
    }
    let _ = write!(svg, "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">months</text>", x(most / 2.0), height - 4.0);
    for (name, curve) in curves {
        let colour = CURVE_COLOURS.iter().find(|(n, _)| n == name).map_or("#1d2733", |(_, c)| c);
        let mut path = format!("M{} {}", x(0.0), y(1.0));
        let mut last = 1.0;
        // The curve ends at its first withheld step: no level the release step did not
        // publish is drawn.
        for step in curve["steps"].as_array().into_iter().flatten() {
            let (Some(m), Some(s)) = (months(step), step["survival"]["value"].as_f64()) else { break };
            let _ = write!(path, " H{:.1} V{:.1}", x(m), y(s));
            last = s;
        }
        let _ = write!(svg, "<path d=\"{path}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"><title>{name}: {last:.2} at the last step</title></path>");
    }
    svg.push_str("</svg>");
    svg
}

/// The numbers at risk under the curves: one row per curve.
fn at_risk_table(curves: &[(&str, &Value)]) -> String {
    let Some((_, first)) = curves.first() else { return String::new() };
    let months: Vec<String> = first["atRisk"].as_array().into_iter().flatten().map(|a| text(&a["months"])).collect();
    let mut html = String::from("<table class=\"at-risk\"><tr><th>at risk (months)</th>");
    for m in &months {
        let _ = write!(html, "<th>{}</th>", escape(m));
    }
    html.push_str("</tr>");
    for (name, curve) in curves {
        let _ = write!(html, "<tr><td>{name}</td>");
        for a in curve["atRisk"].as_array().into_iter().flatten() {
            let _ = write!(html, "<td>{}</td>", number(&a["patients"], None));
        }
        html.push_str("</tr>");
    }
    html.push_str("</table>");
    html
}

fn survival_section(answers: &Answers, cohort: &str) -> String {
    let mut html = String::from("<h3>Survival</h3>");
    let survival = match answers.part("survival") {
        Ok(data) => data,
        Err(message) => return html + &unavailable(message),
    };
    let curves: Vec<(&str, &Value)> = [("PFS", "pfs"), ("OS", "os")]
        .into_iter()
        .filter_map(|(name, list)| rows_of(Ok(survival), list, "group", cohort).first().map(|c| (name, *c)))
        .collect();
    if curves.is_empty() {
        return html;
    }
    html.push_str("<table><tr><th></th><th>patients</th><th>events</th><th>median (months, 95% CI)</th></tr>");
    for (name, curve) in &curves {
        let median = &curve["median"];
        let _ = write!(
            html,
            "<tr><td><span class=\"swatch\" style=\"background:{}\"></span>{name}</td><td>{}</td><td>{}</td><td>{} ({}–{})</td></tr>",
            CURVE_COLOURS.iter().find(|(n, _)| n == name).map_or("#1d2733", |(_, c)| c),
            number(&curve["patients"], None),
            number(&curve["events"], None),
            number(&median["months"], Some(1)),
            number(&median["lower95"], Some(1)),
            number(&median["upper95"], Some(1)),
        );
    }
    html.push_str("</table>");
    html.push_str(&curves_svg(&curves));
    html.push_str(&at_risk_table(&curves));
    html
}

fn responses_section(answers: &Answers, cohort: &str) -> String {
    let mut html = String::from("<h3>Response</h3>");
    let group =
        match answers.part("monitoring") {
            Err(message) => return html + &unavailable(message),
            Ok(data) => data["responses"]["groups"].as_array().into_iter().flatten().find(|g| {
                g["keys"].as_array().and_then(|k| k.first()).and_then(|k| k["code"].as_str()) == Some(cohort)
            }),
        };
    let Some(group) = group else {
        return html + "<p>No response data released for this cohort.</p>";
    };
    let _ = write!(
        html,
        "<p>Treated {}; evaluable {}. Objective response: {}.</p><table><tr><th>best overall response</th>",
        number(&group["treated"], None),
        number(&group["evaluable"], None),
        proportion(&group["objectiveResponse"]),
    );
    let best = group["bestResponse"].as_array().cloned().unwrap_or_default();
    for b in &best {
        let _ = write!(html, "<th>{}</th>", escape(&text(&b["response"])));
    }
    html.push_str("</tr><tr><td>patients</td>");
    for b in &best {
        let _ = write!(html, "<td>{}</td>", number(&b["patients"], None));
    }
    html.push_str("</tr></table>");
    html
}

fn safety_section(answers: &Answers, cohort: &str) -> String {
    let mut html = String::from("<h3>Adverse events by organ class and grade</h3>");
    if let Err(message) = answers.part("safety") {
        return html + &unavailable(message);
    }
    let rows = rows_of(answers.part("safety"), "adverseEvents", "split", cohort);
    if rows.is_empty() {
        return html + "<p>No adverse-event data released for this cohort.</p>";
    }
    html.push_str(
        "<table><tr><th>organ class</th><th>treated</th><th>any grade</th><th>grade ≥ 3</th><th>serious</th></tr>",
    );
    for row in rows {
        let category = row["category"].as_str().map_or_else(|| "any adverse event".to_owned(), escape);
        let _ = write!(
            html,
            "<tr><td>{category}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            number(&row["treated"], None),
            number(&row["anyGrade"]["numerator"], None),
            number(&row["grade3Plus"]["numerator"], None),
            number(&row["serious"]["numerator"], None),
        );
    }
    html.push_str("</table>");
    html
}

fn decision_text(decision: &Value) -> String {
    match decision["kind"].as_str() {
        Some(kind) => words(&Value::String(kind.to_owned())),
        None => number(&json!({ "value": null, "rule": decision["rule"] }), None),
    }
}

fn cohort_page(answers: &Answers, monitoring: &Value) -> String {
    let cohort = &monitoring["cohort"];
    let code = text(&cohort["code"]);
    let design = &cohort["design"];
    let mut html = format!(
        "<section class=\"page cohort\" id=\"cohort-{id}\"><h2>{id} — {name}</h2><p class=\"what\">{tumour} · {gene} {class} · drug {drug} · status {status} · opened {opened}{closed}</p>",
        id = escape(&code),
        name = escape(&text(&cohort["name"])),
        tumour = escape(&text(&cohort["tumourType"])),
        gene = escape(&text(&cohort["gene"])),
        class = words(&cohort["alterationClass"]),
        drug = escape(&text(&cohort["drugCode"])),
        status = words(&cohort["status"]),
        opened = escape(&text(&cohort["openedOn"])),
        closed = cohort["closedOn"].as_str().map(|d| format!(", closed {}", escape(d))).unwrap_or_default(),
    );
    let decision = &monitoring["decision"];
    let agrees = match monitoring["statusAgrees"].as_bool() {
        Some(true) => "agrees with".to_owned(),
        Some(false) => "<strong>does not agree</strong> with".to_owned(),
        None => "cannot be compared with".to_owned(),
    };
    let _ = write!(
        html,
        "<h3>Design and decision</h3><p>Two-stage design: stage 1 continues with more than {r1} benefits among the first {n1} evaluable patients; the cohort is positive with more than {r} among {n}.</p>\
         <table><tr><th></th><th>evaluable</th><th>benefits</th><th>boundary</th></tr>\
         <tr><td>stage 1</td><td>{s1e}</td><td>{s1b}</td><td>&gt; {r1} of {n1}</td></tr>\
         <tr><td>stage 2</td><td>{s2e}</td><td>{s2b}</td><td>&gt; {r} of {n} (both stages)</td></tr>\
         <tr><td>expansion</td><td>{xe}</td><td>{xb}</td><td></td></tr></table>\
         <p>Decision: <strong>{kind}</strong>{final_}; still needed: {evaluable} evaluable, {benefits} benefits. The recorded status ({recorded}) {agrees} it.</p>\
         <p>Enrolled {enrolled}; treated {treated}.</p>",
        r1 = text(&design["r1"]),
        n1 = text(&design["n1"]),
        r = text(&design["r"]),
        n = text(&design["n"]),
        s1e = number(&monitoring["stage1"]["evaluable"], None),
        s1b = number(&monitoring["stage1"]["benefits"], None),
        s2e = number(&monitoring["stage2"]["evaluable"], None),
        s2b = number(&monitoring["stage2"]["benefits"], None),
        xe = number(&monitoring["expansion"]["evaluable"], None),
        xb = number(&monitoring["expansion"]["benefits"], None),
        kind = decision_text(decision),
        final_ = if decision["isFinal"].as_bool() == Some(true) { " (final)" } else { "" },
        evaluable = number(&decision["evaluableNeeded"], None),
        benefits = number(&decision["benefitsNeeded"], None),
        recorded = words(&monitoring["recordedStatus"]),
        enrolled = number(&monitoring["enrolled"], None),
        treated = number(&monitoring["treated"], None),
    );
    let _ = write!(html, "<h3>Clinical benefit at week 16</h3><p>{}</p>", proportion(&monitoring["clinicalBenefit"]));
    html.push_str(&responses_section(answers, &code));
    html.push_str(&survival_section(answers, &code));
    html.push_str(&safety_section(answers, &code));
    html.push_str("</section>");
    html
}

const STYLE: &str = "
body { font-family: system-ui, sans-serif; color: #1d2733; margin: 0; }
main.report { max-width: 60rem; margin: 0 auto; padding: 1rem; }
.report h1 { font-size: 1.5rem; } .report h2 { font-size: 1.2rem; border-bottom: 2px solid #0b3a53; }
.report h3 { font-size: 1rem; margin: 0.9rem 0 0.3rem; }
.report table { border-collapse: collapse; font-size: 0.8rem; margin: 0.3rem 0; }
.report th, .report td { border-bottom: 1px solid #d9e2ec; padding: 0.1rem 0.45rem; text-align: left; }
.report .withheld { color: #a4161a; font-style: italic; }
.report table.at-risk { width: 100%; table-layout: fixed; font-size: 0.65rem; }
.report table.at-risk th:first-child { width: 7rem; }
.report td { overflow-wrap: anywhere; }
.report .unavailable, .report .what, .report .provenance { color: #52606d; font-size: 0.85rem; }
.report .swatch { display: inline-block; width: 0.8rem; height: 0.5rem; margin-right: 0.3rem; }
.report .page { margin-bottom: 2rem; }
@media print {
  @page { size: A4; margin: 14mm; }
  .report .page { break-after: page; margin: 0; }
  .report .page:last-child { break-after: auto; }
  .report table, .report svg { break-inside: avoid; }
}";

fn summary_page(answers: &Answers, cohorts: &[Value], partner: &Value, generated: &str) -> String {
    let mut html = format!(
        "<section class=\"page summary\"><h1>Cohort report</h1>\
         <p class=\"provenance\">For {partner} · {provenance} · generated {generated}. Every number is released under the disclosure policy: a withheld value is shown as <span class=\"withheld\">withheld</span> with the rule that withheld it, never as zero.</p>",
        partner = escape(&format!("{} ({})", text(&partner["name"]), text(&partner["code"]))),
        provenance = escape(&answers.provenance.line()),
    );
    let _ = write!(
        html,
        "<h2>Consortium summary: {} cohorts</h2><table><tr><th>cohort</th><th>status</th><th>decision</th><th>enrolled</th><th>clinical benefit (95% CI)</th></tr>",
        cohorts.len()
    );
    for monitoring in cohorts {
        let _ = write!(
            html,
            "<tr><td><a href=\"#cohort-{code}\">{code}</a></td><td>{status}</td><td>{decision}</td><td>{enrolled}</td><td>{benefit}</td></tr>",
            code = escape(&text(&monitoring["cohort"]["code"])),
            status = words(&monitoring["cohort"]["status"]),
            decision = decision_text(&monitoring["decision"]),
            enrolled = number(&monitoring["enrolled"], None),
            benefit = proportion(&monitoring["clinicalBenefit"]),
        );
    }
    html.push_str("</table></section>");
    html
}

/// The report as a standalone HTML document.
fn render(answers: &Answers) -> String {
    let generated = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
    let mut body = String::new();
    match answers.part("monitoring") {
        Err(message) => body.push_str(&unavailable(message)),
        Ok(data) => {
            let cohorts = data["cohortMonitoring"].as_array().cloned().unwrap_or_default();
            body.push_str(&summary_page(answers, &cohorts, &data["viewer"]["partner"], &generated));
            for monitoring in &cohorts {
                body.push_str(&cohort_page(answers, monitoring));
            }
        }
    }
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\"><title>Cohort report</title><style>{STYLE}</style></head><body><main class=\"report\">{body}</main></body></html>"
    )
}

/// The report of `answers` as an HTML page.
pub fn page(answers: &Answers) -> Response {
    let mut response = Response::builder()
        .content_type("text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(render(answers));
    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    response
}

/// How long Chromium may take to print the report.
const PRINT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Prints `html` to PDF with headless Chromium at `chromium` (on a blocking thread: it
/// is a child process, stopped when it runs past [`PRINT_TIMEOUT`]).
async fn print(chromium: PathBuf, html: String) -> anyhow::Result<Vec<u8>> {
    tokio::task::spawn_blocking(move || {
        use std::os::unix::process::CommandExt;
        let dir = tempfile::tempdir()?;
        let page = dir.path().join("report.html");
        let pdf = dir.path().join("report.pdf");
        std::fs::write(&page, html)?;
        let address =
            url::Url::from_file_path(&page).map_err(|()| anyhow::anyhow!("the page's path is not absolute"))?;
        // Chromium gets none of the service's environment (its database address, say), and
        // its own process group, so a stop reaches the processes it starts.
        let mut child = std::process::Command::new(&chromium)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer"])
            .arg(format!("--user-data-dir={}", dir.path().join("profile").display()))
            .arg(format!("--print-to-pdf={}", pdf.display()))
            .arg(address.as_str())
            .env_clear()
            .env("HOME", dir.path())
            .process_group(0)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("stderr"))?)
            .spawn()?;
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if started.elapsed() > PRINT_TIMEOUT {
                // The whole group: Chromium and the processes it started.
                let _ = std::process::Command::new("kill").args(["-KILL", "--", &format!("-{}", child.id())]).status();
                let _ = child.kill();
                let _ = child.wait();
                anyhow::bail!("chromium ran past {} s", PRINT_TIMEOUT.as_secs());
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        if !status.success() {
            let stderr = std::fs::read_to_string(dir.path().join("stderr")).unwrap_or_default();
            anyhow::bail!("chromium exited with {status}: {stderr}");
        }
        Ok(std::fs::read(&pdf)?)
    })
    .await?
}

impl Printer {
    /// Prints with `chromium`, or with Debian's when none is given and it is installed.
    pub fn configured(chromium: Option<&std::path::Path>) -> Printer {
        let chromium = match chromium {
            Some(path) => Some(path.to_owned()),
            None => Some(PathBuf::from(DEBIAN_CHROMIUM)).filter(|p| p.exists()),
        };
        Printer { chromium, printing: std::sync::Arc::new(tokio::sync::Semaphore::new(1)) }
    }

    /// Whether this service prints the report, and if not, the refusal saying so.
    pub fn ready(&self) -> Result<&PathBuf, Refusal> {
        self.chromium.as_ref().ok_or_else(|| {
            let message =
                "this service prints no PDF (start it with --chromium); open /reports and print from the browser";
            Refusal::new(StatusCode::SERVICE_UNAVAILABLE, Code::Unavailable, message)
        })
    }

    /// The report of `answers` printed to PDF (refused while another prints).
    pub async fn pdf(&self, answers: &Answers) -> Response {
        let chromium = match self.ready() {
            Ok(chromium) => chromium.clone(),
            Err(refusal) => return refusal.response(),
        };
        let Ok(_printing) = self.printing.try_acquire() else {
            let message = "another report is being printed; ask again in a few seconds";
            return Refusal::new(StatusCode::SERVICE_UNAVAILABLE, Code::Unavailable, message).response();
        };
        match print(chromium, render(answers)).await {
            Ok(bytes) => Response::builder()
                .content_type("application/pdf")
                .header(header::CONTENT_DISPOSITION, "attachment; filename=\"cohort-report.pdf\"")
                .header(header::CACHE_CONTROL, "no-store")
                .body(bytes),
            Err(cause) => {
                tracing::error!(%cause, "cannot print the cohort report");
                let error = json!({ "errors": [{ "message": "the report could not be printed", "extensions": { "code": Code::Unavailable.as_str() } }] });
                (StatusCode::SERVICE_UNAVAILABLE, Json(error)).into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn withheld_numbers_say_so_and_text_is_escaped() {
        assert_eq!(
            number(&json!({ "value": null, "rule": "SMALL_CELL:k=5" }), None),
            "<span class=\"withheld\">withheld (SMALL_CELL)</span>"
        );
        assert_eq!(number(&json!({ "value": 0.4567, "precision": "EXACT" }), Some(2)), "0.46");
        assert_eq!(number(&json!({ "value": 12, "precision": "NOISY", "margin95": 3 }), None), "12 ±3");
        assert_eq!(escape("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
    }

    #[test]
    fn a_part_the_token_may_not_see_says_so_and_the_rest_is_rendered() {
        let monitoring = json!({
            "viewer": { "partner": { "code": "ROCHE", "name": "Roche", "kind": "INDUSTRY" } },
            "cohortMonitoring": [{
                "cohort": { "code": "C01", "name": "<Lung> BRAF", "tumourType": "NSCLC", "gene": "BRAF", "alterationClass": "MUTATION",
                            "drugCode": "D1", "status": "STAGE_1", "openedOn": "2022-01-01", "closedOn": null, "design": { "r1": 0, "n1": 8, "r": 4, "n": 24 } },
                "decision": { "kind": null, "rule": "SMALL_CELL", "evaluableNeeded": { "value": 3 }, "benefitsNeeded": { "value": null, "rule": "SMALL_CELL" }, "isFinal": false },
                "statusAgrees": null, "recordedStatus": "STAGE_1",
                "enrolled": { "value": 9, "precision": "PERTURBED" }, "treated": { "value": 8 },
                "stage1": { "evaluable": { "value": 6 }, "benefits": { "value": null, "rule": "SMALL_CELL" } },
                "stage2": { "evaluable": { "value": 0 }, "benefits": { "value": 0 } },
                "expansion": { "evaluable": { "value": 0 }, "benefits": { "value": 0 } },
                "clinicalBenefit": null }],
        });
        let answers = Answers {
            parts: vec![("monitoring", Ok(monitoring)), ("safety", Err("needs safety:read (FORBIDDEN)".to_owned()))],
            provenance: crate::export::Provenance {
                data_version: Some(3),
                policy_version: Some("2".to_owned()),
                audit_record: Some(9),
            },
        };
        let html = render(&answers);
        assert!(html.contains("id=\"cohort-C01\"") && html.contains("&lt;Lung&gt; BRAF"), "{html}");
        assert!(html.contains("Not available to this token: needs safety:read (FORBIDDEN)"));
        assert!(html.contains("data version 3; disclosure policy 2; audit record 9"));
        assert!(!html.contains("null") && !html.contains("<Lung>"));
        assert_eq!(html.matches("class=\"page").count(), 2);
    }
}
