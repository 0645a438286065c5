//! Sign-in rate limits: attempts per user name and per client address.
//!
//! Every attempt counts, successful or not, and is counted before the password
//! is checked, so guessing costs the gateway no hashing once the limit is hit.
//! Limits are per gateway process (each replica keeps its own counts). This
//! module knows nothing of HTTP or GraphQL; it answers with an [`AppError`].

use std::{net::IpAddr, num::NonZeroU32};

use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};

use crate::error::AppError;

/// Past this many tracked keys, keys whose limit has fully recovered are dropped,
/// so a flood of made-up names cannot grow memory without bound.
const PRUNE_ABOVE_KEYS: usize = 10_000;
/// Longest name kept as a key (valid names are at most 64 bytes).
const MAX_NAME_KEY_BYTES: usize = 128;

/// The sign-in limits of one gateway.
pub struct LoginLimiter {
    by_name: Option<DefaultKeyedRateLimiter<String>>,
    by_address: Option<DefaultKeyedRateLimiter<IpAddr>>,
    clock: DefaultClock,
}

impl LoginLimiter {
    /// Allows `per_name` attempts per user name and `per_address` attempts per
    /// client address each minute (as a burst, then refilled evenly over the
    /// minute); 0 turns a limit off.
    pub fn new(per_name: u32, per_address: u32) -> Self {
        LoginLimiter {
            by_name: keyed(per_name),
            by_address: keyed(per_address),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one sign-in attempt as `name` from `address` (when known), or says
    /// how long to wait. Names are compared without regard to case, as user names are.
    pub fn check(&self, name: &str, address: Option<IpAddr>) -> Result<(), AppError> {
        if let (Some(limiter), Some(address)) = (&self.by_address, address) {
            // An IPv6 client holds a whole /64: count it as one address.
            self.check_key(limiter, &client_key(address))?;
        }
        if let Some(limiter) = &self.by_name {
            let key: String = name
                .chars()
                .flat_map(char::to_lowercase)
                .take(MAX_NAME_KEY_BYTES)
                .collect();
            self.check_key(limiter, &key)?;
        }
        Ok(())
    }

    fn check_key<K>(&self, limiter: &DefaultKeyedRateLimiter<K>, key: &K) -> Result<(), AppError>
    where
        K: Clone + std::hash::Hash + Eq,
    {
        if limiter.len() > PRUNE_ABOVE_KEYS {
            limiter.retain_recent();
        }
        limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            // Round up: retrying after a rounded-down wait would be refused again.
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            AppError::TooManyRequests {
                retry_after: secs.max(1),
            }
        })
    }
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

    #[test]
    fn attempts_past_the_name_limit_are_refused_with_a_wait() {
        let limiter = LoginLimiter::new(2, 0);
        assert!(limiter.check("alice", HOME).is_ok());
        assert!(limiter.check("ALICE", HOME).is_ok());
        let err = limiter.check("Alice", HOME).expect_err("third attempt");
        assert_eq!(err.code(), ErrorCode::TooManyRequests);
        let AppError::TooManyRequests { retry_after } = err else {
            panic!("not a rate limit error");
        };
        assert!((1..=30).contains(&retry_after), "{retry_after}");
        assert!(
            limiter.check("bob", HOME).is_ok(),
            "other names are not limited"
        );
    }

    #[test]
    fn addresses_of_one_ipv6_64_share_one_address_limit() {
        let limiter = LoginLimiter::new(0, 2);
        let one = |last: &str| Some(format!("2001:db8:7:7::{last}").parse().expect("ip"));
        assert!(limiter.check("a", one("1")).is_ok());
        assert!(limiter.check("a", one("2")).is_ok());
        assert!(limiter.check("a", one("3")).is_err(), "the same /64");
        let elsewhere = Some("2001:db8:7:8::1".parse().expect("ip"));
        assert!(limiter.check("a", elsewhere).is_ok(), "another /64");
    }

    #[test]
    fn attempts_past_the_address_limit_are_refused_whatever_the_name() {
        let limiter = LoginLimiter::new(0, 2);
        assert!(limiter.check("a", HOME).is_ok());
        assert!(limiter.check("b", HOME).is_ok());
        assert!(limiter.check("c", HOME).is_err());
        assert!(
            limiter.check("c", None).is_ok(),
            "unknown address: name limit only"
        );
    }

    #[test]
    fn zero_turns_the_limits_off() {
        let limiter = LoginLimiter::new(0, 0);
        for _ in 0..100 {
            assert!(limiter.check("alice", HOME).is_ok());
        }
    }
}
