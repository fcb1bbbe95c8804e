//! The served schema, read by introspection, and queries built from it: the minimal
//! valid query of each root field (for checks that must cover every field, including
//! ones added later) and random queries (for the fuzz test).

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use crate::helpers::TestApp;

const INTROSPECTION: &str = r#"{ __schema { queryType { name } mutationType { name } subscriptionType { name } types { kind name
  fields { name args { name defaultValue type { ...T } } type { ...T } }
  inputFields { name defaultValue type { ...T } } enumValues { name } } } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }"#;

/// The schema as introspection describes it.
pub struct SchemaDoc {
    types: Vec<Value>,
    query_type: String,
    /// The roots: query, mutation and subscription.
    pub roots: Vec<String>,
}

/// Where random choices come from; `None` builds the minimal query.
type Dice<'a> = Option<&'a mut ChaCha8Rng>;

impl SchemaDoc {
    /// Introspects the running service.
    pub async fn of(app: &TestApp) -> SchemaDoc {
        let data = app.data(INTROSPECTION, json!({})).await;
        let schema = &data["__schema"];
        let roots = ["queryType", "mutationType", "subscriptionType"]
            .iter()
            .filter_map(|root| schema[root]["name"].as_str().map(str::to_owned))
            .collect();
        SchemaDoc {
            types: schema["types"].as_array().cloned().unwrap_or_default(),
            query_type: schema["queryType"]["name"].as_str().unwrap_or("Query").to_owned(),
            roots,
        }
    }

    /// A type by name.
    pub fn type_named(&self, name: &str) -> &Value {
        self.types.iter().find(|t| t["name"] == name).unwrap_or_else(|| panic!("no type {name} in the schema"))
    }

    /// The fields of the query root.
    pub fn root_fields(&self) -> Vec<Value> {
        self.type_named(&self.query_type)["fields"].as_array().cloned().unwrap_or_default()
    }

    /// The smallest valid query of one root field: its required arguments filled, and
    /// one leaf selected all the way down.
    pub fn minimal_query(&self, field: &Value) -> String {
        format!("{{ {} }}", self.field_selection(field, None, 0))
    }

    /// A random query of one to three root fields, arguments and selections drawn at
    /// random (valid and invalid values alike).
    pub fn random_query(&self, rng: &mut ChaCha8Rng) -> String {
        let roots = self.root_fields();
        let count = rng.gen_range(1..=3);
        let mut fields = Vec::new();
        for i in 0..count {
            let Some(field) = roots.choose(rng) else { break };
            fields.push(format!("f{i}: {}", self.field_selection(field, Some(&mut *rng), 0)));
        }
        format!("{{ {} }}", fields.join(" "))
    }

    fn field_selection(&self, field: &Value, mut dice: Dice<'_>, depth: usize) -> String {
        let name = field["name"].as_str().unwrap_or_default();
        let mut arguments = Vec::new();
        for argument in field["args"].as_array().into_iter().flatten() {
            let required = argument["type"]["kind"] == "NON_NULL" && argument["defaultValue"].is_null();
            let wanted = match dice.as_deref_mut() {
                None => required,
                Some(rng) => required || rng.gen_bool(0.4),
            };
            if wanted {
                let value = self.value(&argument["type"], dice.as_deref_mut(), 0);
                arguments.push(format!("{}: {value}", argument["name"].as_str().unwrap_or_default()));
            }
        }
        let arguments = if arguments.is_empty() { String::new() } else { format!("({})", arguments.join(", ")) };
        let selection = self.selection(named(&field["type"]), dice, depth + 1);
        format!("{name}{arguments}{selection}")
    }

