//! Configuration, from the environment with defaults that run out of the box.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/danvan.db";
pub const DEFAULT_DIST: &str = "dist";

#[derive(Clone, Debug)]
pub struct Config {
    /// `DANVAN_ADDR`
    pub addr: SocketAddr,
    /// `DANVAN_DATABASE_URL`: `sqlite://…` (embedded, the default) or
    /// `postgres://user:password@host/db` (see `store`).
    pub database_url: String,
    /// `DANVAN_DATABASE_POOL`: PostgreSQL connections per server process.
    pub database_pool: u32,
    /// `DANVAN_DIST`: the built web app, served at `/`.
    pub dist: PathBuf,
    /// `DANVAN_DEMO=1` or `DANVAN_DEMO=accounts`: create the demo accounts (shared
    /// password, printed in the README) if they are missing. Off unless asked for,
    /// whatever the address: a server behind nginx listens on loopback too. Without
    /// it the server refuses to start while a demo account still accepts the demo
    /// password (`state::refuse_demo_password`).
    pub demo: bool,
    /// `DANVAN_DEMO=1` (not `accounts`): also publish a demo plan for this year and
    /// file a year and more of reports, registers and reviews once per database
    /// (`demo.rs`), so a first look at the dashboards shows a story, not zeros.
    /// Automated tests ask for `accounts`: they need a clean slate.
    pub demo_history: bool,
    /// `DANVAN_TRUSTED_PROXIES`: comma-separated addresses (or CIDR ranges) of the
    /// reverse proxies whose `X-Forwarded-For` is believed. Empty: the TCP peer is
    /// the client (`net::client_ip`).
    pub trusted_proxies: Vec<IpNet>,
    /// Argon2 cost for new password hashes. Not settable from the environment.
    pub password_cost: PasswordCost,
    /// Connection limits (`serve::Limits`): `DANVAN_HEADER_TIMEOUT_SECS`,
    /// `DANVAN_IDLE_TIMEOUT_SECS`, `DANVAN_BODY_TIMEOUT_SECS`,
    /// `DANVAN_REQUEST_TIMEOUT_SECS`, `DANVAN_MAX_CONNECTIONS`,
    /// `DANVAN_MAX_WAITING_PUSHES`, `DANVAN_UNIT_ATTACHMENT_MB`.
    pub limits: crate::serve::Limits,
}

impl Default for Config {
    /// The defaults of [`Config::from_lookup`] with nothing set (tests start from
    /// here and override fields).
    fn default() -> Config {
        Config {
            addr: DEFAULT_ADDR.parse().expect("valid default address"),
            database_url: DEFAULT_DATABASE_URL.to_string(),
            database_pool: crate::store::StoreOptions::default().max_connections,
            dist: PathBuf::from(DEFAULT_DIST),
            demo: false,
            demo_history: false,
            trusted_proxies: Vec::new(),
            password_cost: PasswordCost::Standard,
            limits: crate::serve::Limits::default(),
        }
    }
}

/// An IPv4 or IPv6 network (`10.0.0.0/8`, `::1/128`; a bare address is /32 or /128).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl IpNet {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr.to_canonical(), ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for IpNet {
    type Err = String;

    fn from_str(s: &str) -> Result<IpNet, String> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| format!("địa chỉ IP không hợp lệ: {s}"))?;
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => {
                p.trim().parse::<u8>().ok().filter(|p| *p <= max).ok_or(format!("độ dài tiền tố không hợp lệ: {s}"))?
            }
        };
        Ok(IpNet { addr, prefix })
    }
}

