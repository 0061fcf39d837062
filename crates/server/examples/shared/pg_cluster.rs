//! A throwaway PostgreSQL cluster for the benchmark examples (`#[path]`-included:
//! Cargo builds no example from this folder; `dashboard_bench.rs` and
//! `deadline_rush.rs` use it). Started the way `scripts/with-postgres.sh` does (as the
//! `postgres` user when run as root: PostgreSQL refuses to run as root), but with
//! PostgreSQL's default durability (fsync and synchronous_commit on), so a commit
//! waits for its WAL flush as it would in production. Stopped and deleted when
//! dropped.
#![allow(dead_code)] // each example uses what it needs

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct PgCluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    as_postgres: bool,
    port: u16,
    /// `postgres://postgres@127.0.0.1:PORT/danvan`, a database made empty for the run.
    pub url: String,
}

impl PgCluster {
    /// initdb into a new temp dir (`prefix` names it), start on a free loopback
    /// port, create the database `danvan`.
    pub fn start(bin: PathBuf, prefix: &str) -> PgCluster {
        let as_postgres = shell("id -u") == "0";
        let dir = tempfile::Builder::new().prefix(prefix).tempdir().expect("temp dir");
        if as_postgres {
            if shell("id -u postgres").is_empty() {
                let status = Command::new("useradd")
                    .args(["--system", "--home-dir"])
                    .arg(dir.path())
                    .args(["--shell", "/bin/sh", "postgres"])
                    .status()
                    .expect("useradd");
                assert!(status.success(), "could not create the postgres user");
            }
            let ok = Command::new("chown").arg("postgres").arg(dir.path()).status().is_ok_and(|s| s.success());
            assert!(ok, "chown postgres {}", dir.path().display());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut cluster = PgCluster { bin, dir, as_postgres, port, url: String::new() };
        let data = cluster.data();
        let initdb = |locale: &str| {
            cluster
                .command("initdb")
                .arg("-D")
                .arg(&data)
                .args(["-U", "postgres", "--auth=trust", "--encoding=UTF8"])
                .arg(format!("--locale={locale}"))
                .output()
                .expect("initdb")
        };
        let out = initdb("C.UTF-8");
        let out = if out.status.success() { out } else { initdb("C") };
        assert!(out.status.success(), "initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        // Only where it listens: every durability setting stays at its default.
        let options = format!("-h 127.0.0.1 -p {port} -k {}", cluster.dir.path().display());
        let out = cluster
            .command("pg_ctl")
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(cluster.log())
            .args(["-w", "-t", "60", "-o", &options, "start"])
            .output()
            .expect("pg_ctl start");
        assert!(out.status.success(), "pg_ctl start failed:\n{}", tail(&cluster.log(), 20));
        let out = cluster.client("createdb").arg("danvan").output().expect("createdb");
        assert!(out.status.success(), "createdb failed: {}", String::from_utf8_lossy(&out.stderr));
        cluster.url = format!("postgres://postgres@127.0.0.1:{port}/danvan");
        cluster
    }

    /// One of PostgreSQL's programs, run as the cluster's owner.
    pub fn command(&self, program: &str) -> Command {
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(self.bin.join(program));
            c
        } else {
            Command::new(self.bin.join(program))
        }
    }

    /// A client program (`createdb`, `vacuumdb`, …) pointed at the cluster.
    pub fn client(&self, program: &str) -> Command {
        let mut c = self.command(program);
        c.args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres"]);
        c
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn log(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// The postmaster's pid (first line of `postmaster.pid`).
    pub fn postmaster_pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.data().join("postmaster.pid")).ok()?.lines().next()?.trim().parse().ok()
    }

    /// `vacuumdb --analyze` of the database, as autovacuum would have done long
    /// since on a database filled over months: planner statistics and the
    /// visibility map (index-only scans) as in a settled production database.
    pub fn vacuum_analyze(&self) {
        let out = self.client("vacuumdb").args(["--analyze", "danvan"]).output().expect("vacuumdb");
        assert!(out.status.success(), "vacuumdb failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Bytes on disk of the cluster's databases made after initdb (tables,
    /// indexes, TOAST; not the WAL): the files under `base/OID` for OIDs from
    /// 16384, PostgreSQL's first one for user objects.
    pub fn database_bytes(&self) -> u64 {
        let base = self.data().join("base");
        std::fs::read_dir(base)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_str().and_then(|n| n.parse::<u64>().ok()).is_some_and(|oid| oid >= 16384))
            .flat_map(|e| std::fs::read_dir(e.path()).into_iter().flatten().flatten())
            .filter_map(|f| f.metadata().ok())
            .filter(|m| m.is_file())
            .map(|m| m.len())
            .sum()
    }

    /// The settings that decide what a commit costs, as the running cluster
    /// reports them (`postgres -C` reads them without a connection).
    pub fn durability(&self) -> String {
        ["fsync", "synchronous_commit", "full_page_writes", "wal_sync_method", "shared_buffers", "max_connections"]
            .iter()
            .map(|name| {
                let out = self.command("postgres").arg("-D").arg(self.data()).args(["-C", name]).output();
                let value = out.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default();
                let value = match (*name, value.parse::<u64>()) {
                    // Printed in 8 kB pages.
                    ("shared_buffers", Ok(pages)) => format!("{} MB", pages * 8 / 1024),
                    _ if value.is_empty() => "?".into(),
                    _ => value,
                };
                format!("`{name} = {value}`")
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn version(&self) -> String {
        let out = self.command("postgres").arg("--version").output();
        out.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default()
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = self.command("pg_ctl").arg("-D").arg(self.data()).args(["-m", "fast", "-w", "stop"]).output();
        // The TempDir removes the directory (root may delete the postgres user's files).
    }
}

/// `BENCH_PG_BIN`, else the newest `/usr/lib/postgresql/*/bin` with an initdb.
pub fn pg_bin() -> PathBuf {
    if let Ok(dir) = std::env::var("BENCH_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, bin)| bin).unwrap_or_else(|| {
        panic!("PostgreSQL server binaries not found: `apt-get install postgresql`, or set BENCH_PG_BIN")
    })
}

/// What `sh -c CMD` prints, trimmed (empty when it fails).
pub fn shell(cmd: &str) -> String {
    Command::new("sh")
        .args(["-c", cmd])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// The last lines of a log file, for a failure message.
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
