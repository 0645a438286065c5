//! Sign-in rate limits: attempts per (user name, client address) and per client
//! address, and a slowdown of names that keep failing.
//!
//! Every attempt counts, successful or not, and is counted before the password
//! is checked, so guessing costs the gateway no hashing once a limit is hit.
//! The per-name limit counts each client address apart, so one client spending
//! a name's attempts never locks out another (the rightful user elsewhere).
//! Failures of a name are also counted across addresses: past the per-name
//! limit, each attempt on that name waits a little longer first (at most
//! [`MAX_SLOWDOWN`]), and is never refused for it. That costs a guesser spread
//! over many addresses time, and the rightful user at most a second or two.
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
    collections::HashMap,
    net::IpAddr,
    num::NonZeroU32,
    sync::{
        Mutex,
        atomic::{AtomicI64, Ordering},
    },
    time::{Duration, Instant},
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
/// Longest name kept as a key (valid names are at most 64 characters).
const MAX_NAME_KEY_CHARS: usize = 128;
/// Longest name kept in a key beside an address: the shared table's subjects
/// hold 160 characters, an IPv6 address 39 of them.
const MAX_NAME_BESIDE_ADDRESS: usize = 100;
/// The window of the shared counts.
const WINDOW_SECS: i64 = 60;
/// The longest a failing name's attempt waits before its password is checked.
pub const MAX_SLOWDOWN: Duration = Duration::from_secs(2);
/// The wait added per failure past the per-name limit.
const SLOWDOWN_STEP: Duration = Duration::from_millis(200);

/// The sign-in limits of one gateway.
pub struct LoginLimiter {
    per_name: u32,
    per_address: u32,
    counts: Counts,
}

/// A name's attempts from one client address (`None`: address unknown).
type NameAtAddress = (String, Option<IpAddr>);