/// How expensive new password hashes are. Verifying uses the parameters stored in
/// each hash, so changing this never locks anyone out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PasswordCost {
    /// argon2id with the crate's defaults (OWASP: m = 19 MiB, t = 2, p = 1).
    #[default]
    Standard,
    /// Deliberately weak parameters so test suites (unoptimised builds) log in fast.
    /// Never use for real accounts.
    FastInsecureForTests,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("DANVAN_ADDR không hợp lệ ({value}): {source}")]
    Addr { value: String, source: std::net::AddrParseError },
    #[error(
        "DANVAN_DEMO phải là 1/true/yes/on (tài khoản và dữ liệu mẫu), accounts (chỉ tài khoản mẫu) \
         hoặc 0/false/no/off (nhận được {0:?})"
    )]
    Demo(String),
    #[error("DANVAN_DATABASE_URL không được hỗ trợ ({0}): dùng sqlite://… hoặc postgres://…")]
    UnsupportedDatabase(String),
    #[error("DANVAN_TRUSTED_PROXIES: {0}")]
    TrustedProxies(String),
    #[error("{key} phải là số nguyên từ {min} đến {max} (nhận được {value:?})")]
    Limit { key: &'static str, value: String, min: u64, max: u64 },
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|key| std::env::var(key).ok())
    }

    /// Builds the configuration from any key → value lookup (tests use a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |key: &str| get(key).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let addr_text = get("DANVAN_ADDR").unwrap_or_else(|| DEFAULT_ADDR.to_string());
        let addr = addr_text.parse().map_err(|source| ConfigError::Addr { value: addr_text.clone(), source })?;
        let database_url = get("DANVAN_DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string());
        if crate::store::Backend::of_url(&database_url).is_none() {
            return Err(ConfigError::UnsupportedDatabase(crate::store::redact_url(&database_url)));
        }
        let dist = PathBuf::from(get("DANVAN_DIST").unwrap_or_else(|| DEFAULT_DIST.to_string()));
        // Demo accounts (`admin`/`danvan2024`, ...) only when asked for (`make run`
        // does): never guessed from the address.
        let (demo, demo_history) = match get("DANVAN_DEMO") {
            None => (false, false),
            Some(v) if v.eq_ignore_ascii_case("accounts") => (true, false),
            Some(v) => {
                let on = parse_bool(&v).ok_or(ConfigError::Demo(v))?;
                (on, on)
            }
        };
        let trusted_proxies = match get("DANVAN_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::parse)
                .collect::<Result<_, _>>()
                .map_err(ConfigError::TrustedProxies)?,
        };
        let limits = limits_from(&get)?;
        let database_pool = match get("DANVAN_DATABASE_POOL") {
            None => crate::store::StoreOptions::default().max_connections,
            Some(value) => match value.parse::<u32>() {
                Ok(n) if (2..=1000).contains(&n) => n,
                _ => return Err(ConfigError::Limit { key: "DANVAN_DATABASE_POOL", value, min: 2, max: 1000 }),
            },
        };
        Ok(Config {
            addr,
            database_url,
            database_pool,
            dist,
            demo,
            demo_history,
            trusted_proxies,
            limits,
            ..Config::default()
        })
    }

    /// What to warn about the demo accounts at start-up: they are on at an address
    /// other machines can reach.
    pub fn demo_warning(&self) -> Option<String> {
        (self.demo && !is_loopback(&self.addr)).then(|| {
            format!(
                "tài khoản mẫu (admin/danvan2024, ...) đang bật trên địa chỉ {} mà máy khác truy cập được: \
                 ai cũng đăng nhập được bằng chúng; bỏ DANVAN_DEMO khi triển khai thật",
                self.addr
            )
        })
    }
}

/// 127.0.0.0/8, ::1 and ::ffff:127.x.y.z: only this machine can connect.
pub fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().to_canonical().is_loopback()
}

