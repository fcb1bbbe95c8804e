//! A request's GraphQL operations before execution, each read once ([`Operation`]):
//! its document, parsed; which operation it runs and what kind that is; the hash of its
//! canonical text (the audit record's `queryHash`, the allow-lists' and the answer
//! cache's key); and the one spelling the parser does not accept that the
//! specification allows. A query text parsed before is not parsed again
//! ([`Documents`]): a question asked again costs a lookup, not a parse.
//!
//! **The operation.** A document with one operation runs it; with several, the request
//! names one in `operationName`. A name the document does not hold, or several
//! operations and no name, is the client's mistake (`OPERATION_RESOLUTION_FAILURE`, as
//! Apollo Server codes it), caught here before anything runs.
//!
//! **Surrogate pairs.** JSON and the GraphQL specification (October 2021 edition, and
//! the escapes clarified since) spell a character outside the Basic Multilingual Plane
//! in a string as a UTF-16 surrogate pair, `"\ud83d\udca5"`; async-graphql's parser
//! rejects each half on its own. [`with_surrogate_pairs_decoded`] writes such pairs in
//! string literals as the character itself, which means the same, before parsing.

use std::borrow::Cow;
use std::sync::Arc;

use async_graphql::parser::parse_query;
use async_graphql::parser::types::{
    Directive, DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection, SelectionSet,
};
use async_graphql::parser::Positioned;
use async_graphql::Name;

use crate::auth::secret::sha256_hex;
use crate::error::ApiError;

/// A query text's document and the hash of its canonical text.
#[derive(Debug)]
struct Parsed {
    document: ExecutableDocument,
    hash: String,
}

/// Bytes of query text whose documents are kept (a document weighs its text's length;
/// the parsed document takes some tens of times as much memory as its text).
const DOCUMENTS_BYTES: u64 = 1024 * 1024;

/// Documents parsed before, by their query text (the least recently used go first).
#[derive(Debug, Clone)]
pub struct Documents(moka::sync::Cache<String, Arc<Parsed>>);

impl Default for Documents {
    fn default() -> Self {
        let weigh = |query: &String, _: &Arc<Parsed>| u32::try_from(query.len()).unwrap_or(u32::MAX);
        Self(moka::sync::Cache::builder().weigher(weigh).max_capacity(DOCUMENTS_BYTES).build())
    }
}

impl Documents {
    /// The document of `query` (none when it does not parse).
    fn parse(&self, query: &str) -> Option<Arc<Parsed>> {
        if let Some(parsed) = self.0.get(query) {
            return Some(parsed);
        }
        let document = parse_query(query).ok()?;
        let parsed = Arc::new(Parsed { hash: hash_of(&document), document });
        self.0.insert(query.to_owned(), Arc::clone(&parsed));
        Some(parsed)
    }
}

/// One operation of a request, read once: its query (surrogate pairs decoded), the
/// document parsed from it (none when it does not parse: it meets that error when it
/// runs), the hash of its canonical text, and what it does.
#[derive(Debug)]
pub struct Operation {
    request: async_graphql::Request,
    document: Option<Arc<Parsed>>,
    /// Hash of the canonical query (see [`hash_of`]).
    pub hash: String,
    /// What the operation does; none when its query does not parse.
    pub kind: Option<Kind>,
}

impl Operation {
    /// Reads `request` (its persisted query resolved already), its document parsed or
    /// found in `documents`.
    ///
    /// # Errors
    ///
    /// `OPERATION_RESOLUTION_FAILURE` when the request does not say which of its
    /// document's operations to run, or names one the document does not hold.
    pub fn read(mut request: async_graphql::Request, documents: &Documents) -> Result<Operation, ApiError> {
        if let Cow::Owned(decoded) = with_surrogate_pairs_decoded(&request.query) {
            request.query = decoded;
        }
        let document = documents.parse(&request.query);
        let (hash, kind) = match &document {
            Some(parsed) => (parsed.hash.clone(), Some(chosen(&parsed.document, request.operation_name.as_deref())?)),
            // It did not parse just now: not parsed a second time for its hash.
            None => (unparsed_hash(&request.query), None),
        };
        Ok(Operation { request, document, hash, kind })
    }

