//! Authentication and authorization: token signing and checking, password hashing,
//! and the [`Viewer`] that carries every authorization decision.
//!
//! Nothing here knows HTTP or GraphQL; the GraphQL layer turns a bearer token into
//! a [`Viewer`] once per request.

pub mod jwt;
pub mod password;
pub mod sessions;
pub mod viewer;

pub use jwt::{Claims, JwtKeys};
pub use password::Passwords;
pub use sessions::Sessions;
pub use viewer::{Auth, Role, Viewer};
