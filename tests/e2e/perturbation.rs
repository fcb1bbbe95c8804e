//! The cell-key method over GraphQL, under the default policies: consistent perturbed
//! counts, one reason for every withheld value, withheld groups left out, values
//! computed from the published counts, and no memory across requests (so no partner's
//! questions change another's answers). What many answers together give away is the
//! attack suite's (`attacks`).

use consortium_analytics::Interval;
use serde_json::{json, Value};

use crate::attacks::spawn_with_default_policies;
use crate::helpers::TestApp;
use crate::on_both_backends;

const WITHHELD: &str = "WITHHELD";

async fn data_as(app: &TestApp, token: &str, query: &str) -> Value {
    let body = app.graphql_as(token, query, json!({})).await;
    assert!(body.get("errors").is_none(), "{query}: {body}");
    body["data"].clone()
}

/// A company's cohorts (as its token sees them), and the patients enrolled in them
/// (from the database).
async fn company_cohorts(app: &TestApp, token: &str, company: &str) -> (Vec<String>, i64) {
    let cohorts = data_as(app, token, "{ cohorts(first: 100) { nodes { code } } }").await["cohorts"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["code"].as_str().map(str::to_owned))
        .collect();
    let enrolled = app
        .sql_count(&format!(
            "SELECT COUNT(DISTINCT e.patient_id) FROM enrolment e JOIN cohort c ON c.id = e.cohort_id \
             JOIN drug d ON d.id = c.drug_id JOIN partner p ON p.id = d.supplier_id WHERE p.code = '{company}'"
        ))
        .await;
    (cohorts, enrolled as i64)
}

on_both_backends! {
    spawn = spawn_with_default_policies;
    async fn the_same_patients_get_the_same_perturbed_count_however_asked(app: TestApp) {
        let token = app.token_for("ROCHE", None).await;
        let (mut cohorts, enrolled) = company_cohorts(&app, &token, "ROCHE").await;
        assert!(enrolled >= 20, "the company has patients: {enrolled}");
        let ask = |filter: String| format!("{{ patientCounts{filter} {{ total {{ value precision rule margin95 }} }} }}");
        let plain = data_as(&app, &token, &ask(String::new())).await["patientCounts"]["total"].clone();
        let filtered = format!("(filter: {{ cohorts: {} }})", serde_json::to_string(&cohorts).expect("codes"));
        cohorts.reverse();
        let reversed = format!("(filter: {{ cohorts: {} }})", serde_json::to_string(&cohorts).expect("codes"));
        for other in [filtered, reversed] {
            assert_eq!(data_as(&app, &token, &ask(other)).await["patientCounts"]["total"], plain, "the same patients");
        }
        assert_eq!(plain["precision"], "PERTURBED", "{plain}");
        assert!(plain["rule"].as_str().is_some_and(|r| r.contains("within ±12")), "{plain}");
        assert_eq!(plain["margin95"], 4, "σ = 2: within ±4 with probability 95%");
        let published = plain["value"].as_i64().expect("published");
        assert!((published - enrolled).abs() <= 12, "{published} is within the bound of {enrolled}");
    }
}