    /// The operation name the request gave.
    pub fn name(&self) -> Option<&str> {
        self.request.operation_name.as_deref()
    }

    /// The variables.
    pub fn variables(&self) -> &async_graphql::Variables {
        &self.request.variables
    }

    /// The request's extensions (persisted query, dry run).
    pub fn extensions(&self) -> &async_graphql::Extensions {
        &self.request.extensions
    }

    /// How many files came with it.
    pub fn files(&self) -> usize {
        self.request.uploads.len()
    }

    /// A request that executes the operation without parsing it again (files left out).
    pub fn executable(&self) -> async_graphql::Request {
        let mut request =
            async_graphql::Request::new(self.request.query.clone()).variables(self.request.variables.clone());
        request.operation_name = self.request.operation_name.clone();
        request.extensions = self.request.extensions.clone();
        if let Some(parsed) = &self.document {
            request.set_parsed_query(parsed.document.clone());
        }
        request
    }

    /// The request with its files, to execute once (a write).
    pub fn into_request(self) -> async_graphql::Request {
        let mut request = self.request;
        if let Some(parsed) = self.document {
            request.set_parsed_query(parsed.document.clone());
        }
        request
    }
}

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Reads (answered over HTTP).
    Query,
    /// Writes (an import).
    Mutation,
    /// A live stream (served over WebSocket only).
    Subscription,
}

impl From<OperationType> for Kind {
    fn from(ty: OperationType) -> Self {
        match ty {
            OperationType::Query => Kind::Query,
            OperationType::Mutation => Kind::Mutation,
            OperationType::Subscription => Kind::Subscription,
        }
    }
}

/// The kind of the operation `name` (or the only one) of `document`; an error when the
/// request does not say which of its operations to run, or names one it does not hold.
pub fn chosen(document: &ExecutableDocument, name: Option<&str>) -> Result<Kind, ApiError> {
    match (&document.operations, name) {
        (DocumentOperations::Single(operation), None) => Ok(operation.node.ty.into()),
        (DocumentOperations::Single(_), Some(name)) => Err(unknown(name)),
        (DocumentOperations::Multiple(operations), Some(name)) => {
            operations.get(name).map(|o| o.node.ty.into()).ok_or_else(|| unknown(name))
        }
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            Ok(operations.values().map(|o| o.node.ty.into()).next().unwrap_or(Kind::Query))
        }
        (DocumentOperations::Multiple(_), None) => Err(ApiError::OperationResolution(
            "the document holds several operations: name the one to run in operationName".into(),
        )),
    }
}

fn unknown(name: &str) -> ApiError {
    let shown: String = name.chars().take(64).collect();
    ApiError::OperationResolution(format!("the document holds no operation named {shown:?}"))
}

/// `query` with every UTF-16 surrogate pair escaped in a string literal
/// (`\uD83D\uDCA5`) written as the character it stands for; everything else, block
/// strings and comments included, as it was.
pub fn with_surrogate_pairs_decoded(query: &str) -> Cow<'_, str> {
    if !query.contains("\\u") && !query.contains("\\U") {
        return Cow::Borrowed(query);
    }
    let bytes = query.as_bytes();
    let mut out = String::with_capacity(query.len());
    let (mut i, mut copied) = (0, 0);
    let (mut in_string, mut in_block, mut in_comment) = (false, false, false);
    while i < bytes.len() {
        let rest = &query[i..];
        if in_comment {
            in_comment = bytes[i] != b'\n' && bytes[i] != b'\r';
        } else if in_block {
            if rest.starts_with("\\\"\"\"") {
                i += 4;
                continue;
            }
            if rest.starts_with("\"\"\"") {
                in_block = false;
                i += 3;
                continue;
            }
        } else if in_string {
            match bytes[i] {
                b'"' => in_string = false,
                b'\\' => {
                    if let Some((character, length)) = surrogate_pair(rest) {
                        out.push_str(&query[copied..i]);
                        out.push(character);
                        i += length;
                        copied = i;
                        continue;
                    }
                    // Any other escape: skip the escaped character.
                    i += 1;
                }
                _ => {}
            }
        } else if rest.starts_with("\"\"\"") {
            in_block = true;
            i += 3;
            continue;
        } else if bytes[i] == b'"' {
            in_string = true;
        } else if bytes[i] == b'#' {
            in_comment = true;
        }
        i += 1;
    }
    if copied == 0 {
        return Cow::Borrowed(query);
    }
    out.push_str(&query[copied..]);
    Cow::Owned(out)
}

