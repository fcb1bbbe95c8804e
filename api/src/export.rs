//! Released tables as files: an answer, as the service sends it, flattened into tidy
//! tables and written as CSV, Parquet or XLSX, each file carrying where its numbers come
//! from (data version, disclosure policy, audit record).
//!
//! The flattening is the playground's results view's (`api/web/results.js`): each list
//! of objects in the answer is a table, one row per item; nested objects become dotted
//! columns (`clinicalBenefit.estimate`), a group's keys one column per dimension, and a
//! nested list a table of its own that repeats its parents' identifying columns. A
//! released number (`{ value, precision, rule, margin95 }`) becomes four columns — its
//! value, precision, rule and 95% margin — so a withheld value is an empty value with its
//! rule, never text among numbers. Nothing here computes or releases a number: every
//! value is one the release step already published in the answer.
//!
//! Used by `POST /graphql/export` (one table, or every table as sheets of a workbook) and
//! by `consortium export-answers` (every table of a question's answer).

use std::collections::BTreeSet;

use polars::prelude::{Column, DataFrame, ParquetWriter, PolarsResult};
use serde_json::{Map, Value};

use consortium_store::format::spreadsheet_safe;

/// The formats an answer exports to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// One table as comma-separated UTF-8 text, under `#` lines of provenance.
    Csv,
    /// One table as Apache Parquet, the provenance in the file's key-value metadata.
    Parquet,
    /// Every table as a sheet of a workbook, the provenance above each.
    Xlsx,
}

impl FileFormat {
    /// Every format, in the order they are offered.
    pub const ALL: [FileFormat; 3] = [FileFormat::Csv, FileFormat::Parquet, FileFormat::Xlsx];

    /// The format called `name` (its extension), if any.
    pub fn named(name: &str) -> Option<FileFormat> {
        Self::ALL.into_iter().find(|f| f.extension().eq_ignore_ascii_case(name))
    }

    /// The file extension, also the format's name in requests (`?format=parquet`).
    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Parquet => "parquet",
            FileFormat::Xlsx => "xlsx",
        }
    }

    /// The media type of such a file.
    pub fn content_type(self) -> &'static str {
        match self {
            FileFormat::Csv => "text/csv; charset=utf-8",
            FileFormat::Parquet => "application/vnd.apache.parquet",
            FileFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    /// Whether a file holds every table of an answer (rather than one).
    pub fn holds_every_table(self) -> bool {
        self == FileFormat::Xlsx
    }
}

/// What an answer's numbers were computed on and released under: its
/// `extensions.disclosure`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provenance {
    /// The data version the numbers were computed on.
    pub data_version: Option<i64>,
    /// The disclosure policy they were released under.
    pub policy_version: Option<String>,
    /// The audit record of the request that released them.
    pub audit_record: Option<i64>,
}

impl Provenance {
    /// The provenance an answer states (unknown parts as `None`).
    pub fn of(answer: &Value) -> Provenance {
        let disclosure = &answer["extensions"]["disclosure"];
        Provenance {
            data_version: disclosure["dataVersion"].as_i64(),
            policy_version: disclosure["policyVersion"].as_str().map(str::to_owned),
            audit_record: disclosure["auditRecord"].as_i64(),
        }
    }

    /// As the files state it: `data version 7; disclosure policy 2; audit record 123`.
    pub fn line(&self) -> String {
        let or_unknown = |v: Option<String>| v.unwrap_or_else(|| "?".to_owned());
        format!(
            "data version {}; disclosure policy {}; audit record {}",
            or_unknown(self.data_version.map(|v| v.to_string())),
            or_unknown(self.policy_version.clone()),
            or_unknown(self.audit_record.map(|v| v.to_string())),
        )
    }

    fn pairs(&self) -> Vec<(String, String)> {
        let mut pairs = vec![("producer".to_owned(), "Consortium Analytics".to_owned())];
        if let Some(v) = self.data_version {
            pairs.push(("data_version".to_owned(), v.to_string()));
        }
        if let Some(v) = &self.policy_version {
            pairs.push(("disclosure_policy".to_owned(), v.clone()));
        }
        if let Some(v) = self.audit_record {
            pairs.push(("audit_record".to_owned(), v.to_string()));
        }
        pairs
    }
}

