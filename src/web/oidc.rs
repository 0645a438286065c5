//! The two browser-facing steps of a sign-in through the identity provider:
//! `GET /osp/auth/oidc/login` sends the browser to the provider, and
//! `GET /osp/auth/oidc/callback` takes it back, hands the finished sign-in
//! over as a one-time code in the fragment of the page it came from (never a
//! token in a URL), and records every outcome in the audit trail.

use axum::{
    Router,
    extract::{Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

use crate::{
    audit::{self, Action, Event, Origin},
    auth::oidc::{self, Callback, Oidc, Refusal},
    error::{AppError, ErrorCode},
    graphql::{Executor, RequestMeta},
    users,
};

/// The sign-in routes.
pub fn router() -> Router<Executor> {
    Router::new()
        .route("/osp/auth/oidc", get(status))
        .route("/osp/auth/oidc/login", get(login))
        .route("/osp/auth/oidc/callback", get(callback))
}

/// The query of a sign-in's start.
#[derive(Debug, serde::Deserialize)]
struct Start {
    redirect: Option<String>,
    challenge: Option<String>,
}

fn configured(executor: &Executor) -> Result<&Oidc, AppError> {
    executor.state().oidc.as_deref().ok_or_else(|| {
        AppError::NotFound("/osp/auth/oidc (no identity provider is configured)".to_owned())
    })
}

/// A 302 to `location` that no cache keeps.
fn found(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(location) => (
            StatusCode::FOUND,
            [
                (header::LOCATION, location),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                (
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("no-referrer"),
                ),
            ],
        )
            .into_response(),
        Err(err) => AppError::internal(err).into_response(),
    }
}

/// `GET /osp/auth/oidc`: whether sign-in through an identity provider is
/// configured (`enabled`) and its discovery has succeeded (`ready`), for a
/// frontend deciding whether to offer it.
async fn status(State(executor): State<Executor>) -> Response {
    let oidc = executor.state().oidc.as_deref();
    (
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        axum::Json(serde_json::json!({
            "enabled": oidc.is_some(),
            "ready": oidc.is_some_and(Oidc::is_ready),
        })),
    )
        .into_response()
}

/// `GET /osp/auth/oidc/login?redirect=R&challenge=C`: 302 to the provider.
async fn login(
    State(executor): State<Executor>,
    meta: RequestMeta,
    query: Result<Query<Start>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let started = async {
        let oidc = configured(&executor)?;
        let Query(start) = query.map_err(|e| AppError::invalid("query", e.body_text()))?;
        let state = executor.state();
        // Checked first, so a malformed start (or the playground asking
        // whether sign-in through a provider is on) counts against nothing.
        oidc.check_start(start.redirect.as_deref(), start.challenge.as_deref())?;
        // Per client address only: a start names nobody yet.
        state.login_limiter.check_address(meta.client).await?;
        oidc.begin(
            &state.db,
            start.redirect.as_deref(),
            start.challenge.as_deref(),
        )
        .await
    };
    match started.await {
        Ok(url) => found(&url),
        Err(err) => {
            err.log_if_internal();
            err.into_response()
        }
    }
}

/// `GET /osp/auth/oidc/callback`: the provider's answer.
async fn callback(
    State(executor): State<Executor>,
    meta: RequestMeta,
    query: Result<Query<Callback>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let oidc = match configured(&executor) {
        Ok(oidc) => oidc,
        Err(err) => return err.into_response(),
    };
    let state = executor.state();
    let origin = Origin {
        actor: None,
        client: meta.client,
        request_id: meta.request_id.clone(),
    };
    let callback = query.map(|Query(callback)| callback).unwrap_or_default();
    let pending = match oidc.resume(&state.db, &callback).await {
        Ok(pending) => pending,
        Err(refusal) => {
            record_refusal(state, &origin, None, &refusal).await;
            return refusal.error.into_response();
        }
    };
    let signed_in = async {
        let identity = oidc.identify(&pending, &callback).await?;
        let user = users::sign_in_oidc(&state.db, &origin, &identity)
            .await
            .map_err(|error| Refusal {
                reason: match &error {
                    AppError::UserAlreadyExists(_) => "name taken",
                    AppError::SignInRefused(_) => "name",
                    _ => "internal",
                },
                error,
            })?;
        // Role and groups may have changed: tokens are checked afresh.
        state.auth.forget(user.id);
        let code = oidc::store::issue_code(&state.db, user.id, &pending.challenge)
            .await
            .map_err(|error| Refusal {
                error,
                reason: "internal",
            })?;
        Ok::<_, Refusal>((user, code))
    };
    match signed_in.await {
        Ok((user, code)) => {
            let event = Event {
                origin: Origin {
                    actor: Some(user.name.clone()),
                    ..origin
                },
                action: Action::Login,
                target: Some(user.name),
                outcome: ErrorCode::Success,
                detail: Some("method=oidc".to_owned()),
            };
            if let Err(err) = audit::record(&state.db, event).await {
                // No sign-in without its record.
                err.log_if_internal();
                return found(&Oidc::failure_location(&pending.redirect, &err));
            }
            found(&Oidc::success_location(&pending.redirect, &code))
        }
        Err(refusal) => {
            let target = match &refusal.error {
                AppError::UserAlreadyExists(name) => Some(name.clone()),
                _ => None,
            };
            record_refusal(state, &origin, target, &refusal).await;
            found(&Oidc::failure_location(&pending.redirect, &refusal.error))
        }
    }
}

/// Records a refused sign-in: `login`, by nobody known, with the defect as
/// `reason` (an internal failure is logged instead).
async fn record_refusal(
    state: &crate::state::AppState,
    origin: &Origin,
    target: Option<String>,
    refusal: &Refusal,
) {
    if refusal.error.code() == ErrorCode::InternalError {
        refusal.error.log_if_internal();
        return;
    }
    let event = Event {
        origin: origin.clone(),
        action: Action::Login,
        target,
        outcome: refusal.error.code(),
        detail: Some(format!("method=oidc reason={}", refusal.reason)),
    };
    if let Err(err) = audit::record(&state.db, event).await {
        err.log_if_internal();
    }
}