/// `serve::Limits` with the environment's overrides. The header timeout stays at
/// most 30 s: longer only helps a client holding connections with slow headers.
fn limits_from(get: &impl Fn(&str) -> Option<String>) -> Result<crate::serve::Limits, ConfigError> {
    let number = |key: &'static str, min: u64, max: u64| -> Result<Option<u64>, ConfigError> {
        let Some(value) = get(key) else { return Ok(None) };
        match value.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(ConfigError::Limit { key, value, min, max }),
        }
    };
    let secs = |key, min, max| Ok::<_, ConfigError>(number(key, min, max)?.map(std::time::Duration::from_secs));
    let d = crate::serve::Limits::default();
    Ok(crate::serve::Limits {
        header_timeout: secs("DANVAN_HEADER_TIMEOUT_SECS", 1, 30)?.unwrap_or(d.header_timeout),
        idle_timeout: secs("DANVAN_IDLE_TIMEOUT_SECS", 1, 3600)?.unwrap_or(d.idle_timeout),
        body_timeout: secs("DANVAN_BODY_TIMEOUT_SECS", 1, 600)?.unwrap_or(d.body_timeout),
        request_timeout: secs("DANVAN_REQUEST_TIMEOUT_SECS", 1, 3600)?.unwrap_or(d.request_timeout),
        max_connections: number("DANVAN_MAX_CONNECTIONS", 1, 1_000_000)?.map_or(d.max_connections, |n| n as usize),
        max_waiting_pushes: number("DANVAN_MAX_WAITING_PUSHES", 1, 1_000_000)?
            .map_or(d.max_waiting_pushes, |n| n as usize),
        unit_attachment_bytes: number("DANVAN_UNIT_ATTACHMENT_MB", 1, 1_000_000)?
            .map_or(d.unit_attachment_bytes, |mb| mb * 1024 * 1024),
    })
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let c = from(&[]).unwrap();
        assert_eq!(c.addr.to_string(), DEFAULT_ADDR);
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(c.dist, PathBuf::from("dist"));
        assert!(!c.demo);
        assert!(!c.demo_history);
        assert_eq!(c.password_cost, PasswordCost::Standard);
    }

    #[test]
    fn overrides_and_errors() {
        let c = from(&[("DANVAN_ADDR", "0.0.0.0:9000"), ("DANVAN_DEMO", "off"), ("DANVAN_DIST", "/srv/app")]).unwrap();
        assert_eq!(c.addr.port(), 9000);
        assert!(!c.demo);
        assert_eq!(c.dist, PathBuf::from("/srv/app"));
        assert!(matches!(from(&[("DANVAN_DEMO", "maybe")]), Err(ConfigError::Demo(_))));
        assert!(matches!(from(&[("DANVAN_ADDR", "nowhere")]), Err(ConfigError::Addr { .. })));
        assert!(matches!(from(&[("DANVAN_DATABASE_URL", "mysql://x/y")]), Err(ConfigError::UnsupportedDatabase(_))));
        let pg = from(&[("DANVAN_DATABASE_URL", "postgres://danvan:secret@db/danvan"), ("DANVAN_DATABASE_POOL", "32")]);
        assert_eq!(pg.as_ref().map(|c| c.database_pool).ok(), Some(32));
        assert!(matches!(from(&[("DANVAN_DATABASE_POOL", "1")]), Err(ConfigError::Limit { .. })));
    }

    #[test]
    fn demo_is_off_unless_asked_whatever_the_address() {
        for addr in ["127.0.0.1:8080", "[::1]:8080", "0.0.0.0:80", "192.168.1.10:8080"] {
            let c = from(&[("DANVAN_ADDR", addr)]).unwrap();
            assert!(!c.demo, "{addr}");
            assert_eq!(c.demo_warning(), None, "{addr}");
        }
        let c = from(&[("DANVAN_ADDR", "127.0.0.1:8080"), ("DANVAN_DEMO", "1")]).unwrap();
        assert!(c.demo);
        assert_eq!(c.demo_warning(), None);
        let c = from(&[("DANVAN_ADDR", "0.0.0.0:80"), ("DANVAN_DEMO", "yes")]).unwrap();
        assert!(c.demo);
        let warning = c.demo_warning().expect("warning for demo on a public address");
        assert!(warning.contains("0.0.0.0:80") && warning.contains("DANVAN_DEMO"), "{warning}");
        assert!(!from(&[("DANVAN_DEMO", "off")]).unwrap().demo);
        // Accounts only: warned about the same way.
        let c = from(&[("DANVAN_ADDR", "0.0.0.0:80"), ("DANVAN_DEMO", "accounts")]).unwrap();
        assert!(c.demo && !c.demo_history);
        assert!(c.demo_warning().is_some());
    }

    #[test]
    fn demo_levels() {
        let levels = |v: &str| from(&[("DANVAN_DEMO", v)]).map(|c| (c.demo, c.demo_history)).ok();
        for full in ["1", "true", "yes", "on", "ON", " True "] {
            assert_eq!(levels(full), Some((true, true)), "{full}");
        }
        for accounts in ["accounts", "Accounts", " ACCOUNTS "] {
            assert_eq!(levels(accounts), Some((true, false)), "{accounts}");
        }
        for off in ["0", "false", "no", "off", ""] {
            assert_eq!(levels(off), Some((false, false)), "{off:?}");
        }
        for bad in ["2", "account", "history", "accounts-only"] {
            match from(&[("DANVAN_DEMO", bad)]) {
                Err(e @ ConfigError::Demo(_)) => assert!(e.to_string().contains("accounts"), "{e}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn connection_limits() {
        use std::time::Duration;
        assert_eq!(from(&[]).unwrap().limits, crate::serve::Limits::default());
        let c = from(&[
            ("DANVAN_HEADER_TIMEOUT_SECS", "10"),
            ("DANVAN_IDLE_TIMEOUT_SECS", "120"),
            ("DANVAN_BODY_TIMEOUT_SECS", " 45 "),
            ("DANVAN_REQUEST_TIMEOUT_SECS", "90"),
            ("DANVAN_MAX_CONNECTIONS", "256"),
            ("DANVAN_MAX_WAITING_PUSHES", "300"),
        ])
        .unwrap();
        assert_eq!(c.limits.header_timeout, Duration::from_secs(10));
        assert_eq!(c.limits.idle_timeout, Duration::from_secs(120));
        assert_eq!(c.limits.body_timeout, Duration::from_secs(45));
        assert_eq!(c.limits.request_timeout, Duration::from_secs(90));
        assert_eq!(c.limits.max_connections, 256);
        assert_eq!(c.limits.max_waiting_pushes, 300);
        // Only the one given changes.
        let c = from(&[("DANVAN_MAX_CONNECTIONS", "8")]).unwrap();
        assert_eq!(c.limits, crate::serve::Limits { max_connections: 8, ..crate::serve::Limits::default() });
        assert_eq!(
            from(&[("DANVAN_HEADER_TIMEOUT_SECS", "30")]).unwrap().limits.header_timeout,
            Duration::from_secs(30)
        );
        for (key, value) in [
            ("DANVAN_HEADER_TIMEOUT_SECS", "31"),
            ("DANVAN_HEADER_TIMEOUT_SECS", "0"),
            ("DANVAN_HEADER_TIMEOUT_SECS", "-5"),
            ("DANVAN_IDLE_TIMEOUT_SECS", "1m"),
            ("DANVAN_MAX_WAITING_PUSHES", "0"),
            ("DANVAN_BODY_TIMEOUT_SECS", "0"),
            ("DANVAN_REQUEST_TIMEOUT_SECS", "2.5"),
            ("DANVAN_MAX_CONNECTIONS", "0"),
        ] {
            match from(&[(key, value)]) {
                Err(e @ ConfigError::Limit { key: k, .. }) => {
                    assert_eq!(k, key);
                    assert!(e.to_string().contains(value.trim()), "{e}");
                }
                other => panic!("{key}={value}: {other:?}"),
            }
        }
    }

    #[test]
    fn trusted_proxies_parse_and_match() {
        let c = from(&[("DANVAN_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8 ,::1,fd00::/8")]).unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let trusted = |s: &str| c.trusted_proxies.iter().any(|n| n.contains(ip(s)));
        assert!(trusted("127.0.0.1"));
        assert!(trusted("::ffff:127.0.0.1"), "IPv4-mapped form of a trusted address");
        assert!(trusted("10.200.3.4"));
        assert!(trusted("::1"));
        assert!(trusted("fd12::5"));
        assert!(!trusted("127.0.0.2"));
        assert!(!trusted("11.0.0.1"));
        assert!(!trusted("fe80::1"));
        assert!(from(&[]).unwrap().trusted_proxies.is_empty());
        assert!(matches!(from(&[("DANVAN_TRUSTED_PROXIES", "nginx")]), Err(ConfigError::TrustedProxies(_))));
        assert!(matches!(from(&[("DANVAN_TRUSTED_PROXIES", "10.0.0.0/33")]), Err(ConfigError::TrustedProxies(_))));
        assert!("0.0.0.0/0".parse::<IpNet>().unwrap().contains(ip("8.8.8.8")));
    }
}
