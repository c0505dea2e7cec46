//! Adapters of the small ports: Argon2id hashing, HS256 tokens, the system clock, UUID v7 ids.

use crate::hashing::{hash_now, Blocks, HashPool};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::Rng;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use xclade_domain::auth::TokenClaims;
use xclade_domain::error::DomainResult;
use xclade_domain::ports::{Clock, IdGenerator, PasswordHasher, TokenRejection, TokenSigner};
use xclade_domain::DomainError;

/// Argon2id on the bounded hashing pool of [`crate::hashing`].
pub struct Argon2Hasher {
    pool: HashPool,
    dummy_hash: String,
}

/// How long a hash may wait for a hashing thread before the request is refused (§4.1).
pub const HASH_MAX_WAIT: Duration = Duration::from_secs(5);
/// Queue places per hashing thread.
pub const HASH_QUEUE_PER_WORKER: usize = 32;

impl Argon2Hasher {
    /// One hashing thread per core. Prepares the dummy hash used to keep unknown-user checks as
    /// slow as real ones.
    pub fn new() -> DomainResult<Argon2Hasher> {
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::with_workers(workers, workers * HASH_QUEUE_PER_WORKER, HASH_MAX_WAIT)
    }

    /// A hasher with `workers` threads behind a queue of `queue` places.
    pub fn with_workers(workers: usize, queue: usize, max_wait: Duration) -> DomainResult<Argon2Hasher> {
        let pool = HashPool::new(workers, queue, max_wait)
            .map_err(|e| DomainError::internal(format!("cannot start the hashing threads: {e}")))?;
        let dummy_hash = hash_now("dummy password that matches nothing", &mut Blocks::default())
            .map_err(|e| DomainError::internal(format!("hashing failed: {e}")))?;
        Ok(Argon2Hasher { pool, dummy_hash })
    }
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, secret: &str) -> DomainResult<String> {
        self.pool.hash(secret).await
    }

    async fn verify<'a>(&self, secret: &str, hash: Option<&'a str>) -> DomainResult<bool> {
        let ok = self.pool.verify(secret, hash.unwrap_or(&self.dummy_hash)).await?;
        Ok(hash.is_some() && ok)
    }
}

/// HS256 JWTs.
///
/// A client sends the same token with every request until it expires, so the claims of tokens
/// verified lately are kept ([`VERIFIED_TOKENS`] of them), by the token's exact text: a token
/// met again is not decoded and its signature not computed again (about 3 % of the server's CPU
/// per customer read, docs/benchmarks.md, change 23). Only tokens whose signature was checked
/// are kept, and expiry is not the cache's business: the auth service compares `exp` and `iat`
/// with its clock on every request, kept claims or not. The map hashes with `foldhash` (seeded
/// per process) instead of SipHash: a token is some 250 bytes, and SipHash of it was 1–2 % of
/// a request's instructions (docs/benchmarks.md, change 35); flooding the map with colliding keys
/// is not a concern, as only tokens whose signature this service made get in, at most
/// [`VERIFIED_TOKENS`] of them.
pub struct JwtSigner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    verified: Mutex<VerifiedTokens>,
}

type VerifiedTokens = HashMap<String, TokenClaims, foldhash::fast::RandomState>;

/// How many verified tokens a [`JwtSigner`] keeps (all are forgotten when it is full).
pub const VERIFIED_TOKENS: usize = 1024;

impl JwtSigner {
    pub fn new(secret: &[u8]) -> JwtSigner {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        JwtSigner {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            verified: Mutex::new(VerifiedTokens::default()),
        }
    }

    fn verified(&self) -> std::sync::MutexGuard<'_, VerifiedTokens> {
        self.verified.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl TokenSigner for JwtSigner {
    fn sign(&self, claims: &TokenClaims) -> DomainResult<String> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| DomainError::internal(format!("signing failed: {e}")))
    }

    fn verify(&self, token: &str) -> Result<TokenClaims, TokenRejection> {
        if let Some(claims) = self.verified().get(token) {
            return Ok(claims.clone());
        }
        let claims = jsonwebtoken::decode::<TokenClaims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenRejection::Expired,
                _ => TokenRejection::Invalid,
            })?;
        let mut verified = self.verified();
        if verified.len() >= VERIFIED_TOKENS {
            verified.clear();
        }
        verified.insert(token.to_owned(), claims.clone());
        Ok(claims)
    }
}

