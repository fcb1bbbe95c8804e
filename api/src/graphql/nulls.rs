//! Errors null their field, and a non-null field's error nulls its parent, as the
//! GraphQL specification asks (October 2021, "Handling Field Errors"): async-graphql
//! leaves a failed field out of `data` instead, so a client cannot tell a field that
//! failed from one it did not ask for, and a failed non-null field leaves its parent
//! looking complete.
//!
//! After execution, for every error with a path, the value at the deepest position of
//! that path whose type is nullable is set to null (the error's field itself, or an
//! ancestor field or list item); when no position up to the root is nullable, `data`
//! is null. The types come from the schema's registry, the response keys (aliases) are
//! mapped to fields through the operation's document, captured when it is parsed.

use std::sync::{Arc, Mutex};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::{PathSegment, Response, ServerResult, Value, Variables};

/// The extension factory.
#[derive(Debug, Clone, Copy)]
pub struct NullPropagation;

impl ExtensionFactory for NullPropagation {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Propagate { document: Mutex::new(None) })
    }
}

struct Propagate {
    document: Mutex<Option<ExecutableDocument>>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for Propagate {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if let Ok(mut kept) = self.document.lock() {
            *kept = Some(document.clone());
        }
        Ok(document)
    }

    async fn execute(&self, ctx: &ExtensionContext<'_>, operation: Option<&str>, next: NextExecute<'_>) -> Response {
        let mut response = next.run(ctx, operation).await;
        let document = self.document.lock().ok().and_then(|mut kept| kept.take());
        if let Some(document) = document {
            let registry = &ctx.schema_env.registry;
            let paths: Vec<Vec<PathSegment>> =
                response.errors.iter().filter(|e| !e.path.is_empty()).map(|e| e.path.clone()).collect();
            for path in paths {
                if let Some(nullable) = nullable_prefix(registry, &document, operation, &path) {
                    null_at(&mut response.data, &path[..nullable]);
                } else {
                    response.data = Value::Null;
                }
            }
        }
        response
    }
}

/// A GraphQL type as written in the registry (`[Group!]!`).
#[derive(Debug, PartialEq)]
enum Shape<'a> {
    Named(&'a str, bool),
    List(Box<Shape<'a>>, bool),
}

impl<'a> Shape<'a> {
    fn parse(ty: &'a str) -> Shape<'a> {
        let (inner, non_null) = match ty.strip_suffix('!') {
            Some(inner) => (inner, true),
            None => (ty, false),
        };
        match inner.strip_prefix('[').and_then(|i| i.strip_suffix(']')) {
            Some(item) => Shape::List(Box::new(Shape::parse(item)), non_null),
            None => Shape::Named(inner, non_null),
        }
    }

    fn non_null(&self) -> bool {
        match self {
            Shape::Named(_, non_null) | Shape::List(_, non_null) => *non_null,
        }
    }
}

/// The length of the longest prefix of `path` ending at a nullable position (a field or
/// a list item); `None` when every position is non-null.
fn nullable_prefix(
    registry: &Registry,
    document: &ExecutableDocument,
    operation: Option<&str>,
    path: &[PathSegment],
) -> Option<usize> {
    let (root, selections) = match (&document.operations, operation) {
        (DocumentOperations::Single(op), _) => (op.node.ty, vec![&op.node.selection_set.node]),
        (DocumentOperations::Multiple(ops), Some(name)) => {
            let op = ops.get(name)?;
            (op.node.ty, vec![&op.node.selection_set.node])
        }
        (DocumentOperations::Multiple(ops), None) => {
            let op = ops.values().next()?;
            (op.node.ty, vec![&op.node.selection_set.node])
        }
    };
    let root_type = match root {
        async_graphql::parser::types::OperationType::Mutation => registry.mutation_type.as_deref()?,
        _ => registry.query_type.as_str(),
    };
    let mut nullable = Vec::with_capacity(path.len());
    let (mut parent, mut selections) = (root_type.to_owned(), selections);
    let mut shape: Option<Shape<'_>> = None;
    for segment in path {
        match segment {
            PathSegment::Field(key) => {
                let (name, below) = field_of(document, &selections, key)?;
                let field = registry.types.get(&parent)?.field_by_name(&name)?;
                let parsed = Shape::parse(&field.ty);
                nullable.push(!parsed.non_null());
                selections = below;
                parent = named(&parsed).to_owned();
                shape = Some(parsed);
            }
            PathSegment::Index(_) => {
                let Some(Shape::List(item, _)) = shape else { return None };
                nullable.push(!item.non_null());
                shape = Some(*item);
            }
        }
    }
    nullable.iter().rposition(|n| *n).map(|at| at + 1)
}

fn named<'a>(shape: &Shape<'a>) -> &'a str {
    match shape {
        Shape::Named(name, _) => name,
        Shape::List(item, _) => named(item),
    }
}

