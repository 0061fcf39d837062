//! Passwords (argon2id), bearer tokens and the `AuthUser` extractor.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{
    self, Decimal, Ident, Output, ParamsString, PasswordHash, PasswordHasher, PasswordVerifier, Salt, SaltString,
};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::StatusCode;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use sha2::{Digest, Sha256};

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::sync::{mpsc, Arc, Mutex, OnceLock};

use tokio::sync::Semaphore;

use crate::config::PasswordCost;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{TokenLookup, User};

/// A device's sign-in lasts at most this long, used or not (then the official
/// types the password again). Long because officials in communes without signal
/// work offline for weeks and the token only matters when they sync.
pub fn session_lifetime() -> Duration {
    Duration::days(180)
}

/// A device not seen for this long is signed out: a phone lost in a drawer stops
/// being a key by itself. Every use renews it (see [`touch_every`]).
pub fn idle_expiry() -> Duration {
    Duration::days(60)
}

/// How stale `last_seen_at` may get before a request writes it again: renewal
/// without a database write on every request.
pub fn touch_every() -> Duration {
    Duration::minutes(10)
}

/// The app sends its build in this header, shown in the device list.
pub const APP_VERSION_HEADER: &str = "x-danvan-version";

pub const MSG_BAD_LOGIN: &str = "Tên đăng nhập hoặc mật khẩu không đúng";
pub const MSG_NO_TOKEN: &str = "Bạn cần đăng nhập để tiếp tục";
pub const MSG_BAD_TOKEN: &str = "Phiên đăng nhập không hợp lệ hoặc đã hết hạn, vui lòng đăng nhập lại";

fn argon2_params(cost: PasswordCost) -> Params {
    match cost {
        PasswordCost::Standard => Params::DEFAULT,
        PasswordCost::FastInsecureForTests => {
            Params::new(Params::MIN_M_COST.max(64), 1, 1, None).expect("valid argon2 params")
        }
    }
}

/// A PHC string (`$argon2id$v=19$...`). CPU-heavy: run it through [`password_work`].
pub fn hash_password(cost: PasswordCost, password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    let hasher = ReusedMemory { algorithm: Algorithm::Argon2id, version: Version::V0x13, params: argon2_params(cost) };
    hasher.hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(AppError::internal)
}

/// Verifies with the parameters stored in the hash (so hashes made with another
/// cost keep working). CPU-heavy: run it through [`password_work`].
pub fn verify_password(hash: &str, password: &str) -> bool {
    // The trait's own `verify_password`: recompute with the hash's algorithm,
    // version, parameters and salt, then compare the outputs in constant time
    // (`password_hash::Output`'s `PartialEq`).
    PasswordHash::new(hash).is_ok_and(|h| ReusedMemory::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// Argon2 running in the calling thread's kept memory (see [`with_argon2_memory`])
/// instead of a fresh allocation of its memory cost per run, which is what
/// `Argon2::hash_password` does. Same algorithm and output as the `argon2` crate:
/// only where the working memory lives differs.
#[derive(Clone, Debug, Default)]
struct ReusedMemory {
    algorithm: Algorithm,
    version: Version,
    params: Params,
}

impl PasswordHasher for ReusedMemory {
    type Params = Params;

    fn hash_password<'a>(&self, password: &[u8], salt: impl Into<Salt<'a>>) -> password_hash::Result<PasswordHash<'a>> {
        let salt = salt.into();
        let mut salt_buf = [0u8; Salt::MAX_LENGTH];
        let salt_bytes = salt.decode_b64(&mut salt_buf)?;
        let argon2 = Argon2::new(self.algorithm, self.version, self.params.clone());
        let output_len = self.params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let output = Output::init_with(output_len, |out| {
            with_argon2_memory(self.params.block_count(), |blocks| {
                argon2.hash_password_into_with_memory(password, salt_bytes, out, blocks)
            })
            .map_err(Into::into)
        })?;
        Ok(PasswordHash {
            algorithm: self.algorithm.ident(),
            version: Some(self.version.into()),
            params: ParamsString::try_from(&self.params)?,
            salt: Some(salt),
            hash: Some(output),
        })
    }

    fn hash_password_customized<'a>(
        &self,
        password: &[u8],
        algorithm: Option<Ident<'a>>,
        version: Option<Decimal>,
        params: Params,
        salt: impl Into<Salt<'a>>,
    ) -> password_hash::Result<PasswordHash<'a>> {
        let algorithm = algorithm.map(Algorithm::try_from).transpose()?.unwrap_or_default();
        let version = version.map(Version::try_from).transpose()?.unwrap_or_default();
        ReusedMemory { algorithm, version, params }.hash_password(password, salt)
    }
}

