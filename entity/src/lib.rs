//! SeaORM entities of the OSP Gateway.
//!
//! Only table shapes live here: no web, GraphQL or password logic. The gateway's
//! `users` service owns the rules about these rows.

pub mod audit_event;
pub mod grant;
pub mod group_grant;
pub mod login_attempt;
pub mod oidc_sign_in;
pub mod setting;
pub mod sign_in_code;
pub mod user;
