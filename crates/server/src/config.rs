//! Configuration, from the environment with defaults that run out of the box.

use std::net::SocketAddr;
use std::path::PathBuf;

pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/danvan.db";
pub const DEFAULT_DIST: &str = "dist";

#[derive(Clone, Debug)]
pub struct Config {
    /// `DANVAN_ADDR`
    pub addr: SocketAddr,
    /// `DANVAN_DATABASE_URL`; only `sqlite:` for now (see `store`).
    pub database_url: String,
    /// `DANVAN_DIST`: the built web app, served at `/`.
    pub dist: PathBuf,
    /// `DANVAN_DEMO`: create the demo accounts if they are missing. When unset: on
    /// only for SQLite on a loopback address (see [`Config::from_lookup`]).
    pub demo: bool,
    /// Whether `DANVAN_DEMO` was set explicitly (only changes the start-up warning).
    pub demo_explicit: bool,
    /// Argon2 cost for new password hashes. Not settable from the environment.
    pub password_cost: PasswordCost,
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
    #[error("DANVAN_DEMO phải là true/false, 1/0, yes/no hoặc on/off (nhận được {0:?})")]
    Demo(String),
    #[error("DANVAN_DATABASE_URL chưa được hỗ trợ ({0}): hiện chỉ hỗ trợ sqlite:")]
    UnsupportedDatabase(String),
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
        if !database_url.starts_with("sqlite:") {
            // The seam for PostgreSQL: accept `postgres://` here once `store` has it.
            return Err(ConfigError::UnsupportedDatabase(database_url));
        }
        let dist = PathBuf::from(get("DANVAN_DIST").unwrap_or_else(|| DEFAULT_DIST.to_string()));
        let (demo, demo_explicit) = match get("DANVAN_DEMO") {
            // Demo accounts (`admin`/`danvan2024`, ...) by default only for the
            // embedded SQLite database on a loopback address (`make run`): a server
            // reachable by others, or on a server database, must opt in.
            None => (database_url.starts_with("sqlite:") && is_loopback(&addr), false),
            Some(v) => (parse_bool(&v).ok_or(ConfigError::Demo(v))?, true),
        };
        Ok(Config { addr, database_url, dist, demo, demo_explicit, password_cost: PasswordCost::Standard })
    }

    /// What to warn about the demo accounts at start-up, if anything: they are on
    /// at an address others can reach, or they were left off because of the address.
    pub fn demo_warning(&self) -> Option<String> {
        if is_loopback(&self.addr) {
            return None;
        }
        match (self.demo, self.demo_explicit) {
            (true, _) => Some(format!(
                "tài khoản mẫu (admin/danvan2024, ...) đang bật trên địa chỉ {} mà máy khác truy cập được: \
                 ai cũng đăng nhập được bằng chúng; đặt DANVAN_DEMO=0 khi triển khai thật",
                self.addr
            )),
            (false, false) if self.database_url.starts_with("sqlite:") => Some(format!(
                "không tạo tài khoản mẫu vì máy chủ lắng nghe trên địa chỉ {} (không phải loopback); \
                 đặt DANVAN_DEMO=1 nếu thật sự muốn bật",
                self.addr
            )),
            _ => None,
        }
    }
}

/// 127.0.0.0/8, ::1 and ::ffff:127.x.y.z: only this machine can connect.
pub fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().to_canonical().is_loopback()
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
        assert!(c.demo);
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
        assert!(matches!(from(&[("DANVAN_DATABASE_URL", "postgres://x/y")]), Err(ConfigError::UnsupportedDatabase(_))));
    }

    #[test]
    fn demo_defaults_on_only_on_loopback() {
        for addr in ["127.0.0.1:8080", "127.0.0.2:80", "127.255.255.254:1", "[::1]:8080", "[::ffff:127.0.0.1]:80"] {
            let c = from(&[("DANVAN_ADDR", addr)]).unwrap();
            assert!(c.demo, "{addr}");
            assert!(!c.demo_explicit, "{addr}");
            assert_eq!(c.demo_warning(), None, "{addr}");
        }
        for addr in ["0.0.0.0:80", "[::]:80", "192.168.1.10:8080", "10.0.0.1:80", "[2001:db8::1]:443", "128.0.0.1:80"] {
            let c = from(&[("DANVAN_ADDR", addr)]).unwrap();
            assert!(!c.demo, "{addr}");
            let warning = c.demo_warning().expect(addr);
            assert!(warning.contains("DANVAN_DEMO=1"), "{warning}");
        }
    }

    #[test]
    fn explicit_demo_wins_on_any_address() {
        let c = from(&[("DANVAN_ADDR", "0.0.0.0:80"), ("DANVAN_DEMO", "1")]).unwrap();
        assert!(c.demo && c.demo_explicit);
        let warning = c.demo_warning().expect("warning for demo on a public address");
        assert!(warning.contains("0.0.0.0:80") && warning.contains("DANVAN_DEMO=0"), "{warning}");

        let c = from(&[("DANVAN_ADDR", "0.0.0.0:80"), ("DANVAN_DEMO", "off")]).unwrap();
        assert!(!c.demo && c.demo_explicit);
        assert_eq!(c.demo_warning(), None);

        let c = from(&[("DANVAN_ADDR", "127.0.0.1:8080"), ("DANVAN_DEMO", "no")]).unwrap();
        assert!(!c.demo);
        assert_eq!(c.demo_warning(), None);
        let c = from(&[("DANVAN_ADDR", "127.0.0.1:8080"), ("DANVAN_DEMO", "yes")]).unwrap();
        assert!(c.demo);
        assert_eq!(c.demo_warning(), None);
    }
}