thread_local! {
    /// Argon2's working memory on the password threads ([`PasswordPool`]), kept
    /// from one run to the next; `None` on every other thread. Why: each run needs
    /// its memory cost at once (19 MiB with the standard parameters). Allocated
    /// and freed per run on short-lived blocking threads, those blocks stayed in
    /// glibc's per-thread malloc arenas (and freeing them raises glibc's mmap
    /// threshold, so later ones come from the arenas too): a flood of 200 failed
    /// logins left the server at 482 MB instead of 90 MB. A fixed set of threads
    /// each owning one buffer allocates once and frees nothing.
    static ARGON2_MEMORY: RefCell<Option<Vec<Block>>> = const { RefCell::new(None) };
}

/// Runs `f` on `blocks` blocks of argon2 memory: the thread's kept buffer on a
/// password thread (grown, never shrunk, when a hash asks for more than it has —
/// a hash made with a higher cost than today's), a fresh one anywhere else.
fn with_argon2_memory<T>(blocks: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
    let mut f = Some(f);
    let kept = ARGON2_MEMORY.try_with(|cell| {
        let mut slot = cell.try_borrow_mut().ok()?;
        let memory = slot.as_mut()?;
        if memory.len() < blocks {
            // Free the smaller buffer first: never hold both.
            *memory = Vec::new();
            *memory = vec![Block::new(); blocks];
        }
        let f = f.take().expect("called once");
        Some(f(&mut memory[..blocks]))
    });
    match kept {
        Ok(Some(out)) => out,
        _ => (f.take().expect("called once"))(&mut vec![Block::new(); blocks]),
    }
}

/// The pointer and length of this thread's kept argon2 memory, if it has any.
#[cfg(test)]
fn kept_argon2_memory() -> Option<(usize, usize)> {
    ARGON2_MEMORY.with(|cell| cell.borrow().as_ref().map(|m| (m.as_ptr() as usize, m.len())))
}

/// Runs a CPU-heavy closure off the async workers.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f).await.map_err(AppError::internal)
}

/// How long a login waits for a free password thread before getting a 503.
pub const PASSWORD_QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

type PasswordJob = Box<dyn FnOnce() + Send>;

/// A fixed set of threads that run password hashing and verification, fed by a
/// queue. At most one job per thread runs at a time, so argon2's memory is
/// bounded by threads × memory cost, and each thread reuses one buffer
/// ([`with_argon2_memory`]). Jobs wait for a free thread in FIFO order (a tokio
/// semaphore with one permit per thread), at most the wait given to
/// [`PasswordPool::run`].
pub struct PasswordPool {
    slots: Arc<Semaphore>,
    jobs: mpsc::Sender<PasswordJob>,
    threads: usize,
}

