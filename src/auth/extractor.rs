//! The axum extractor that authenticates a request: `Auth` from the
//! `Authorization` header, checked once per request by the [`Authenticator`].
//!
//! Extraction never fails: a request without a usable token is
//! [`Auth::Anonymous`] or [`Auth::Rejected`], and whatever it asks for decides
//! whether that is enough (signing in needs no token).

use std::sync::Arc;

use axum::{
    extract::{FromRef, FromRequestParts},
    http::{header, request::Parts},
};

use super::{Auth, Authenticator, viewer::Rejection};

impl<S> FromRequestParts<S> for Auth
where
    Arc<Authenticator>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let authenticator = Arc::<Authenticator>::from_ref(state);
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Ok(Auth::Anonymous);
        };
        Ok(match value.to_str() {
            Ok(credential) => authenticator.from_credential(credential).await,
            Err(_) => Auth::Rejected(Rejection::Invalid),
        })
    }
}