/// One cell of a table before it is made tidy.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    /// A value that identifies or describes the row (a code, a label, a month).
    Plain(Value),
    /// A released number as the answer holds it.
    Released(Map<String, Value>),
}

/// One table of an answer: its path in the answer (`patientCounts.groups`), its tidy
/// columns' names and its rows (JSON scalars, `null` for nothing).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Where the table is in the answer: its fields from the top, joined by dots.
    pub path: String,
    /// The tidy columns' names.
    pub columns: Vec<String>,
    /// The rows, one cell per column.
    pub rows: Vec<Vec<Value>>,
}

/// Whether `value` is a released number as the API returns it.
fn is_released(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|o| o.contains_key("value") && (o.contains_key("precision") || o.contains_key("rule")))
}

/// Whether `value`, the field `name`, is a group's keys: `keys: [{ dimension?, code, label? }]`.
fn is_keys(name: &str, value: &Value) -> bool {
    name == "keys"
        && value.as_array().is_some_and(|keys| {
            !keys.is_empty() && keys.iter().all(|k| k.as_object().is_some_and(|o| o.contains_key("code")))
        })
}

fn is_row_list(value: &Value) -> bool {
    value.as_array().is_some_and(|items| items.iter().any(Value::is_object))
}

/// A row's columns in order of first appearance.
type Row = Vec<(String, Cell)>;

fn set(row: &mut Row, name: String, cell: Cell) {
    match row.iter_mut().find(|(n, _)| *n == name) {
        Some((_, existing)) => *existing = cell,
        None => row.push((name, cell)),
    }
}

/// The columns of `object` into `row`; its lists of objects into `nested`.
fn flatten<'a>(object: &'a Map<String, Value>, prefix: &str, row: &mut Row, nested: &mut Vec<(String, &'a Value)>) {
    for (key, value) in object {
        let name = format!("{prefix}{key}");
        if is_released(value) {
            set(row, name, Cell::Released(value.as_object().cloned().unwrap_or_default()));
        } else if is_keys(key, value) {
            // A column per dimension, named by it when the question asks for it.
            for (i, key) in value.as_array().into_iter().flatten().enumerate() {
                let dimension = match (key["dimension"].as_str(), i) {
                    (Some(dimension), _) => dimension.to_lowercase(),
                    (None, 0) => "key".to_owned(),
                    (None, i) => format!("key {}", i + 1),
                };
                set(row, dimension.clone(), Cell::Plain(key["code"].clone()));
                if let Some(label) = key.get("label").filter(|l| **l != key["code"]) {
                    set(row, format!("{dimension} label"), Cell::Plain(label.clone()));
                }
            }
        } else if is_row_list(value) {
            nested.push((name, value));
        } else if let Some(items) = value.as_array() {
            let words: Vec<String> =
                items.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)).collect();
            set(row, name, Cell::Plain(Value::String(words.join(" "))));
        } else if let Some(inner) = value.as_object() {
            flatten(inner, &format!("{name}."), row, nested);
        } else {
            set(row, name, Cell::Plain(value.clone()));
        }
    }
}

/// The tables found so far, by path, in order of first appearance.
type Found = Vec<(String, Vec<Row>)>;

fn add(found: &mut Found, path: &str, row: Row) {
    match found.iter_mut().find(|(p, _)| p == path) {
        Some((_, rows)) => rows.push(row),
        None => found.push((path.to_owned(), vec![row])),
    }
}

