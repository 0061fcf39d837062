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

use std::sync::{Arc, OnceLock};

use tokio::sync::Semaphore;

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

/// How long a login waits for a free hashing slot before getting a 503.
pub const PASSWORD_QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Every argon2 run allocates its memory cost (19 MiB with the standard
/// parameters), so a flood of logins must not run them all at once: at most
/// `available_parallelism` (at least 2) at a time, process-wide.
fn password_slots() -> &'static Arc<Semaphore> {
    static SLOTS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let n = std::thread::available_parallelism().map_or(2, |n| n.get()).max(2);
        Arc::new(Semaphore::new(n))
    })
}

/// Runs password hashing or verification (`hash_password`, `verify_password`) on
/// a blocking thread, bounded by the process-wide slots. 503 `unavailable` when no
/// slot frees up within [`PASSWORD_QUEUE_WAIT`].
pub async fn password_work<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
    gated_blocking(password_slots(), PASSWORD_QUEUE_WAIT, f).await
}

/// [`blocking`] once a permit of `slots` is obtained within `wait`. The permit moves
/// into the blocking task, so it is held until the work really ends even if the
/// caller (a request whose client hung up) is dropped meanwhile.
pub async fn gated_blocking<T: Send + 'static>(
    slots: &Arc<Semaphore>,
    wait: std::time::Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let permit = match tokio::time::timeout(wait, slots.clone().acquire_owned()).await {
        Ok(Ok(permit)) => permit,
        Ok(Err(closed)) => return Err(AppError::internal(closed)),
        Err(_) => {
            return Err(AppError::Unavailable(format!("no password hashing slot free within {wait:?}")));
        }
    };
    blocking(move || {
        let out = f();
        drop(permit);
        out
    })
    .await
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

    #[tokio::test]
    async fn password_work_is_503_when_every_slot_stays_busy() {
        let slots = Arc::new(Semaphore::new(2));
        let _busy = slots.clone().acquire_many_owned(2).await.unwrap();
        let start = std::time::Instant::now();
        let res = gated_blocking(&slots, std::time::Duration::from_millis(50), || "ran").await;
        assert!(matches!(res, Err(AppError::Unavailable(_))), "{res:?}");
        assert!(start.elapsed() >= std::time::Duration::from_millis(50));
        let e = res.unwrap_err();
        assert_eq!((e.status().as_u16(), e.code()), (503, "unavailable"));
    }

    #[tokio::test]
    async fn password_work_waits_for_a_slot_and_holds_it_while_running() {
        let slots = Arc::new(Semaphore::new(1));
        let busy = slots.clone().acquire_owned().await.unwrap();
        let release = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            drop(busy);
        });
        let inner = slots.clone();
        // The only permit is held by the closure itself while it runs.
        let free_inside =
            gated_blocking(&slots, std::time::Duration::from_secs(5), move || inner.available_permits()).await.unwrap();
        assert_eq!(free_inside, 0);
        assert_eq!(slots.available_permits(), 1, "released afterwards");
        release.await.unwrap();
    }

    #[tokio::test]
    async fn at_most_the_slot_count_run_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let slots = Arc::new(Semaphore::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let jobs = (0..8).map(|_| {
            let (slots, running, peak) = (slots.clone(), running.clone(), peak.clone());
            tokio::spawn(async move {
                gated_blocking(&slots, std::time::Duration::from_secs(10), move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(10));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            })
        });
        for job in jobs.collect::<Vec<_>>() {
            job.await.unwrap().unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn password_slots_are_at_least_two() {
        assert!(password_slots().available_permits() >= 2);
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