/// The character of a surrogate pair escape at the start of `text`, and its length.
fn surrogate_pair(text: &str) -> Option<(char, usize)> {
    let unit = |at: usize| {
        let escape = text.get(at..at + 6)?;
        let hex = escape.strip_prefix("\\u").or_else(|| escape.strip_prefix("\\U"))?;
        u16::from_str_radix(hex, 16).ok()
    };
    let (high, low) = (unit(0)?, unit(6)?);
    char::decode_utf16([high, low]).next()?.ok().filter(|_| (0xD800..0xDC00).contains(&high)).map(|c| (c, 12))
}

/// Hash of a query's text in its canonical form (see [`normalised`]), so layout and
/// comments do not make two identical questions look different while any difference
/// of content, strings included, does. Text that does not parse is hashed with only its
/// whitespace runs collapsed.
pub fn query_hash(query: &str) -> String {
    let decoded = with_surrogate_pairs_decoded(query);
    match parse_query(decoded.as_ref()) {
        Ok(document) => hash_of(&document),
        Err(_) => unparsed_hash(query),
    }
}

/// Hash of a query that does not parse: its text with runs of whitespace as one space.
fn unparsed_hash(query: &str) -> String {
    sha256_hex(query.split_whitespace().collect::<Vec<_>>().join(" ").as_bytes())
}

/// Hash of variables as canonical JSON (object keys sorted).
pub fn variables_hash(variables: &serde_json::Value) -> String {
    sha256_hex(variables.to_string().as_bytes())
}

/// Hash of a parsed document in its canonical form.
pub fn hash_of(document: &ExecutableDocument) -> String {
    sha256_hex(normalised(document).as_bytes())
}

/// A document printed back canonically: no comments, one space between tokens,
/// operations and fragments in name order.
pub fn normalised(document: &ExecutableDocument) -> String {
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
            normalised(&parse_query(query).expect("parses")),
            "query Q($f: PatientFilter = {sexes: [FEMALE]}) @a { x: funnel(filter: $f) { ...F ... on Funnel { steps } } } fragment F on Funnel { steps { population } }"
        );
    }

    #[test]
    fn surrogate_pairs_in_strings_become_their_character() {
        let query = r#"{ a(x: "boom \ud83d\udca5 and \u00e9") }"#;
        assert_eq!(with_surrogate_pairs_decoded(query), "{ a(x: \"boom 💥 and \\u00e9\") }");
        // Block strings and comments keep their text; an escaped quote does not end a string.
        let untouched = "{ a(x: \"\"\"\\ud83d\\udca5\"\"\") } # \\ud83d\\udca5";
        assert_eq!(with_surrogate_pairs_decoded(untouched), untouched);
        let quoted = r#"{ a(x: "say \"\ud83d\udca5\"") }"#;
        assert_eq!(with_surrogate_pairs_decoded(quoted), "{ a(x: \"say \\\"💥\\\"\") }");
        // A lone half stays for the parser to refuse.
        assert_eq!(with_surrogate_pairs_decoded(r#"{ a(x: "\ud83d") }"#), r#"{ a(x: "\ud83d") }"#);
    }

    #[test]
    fn the_operation_run_is_the_only_one_or_the_one_named() {
        let parse = |q: &str| async_graphql::parser::parse_query(q).expect("parses");
        let two = parse("query A { a } mutation B { b }");
        assert_eq!(chosen(&two, Some("B")).ok(), Some(Kind::Mutation));
        assert!(matches!(chosen(&two, None), Err(ApiError::OperationResolution(_))));
        assert!(matches!(chosen(&two, Some("C")), Err(ApiError::OperationResolution(_))));
        assert_eq!(chosen(&parse("subscription { s }"), None).ok(), Some(Kind::Subscription));
        assert!(matches!(chosen(&parse("{ a }"), Some("A")), Err(ApiError::OperationResolution(_))));
    }
}
