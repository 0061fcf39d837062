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
    /// `DANVAN_DEMO`: create the demo accounts if they are missing.
    pub demo: bool,
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
        let demo = match get("DANVAN_DEMO") {
            // Demo accounts by default only for the embedded SQLite database: a real
            // deployment on a server database must opt in.
            None => database_url.starts_with("sqlite:"),
            Some(v) => parse_bool(&v).ok_or(ConfigError::Demo(v))?,
        };
        Ok(Config { addr, database_url, dist, demo, password_cost: PasswordCost::Standard })
    }
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
}
