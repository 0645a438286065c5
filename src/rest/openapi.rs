//! The OpenAPI 3.1 document of `/osp/api`, generated from the handlers.
//!
//! Each handler carries its `#[utoipa::path]` (method, path, parameters, body,
//! answers), and the router is built from those same annotations
//! (`utoipa_axum::routes!`), so a route cannot be served without being
//! documented, nor documented without being served. Bodies are described by
//! the types the handlers build; the error answers of each route are listed
//! here, one response per HTTP status naming the codes it can carry.

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Extension,
    http::header,
    response::{IntoResponse, Response},
};
use utoipa::{
    IntoResponses, Modify, OpenApi,
    openapi::{
        ContentBuilder, Ref, RefOr, ResponseBuilder,
        response::Response as ApiResponse,
        schema::{AllOfBuilder, AnyOfBuilder, ObjectBuilder, Type},
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

use super::{envelope::ErrorEnvelope, users::UpdateUserRequest};
use crate::error::ErrorCode;

/// Where the REST API is mounted; the document's paths start with it.
pub const PREFIX: &str = "/osp/api";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "OSP Gateway REST API",
        description = "The legacy REST API of OSP Gateway. Every route runs a fixed GraphQL \
            document against the gateway's schema and wraps the result in the \
            `{code, msg, data}` envelope. All routes but login (and this document) need \
            `Authorization: Bearer <token>`; get a token from `POST /osp/api/login`."
    ),
    tags(
        (name = "users", description = "Signing in and managing users"),
        (name = "pods", description = "Pods of the configured Kubernetes clusters"),
        (name = "meta", description = "This document"),
    ),
    components(schemas(ErrorEnvelope)),
    modifiers(&BearerScheme),
    security(("bearer" = [])),
)]
struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("A token from `POST /osp/api/login`."))
                    .build(),
            ),
        );
    }
}

/// The whole document: the handlers' paths (as routed, relative to [`PREFIX`])
/// under [`PREFIX`], with the shared components.
pub fn document(paths: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let mut document = ApiDoc::openapi().nest(PREFIX, paths);
    require_a_change(&mut document);
    document
}

/// A change of user must give at least one of its fields, and not as `null`
/// (which means "unchanged"): a rule a derived object schema cannot state.
fn require_a_change(document: &mut utoipa::openapi::OpenApi) {
    let Some(schemas) = document.components.as_mut().map(|c| &mut c.schemas) else {
        return;
    };
    let Some(fields) = schemas.remove("UpdateUserRequest") else {
        return;
    };
    let one_given = UpdateUserRequest::FIELDS
        .iter()
        .fold(AnyOfBuilder::new(), |any, field| {
            any.item(
                ObjectBuilder::new()
                    .property(*field, ObjectBuilder::new().schema_type(Type::String))
                    .required(*field),
            )
        });
    let schema = AllOfBuilder::new()
        .description(Some(
            "What to change: at least one field, not null (null means unchanged).",
        ))
        .item(fields)
        .item(one_given);
    schemas.insert("UpdateUserRequest".to_owned(), schema.into());
}

/// The serialized document, prepared once when the router is built.
#[derive(Clone)]
pub struct Document(pub Arc<String>);

/// `GET /osp/api/openapi.json`: this document (no token needed).
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    operation_id = "openapi",
    security(()),
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of /osp/api.",
            content_type = "application/json", body = serde_json::Value),
        DocumentErrors,
    ),
)]
pub async fn serve(Extension(document): Extension<Document>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        document.0.as_str().to_owned(),
    )
        .into_response()
}

