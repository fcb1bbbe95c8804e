//! Disclosure control over GraphQL: the attacks of `disclosure.md` (1–6 and 8) and the
//! ones a curious partner tried, each asserting that the hidden value cannot be
//! recovered from what the response publishes. Company (`ROCHE`) and hospital (`OUS`)
//! tokens, under the default policies (k = 5).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::helpers::{error_codes, TestApp};
use crate::on_both_backends;
use crate::schema_walk::{named, SchemaDoc};

const K: u64 = 5;

/// A count's value, `None` when withheld.
fn value(count: &Value) -> Option<u64> {
    count["value"].as_u64()
}

/// Every published count is 0 or at least k.
fn assert_no_small_count<'a>(counts: impl IntoIterator<Item = &'a Value>, what: &str) {
    for count in counts {
        if let Some(v) = value(count) {
            assert!(v == 0 || v >= K, "{what}: a published count of {v}: {count}");
        } else if count.get("precision").is_some() {
            assert_eq!(count["precision"], "SUPPRESSED", "{what}: {count}");
            assert!(count["rule"].is_string(), "{what}: a withheld value says why: {count}");
        }
    }
}

/// Groups that add up to a total: a withheld group is never the only unknown.
fn assert_no_lone_withheld(groups: &[&Value], total: &Value, what: &str) {
    let withheld = groups.iter().filter(|g| value(g).is_none()).count();
    if withheld == 1 {
        assert!(value(total).is_none(), "{what}: one withheld group beside its published total");
    }
}

async fn company(app: &TestApp) -> String {
    app.token_for("ROCHE", None).await
}

async fn data_as(app: &TestApp, token: &str, query: &str) -> Value {
    let body = app.graphql_as(token, query, json!({})).await;
    assert!(body.get("errors").is_none(), "{query}: {body}");
    body["data"].clone()
}

on_both_backends! {
    async fn a_total_and_two_groupings_never_give_a_withheld_cell_back(app: TestApp) {
        let token = company(&app).await;
        let counts = "total { value precision rule } groups { keys { code } patients { value precision rule } }";
        let query = format!(
            "{{ bySex: patientCounts(groupBy: [SEX]) {{ {counts} }} \
               bySexRegion: patientCounts(groupBy: [SEX, REGION]) {{ {counts} }} }}"
        );
        let data = data_as(&app, &token, &query).await;
        let (by_sex, fine) = (&data["bySex"], &data["bySexRegion"]);
        let groups = |table: &Value| table["groups"].as_array().cloned().unwrap_or_default();
        let patients: Vec<Value> = groups(fine).iter().map(|g| g["patients"].clone()).collect();
        assert!(patients.iter().any(|p| value(p).is_none()), "the fine grouping has small cells to protect: {fine}");
        assert_no_small_count(patients.iter(), "sex × region");
        // Attack 1: total minus the published groups.
        let fine_groups: Vec<&Value> = patients.iter().collect();
        assert_no_lone_withheld(&fine_groups, &fine["total"], "sex × region under its total");
        // Attack 2: each sex's published count minus its published regions.
        for sex in groups(by_sex) {
            let code = &sex["keys"][0]["code"];
            let within: Vec<Value> =
                groups(fine).into_iter().filter(|g| &g["keys"][0]["code"] == code).map(|g| g["patients"].clone()).collect();
            let within: Vec<&Value> = within.iter().collect();
            assert_no_lone_withheld(&within, &sex["patients"], &format!("regions of {code}"));
        }
    }
}

on_both_backends! {
    async fn a_filter_down_to_one_patient_describes_nobody(app: TestApp) {
        let token = company(&app).await;
        // Five dimensions and three filters: cells of one patient each.
        let query = "{ patientCounts(population: TREATED, groupBy: [SEX, AGE_BAND, REGION, COHORT, ENROLMENT_MONTH], \
                       filter: { sexes: [FEMALE], regions: [SOUTH_EAST, WEST, CENTRAL, NORTH], ageBands: [\"50-59\", \"60-69\", \"70-79\"] }) \
                       { total { value precision rule } groups { patients { value precision rule } } } }";
        let data = data_as(&app, &token, query).await;
        let groups: Vec<Value> =
            data["patientCounts"]["groups"].as_array().into_iter().flatten().map(|g| g["patients"].clone()).collect();
        assert!(!groups.is_empty());
        assert_no_small_count(groups.iter(), "one-patient profile");
        // One-day date windows, on every day of a month: no published count of 1..k−1.
        for day in 1..=28 {
            let query = format!(
                "{{ patientCounts(filter: {{ enrolledBetween: {{ from: \"2024-03-{day:02}\", to: \"2024-03-{day:02}\" }} }}) \
                   {{ total {{ value precision rule }} }} }}"
            );
            let data = data_as(&app, &token, &query).await;
            assert_no_small_count([&data["patientCounts"]["total"]], "one day");
        }
    }
}

