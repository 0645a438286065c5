//! Automatic persisted queries, as Apollo clients speak them: a request may
//! carry `extensions.persistedQuery { version: 1, sha256Hash }` instead of (or
//! beside) its query text.
//!
//! - Hash and text: the text is registered under its hash, if the hash really
//!   is the SHA-256 of the text (else the request is refused and nothing is
//!   registered), and executed.
//! - Hash alone: the registered text is executed; an unknown hash answers
//!   `PersistedQueryNotFound` (`extensions.code` `PERSISTED_QUERY_NOT_FOUND`),
//!   upon which the client sends hash and text.
//!
//! Registered texts are kept by size (bounded in all), least recently used
//! first out; a replica that has not seen a text asks for it again.

use std::sync::Arc;

use async_graphql::{Request, Value};
use sha2::{Digest, Sha256};

use crate::error::AppError;

/// Bytes of registered query text kept at most.
const KEPT_BYTES: u64 = 16 * 1024 * 1024;

/// What the persisted-query extension made of a request.
#[derive(Debug)]
pub enum Persisted {
    /// The request carries its text (registered now if it named a hash).
    Ready(Box<Request>),
    /// The hash is not registered: the client must send the text.
    NotFound,
}

/// The registered query texts, by SHA-256 (hex, lower case).
pub struct PersistedQueries {
    texts: moka::sync::Cache<String, Arc<str>>,
}

impl Default for PersistedQueries {
    fn default() -> Self {
        PersistedQueries {
            texts: moka::sync::Cache::builder()
                .weigher(|hash: &String, text: &Arc<str>| {
                    u32::try_from(hash.len() + text.len()).unwrap_or(u32::MAX)
                })
                .max_capacity(KEPT_BYTES)
                .build(),
        }
    }
}

impl PersistedQueries {
    /// Resolves the persisted-query extension of `request`, if it has one.
    /// For a caller without a valid token (`signed_in` false) no hash is
    /// looked up or registered: a hash alone answers `NotFound` whether or
    /// not it is known (so nobody learns which texts others ran), and a text
    /// with its hash runs without being kept (so nobody evicts others' texts).
    pub fn resolve(&self, mut request: Request, signed_in: bool) -> Result<Persisted, AppError> {
        let Some(persisted) = request.extensions.0.get("persistedQuery") else {
            return Ok(Persisted::Ready(Box::new(request)));
        };
        let hash = read_extension(persisted)?;
        if request.query.is_empty() {
            if !signed_in {
                return Ok(Persisted::NotFound);
            }
            return Ok(match self.texts.get(&hash) {
                Some(text) => {
                    request.query = text.to_string();
                    Persisted::Ready(Box::new(request))
                }
                None => Persisted::NotFound,
            });
        }
        if sha256_hex(&request.query) != hash {
            return Err(AppError::invalid(
                "extensions.persistedQuery.sha256Hash",
                "is not the SHA-256 of the query sent with it",
            ));
        }
        if signed_in {
            self.texts.insert(hash, request.query.as_str().into());
        }
        Ok(Persisted::Ready(Box::new(request)))
    }
}

/// The hash of `{ version: 1, sha256Hash }`, checked.
fn read_extension(persisted: &Value) -> Result<String, AppError> {
    let field = "extensions.persistedQuery";
    let Value::Object(persisted) = persisted else {
        return Err(AppError::invalid(field, "must be an object"));
    };
    match persisted.get("version") {
        Some(Value::Number(n)) if n.as_u64() == Some(1) => {}
        _ => return Err(AppError::invalid(field, "only version 1 is supported")),
    }
    match persisted.get("sha256Hash") {
        Some(Value::String(hash))
            if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            Ok(hash.to_ascii_lowercase())
        }
        _ => Err(AppError::invalid(
            "extensions.persistedQuery.sha256Hash",
            "must be 64 hexadecimal digits",
        )),
    }
}

/// The SHA-256 of `text`, as lower-case hex.
pub fn sha256_hex(text: &str) -> String {
    sha256_hex_bytes(text.as_bytes())
}

/// The SHA-256 of `bytes`, as lower-case hex.
pub fn sha256_hex_bytes(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_extension(query: &str, hash: &str) -> Request {
        let mut request = Request::new(query);
        let mut persisted = async_graphql::indexmap::IndexMap::new();
        persisted.insert(async_graphql::Name::new("version"), Value::from(1));
        persisted.insert(async_graphql::Name::new("sha256Hash"), Value::from(hash));
        request
            .extensions
            .0
            .insert("persistedQuery".into(), Value::Object(persisted));
        request
    }

    #[test]
    fn a_hash_is_unknown_until_its_text_is_sent_with_it() {
        let kept = PersistedQueries::default();
        let text = "{ __typename }";
        let hash = sha256_hex(text);
        assert!(matches!(
            kept.resolve(with_extension("", &hash), true),
            Ok(Persisted::NotFound)
        ));
        assert!(matches!(
            kept.resolve(with_extension(text, &hash), true),
            Ok(Persisted::Ready(_))
        ));
        let Ok(Persisted::Ready(request)) = kept.resolve(with_extension("", &hash), true) else {
            panic!("registered");
        };
        assert_eq!(request.query, text);
    }

    #[test]
    fn callers_without_a_token_neither_look_up_nor_register_hashes() {
        let kept = PersistedQueries::default();
        let text = "{ __typename }";
        let hash = sha256_hex(text);
        assert!(matches!(
            kept.resolve(with_extension(text, &hash), false),
            Ok(Persisted::Ready(_))
        ));
        assert!(
            matches!(
                kept.resolve(with_extension("", &hash), true),
                Ok(Persisted::NotFound)
            ),
            "an anonymous run registered nothing"
        );
        kept.resolve(with_extension(text, &hash), true)
            .expect("registered by a signed-in caller");
        assert!(
            matches!(
                kept.resolve(with_extension("", &hash), false),
                Ok(Persisted::NotFound)
            ),
            "a known hash is not found for an anonymous caller either"
        );
    }

    #[test]
    fn a_hash_that_is_not_the_texts_registers_nothing() {
        let kept = PersistedQueries::default();
        let other = sha256_hex("{ me { name } }");
        let err = kept
            .resolve(with_extension("{ __typename }", &other), true)
            .expect_err("mismatch");
        assert_eq!(err.code(), crate::error::ErrorCode::InvalidParameter);
        assert!(matches!(
            kept.resolve(with_extension("", &other), true),
            Ok(Persisted::NotFound)
        ));
    }

    #[test]
    fn the_sha256_is_the_standard_one() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
