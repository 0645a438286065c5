//! Sign-in rate limits: attempts per user name and per client address.
//!
//! Every attempt counts, successful or not, and is counted before the password
//! is checked, so guessing costs the gateway no hashing once the limit is hit.
//!
//! Where the counts live follows the database. On PostgreSQL and MariaDB
//! (what replicas share) attempts are counted in the `login_attempts` table,
//! one statement per attempt, so three replicas do not give three times the
//! attempts; the limit then holds per minute of the database's clock (so
//! replicas whose clocks differ still count in one window). SQLite serves one
//! process, which counts in memory (a burst of the limit, refilled evenly over
//! the minute); so does MySQL, which lacks the `INSERT ... RETURNING` the
//! shared count needs (a warning says so at start-up). This module knows nothing of HTTP or GraphQL; it answers with an
//! [`AppError`].

use std::{
    net::IpAddr,
    num::NonZeroU32,
    sync::atomic::{AtomicI64, Ordering},
};

use entity::login_attempt;
use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    Statement, Value,
};

use crate::error::AppError;

/// Past this many tracked keys, keys whose limit has fully recovered are dropped,
/// so a flood of made-up names cannot grow memory without bound.
const PRUNE_ABOVE_KEYS: usize = 10_000;
/// Longest name kept as a key (valid names are at most 64 bytes).
const MAX_NAME_KEY_BYTES: usize = 128;
/// The window of the shared counts.
const WINDOW_SECS: i64 = 60;

/// The sign-in limits of one gateway.
pub struct LoginLimiter {
    per_name: u32,
    per_address: u32,
    counts: Counts,
}

/// Where attempts are counted.
enum Counts {
    /// In this process.
    Memory {
        by_name: Option<DefaultKeyedRateLimiter<String>>,
        by_address: Option<DefaultKeyedRateLimiter<IpAddr>>,
        clock: DefaultClock,
    },
    /// In the database every replica uses.
    Shared {
        db: DatabaseConnection,
        /// The last window whose predecessors were deleted by this replica.
        pruned: AtomicI64,
    },
}

impl LoginLimiter {
    /// Allows `per_name` attempts per user name and `per_address` attempts per
    /// client address each minute (as a burst, then refilled evenly over the
    /// minute), counted in this process; 0 turns a limit off.
    pub fn new(per_name: u32, per_address: u32) -> Self {
        LoginLimiter {
            per_name,
            per_address,
            counts: Counts::Memory {
                by_name: keyed(per_name),
                by_address: keyed(per_address),
                clock: DefaultClock::default(),
            },
        }
    }

    /// The limits of [`LoginLimiter::new`], counted in `db` when it is shared
    /// by replicas (PostgreSQL, MariaDB) and in this process on SQLite and
    /// MySQL.
    pub async fn on_database(db: &DatabaseConnection, per_name: u32, per_address: u32) -> Self {
        let shared = match db.get_database_backend() {
            DbBackend::Postgres => true,
            DbBackend::MySql => {
                let version = db
                    .query_one_raw(Statement::from_string(
                        DbBackend::MySql,
                        "SELECT VERSION() AS v",
                    ))
                    .await
                    .ok()
                    .flatten()
                    .and_then(|row| row.try_get::<String>("", "v").ok())
                    .unwrap_or_default();
                let mariadb = version.contains("MariaDB");
                if !mariadb {
                    tracing::warn!(
                        version,
                        "MySQL lacks INSERT ... RETURNING: sign-in attempts are counted per replica"
                    );
                }
                mariadb
            }
            _ => false,
        };
        if !shared {
            return Self::new(per_name, per_address);
        }
        LoginLimiter {
            per_name,
            per_address,
            counts: Counts::Shared {
                db: db.clone(),
                pruned: AtomicI64::new(0),
            },
        }
    }

