//! Login throttling: after a few failures in a window, a username (and, with a
//! higher limit, a client address) gets 429 with `Retry-After` until the oldest
//! failure leaves the window. Checked before any password work, so a flood of
//! wrong passwords costs almost nothing and other users sign in normally.
//!
//! In memory, per server process: a restart forgets (acceptable — an attacker gains
//! one more window), and several processes behind one database each count on their
//! own (each still bounds its attacker).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
            let live: Vec<&Instant> = q.iter().filter(|t| now.duration_since(**t) < limit.window).collect();
            (live.len() >= limit.failures).then(|| {
                // The oldest live failure leaves the window first.
                let oldest = live[live.len() - limit.failures];
                limit.window.saturating_sub(now.duration_since(*oldest)).max(Duration::from_secs(1))
            })
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
}
