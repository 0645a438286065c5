//! Token signing and checking (JWT, HS256 only).
//!
//! The algorithm is pinned: a token whose header names another algorithm (or
//! `none`) is refused before its signature is looked at. Claims are `sub` (the
//! user's immutable id), `iat`, `exp` and `gen`, the user's password generation,
//! so a password change invalidates every token issued before it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, BAD_TOKEN};

/// Clock skew tolerated between replicas when checking `exp` (the library's
/// default of 60 s would keep a 30-minute token alive for 31 minutes).
pub const LEEWAY_SECS: u64 = 5;

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
    /// The user's password generation when the token was issued.
    #[serde(rename = "gen")]
    pub generation: i32,
}

/// Keys and rules for tokens.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl JwtKeys {
    /// Keys from a shared secret; tokens live for `ttl`.
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.set_required_spec_claims(&["exp", "iat", "sub"]);
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
        }
    }

    /// The configured token lifetime.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Issues a token for a user; returns it with its expiry.
    pub fn issue(
        &self,
        user_id: i64,
        generation: i32,
    ) -> Result<(String, DateTime<Utc>), AppError> {
        let now = Utc::now();
        let ttl = chrono::Duration::from_std(self.ttl).map_err(AppError::internal)?;
        let expires = now + ttl;
        let claims = Claims {
            sub: user_id.to_string(),
            iat: now.timestamp(),
            exp: expires.timestamp(),
            generation,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AppError::internal)?;
        let expires = DateTime::from_timestamp(claims.exp, 0).unwrap_or(expires);
        Ok((token, expires))
    }

    /// Checks a token's algorithm, signature and lifetime.
    pub fn verify(&self, token: &str) -> Result<Claims, AppError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|err| match err.kind() {
                ErrorKind::ExpiredSignature => AppError::TokenExpired,
                _ => AppError::Unauthorized(BAD_TOKEN),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn keys() -> JwtKeys {
        JwtKeys::new(SECRET, Duration::from_secs(60))
    }

    fn sign(claims: &Claims, alg: Algorithm, secret: &[u8]) -> String {
        jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret))
            .expect("test token signs")
    }

    fn claims(exp_offset: i64) -> Claims {
        let now = Utc::now().timestamp();
        Claims {
            sub: "1".into(),
            iat: now,
            exp: now + exp_offset,
            generation: 0,
        }
    }

    #[test]
    fn issued_token_verifies_with_its_claims() {
        let keys = keys();
        let (token, expires) = keys.issue(7, 3).expect("issues");
        let claims = keys.verify(&token).expect("verifies");
        assert_eq!(claims.sub, "7");
        assert_eq!(claims.generation, 3);
        assert_eq!(claims.exp, expires.timestamp());
        assert_eq!(claims.exp - claims.iat, 60);
    }

    #[test]
    fn expired_token_is_rejected_as_expired() {
        let token = sign(&claims(-(LEEWAY_SECS as i64) - 2), Algorithm::HS256, SECRET);
        let err = keys().verify(&token).expect_err("expired");
        assert_eq!(err.code(), ErrorCode::TokenExpired);
    }

    #[test]
    fn leeway_is_only_a_few_seconds() {
        // Expired 20 s ago: inside jsonwebtoken's default leeway of 60 s, outside ours.
        let token = sign(&claims(-20), Algorithm::HS256, SECRET);
        assert_eq!(
            keys().verify(&token).expect_err("expired").code(),
            ErrorCode::TokenExpired
        );
    }

    #[test]
    fn token_signed_with_another_key_is_unauthorized() {
        let token = sign(
            &claims(60),
            Algorithm::HS256,
            b"another-secret-another-secret-00",
        );
        assert_eq!(
            keys().verify(&token).expect_err("bad signature").code(),
            ErrorCode::Unauthorized
        );
    }

    #[test]
    fn other_algorithms_are_refused_even_with_the_right_key() {
        let token = sign(&claims(60), Algorithm::HS512, SECRET);
        assert_eq!(
            keys().verify(&token).expect_err("wrong alg").code(),
            ErrorCode::Unauthorized
        );
    }

    #[test]
    fn unsigned_alg_none_token_is_refused() {
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
        let encode = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let header = encode(br#"{"alg":"none","typ":"JWT"}"#);
        let body = encode(serde_json::to_string(&claims(60)).expect("json").as_bytes());
        let token = format!("{header}.{body}.");
        assert_eq!(
            keys().verify(&token).expect_err("alg none").code(),
            ErrorCode::Unauthorized
        );
    }
}
