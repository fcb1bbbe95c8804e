//! The audit trail: every request to the API, refused ones included, appended as one
//! record hash-chained to the one before, so that editing or deleting a record breaks
//! the chain and `consortium audit verify` says where.
//!
//! A record never holds a token or a patient-level value: the token's id, a hash of the
//! normalised query and of the variables, the outcome, and how many values were
//! released or withheld. Replicas append to the same chain: the previous hash is
//! unique, so two replicas racing for the same place make one of them retry on the new
//! head.

use consortium_entity::access::audit_record;
use sea_orm::{
    ActiveModelTrait, DatabaseConnection, DbErr, EntityTrait, IntoActiveModel, NotSet, QueryOrder, Set, SqlErr,
};
use serde_json::{json, Value};

use crate::auth::secret::sha256_hex;

/// The previous hash of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of `record` chained after `prev_hash`: every field but the id and the
/// record's own hash.
pub fn hash(record: &audit_record::Model, prev_hash: &str) -> String {
    let canonical = json!([
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
    sha256_hex(canonical.to_string().as_bytes())
}

/// Hash of a query with comments dropped and whitespace runs collapsed, so layout does
/// not make two identical questions look different.
pub fn query_hash(query: &str) -> String {
    let without_comments: String =
        query.lines().map(|line| line.split('#').next().unwrap_or("")).collect::<Vec<_>>().join(" ");
    let normalised = without_comments.split_whitespace().collect::<Vec<_>>().join(" ");
    sha256_hex(normalised.as_bytes())
}

/// Hash of variables as canonical JSON (object keys sorted).
pub fn variables_hash(variables: &Value) -> String {
    sha256_hex(variables.to_string().as_bytes())
}

/// The chain as this process appends to it.
///
/// Appends from one process take turns (a lock), so they never race each other for the
/// head; appends from other replicas can still race, and the unique previous hash makes
/// the loser read the new head and try again.
#[derive(Debug)]
pub struct AuditTrail {
    db: DatabaseConnection,
    appending: tokio::sync::Mutex<()>,
}

impl AuditTrail {
    /// The trail kept in `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db, appending: tokio::sync::Mutex::new(()) }
    }

    /// Appends `record` (its id and hashes are set here) at the head of the chain.
    pub async fn append(&self, record: &audit_record::Model) -> Result<audit_record::Model, DbErr> {
        const ATTEMPTS: usize = 20;
        let _turn = self.appending.lock().await;
        for _ in 0..ATTEMPTS {
            let head = audit_record::Entity::find().order_by_desc(audit_record::Column::Id).one(&self.db).await?;
            let prev_hash = head.map_or_else(|| GENESIS.to_owned(), |h| h.hash);
            let mut row = record.clone().into_active_model();
            row.id = NotSet;
            row.hash = Set(hash(record, &prev_hash));
            row.prev_hash = Set(prev_hash);
            match row.insert(&self.db).await {
                Ok(model) => return Ok(model),
                Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => continue,
                Err(error) => return Err(error),
            }
        }
        Err(DbErr::Custom(format!("could not append to the audit chain in {ATTEMPTS} attempts")))
    }
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
    fn layout_does_not_change_a_query_hash_but_content_does() {
        let a = query_hash("query { funnel { steps { population } } }");
        let b = query_hash("query {\n  funnel {   # the funnel\n    steps { population }\n  }\n}");
        assert_eq!(a, b);
        assert_ne!(a, query_hash("query { funnel { steps { patients { value } } } }"));
    }

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
        };
        let base = hash(&entry, GENESIS);
        let mut edited = entry.clone();
        edited.released = 11;
        assert_ne!(hash(&edited, GENESIS), base);
        let mut edited = entry.clone();
        edited.partner_code = None;
        assert_ne!(hash(&edited, GENESIS), base);
        assert_ne!(hash(&entry, &base), base);
    }
}