impl PasswordPool {
    /// Starts `threads` threads (at least one). They end when the pool is dropped.
    pub fn new(threads: usize) -> std::io::Result<PasswordPool> {
        let threads = threads.max(1);
        let (jobs, queue) = mpsc::channel::<PasswordJob>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new().name(format!("danvan-argon2-{i}")).spawn(move || {
                ARGON2_MEMORY.with(|cell| *cell.borrow_mut() = Some(Vec::new()));
                loop {
                    // The guard is dropped before the job runs: the next idle
                    // thread waits for the next job meanwhile.
                    let job = match queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    // An error: the pool was dropped.
                    let Ok(job) = job else { return };
                    // Jobs catch their own panics (`run`); this keeps the thread
                    // alive whatever a job does.
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                }
            })?;
        }
        Ok(PasswordPool { slots: Arc::new(Semaphore::new(threads)), jobs, threads })
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `f` on one of the pool's threads once one is free within `wait`; 503
    /// `unavailable` otherwise. The slot moves into the job, so it stays taken
    /// until the work really ends even if the caller (a request whose client hung
    /// up) is dropped meanwhile. A panic in `f` is a 500.
    pub async fn run<T: Send + 'static>(
        &self,
        wait: std::time::Duration,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let permit = match tokio::time::timeout(wait, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(closed)) => return Err(AppError::internal(closed)),
            Err(_) => {
                return Err(AppError::Unavailable(format!("no password hashing thread free within {wait:?}")));
            }
        };
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: PasswordJob = Box::new(move || {
            let out = std::panic::catch_unwind(AssertUnwindSafe(f));
            drop(permit);
            let _ = answer.send(out);
        });
        self.jobs.send(job).map_err(|_| AppError::internal("the password threads have stopped"))?;
        match answered.await {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(panic)) => Err(AppError::internal(format!("password job panicked: {}", panic_message(&*panic)))),
            Err(_) => Err(AppError::internal("a password job was dropped unanswered")),
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic.downcast_ref::<&str>().copied().or_else(|| panic.downcast_ref::<String>().map(String::as_str)).unwrap_or("?")
}

/// `available_parallelism`, at least 2: as many argon2 runs at once as there are
/// cores, each with its own memory.
fn password_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()).max(2)
}

/// The process-wide pool, started on first use.
fn password_pool() -> Result<&'static PasswordPool, AppError> {
    static POOL: OnceLock<PasswordPool> = OnceLock::new();
    if let Some(pool) = POOL.get() {
        return Ok(pool);
    }
    let pool = PasswordPool::new(password_threads()).map_err(AppError::internal)?;
    // Two first callers at once: the loser's pool is dropped and its threads end.
    Ok(POOL.get_or_init(|| pool))
}

/// Runs password hashing or verification (`hash_password`, `verify_password`) on
/// the process-wide password threads. 503 `unavailable` when none frees up within
/// [`PASSWORD_QUEUE_WAIT`].
pub async fn password_work<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
    password_pool()?.run(PASSWORD_QUEUE_WAIT, f).await
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

