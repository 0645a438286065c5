//! Token signing and checking (JWT, HS256 only).
//!
//! The algorithm is pinned: a token whose header names another algorithm (or
//! `none`) is refused before its signature is looked at. Claims are `sub` (the
//! user's immutable id), `iat`, `exp`, `gen` (the user's password generation, so
//! a password change invalidates every token issued before it), and `iss` and
//! `aud`, both naming this installation (its database's id), so two
//! installations sharing a secret still refuse each other's tokens. A token
//! issued in the future (beyond the clock leeway) or living longer than the
//! configured lifetime is refused, whoever signed it.

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
    /// The installation that issued it.
    pub iss: String,
    /// The installation it is for (the same).
    pub aud: String,
}

/// Keys and rules for tokens.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
    installation: String,
}

impl JwtKeys {
    /// Keys from a shared secret for the installation `installation`; tokens
    /// live for `ttl`.
    pub fn new(secret: &[u8], ttl: Duration, installation: &str) -> Self {
        let installation = format!("osp-gateway:{installation}");
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        validation.set_issuer(&[&installation]);
        validation.set_audience(&[&installation]);
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
            installation,
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
            iss: self.installation.clone(),
            aud: self.installation.clone(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AppError::internal)?;
        let expires = DateTime::from_timestamp(claims.exp, 0).unwrap_or(expires);
        Ok((token, expires))
    }

    /// Checks a token's algorithm, signature, issuer, audience and lifetime.
    pub fn verify(&self, token: &str) -> Result<Claims, AppError> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|err| match err.kind() {
                ErrorKind::ExpiredSignature => AppError::TokenExpired,
                _ => AppError::Unauthorized(BAD_TOKEN),
            })?;
        let leeway = i64::try_from(LEEWAY_SECS).unwrap_or(i64::MAX);
        let ttl = i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX);
        let issued_in_the_future = claims.iat > Utc::now().timestamp().saturating_add(leeway);
        let lives_too_long = claims.exp.saturating_sub(claims.iat) > ttl.saturating_add(leeway);
        if issued_in_the_future || lives_too_long {
            return Err(AppError::Unauthorized(BAD_TOKEN));
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    const INSTALLATION: &str = "0123456789abcdef";

    fn keys() -> JwtKeys {
        JwtKeys::new(SECRET, Duration::from_secs(60), INSTALLATION)
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
            iss: format!("osp-gateway:{INSTALLATION}"),
            aud: format!("osp-gateway:{INSTALLATION}"),
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

    fn refused(claims: &Claims) -> ErrorCode {
        let token = sign(claims, Algorithm::HS256, SECRET);
        keys().verify(&token).expect_err("refused").code()
    }

    #[test]
    fn a_token_of_another_installation_with_the_same_secret_is_refused() {
        let mut other = claims(60);
        other.iss = "osp-gateway:another".into();
        other.aud = "osp-gateway:another".into();
        assert_eq!(refused(&other), ErrorCode::Unauthorized);
        let mut wrong_audience = claims(60);
        wrong_audience.aud = "osp-gateway:another".into();
        assert_eq!(refused(&wrong_audience), ErrorCode::Unauthorized);
    }

    #[test]
    fn a_token_without_issuer_or_audience_is_refused() {
        let mut claims = serde_json::to_value(claims(60)).expect("json");
        claims.as_object_mut().expect("object").remove("iss");
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
        .expect("signs");
        assert_eq!(
            keys().verify(&token).expect_err("no iss").code(),
            ErrorCode::Unauthorized
        );
    }

    #[test]
    fn a_token_issued_in_the_future_is_refused() {
        let mut future = claims(60);
        future.iat += 60;
        future.exp += 60;
        assert_eq!(refused(&future), ErrorCode::Unauthorized);
        let mut within_leeway = claims(60);
        within_leeway.iat += 2;
        let token = sign(&within_leeway, Algorithm::HS256, SECRET);
        keys().verify(&token).expect("clock skew within the leeway");
    }

    #[test]
    fn a_token_living_longer_than_the_configured_lifetime_is_refused() {
        // Valid signature and not expired, but issued for a day where the
        // lifetime is a minute.
        assert_eq!(refused(&claims(24 * 60 * 60)), ErrorCode::Unauthorized);
    }
}