/// Where attempts are counted.
enum Counts {
    /// In this process.
    Memory {
        by_name: Option<DefaultKeyedRateLimiter<NameAtAddress>>,
        by_address: Option<DefaultKeyedRateLimiter<IpAddr>>,
        failures: Failures,
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
    /// Allows `per_name` attempts per user name and client address, and
    /// `per_address` attempts per client address, each minute (as a burst, then
    /// refilled evenly over the minute), counted in this process; 0 turns a
    /// limit off. A name failing more than `per_name` times a minute, from
    /// wherever, is slowed down (not with `per_name` 0).
    pub fn new(per_name: u32, per_address: u32) -> Self {
        LoginLimiter {
            per_name,
            per_address,
            counts: Counts::Memory {
                by_name: keyed(per_name),
                by_address: keyed(per_address),
                failures: Failures::new(per_name),
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
    /// how long to wait; when the name has been failing from anywhere, it first
    /// waits (at most [`MAX_SLOWDOWN`]). Names are compared without regard to
    /// case, as user names are.
    pub async fn check(&self, name: &str, address: Option<IpAddr>) -> Result<(), AppError> {
        let slowdown = self.admit(Some(name), address).await?;
        if !slowdown.is_zero() {
            tokio::time::sleep(slowdown).await;
        }
        Ok(())
    }

    /// Counts one attempt from `address` (when known) against the per-address
    /// limit only, or says how long to wait: for the steps of a sign-in that
    /// name nobody yet (the start of a sign-in through the identity provider,
    /// the redemption of its code).
    pub async fn check_address(&self, address: Option<IpAddr>) -> Result<(), AppError> {
        self.admit(None, address).await.map(|_| ())
    }

    /// Counts a failed attempt as `name` (a wrong password, or an unknown
    /// name), towards the name's slowdown. A count that cannot be stored is
    /// logged: the answer to the attempt does not depend on it.
    pub async fn failed(&self, name: &str) {
        if self.per_name == 0 {
            return;
        }
        let name = name_key(name);
        match &self.counts {
            Counts::Memory { failures, .. } => failures.add(name, Instant::now()),
            Counts::Shared { db, .. } => {
                if let Err(err) = count_attempts(db, &[(format!("f:{name}"), 1)]).await {
                    tracing::warn!("cannot count a failed sign-in: {err}");
                }
            }
        }
    }

    /// Counts the attempt and refuses it past a limit; otherwise how long it
    /// waits for its name's recent failures.
    async fn admit(
        &self,
        name: Option<&str>,
        address: Option<IpAddr>,
    ) -> Result<Duration, AppError> {
        // An IPv6 client holds a whole /64: it is counted as one address.
        let address = address.map(client_key);
        let by_address = address.filter(|_| self.per_address > 0);
        let name = name.filter(|_| self.per_name > 0).map(name_key);
        match &self.counts {
            Counts::Memory {
                by_name,
                by_address: address_limiter,
                failures,
                clock,
            } => {
                if let (Some(limiter), Some(by_address)) = (address_limiter, by_address) {
                    check_key(limiter, clock, &by_address)?;
                }
                let Some(name) = name else {
                    return Ok(Duration::ZERO);
                };
                let slowdown = failures.slowdown(&name, Instant::now());
                if let Some(limiter) = by_name {
                    check_key(limiter, clock, &(name, address))?;
                }
                Ok(slowdown)
            }
            Counts::Shared { db, pruned } => {
                let mut subjects = Vec::with_capacity(3);
                if let Some(by_address) = by_address {
                    subjects.push((format!("a:{by_address}"), 1));
                }
                if let Some(name) = &name {
                    subjects.push((name_at_address(name, address), 1));
                    // Read, not counted: failures are counted by `failed`.
                    subjects.push((format!("f:{name}"), 0));
                }
                if subjects.is_empty() {
                    return Ok(Duration::ZERO);
                }
                let now = chrono::Utc::now().timestamp();
                // Clocks of replicas may differ by a little: only windows
                // older than the one before this replica's are deleted.
                prune_before(db, pruned, now.div_euclid(WINDOW_SECS) - 1);
                let counted = count_attempts(db, &subjects).await?;
                let attempts = |subject: &str| {
                    counted
                        .iter()
                        .find(|(s, _)| s == subject)
                        .map_or(0, |(_, attempts)| *attempts)
                };
                let over = subjects.iter().any(|(subject, counts)| {
                    let limit = if subject.starts_with("a:") {
                        self.per_address
                    } else {
                        self.per_name
                    };
                    *counts > 0 && attempts(subject) > i64::from(limit)
                });
                if over {
                    let retry_after = WINDOW_SECS - now.rem_euclid(WINDOW_SECS);
                    return Err(AppError::TooManyRequests {
                        retry_after: u64::try_from(retry_after).unwrap_or(1).max(1),
                    });
                }
                Ok(name.map_or(Duration::ZERO, |name| {
                    let failed = attempts(&format!("f:{name}"));
                    slowdown_for(failed as f64, self.per_name)
                }))
            }
        }
    }
}

/// How long an attempt on a name waits after `failures` recent failures of
/// it: nothing up to the per-name limit, then [`SLOWDOWN_STEP`] more per
/// failure, up to [`MAX_SLOWDOWN`].
fn slowdown_for(failures: f64, per_name: u32) -> Duration {
    let excess = failures - f64::from(per_name);
    if excess <= 0.0 {
        return Duration::ZERO;
    }
    SLOWDOWN_STEP
        .mul_f64(excess.ceil().min(1_000.0))
        .min(MAX_SLOWDOWN)
}

/// Recent failures per name, in this process: a level that each failure
/// raises by one and that drains at the per-name limit per minute.
struct Failures {
    per_name: u32,
    levels: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Failures {
    fn new(per_name: u32) -> Self {
        Failures {
            per_name,
            levels: Mutex::default(),
        }
    }

    /// `level` recorded at `then`, drained until `now`.
    fn drained(&self, (level, then): (f64, Instant), now: Instant) -> f64 {
        let per_sec = f64::from(self.per_name) / 60.0;
        (level - now.saturating_duration_since(then).as_secs_f64() * per_sec).max(0.0)
    }

    fn add(&self, name: String, now: Instant) {
        let Ok(mut levels) = self.levels.lock() else {
            return;
        };
        if levels.len() > PRUNE_ABOVE_KEYS {
            levels.retain(|_, recorded| self.drained(*recorded, now) > 0.0);
        }
        let level = levels
            .get(&name)
            .map_or(0.0, |recorded| self.drained(*recorded, now));
        levels.insert(name, (level + 1.0, now));
    }

    fn slowdown(&self, name: &str, now: Instant) -> Duration {
        let Ok(levels) = self.levels.lock() else {
            return Duration::ZERO;
        };
        let level = levels
            .get(name)
            .map_or(0.0, |recorded| self.drained(*recorded, now));
        slowdown_for(level, self.per_name)
    }
}

/// The key of a name: in lower case, cut short.
fn name_key(name: &str) -> String {
    name.chars()
        .flat_map(char::to_lowercase)
        .take(MAX_NAME_KEY_CHARS)
        .collect()
}

/// The shared subject of a name's attempts from one address.
fn name_at_address(name: &str, address: Option<IpAddr>) -> String {
    let name: String = name.chars().take(MAX_NAME_BESIDE_ADDRESS).collect();
    match address {
        Some(address) => format!("n:{address}/{name}"),
        None => format!("n:-/{name}"),
    }
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

/// Adds `added` to each subject's count in the database clock's current
/// minute (a count of an earlier minute starts again at `added`), in one
/// statement, and reads the counts back.
async fn count_attempts(
    db: &DatabaseConnection,
    subjects: &[(String, i32)],
) -> Result<Vec<(String, i64)>, AppError> {
    let backend = db.get_database_backend();
    let mut values: Vec<Value> = Vec::with_capacity(2 * subjects.len());
    let mut rows = Vec::with_capacity(subjects.len());
    for (i, (subject, added)) in subjects.iter().enumerate() {
        values.push(subject.clone().into());
        values.push((*added).into());
        rows.push(match backend {
            DbBackend::Postgres => format!(
                "(${}, CAST(FLOOR(EXTRACT(EPOCH FROM now()) / {WINDOW_SECS}) AS BIGINT), ${})",
                2 * i + 1,
                2 * i + 2
            ),
            _ => format!("(?, FLOOR(UNIX_TIMESTAMP() / {WINDOW_SECS}), ?)"),
        });
    }
    let rows = rows.join(", ");
    let sql = match backend {
        DbBackend::Postgres => format!(
            "INSERT INTO login_attempts (subject, window_start, attempts) VALUES {rows} \
             ON CONFLICT (subject) DO UPDATE SET attempts = CASE \
             WHEN login_attempts.window_start = EXCLUDED.window_start \
             THEN login_attempts.attempts + EXCLUDED.attempts ELSE EXCLUDED.attempts END, \
             window_start = EXCLUDED.window_start \
             RETURNING subject, attempts"
        ),
        // MariaDB assigns left to right: `attempts` still sees the old window.
        _ => format!(
            "INSERT INTO login_attempts (subject, window_start, attempts) VALUES {rows} \
             ON DUPLICATE KEY UPDATE \
             attempts = IF(window_start = VALUES(window_start), \
             attempts + VALUES(attempts), VALUES(attempts)), \
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

    fn address(i: u32) -> Option<IpAddr> {
        Some(IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i)))
    }

    #[tokio::test]
    async fn one_address_spending_a_names_attempts_leaves_other_addresses_theirs() {
        let limiter = LoginLimiter::new(2, 0);
        assert!(limiter.check("admin", address(1)).await.is_ok());
        assert!(limiter.check("admin", address(1)).await.is_ok());
        let err = limiter
            .check("Admin", address(1))
            .await
            .expect_err("the third attempt from one address");
        assert_eq!(err.code(), ErrorCode::TooManyRequests);
        assert!(
            limiter.check("admin", address(2)).await.is_ok(),
            "another address still has the name's attempts"
        );
    }

    #[tokio::test]
    async fn a_name_failing_from_many_addresses_slows_down_and_is_never_refused() {
        let limiter = LoginLimiter::new(3, 5);
        let mut waits = Vec::new();
        for i in 0..40 {
            let wait = limiter
                .admit(Some("admin"), address(i))
                .await
                .expect("never refused for the name's failures elsewhere");
            waits.push(wait);
            limiter.failed("ADMIN").await;
        }
        assert!(waits[..=3].iter().all(Duration::is_zero), "{waits:?}");
        assert!(waits.windows(2).all(|w| w[0] <= w[1]), "{waits:?}");
        assert!(waits[4] > Duration::ZERO, "{waits:?}");
        assert_eq!(waits.last(), Some(&MAX_SLOWDOWN), "bounded");
        assert_eq!(
            limiter.admit(Some("bob"), address(1)).await.expect("bob"),
            Duration::ZERO,
            "other names are not slowed"
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
