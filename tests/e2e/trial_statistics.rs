//! Trial statistics over GraphQL: the two-stage rule's operating characteristics against
//! the reference values, and the hand-written trial of `small_trial.rs`.

use serde_json::json;

use crate::helpers::{Backend, TestApp};

/// Rows of `tests/fixtures/reference/<file>` as maps of column → value.
fn reference(file: &str) -> Vec<std::collections::HashMap<String, f64>> {
    let path = format!("{}/fixtures/reference/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    lines
        .map(|line| {
            header.iter().zip(line.split(',')).map(|(h, v)| ((*h).to_owned(), v.parse().unwrap_or(f64::NAN))).collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operating_characteristics_match_the_reference_values() {
    let app = TestApp::spawn_with(Backend::Sqlite, None).await.expect("app");
    let rows = reference("simon_drup_rule.csv");
    let rates: Vec<f64> = rows.iter().map(|r| r["p"]).collect();
    let query = "query($rates: [Float!]!) { operatingCharacteristics(benefitRates: $rates) { \
                 benefitRate probabilityEarlyStop probabilityPositive expectedEvaluable } }";
    let data = app.data(query, json!({ "rates": rates })).await;
    let got = data["operatingCharacteristics"].as_array().expect("rows");
    assert_eq!(got.len(), rows.len());
    for (row, answer) in rows.iter().zip(got) {
        let close = |field: &str, column: &str| {
            let value = answer[field].as_f64().expect("a number");
            assert!((value - row[column]).abs() < 1e-6, "p = {}: {field} {value} vs {}", row["p"], row[column]);
        };
        close("probabilityEarlyStop", "pet");
        close("probabilityPositive", "p_positive");
        close("expectedEvaluable", "expected_n");
    }
    let bad = app
        .graphql(
            "{ operatingCharacteristics(design: { r1: 9, n1: 8 }, benefitRates: [0.1]) { benefitRate } }",
            json!({}),
        )
        .await;
    assert_eq!(crate::helpers::error_codes(&bad), ["BAD_USER_INPUT"]);
}

/// `value` of a `{ value }` object.
fn n(v: &serde_json::Value) -> u64 {
    v["value"].as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

crate::on_both_backends! {
    spawn = crate::small_trial::spawn;
    async fn response_follows_the_hand_computed_trial(app: TestApp) {
        let query = "query($by: [Dimension!]!, $f: PatientFilter) { responses(groupBy: $by, filter: $f) { \
                     groups { keys { code } treated { value } evaluable { value } \
                       clinicalBenefit { numerator { value } denominator { value } estimate { value } lower95 { value } upper95 { value } } \
                       objectiveResponse { numerator { value } denominator { value } lower95 { value } upper95 { value } } } \
                     overall { treated { value } evaluable { value } \
                       clinicalBenefit { numerator { value } denominator { value } estimate { value } lower95 { value } upper95 { value } } \
                       objectiveResponse { numerator { value } denominator { value } } \
                       bestResponse { response patients { value } } } } }";
        let data = app.data(query, json!({ "by": ["SEX"] })).await;
        let overall = &data["responses"]["overall"];
        assert_eq!((n(&overall["treated"]), n(&overall["evaluable"])), (9, 8));
        let benefit = &overall["clinicalBenefit"];
        assert_eq!((n(&benefit["numerator"]), n(&benefit["denominator"])), (5, 8));
        assert!(close(benefit["estimate"]["value"].as_f64().unwrap_or(0.0), 0.625));
        assert_eq!(n(&overall["objectiveResponse"]["numerator"]), 2);
        let bor: Vec<(String, u64)> = overall["bestResponse"]
            .as_array()
            .expect("bor")
            .iter()
            .map(|b| (b["response"].as_str().unwrap_or("").to_owned(), n(&b["patients"])))
            .collect();
        let expected = [("CR", 1), ("PR", 1), ("SD", 4), ("PD", 1), ("NE", 1)];
        assert_eq!(bor, expected.map(|(r, k)| (r.to_owned(), k)));

        // Men (odd patients): P5 is not evaluable, the other four all benefit: n of n.
        // Women: no objective response among four evaluable: 0 of n.
        let groups = data["responses"]["groups"].as_array().expect("groups");
        let by_sex = |code: &str| groups.iter().find(|g| g["keys"][0]["code"] == code).expect("a sex group").clone();
        let men = by_sex("MALE");
        assert_eq!((n(&men["treated"]), n(&men["evaluable"])), (5, 4));
        assert_eq!(n(&men["clinicalBenefit"]["numerator"]), 4);
        assert!(close(men["clinicalBenefit"]["upper95"]["value"].as_f64().unwrap_or(0.0), 1.0));
        assert!(close(men["clinicalBenefit"]["lower95"]["value"].as_f64().unwrap_or(0.0), 0.025f64.powf(0.25)));
        let women = by_sex("FEMALE");
        assert_eq!(n(&women["objectiveResponse"]["numerator"]), 0);
        assert!(close(women["objectiveResponse"]["lower95"]["value"].as_f64().unwrap_or(1.0), 0.0));
        assert!(close(women["objectiveResponse"]["upper95"]["value"].as_f64().unwrap_or(0.0), 1.0 - 0.025f64.powf(0.25)));

        // An empty group: the cohort nobody joined.
        let empty = app.data(query, json!({ "by": [], "f": { "cohorts": ["K-EMPTY"] } })).await;
        let overall = &empty["responses"]["overall"];
        assert_eq!(n(&overall["treated"]), 0);
        assert!(overall["clinicalBenefit"].is_null());
    }
}

crate::on_both_backends! {
    spawn = crate::small_trial::spawn;
    async fn cohort_monitoring_shows_the_decision_next_to_the_recorded_status(app: TestApp) {
        let query = "{ cohortMonitoring { cohort { code } recordedStatus statusAgrees \
                     decision { kind evaluableNeeded { value } benefitsNeeded { value } } \
                     stage1 { evaluable { value } benefits { value } } stage2 { evaluable { value } } \
                     enrolled { value } treated { value } supplierCode } }";
        let data = app.data(query, json!({})).await;
        let rows = data["cohortMonitoring"].as_array().expect("rows");
        let braf = rows.iter().find(|r| r["cohort"]["code"] == "K-BRAF").expect("K-BRAF");
        assert_eq!((n(&braf["stage1"]["evaluable"]), n(&braf["stage1"]["benefits"])), (8, 5));
        assert_eq!(n(&braf["stage2"]["evaluable"]), 0);
        assert_eq!((n(&braf["enrolled"]), n(&braf["treated"])), (10, 9));
        assert_eq!(braf["decision"]["kind"], "POSITIVE", "5 benefits already exceed r = 4");
        assert_eq!(braf["recordedStatus"], "STAGE_1");
        assert_eq!(braf["statusAgrees"], false, "positive, but still recorded as stage 1");
        assert_eq!(braf["supplierCode"], "C");
        let empty = rows.iter().find(|r| r["cohort"]["code"] == "K-EMPTY").expect("K-EMPTY");
        assert_eq!(empty["decision"]["kind"], "RECRUITING_STAGE_1");
        assert_eq!((empty["decision"]["evaluableNeeded"]["value"].as_u64(), empty["decision"]["benefitsNeeded"]["value"].as_u64()), (Some(8), Some(1)));
        assert_eq!(empty["statusAgrees"], true);
    }
}

crate::on_both_backends! {
    spawn = crate::small_trial::spawn;
    async fn survival_curves_follow_the_hand_computed_trial(app: TestApp) {
        const MONTH: f64 = 30.4375;
        let query = "query($e: SurvivalEndpoint!, $t: Boolean!) { survival(endpoint: $e, byTreatmentGroup: $t) { \
                     treatmentGroup patients { value } events { value } \
                     steps { months { value } atRisk { value } events { value } censored { value } survival { value } } \
                     median { months { value } lower95 { value } upper95 { value } } atRisk { months patients { value } } } }";
        let pfs = app.data(query, json!({ "e": "PFS", "t": false })).await;
        let curve = &pfs["survival"][0];
        assert_eq!((n(&curve["patients"]), n(&curve["events"])), (9, 4));
        let steps = curve["steps"].as_array().expect("steps");
        let at = |days: f64| steps.iter().find(|s| close(s["months"]["value"].as_f64().unwrap_or(-1.0), days / MONTH)).cloned();
        for (days, survival) in [(42.0, 1.0), (50.0, 7.0 / 8.0), (56.0, 0.75), (112.0, 0.6), (168.0, 0.3)] {
            let step = at(days).unwrap_or_else(|| panic!("no step at {days} days: {steps:?}"));
            assert!(close(step["survival"]["value"].as_f64().unwrap_or(-1.0), survival), "S({days}) = {step}");
        }
        let tie = at(112.0).expect("the tie at 112 days");
        assert_eq!((n(&tie["atRisk"]), n(&tie["events"]), n(&tie["censored"])), (5, 1, 2));
        assert!(close(curve["median"]["months"]["value"].as_f64().unwrap_or(-1.0), 168.0 / MONTH));
        assert_eq!(n(&curve["atRisk"][0]["patients"]), 9);

        let os = app.data(query, json!({ "e": "OS", "t": true })).await;
        let curves = os["survival"].as_array().expect("curves");
        let group = |g: &str| curves.iter().find(|c| c["treatmentGroup"] == g).cloned().expect("a group");
        let treated = group("TREATED");
        assert_eq!((n(&treated["patients"]), n(&treated["events"])), (9, 2));
        let matched = group("MATCHED_NOT_TREATED");
        assert_eq!((n(&matched["patients"]), n(&matched["events"])), (2, 1));
        let unmatched = group("NOT_MATCHED");
        assert_eq!((n(&unmatched["patients"]), n(&unmatched["events"])), (1, 0));
        assert!(unmatched["median"]["months"].is_null(), "no events: median not reached");

        let refused = app.graphql("{ survival(endpoint: PFS, byTreatmentGroup: true) { patients { value } } }", json!({})).await;
        assert_eq!(crate::helpers::error_codes(&refused), ["BAD_USER_INPUT"]);
    }
}

crate::on_both_backends! {
    spawn = crate::small_trial::spawn;
    async fn adverse_events_count_patients_not_events(app: TestApp) {
        let query = "{ adverseEvents(split: DRUG) { split { code } category treated { value } \
                     anyGrade { numerator { value } } grade3Plus { numerator { value } } related { numerator { value } } } }";
        let data = app.data(query, json!({})).await;
        let rows = data["adverseEvents"].as_array().expect("rows");
        let row = |category: Option<&str>| {
            rows.iter().find(|r| r["category"].as_str() == category).cloned().unwrap_or_else(|| panic!("{category:?}"))
        };
        let any = row(None);
        assert_eq!((any["split"]["code"].as_str(), n(&any["treated"])), (Some("D"), 9));
        assert_eq!(n(&any["anyGrade"]["numerator"]), 2);
        let diarrhoea = row(Some("Diarrhea"));
        assert_eq!(
            (n(&diarrhoea["anyGrade"]["numerator"]), n(&diarrhoea["grade3Plus"]["numerator"]), n(&diarrhoea["related"]["numerator"])),
            (1, 1, 1),
            "two events, one patient"
        );
        let fatigue = row(Some("Fatigue"));
        assert_eq!((n(&fatigue["grade3Plus"]["numerator"]), n(&fatigue["related"]["numerator"])), (0, 0));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_cohort_of_the_demo_consortium_agrees_with_its_recorded_status() {
    for app in [
        TestApp::spawn_demo(Backend::Sqlite).await.expect("the demo consortium"),
        TestApp::spawn(Backend::Sqlite).await.expect("the test consortium"),
    ] {
        let data =
            app.data("{ cohortMonitoring { cohort { code status } decision { kind } statusAgrees } }", json!({})).await;
        let cohorts = data["cohortMonitoring"].as_array().expect("a list");
        assert!(cohorts.len() > 20, "{data}");
        let mismatched: Vec<&serde_json::Value> = cohorts.iter().filter(|c| c["statusAgrees"] != true).collect();
        assert!(mismatched.is_empty(), "{mismatched:?}");
    }
}

/// A cohort of design 0/2 → 1/4 whose second and third evaluable patients are
/// evaluated on the same day, one without and one with benefit, imported into the small
/// trial; `benefit_first` registers the one with benefit first. The decision the data
/// support for the cohort.
async fn decision_with_a_tie_at_the_stage_1_boundary(benefit_first: bool) -> String {
    use consortium_api::import::{run, Mode, Recorded};
    use consortium_store::import::{Domain, Rights, Upload};
    let app = TestApp::spawn_with(Backend::Sqlite, None).await.expect("app");
    crate::small_trial::seed(&app.db).await;
    // A progresses at week 8; B progresses and C is stable at the week-16 scan, the same day.
    let (a, b, c) = ("IMP-TIEA7Q2M9X", "IMP-TIEB4K8W3Z", "IMP-TIEC6N1P5R");
    let registered = if benefit_first { [a, c, b] } else { [a, b, c] };
    let rows = |header: &str, row: &dyn Fn(&str) -> String| {
        let mut file = format!("{header}\n");
        for p in registered {
            file.push_str(&row(p));
            file.push('\n');
        }
        file
    };
    let files = [
        (Domain::Cohorts, "COHORT,NAME,ONCOTREE,GENE,ALTCLASS,DRUG,R1,N1,R,N,STATUS,OPENDTC,CLOSEDTC\nK-TIE,Cohort K-TIE,CHOL,BRAF,MUTATION,D,0,2,1,4,STAGE_1,2023-12-01,\n".to_owned()),
        (Domain::Dm, rows("USUBJID,SEX,BRTHDTC,REGION,SITEID,RFICDTC", &|p| format!("{p},F,1960,WEST,S1,2024-01-01"))),
        (Domain::Profiles, rows("USUBJID,SAMPLEID,PANEL,SEQSITE,SAMPLEDTC,ONCOTREE,ICD10,TMB,MSI", &|p| format!("{p},SMP{},TSO500,S1,2024-01-05,CHOL,C22,1,MSS", &p[3..]))),
        (Domain::Ds, rows("USUBJID,DSSTDTC,DSDECOD,COHORT,ESCAT", &|p| format!("{p},2024-01-15,MATCHED_COHORT,K-TIE,I-A"))),
        (Domain::Ex, rows("USUBJID,COHORT,SITEID,ENRLDTC,STAGE,EXSTDTC,EXENDTC,EXENRSN", &|p| format!("{p},K-TIE,S1,2024-02-01,STAGE_1,2024-02-01,,"))),
        (
            Domain::Rs,
            format!(
                "USUBJID,RSDTC,RSTESTCD,RSORRES,RSCAT\n{a},2024-03-28,OVRLRESP,PD,RECIST 1.1\n{b},2024-05-23,OVRLRESP,PD,RECIST 1.1\n{c},2024-05-23,OVRLRESP,SD,RECIST 1.1\n"
            ),
        ),
    ];
    let uploads: Vec<Upload> = files
        .into_iter()
        .map(|(domain, text)| Upload { domain, file: format!("{domain}.csv"), bytes: text.into_bytes() })
        .collect();
    let report = run(&app.db, &uploads, &Rights::operator(), Mode::default(), &Recorded::operator(), &|_| {})
        .await
        .expect("import");
    assert!(report.applied, "{}", report.describe());
    app.state.refresh().await.expect("refresh");
    let data = app.data("{ cohortMonitoring { cohort { code } decision { kind } } }", json!({})).await;
    let cohorts = data["cohortMonitoring"].as_array().expect("cohorts");
    let tie = cohorts.iter().find(|m| m["cohort"]["code"] == "K-TIE").expect("the cohort");
    tie["decision"]["kind"].as_str().expect("a decision").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patients_evaluated_on_the_same_day_enter_the_rule_in_the_order_they_were_registered() {
    // The documented rule: the earlier registered patient is the earlier evaluated, so
    // whether stage 1 holds a benefit, and the cohort continues, follows registration.
    assert_eq!(decision_with_a_tie_at_the_stage_1_boundary(true).await, "RECRUITING_STAGE_2");
    assert_eq!(decision_with_a_tie_at_the_stage_1_boundary(false).await, "CLOSED_FOR_FUTILITY");
}
