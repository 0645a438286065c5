//! A short-lived memory of who a user is, so that a burst of requests with one
//! token does not read the user store for each of them.
//!
//! An entry holds the user's name, role and password generation, and is used
//! for at most [`SESSION_TTL`]. Changes made through this gateway forget the
//! user at once; a change made through another replica is seen here within
//! [`SESSION_TTL`] (so a revoked token may still work there that long).

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use super::Role;

/// How long a remembered user may be used.
pub const SESSION_TTL: Duration = Duration::from_secs(2);
/// Users remembered at most (then the memory starts over).
const MAX_USERS: usize = 10_000;

/// What is remembered of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownUser {
    /// Name.
    pub name: String,
    /// Current role.
    pub role: Role,
    /// Current password generation.
    pub generation: i32,
}

/// Recently read users, by id.
#[derive(Default)]
pub struct Sessions {
    users: Mutex<HashMap<i64, (Instant, KnownUser)>>,
}

impl Sessions {
    /// The user, if read less than [`SESSION_TTL`] ago.
    pub fn get(&self, id: i64) -> Option<KnownUser> {
        let users = self.users.lock().ok()?;
        users
            .get(&id)
            .filter(|(at, _)| at.elapsed() < SESSION_TTL)
            .map(|(_, user)| user.clone())
    }

    /// Remembers a user just read.
    pub fn remember(&self, id: i64, user: KnownUser) {
        if let Ok(mut users) = self.users.lock() {
            if users.len() >= MAX_USERS {
                users.clear();
            }
            users.insert(id, (Instant::now(), user));
        }
    }

    /// Forgets a user (after a change to it).
    pub fn forget(&self, id: i64) {
        if let Ok(mut users) = self.users.lock() {
            users.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_remembered_until_forgotten() {
        let sessions = Sessions::default();
        let user = KnownUser {
            name: "a".into(),
            role: Role::User,
            generation: 1,
        };
        sessions.remember(7, user.clone());
        assert_eq!(sessions.get(7), Some(user));
        sessions.forget(7);
        assert_eq!(sessions.get(7), None);
    }
}