on_both_backends! {
    async fn a_hospital_needs_k_patients_from_other_sites(app: TestApp) {
        let token = app.token_for("OUS", None).await;
        let sites = app.data("{ sites(first: 100) { edges { node { code partnerCode } } } }", json!({})).await;
        let own_code = sites["sites"]["edges"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["node"]["partnerCode"] == "OUS")
            .map(|e| e["node"]["code"].as_str().unwrap_or_default().to_owned())
            .expect("OUS runs a site");
        // Attack 5: a cell of the hospital's own patients only tells it about nobody else,
        // and is withheld; the national count rests on many others and is published.
        let query = format!(
            "{{ own: patientCounts(population: REFERRED, filter: {{ sites: [\"{own_code}\"] }}) {{ total {{ value precision rule }} }} \
               all: patientCounts(population: REFERRED) {{ total {{ value }} }} }}"
        );
        let data = data_as(&app, &token, &query).await;
        let mine = &data["own"]["total"];
        assert!(value(mine).is_none(), "{mine}");
        assert!(mine["rule"].as_str().is_some_and(|r| r.starts_with("INSIDER")), "{mine}");
        assert!(value(&data["all"]["total"]).is_some_and(|n| n > 100));
    }
}

on_both_backends! {
    async fn rates_on_tiny_denominators_are_withheld_with_their_intervals(app: TestApp) {
        let token = company(&app).await;
        let proportion = "numerator { value } denominator { value } estimate { value rule } lower95 { value } upper95 { value }";
        let query = format!(
            "{{ adverseEvents(split: COHORT) {{ treated {{ value precision rule }} anyGrade {{ {proportion} }} grade3Plus {{ {proportion} }} }} \
               responses(groupBy: [REGION]) {{ groups {{ clinicalBenefit {{ {proportion} }} }} }} }}"
        );
        let data = data_as(&app, &token, &query).await;
        let mut rates: Vec<Value> = Vec::new();
        for row in data["adverseEvents"].as_array().into_iter().flatten() {
            assert_no_small_count([&row["treated"]], "treated");
            rates.push(row["anyGrade"].clone());
            rates.push(row["grade3Plus"].clone());
        }
        rates.extend(
            data["responses"]["groups"].as_array().into_iter().flatten().map(|g| g["clinicalBenefit"].clone()),
        );
        let mut withheld = 0;
        for rate in rates.iter().filter(|r| !r.is_null()) {
            assert_no_small_count([&rate["numerator"], &rate["denominator"]], "a rate's counts");
            let published = value(&rate["numerator"]).is_some() && value(&rate["denominator"]).is_some();
            for bound in ["estimate", "lower95", "upper95"] {
                assert_eq!(rate[bound]["value"].is_number(), published, "{bound} follows its counts: {rate}");
            }
            withheld += usize::from(!published);
        }
        assert!(withheld > 0, "some rates rest on too few patients: {data}");
    }
}

on_both_backends! {
    async fn no_survival_step_rests_on_fewer_than_k_at_risk_or_shows_an_exact_day(app: TestApp) {
        let token = company(&app).await;
        let query = "{ survival(endpoint: OS, groupBy: COHORT) { patients { value } \
                       steps { months { value rule } atRisk { value } events { value } survival { value } } \
                       median { months { value } } atRisk { patients { value } } } }";
        let data = data_as(&app, &token, query).await;
        let mut published = 0;
        for curve in data["survival"].as_array().into_iter().flatten() {
            for step in curve["steps"].as_array().into_iter().flatten() {
                match step["months"]["value"].as_f64() {
                    Some(months) => {
                        published += 1;
                        assert!(value(&step["atRisk"]).is_some_and(|n| n >= K), "attack 8: {step}");
                        assert!((months - months.round()).abs() < 1e-9, "times come in whole-month bins: {months}");
                    }
                    None => assert!(step["survival"]["value"].is_null(), "{step}"),
                }
            }
            assert_no_small_count(curve["atRisk"].as_array().into_iter().flatten().map(|a| &a["patients"]), "at risk");
        }
        assert!(published > 0, "the large curves are still drawn: {data}");
    }
}