on_both_backends! {
    spawn = spawn_with_default_policies;
    async fn zeros_and_small_cells_are_withheld_alike_and_withheld_groups_are_left_out(app: TestApp) {
        let token = app.token_for("ROCHE", None).await;
        let fine = data_as(
            &app,
            &token,
            "{ patientCounts(groupBy: [SEX, AGE_BAND, REGION, COHORT]) { total { value } \
               groups { patients { value precision rule } } } }",
        )
        .await;
        for group in fine["patientCounts"]["groups"].as_array().expect("groups") {
            let patients = &group["patients"];
            assert_eq!(patients["precision"], "PERTURBED", "only published groups are listed: {patients}");
            assert!(patients["value"].as_u64().is_some_and(|v| v >= 5), "{patients}");
        }
        // So are curves by cohort, adverse-event terms and variants: a row is there only
        // with its count published.
        let lists = data_as(
            &app,
            &token,
            "{ survival(endpoint: OS, groupBy: COHORT) { patients { value } } \
               adverseEvents(category: TERM) { anyGrade { numerator { value } } } }",
        )
        .await;
        for curve in lists["survival"].as_array().expect("curves") {
            assert!(curve["patients"]["value"].is_u64(), "{curve}");
        }
        let terms = lists["adverseEvents"].as_array().expect("rows");
        assert!(!terms.is_empty());
        for row in terms {
            assert!(row["anyGrade"]["numerator"]["value"].is_u64(), "{row}");
        }
        // Nobody (a window before the trial), and a handful (one day): the same answer.
        let window = |from: &str, to: &str| {
            format!("{{ patientCounts(filter: {{ enrolledBetween: {{ from: \"{from}\", to: \"{to}\" }} }}) {{ total {{ value precision rule }} }} }}")
        };
        let nobody = data_as(&app, &token, &window("1990-01-01", "1990-12-31")).await["patientCounts"]["total"].clone();
        assert_eq!(nobody["value"], Value::Null, "{nobody}");
        assert!(nobody["rule"].as_str().is_some_and(|r| r.starts_with(WITHHELD)), "{nobody}");
        let mut reasons = std::collections::BTreeSet::new();
        for day in 1..=28 {
            let total = data_as(&app, &token, &window(&format!("2024-03-{day:02}"), &format!("2024-03-{day:02}"))).await;
            let total = &total["patientCounts"]["total"];
            match total["value"].as_u64() {
                Some(v) => assert!(v >= 5, "{total}"),
                None => {
                    reasons.insert(total["rule"].as_str().unwrap_or_default().to_owned());
                }
            }
        }
        assert_eq!(reasons.len(), 1, "one reason for every withheld value: {reasons:?}");
        assert_eq!(reasons.iter().next(), nobody["rule"].as_str().map(str::to_owned).as_ref());
        // Nor do its own audit records count the groups left out (small, not empty).
        let trail = data_as(&app, &token, "{ auditTrail(first: 40) { edges { node { released withheld } } } }").await;
        let records = trail["auditTrail"]["edges"].as_array().cloned().unwrap_or_default();
        assert!(records.len() > 20, "{trail}");
        assert!(records.iter().all(|r| r["node"]["withheld"].is_null() && r["node"]["released"].is_i64()), "{trail}");
        let on_record = app.sql_count("SELECT COUNT(*) FROM audit_record WHERE partner_code = 'ROCHE' AND withheld > 0").await;
        assert!(on_record > 0, "the record itself keeps them, for the operators");
    }
}

on_both_backends! {
    spawn = spawn_with_default_policies;
    async fn rates_and_life_tables_are_computed_from_the_published_counts(app: TestApp) {
        let token = app.token_for("CRN", None).await;
        let proportion = "numerator { value precision } denominator { value precision } estimate { value precision } \
                          lower95 { value } upper95 { value }";
        let data = data_as(
            &app,
            &token,
            &format!(
                "{{ responses(groupBy: [REGION]) {{ groups {{ clinicalBenefit {{ {proportion} }} }} }} \
                   survival(endpoint: OS) {{ patients {{ value }} {CURVE} }} }}"
            ),
        )
        .await;
        let mut rates = 0;
        for group in data["responses"]["groups"].as_array().into_iter().flatten() {
            let rate = &group["clinicalBenefit"];
            let (Some(r), Some(n)) = (rate["numerator"]["value"].as_f64(), rate["denominator"]["value"].as_f64()) else {
                continue;
            };
            assert_eq!(rate["estimate"]["precision"], "PERTURBED", "{rate}");
            assert!((rate["estimate"]["value"].as_f64().expect("estimate") - r.min(n) / n).abs() < 1e-12, "{rate}");
            rates += 1;
        }
        assert!(rates > 0, "some rates are published: {data}");
        let curve = &data["survival"][0];
        assert!(curve["patients"]["value"].is_u64(), "{curve}");
        assert_life_table(curve, 3.0);
        // The same patients at risk are the same perturbed count wherever they appear:
        // the first row's at risk is the curve's patients, a row's end the next's start.
        let steps = curve["steps"].as_array().expect("steps");
        assert_eq!(steps[0]["atRisk"]["value"], curve["patients"]["value"], "{curve}");
        assert_eq!(curve["atRisk"][0]["patients"], steps[0]["atRisk"], "{curve}");
    }
}

