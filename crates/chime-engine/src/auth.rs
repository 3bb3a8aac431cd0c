//! API tokens: made here, stored as SHA-256 only, checked on every request
//! through a short cache so a busy API does not read the store per call.

use chime_core::model::{new_id, FieldError, Role, Token};
use chime_store::{Store, StoreError, TokenCreate};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Every token starts with this, so a leaked one is easy to recognise.
pub const PREFIX: &str = "chime_";
/// A revoked token keeps working on an instance for at most this long.
pub const CACHE_TTL: Duration = Duration::from_secs(10);
const CACHE_MAX: usize = 10_000;

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a token's secret, as stored.
pub fn hash(secret: &str) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, secret.as_bytes()).as_ref())
}

/// Creates a token; the secret is returned once and never stored.
pub async fn create(
    store: &dyn Store,
    name: &str,
    role: Role,
    namespace: &str,
) -> Result<(Token, String), CreateError> {
    if name.trim().is_empty() || name.len() > 128 {
        return Err(FieldError::new("name", "must be 1 to 128 characters").into());
    }
    chime_core::model::validate::name("namespace", namespace)?;
    let mut random = [0u8; 20];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random)
        .map_err(|_| CreateError::Random)?;
    let secret = format!("{PREFIX}{}", hex(&random));
    let token = store
        .tokens_create(TokenCreate {
            id: new_id(),
            name: name.to_string(),
            role,
            namespace: namespace.to_string(),
            hash: hash(&secret),
            now: None,
        })
        .await?;
    Ok((token, secret))
}

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the system's random number generator failed")]
    Random,
}

/// Checks bearer tokens against the store, remembering answers briefly.
pub struct Authenticator {
    store: Arc<dyn Store>,
    cache: Mutex<HashMap<String, (Option<Token>, Instant)>>,
}

impl Authenticator {
    pub fn new(store: Arc<dyn Store>) -> Authenticator {
        Authenticator {
            store,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The token `secret` stands for, if any.
    pub async fn check(&self, secret: &str) -> Result<Option<Token>, StoreError> {
        // Only well-formed secrets reach the store (and the cache).
        if !secret.starts_with(PREFIX) || secret.len() > 128 {
            return Ok(None);
        }
        let key = hash(secret);
        if let Ok(cache) = self.cache.lock() {
            if let Some((token, at)) = cache.get(&key) {
                if at.elapsed() < CACHE_TTL {
                    return Ok(token.clone());
                }
            }
        }
        let token = self.store.tokens_find(&key).await?;
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_MAX {
                cache.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
                if cache.len() >= CACHE_MAX {
                    cache.clear();
                }
            }
            cache.insert(key, (token.clone(), Instant::now()));
        }
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_sha256_hex() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