on_both_backends! {
    async fn a_site_month_series_publishes_no_small_count_and_no_difference_gives_one_back(app: TestApp) {
        let token = app.token_for("OUS", None).await;
        let query = "{ monthlyActivity(split: REGION) { month split { code } \
                       enrolments { value precision rule } cumulativeEnrolments { value precision rule } } }";
        let data = data_as(&app, &token, query).await;
        let rows = data["monthlyActivity"].as_array().cloned().unwrap_or_default();
        assert_no_small_count(rows.iter().map(|r| &r["enrolments"]), "monthly enrolments");
        assert_no_small_count(rows.iter().map(|r| &r["cumulativeEnrolments"]), "running totals");
        let mut by_split: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
        for row in &rows {
            by_split.entry(row["split"]["code"].to_string()).or_default().push(row);
        }
        for months in by_split.values() {
            for pair in months.windows(2) {
                let (before, now) = (value(&pair[0]["cumulativeEnrolments"]), value(&pair[1]["cumulativeEnrolments"]));
                if let (Some(before), Some(now), None) = (before, now, value(&pair[1]["enrolments"])) {
                    let month = now - before;
                    assert!(month == 0 || month >= K, "a withheld month of {month} is a difference of running totals");
                }
            }
        }
    }
}

on_both_backends! {
    async fn a_series_runs_over_the_trials_months_whoever_it_counts(app: TestApp) {
        let series = |filter: &str| format!("{{ monthlyActivity(interval: MONTH{filter}) {{ period referrals {{ value }} }} }}");
        let everyone = app.data(&series(""), json!({})).await["monthlyActivity"].clone();
        let cohort = app.data("{ cohorts(first: 100) { nodes { code } } }", json!({})).await["cohorts"]["nodes"]
            .as_array()
            .and_then(|c| c.last())
            .map(|c| c["code"].clone())
            .expect("a cohort");
        let one = app.data(&series(&format!(", filter: {{ cohorts: [{cohort}] }}")), json!({})).await["monthlyActivity"].clone();
        let periods = |rows: &Value| rows.as_array().map(|r| r.iter().map(|m| m["period"].clone()).collect::<Vec<_>>());
        assert!(everyone.as_array().is_some_and(|r| r.len() > 12), "{everyone}");
        assert_eq!(periods(&one), periods(&everyone), "one late cohort's series has the trial's months");
    }
}

on_both_backends! {
    async fn rare_variants_and_the_tmb_of_a_handful_are_withheld(app: TestApp) {
        let token = app.token_for("OUS", None).await;
        let query = "{ alterationFrequencies(byTumourType: true) { gene carriers { numerator { value precision rule } } } \
                       tmb(groupBy: [TUMOUR_TYPE]) { profiled { value } tmb { measured { value } min { value rule } max { value } median { value } } } }";
        let data = data_as(&app, &token, query).await;
        let carriers: Vec<Value> = data["alterationFrequencies"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| r["carriers"]["numerator"].clone())
            .collect();
        assert!(carriers.iter().any(|c| value(c).is_none()), "some variants are rare");
        assert_no_small_count(carriers.iter(), "carriers");
        for group in data["tmb"].as_array().into_iter().flatten().filter(|g| !g["tmb"].is_null()) {
            let measured = value(&group["tmb"]["measured"]);
            for stat in ["min", "max", "median"] {
                let shown = group["tmb"][stat]["value"].is_number();
                assert_eq!(shown, measured.is_some_and(|n| n >= K), "{stat} of {measured:?} profiles: {group}");
            }
        }
    }
}

on_both_backends! {
    async fn a_gene_code_is_accepted_or_refused_whoever_carries_it(app: TestApp) {
        let token = company(&app).await;
        let query = "query($g: [String!]) { patientCounts(population: PROFILED, filter: { genes: $g }) { total { value } } }";
        // Every gene of the panel is accepted, carried by someone or not, in scope or not.
        for gene in consortium_entity::vocabulary::GENE_PANEL {
            let body = app.graphql_as(&token, query, json!({ "g": [gene] })).await;
            assert!(body.get("errors").is_none(), "{gene}: {body}");
        }
        let made_up = app.graphql_as(&token, query, json!({ "g": ["NOT-A-GENE"] })).await;
        assert_eq!(error_codes(&made_up), ["BAD_USER_INPUT"]);
    }
}