fn collect(path: &str, value: &Value, inherited: &Row, found: &mut Found) {
    let items: Vec<&Map<String, Value>> = match value {
        Value::Array(items) if is_row_list(value) => items.iter().filter_map(Value::as_object).collect(),
        Value::Object(object) if !is_released(value) => vec![object],
        Value::Null => return,
        _ => {
            let mut row = inherited.clone();
            let cell = match value.as_object() {
                Some(object) => Cell::Released(object.clone()),
                None => Cell::Plain(value.clone()),
            };
            set(&mut row, path.to_owned(), cell);
            return add(found, path, row);
        }
    };
    for item in items {
        let mut columns = Row::new();
        let mut nested = Vec::new();
        flatten(item, "", &mut columns, &mut nested);
        let mut identity = inherited.clone();
        for (name, cell) in &columns {
            if matches!(cell, Cell::Plain(_)) {
                set(&mut identity, name.clone(), cell.clone());
            }
        }
        if !columns.is_empty() {
            let mut row = inherited.clone();
            for (name, cell) in columns {
                set(&mut row, name, cell);
            }
            add(found, path, row);
        }
        for (key, list) in nested {
            collect(&format!("{path}.{key}"), list, &identity, found);
        }
    }
}

/// The tidy tables of an answer's `data`.
pub fn tables(data: &Value) -> Vec<Table> {
    let mut found = Found::new();
    for (field, value) in data.as_object().into_iter().flatten() {
        collect(field, value, &Row::new(), &mut found);
    }
    found.into_iter().map(|(path, rows)| tidy(path, &rows)).collect()
}

/// The four columns a released number becomes.
const RELEASED_PARTS: [(&str, &str); 4] =
    [("", "value"), (" precision", "precision"), (" rule", "rule"), (" margin95", "margin95")];

