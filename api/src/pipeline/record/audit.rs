//! The audit trail: every request to the API, refused ones included, appended as one
//! record hash-chained to the one before, so that editing or deleting a record breaks
//! the chain and `consortium audit verify` says where.
//!
//! A record never holds a token or a patient-level value: the token's id, a hash of the
//! normalised query and of the variables, the outcome, and how many values were
//! released or withheld. Records are appended by [`super::recorder`] (group commit,
//! one chain across replicas).

use consortium_entity::access::audit_record;
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, QueryOrder};
use serde_json::json;

use crate::auth::secret::sha256_hex;

/// The previous hash of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of `record` chained after `prev_hash`: every field but the id and the
/// record's own hash. The policy version, ε and the detail of a write join the
/// canonical form only when present, so records written before they existed verify as
/// they were written.
pub fn hash(record: &audit_record::Model, prev_hash: &str) -> String {
    let mut canonical = json!([
        prev_hash,
        record.at_ms,
        record.partner_code,
        record.token_id,
        record.operation,
        record.query_hash,
        record.variables_hash,
        record.data_version,
        record.outcome,
        record.duration_ms,
        record.released,
        record.withheld,
    ]);
    if let (Some(policy), Some(fields)) = (&record.policy_version, canonical.as_array_mut()) {
        fields.push(json!(policy));
    }
    if let (Some(epsilon), Some(fields)) = (record.epsilon, canonical.as_array_mut()) {
        fields.push(json!(epsilon));
    }
    if let (Some(detail), Some(fields)) = (&record.detail, canonical.as_array_mut()) {
        fields.push(json!(detail));
    }
    sha256_hex(canonical.to_string().as_bytes())
}

/// The outcome of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Records checked.
    pub records: u64,
    /// The hash of the last record (to anchor elsewhere).
    pub head: String,
    /// The first record that does not verify, and why.
    pub broken: Option<(i32, &'static str)>,
}

/// Checks every record's hash and link, in order.
pub async fn verify(db: &DatabaseConnection) -> Result<Verification, DbErr> {
    let records = audit_record::Entity::find().order_by_asc(audit_record::Column::Id).all(db).await?;
    let mut expected_prev = GENESIS.to_owned();
    let mut broken = None;
    for record in &records {
        if record.prev_hash != expected_prev {
            broken = Some((record.id, "the record before it was removed or changed"));
            break;
        }
        if hash(record, &record.prev_hash) != record.hash {
            broken = Some((record.id, "the record was edited"));
            break;
        }
        expected_prev = record.hash.clone();
    }
    Ok(Verification { records: records.len() as u64, head: expected_prev, broken })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_covered_by_the_hash() {
        let entry = audit_record::Model {
            id: 1,
            prev_hash: String::new(),
            hash: String::new(),
            at_ms: 1,
            partner_code: Some("ROCHE".into()),
            token_id: Some("cat_abcdefgh".into()),
            operation: None,
            query_hash: "q".into(),
            variables_hash: "v".into(),
            data_version: 3,
            outcome: "OK".into(),
            duration_ms: 2,
            released: 10,
            withheld: 0,
            policy_version: Some("1".into()),
            epsilon: Some(0.5),
            detail: None,
        };
        let base = hash(&entry, GENESIS);
        let mut edited = entry.clone();
        edited.released = 11;
        assert_ne!(hash(&edited, GENESIS), base);
        let mut edited = entry.clone();
        edited.partner_code = None;
        assert_ne!(hash(&edited, GENESIS), base);
        let mut edited = entry.clone();
        edited.policy_version = Some("1+local".into());
        assert_ne!(hash(&edited, GENESIS), base);
        let mut edited = entry.clone();
        edited.epsilon = Some(0.0);
        assert_ne!(hash(&edited, GENESIS), base);
        let mut edited = entry.clone();
        edited.detail = Some(r#"{"inserted":1}"#.into());
        let detailed = hash(&edited, GENESIS);
        assert_ne!(detailed, base);
        edited.detail = Some(r#"{"inserted":2}"#.into());
        assert_ne!(hash(&edited, GENESIS), detailed);
        assert_ne!(hash(&entry, &base), base);
    }
}
