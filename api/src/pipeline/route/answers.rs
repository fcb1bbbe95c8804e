//! Released answers, cached as the bytes that were sent, so a repeated question costs a
//! lookup, its rate-limit charge and its audit record, not a second run of the
//! pipeline.
//!
//! An answer is reused only for exactly the same question under exactly the same
//! protection: the key is the data version, the partner (whose policy and row scope
//! follow from it), the request's scopes, the policy version, and the normalised query,
//! variables and operation names. Only complete answers are kept: one with an error,
//! or one that read something personal to the caller (the token, its budget, its audit
//! trail: see [`RequestContext::mark_personal`](crate::pipeline::context::RequestContext::mark_personal)),
//! is built afresh every time. A new data version makes every entry unreachable (the
//! state drops them all when it swaps snapshots).
//!
//! What a hit replays is what the release step let out the first time: the same values,
//! the same withheld cells, the same counts on record, charged the same points.

use std::sync::Arc;

use moka::future::Cache;

/// Bytes of released answers kept (the least recently used go first).
const CAPACITY_BYTES: u64 = 64 * 1024 * 1024;

/// What identifies a question and its protection.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AnswerKey {
    /// The data version answered from.
    pub data_version: i64,
    /// The partner asking.
    pub partner: String,
    /// The request's scopes.
    pub scopes: String,
    /// The disclosure policy applied.
    pub policy_version: String,
    /// Whether the request was one operation rather than a batch.
    pub single: bool,
    /// Hash of each operation's normalised query (for one operation, as on record).
    pub query_hashes: Vec<String>,
    /// Hash of the variables (as on record).
    pub variables_hash: String,
    /// The operation names asked for.
    pub operations: Vec<Option<String>>,
}

/// An answer as released: each operation's `data`, serialised, and what it cost.
#[derive(Debug)]
pub struct ReleasedAnswer {
    /// Each operation's `data` as JSON text, in order.
    pub data: Vec<String>,
    /// Rate-limit points the question is charged.
    pub cost: i64,
    /// Values it releases.
    pub released: i64,
    /// Values it withholds.
    pub withheld: i64,
}

impl ReleasedAnswer {
    /// The response body: each operation's data with `extensions.disclosure`, as one
    /// object or, for a batch, an array.
    pub fn body(&self, single: bool, disclosure: &serde_json::Value) -> String {
        let extensions = serde_json::json!({ "disclosure": disclosure }).to_string();
        let one = |data: &String| format!(r#"{{"data":{data},"extensions":{extensions}}}"#);
        match (single, self.data.as_slice()) {
            (true, [data]) => one(data),
            (_, all) => format!("[{}]", all.iter().map(one).collect::<Vec<_>>().join(",")),
        }
    }

    fn bytes(&self) -> u32 {
        let total: usize = self.data.iter().map(String::len).sum();
        u32::try_from(total).unwrap_or(u32::MAX)
    }
}

/// The cache.
#[derive(Debug, Clone)]
pub struct ReleasedAnswers {
    cache: Cache<AnswerKey, Arc<ReleasedAnswer>>,
}

impl Default for ReleasedAnswers {
    fn default() -> Self {
        let cache = Cache::builder()
            .weigher(|_, answer: &Arc<ReleasedAnswer>| answer.bytes())
            .max_capacity(CAPACITY_BYTES)
            .build();
        Self { cache }
    }
}

impl ReleasedAnswers {
    /// The answer released earlier to `key`, if kept.
    pub async fn get(&self, key: &AnswerKey) -> Option<Arc<ReleasedAnswer>> {
        self.cache.get(key).await
    }

    /// Keeps `answer` for `key`.
    pub async fn insert(&self, key: AnswerKey, answer: Arc<ReleasedAnswer>) {
        self.cache.insert(key, answer).await;
    }

    /// Forgets every answer (a new data version).
    pub fn clear(&self) {
        self.cache.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_what_async_graphql_would_have_sent() {
        let answer = ReleasedAnswer { data: vec![r#"{"a":1}"#.into()], cost: 1, released: 1, withheld: 0 };
        let disclosure = serde_json::json!({ "auditRecord": 7 });
        let mut response = async_graphql::Response::new(async_graphql::value!({ "a": 1 }));
        response.extensions.insert("disclosure".into(), async_graphql::value!({ "auditRecord": 7 }));
        let expected = serde_json::to_value(&response).expect("serialise");
        let body: serde_json::Value = serde_json::from_str(&answer.body(true, &disclosure)).expect("JSON");
        assert_eq!(body, expected);
        let batch: serde_json::Value = serde_json::from_str(&answer.body(false, &disclosure)).expect("JSON");
        assert_eq!(batch, serde_json::json!([expected]));
    }
}