/// What a code means, as the document says it.
fn meaning(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::Success => "success",
        ErrorCode::InvalidParameter => {
            "malformed JSON, or a missing, unknown or invalid field (`msg` names it)"
        }
        ErrorCode::Unauthorized => "missing, invalid or tampered token; wrong name or password",
        ErrorCode::TokenExpired => "the token is past its expiry",
        ErrorCode::Forbidden => "signed in but not allowed",
        ErrorCode::NotFound => "no such API path",
        ErrorCode::MethodNotAllowed => "method not served on this path",
        ErrorCode::PayloadTooLarge => "body over 64 KiB",
        ErrorCode::ResponseTooLarge => {
            "the answer would exceed the gateway's answer cap (OSP_MAX_RESPONSE_BYTES); narrow the request"
        }
        ErrorCode::UnsupportedMediaType => {
            "a `/graphql` body not declared application/json (never a REST answer)"
        }
        ErrorCode::UserNotFound => "no such user",
        ErrorCode::UserAlreadyExists => "the name is taken (regardless of case)",
        ErrorCode::ClusterNotFound => "no cluster of that name is configured",
        ErrorCode::PodNotFound => "no such pod",
        ErrorCode::ResourceNotFound => "no such object (GraphQL only: REST serves pods)",
        ErrorCode::TooManyRequests => "rate limit hit",
        ErrorCode::ClusterUnavailable => {
            "the cluster is unreachable, timed out, answered 5xx or refused the gateway"
        }
        ErrorCode::Timeout => "the request took longer than the gateway's request timeout",
        ErrorCode::ServiceUnavailable => {
            "the gateway is saturated (sign-in queue full); retry after `Retry-After` seconds"
        }
        ErrorCode::InternalError => "anything else; details go to the gateway's log only",
    }
}

/// One response per HTTP status among `codes`, each an [`ErrorEnvelope`] whose
/// `code` is one of the codes of that status.
fn error_responses(codes: &[ErrorCode]) -> BTreeMap<String, RefOr<ApiResponse>> {
    let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
    for code in codes {
        by_status
            .entry(code.status().as_u16())
            .or_default()
            .push(*code);
    }
    by_status
        .into_iter()
        .map(|(status, codes)| {
            let description = codes
                .iter()
                .map(|code| format!("`{code}`: {}", meaning(*code)))
                .collect::<Vec<_>>()
                .join("; ");
            let narrowed = ObjectBuilder::new().property(
                "code",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(codes.iter().map(|code| code.as_str()))),
            );
            let schema = AllOfBuilder::new()
                .item(Ref::from_schema_name("ErrorEnvelope"))
                .item(narrowed);
            let response = ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(schema)).build(),
                )
                .build();
            (status.to_string(), response.into())
        })
        .collect()
}

/// Declares the error answers of a route by their codes.
macro_rules! errors {
    ($(#[$doc:meta])* $name:ident: $($code:ident),+ $(,)?) => {
        $(#[$doc])*
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<ApiResponse>> {
                error_responses(&[$(ErrorCode::$code),+])
            }
        }
    };
}

errors!(
    /// Errors of `POST /osp/api/users`.
    CreateUserErrors: InvalidParameter, Unauthorized, TokenExpired, Forbidden,
    UserAlreadyExists, PayloadTooLarge, TooManyRequests, Timeout, InternalError
);
errors!(
    /// Errors of `GET /osp/api/users`.
    ListUsersErrors: InvalidParameter, Unauthorized, TokenExpired, Forbidden,
    TooManyRequests, Timeout, InternalError
);
errors!(
    /// Errors of `PUT /osp/api/users/{name}`.
    UpdateUserErrors: InvalidParameter, Unauthorized, TokenExpired, Forbidden,
    UserNotFound, PayloadTooLarge, TooManyRequests, Timeout, InternalError
);
errors!(
    /// Errors of `POST /osp/api/login`.
    LoginErrors: InvalidParameter, Unauthorized, PayloadTooLarge, TooManyRequests, Timeout, InternalError
);
errors!(
    /// Errors of `GET /osp/api/pods/{cluster}`.
    ListPodsErrors: InvalidParameter, Unauthorized, TokenExpired, Forbidden, ClusterNotFound,
    ResponseTooLarge, TooManyRequests, ClusterUnavailable, Timeout, InternalError
);
errors!(
    /// Errors of `GET /osp/api/pods/{cluster}/{namespace}/{name}`.
    PodErrors: InvalidParameter, Unauthorized, TokenExpired, Forbidden, ClusterNotFound,
    PodNotFound, ResponseTooLarge, TooManyRequests, ClusterUnavailable, Timeout, InternalError
);
errors!(
    /// Errors of `GET /osp/api/pods/{cluster}/{namespace}/{name}/logs`.
    LogErrors: InvalidParameter, Unauthorized, TokenExpired, Forbidden, ClusterNotFound,
    PodNotFound, ResponseTooLarge, TooManyRequests, ClusterUnavailable, Timeout,
    ServiceUnavailable, InternalError
);
errors!(
    /// Errors of `GET /osp/api/openapi.json`.
    DocumentErrors: TooManyRequests, InternalError
);