    /// The selection set of a value of type `name` (empty for leaves).
    fn selection(&self, name: &str, mut dice: Dice<'_>, depth: usize) -> String {
        let kind = &self.type_named(name)["kind"];
        if kind != "OBJECT" && kind != "INTERFACE" {
            return String::new();
        }
        let fields: Vec<Value> = self.type_named(name)["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| {
                !f["args"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|a| a["type"]["kind"] == "NON_NULL" && a["defaultValue"].is_null())
            })
            .cloned()
            .collect();
        let is_leaf = |f: &Value| {
            let kind = &self.type_named(named(&f["type"]))["kind"];
            kind == "SCALAR" || kind == "ENUM"
        };
        let chosen: Vec<&Value> = match dice.as_deref_mut() {
            // The first leaf, or else the first field (whose own selection finds one).
            None => fields.iter().find(|f| is_leaf(f)).or_else(|| fields.first()).into_iter().collect(),
            Some(rng) => {
                let mut picked: Vec<&Value> =
                    fields.iter().filter(|f| (depth < 4 || is_leaf(f)) && rng.gen_bool(0.5)).collect();
                if picked.is_empty() {
                    picked.extend(fields.iter().find(|f| is_leaf(f)).or_else(|| fields.first()));
                }
                picked
            }
        };
        let inner: Vec<String> =
            chosen.into_iter().map(|f| self.field_selection(f, dice.as_deref_mut(), depth)).collect();
        format!(" {{ {} }}", inner.join(" "))
    }

    /// A GraphQL literal of type `ty`: a plausible one for the minimal query, a random
    /// (often wrong) one under dice.
    fn value(&self, ty: &Value, mut dice: Dice<'_>, depth: usize) -> String {
        match ty["kind"].as_str() {
            Some("NON_NULL") => return self.value(&ty["ofType"], dice, depth),
            Some("LIST") => {
                let n = dice.as_deref_mut().map_or(1, |rng| rng.gen_range(0..4));
                let items: Vec<String> =
                    (0..n).map(|_| self.value(&ty["ofType"], dice.as_deref_mut(), depth)).collect();
                return format!("[{}]", items.join(", "));
            }
            _ => {}
        }
        let name = ty["name"].as_str().unwrap_or_default();
        let described = self.type_named(name);
        match (described["kind"].as_str(), dice) {
            (Some("ENUM"), dice) => {
                let values: Vec<&str> = described["enumValues"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v["name"].as_str())
                    .collect();
                match dice {
                    None => values[0].to_owned(),
                    Some(rng) => match rng.gen_bool(0.9) {
                        true => values.choose(rng).copied().unwrap_or("X").to_owned(),
                        false => "NOT_A_VALUE".to_owned(),
                    },
                }
            }
            (Some("INPUT_OBJECT"), mut dice) => {
                let mut fields = Vec::new();
                for field in described["inputFields"].as_array().into_iter().flatten() {
                    let required = field["type"]["kind"] == "NON_NULL" && field["defaultValue"].is_null();
                    let wanted = match dice.as_deref_mut() {
                        None => required,
                        Some(rng) => required || (depth < 2 && rng.gen_bool(0.3)),
                    };
                    if wanted {
                        let value = self.value(&field["type"], dice.as_deref_mut(), depth + 1);
                        fields.push(format!("{}: {value}", field["name"].as_str().unwrap_or_default()));
                    }
                }
                format!("{{{}}}", fields.join(", "))
            }
            (_, None) => match name {
                "Int" => "1".to_owned(),
                "Float" => "0.5".to_owned(),
                "Boolean" => "true".to_owned(),
                "Date" => "\"2024-01-01\"".to_owned(),
                _ => "\"X\"".to_owned(),
            },
            (_, Some(rng)) => random_scalar(name, rng),
        }
    }
}

/// A random literal for a scalar: mostly of the right type, sometimes not, sometimes
/// extreme.
fn random_scalar(name: &str, rng: &mut ChaCha8Rng) -> String {
    let strings = [
        "\"COADREAD\"",
        "\"BRAF\"",
        "\"2024-03\"",
        "\"60-69\"",
        "\"\"",
        "\"ünïcødé ✓\"",
        "\"'; DROP TABLE patient; --\"",
        "\"2024-02-30\"",
        "\"0\"",
    ];
    match rng.gen_range(0..10) {
        0 => "null".to_owned(),
        1 => format!("\"{}\"", "A".repeat(rng.gen_range(100..5000))),
        2 => ["-1", "0", "2147483647", "-2147483648", "99999999999", "1e308", "-0.5", "1.5"]
            .choose(rng)
            .map_or("0", |v| v)
            .to_owned(),
        _ => match name {
            "Int" => rng.gen_range(-5..300).to_string(),
            "Float" => format!("{:.3}", rng.gen_range(-0.5..1.5)),
            "Boolean" => rng.gen_bool(0.5).to_string(),
            "Date" => {
                format!("\"20{:02}-{:02}-{:02}\"", rng.gen_range(0..40), rng.gen_range(0..14), rng.gen_range(0..33))
            }
            _ => strings.choose(rng).map_or("\"\"", |v| v).to_owned(),
        },
    }
}

/// The named type under any NON_NULL and LIST wrappers.
pub fn named(ty: &Value) -> &str {
    match ty["name"].as_str() {
        Some(name) => name,
        None => named(&ty["ofType"]),
    }
}
