//! Reference lists: partners, sites, drugs and cohorts, paginated with cursors.

use serde_json::json;

use crate::helpers::error_codes;
use crate::on_both_backends;

on_both_backends! {
    async fn the_consortium_has_its_hospitals_registry_and_companies(app: TestApp) {
        let query = "query($kind: PartnerKind) { partners(kind: $kind) { edges { node { code kind orgNumber } } } }";
        let hospitals = app.data(query, json!({ "kind": "HOSPITAL" })).await;
        assert_eq!(hospitals["partners"]["edges"].as_array().map(Vec::len), Some(17));
        let registry = app.data(query, json!({ "kind": "REGISTRY" })).await;
        assert_eq!(registry["partners"]["edges"].as_array().map(Vec::len), Some(1));
        let sites = app.data("{ sites(region: NORTH) { edges { node { region inpredNode } } } }", json!({})).await;
        let north = sites["sites"]["edges"].as_array().expect("sites");
        assert!(!north.is_empty() && north.iter().all(|s| s["node"]["region"] == "NORTH"));
    }
}

on_both_backends! {
    async fn cursors_walk_every_cohort_exactly_once(app: TestApp) {
        let query = "query($after: String) { cohorts(first: 7, after: $after) { \
                     edges { cursor node { code status design { r1 n1 r n } } } pageInfo { hasNextPage endCursor } } }";
        let (mut seen, mut after) = (Vec::new(), None::<String>);
        loop {
            let page = app.data(query, json!({ "after": after })).await;
            let cohorts = &page["cohorts"];
            for edge in cohorts["edges"].as_array().expect("edges") {
                seen.push(edge["node"]["code"].as_str().expect("code").to_owned());
                assert_eq!(edge["node"]["design"], json!({ "r1": 0, "n1": 8, "r": 4, "n": 24 }));
            }
            if cohorts["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = cohorts["pageInfo"]["endCursor"].as_str().map(str::to_owned);
        }
        let total = app.sql_count("SELECT COUNT(*) FROM cohort").await;
        assert_eq!(seen.len() as u64, total);
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len() as u64, total, "no cohort twice");

        let bad = app.graphql("{ cohorts(first: 1000) { edges { cursor } } }", json!({})).await;
        assert_eq!(error_codes(&bad), ["BAD_USER_INPUT"]);
        let missing = app.graphql("{ cohort(code: \"NO-SUCH\") { code } }", json!({})).await;
        assert_eq!(error_codes(&missing), ["NOT_FOUND"]);
    }
}
