//! A short-lived memory of who a user is, so that a burst of requests with one
//! token does not read the user store for each of them.
//!
//! An entry holds the user's name, role, password generation and grants, and
//! is used for at most [`SESSION_TTL`]. Changes made through this gateway
//! forget the user at once; a change made through another replica is seen here
//! within [`SESSION_TTL`] (so a revoked token or grant may still work there
//! that long).

use std::{sync::Arc, time::Duration};

use moka::sync::Cache;

use super::{Role, grants::Grants};

/// How long a remembered user may be used.
pub const SESSION_TTL: Duration = Duration::from_secs(2);
/// Users remembered at most (the least recently used are forgotten first).
const MAX_USERS: u64 = 10_000;

/// What is remembered of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownUser {
    /// Name.
    pub name: String,
    /// Current role.
    pub role: Role,
    /// Current password generation.
    pub generation: i32,
    /// Current grants.
    pub grants: Arc<Grants>,
}

/// Recently read users, by id.
pub struct Sessions {
    users: Cache<i64, KnownUser>,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions::remembering_for(SESSION_TTL)
    }
}

impl Sessions {
    /// A memory whose users are used for at most `ttl`.
    fn remembering_for(ttl: Duration) -> Self {
        Sessions {
            users: Cache::builder()
                .max_capacity(MAX_USERS)
                .time_to_live(ttl)
                .build(),
        }
    }

    /// The user, if read less than [`SESSION_TTL`] ago.
    pub fn get(&self, id: i64) -> Option<KnownUser> {
        self.users.get(&id)
    }

    /// Remembers a user just read.
    pub fn remember(&self, id: i64, user: KnownUser) {
        self.users.insert(id, user);
    }

    /// Forgets a user (after a change to it).
    pub fn forget(&self, id: i64) {
        self.users.invalidate(&id);
    }

    /// Forgets every user (after a change that may concern anyone).
    pub fn forget_all(&self) {
        self.users.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> KnownUser {
        KnownUser {
            name: "a".into(),
            role: Role::User,
            generation: 1,
            grants: Arc::default(),
        }
    }

    #[test]
    fn users_are_remembered_until_forgotten() {
        let sessions = Sessions::default();
        sessions.remember(7, user());
        assert_eq!(sessions.get(7), Some(user()));
        sessions.forget(7);
        assert_eq!(sessions.get(7), None);
    }

    #[test]
    fn users_are_forgotten_after_their_time_to_live() {
        let sessions = Sessions::remembering_for(Duration::from_millis(50));
        sessions.remember(7, user());
        assert_eq!(sessions.get(7), Some(user()));
        std::thread::sleep(Duration::from_millis(120));
        assert_eq!(sessions.get(7), None);
    }

    #[test]
    fn the_gateways_memory_keeps_users_for_the_session_ttl_and_no_longer() {
        let sessions = Sessions::default();
        assert_eq!(sessions.users.policy().time_to_live(), Some(SESSION_TTL));
        assert_eq!(sessions.users.policy().max_capacity(), Some(MAX_USERS));
    }
}
