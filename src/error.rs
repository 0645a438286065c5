//! The gateway's one error type and its code table.
//!
//! Every failure a client can see is an [`AppError`]. Each variant knows its public
//! code (the same string in GraphQL `errors[].extensions.code` and in the REST
//! envelope's `code`) and its HTTP status. `Display` is the message clients read, so
//! it never carries internals: [`AppError::Internal`] keeps its cause for the log only.

use axum::http::StatusCode;

/// Public error codes, as listed in the design contract. The variant's name is
/// the code clients see; the list, the names and the parser are derived, so a new
/// code needs only its variant (and its status below).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString, strum::VariantArray,
)]
pub enum ErrorCode {
    /// The request succeeded (REST envelopes only).
    Success,
    /// Malformed or invalid input; the message names the field.
    InvalidParameter,
    /// Missing, invalid or tampered token, or wrong name or password.
    Unauthorized,
    /// The token is past its expiry.
    TokenExpired,
    /// Authenticated but not allowed.
    Forbidden,
    /// Unknown REST path.
    NotFound,
    /// The HTTP method is not served on this path.
    MethodNotAllowed,
    /// The request body is larger than the gateway accepts.
    PayloadTooLarge,
    /// The answer would be larger than `OSP_MAX_RESPONSE_BYTES`.
    ResponseTooLarge,
    /// `/graphql` takes only `application/json` bodies.
    UnsupportedMediaType,
    /// No user of that name.
    UserNotFound,
    /// A user of that name exists already.
    UserAlreadyExists,
    /// No cluster of that name is configured.
    ClusterNotFound,
    /// No such pod.
    PodNotFound,
    /// No such object of another kind (Deployment, Node, Event, ...).
    ResourceNotFound,
    /// Rate limit hit.
    TooManyRequests,
    /// The cluster is unreachable, timed out, or refused the gateway's credentials.
    ClusterUnavailable,
    /// Anything else.
    InternalError,
    /// The gateway gave up on the request after the request timeout.
    Timeout,
    /// The gateway is saturated (e.g. its password-hashing queue is full);
    /// retry after `Retry-After` seconds.
    ServiceUnavailable,
}

impl ErrorCode {
    /// Every code, for tests and documentation.
    pub const ALL: &'static [ErrorCode] = <ErrorCode as strum::VariantArray>::VARIANTS;

    /// The code as clients see it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Reads a code back from its string (as found in GraphQL error extensions).
    pub fn parse(code: &str) -> Option<ErrorCode> {
        code.parse().ok()
    }

