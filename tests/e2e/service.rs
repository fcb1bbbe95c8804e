//! The service as a whole: concurrent identical questions, and the snapshot shared by
//! requests.

use serde_json::json;

use crate::on_both_backends;

on_both_backends! {
    async fn concurrent_identical_questions_get_identical_answers(app: TestApp) {
        let query = "{ patientCounts(population: TREATED, groupBy: [COHORT, SEX]) { total { value } groups { patients { value } } } }";
        let answers = futures_join(&app, query).await;
        assert!(answers.windows(2).all(|w| w[0] == w[1]));
        assert!(answers[0]["patientCounts"]["total"]["value"].as_u64().unwrap_or(0) > 0);
    }
}

async fn futures_join(app: &crate::helpers::TestApp, query: &str) -> Vec<serde_json::Value> {
    let mut handles = Vec::new();
    for _ in 0..8 {
        handles.push(app.data(query, json!({})));
    }
    let mut answers = Vec::new();
    for handle in handles {
        answers.push(handle.await);
    }
    answers
}