/// A curve's fields under the cell-key method.
const CURVE: &str = "steps { months { value precision } atRisk { value precision } events { value precision } \
    censored { value } survival { value precision } lower95 { value } upper95 { value } } \
    median { months { value precision } } landmarks { months survival { value precision } } \
    atRisk { months patients { value precision } }";

/// Checks that `curve` is a life table of published perturbed counts on the fixed grid:
/// every count of a row at least `k`, times on the grid, survival falling, a row's
/// survival the actuarial estimate from its published counts.
fn assert_life_table(curve: &Value, k: f64) {
    const GRID: [f64; 12] = [0.0, 3.0, 6.0, 9.0, 12.0, 15.0, 18.0, 24.0, 30.0, 36.0, 48.0, 60.0];
    let steps = curve["steps"].as_array().expect("steps");
    assert!(steps.len() >= 2, "a life table: {curve}");
    let (mut survival, mut from) = (1.0_f64, 0.0_f64);
    for step in steps {
        let count = |field: &str| step[field]["value"].as_f64().unwrap_or_else(|| panic!("{field}: {step}"));
        let (n, d, w, to) = (count("atRisk"), count("events"), count("censored"), count("months"));
        assert_eq!(step["atRisk"]["precision"], "PERTURBED", "{step}");
        assert!(n >= k && d >= k, "no row rests on fewer than k: {step}");
        assert!(GRID.contains(&to) && to > from, "rows on the grid, in order: {step}");
        survival *= 1.0 - d.min(n - w / 2.0) / (n - w / 2.0);
        assert!((count("survival") - survival).abs() < 1e-9, "the actuarial estimate: {step}");
        assert!(count("lower95") <= survival && survival <= count("upper95"), "{step}");
        from = to;
    }
}

on_both_backends! {
    spawn = spawn_with_default_policies;
    async fn a_decision_resting_on_perturbed_counts_is_withheld_and_nothing_is_remembered(app: TestApp) {
        let token = app.token_for("ROCHE", None).await;
        let monitoring = data_as(
            &app,
            &token,
            "{ cohortMonitoring { recordedStatus statusAgrees decision { kind isFinal rule evaluableNeeded { value } } } }",
        )
        .await;
        let rows = monitoring["cohortMonitoring"].as_array().expect("cohorts");
        assert!(!rows.is_empty());
        for row in rows {
            assert!(row["recordedStatus"].is_string(), "the recorded status is public: {row}");
            assert_eq!((&row["statusAgrees"], &row["decision"]["kind"], &row["decision"]["isFinal"]), (&Value::Null, &Value::Null, &Value::Null), "{row}");
            assert!(row["decision"]["rule"].as_str().is_some_and(|r| r.starts_with("PERTURBED_TIER")), "{row}");
        }
        // Many questions, by several partners: no ledger is read or written, and one
        // partner's questions change nothing in another's answers.
        let registry = app.token_for("CRN", None).await;
        let national = "{ patientCounts { total { value } } }";
        let before = data_as(&app, &registry, national).await;
        let academic = app.token_for("TRIALSTAT", None).await;
        for from in ["2021-06-03", "2021-06-04", "2022-01-01"] {
            let query = format!("{{ patientCounts(filter: {{ enrolledBetween: {{ from: \"{from}\" }} }}) {{ total {{ value }} }} }}");
            data_as(&app, &academic, &query).await;
        }
        data_as(&app, &token, "{ patientCounts(groupBy: [COHORT, SEX]) { groups { patients { value } } } }").await;
        assert_eq!(data_as(&app, &registry, national).await, before, "the national total stays as it was");
        assert!(before["patientCounts"]["total"]["value"].is_number(), "{before}");
        assert_eq!(app.sql_count("SELECT COUNT(*) FROM released_cell").await, 0, "no ledger to fill or to poison");
    }
}

