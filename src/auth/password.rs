//! Password hashing and checking with Argon2id.
//!
//! Parameters are OWASP's minimum (m = 19 MiB, t = 2, p = 1), argon2's defaults.
//! Hashing is deliberately slow, so it runs on the blocking pool and never on the
//! async workers, and at most one hash per core runs at a time: a burst of logins
//! queues here instead of starving every other request of CPU and memory.

use std::sync::Arc;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use tokio::sync::{OnceCell, Semaphore};

use crate::error::AppError;

/// Hashes and checks passwords off the async workers.
#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    dummy: Arc<OnceCell<String>>,
}

impl Default for Passwords {
    fn default() -> Self {
        Self::new()
    }
}

impl Passwords {
    /// A hasher allowing one hash per available core at a time.
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Passwords {
            permits: Arc::new(Semaphore::new(cores)),
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
        let _permit = self.permits.acquire().await.map_err(AppError::internal)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(AppError::internal)
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
}