on_both_backends! {
    async fn every_answer_names_its_policy_data_version_and_audit_record(app: TestApp) {
        let token = company(&app).await;
        let query = "{ patientCounts(groupBy: [SEX, REGION]) { total { value } groups { patients { value } } } }";
        let body = app.graphql_as(&token, query, json!({})).await;
        let disclosure = &body["extensions"]["disclosure"];
        assert_eq!(disclosure["policyVersion"], "2+local");
        assert_eq!(disclosure["dataVersion"], 1);
        let id = disclosure["auditRecord"].as_i64().expect("an audit record id");
        let app = &app;
        let on_record = |id: i64| async move {
            let withheld = app.sql_count(&format!("SELECT withheld FROM audit_record WHERE id = {id}")).await;
            let released = app.sql_count(&format!("SELECT released FROM audit_record WHERE id = {id}")).await;
            (released, withheld)
        };
        // The record counts the cells the release step decided: the groups and the total.
        let counts = &body["data"]["patientCounts"];
        let mut values: Vec<&Value> = vec![&counts["total"]["value"]];
        values.extend(counts["groups"].as_array().into_iter().flatten().map(|g| &g["patients"]["value"]));
        let nulls = values.iter().filter(|v| v.is_null()).count() as u64;
        assert_eq!(on_record(id).await, (values.len() as u64 - nulls, nulls));
        assert!(nulls > 0);
        // Aliases and repeated selections change the response's keys, not the record.
        let aliased = "{ a: patientCounts(groupBy: [SEX, REGION]) { t: total { value } g: groups { p: patients { v: value value } } } }";
        let body = app.graphql_as(&token, aliased, json!({})).await;
        let again = body["extensions"]["disclosure"]["auditRecord"].as_i64().expect("an audit record id");
        assert_eq!(on_record(again).await, on_record(id).await);
        let policy = app.sql_count(&format!("SELECT COUNT(*) FROM audit_record WHERE id = {id} AND policy_version = '2+local'")).await;
        assert_eq!(policy, 1, "the record names the policy");
    }
}

