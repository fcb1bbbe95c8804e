//! Metrics for operators, served at `GET /metrics` in the Prometheus (OpenMetrics) text
//! format to a caller with the `admin` scope.
//!
//! What is counted: GraphQL requests by partner, operation name and outcome, with a
//! latency histogram by outcome; answers served from the released-answer cache; audit
//! records and the groups they were committed in (records per flush); the data version
//! served and how long its snapshot took to build. No label names a patient, a token
//! or a value; the only label about who asked is the partner's code. Operation names
//! are those the requests give (`operationName`, as on record), the clients' own words: only letters, digits and `_` are kept, 64 characters
//! at most, and after [`MAX_OPERATIONS`] distinct names the others count as `other`.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Distinct operation names counted by name.
pub const MAX_OPERATIONS: usize = 100;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    partner: String,
    operation: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

/// The service's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<OutcomeLabels, Histogram>,
    cache_hits: Counter,
    audit_records: Counter,
    audit_groups: Counter,
    data_version: Gauge,
    snapshot_build_ms: Gauge,
    operations: Mutex<HashSet<String>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("consortium");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("graphql_requests", "GraphQL requests by partner, operation and outcome", requests.clone());
        let latency = Family::<OutcomeLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
        });
        registry.register("graphql_request_duration_seconds", "Time to answer a GraphQL request", latency.clone());
        let cache_hits = Counter::default();
        registry.register("released_answer_cache_hits", "Answers sent again as first released", cache_hits.clone());
        let audit_records = Counter::default();
        registry.register("audit_records", "Audit records appended", audit_records.clone());
        let audit_groups = Counter::default();
        registry.register("audit_groups", "Transactions the audit records were committed in", audit_groups.clone());
        let data_version = Gauge::default();
        registry.register("data_version", "The data version served", data_version.clone());
        let snapshot_build_ms = Gauge::default();
        registry.register(
            "snapshot_build_milliseconds",
            "How long the served snapshot took to read and build",
            snapshot_build_ms.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            cache_hits,
            audit_records,
            audit_groups,
            data_version,
            snapshot_build_ms,
            operations: Mutex::new(HashSet::new()),
        }
    }
}

impl Metrics {
    /// One GraphQL request answered (or refused) after `took`.
    pub fn request(&self, partner: Option<&str>, operation: Option<&str>, outcome: &str, took: Duration) {
        let labels = RequestLabels {
            partner: partner.unwrap_or("-").to_owned(),
            operation: self.operation_label(operation),
            outcome: outcome.to_owned(),
        };
        self.requests.get_or_create(&labels).inc();
        self.latency.get_or_create(&OutcomeLabels { outcome: outcome.to_owned() }).observe(took.as_secs_f64());
    }

    /// An answer sent again from the released-answer cache.
    pub fn cache_hit(&self) {
        self.cache_hits.inc();
    }

    /// A group of `records` audit records committed together.
    pub fn audit_group(&self, records: usize) {
        self.audit_groups.inc();
        self.audit_records.inc_by(records as u64);
    }

    /// A snapshot of `version` now served, built in `took`.
    pub fn snapshot(&self, version: i64, took: Duration) {
        self.data_version.set(version);
        self.snapshot_build_ms.set(i64::try_from(took.as_millis()).unwrap_or(i64::MAX));
    }

    /// The metrics in the OpenMetrics text format.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }

    fn operation_label(&self, operation: Option<&str>) -> String {
        let Some(name) = operation else { return "-".to_owned() };
        let clean: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(64).collect();
        let mut known = self.operations.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if known.contains(&clean) || (known.len() < MAX_OPERATIONS && known.insert(clean.clone())) {
            clean
        } else {
            "other".to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_cleaned_and_capped() {
        let metrics = Metrics::default();
        assert_eq!(metrics.operation_label(Some("Funnel{x=\"1\"}")), "Funnelx1");
        for i in 0..MAX_OPERATIONS {
            metrics.operation_label(Some(&format!("op{i}")));
        }
        assert_eq!(metrics.operation_label(Some("one_too_many")), "other");
        assert_eq!(metrics.operation_label(Some("op3")), "op3");
        assert_eq!(metrics.operation_label(None), "-");
    }
}
