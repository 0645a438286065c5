//! Sign-ins under way and the one-time codes that finish them, in the
//! database, so that whichever replica the provider's callback or the
//! browser's redemption reaches can finish a sign-in another one started.
//!
//! Both are taken by a `DELETE` of their key whose row count says whether
//! this request took it: two requests racing for one state or one code never
//! both succeed, on any of the three databases.

use chrono::{NaiveDateTime, SubsecRound, Utc};
use entity::{oidc_sign_in, sign_in_code};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use crate::error::AppError;

/// How long a sign-in code can be redeemed.
pub const CODE_TTL: std::time::Duration = std::time::Duration::from_secs(60);

fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(0)
}

/// 32 random bytes, base64url without padding (43 characters).
pub fn random_token() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `BASE64URL(SHA-256(verifier))`: the PKCE S256 challenge of a verifier.
pub fn challenge_of(verifier: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Whether `text` looks like an S256 challenge: 43 base64url characters.
pub fn is_challenge(text: &str) -> bool {
    text.len() == 43
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `text` is a PKCE verifier (RFC 7636: 43-128 unreserved characters).
pub fn is_verifier(text: &str) -> bool {
    (43..=128).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn hash_code(code: &str) -> String {
    Sha256::digest(code.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Equal bytes, compared in time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A sign-in to remember until the provider sends the browser back.
pub struct Pending {
    /// The `state` sent.
    pub state: String,
    /// The `nonce` sent.
    pub nonce: String,
    /// The PKCE verifier of the code exchange.
    pub pkce_verifier: String,
    /// The browser's challenge.
    pub challenge: String,
    /// Where to send the browser back to.
    pub redirect: String,
}

/// Remembers a sign-in for `ttl`, first forgetting every expired one (so the
/// table holds at most what `ttl` lets accumulate).
pub async fn save(
    db: &impl ConnectionTrait,
    pending: Pending,
    ttl: std::time::Duration,
) -> Result<(), AppError> {
    let now = now();
    oidc_sign_in::Entity::delete_many()
        .filter(oidc_sign_in::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?;
    let ttl = chrono::Duration::from_std(ttl).map_err(AppError::internal)?;
    let row = oidc_sign_in::ActiveModel {
        state: Set(pending.state),
        nonce: Set(pending.nonce),
        pkce_verifier: Set(pending.pkce_verifier),
        challenge: Set(pending.challenge),
        redirect: Set(pending.redirect),
        expires_at: Set(now + ttl),
    };
    oidc_sign_in::Entity::insert(row).exec(db).await?;
    Ok(())
}

/// Takes the sign-in of `state`: `None` when there is none, it expired, or
/// another request took it first.
pub async fn take(
    db: &impl ConnectionTrait,
    state: &str,
) -> Result<Option<oidc_sign_in::Model>, AppError> {
    let Some(found) = oidc_sign_in::Entity::find_by_id(state.to_owned())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let deleted = oidc_sign_in::Entity::delete_many()
        .filter(oidc_sign_in::Column::State.eq(state))
        .exec(db)
        .await?;
    Ok((deleted.rows_affected == 1 && found.expires_at >= now()).then_some(found))
}

/// A new one-time code handing `user_id`'s sign-in to the browser whose
/// verifier matches `challenge`.
pub async fn issue_code(
    db: &impl ConnectionTrait,
    user_id: i64,
    challenge: &str,
) -> Result<String, AppError> {
    let now = now();
    sign_in_code::Entity::delete_many()
        .filter(sign_in_code::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?;
    let code = random_token();
    let ttl = chrono::Duration::from_std(CODE_TTL).map_err(AppError::internal)?;
    let row = sign_in_code::ActiveModel {
        code_hash: Set(hash_code(&code)),
        user_id: Set(user_id),
        challenge: Set(challenge.to_owned()),
        expires_at: Set(now + ttl),
    };
    sign_in_code::Entity::insert(row).exec(db).await?;
    Ok(code)
}

/// Why a code was not redeemed (every one answers `Unauthorized` alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeRefusal {
    /// Never issued, or redeemed already.
    Unknown,
    /// Older than [`CODE_TTL`].
    Expired,
    /// The verifier's challenge is not the one that started the sign-in.
    Verifier,
}

impl CodeRefusal {
    /// The audit trail's reason.
    pub fn reason(self) -> &'static str {
        match self {
            CodeRefusal::Unknown => "code",
            CodeRefusal::Expired => "code expired",
            CodeRefusal::Verifier => "verifier",
        }
    }
}

/// Redeems a code with the verifier of the browser that started the sign-in:
/// the user it signs in. The code is used up whatever the outcome.
pub async fn redeem(
    db: &impl ConnectionTrait,
    code: &str,
    verifier: &str,
) -> Result<Result<i64, CodeRefusal>, AppError> {
    if code.len() > 64 {
        return Ok(Err(CodeRefusal::Unknown));
    }
    let hash = hash_code(code);
    let Some(found) = sign_in_code::Entity::find_by_id(hash.clone())
        .one(db)
        .await?
    else {
        return Ok(Err(CodeRefusal::Unknown));
    };
    let deleted = sign_in_code::Entity::delete_many()
        .filter(sign_in_code::Column::CodeHash.eq(hash))
        .exec(db)
        .await?;
    if deleted.rows_affected != 1 {
        return Ok(Err(CodeRefusal::Unknown));
    }
    if found.expires_at < now() {
        return Ok(Err(CodeRefusal::Expired));
    }
    let matches = is_verifier(verifier)
        && same(
            challenge_of(verifier).as_bytes(),
            found.challenge.as_bytes(),
        );
    Ok(if matches {
        Ok(found.user_id)
    } else {
        Err(CodeRefusal::Verifier)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_of_the_rfc_7636_example_verifier() {
        // RFC 7636, appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            challenge_of(verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(is_verifier(verifier));
        assert!(is_challenge(&challenge_of(verifier)));
    }

    #[test]
    fn tokens_are_random_and_url_safe() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert!(is_challenge(&a));
    }

    #[test]
    fn malformed_challenges_and_verifiers_are_told_apart() {
        assert!(!is_challenge("short"));
        assert!(!is_challenge(&"a".repeat(42)));
        assert!(!is_challenge(&format!("{}=", "a".repeat(42))));
        assert!(!is_verifier(&"a".repeat(42)));
        assert!(!is_verifier(&"a".repeat(129)));
        assert!(!is_verifier(&format!("{}/", "a".repeat(43))));
    }

    #[test]
    fn comparison_needs_every_byte() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
    }
}