/// The system clock, truncated to milliseconds (the precision clients see).
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        let now = Utc::now();
        DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
    }
}

/// UUID v7 ids and URL-safe random secrets from the OS generator.
pub struct UuidV7Ids;

impl IdGenerator for UuidV7Ids {
    fn new_id(&self) -> uuid::Uuid {
        uuid::Uuid::now_v7()
    }

    fn new_secret(&self, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut rng = rand::rngs::OsRng;
        (0..len).map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())])).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> TokenClaims {
        TokenClaims {
            sub: "c".into(),
            kind: "client".into(),
            project: "demo".into(),
            pid: uuid::Uuid::nil(),
            scope: "manage_project:demo".into(),
            iat: 0,
            exp,
        }
    }

    #[test]
    fn tokens_round_trip_and_reject_forgeries() {
        let signer = JwtSigner::new(&[7u8; 32]);
        let exp = Utc::now().timestamp() + 60;
        let token = signer.sign(&claims(exp)).expect("signed");
        assert_eq!(signer.verify(&token).expect("valid").exp, exp);
        let other = JwtSigner::new(&[8u8; 32]);
        assert_eq!(other.verify(&token), Err(TokenRejection::Invalid));
        assert_eq!(signer.verify("not.a.token"), Err(TokenRejection::Invalid));
        let expired = signer.sign(&claims(Utc::now().timestamp() - 5)).expect("signed");
        assert_eq!(signer.verify(&expired), Err(TokenRejection::Expired));
    }

    #[test]
    fn verified_tokens_are_kept_by_their_exact_text_and_bounded() {
        let signer = JwtSigner::new(&[7u8; 32]);
        let exp = Utc::now().timestamp() + 60;
        let token = signer.sign(&claims(exp)).expect("signed");
        assert_eq!(signer.verify(&token).expect("valid").exp, exp);
        assert_eq!(signer.verified().len(), 1);
        assert_eq!(signer.verify(&token).expect("kept").exp, exp);
        // A changed signature is checked (and refused), the kept token notwithstanding; a refused
        // token is never kept.
        // (A character well inside the signature: all six of its bits are signature bits.)
        let at = token.len() - 10;
        let flipped = if &token[at..=at] == "A" { "B" } else { "A" };
        let forged = format!("{}{flipped}{}", &token[..at], &token[at + 1..]);
        assert_eq!(signer.verify(&forged), Err(TokenRejection::Invalid));
        assert_eq!(signer.verify(&forged), Err(TokenRejection::Invalid));
        assert_eq!(signer.verified().len(), 1);
        // Bounded: past the limit, everything kept is forgotten.
        for n in 0..VERIFIED_TOKENS as i64 {
            let t = signer.sign(&claims(exp + 1 + n)).expect("signed");
            assert!(signer.verify(&t).is_ok());
        }
        assert!(signer.verified().len() <= VERIFIED_TOKENS);
    }

    #[tokio::test]
    async fn argon2_verifies_and_dummy_never_matches() {
        let h = Argon2Hasher::new().expect("hasher");
        let hash = h.hash("s3cret-pass").await.expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(h.verify("s3cret-pass", Some(&hash)).await.expect("ok"));
        assert!(!h.verify("wrong", Some(&hash)).await.expect("ok"));
        assert!(!h.verify("dummy password that matches nothing", None).await.expect("ok"));
    }

    #[test]
    fn secrets_are_random_and_url_safe() {
        let a = UuidV7Ids.new_secret(32);
        assert_eq!(a.len(), 32);
        assert_ne!(a, UuidV7Ids.new_secret(32));
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }
}
