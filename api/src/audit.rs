//! The audit trail: every request to the API, refused ones included, appended as one
//! record hash-chained to the one before, so that editing or deleting a record breaks
//! the chain and `consortium audit verify` says where.
//!
//! A record never holds a token or a patient-level value: the token's id, a hash of the
//! normalised query and of the variables, the outcome, and how many values were
//! released or withheld. Records are appended by [`crate::recorder`] (group commit,
//! one chain across replicas).

use async_graphql::parser::parse_query;
use async_graphql::parser::types::{Directive, DocumentOperations, OperationDefinition, Selection, SelectionSet};
use async_graphql::parser::Positioned;
use async_graphql::Name;
use consortium_entity::access::audit_record;
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, QueryOrder};
use serde_json::{json, Value};

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

/// Hash of a query in its canonical form (see [`normalised_query`]), so layout and
/// comments do not make two identical questions look different while any difference
/// of content, strings included, does.
pub fn query_hash(query: &str) -> String {
    sha256_hex(normalised_query(query).as_bytes())
}

/// A query parsed by the GraphQL parser and printed back canonically: no comments, one
/// space between tokens, operations and fragments in name order. Text that does not
/// parse is kept with only its whitespace runs collapsed.
pub fn normalised_query(query: &str) -> String {
    match parse_query(query) {
        Ok(document) => {
            let mut out = String::new();
            match &document.operations {
                DocumentOperations::Single(operation) => print_operation(&mut out, None, &operation.node),
                DocumentOperations::Multiple(operations) => {
                    let mut named: Vec<_> = operations.iter().collect();
                    named.sort_by(|a, b| a.0.cmp(b.0));
                    for (name, operation) in named {
                        print_operation(&mut out, Some(name.as_str()), &operation.node);
                    }
                }
            }
            let mut fragments: Vec<_> = document.fragments.iter().collect();
            fragments.sort_by(|a, b| a.0.cmp(b.0));
            for (name, fragment) in fragments {
                let fragment = &fragment.node;
                out.push_str(&format!(" fragment {name} on {}", fragment.type_condition.node.on.node));
                print_directives(&mut out, &fragment.directives);
                print_selections(&mut out, &fragment.selection_set.node);
            }
            out.trim_start().to_owned()
        }
        Err(_) => query.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

fn print_operation(out: &mut String, name: Option<&str>, operation: &OperationDefinition) {
    out.push_str(&format!(" {}", operation.ty));
    if let Some(name) = name {
        out.push_str(&format!(" {name}"));
    }
    if !operation.variable_definitions.is_empty() {
        let variables: Vec<String> = operation
            .variable_definitions
            .iter()
            .map(|v| {
                let v = &v.node;
                let default = v.default_value.as_ref().map(|d| format!(" = {}", d.node)).unwrap_or_default();
                format!("${}: {}{default}", v.name.node, v.var_type.node)
            })
            .collect();
        out.push_str(&format!("({})", variables.join(", ")));
    }
    print_directives(out, &operation.directives);
    print_selections(out, &operation.selection_set.node);
}

fn print_arguments<V: std::fmt::Display>(out: &mut String, arguments: &[(Positioned<Name>, Positioned<V>)]) {
    if !arguments.is_empty() {
        let printed: Vec<String> =
            arguments.iter().map(|(name, value)| format!("{}: {}", name.node, value.node)).collect();
        out.push_str(&format!("({})", printed.join(", ")));
    }
}

fn print_directives(out: &mut String, directives: &[Positioned<Directive>]) {
    for directive in directives {
        out.push_str(&format!(" @{}", directive.node.name.node));
        print_arguments(out, &directive.node.arguments);
    }
}

fn print_selections(out: &mut String, set: &SelectionSet) {
    if set.items.is_empty() {
        return;
    }
    out.push_str(" {");
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                let field = &field.node;
                out.push(' ');
                if let Some(alias) = &field.alias {
                    out.push_str(&format!("{}: ", alias.node));
                }
                out.push_str(field.name.node.as_str());
                print_arguments(out, &field.arguments);
                print_directives(out, &field.directives);
                print_selections(out, &field.selection_set.node);
            }
            Selection::FragmentSpread(spread) => {
                out.push_str(&format!(" ...{}", spread.node.fragment_name.node));
                print_directives(out, &spread.node.directives);
            }
            Selection::InlineFragment(inline) => {
                out.push_str(" ...");
                if let Some(condition) = &inline.node.type_condition {
                    out.push_str(&format!(" on {}", condition.node.on.node));
                }
                print_directives(out, &inline.node.directives);
                print_selections(out, &inline.node.selection_set.node);
            }
        }
    }
    out.push_str(" }");
}

/// Hash of variables as canonical JSON (object keys sorted).
pub fn variables_hash(variables: &Value) -> String {
    sha256_hex(variables.to_string().as_bytes())
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
    fn a_hash_sign_inside_a_string_is_content_not_a_comment() {
        let one = query_hash(r#"{ cohort(code: "CRC#1") { code } }"#);
        let two = query_hash(r#"{ cohort(code: "CRC#2") { name status } }"#);
        assert_ne!(one, two);
        assert_eq!(one, query_hash("{\n  cohort(code: \"CRC#1\") { # the cohort\n code }\n}"));
    }

    #[test]
    fn the_canonical_form_keeps_every_part_of_the_query() {
        let query = "query Q($f: PatientFilter = {sexes: [FEMALE]}) @a { x: funnel(filter: $f) { ...F ... on Funnel { steps } } } fragment F on Funnel { steps { population } }";
        assert_eq!(
            normalised_query(query),
            "query Q($f: PatientFilter = {sexes: [FEMALE]}) @a { x: funnel(filter: $f) { ...F ... on Funnel { steps } } } fragment F on Funnel { steps { population } }"
        );
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
