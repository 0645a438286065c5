//! The user store: SeaORM queries and the rules about users (names, e-mail
//! addresses, passwords, roles, who may change what).
//!
//! Knows nothing of HTTP or GraphQL; every function returns `Result<_, AppError>`.

mod oidc;
mod service;
mod validate;

pub use oidc::{UserSource, list_group_grants, set_group_grants, sign_in_oidc, sign_out};
pub use service::{
    MAX_GRANTS, NewUser, PasswordChecks, PasswordTurn, UserChanges, authenticate_password,
    bootstrap_admin, create_user, find_by_id, list_users, set_grants, update_user,
};
pub use validate::{
    MAX_NAME_LEN, MAX_PASSWORD_LEN, MIN_PASSWORD_LEN, name_key, validate_email, validate_name,
    validate_password,
};
