//! Login throttling: after a few failures in a window, a username (and, with a
//! higher limit, a client address) gets 429 with `Retry-After` until the oldest
//! failure leaves the window. Checked before any password work, so a flood of
//! wrong passwords costs almost nothing and other users sign in normally.
//!
//! Two ways to count, one rule ([`Throttle`]): in memory for the embedded SQLite
//! database, which one process owns (a restart forgets — an attacker gains one more
//! window); in the database for PostgreSQL, where several server processes answer
//! the same users and must count the same failures (`store/throttle.rs`).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};

use crate::store::{Backend, Store, StoreError};

#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub failures: usize,
    pub window: Duration,
}

/// 5 wrong passwords per username in 15 minutes; the 6th attempt gets 429.
pub const PER_USERNAME: Limit = Limit { failures: 5, window: Duration::from_secs(15 * 60) };
/// 30 failures (passwords or enrolment codes) per address in 15 minutes: a commune
/// office behind one NAT may have several officials mistyping on the same morning.
pub const PER_ADDRESS: Limit = Limit { failures: 30, window: Duration::from_secs(15 * 60) };
/// Keys kept at most; beyond, expired ones are dropped, then the oldest.
const MAX_KEYS: usize = 100_000;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    User(String),
    /// IPv4 address, or the /64 of an IPv6 address (one subscriber's line).
    Addr(IpAddr),
}

fn addr_key(ip: IpAddr) -> Key {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & (u128::MAX << 64);
            Key::Addr(IpAddr::V6(bits.into()))
        }
        v4 => Key::Addr(v4),
    }
}

pub struct LoginThrottle {
    per_user: Limit,
    per_addr: Limit,
    failures: Mutex<HashMap<Key, VecDeque<Instant>>>,
}

/// Which limit refused, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after: Duration,
    pub by_address: bool,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle::new(PER_USERNAME, PER_ADDRESS)
    }
}

