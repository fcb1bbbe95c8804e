//! The funnel and grouped counts agree with independent SQL counts on the same
//! database, add up, and follow new data versions.

use serde_json::{json, Value};

use crate::on_both_backends;

const FUNNEL: &str =
    "query($filter: PatientFilter) { funnel(filter: $filter) { steps { population patients { value } } } }";

fn steps(data: &Value) -> Vec<(String, u64)> {
    data["funnel"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (s["population"].as_str().expect("population").to_owned(), s["patients"]["value"].as_u64().expect("n"))
        })
        .collect()
}

on_both_backends! {
    async fn the_funnel_matches_sql_counts_step_by_step(app: TestApp) {
        let funnel = steps(&app.data(FUNNEL, json!({})).await);
        let expected = [
            ("REFERRED", app.sql_count("SELECT COUNT(*) FROM patient").await),
            ("PROFILED", app.sql_count("SELECT COUNT(*) FROM molecular_profile").await),
            ("ACTIONABLE", app.sql_count(
                "SELECT COUNT(DISTINCT p.patient_id) FROM molecular_profile p JOIN variant v ON v.profile_id = p.id \
                 WHERE v.escat_tier IN ('I-A','I-B','I-C','II-A','II-B','III-A','III-B')").await),
            ("MATCHED", app.sql_count("SELECT COUNT(*) FROM mtb_review WHERE outcome = 'MATCHED_COHORT'").await),
            ("ENROLLED", app.sql_count("SELECT COUNT(*) FROM enrolment").await),
            ("TREATED", app.sql_count("SELECT COUNT(*) FROM enrolment WHERE treatment_start IS NOT NULL").await),
        ];
        for (step, count) in expected {
            let got = funnel.iter().find(|(s, _)| s == step).map(|(_, n)| *n);
            assert_eq!(got, Some(count), "{step}");
        }
        assert_eq!(funnel.first().map(|s| s.1), Some(u64::from(crate::helpers::PATIENTS)));
        assert!(funnel.windows(2).all(|w| w[0].1 >= w[1].1), "each step is a subset of the one before: {funnel:?}");
        let evaluable = funnel.last().map(|s| s.1).unwrap_or(0);
        assert!(evaluable > 0 && evaluable < funnel[5].1, "some but not all treated are evaluable: {funnel:?}");
    }
}

on_both_backends! {
    async fn counts_by_region_and_month_add_up_and_match_sql(app: TestApp) {
        let query = "{ patientCounts(groupBy: [REGION, ENROLMENT_MONTH]) { population total { value } \
                     groups { keys { dimension code label } patients { value } } } }";
        let data = app.data(query, json!({})).await;
        let counts = &data["patientCounts"];
        assert_eq!(counts["population"], "ENROLLED");
        let total = counts["total"]["value"].as_u64().expect("total");
        assert_eq!(total, app.sql_count("SELECT COUNT(*) FROM enrolment").await);
        let groups = counts["groups"].as_array().expect("groups");
        let sum: u64 = groups.iter().map(|g| g["patients"]["value"].as_u64().expect("n")).sum();
        assert_eq!(sum, total);
        let west: u64 = groups
            .iter()
            .filter(|g| g["keys"][0]["code"] == "WEST")
            .map(|g| g["patients"]["value"].as_u64().expect("n"))
            .sum();
        let sql_west = app
            .sql_count("SELECT COUNT(*) FROM enrolment e JOIN patient p ON p.id = e.patient_id WHERE p.region = 'WEST'")
            .await;
        assert_eq!(west, sql_west);
        let first = &groups[0]["keys"];
        assert_eq!(first[0]["dimension"], "REGION");
        assert_eq!(first[1]["dimension"], "ENROLMENT_MONTH");
        assert!(first[1]["code"].as_str().is_some_and(|m| m.len() == 7), "month codes are YYYY-MM: {first}");
    }
}

on_both_backends! {
    async fn filters_by_code_and_date_range_select_the_right_patients(app: TestApp) {
        let cohort = app.data("{ cohorts(first: 1) { edges { node { code } } } }", json!({})).await["cohorts"]["edges"][0]
            ["node"]["code"]
            .as_str()
            .expect("a cohort")
            .to_owned();
        let query = "query($f: PatientFilter) { patientCounts(population: ENROLLED, filter: $f) { total { value } } }";
        let by_cohort = app.data(query, json!({ "f": { "cohorts": [cohort.clone()] } })).await;
        let sql = format!("SELECT COUNT(*) FROM enrolment e JOIN cohort c ON c.id = e.cohort_id WHERE c.code = '{cohort}'");
        assert_eq!(by_cohort["patientCounts"]["total"]["value"].as_u64(), Some(app.sql_count(&sql).await));

        let range = json!({ "f": { "enrolledBetween": { "from": "2023-01-01", "to": "2023-12-31" }, "sexes": ["FEMALE"] } });
        let in_2023 = app.data(query, range).await;
        let sql = "SELECT COUNT(*) FROM enrolment e JOIN patient p ON p.id = e.patient_id \
                   WHERE e.enrolled_on BETWEEN '2023-01-01' AND '2023-12-31' AND p.sex = 'FEMALE'";
        assert_eq!(in_2023["patientCounts"]["total"]["value"].as_u64(), Some(app.sql_count(sql).await));

        let nobody = app.data(query, json!({ "f": { "cohorts": [] } })).await;
        assert_eq!(nobody["patientCounts"]["total"]["value"], 0);
    }
}

on_both_backends! {
    spawn = crate::helpers::TestApp::spawn_refreshed_by_hand;
    async fn a_new_data_version_is_served_after_the_snapshot_refreshes(app: TestApp) {
        use sea_orm::{ActiveModelTrait, Set, TransactionTrait};
        let before = steps(&app.data(FUNNEL, json!({})).await)[0].1;

        let txn = app.db.begin().await.expect("begin");
        consortium_entity::patient::ActiveModel {
            pseudonym: Set("P-NEW-0001".into()),
            sex: Set(consortium_entity::Sex::Female),
            birth_year: Set(1960),
            region: Set(consortium_entity::HealthRegion::North),
            referring_site_id: Set(1),
            referral_date: Set(chrono::NaiveDate::from_ymd_opt(2026, 10, 1).expect("date")),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .expect("insert a patient");
        let version = consortium_entity::data_version::bump(&txn).await.expect("bump");
        txn.commit().await.expect("commit");

        // Until the snapshot moves, the cached answer of the old version stands.
        assert_eq!(steps(&app.data(FUNNEL, json!({})).await)[0].1, before);
        assert_eq!(app.state.refresh().await.ok(), Some(version));
        assert_eq!(steps(&app.data(FUNNEL, json!({})).await)[0].1, before + 1);
        let served = app.data("{ dataVersion { version } }", json!({})).await;
        assert_eq!(served["dataVersion"]["version"].as_i64(), Some(version));
    }
}
