//! Gives every error a client sees a stable `extensions.code`, and enforces the query
//! limits with errors of our own.
//!
//! Our resolvers set codes through [`crate::error::ApiError`], and input that only a
//! resolver can check (a malformed date) carries its code from where it is parsed. What
//! async-graphql raises itself is coded by phase: a query that does not parse is
//! `GRAPHQL_PARSE_FAILED`, one that does not validate `GRAPHQL_VALIDATION_FAILED`. The
//! depth and complexity limits are checked here, on the numbers validation computed
//! (not by async-graphql, whose limit errors differ from other validation errors only in
//! their English text), and the complexity of a batch's operations is limited together.
//!
//! Anything else without a code is a bug (a bare `?` on a foreign error would otherwise
//! ship its message as if the caller were at fault): it is logged and the client gets
//! `INTERNAL` with a generic message. Every message is cut to [`MESSAGE_LIMIT`].

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextRequest, NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Response, ServerError, ServerResult, ValidationResult, Value, Variables};
use consortium_analytics::error::echo;

use crate::error::{ApiError, Code};
use crate::pipeline::context::RequestContext;

/// Longest error message sent, in characters (values inside are cut shorter still).
pub const MESSAGE_LIMIT: usize = 300;

/// The extension factory.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodesExtension)
    }
}

struct ErrorCodesExtension;

fn code_of(error: &ServerError) -> Option<&Value> {
    error.extensions.as_ref().and_then(|e| e.get("code"))
}

fn with_code(mut error: ServerError, code: Code) -> ServerError {
    if code_of(&error).is_none() {
        error.extensions.get_or_insert_with(Default::default).set("code", Value::from(code.as_str()));
    }
    error
}

/// The error as a client may see it: coded, or else `INTERNAL`; never overlong.
fn finished(mut error: ServerError) -> ServerError {
    if code_of(&error).is_none() {
        tracing::error!(cause = %echo(&error.message), path = ?error.path, "error without a code");
        error.message = ApiError::Internal(String::new()).message().to_owned();
        error = with_code(error, Code::Internal);
    }
    if error.message.chars().count() > MESSAGE_LIMIT {
        error.message = error.message.chars().take(MESSAGE_LIMIT).chain(['…']).collect();
    }
    error
}

#[async_graphql::async_trait::async_trait]
impl Extension for ErrorCodesExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        response.errors = response.errors.into_iter().map(finished).collect();
        response
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables).await.map_err(|e| with_code(e, Code::ParseFailed))
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| errors.into_iter().map(|e| with_code(e, Code::ValidationFailed)).collect())
    }
}

/// The depth and complexity limits, per operation and (complexity) per HTTP request.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest selection allowed.
    pub max_depth: usize,
    /// Most complexity allowed in one operation, and in all operations of a batch.
    pub max_complexity: usize,
}

impl ExtensionFactory for Limits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(*self)
    }
}

fn too_complex(message: String) -> Vec<ServerError> {
    vec![ApiError::TooComplex(message).into_server_error()]
}

#[async_graphql::async_trait::async_trait]
impl Extension for Limits {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        if result.depth > self.max_depth {
            return Err(too_complex(format!(
                "the query is nested {} deep; at most {} is allowed",
                result.depth, self.max_depth
            )));
        }
        if result.complexity > self.max_complexity {
            return Err(too_complex(format!(
                "the query's complexity is {}; at most {} is allowed",
                result.complexity, self.max_complexity
            )));
        }
        if let Some(request) = ctx.data_opt::<Arc<RequestContext>>().filter(|r| !r.is_publishing()) {
            let total = request.add_complexity(result.complexity);
            if total > self.max_complexity {
                return Err(too_complex(format!(
                    "the batch's operations together have complexity {total}; at most {} is allowed",
                    self.max_complexity
                )));
            }
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};

    use super::*;

    struct Buggy;

    #[Object]
    impl Buggy {
        /// Fails with a foreign error through a bare `?`, as a bug would.
        async fn broken(&self) -> async_graphql::Result<i32> {
            let number: i32 = "password=hunter2".parse()?;
            Ok(number)
        }

        /// Fails with a coded error.
        async fn refused(&self) -> async_graphql::Result<i32> {
            Err(ApiError::Forbidden("no".into()).into())
        }
    }

    async fn run(query: &str) -> Vec<ServerError> {
        let schema = Schema::build(Buggy, EmptyMutation, EmptySubscription)
            .extension(ErrorCodes)
            .extension(Limits { max_depth: 3, max_complexity: 1 })
            .finish();
        schema.execute(query).await.errors
    }

    fn code(error: &ServerError) -> Option<String> {
        match code_of(error) {
            Some(Value::String(code)) => Some(code.clone()),
            _ => None,
        }
    }

    #[tokio::test]
    async fn an_error_without_a_code_is_internal_and_its_cause_stays_in_the_log() {
        let errors = run("{ broken }").await;
        assert_eq!(errors.len(), 1);
        assert_eq!(code(&errors[0]).as_deref(), Some("INTERNAL"));
        assert_eq!(errors[0].message, "internal error");
        let refused = run("{ refused }").await;
        assert_eq!(code(&refused[0]).as_deref(), Some("FORBIDDEN"));
    }

    #[tokio::test]
    async fn limits_and_validation_get_codes_by_phase() {
        assert_eq!(code(&run("{ broken refused }").await[0]).as_deref(), Some("QUERY_TOO_COMPLEX"));
        assert_eq!(code(&run("{ nothing }").await[0]).as_deref(), Some("GRAPHQL_VALIDATION_FAILED"));
        assert_eq!(code(&run("{ broken ").await[0]).as_deref(), Some("GRAPHQL_PARSE_FAILED"));
    }
}