on_both_backends! {
    async fn all_patients_beside_all_but_one_small_cohort_does_not_give_that_cohort_away(app: TestApp) {
        // Attack 3 within one response: the company's enrolled patients, and the same
        // minus one of its cohorts that has 1..k−1 patients.
        let token = company(&app).await;
        let by_cohort = data_as(&app, &token, "{ patientCounts(groupBy: [COHORT]) { groups { keys { code } } } }").await;
        let codes: Vec<String> = by_cohort["patientCounts"]["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|g| g["keys"][0]["code"].as_str().map(str::to_owned))
            .collect();
        // The exact sizes, as only a trusted registry may see them.
        let sizes = app.data("{ patientCounts(groupBy: [COHORT]) { groups { keys { code } patients { value } } } }", json!({})).await;
        let size = |code: &str| {
            sizes["patientCounts"]["groups"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|g| g["keys"][0]["code"] == code)
                .and_then(|g| value(&g["patients"]))
                .unwrap_or(0)
        };
        let small = codes.iter().find(|c| (1..K).contains(&size(c))).expect("the company has a small cohort").clone();
        let rest: Vec<&String> = codes.iter().filter(|c| **c != small).collect();
        let query = format!(
            "{{ all: patientCounts {{ total {{ value rule }} }}                rest: patientCounts(filter: {{ cohorts: {} }}) {{ total {{ value rule }} }} }}",
            serde_json::to_string(&rest).expect("codes")
        );
        let data = data_as(&app, &token, &query).await;
        if let (Some(all), Some(rest)) = (value(&data["all"]["total"]), value(&data["rest"]["total"])) {
            let difference = all - rest;
            assert!(difference == 0 || difference >= K, "the cohort of {} comes out as {difference}", size(&small));
        }
        assert!(
            value(&data["all"]["total"]).is_none() || value(&data["rest"]["total"]).is_none(),
            "one of the two totals must be withheld: {data}"
        );
    }
}

/// Output fields with numbers that are not about patients: reference data, the
/// service's own bookkeeping, designs and fixed time grids.
const NOT_PATIENT_DATA: [&str; 23] = [
    "Count.value",
    "Measure.value",
    // The noise's 95% bound is a function of ε alone.
    "Count.margin95",
    "Measure.margin95",
    "DataVersion.version",
    "TwoStageDesign.r1",
    "TwoStageDesign.n1",
    "TwoStageDesign.r",
    "TwoStageDesign.n",
    "OperatingCharacteristics.benefitRate",
    "OperatingCharacteristics.probabilityEarlyStop",
    "OperatingCharacteristics.probabilityPositive",
    "OperatingCharacteristics.expectedEvaluable",
    "RateLimit.limit",
    "RateLimit.remaining",
    "RateLimit.cost",
    "Landmark.months",
    "AtRisk.months",
    "AuditRecord.*",
    "PrivacyBudget.*",
    // An import's report describes the importer's own file, to the importer.
    "ImportReport.*",
    "ImportProblem.*",
    "ImportedFile.*",
];

/// Boolean and enum output fields that are not derived from patients: how a value was
/// protected, what was asked, the catalogue, the service's bookkeeping.
const NOT_PATIENT_FACTS: [&str; 22] = [
    // How a value was protected (null beside a withheld value says as much), and how a
    // series is cut, chosen from which of its counts are withheld.
    "Count.precision",
    "Measure.precision",
    "MonthlyActivity.interval",
    // The question asked, echoed, and the keys of its groups.
    "GroupKey.dimension",
    "PatientCounts.population",
    "PatientCounts.groupBy",
    "FunnelStep.population",
    "ResponseSummary.groupBy",
    "BestResponseCount.response",
    "AlterationFrequency.alterationClass",
    "SurvivalCurve.treatmentGroup",
    // The catalogue and the cohorts' recorded (public) status.
    "Partner.kind",
    "Cohort.alterationClass",
    "Cohort.status",
    "CohortMonitoring.recordedStatus",
    "Site.region",
    "Site.inpredNode",
    // Pages of the catalogue, and an importer's report on its own file.
    "PageInfo.hasPreviousPage",
    "PageInfo.hasNextPage",
    "ImportReport.applied",
    "ImportReport.dryRun",
    "ImportReport.correction",
];

/// Boolean and enum output fields derived from patients: each goes through the release
/// step, so it is nullable (null when withheld) and its object says why in `rule`.
const RELEASED_FACTS: [&str; 3] =
    ["TwoStageDecision.kind", "TwoStageDecision.isFinal", "CohortMonitoring.statusAgrees"];

fn listed(list: &[&str], type_name: &str, field: &str) -> bool {
    list.contains(&format!("{type_name}.{field}").as_str()) || list.contains(&format!("{type_name}.*").as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_fact_about_patients_reachable_from_any_root_skips_the_release_step() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await.expect("app");
    let schema = SchemaDoc::of(&app).await;
    assert_eq!(schema.roots.len(), 3, "query, mutation and subscription roots: {:?}", schema.roots);
    let mut seen = std::collections::BTreeSet::new();
    let mut queue: Vec<String> = schema.roots.clone();
    let (mut bare, mut unreleased) = (Vec::new(), Vec::new());
    while let Some(type_name) = queue.pop() {
        if !seen.insert(type_name.clone()) {
            continue;
        }
        let described = schema.type_named(&type_name);
        for field in described["fields"].as_array().into_iter().flatten() {
            let field_name = field["name"].as_str().unwrap_or_default();
            let name = format!("{type_name}.{field_name}");
            let of = named(&field["type"]);
            let kind = &schema.type_named(of)["kind"];
            if ["Int", "Float"].contains(&of) {
                if !listed(&NOT_PATIENT_DATA, &type_name, field_name) {
                    bare.push(name);
                }
            } else if of == "Boolean" || kind == "ENUM" {
                if listed(&RELEASED_FACTS, &type_name, field_name) {
                    assert_ne!(field["type"]["kind"], "NON_NULL", "{name} is null when withheld");
                } else if !listed(&NOT_PATIENT_FACTS, &type_name, field_name) {
                    unreleased.push(name);
                }
            } else if kind == "OBJECT" && !of.starts_with("__") {
                queue.push(of.to_owned());
            }
        }
    }
    assert!(seen.contains("SurvivalStep") && seen.contains("TmbQuantiles"), "the walk reaches every type");
    let decision = schema.type_named("TwoStageDecision")["fields"].as_array().cloned().unwrap_or_default();
    assert!(decision.iter().any(|f| f["name"] == "rule"), "a withheld decision says why");
    assert!(bare.is_empty(), "patient-derived numbers that skip the release types: {bare:?}");
    assert!(
        unreleased.is_empty(),
        "booleans and enums neither listed as released nor as not about patients: {unreleased:?}"
    );
}
