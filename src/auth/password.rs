//! Password hashing and checking with Argon2id.
//!
//! Parameters are OWASP's minimum (m = 19 MiB, t = 2, p = 1), argon2's defaults.
//! Hashing is deliberately slow and memory-hungry, so it runs on a small pool of
//! dedicated threads, never on the async workers: one thread per core but one
//! (at least one), so a burst of sign-ins queues here and always leaves a core
//! for every other request. Long-lived threads also keep memory flat: each
//! reuses its 19 MiB, where short-lived blocking threads would each leave a
//! freed block behind in the allocator.
//!
//! The queue is bounded ([`MAX_QUEUED`]): past it, work is refused at once with
//! `ServiceUnavailable` (503, `Retry-After`) instead of waiting behind a flood,
//! and a job whose request has gone (timed out, disconnected) is skipped rather
//! than hashed for nobody.
//!
//! The threads also run at a lower scheduling priority than the serving threads
//! ([`NICE_BELOW_SERVING`]): when sign-ins keep every core busy, the scheduler
//! still gives a list request its core at once, so a burst of sign-ins slows
//! the sign-ins, not everyone else's reads.

use std::sync::{Arc, Mutex, mpsc};

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use tokio::sync::{OnceCell, oneshot};

use crate::error::AppError;

type Job = Box<dyn FnOnce() + Send>;

/// Password jobs waiting for a thread, at most; past it, work is refused.
pub const MAX_QUEUED: usize = 32;
/// Seconds a client refused for a full queue is told to wait.
const RETRY_AFTER_SECS: u64 = 1;
/// How much nicer (lower in priority) than the serving threads the hashing
/// threads are, on Linux: at 19 (the most) a busy hashing thread gets about
/// 1.5% of a core that a serving thread also wants, and all of an idle one.
/// At 10 (a tenth of a contended core) the REST list's p99 beside 16 clients
/// signing in was still 2.1x its p99 alone on two cores; the hashes' memory
/// traffic costs the serving threads more than their share of CPU.
pub const NICE_BELOW_SERVING: i32 = 19;

/// Hashes and checks passwords off the async workers.
#[derive(Clone)]
pub struct Passwords {
    jobs: mpsc::SyncSender<Job>,
    dummy: Arc<OnceCell<String>>,
}

impl Default for Passwords {
    fn default() -> Self {
        Self::new()
    }
}

impl Passwords {
    /// A hasher with one thread per core but one (at least one). The threads
    /// end when the last clone of this handle is dropped.
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self::with_threads(cores.saturating_sub(1).max(1))
    }

    /// A hasher with `workers` threads.
    fn with_threads(workers: usize) -> Self {
        let (jobs, queue) = mpsc::sync_channel::<Job>(MAX_QUEUED);
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..workers {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name("osp-password".into())
                .spawn(move || {
                    lower_priority();
                    loop {
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return, // every handle is gone
                        }
                    }
                });
            if let Err(err) = spawned {
                tracing::error!("cannot start a password thread: {err}");
            }
        }
        Passwords {
            jobs,
            dummy: Arc::new(OnceCell::new()),
        }
    }

    /// Hashes a password into a PHC string.
    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        self.run(move || {
            Argon2::default()
                .hash_password(password.as_bytes())
                .map(|hash| hash.to_string())
                .map_err(|e| AppError::internal(anyhow::anyhow!("hashing failed: {e}")))
        })
        .await?
    }

    /// Checks a password against a stored hash. With no hash (unknown user) it
    /// checks against a dummy hash, so the answer takes as long as for a real
    /// user, and returns false.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, AppError> {
        let (hash, real) = match hash {
            Some(hash) => (hash, true),
            None => (self.dummy_hash().await?, false),
        };
        let matches = self
            .run(move || {
                Argon2::default()
                    .verify_password(password.as_bytes(), hash.as_str())
                    .is_ok()
            })
            .await?;
        Ok(real && matches)
    }

    async fn dummy_hash(&self) -> Result<String, AppError> {
        self.dummy
            .get_or_try_init(|| self.hash("not a real password, only a timing decoy".to_owned()))
            .await
            .cloned()
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            // Nobody waits for it any more (the request timed out or went away).
            if done.is_closed() {
                return;
            }
            let _ = done.send(work());
        });
        self.jobs.try_send(job).map_err(|err| match err {
            mpsc::TrySendError::Full(_) => AppError::ServiceUnavailable {
                retry_after: RETRY_AFTER_SECS,
            },
            mpsc::TrySendError::Disconnected(_) => {
                AppError::internal(anyhow::anyhow!("the password threads are gone"))
            }
        })?;
        result
            .await
            .map_err(|_| AppError::internal(anyhow::anyhow!("a password job was dropped")))
    }
}

