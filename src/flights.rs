//! One rendering per answer: when many identical requests miss a kept answer
//! at once (a restart under polling load, or the first request after a
//! change), the first leads and renders it; the others wait for it to finish,
//! then find the answer kept instead of each building their own copy. If the
//! leader kept nothing (an error, a cluster that did not answer), followers
//! go on by themselves, all at once, not one after another.

use std::{sync::Arc, time::Duration};

use tokio::sync::{Mutex, OwnedMutexGuard};

/// Keys being rendered at most (an idle key's lock is dropped).
const KEYS: u64 = 10_000;
/// A key nobody asked for in this long loses its lock.
const IDLE: Duration = Duration::from_secs(60);

/// How a request came to render.
pub enum Turn {
    /// It renders for everyone; the others wait until this guard drops.
    Lead(OwnedMutexGuard<()>),
    /// It waited for a leader, who has finished: look for the kept answer.
    Followed,
}

/// A lock per key.
pub struct Flights {
    locks: moka::sync::Cache<String, Arc<Mutex<()>>>,
}

impl Default for Flights {
    fn default() -> Self {
        Flights {
            locks: moka::sync::Cache::builder()
                .max_capacity(KEYS)
                .time_to_idle(IDLE)
                .build(),
        }
    }
}

impl Flights {
    /// Leads the rendering of `key`, or waits for the request leading it.
    pub async fn turn(&self, key: &str) -> Turn {
        let lock = self.locks.get_with_by_ref(key, || Arc::new(Mutex::new(())));
        match lock.clone().try_lock_owned() {
            Ok(guard) => Turn::Lead(guard),
            Err(_) => {
                drop(lock.lock_owned().await);
                Turn::Followed
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn followers_of_a_key_wait_for_its_leader_and_only_they() {
        let flights = Arc::new(Flights::default());
        let leader = flights.turn("a").await;
        assert!(matches!(leader, Turn::Lead(_)));
        let other = tokio::time::timeout(Duration::from_millis(50), flights.turn("b")).await;
        assert!(
            matches!(other, Ok(Turn::Lead(_))),
            "other keys are not held up"
        );
        let follower = {
            let flights = flights.clone();
            tokio::spawn(async move { flights.turn("a").await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!follower.is_finished(), "the same key waits for its leader");
        drop(leader);
        let followed = tokio::time::timeout(Duration::from_secs(1), follower)
            .await
            .expect("done once the leader is")
            .expect("task");
        assert!(matches!(followed, Turn::Followed));
    }
}
