//! Who is asking, and what they may do.
//!
//! Every authorization decision of the gateway is a method of [`Viewer`], so the
//! rules live in one place (per-cluster grants will be added here).

use crate::error::{AppError, BAD_TOKEN};

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// May manage users.
    Admin,
    /// May read, and change their own account.
    User,
}

impl Role {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::User => "user",
        }
    }

    /// Reads the stored form; anything unknown is the least privileged role.
    pub fn from_stored(s: &str) -> Role {
        if s == "admin" {
            Role::Admin
        } else {
            Role::User
        }
    }
}

/// The authenticated user behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    /// The user's immutable id.
    pub id: i64,
    /// The user's name.
    pub name: String,
    /// The user's current role (read from the database, not the token).
    pub role: Role,
}

impl Viewer {
    /// True for admins.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Only admins create users.
    pub fn can_create_users(&self) -> bool {
        self.is_admin()
    }

    /// Admins may change anyone; users only themselves.
    pub fn can_update_user(&self, user_id: i64) -> bool {
        self.is_admin() || self.id == user_id
    }

    /// Only admins change roles.
    pub fn can_change_roles(&self) -> bool {
        self.is_admin()
    }

    /// Every authenticated user may list users.
    pub fn can_list_users(&self) -> bool {
        true
    }

    /// A short key for what this viewer may read: viewers with equal keys are
    /// shown equal data, so answers rendered for one may be reused for another.
    /// Every viewer reads everything today; grants will make this per-user.
    pub fn scope_key(&self) -> String {
        "all".to_owned()
    }

    /// Whether this viewer may read pods of a namespace (`None`: all namespaces)
    /// of a cluster. Today every authenticated user may; grants will narrow it.
    pub fn can_read(&self, _cluster: &str, _namespace: Option<&str>) -> bool {
        true
    }
}

/// Why a presented token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Malformed, tampered, signed with another key, or for a user that changed
    /// password or no longer exists.
    Invalid,
    /// Past its expiry.
    Expired,
    /// The user store could not be asked.
    Unavailable,
}

/// The authentication state of one request.
#[derive(Debug, Clone)]
pub enum Auth {
    /// No token was presented.
    Anonymous,
    /// A valid token.
    Viewer(Viewer),
    /// A token was presented and refused.
    Rejected(Rejection),
}

impl Auth {
    /// The viewer, or the error that tells the client why there is none.
    pub fn viewer(&self) -> Result<&Viewer, AppError> {
        match self {
            Auth::Viewer(viewer) => Ok(viewer),
            Auth::Anonymous | Auth::Rejected(Rejection::Invalid) => {
                Err(AppError::Unauthorized(BAD_TOKEN))
            }
            Auth::Rejected(Rejection::Expired) => Err(AppError::TokenExpired),
            Auth::Rejected(Rejection::Unavailable) => Err(AppError::internal(anyhow::anyhow!(
                "the user store could not be reached to check a token"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn viewer(id: i64, role: Role) -> Viewer {
        Viewer {
            id,
            name: format!("u{id}"),
            role,
        }
    }

    #[test]
    fn users_may_update_only_themselves_and_admins_anyone() {
        assert!(viewer(1, Role::User).can_update_user(1));
        assert!(!viewer(1, Role::User).can_update_user(2));
        assert!(viewer(1, Role::Admin).can_update_user(2));
        assert!(!viewer(1, Role::User).can_change_roles());
        assert!(!viewer(1, Role::User).can_create_users());
        assert!(viewer(1, Role::Admin).can_create_users());
    }

    #[test]
    fn missing_and_refused_tokens_give_distinct_codes() {
        assert_eq!(
            Auth::Anonymous.viewer().expect_err("anon").code(),
            ErrorCode::Unauthorized
        );
        assert_eq!(
            Auth::Rejected(Rejection::Expired)
                .viewer()
                .expect_err("expired")
                .code(),
            ErrorCode::TokenExpired
        );
        assert_eq!(
            Auth::Rejected(Rejection::Invalid)
                .viewer()
                .expect_err("invalid")
                .code(),
            ErrorCode::Unauthorized
        );
    }
}
