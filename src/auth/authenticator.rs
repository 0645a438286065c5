//! [`Authenticator`]: the one place a presented token becomes a [`Viewer`].
//!
//! A token is checked for its signature and lifetime ([`JwtKeys`]), then its
//! user is looked up (in the short [`Sessions`] memory, else the database) so
//! that a deleted user, a changed password or a changed role or grant takes
//! effect at once on this replica and within [`SESSION_TTL`] on the others.
//!
//! [`bearer_token`] is the only reader of `Bearer` credentials in the gateway:
//! the HTTP extractor ([`super::extractor`]) and the WebSocket transport's
//! `connection_init` payload both go through it.
//!
//! [`SESSION_TTL`]: super::sessions::SESSION_TTL

use std::sync::Arc;

use chrono::{DateTime, Utc};
use entity::user;
use sea_orm::{DatabaseConnection, EntityTrait};

use super::{
    JwtKeys, Role, Sessions, Viewer, grants,
    sessions::KnownUser,
    viewer::{Auth, Rejection},
};
use crate::error::AppError;

/// The token of a `Bearer <token>` credential (the scheme is matched without
/// regard to case, as RFC 9110 asks); `None` for anything else or an empty token.
pub fn bearer_token(credential: &str) -> Option<&str> {
    let (scheme, token) = credential.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Checks tokens and says who holds them.
pub struct Authenticator {
    jwt: Arc<JwtKeys>,
    sessions: Sessions,
    db: DatabaseConnection,
    /// Bumped whenever a user is forgotten after a change, so long-lived
    /// connections check their token again at once.
    changes: tokio::sync::watch::Sender<u64>,
}

impl Authenticator {
    /// An authenticator over the token keys and the user store.
    pub fn new(jwt: Arc<JwtKeys>, db: DatabaseConnection) -> Self {
        Authenticator {
            jwt,
            sessions: Sessions::default(),
            db,
            changes: tokio::sync::watch::Sender::new(0),
        }
    }

    /// The token keys (to issue tokens at sign-in).
    pub fn keys(&self) -> &JwtKeys {
        &self.jwt
    }

    /// The request's [`Auth`] from an `Authorization` header value.
    pub async fn from_credential(&self, credential: &str) -> Auth {
        match bearer_token(credential) {
            Some(token) => self.from_token(token).await,
            None => Auth::Rejected(Rejection::Invalid),
        }
    }

    /// The [`Auth`] of a bare token.
    pub async fn from_token(&self, token: &str) -> Auth {
        match self.session(token).await {
            Ok((viewer, _)) => Auth::Viewer(viewer),
            Err(rejection) => Auth::Rejected(rejection),
        }
    }

    /// The viewer behind a token, and when the token expires.
    pub async fn session(&self, token: &str) -> Result<(Viewer, DateTime<Utc>), Rejection> {
        let claims = match self.jwt.verify(token) {
            Ok(claims) => claims,
            Err(AppError::TokenExpired) => return Err(Rejection::Expired),
            Err(_) => return Err(Rejection::Invalid),
        };
        let id = claims.sub.parse::<i64>().map_err(|_| Rejection::Invalid)?;
        let expires = DateTime::from_timestamp(claims.exp, 0).ok_or(Rejection::Invalid)?;
        let signed_in_at = DateTime::from_timestamp(claims.iat, 0).ok_or(Rejection::Invalid)?;
        let known = match self.sessions.get(id) {
            Some(known) => known,
            None => match self.load(id).await {
                Ok(Some(known)) => {
                    self.sessions.remember(id, known.clone());
                    known
                }
                Ok(None) => return Err(Rejection::Invalid),
                Err(err) => {
                    err.log_if_internal();
                    return Err(Rejection::Unavailable);
                }
            },
        };
        if known.generation != claims.generation {
            return Err(Rejection::Invalid);
        }
        Ok((
            Viewer {
                id,
                name: known.name,
                role: known.role,
                grants: known.grants,
                signed_in_at,
            },
            expires,
        ))
    }

    /// Forgets what is remembered of a user, after a change to it, so this
    /// replica's next token check reads it afresh.
    pub fn forget(&self, user_id: i64) {
        self.sessions.forget(user_id);
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Forgets every user remembered, after a change of a group's grants
    /// (which may concern anyone).
    pub fn forget_everyone(&self) {
        self.sessions.forget_all();
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Changes whenever a user changed through this replica: what open
    /// connections watch to check their token again at once.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    async fn load(&self, id: i64) -> Result<Option<KnownUser>, AppError> {
        let Some(found) = user::Entity::find_by_id(id).one(&self.db).await? else {
            return Ok(None);
        };
        let role = Role::from_stored(&found.role);
        let groups = grants::stored_groups(found.groups.as_deref());
        let grants = grants::load_effective(&self.db, id, &groups).await?;
        Ok(Some(KnownUser {
            name: found.name,
            role,
            generation: found.token_generation,
            grants: Arc::new(grants),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn bearer_credentials_are_read_whatever_the_scheme_case() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer abc"), Some("abc"));
        assert_eq!(bearer_token("BEARER  abc "), Some("abc"));
    }

    #[test]
    fn other_schemes_and_empty_tokens_are_not_bearer_credentials() {
        assert_eq!(bearer_token("Basic YWxhZGRpbjpvcGVu"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("Bearer"), None);
        assert_eq!(bearer_token("abc"), None);
    }
}