    /// The HTTP status that goes with the code.
    pub const fn status(self) -> StatusCode {
        match self {
            ErrorCode::Success => StatusCode::OK,
            ErrorCode::InvalidParameter => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthorized | ErrorCode::TokenExpired => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::NotFound
            | ErrorCode::UserNotFound
            | ErrorCode::ClusterNotFound
            | ErrorCode::PodNotFound
            | ErrorCode::ResourceNotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::ResponseTooLarge => StatusCode::BAD_REQUEST,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UserAlreadyExists => StatusCode::CONFLICT,
            ErrorCode::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::ClusterUnavailable => StatusCode::BAD_GATEWAY,
            ErrorCode::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Timeout => StatusCode::GATEWAY_TIMEOUT,
            ErrorCode::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every error a client can be shown.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input that fails validation; `field` is the name the client used.
    #[error("invalid {field}: {reason}")]
    InvalidParameter {
        /// The offending field.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No or unusable credentials. The message is the same for every cause, so it
    /// tells an attacker nothing about which names exist.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// The token's lifetime is over.
    #[error("token expired")]
    TokenExpired,
    /// Authenticated, but the operation is not allowed for this user.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// Unknown REST path.
    #[error("no such API path: {0}")]
    NotFound(String),
    /// The method is not served on this path.
    #[error("method {0} is not allowed here")]
    MethodNotAllowed(String),
    /// Body over the size limit.
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// The answer would hold more than the gateway sends in one answer.
    #[error(
        "the answer would be about {} KiB, more than the {} KiB this gateway sends at once \
         (OSP_MAX_RESPONSE_BYTES): select fewer fields (json and yaml are large), narrow the \
         list by namespace or name, or page through it",
        estimate.div_ceil(1024),
        limit / 1024
    )]
    ResponseTooLarge {
        /// The estimated (or measured) bytes of the answer.
        estimate: u64,
        /// The cap.
        limit: u64,
    },
    /// No user of that name.
    #[error("user {0} not found")]
    UserNotFound(String),
    /// The name is taken (names are compared without regard to case).
    #[error("user {0} already exists")]
    UserAlreadyExists(String),
    /// No cluster of that name is configured.
    #[error("cluster {0} is not configured")]
    ClusterNotFound(String),
    /// No such pod.
    #[error("pod {namespace}/{name} not found in cluster {cluster}")]
    PodNotFound {
        /// The cluster asked.
        cluster: String,
        /// The pod's namespace.
        namespace: String,
        /// The pod's name.
        name: String,
    },
    /// No such object of another kind than Pod.
    #[error("{kind} {} not found in cluster {cluster}", qualified(.namespace.as_deref(), .name))]
    ResourceNotFound {
        /// The kind, e.g. Deployment.
        kind: &'static str,
        /// The cluster asked.
        cluster: String,
        /// The object's namespace (none for cluster-scoped kinds).
        namespace: Option<String>,
        /// The object's name.
        name: String,
    },
    /// The cluster did not answer usefully; `reason` says how, in the gateway's
    /// words (nothing the cluster sent is repeated).
    #[error("cluster {cluster} is unavailable: {reason}")]
    ClusterUnavailable {
        /// The cluster asked.
        cluster: String,
        /// What went wrong.
        reason: &'static str,
    },
    /// Anything unexpected. The cause is logged, never sent.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
    /// A rate limit was hit; the client may try again after `retry_after` seconds.
    #[error("too many attempts; try again in {retry_after} s")]
    TooManyRequests {
        /// Whole seconds until an attempt is allowed again (at least 1).
        retry_after: u64,
    },
    /// Every container log follow allowed (`whose`: the user's, or this gateway's)
    /// is open; one must end first.
    #[error(
        "{whose} {limit} log follows are all open (OSP_LOG_FOLLOWS_PER_USER, OSP_LOG_FOLLOWS): \
         end one first"
    )]
    TooManyFollows {
        /// The limit reached.
        limit: usize,
        /// Whose: `your` or `this gateway's`.
        whose: &'static str,
    },
    /// The gateway is saturated; the client may retry after `retry_after` s.
    #[error("the gateway is busy; try again in {retry_after} s")]
    ServiceUnavailable {
        /// Whole seconds until a retry is worth it (at least 1).
        retry_after: u64,
    },
    /// A sign-in through the identity provider was refused: its token or
    /// answer is defective, or it refused itself (the message says which).
    #[error("sign-in refused: {0}")]
    SignInRefused(String),
    /// Sign-in through the identity provider is not possible yet: its
    /// discovery has not succeeded (it is retried every 10 s).
    #[error(
        "sign-in through the identity provider is not available yet (its discovery has not \
         succeeded); try again in {retry_after} s"
    )]
    SignInUnavailable {
        /// Whole seconds until discovery is tried again.
        retry_after: u64,
    },
    /// A `/graphql` request whose body is not declared `application/json`.
    #[error("a GraphQL request must be sent as application/json")]
    UnsupportedMediaType,
    /// The request took longer than the request timeout allows.
    #[error("the request took longer than {} to answer", humantime::format_duration(*.0))]
    Timeout(std::time::Duration),
}

/// The message given for every failed sign-in and every unusable token.
pub const BAD_CREDENTIALS: &str = "invalid name or password";
/// The message for a missing or unusable token.
pub const BAD_TOKEN: &str = "missing or invalid token";

impl AppError {
    /// Shorthand for [`AppError::InvalidParameter`].
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        AppError::InvalidParameter {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Wraps an unexpected failure.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(err.into())
    }

