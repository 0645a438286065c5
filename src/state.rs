//! [`AppState`]: the cheap, cloneable handles every request may need.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{
    audit::AuditLog,
    auth::{Authenticator, Passwords},
    config::Config,
    k8s::ClusterRegistry,
    metrics::Metrics,
    ratelimit::LoginLimiter,
};

/// Shared handles of one gateway (each clone is a few reference counts).
#[derive(Clone)]
pub struct AppState {
    /// Validated configuration.
    pub config: Arc<Config>,
    /// Database pool.
    pub db: DatabaseConnection,
    /// Token checks (keys, the session memory, the user store).
    pub auth: Arc<Authenticator>,
    /// Password hashing (bounded, off the async workers).
    pub passwords: Passwords,
    /// The configured clusters.
    pub clusters: Arc<ClusterRegistry>,
    /// This gateway's metrics (its own recorder, never a global one).
    pub metrics: Metrics,
    /// The audit trail's background writer.
    pub audit: AuditLog,
    /// Sign-in rate limits.
    pub login_limiter: Arc<LoginLimiter>,
    /// Container log follows, shared per container.
    pub logs: Arc<crate::k8s::logs::LogFollows>,
    /// Sign-in through the OpenID Provider, when `OSP_OIDC_ISSUER` is set.
    pub oidc: Option<Arc<crate::auth::oidc::Oidc>>,
}