fn tidy(path: String, rows: &[Row]) -> Table {
    let mut names: Vec<String> = Vec::new();
    for row in rows {
        for (name, _) in row {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
    }
    let released: BTreeSet<&String> = names
        .iter()
        .filter(|n| rows.iter().any(|r| r.iter().any(|(name, cell)| name == *n && matches!(cell, Cell::Released(_)))))
        .collect();
    let columns = names
        .iter()
        .flat_map(|name| match released.contains(name) {
            true => RELEASED_PARTS.iter().map(|(suffix, _)| format!("{name}{suffix}")).collect::<Vec<_>>(),
            false => vec![name.clone()],
        })
        .collect();
    let rows = rows
        .iter()
        .map(|row| {
            names
                .iter()
                .flat_map(|name| {
                    let cell = row.iter().find(|(n, _)| n == name).map(|(_, cell)| cell);
                    match (released.contains(name), cell) {
                        (true, Some(Cell::Released(number))) => RELEASED_PARTS
                            .iter()
                            .map(|(_, field)| number.get(*field).cloned().unwrap_or(Value::Null))
                            .collect(),
                        (true, other) => {
                            let mut parts = vec![Value::Null; RELEASED_PARTS.len()];
                            if let Some(Cell::Plain(value)) = other {
                                parts[0] = value.clone();
                            }
                            parts
                        }
                        (false, Some(Cell::Plain(value))) => vec![value.clone()],
                        (false, _) => vec![Value::Null],
                    }
                })
                .collect()
        })
        .collect();
    Table { path, columns, rows }
}

/// A cell as text (empty for nothing).
fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn quoted(cell: &str) -> String {
    format!("\"{}\"", spreadsheet_safe(cell).replace('"', "\"\""))
}

/// `table` as CSV under `#` lines naming it and its provenance.
pub fn csv(title: &str, provenance: &Provenance, table: &Table) -> Vec<u8> {
    let mut out = format!(
        "# Consortium Analytics: {title}: {}\n# {}\n# a withheld value is empty; its rule says why\n",
        table.path,
        provenance.line()
    );
    let line = |cells: Vec<String>| cells.iter().map(|c| quoted(c)).collect::<Vec<_>>().join(",") + "\n";
    out.push_str(&line(table.columns.clone()));
    for row in &table.rows {
        out.push_str(&line(row.iter().map(text).collect()));
    }
    out.into_bytes()
}

/// A column of numbers where every cell is a number or nothing; text otherwise.
fn column(name: &str, cells: Vec<&Value>) -> Column {
    if cells.iter().all(|v| v.is_null() || v.is_i64()) {
        Column::new(name.into(), cells.into_iter().map(Value::as_i64).collect::<Vec<_>>())
    } else if cells.iter().all(|v| v.is_null() || v.is_number()) {
        Column::new(name.into(), cells.into_iter().map(Value::as_f64).collect::<Vec<_>>())
    } else {
        let texts: Vec<Option<String>> = cells.into_iter().map(|v| (!v.is_null()).then(|| text(v))).collect();
        Column::new(name.into(), texts)
    }
}

/// `table` as Parquet, its provenance in the file's key-value metadata.
pub fn parquet(provenance: &Provenance, table: &Table) -> PolarsResult<Vec<u8>> {
    let columns = table
        .columns
        .iter()
        .enumerate()
        .map(|(i, name)| column(name, table.rows.iter().map(|row| &row[i]).collect()))
        .collect::<Vec<_>>();
    let mut frame = DataFrame::new(table.rows.len(), columns)?;
    let mut bytes = Vec::new();
    let metadata = polars::io::parquet::write::KeyValueMetadata::from_static(provenance.pairs());
    ParquetWriter::new(&mut bytes).with_key_value_metadata(Some(metadata)).finish(&mut frame)?;
    Ok(bytes)
}

/// A sheet's name: at most 31 characters, none of `[]:*?/\`, unique in the workbook.
fn sheet_name(path: &str, taken: &mut Vec<String>) -> String {
    let clean: String = path.chars().map(|c| if "[]:*?/\\".contains(c) { '_' } else { c }).collect();
    let mut name: String = clean.chars().take(31).collect();
    let mut n = 2;
    while taken.contains(&name) {
        let suffix = format!(" {n}");
        name = clean.chars().take(31 - suffix.len()).collect::<String>() + &suffix;
        n += 1;
    }
    taken.push(name.clone());
    name
}

/// Every table as a sheet of one workbook: the title and provenance in its first rows,
/// then the columns' names and the rows (numbers as numbers).
pub fn xlsx(title: &str, provenance: &Provenance, tables: &[Table]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{DocProperties, Format, Workbook};
    let mut workbook = Workbook::new();
    let comment = format!("{title}: {}", provenance.line());
    workbook.set_properties(&DocProperties::new().set_title(title).set_comment(&comment));
    let bold = Format::new().set_bold();
    let mut taken = Vec::new();
    for table in tables {
        let sheet = workbook.add_worksheet();
        sheet.set_name(sheet_name(&table.path, &mut taken))?;
        sheet.write_string(0, 0, format!("Consortium Analytics: {title}: {}", table.path))?;
        sheet.write_string(1, 0, provenance.line())?;
        sheet.write_string(2, 0, "a withheld value is empty; its rule says why")?;
        for (c, name) in table.columns.iter().enumerate() {
            sheet.write_string_with_format(4, c as u16, name, &bold)?;
        }
        for (r, row) in table.rows.iter().enumerate() {
            let r = r as u32 + 5;
            for (c, value) in row.iter().enumerate() {
                match value {
                    Value::Null => {}
                    Value::Number(n) => {
                        sheet.write_number(r, c as u16, n.as_f64().unwrap_or_default())?;
                    }
                    other => {
                        sheet.write_string(r, c as u16, text(other))?;
                    }
                }
            }
        }
    }
    workbook.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn released(value: Value, rule: Value) -> Value {
        json!({ "value": value, "precision": if value.is_null() { "SUPPRESSED" } else { "PERTURBED" }, "rule": rule })
    }

    #[test]
    fn groups_become_one_row_each_with_a_column_per_dimension() {
        let data = json!({ "patientCounts": {
            "total": released(json!(120), Value::Null),
            "groups": [
                { "keys": [{ "dimension": "REGION", "code": "HSO", "label": "South-East" }, { "dimension": "SEX", "code": "F" }],
                  "patients": released(json!(40), Value::Null) },
                { "keys": [{ "dimension": "REGION", "code": "HN" }, { "dimension": "SEX", "code": "M" }],
                  "patients": released(Value::Null, json!("SMALL_CELL")) },
            ] } });
        let found = tables(&data);
        let paths: Vec<&str> = found.iter().map(|t| t.path.as_str()).collect();
        assert_eq!(paths, ["patientCounts", "patientCounts.groups"]);
        let groups = &found[1];
        assert_eq!(
            groups.columns,
            ["region", "region label", "sex", "patients", "patients precision", "patients rule", "patients margin95"]
        );
        assert_eq!(
            groups.rows[0],
            [json!("HSO"), json!("South-East"), json!("F"), json!(40), json!("PERTURBED"), Value::Null, Value::Null]
        );
        assert_eq!(
            groups.rows[1],
            [json!("HN"), Value::Null, json!("M"), Value::Null, json!("SUPPRESSED"), json!("SMALL_CELL"), Value::Null]
        );
    }

    #[test]
    fn keys_asked_without_their_dimension_are_still_columns() {
        let data = json!({ "patientCounts": { "groups": [
            { "keys": [{ "code": "C1" }, { "code": "F" }], "patients": released(json!(9), Value::Null) },
        ] } });
        let groups = &tables(&data)[0];
        assert_eq!(groups.path, "patientCounts.groups");
        assert_eq!(groups.columns[..3], ["key".to_owned(), "key 2".to_owned(), "patients".to_owned()]);
        assert_eq!(groups.rows[0][..3], [json!("C1"), json!("F"), json!(9)]);
    }

    #[test]
    fn a_nested_list_repeats_its_parents_identifying_columns() {
        let data = json!({ "survival": [
            { "treatmentGroup": "A", "patients": released(json!(30), Value::Null),
              "atRisk": [{ "months": 0, "patients": released(json!(30), Value::Null) }, { "months": 6, "patients": released(json!(12), Value::Null) }] },
            { "treatmentGroup": "B", "patients": released(json!(8), Value::Null), "atRisk": [] },
        ] });
        let found = tables(&data);
        let at_risk = found.iter().find(|t| t.path == "survival.atRisk").expect("the nested table");
        assert_eq!(at_risk.columns[..2], ["treatmentGroup".to_owned(), "months".to_owned()]);
        assert_eq!(at_risk.rows.len(), 2);
        assert_eq!(at_risk.rows[1][..3], [json!("A"), json!(6), json!(12)]);
        let survival = found.iter().find(|t| t.path == "survival").expect("the curves");
        assert_eq!(survival.rows.len(), 2);
    }

    #[test]
    fn files_carry_their_provenance_and_keep_formulas_as_text() {
        let answer = json!({
            "data": { "sites": [{ "name": "=HYPERLINK(\"x\")", "patients": released(Value::Null, json!("SMALL_CELL")) }] },
            "extensions": { "disclosure": { "dataVersion": 7, "policyVersion": "2", "auditRecord": 1234 } },
        });
        let provenance = Provenance::of(&answer);
        assert_eq!(provenance.line(), "data version 7; disclosure policy 2; audit record 1234");
        let found = tables(&answer["data"]);
        let text = String::from_utf8(csv("Sites", &provenance, &found[0])).expect("UTF-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "# data version 7; disclosure policy 2; audit record 1234");
        assert!(lines[4].starts_with("\"'=HYPERLINK(\"\"x\"\")\",\"\",\"SUPPRESSED\",\"SMALL_CELL\""), "{}", lines[4]);
        let bytes = parquet(&provenance, &found[0]).expect("parquet");
        assert!(bytes.starts_with(b"PAR1"));
        assert!(bytes.windows(b"audit_record".len()).any(|w| w == b"audit_record"));
        let workbook = xlsx("Sites", &provenance, &found).expect("xlsx");
        assert!(workbook.starts_with(b"PK"));
    }

    #[test]
    fn sheet_names_are_short_and_unique() {
        let mut taken = Vec::new();
        let long = "cohortMonitoring.clinicalBenefit.something.long";
        let first = sheet_name(long, &mut taken);
        let second = sheet_name(long, &mut taken);
        assert!(first.chars().count() <= 31 && second.chars().count() <= 31);
        assert_ne!(first, second);
        assert_eq!(sheet_name("a/b", &mut taken), "a_b");
    }
}