    /// The public code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::InvalidParameter { .. } => ErrorCode::InvalidParameter,
            AppError::Unauthorized(_) | AppError::SignInRefused(_) => ErrorCode::Unauthorized,
            AppError::TokenExpired => ErrorCode::TokenExpired,
            AppError::Forbidden(_) => ErrorCode::Forbidden,
            AppError::NotFound(_) => ErrorCode::NotFound,
            AppError::MethodNotAllowed(_) => ErrorCode::MethodNotAllowed,
            AppError::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            AppError::ResponseTooLarge { .. } => ErrorCode::ResponseTooLarge,
            AppError::UnsupportedMediaType => ErrorCode::UnsupportedMediaType,
            AppError::UserNotFound(_) => ErrorCode::UserNotFound,
            AppError::UserAlreadyExists(_) => ErrorCode::UserAlreadyExists,
            AppError::ClusterNotFound(_) => ErrorCode::ClusterNotFound,
            AppError::PodNotFound { .. } => ErrorCode::PodNotFound,
            AppError::ResourceNotFound { .. } => ErrorCode::ResourceNotFound,
            AppError::ClusterUnavailable { .. } => ErrorCode::ClusterUnavailable,
            AppError::Internal(_) => ErrorCode::InternalError,
            AppError::TooManyRequests { .. } | AppError::TooManyFollows { .. } => {
                ErrorCode::TooManyRequests
            }
            AppError::Timeout(_) => ErrorCode::Timeout,
            AppError::ServiceUnavailable { .. } | AppError::SignInUnavailable { .. } => {
                ErrorCode::ServiceUnavailable
            }
        }
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        self.code().status()
    }

    /// Seconds the client should wait before retrying, for the errors that say.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::TooManyRequests { retry_after }
            | AppError::ServiceUnavailable { retry_after }
            | AppError::SignInUnavailable { retry_after } => Some(*retry_after),
            AppError::TooManyFollows { .. } => Some(1),
            _ => None,
        }
    }

    /// Logs the cause of an internal error (once, where it leaves the gateway).
    pub fn log_if_internal(&self) {
        if let AppError::Internal(cause) = self {
            tracing::error!(error = format!("{cause:#}"), "internal error");
        }
    }
}

impl AppError {
    /// Classifies a failed call to a cluster. Every failure of the cluster or of
    /// the way to it is `ClusterUnavailable`; the cluster's own words go to the
    /// log only, as they may hold internal names or credentials.
    pub fn from_kube(cluster: &str, err: &kube::Error) -> Self {
        let reason = match err {
            kube::Error::Api(status) => match status.code {
                401 | 403 => "it refused the gateway's credentials",
                429 => "it is limiting the gateway's requests",
                500..=599 => "it answered with a server error",
                _ => "it answered with an unexpected error",
            },
            kube::Error::HyperError(_) | kube::Error::Service(_) => {
                if is_timeout(err) {
                    TIMED_OUT
                } else {
                    "it cannot be reached"
                }
            }
            kube::Error::SerdeError(_) | kube::Error::FromUtf8(_) | kube::Error::ReadEvents(_) => {
                "its answer could not be read"
            }
            _ => "the request to it failed",
        };
        tracing::warn!(cluster, error = %err, "cluster call failed: {reason}");
        AppError::ClusterUnavailable {
            cluster: cluster.to_owned(),
            reason,
        }
    }
}

/// The reason given for a cluster that did not answer in time.
pub const TIMED_OUT: &str = "timed out";

/// Whether a failure was a timeout, judged by the types in its cause chain
/// (the connector's and the read timeout's `io::ErrorKind::TimedOut`, hyper's
/// own timeouts), never by message text.
/// `namespace/name`, or `name` for a cluster-scoped object.
fn qualified(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(namespace) => format!("{namespace}/{name}"),
        None => name.to_owned(),
    }
}

fn is_timeout(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::TimedOut
        {
            return true;
        }
        if let Some(hyper) = e.downcast_ref::<hyper::Error>()
            && hyper.is_timeout()
        {
            return true;
        }
        current = e.source();
    }
    false
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        AppError::Internal(err.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_from_its_string() {
        for &code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
        }
        assert_eq!(ErrorCode::parse("NoSuchCode"), None);
    }

    #[test]
    fn codes_map_to_the_documented_statuses() {
        let table = [
            ("Success", 200),
            ("InvalidParameter", 400),
            ("Unauthorized", 401),
            ("TokenExpired", 401),
            ("Forbidden", 403),
            ("NotFound", 404),
            ("UserNotFound", 404),
            ("UserAlreadyExists", 409),
            ("ClusterNotFound", 404),
            ("PodNotFound", 404),
            ("ResourceNotFound", 404),
            ("PayloadTooLarge", 413),
            ("UnsupportedMediaType", 415),
            ("TooManyRequests", 429),
            ("ClusterUnavailable", 502),
            ("InternalError", 500),
            ("Timeout", 504),
            ("ServiceUnavailable", 503),
        ];
        for (code, status) in table {
            let parsed = ErrorCode::parse(code).expect("documented code exists");
            assert_eq!(parsed.status().as_u16(), status, "{code}");
        }
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let err = AppError::internal(anyhow::anyhow!("connection refused to db at 10.0.0.1"));
        assert_eq!(err.to_string(), "internal error");
        assert_eq!(err.code(), ErrorCode::InternalError);
    }
}