impl LoginThrottle {
    pub fn new(per_user: Limit, per_addr: Limit) -> LoginThrottle {
        LoginThrottle { per_user, per_addr, failures: Mutex::new(HashMap::new()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, VecDeque<Instant>>> {
        // A panic while holding the lock leaves plain counters: still usable.
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Refused now? Checked before the password is looked at.
    pub fn check(&self, username: Option<&str>, addr: Option<IpAddr>, now: Instant) -> Result<(), Throttled> {
        let map = self.lock();
        let blocked = |key: &Key, limit: Limit| -> Option<Duration> {
            let q = map.get(key)?;
            let live: Vec<Duration> =
                q.iter().map(|t| now.duration_since(*t)).filter(|age| *age < limit.window).collect();
            refused_for(&live, limit)
        };
        if let Some(u) = username {
            if let Some(retry_after) = blocked(&Key::User(u.to_string()), self.per_user) {
                return Err(Throttled { retry_after, by_address: false });
            }
        }
        if let Some(ip) = addr {
            if let Some(retry_after) = blocked(&addr_key(ip), self.per_addr) {
                return Err(Throttled { retry_after, by_address: true });
            }
        }
        Ok(())
    }

    /// Counts a failure; returns true when it is the one that reaches a limit (to be
    /// logged and audited once, not on every refused attempt).
    pub fn failure(&self, username: Option<&str>, addr: Option<IpAddr>, now: Instant) -> bool {
        let mut map = self.lock();
        if map.len() >= MAX_KEYS {
            let longest = self.per_user.window.max(self.per_addr.window);
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < longest));
            if map.len() >= MAX_KEYS {
                // Still full of live keys (a distributed flood): start over rather
                // than grow without bound; the limits apply again from here.
                map.clear();
            }
        }
        let mut reached = false;
        let mut add = |key: Key, limit: Limit| {
            let q = map.entry(key).or_default();
            while q.front().is_some_and(|t| now.duration_since(*t) >= limit.window) {
                q.pop_front();
            }
            q.push_back(now);
            while q.len() > limit.failures {
                q.pop_front();
            }
            reached |= q.len() == limit.failures;
        };
        if let Some(u) = username {
            add(Key::User(u.to_string()), self.per_user);
        }
        if let Some(ip) = addr {
            add(addr_key(ip), self.per_addr);
        }
        reached
    }

    /// A successful sign-in clears the username's failures (not the address's:
    /// one right password must not open the door for guessing others).
    pub fn success(&self, username: &str) {
        self.lock().remove(&Key::User(username.to_string()));
    }
}

/// Login throttling as the handlers use it: in memory, or shared through the
/// database by every process on it.
pub enum Throttle {
    Local(LoginThrottle),
    Shared(SharedThrottle),
}

impl Throttle {
    /// In memory for SQLite (one process), in the database for PostgreSQL.
    pub fn for_store(store: &Store) -> Throttle {
        match store.backend() {
            Backend::Sqlite => Throttle::Local(LoginThrottle::default()),
            Backend::Postgres => Throttle::Shared(SharedThrottle::new(store.clone(), PER_USERNAME, PER_ADDRESS)),
        }
    }

    /// Refused now? Checked before the password is looked at.
    pub async fn check(
        &self,
        username: Option<&str>,
        addr: Option<IpAddr>,
    ) -> Result<Result<(), Throttled>, StoreError> {
        match self {
            Throttle::Local(t) => Ok(t.check(username, addr, Instant::now())),
            Throttle::Shared(t) => t.check(username, addr, Utc::now()).await,
        }
    }

    /// Counts a failure; true when it is the one that reaches a limit.
    pub async fn failure(&self, username: Option<&str>, addr: Option<IpAddr>) -> Result<bool, StoreError> {
        match self {
            Throttle::Local(t) => Ok(t.failure(username, addr, Instant::now())),
            Throttle::Shared(t) => t.failure(username, addr, Utc::now()).await,
        }
    }

    /// A right password clears the username's failures.
    pub async fn success(&self, username: &str) -> Result<(), StoreError> {
        match self {
            Throttle::Local(t) => {
                t.success(username);
                Ok(())
            }
            Throttle::Shared(t) => t.store.clear_login_failures(&key_text(&Key::User(username.to_string()))).await,
        }
    }
}

fn key_text(key: &Key) -> String {
    match key {
        Key::User(u) => format!("u:{u}"),
        Key::Addr(a) => format!("a:{a}"),
    }
}

/// When a key with these failure times (oldest first, all within the window) is
/// refused, for how long: the oldest failure that keeps it at the limit leaves the
/// window first.
fn refused_for(live: &[Duration], limit: Limit) -> Option<Duration> {
    (live.len() >= limit.failures).then(|| {
        let age_of_oldest = live[live.len() - limit.failures];
        limit.window.saturating_sub(age_of_oldest).max(Duration::from_secs(1))
    })
}

/// The same limits counted in the database (`login_failures`).
pub struct SharedThrottle {
    store: Store,
    per_user: Limit,
    per_addr: Limit,
}

impl SharedThrottle {
    pub fn new(store: Store, per_user: Limit, per_addr: Limit) -> SharedThrottle {
        SharedThrottle { store, per_user, per_addr }
    }

    fn keys(&self, username: Option<&str>, addr: Option<IpAddr>) -> Vec<(Key, Limit)> {
        let mut keys = Vec::new();
        if let Some(u) = username {
            keys.push((Key::User(u.to_string()), self.per_user));
        }
        if let Some(ip) = addr {
            keys.push((addr_key(ip), self.per_addr));
        }
        keys
    }

    async fn ages(&self, key: &Key, limit: Limit, now: DateTime<Utc>) -> Result<Vec<Duration>, StoreError> {
        // Stored to the second (`store::ts`): count in whole seconds throughout.
        let now = now.trunc_subsecs(0);
        let window = chrono::Duration::from_std(limit.window).unwrap_or(chrono::Duration::MAX);
        let times = self.store.login_failures(&key_text(key), now - window).await?;
        Ok(times
            .into_iter()
            .map(|t| (now - t).to_std().unwrap_or(Duration::ZERO))
            .filter(|a| *a < limit.window)
            .collect())
    }

    pub async fn check(
        &self,
        username: Option<&str>,
        addr: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<Result<(), Throttled>, StoreError> {
        for (key, limit) in self.keys(username, addr) {
            if let Some(retry_after) = refused_for(&self.ages(&key, limit, now).await?, limit) {
                return Ok(Err(Throttled { retry_after, by_address: matches!(key, Key::Addr(_)) }));
            }
        }
        Ok(Ok(()))
    }

    pub async fn failure(
        &self,
        username: Option<&str>,
        addr: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut reached = false;
        for (key, limit) in self.keys(username, addr) {
            let window = chrono::Duration::from_std(limit.window).unwrap_or(chrono::Duration::MAX);
            let now = now.trunc_subsecs(0);
            self.store.add_login_failure(&[&key_text(&key)], now, now - window).await?;
            reached |= self.ages(&key, limit, now).await?.len() == limit.failures;
        }
        Ok(reached)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn sixth_attempt_is_refused_until_the_window_moves() {
        let t = LoginThrottle::default();
        let start = Instant::now();
        for i in 0..5 {
            assert!(t.check(Some("a"), ip("192.0.2.1"), start).is_ok(), "attempt {}", i + 1);
            let reached = t.failure(Some("a"), ip("192.0.2.1"), start + Duration::from_secs(i));
            assert_eq!(reached, i == 4);
        }
        let refused = t.check(Some("a"), ip("192.0.2.1"), start + Duration::from_secs(10)).unwrap_err();
        assert!(!refused.by_address);
        assert_eq!(refused.retry_after, Duration::from_secs(15 * 60 - 10));
        // Another user from another address is not affected…
        assert!(t.check(Some("b"), ip("192.0.2.2"), start).is_ok());
        // …nor from the same address (its limit is higher).
        assert!(t.check(Some("b"), ip("192.0.2.1"), start).is_ok());
        // After the oldest failure leaves the window, one more attempt is allowed.
        assert!(t.check(Some("a"), None, start + Duration::from_secs(15 * 60)).is_ok());
    }

    #[test]
    fn success_clears_the_username_only() {
        let t = LoginThrottle::new(PER_USERNAME, Limit { failures: 6, window: Duration::from_secs(60) });
        let now = Instant::now();
        for _ in 0..5 {
            t.failure(Some("a"), ip("192.0.2.1"), now);
        }
        t.success("a");
        assert!(t.check(Some("a"), None, now).is_ok());
        t.failure(Some("c"), ip("192.0.2.1"), now);
        let refused = t.check(Some("d"), ip("192.0.2.1"), now).unwrap_err();
        assert!(refused.by_address, "six failures from the address in all");
    }

    #[test]
    fn ipv6_counts_per_64() {
        let t = LoginThrottle::new(PER_USERNAME, Limit { failures: 2, window: Duration::from_secs(60) });
        let now = Instant::now();
        t.failure(None, ip("2001:db8:1:2::1"), now);
        t.failure(None, ip("2001:db8:1:2::ffff"), now);
        assert!(t.check(None, ip("2001:db8:1:2::42"), now).is_err());
        assert!(t.check(None, ip("2001:db8:1:3::1"), now).is_ok());
    }

    /// The shared counts on a real database (SQLite here; the same SQL runs on
    /// PostgreSQL in `make test`'s second pass, tests/multiprocess.rs): two
    /// throttles on one database — two processes — see each other's failures.
    #[tokio::test]
    async fn shared_counts_are_seen_by_every_process() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db", dir.path().display());
        let store = Store::open(&url).await.unwrap();
        let (one, two) = (
            SharedThrottle::new(store.clone(), PER_USERNAME, PER_ADDRESS),
            SharedThrottle::new(store.clone(), PER_USERNAME, PER_ADDRESS),
        );
        let start = Utc::now();
        for i in 0..5i64 {
            let (t, other) = if i % 2 == 0 { (&one, &two) } else { (&two, &one) };
            assert!(other.check(Some("a"), ip("192.0.2.1"), start).await.unwrap().is_ok(), "attempt {}", i + 1);
            let reached = t.failure(Some("a"), ip("192.0.2.1"), start + chrono::Duration::seconds(i)).await.unwrap();
            assert_eq!(reached, i == 4);
        }
        let refused = one.check(Some("a"), None, start + chrono::Duration::seconds(10)).await.unwrap().unwrap_err();
        assert!(!refused.by_address);
        assert_eq!(refused.retry_after, Duration::from_secs(15 * 60 - 10));
        assert!(two.check(Some("b"), ip("192.0.2.1"), start).await.unwrap().is_ok(), "the address's limit is higher");
        // The window moves on for both.
        let later = start + chrono::Duration::seconds(15 * 60);
        assert!(two.check(Some("a"), None, later).await.unwrap().is_ok());
        // A right password (through the enum, as the handler calls it) clears it.
        let shared = Throttle::Shared(SharedThrottle::new(store.clone(), PER_USERNAME, PER_ADDRESS));
        for _ in 0..5 {
            shared.failure(Some("c"), None).await.unwrap();
        }
        assert!(shared.check(Some("c"), None).await.unwrap().is_err());
        shared.success("c").await.unwrap();
        assert!(shared.check(Some("c"), None).await.unwrap().is_ok());
        assert_eq!(store.purge_login_failures(later + chrono::Duration::seconds(1)).await.unwrap(), 10);
        store.close().await;
    }
}
