//! A request's GraphQL document before execution: which operation it runs and what kind
//! that is, and the one spelling the parser does not accept that the specification
//! allows.
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

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};

use crate::error::ApiError;

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

#[cfg(test)]
mod tests {
    use super::*;

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
