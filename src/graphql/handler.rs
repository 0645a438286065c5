//! `/graphql` over HTTP, as the GraphQL-over-HTTP specification has it.
//!
//! - POST executes one request. A body not declared `application/json` is
//!   refused with 415 before it is read (so a cross-site HTML form, which can
//!   only send `text/plain`, `application/x-www-form-urlencoded` or
//!   `multipart/form-data`, never reaches a resolver); batches are refused;
//!   the body is read with a size cap before parsing.
//! - GET with `query` or `extensions` in the query string executes a query
//!   (never a mutation: 405), typically a persisted one, and answers with an
//!   `ETag` (304 on `If-None-Match`). GET without them serves the playground.
//! - Answers are `application/graphql-response+json` when the client accepts
//!   it, else `application/json`. A request that never executed (unparsable,
//!   invalid, variables that do not fit) answers errors only, without a `data`
//!   entry: 400 under `application/graphql-response+json`, 200 under
//!   `application/json` (where older clients expect 200).
//! - Automatic persisted queries (see [`super::persisted`]) work over both.

use async_graphql::{Request, Response as GqlResponse, ServerError, Variables};
use axum::{
    body::{Body, Bytes},
    extract::{RawQuery, State, rejection::BytesRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{
    Executor, RequestMeta,
    budget::{HeavyTurn, HeldBody},
    check_query_size,
    persisted::Persisted,
    plain,
    reuse::{self, Answers, Dependencies},
};
use crate::{auth::Auth, conditional, error::AppError};

/// Largest GraphQL request body accepted.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The media type of GraphQL responses.
const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// How an answer is written, from the request's `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Media {
    /// `application/json`: every executed request answers 200.
    Json,
    /// `application/graphql-response+json`: request errors answer 4xx.
    GraphqlResponse,
}

impl Media {
    fn of(headers: &HeaderMap) -> Media {
        let accepts_graphql_response = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .any(|item| {
                let mut parts = item.split(';');
                let media_type = parts.next().unwrap_or_default().trim();
                // `q=0` means "not acceptable".
                let refused = parts.any(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                        .is_some_and(|q| q <= 0.0)
                });
                media_type.eq_ignore_ascii_case(GRAPHQL_RESPONSE) && !refused
            });
        if accepts_graphql_response {
            Media::GraphqlResponse
        } else {
            Media::Json
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Media::Json => "application/json",
            Media::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
        }
    }
}

/// Executes a GraphQL request sent by POST.
pub async fn graphql_post(
    State(executor): State<Executor>,
    meta: RequestMeta,
    auth: Auth,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let media = Media::of(&headers);
    if !declares_json(&headers) {
        return error_answer(media, &AppError::UnsupportedMediaType);
    }
    let request = match body {
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return error_answer(media, &AppError::PayloadTooLarge(MAX_BODY_BYTES));
        }
        Err(rejection) => {
            return error_answer(media, &AppError::invalid("body", rejection.body_text()));
        }
        Ok(body) => match parse_request(&body) {
            Ok(request) => request,
            Err(err) => return error_answer(media, &err),
        },
    };
    let request = match with_query(&executor, media, &auth, request) {
        Ok(request) => request,
        Err(refused) => return *refused,
    };
    run(&executor, media, meta, auth, &headers, request).await.0
}

/// `request` with its query text: the persisted query its hash names filled
/// in (for signed-in callers only), and the text's length checked; else the answer that refuses it.
fn with_query(
    executor: &Executor,
    media: Media,
    auth: &Auth,
    request: Request,
) -> Result<Request, Box<Response>> {
    let signed_in = auth.viewer().is_ok();
    let request = match executor.persisted().resolve(request, signed_in) {
        Ok(Persisted::Ready(request)) => *request,
        Ok(Persisted::NotFound) => return Err(Box::new(persisted_query_not_found(media))),
        Err(err) => return Err(Box::new(error_answer(media, &err))),
    };
    check_query_size(&request).map_err(|err| Box::new(error_answer(media, &err)))?;
    Ok(request)
}