    /// Counts one sign-in attempt as `name` from `address` (when known), or says
    /// how long to wait. Names are compared without regard to case, as user names are.
    pub async fn check(&self, name: &str, address: Option<IpAddr>) -> Result<(), AppError> {
        // An IPv6 client holds a whole /64: it is counted as one address.
        let address = address.filter(|_| self.per_address > 0).map(client_key);
        let name = (self.per_name > 0).then(|| name_key(name));
        match &self.counts {
            Counts::Memory {
                by_name,
                by_address,
                clock,
            } => {
                if let (Some(limiter), Some(address)) = (by_address, address) {
                    check_key(limiter, clock, &address)?;
                }
                if let (Some(limiter), Some(name)) = (by_name, name) {
                    check_key(limiter, clock, &name)?;
                }
                Ok(())
            }
            Counts::Shared { db, pruned } => {
                let mut subjects = Vec::with_capacity(2);
                if let Some(address) = address {
                    subjects.push((format!("a:{address}"), self.per_address));
                }
                if let Some(name) = name {
                    subjects.push((format!("n:{name}"), self.per_name));
                }
                if subjects.is_empty() {
                    return Ok(());
                }
                let now = chrono::Utc::now().timestamp();
                // Clocks of replicas may differ by a little: only windows
                // older than the one before this replica's are deleted.
                prune_before(db, pruned, now.div_euclid(WINDOW_SECS) - 1);
                let counted = count_attempts(db, &subjects).await?;
                let over = subjects.iter().any(|(subject, limit)| {
                    counted
                        .iter()
                        .any(|(s, attempts)| s == subject && *attempts > i64::from(*limit))
                });
                if over {
                    let retry_after = WINDOW_SECS - now.rem_euclid(WINDOW_SECS);
                    return Err(AppError::TooManyRequests {
                        retry_after: u64::try_from(retry_after).unwrap_or(1).max(1),
                    });
                }
                Ok(())
            }
        }
    }
}

/// The key of a name: in lower case, cut short.
fn name_key(name: &str) -> String {
    name.chars()
        .flat_map(char::to_lowercase)
        .take(MAX_NAME_KEY_BYTES)
        .collect()
}

fn check_key<K>(
    limiter: &DefaultKeyedRateLimiter<K>,
    clock: &DefaultClock,
    key: &K,
) -> Result<(), AppError>
where
    K: Clone + std::hash::Hash + Eq,
{
    if limiter.len() > PRUNE_ABOVE_KEYS {
        limiter.retain_recent();
    }
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(clock.now());
        // Round up: retrying after a rounded-down wait would be refused again.
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        AppError::TooManyRequests {
            retry_after: secs.max(1),
        }
    })
}

/// Adds one attempt to each subject's count in the database clock's current
/// minute (a count of an earlier minute starts again at one), in one
/// statement, and reads the counts back.
async fn count_attempts(
    db: &DatabaseConnection,
    subjects: &[(String, u32)],
) -> Result<Vec<(String, i64)>, AppError> {
    let backend = db.get_database_backend();
    let mut values: Vec<Value> = Vec::with_capacity(subjects.len());
    let mut rows = Vec::with_capacity(subjects.len());
    for (i, (subject, _)) in subjects.iter().enumerate() {
        values.push(subject.clone().into());
        rows.push(match backend {
            DbBackend::Postgres => format!(
                "(${}, CAST(FLOOR(EXTRACT(EPOCH FROM now()) / {WINDOW_SECS}) AS BIGINT), 1)",
                i + 1
            ),
            _ => format!("(?, FLOOR(UNIX_TIMESTAMP() / {WINDOW_SECS}), 1)"),
        });
    }
    let rows = rows.join(", ");
    let sql = match backend {
        DbBackend::Postgres => format!(
            "INSERT INTO login_attempts (subject, window_start, attempts) VALUES {rows} \
             ON CONFLICT (subject) DO UPDATE SET attempts = CASE \
             WHEN login_attempts.window_start = EXCLUDED.window_start \
             THEN login_attempts.attempts + 1 ELSE 1 END, \
             window_start = EXCLUDED.window_start \
             RETURNING subject, attempts"
        ),
        // MariaDB assigns left to right: `attempts` still sees the old window.
        _ => format!(
            "INSERT INTO login_attempts (subject, window_start, attempts) VALUES {rows} \
             ON DUPLICATE KEY UPDATE \
             attempts = IF(window_start = VALUES(window_start), attempts + 1, 1), \
             window_start = VALUES(window_start) \
             RETURNING subject, attempts"
        ),
    };
    let counted = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    counted
        .iter()
        .map(|row| {
            let subject: String = row.try_get("", "subject")?;
            let attempts: i32 = row.try_get("", "attempts")?;
            Ok((subject, i64::from(attempts)))
        })
        .collect()
}