/// Lowercase hex of bytes (digests, random ids).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The signed-in user of a request (`Authorization: Bearer <token>`), or 401 JSON.
/// A device that was ended on purpose gets the code `device_ended` and a message
/// saying why, so the app can tell the official (and keep unsent work).
#[derive(Clone, Debug)]
pub struct AuthUser {
    pub user: User,
    pub token_hash: String,
    pub device_id: i64,
    /// When this device last synced, as the request found it.
    pub last_sync_at: Option<DateTime<Utc>>,
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// What the official reads when this device was signed out on purpose.
pub fn ended_message(reason: &str) -> &'static str {
    match reason {
        "logout" => "Thiết bị này đã đăng xuất. Vui lòng đăng nhập lại.",
        "user" => "Thiết bị này đã được đăng xuất từ một thiết bị khác của bạn. Dữ liệu chưa gửi vẫn còn trên máy.",
        "disabled" => {
            "Tài khoản này đã bị khoá. Dữ liệu chưa gửi vẫn còn trên máy: hãy sao lưu ra tệp và liên hệ quản trị viên."
        }
        "password" => "Mật khẩu đã được đổi trên thiết bị khác. Vui lòng đăng nhập lại; dữ liệu chưa gửi vẫn còn trên máy.",
        _ => {
            "Quản trị viên đã đăng xuất thiết bị này. Dữ liệu chưa gửi vẫn còn trên máy: hãy sao lưu ra tệp hoặc đăng nhập lại."
        }
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<AuthUser, AppError> {
        let token = bearer(parts).ok_or(AppError::Unauthorized(MSG_NO_TOKEN.into()))?;
        let token_hash = hash_token(token);
        let now = Utc::now();
        match state.store.token_lookup(&token_hash, now).await? {
            TokenLookup::Active { user, device_id, last_seen_at, last_sync_at, app_version } => {
                let version = parts
                    .headers
                    .get(APP_VERSION_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::trim)
                    .filter(|v| !v.is_empty() && v.len() <= 40);
                let new_version = version.filter(|v| app_version.as_deref() != Some(*v));
                if now - last_seen_at >= touch_every() || new_version.is_some() {
                    // Renewal is best effort: a busy database must not fail the request.
                    if let Err(e) = state.store.touch_device(device_id, new_version, now.trunc_subsecs(0)).await {
                        tracing::warn!(error = %e, device_id, "không cập nhật được thời điểm dùng thiết bị");
                    }
                }
                Ok(AuthUser { user, token_hash, device_id, last_sync_at })
            }
            TokenLookup::Ended { reason } => {
                Err(AppError::coded(StatusCode::UNAUTHORIZED, "device_ended", ended_message(&reason)))
            }
            TokenLookup::Invalid => Err(AppError::Unauthorized(MSG_BAD_TOKEN.into())),
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

    /// A hash made by the `argon2` crate itself with `cost`'s parameters.
    fn reference_hash(cost: PasswordCost, password: &str) -> String {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, argon2_params(cost))
            .hash_password(password.as_bytes(), &salt)
            .unwrap()
            .to_string()
    }

    fn reference_verify(hash: &str, password: &str) -> bool {
        Argon2::default().verify_password(password.as_bytes(), &PasswordHash::new(hash).unwrap()).is_ok()
    }

    #[tokio::test]
    async fn the_pool_agrees_with_the_argon2_crate_for_both_costs() {
        for cost in [PasswordCost::FastInsecureForTests, PasswordCost::Standard] {
            // Made on a password thread, checked by the crate's own verifier.
            let ours = password_work(move || hash_password(cost, "danvan2024")).await.unwrap().unwrap();
            let params = PasswordHash::new(&ours).unwrap().params.to_string();
            assert_eq!(params, ParamsString::try_from(&argon2_params(cost)).unwrap().to_string(), "{cost:?}");
            assert!(reference_verify(&ours, "danvan2024"), "{cost:?}");
            assert!(!reference_verify(&ours, "danvan2025"), "{cost:?}");
            // Made by the crate, checked on a password thread; right and wrong.
            let theirs = reference_hash(cost, "mật khẩu có dấu");
            for (hash, password, expected) in [
                (theirs.clone(), "mật khẩu có dấu", true),
                (theirs.clone(), "mat khau co dau", false),
                (theirs, "", false),
                (ours.clone(), "danvan2024", true),
                (ours, "Danvan2024", false),
            ] {
                let reference = reference_verify(&hash, password);
                let pooled = password_work(move || verify_password(&hash, password)).await.unwrap();
                assert_eq!((pooled, reference), (expected, expected), "{cost:?} {password:?}");
            }
        }
    }

    #[tokio::test]
    async fn each_password_thread_reuses_one_buffer_and_grows_it_when_a_hash_needs_more() {
        let pool = PasswordPool::new(1).unwrap();
        let wait = std::time::Duration::from_secs(60);
        let before = pool.run(wait, kept_argon2_memory).await.unwrap();
        assert_eq!(before.map(|(_, len)| len), Some(0), "a password thread, nothing allocated before its first run");
        let standard = reference_hash(PasswordCost::Standard, "danvan2024");
        let mut seen = Vec::new();
        for password in ["danvan2024", "sai", "danvan2024"] {
            let hash = standard.clone();
            let (ok, memory) = pool
                .run(wait, move || (verify_password(&hash, password), kept_argon2_memory().unwrap()))
                .await
                .unwrap();
            assert_eq!(ok, password == "danvan2024");
            seen.push(memory);
        }
        let standard_blocks = Params::DEFAULT.block_count();
        assert_eq!(seen[0].1, standard_blocks, "19 MiB of 1 KiB blocks");
        assert!(seen.iter().all(|m| *m == seen[0]), "the same buffer every time: {seen:?}");
        // A weaker hash runs in the front of the same buffer.
        let fast = hash_password(PasswordCost::FastInsecureForTests, "x").unwrap();
        let memory =
            pool.run(wait, move || (verify_password(&fast, "x"), kept_argon2_memory().unwrap())).await.unwrap();
        assert_eq!(memory, (true, seen[0]));
        // A hash made with more memory than the buffer has (a cost raised later).
        let bigger = Params::new(Params::DEFAULT_M_COST + 1024, 1, 1, None).unwrap();
        let big_hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, bigger.clone())
            .hash_password(b"danvan2024", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        let (ok, grown) = pool
            .run(wait, move || (verify_password(&big_hash, "danvan2024"), kept_argon2_memory().unwrap()))
            .await
            .unwrap();
        assert!(ok);
        assert_eq!(grown.1, bigger.block_count());
        // Outside the pool nothing is kept.
        assert_eq!(kept_argon2_memory(), None);
    }

    #[tokio::test]
    async fn password_work_runs_on_the_password_threads() {
        let name = password_work(|| std::thread::current().name().map(str::to_owned)).await.unwrap();
        assert!(name.as_deref().is_some_and(|n| n.starts_with("danvan-argon2-")), "{name:?}");
        assert!(password_pool().unwrap().threads() >= 2);
        assert!(password_threads() >= 2);
    }

    #[tokio::test]
    async fn password_work_is_503_when_every_thread_stays_busy() {
        let pool = PasswordPool::new(2).unwrap();
        let _busy = pool.slots.clone().acquire_many_owned(2).await.unwrap();
        let start = std::time::Instant::now();
        let res = pool.run(std::time::Duration::from_millis(50), || "ran").await;
        assert!(matches!(res, Err(AppError::Unavailable(_))), "{res:?}");
        assert!(start.elapsed() >= std::time::Duration::from_millis(50));
        let e = res.unwrap_err();
        assert_eq!((e.status().as_u16(), e.code()), (503, "unavailable"));
    }

    #[tokio::test]
    async fn password_work_waits_for_a_thread_and_holds_it_while_running() {
        let pool = PasswordPool::new(1).unwrap();
        let busy = pool.slots.clone().acquire_owned().await.unwrap();
        let release = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            drop(busy);
        });
        let inner = pool.slots.clone();
        // The only slot is held by the job itself while it runs.
        let free_inside = pool.run(std::time::Duration::from_secs(5), move || inner.available_permits()).await.unwrap();
        assert_eq!(free_inside, 0);
        assert_eq!(pool.slots.available_permits(), 1, "released afterwards");
        release.await.unwrap();
    }

