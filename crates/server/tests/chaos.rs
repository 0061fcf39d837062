//! A randomized fault harness for exactly-once sync: simulated phones that run the
//! app's sync rules (`chaos/device.rs`, the same `danvan_core::client` functions
//! as `src/storage/reports.rs` and `src/sync.rs`) talk to the real server binary
//! through a proxy that drops, repeats, delays and reorders requests and answers
//! (`chaos/proxy.rs`), while the server is killed with SIGKILL and restarted at
//! random moments (`chaos/server.rs`). After each run the network heals, every
//! phone syncs until nothing moves, and `chaos/invariants.rs` checks that no
//! acknowledged mutation was lost or applied twice, that every phone holds the
//! server's copy, and that no one saw a 5xx other than 503. RELIABILITY.md
//! describes it and records the long runs (`make chaos`).
//!
//! The budget comes from the environment:
//! - `CHAOS_SEED=n`: that run only (to reproduce a failure);
//! - `CHAOS_RUNS=n` (default 5) runs with seeds from `CHAOS_SEED_BASE` (default 1);
//! - `CHAOS_SECONDS=s`: no new run starts after s seconds (default 90 when
//!   `CHAOS_RUNS` is not set, so `make test` stays short; unlimited otherwise);
//! - `CHAOS_SUMMARY=path`: appends one tab-separated line per run.
//!
//! The engine is SQLite, or PostgreSQL under `scripts/with-postgres.sh`
//! (`common::database_url`), like every test here.

mod common;

#[path = "chaos/device.rs"]
mod device;
#[path = "chaos/invariants.rs"]
mod invariants;
#[path = "chaos/person.rs"]
mod person;
#[path = "chaos/proxy.rs"]
mod proxy;
#[path = "chaos/rng.rs"]
mod rng;
#[path = "chaos/run.rs"]
mod run;
#[path = "chaos/server.rs"]
mod server;

use std::io::Write;
use std::time::{Duration, Instant};

use danvan_server::store::Backend;

struct Budget {
    seeds: Vec<u64>,
    seconds: Option<u64>,
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| v.trim().parse().unwrap_or_else(|_| panic!("{name}={v}: a number")))
}

impl Budget {
    fn from_env() -> Budget {
        if let Some(seed) = env_u64("CHAOS_SEED") {
            return Budget { seeds: vec![seed], seconds: None };
        }
        let runs = env_u64("CHAOS_RUNS");
        let base = env_u64("CHAOS_SEED_BASE").unwrap_or(1);
        let seconds = env_u64("CHAOS_SECONDS").or(if runs.is_none() { Some(90) } else { None });
        Budget { seeds: (base..base + runs.unwrap_or(5)).collect(), seconds }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_is_exactly_once_through_faults_and_kills() {
    let budget = Budget::from_env();
    let engine = match common::backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let mut summary = std::env::var_os("CHAOS_SUMMARY")
        .map(|path| std::fs::OpenOptions::new().create(true).append(true).open(&path).expect("CHAOS_SUMMARY file"));
    let began = Instant::now();
    let mut reports = Vec::new();
    for &seed in &budget.seeds {
        if budget.seconds.is_some_and(|s| began.elapsed() > Duration::from_secs(s)) {
            eprintln!("chaos: time budget spent after {} runs", reports.len());
            break;
        }
        let report = run::run(seed).await;
        eprintln!("chaos {engine} {}", report.line());
        for v in &report.violations {
            eprintln!("  VIOLATION (CHAOS_SEED={seed}): {v}");
        }
        if !report.violations.is_empty() {
            eprintln!("  server log:\n{}", report.server_log);
        }
        if let Some(file) = summary.as_mut() {
            writeln!(
                file,
                "{engine}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                report.seed,
                report.devices,
                report.reviewer,
                report.edits,
                report.kills,
                report.requests,
                report.faults,
                report.acked,
                report.conflicts,
                report.duration.as_millis(),
                report.violations.len(),
                report.outside_saves
            )
            .unwrap();
        }
        reports.push(report);
    }
    let failed: Vec<u64> = reports.iter().filter(|r| !r.violations.is_empty()).map(|r| r.seed).collect();
    let sum = |f: fn(&run::RunReport) -> u64| reports.iter().map(f).sum::<u64>();
    eprintln!(
        "chaos total {engine}: runs={} seeds={}..={} kills={} requests={} faults={} acked={} conflicts={} \
         outside_saves={} violations={} seconds={:.1}",
        reports.len(),
        reports.first().map_or(0, |r| r.seed),
        reports.last().map_or(0, |r| r.seed),
        sum(|r| r.kills as u64),
        sum(|r| r.requests),
        sum(|r| r.faults),
        sum(|r| r.acked),
        sum(|r| r.conflicts),
        sum(|r| r.outside_saves),
        sum(|r| r.violations.len() as u64),
        began.elapsed().as_secs_f64()
    );
    assert!(!reports.is_empty(), "no run fitted the budget");
    assert!(failed.is_empty(), "invariants broken; rerun with CHAOS_SEED= one of {failed:?}");
}
