//! Adapters of the small ports: Argon2id hashing, HS256 tokens, the system clock, UUID v7 ids.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::Argon2;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::Rng;
use xclade_domain::auth::TokenClaims;
use xclade_domain::error::DomainResult;
use xclade_domain::ports::{Clock, IdGenerator, PasswordHasher, TokenRejection, TokenSigner};
use xclade_domain::DomainError;

/// Argon2id with the crate's recommended parameters; work runs on the blocking pool.
pub struct Argon2Hasher {
    dummy_hash: String,
}

fn hash_blocking(secret: &str) -> DomainResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| DomainError::internal(format!("hashing failed: {e}")))
}

fn verify_blocking(secret: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(secret.as_bytes(), &parsed).is_ok())
}

impl Argon2Hasher {
    /// Prepares the dummy hash used to keep unknown-user checks as slow as real ones.
    pub fn new() -> DomainResult<Argon2Hasher> {
        Ok(Argon2Hasher { dummy_hash: hash_blocking("dummy password that matches nothing")? })
    }
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, secret: &str) -> DomainResult<String> {
        let secret = secret.to_owned();
        tokio::task::spawn_blocking(move || hash_blocking(&secret))
            .await
            .map_err(|e| DomainError::internal(e.to_string()))?
    }

    async fn verify<'a>(&self, secret: &str, hash: Option<&'a str>) -> DomainResult<bool> {
        let secret = secret.to_owned();
        let known = hash.is_some();
        let hash = hash.unwrap_or(&self.dummy_hash).to_owned();
        let ok = tokio::task::spawn_blocking(move || verify_blocking(&secret, &hash))
            .await
            .map_err(|e| DomainError::internal(e.to_string()))?;
        Ok(known && ok)
    }
}

/// HS256 JWTs.
pub struct JwtSigner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtSigner {
    pub fn new(secret: &[u8]) -> JwtSigner {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        JwtSigner { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret), validation }
    }
}

impl TokenSigner for JwtSigner {
    fn sign(&self, claims: &TokenClaims) -> DomainResult<String> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| DomainError::internal(format!("signing failed: {e}")))
    }

    fn verify(&self, token: &str) -> Result<TokenClaims, TokenRejection> {
        jsonwebtoken::decode::<TokenClaims>(token, &self.decoding, &self.validation).map(|d| d.claims).map_err(|e| {
            match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenRejection::Expired,
                _ => TokenRejection::Invalid,
            }
        })
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
