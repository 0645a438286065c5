//! Authentication and authorization: token signing and checking, password
//! hashing, grants, and the [`Viewer`] that carries every authorization decision.
//!
//! This is the only module that reads credentials: the [`Authenticator`] turns
//! a bearer token into a [`Viewer`] (its axum extractor does so once per HTTP
//! request; the WebSocket transport calls it with the token of
//! `connection_init`). Nothing here knows GraphQL resolvers or REST routes.

pub mod authenticator;
pub mod extractor;
pub mod grants;
pub mod jwt;
pub mod oidc;
pub mod password;
pub mod sessions;
pub mod viewer;

pub use authenticator::{Authenticator, bearer_token};
pub use grants::{Grant, Grants, NamespaceScope};
pub use jwt::{Claims, JwtKeys};
pub use password::Passwords;
pub use sessions::Sessions;
pub use viewer::{Auth, Reach, Rejection, Role, Viewer};