/// Executes `request`, or answers it with the bytes of an identical earlier
/// request when nothing it read has changed since (see [`super::reuse`]).
/// Returns the answer and, for a normal answer, its body.
async fn run(
    executor: &Executor,
    media: Media,
    meta: RequestMeta,
    auth: Auth,
    headers: &HeaderMap,
    request: Request,
) -> (Response, Option<Bytes>) {
    let no_cache = headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.to_ascii_lowercase().contains("no-cache"));
    let key = auth
        .viewer()
        .ok()
        .filter(|_| !no_cache)
        .and_then(|viewer| Answers::key(&request, &viewer.scope_key(), media.content_type()));
    let clusters = &executor.state().clusters;
    let answers = executor.answers();
    let reused = |body: Bytes| {
        executor.state().metrics.graphql_answer_reused();
        let response = (
            StatusCode::OK,
            [(header::CONTENT_TYPE, media.content_type())],
            body.clone(),
        )
            .into_response();
        (response, Some(body))
    };
    if let Some(body) = key.as_deref().and_then(|key| answers.get(key, clusters)) {
        return reused(body);
    }
    let keep = key.filter(|_| reuse::reads_caches_only(executor.documents(), &request));
    // Identical requests that miss together execute once; the others then
    // find the answer kept.
    let _turn = match &keep {
        Some(key) => {
            let turn = answers.turn(key).await;
            if let Some(body) = answers.get(key, clusters) {
                return reused(body);
            }
            Some(turn)
        }
        None => None,
    };
    let read = Dependencies::default();
    let turn = HeavyTurn::default();
    // This transport serialises the answer itself (see `answer`), so lists of
    // pods may come as JSON text already written.
    let request = request.data(plain::WrittenJson);
    let response = executor
        .execute_recording(meta, auth, request, read.clone(), turn.clone())
        .await;
    let (mut answer, body) = answer(executor, media, &response);
    // A heavy answer keeps its turn until it is sent.
    if let Some(body) = body.as_ref().filter(|_| turn.taken()) {
        *answer.body_mut() = Body::new(HeldBody::new(body.clone(), turn));
    }
    if let (Some(key), Some(body)) = (keep, &body)
        && response.errors.is_empty()
    {
        executor.answers().put(key, &read, body.clone());
    }
    (answer, body)
}

/// The query string of a GraphQL GET request.
#[derive(Debug, Deserialize)]
struct GetParams {
    query: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

/// `GET /graphql`: executes the query in the query string (a persisted one,
/// typically) with an `ETag`, or serves the playground when there is none.
pub async fn graphql_get(
    State(executor): State<Executor>,
    meta: RequestMeta,
    auth: Auth,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some(raw) = raw.filter(|raw| {
        raw.split('&')
            .any(|pair| pair.starts_with("query=") || pair.starts_with("extensions="))
    }) else {
        return crate::web::page();
    };
    let media = Media::of(&headers);
    let request = match read_get(&raw) {
        Ok(request) => request,
        Err(err) => return error_answer(media, &err),
    };
    let request = match with_query(&executor, media, &auth, request) {
        Ok(request) => request,
        Err(refused) => return *refused,
    };
    if changes_something(&executor, &request) {
        let mut refused = error_answer(
            media,
            &AppError::MethodNotAllowed("GET for a mutation or subscription".into()),
        );
        *refused.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        refused
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return refused;
    }
    let (mut answer, body) = run(&executor, media, meta, auth, &headers, request).await;
    let Some(body) = body else {
        return answer;
    };
    let etag = format!("\"{}\"", &super::persisted::sha256_hex_bytes(&body)[..32]);
    // The answer was just executed, so it exists: `*` matches it.
    let any = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|value| value.as_bytes().trim_ascii() == b"*");
    if conditional::not_modified(&headers, &etag) || any {
        answer = conditional::not_modified_response(&etag);
    } else if let Ok(value) = HeaderValue::from_str(&etag) {
        answer.headers_mut().insert(header::ETAG, value);
    }
    // The answer depends on the token: shared caches must not keep it.
    let headers = answer.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Authorization, Accept"),
    );
    answer
}

/// The request in a GET query string (`+` read as a space, as forms send it).
fn read_get(raw: &str) -> Result<Request, AppError> {
    let params: GetParams = serde_urlencoded::from_str(raw)
        .map_err(|e| AppError::invalid("query string", e.to_string()))?;
    let mut request = Request::new(params.query.unwrap_or_default());
    request.operation_name = params.operation_name;
    if let Some(variables) = params.variables.filter(|v| !v.is_empty()) {
        let variables: serde_json::Value = serde_json::from_str(&variables)
            .map_err(|e| AppError::invalid("variables", format!("not valid JSON: {e}")))?;
        if !variables.is_object() && !variables.is_null() {
            return Err(AppError::invalid("variables", "must be an object"));
        }
        request.variables = Variables::from_json(variables);
    }
    if let Some(extensions) = params.extensions.filter(|e| !e.is_empty()) {
        request.extensions = serde_json::from_str(&extensions)
            .map_err(|e| AppError::invalid("extensions", format!("not a JSON object: {e}")))?;
    }
    needs_query(&request)?;
    Ok(request)
}

