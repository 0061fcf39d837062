//! Passwords (argon2id), bearer tokens and the `AuthUser` extractor.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{Duration, Utc};
use sha2::{Digest, Sha256};

use crate::config::PasswordCost;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::User;

/// Officials work offline for weeks; the token only matters when they sync.
pub fn session_lifetime() -> Duration {
    Duration::days(30)
}

pub const MSG_BAD_LOGIN: &str = "Tên đăng nhập hoặc mật khẩu không đúng";
pub const MSG_NO_TOKEN: &str = "Bạn cần đăng nhập để tiếp tục";
pub const MSG_BAD_TOKEN: &str = "Phiên đăng nhập không hợp lệ hoặc đã hết hạn, vui lòng đăng nhập lại";

fn argon2(cost: PasswordCost) -> Argon2<'static> {
    match cost {
        PasswordCost::Standard => Argon2::default(),
        PasswordCost::FastInsecureForTests => Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(Params::MIN_M_COST.max(64), 1, 1, None).expect("valid argon2 params"),
        ),
    }
}

/// A PHC string (`$argon2id$v=19$...`). CPU-heavy: call from `spawn_blocking`.
pub fn hash_password(cost: PasswordCost, password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2(cost).hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(AppError::internal)
}

/// Verifies with the parameters stored in the hash. CPU-heavy: `spawn_blocking`.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// Runs a CPU-heavy closure off the async workers.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f).await.map_err(AppError::internal)
}

/// A new bearer token (32 random bytes, base64url) and the hash to store.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_token(&token);
    (token, hash)
}

/// SHA-256 of the token, hex. Tokens carry 256 bits of entropy, so a fast hash is
/// enough: a stolen database does not yield usable tokens.
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Random hex id (the database epoch).
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    hex(&buf)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The signed-in user of a request (`Authorization: Bearer <token>`), or 401 JSON.
#[derive(Clone, Debug)]
pub struct AuthUser {
    pub user: User,
    pub token_hash: String,
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<AuthUser, AppError> {
        let token = bearer(parts).ok_or(AppError::Unauthorized(MSG_NO_TOKEN.into()))?;
        let token_hash = hash_token(token);
        match state.store.session_user(&token_hash, Utc::now()).await? {
            Some(user) => Ok(AuthUser { user, token_hash }),
            None => Err(AppError::Unauthorized(MSG_BAD_TOKEN.into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_only_hashed() {
        let (t1, h1) = new_token();
        let (t2, _) = new_token();
        assert_ne!(t1, t2);
        assert_eq!(t1.len(), 43);
        assert_eq!(h1.len(), 64);
        assert_eq!(hash_token(&t1), h1);
        assert!(!h1.contains(&t1));
    }

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password(PasswordCost::FastInsecureForTests, "danvan2024").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&h, "danvan2024"));
        assert!(!verify_password(&h, "danvan2025"));
        assert!(!verify_password("not a hash", "danvan2024"));
    }

    #[test]
    fn bearer_header_parsing() {
        let parts = |v: &str| {
            let (p, _) = axum::http::Request::builder().header(AUTHORIZATION, v).body(()).unwrap().into_parts();
            p
        };
        assert_eq!(bearer(&parts("Bearer abc")), Some("abc"));
        assert_eq!(bearer(&parts("bearer  abc ")), Some("abc"));
        assert_eq!(bearer(&parts("Basic abc")), None);
        assert_eq!(bearer(&parts("Bearer ")), None);
    }
}