/// Lowers the calling thread's priority by [`NICE_BELOW_SERVING`] (on Linux a
/// thread has its own nice value). Failing is harmless: hashing then competes
/// with serving as an equal.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getpriority_process, setpriority_process};
        let nice = getpriority_process(None).unwrap_or(0);
        if let Err(err) = setpriority_process(None, nice + NICE_BELOW_SERVING) {
            tracing::warn!("cannot lower the priority of a password thread: {err}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_is_argon2id_with_owasp_parameters() {
        let hash = Passwords::new()
            .hash("correct horse".into())
            .await
            .expect("hashes");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
    }

    #[tokio::test]
    async fn right_password_matches_and_wrong_one_does_not() {
        let passwords = Passwords::new();
        let hash = passwords
            .hash("correct horse".into())
            .await
            .expect("hashes");
        assert!(
            passwords
                .verify("correct horse".into(), Some(hash.clone()))
                .await
                .expect("runs")
        );
        assert!(
            !passwords
                .verify("wrong horse".into(), Some(hash))
                .await
                .expect("runs")
        );
    }

    #[tokio::test]
    async fn unknown_user_never_matches_even_the_decoy_password() {
        let passwords = Passwords::new();
        let decoy = "not a real password, only a timing decoy".to_owned();
        assert!(!passwords.verify(decoy, None).await.expect("runs"));
    }

    /// Occupies the only thread of `passwords` until the returned sender sends.
    async fn hold_the_thread(
        passwords: &Passwords,
    ) -> (
        std::sync::mpsc::Sender<()>,
        tokio::task::JoinHandle<Result<(), AppError>>,
    ) {
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (started_tx, started) = oneshot::channel();
        let blocker = tokio::spawn({
            let passwords = passwords.clone();
            async move {
                passwords
                    .run(move || {
                        let _ = started_tx.send(());
                        let _ = held.recv();
                    })
                    .await
            }
        });
        started.await.expect("the thread took the blocker");
        (release, blocker)
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_run_below_the_priority_of_the_serving_threads() {
        use rustix::process::getpriority_process;
        let passwords = Passwords::with_threads(1);
        let serving = getpriority_process(None).expect("own priority");
        let hashing = passwords
            .run(|| getpriority_process(None).expect("thread priority"))
            .await
            .expect("ran");
        // The nice value is capped at 19.
        assert_eq!(hashing, (serving + NICE_BELOW_SERVING).min(19));
    }

    #[tokio::test]
    async fn a_full_queue_refuses_work_at_once_with_service_unavailable() {
        let passwords = Passwords::with_threads(1);
        // Hold the only thread, then fill the queue behind it.
        let (release, blocker) = hold_the_thread(&passwords).await;
        let queued: Vec<_> = (0..MAX_QUEUED)
            .map(|_| {
                tokio::spawn({
                    let passwords = passwords.clone();
                    async move { passwords.run(|| 1).await }
                })
            })
            .collect();
        // Let every queued job reach the queue.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let refused = tokio::time::timeout(std::time::Duration::from_secs(2), passwords.run(|| 1))
            .await
            .expect("refused at once, not queued")
            .expect_err("the queue is full");
        assert_eq!(refused.code(), crate::error::ErrorCode::ServiceUnavailable);
        assert_eq!(refused.retry_after(), Some(RETRY_AFTER_SECS));
        release.send(()).expect("released");
        blocker.await.expect("joined").expect("ran");
        for job in queued {
            assert_eq!(job.await.expect("joined").expect("ran"), 1);
        }
    }

    #[tokio::test]
    async fn a_job_nobody_waits_for_is_skipped() {
        let passwords = Passwords::with_threads(1);
        let (release, blocker) = hold_the_thread(&passwords).await;
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let abandoned = tokio::spawn({
            let passwords = passwords.clone();
            let ran = ran.clone();
            async move {
                passwords
                    .run(move || ran.store(true, std::sync::atomic::Ordering::SeqCst))
                    .await
            }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        abandoned.abort();
        let _ = abandoned.await;
        release.send(()).expect("released");
        blocker.await.expect("joined").expect("ran");
        // A job queued after the abandoned one runs, so the thread went past it.
        assert_eq!(passwords.run(|| 2).await.expect("ran"), 2);
        assert!(
            !ran.load(std::sync::atomic::Ordering::SeqCst),
            "the abandoned job was skipped"
        );
    }

    #[tokio::test]
    async fn many_hashes_at_once_all_complete() {
        let passwords = Passwords::new();
        let hashes =
            futures_util::future::join_all((0..6).map(|i| passwords.hash(format!("password-{i}"))))
                .await;
        assert!(hashes.iter().all(Result::is_ok));
    }
}
