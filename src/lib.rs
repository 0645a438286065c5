//! OSP Gateway: one authenticated API over several Kubernetes clusters and a user
//! store. GraphQL first; the legacy REST API under `/osp/api` runs on the same
//! schema.
//!
//! Crate map (dependencies point one way: rest → graphql → users | k8s | auth → entity):
//! - [`config`]: command line and environment, the only reader of either.
//! - [`error`]: [`error::AppError`] and the public code table.
//! - [`state`]: [`state::AppState`], the shared handles.
//! - [`db`]: connection, migrations, shared settings.
//! - [`audit`]: the audit trail of changes, sign-ins and pod reads.
//! - [`auth`]: tokens, passwords, and the [`auth::Viewer`] that decides access.
//! - [`users`]: the user store and its rules.
//! - [`k8s`]: the configured clusters, pod reads, and kubectl-style summaries.
//! - [`graphql`]: the schema, its resolvers, and `/graphql`.
//! - [`rest`]: `/osp/api`, translated to GraphQL.
//! - [`web`]: the GraphiQL playground, served from embedded assets.
//! - [`startup`]: wiring and serving.
//! - [`ops`]: health, readiness and metrics routes; request metrics; timeout answers.
//! - [`metrics`]: the Prometheus metrics of one gateway.
//! - [`conditional`]: ETags and `If-None-Match`, for REST and `GET /graphql` alike.
//! - [`ratelimit`]: sign-in rate limits.
//! - [`oversized`]: 413 answers a client can read.
//! - [`logging`]: text or JSON log output.

pub mod audit;
pub mod auth;
pub mod conditional;
pub mod config;
pub mod db;
pub mod error;
pub mod flights;
pub mod graphql;
pub mod k8s;
pub mod kinds;
pub mod logging;
pub mod metrics;
pub mod ops;
pub mod oversized;
pub mod ratelimit;
pub mod rest;
pub mod startup;
pub mod state;
pub mod users;
pub mod web;
