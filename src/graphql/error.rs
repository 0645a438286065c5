//! How [`AppError`] becomes a GraphQL error: the message, plus
//! `extensions.code` from the design's code table.

use async_graphql::{ErrorExtensions, Response, ServerError};

use crate::error::{AppError, ErrorCode};

impl ErrorExtensions for AppError {
    fn extend(&self) -> async_graphql::Error {
        async_graphql::Error::new(self.to_string()).extend_with(|_, ext| {
            ext.set("code", self.code().as_str());
            if let Some(retry_after) = self.retry_after() {
                ext.set("retryAfter", retry_after);
            }
        })
    }
}

/// Converts service results for resolvers, logging internal causes once.
pub trait GqlResultExt<T> {
    /// The result with its error turned into a coded GraphQL error.
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> GqlResultExt<T> for Result<T, AppError> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|err| {
            err.log_if_internal();
            err.extend()
        })
    }
}

/// A response carrying only `err`, for failures before (or instead of)
/// execution.
pub(crate) fn error_only(err: &AppError) -> Response {
    let mut error = ServerError::new(err.to_string(), None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", err.code().as_str());
    Response::from_errors(vec![error])
}

/// Errors one answer carries at most: past them, one error says how many
/// more there were (each error is priced, but aliases of failing fields
/// could still fill an answer with them).
pub const MAX_ERRORS: usize = 100;

/// What every executed response goes through before it is sent: errors
/// capped at [`MAX_ERRORS`], and each given a code.
pub(crate) fn finish(response: &mut Response) {
    if response.errors.len() > MAX_ERRORS {
        let left_out = response.errors.split_off(MAX_ERRORS - 1);
        let code = left_out.first().and_then(code_of);
        let mut summary = ServerError::new(
            format!("{} more errors left out of this answer", left_out.len()),
            None,
        );
        if let Some(code) = code {
            summary
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", code.as_str());
        }
        response.errors.push(summary);
    }
    fill_missing_codes(response);
}

/// Errors raised by async-graphql itself (parse errors, validation, input
/// coercion, limits) carry no code; they are all the client's input.
fn fill_missing_codes(response: &mut Response) {
    for error in &mut response.errors {
        if code_of(error).is_none() {
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", ErrorCode::InvalidParameter.as_str());
        }
    }
}

/// The code of a GraphQL error, if it has one the gateway knows.
pub fn code_of(error: &ServerError) -> Option<ErrorCode> {
    match error.extensions.as_ref()?.get("code")? {
        async_graphql::Value::String(code) => ErrorCode::parse(code),
        _ => None,
    }
}