    #[tokio::test]
    async fn at_most_one_job_per_thread_runs_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let pool = Arc::new(PasswordPool::new(2).unwrap());
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let jobs = (0..8).map(|_| {
            let (pool, running, peak) = (pool.clone(), running.clone(), peak.clone());
            tokio::spawn(async move {
                pool.run(std::time::Duration::from_secs(10), move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(10));
                    running.fetch_sub(1, Ordering::SeqCst);
                    std::thread::current().name().unwrap().to_owned()
                })
                .await
            })
        });
        let mut threads = Vec::new();
        for job in jobs.collect::<Vec<_>>() {
            threads.push(job.await.unwrap().unwrap());
        }
        assert_eq!(peak.load(Ordering::SeqCst), 2);
        threads.sort();
        threads.dedup();
        assert_eq!(threads, ["danvan-argon2-0", "danvan-argon2-1"], "only the pool's own threads");
    }

    #[tokio::test]
    async fn a_panicking_job_is_a_500_and_the_thread_lives_on() {
        let pool = PasswordPool::new(1).unwrap();
        let wait = std::time::Duration::from_secs(5);
        let res = pool.run(wait, || -> u8 { panic!("boom") }).await;
        assert!(matches!(&res, Err(AppError::Internal(m)) if m.contains("boom")), "{res:?}");
        assert_eq!(pool.run(wait, || 7).await.unwrap(), 7);
        assert_eq!(pool.slots.available_permits(), 1);
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