/// Once per window and replica, deletes the counts of windows before
/// `window` in the background (they would start again at one anyway), so
/// made-up names do not pile up.
fn prune_before(db: &DatabaseConnection, pruned: &AtomicI64, window: i64) {
    let last = pruned.load(Ordering::Relaxed);
    if last >= window
        || pruned
            .compare_exchange(last, window, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        return;
    }
    let db = db.clone();
    tokio::spawn(async move {
        let deleted = login_attempt::Entity::delete_many()
            .filter(login_attempt::Column::WindowStart.lt(window))
            .exec(&db)
            .await;
        if let Err(err) = deleted {
            tracing::warn!("cannot delete old sign-in counts: {err}");
        }
    });
}

/// The address a client is counted by: IPv4 as it is, IPv6 by its /64 (one
/// subscriber usually holds a whole /64).
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

/// A limiter of `per_minute` attempts per key, or none for 0.
fn keyed<K: Clone + std::hash::Hash + Eq>(per_minute: u32) -> Option<DefaultKeyedRateLimiter<K>> {
    NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().expect("ip");
        let other: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(other));
        let v4: IpAddr = "192.0.2.7".parse().expect("ip");
        assert_eq!(client_key(v4), v4);
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("ip");
        assert_eq!(client_key(mapped), v4);
    }

    use crate::error::ErrorCode;

    const HOME: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));

    #[tokio::test]
    async fn attempts_past_the_name_limit_are_refused_with_a_wait() {
        let limiter = LoginLimiter::new(2, 0);
        assert!(limiter.check("alice", HOME).await.is_ok());
        assert!(limiter.check("ALICE", HOME).await.is_ok());
        let err = limiter
            .check("Alice", HOME)
            .await
            .expect_err("third attempt");
        assert_eq!(err.code(), ErrorCode::TooManyRequests);
        let AppError::TooManyRequests { retry_after } = err else {
            panic!("not a rate limit error");
        };
        assert!((1..=30).contains(&retry_after), "{retry_after}");
        assert!(
            limiter.check("bob", HOME).await.is_ok(),
            "other names are not limited"
        );
    }

    #[tokio::test]
    async fn addresses_of_one_ipv6_64_share_one_address_limit() {
        let limiter = LoginLimiter::new(0, 2);
        let one = |last: &str| Some(format!("2001:db8:7:7::{last}").parse().expect("ip"));
        assert!(limiter.check("a", one("1")).await.is_ok());
        assert!(limiter.check("a", one("2")).await.is_ok());
        assert!(limiter.check("a", one("3")).await.is_err(), "the same /64");
        let elsewhere = Some("2001:db8:7:8::1".parse().expect("ip"));
        assert!(limiter.check("a", elsewhere).await.is_ok(), "another /64");
    }

    #[tokio::test]
    async fn attempts_past_the_address_limit_are_refused_whatever_the_name() {
        let limiter = LoginLimiter::new(0, 2);
        assert!(limiter.check("a", HOME).await.is_ok());
        assert!(limiter.check("b", HOME).await.is_ok());
        assert!(limiter.check("c", HOME).await.is_err());
        assert!(
            limiter.check("c", None).await.is_ok(),
            "unknown address: name limit only"
        );
    }

    #[tokio::test]
    async fn zero_turns_the_limits_off() {
        let limiter = LoginLimiter::new(0, 0);
        for _ in 0..100 {
            assert!(limiter.check("alice", HOME).await.is_ok());
        }
    }
}