/// The field name behind response key `key` in `selections`, and the selections below
/// every field of that key (fragments followed).
fn field_of<'d>(
    document: &'d ExecutableDocument,
    selections: &[&'d SelectionSet],
    key: &str,
) -> Option<(String, Vec<&'d SelectionSet>)> {
    let mut name = None;
    let mut below = Vec::new();
    let mut pending: Vec<&SelectionSet> = selections.to_vec();
    while let Some(set) = pending.pop() {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) if field.node.response_key().node.as_str() == key => {
                    name = Some(field.node.name.node.to_string());
                    below.push(&field.node.selection_set.node);
                }
                Selection::Field(_) => {}
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) {
                        pending.push(&fragment.node.selection_set.node);
                    }
                }
                Selection::InlineFragment(inline) => pending.push(&inline.node.selection_set.node),
            }
        }
    }
    name.map(|name| (name, below))
}

/// Sets the value at `path` in `data` to null (a key left out is put back as null).
fn null_at(data: &mut Value, path: &[PathSegment]) {
    let Some((last, parents)) = path.split_last() else {
        *data = Value::Null;
        return;
    };
    let mut at = data;
    for segment in parents {
        at = match (segment, at) {
            (PathSegment::Field(key), Value::Object(fields)) => match fields.get_mut(key.as_str()) {
                Some(value) => value,
                None => return,
            },
            (PathSegment::Index(index), Value::List(items)) => match items.get_mut(*index) {
                Some(value) => value,
                None => return,
            },
            // An ancestor is null already: nothing below it to null.
            _ => return,
        };
    }
    match (last, at) {
        (PathSegment::Field(key), Value::Object(fields)) => {
            fields.insert(async_graphql::Name::new(key), Value::Null);
        }
        (PathSegment::Index(index), Value::List(items)) => {
            if let Some(item) = items.get_mut(*index) {
                *item = Value::Null;
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema, SimpleObject};

    use super::*;
    use crate::error::ApiError;

    #[derive(SimpleObject)]
    struct Inner {
        ok: i32,
    }

    struct Root;

    #[Object]
    impl Root {
        async fn fine(&self) -> i32 {
            1
        }
        async fn required(&self) -> async_graphql::Result<i32> {
            Err(ApiError::BadUserInput("no".into()).into())
        }
        async fn optional(&self) -> async_graphql::Result<Option<i32>> {
            Err(ApiError::NotFound("no".into()).into())
        }
        async fn nested(&self) -> Option<Holder> {
            Some(Holder)
        }
        async fn items(&self) -> Vec<Option<Holder>> {
            vec![Some(Holder), Some(Holder)]
        }
    }

    struct Holder;

    #[Object]
    impl Holder {
        async fn inner(&self) -> Inner {
            Inner { ok: 1 }
        }
        async fn broken(&self) -> async_graphql::Result<Inner> {
            Err(ApiError::BadUserInput("no".into()).into())
        }
    }

    async fn data(query: &str) -> serde_json::Value {
        let schema = Schema::build(Root, EmptyMutation, EmptySubscription).extension(NullPropagation).finish();
        schema.execute(query).await.data.into_json().unwrap_or_default()
    }

    #[tokio::test]
    async fn a_failed_field_is_null_and_a_failed_non_null_field_nulls_its_parent() {
        assert_eq!(data("{ fine optional }").await, serde_json::json!({ "fine": 1, "optional": null }));
        assert_eq!(data("{ fine required }").await, serde_json::Value::Null);
        assert_eq!(
            data("{ fine nested { inner { ok } broken { ok } } }").await,
            serde_json::json!({ "fine": 1, "nested": null })
        );
        assert_eq!(
            data("{ list: items { ... on Holder { b: broken { ok } } } }").await,
            serde_json::json!({ "list": [null, null] })
        );
    }

    #[test]
    fn types_are_read_with_their_nullability() {
        let shape = Shape::parse("[Group!]!");
        assert_eq!(shape, Shape::List(Box::new(Shape::Named("Group", true)), true));
        assert_eq!(named(&shape), "Group");
    }
}