on_both_backends! {
    spawn = spawn_with_default_policies;
    async fn a_new_data_version_gives_the_same_patients_the_same_values(app: TestApp) {
        use consortium_entity::{partner, site};
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let company = app.token_for("ROCHE", None).await;
        let registry = app.token_for("CRN", None).await;
        let enrolled = "{ patientCounts { total { value } } }";
        let referred = "{ patientCounts(population: REFERRED) { total { value precision } } }";
        let (enrolled_before, referred_before) =
            (data_as(&app, &company, enrolled).await, data_as(&app, &registry, referred).await);
        // A hospital registers one new patient (referred, not enrolled): version 2.
        let hus = partner::Entity::find().filter(partner::Column::Code.eq("HUS")).one(&app.db).await.unwrap().unwrap();
        let own = site::Entity::find().filter(site::Column::PartnerId.eq(hus.id)).one(&app.db).await.unwrap().unwrap();
        let file = format!("USUBJID,SEX,BRTHDTC,REGION,SITEID,RFICDTC\nIMP-NEWVERSION,F,1961,WEST,{},2026-02-01\n", own.code);
        let hospital = app.token_for("HUS", None).await;
        let report = crate::import::post_file(&app, &hospital, "DM", file.into_bytes(), false).await;
        assert_eq!(report["data"]["importData"]["dataVersion"], 2, "{report}");
        // The company's enrolled patients are the same patients: the same value.
        assert_eq!(data_as(&app, &company, enrolled).await, enrolled_before, "same patients, same value, any version");
        // The referred patients are not: their total is perturbed afresh, not withheld,
        // and the two versions' totals differ by the new patient plus two perturbations.
        let referred_after = data_as(&app, &registry, referred).await;
        assert_eq!(referred_after["patientCounts"]["total"]["precision"], "PERTURBED", "{referred_after}");
        assert!(referred_before["patientCounts"]["total"]["value"].is_number());
    }
}

/// The share of a series' counts per period that are withheld, counting the periods
/// left out (all their counts withheld), over `periods` periods in all.
fn withheld_share(rows: &[Value], periods: usize) -> f64 {
    let fields = ["referrals", "enrolments", "treatmentStarts"];
    let published: usize = rows.iter().map(|r| fields.iter().filter(|f| r[**f]["value"].is_u64()).count()).sum();
    1.0 - published as f64 / (fields.len() * periods) as f64
}

on_both_backends! {
    spawn = spawn_with_default_policies;
    async fn a_series_of_small_months_is_coarsened_rather_than_left_as_gaps(app: TestApp) {
        let token = app.token_for("ROCHE", None).await;
        let trial_months = app.state.snapshot().catalogue.trial_months;
        let series = |interval: &str| {
            format!("{{ monthlyActivity{interval} {{ period interval referrals {{ value }} enrolments {{ value }} treatmentStarts {{ value }} }} }}")
        };
        let months = data_as(&app, &token, &series("(interval: MONTH)")).await["monthlyActivity"].clone();
        let gaps = withheld_share(months.as_array().expect("rows"), Interval::Month.periods(trial_months));
        assert!(gaps > 0.1, "a company's months are mostly too small: {gaps}");
        let chosen = data_as(&app, &token, &series("")).await["monthlyActivity"].clone();
        let rows = chosen.as_array().expect("rows");
        let interval = rows[0]["interval"].as_str().expect("an interval").to_owned();
        assert!(rows.iter().all(|r| r["interval"] == interval.as_str()), "one interval: {chosen}");
        let cut = match interval.as_str() {
            "QUARTER" => Interval::Quarter,
            "YEAR" => Interval::Year,
            other => panic!("coarsened, not {other}: {chosen}"),
        };
        let asked = data_as(&app, &token, &series(&format!("(interval: {interval})"))).await["monthlyActivity"].clone();
        assert_eq!(asked, chosen, "the chosen interval is the one asked for with it");
        let share = withheld_share(rows, cut.periods(trial_months));
        assert!(share <= 0.1 || cut == Interval::Year, "{interval}: {share} of the counts withheld");
        assert!(share < gaps, "fewer gaps than months: {share} against {gaps}");
    }
}