/// Whether the operation a request would run is a mutation or a subscription
/// (a document that does not parse is left to execution to refuse).
fn changes_something(executor: &Executor, request: &Request) -> bool {
    super::selected_operation(executor.documents(), request, |operation| {
        operation.ty != async_graphql::parser::types::OperationType::Query
    })
    .unwrap_or(false)
}

/// Whether the request's `Content-Type` is `application/json` (any case,
/// parameters such as `charset` allowed).
fn declares_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media_type| media_type.trim().eq_ignore_ascii_case("application/json"))
}

fn parse_request(body: &[u8]) -> Result<Request, AppError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| AppError::invalid("body", format!("not valid JSON: {e}")))?;
    if value.is_array() {
        return Err(AppError::invalid(
            "body",
            "batched requests are not supported",
        ));
    }
    let request: Request = serde_json::from_value(value)
        .map_err(|e| AppError::invalid("body", format!("not a GraphQL request: {e}")))?;
    check_query_size(&request)?;
    needs_query(&request)?;
    Ok(request)
}

/// A request names its query: by text, or by a persisted query's hash.
fn needs_query(request: &Request) -> Result<(), AppError> {
    if request.query.is_empty() && !request.extensions.0.contains_key("persistedQuery") {
        return Err(AppError::invalid(
            "query",
            "missing: send the query text (or a persisted query's hash)",
        ));
    }
    Ok(())
}

/// Whether a response is a request error: nothing executed (no data, and no
/// error points into a result).
fn never_executed(response: &GqlResponse) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|error| error.path.is_empty())
}

/// The HTTP answer of an executed request, and its body when it is a normal
/// answer (for an ETag). Answers over `OSP_MAX_RESPONSE_BYTES` are replaced
/// by that error.
fn answer(executor: &Executor, media: Media, response: &GqlResponse) -> (Response, Option<Bytes>) {
    let limit = executor.state().config.max_response_bytes;
    if never_executed(response) {
        let status = match media {
            Media::Json => StatusCode::OK,
            Media::GraphqlResponse => StatusCode::BAD_REQUEST,
        };
        return (errors_only(media, status, &response.errors), None);
    }
    match plain::response_json(response) {
        // Fields that return pods were refused before they were built when
        // their estimate was over the cap; this holds any answer to it.
        Ok(body) if body.len() as u64 > limit => {
            let err = AppError::ResponseTooLarge {
                estimate: body.len() as u64,
                limit,
            };
            // An executed request: 200 under application/json, as ever.
            let status = match media {
                Media::Json => StatusCode::OK,
                Media::GraphqlResponse => err.status(),
            };
            let errors = super::error::error_only(&err).errors;
            (errors_only(media, status, &errors), None)
        }
        Ok(body) => {
            let body = Bytes::from(body);
            let response = (
                StatusCode::OK,
                [(header::CONTENT_TYPE, media.content_type())],
                body.clone(),
            )
                .into_response();
            (response, Some(body))
        }
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR.into_response(), None),
    }
}

/// Errors only, without a `data` entry.
fn errors_only(media: Media, status: StatusCode, errors: &[ServerError]) -> Response {
    match serde_json::to_vec(&serde_json::json!({ "errors": errors })) {
        Ok(body) => (status, [(header::CONTENT_TYPE, media.content_type())], body).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The answer Apollo clients expect for a hash they must send the text of:
/// 200 whatever the media type, so every client version retries with it.
fn persisted_query_not_found(media: Media) -> Response {
    let mut error = ServerError::new("PersistedQueryNotFound", None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", "PERSISTED_QUERY_NOT_FOUND");
    errors_only(media, StatusCode::OK, &[error])
}

fn error_answer(media: Media, err: &AppError) -> Response {
    let errors = super::error::error_only(err).errors;
    errors_only(media, err.status(), &errors)
}

/// An error in GraphQL's response shape, for failures before execution (or
/// instead of it, such as the request timeout): `errors` only, with no `data`
/// entry, as GraphQL over HTTP has it for requests that never executed.
pub fn error_response(err: &AppError) -> Response {
    error_answer(Media::Json, err)
}
