//! One run: a seed, a fresh database, the real server behind the faulty proxy, two
//! to four phones (officials of one commune on the same reports, so their edits
//! meet; sometimes the city's reviewer too), the server killed and restarted at
//! random moments; then the network heals, everyone syncs until nothing moves,
//! and the invariants are checked.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use danvan_core::api::{FormResponse, LoginResponse};
use danvan_core::{Period, ReportForm, ReportKey};
use danvan_server::store::Store;

use crate::common::{self, PLAN};
use crate::device::Device;
use crate::person::{self, Role};
use crate::proxy::Proxy;
use crate::rng::Rng;
use crate::server::ServerProcess;

const UNIT: &str = "kontum.tpkontum.dakbla";
/// Rounds of "everyone syncs" allowed to reach quiet once the faults stop.
const SETTLE_ROUNDS: usize = 30;

/// What a run did and found.
#[derive(Clone, Debug, Default)]
pub struct RunReport {
    pub seed: u64,
    pub devices: usize,
    pub reviewer: bool,
    pub reports: usize,
    pub edits: u64,
    pub kills: u32,
    pub requests: u64,
    pub faults: u64,
    /// Mutations acknowledged as applied (each one checked against the history).
    pub acked: u64,
    pub conflicts: u64,
    /// Saves of a month outside the plan: each one refused for good.
    pub outside_saves: u64,
    pub settle_rounds: usize,
    pub duration: Duration,
    pub startup: Duration,
    pub violations: Vec<String>,
    /// The server's last log lines, kept when something was found.
    pub server_log: String,
}

impl RunReport {
    pub fn line(&self) -> String {
        format!(
            "seed={} devices={}{} reports={} edits={} kills={} requests={} faults={} acked={} conflicts={} \
             outside_saves={} settle_rounds={} ms={} startup_ms={} violations={}",
            self.seed,
            self.devices,
            if self.reviewer { " (one reviewer)" } else { "" },
            self.reports,
            self.edits,
            self.kills,
            self.requests,
            self.faults,
            self.acked,
            self.conflicts,
            self.outside_saves,
            self.settle_rounds,
            self.duration.as_millis(),
            self.startup.as_millis(),
            self.violations.len()
        )
    }
}

pub async fn run(seed: u64) -> RunReport {
    let began = Instant::now();
    let mut rng = Rng::stream(seed, 0);
    let mut server = ServerProcess::prepare().await;
    server.start().await;
    let proxy = Proxy::start(server.upstream.clone(), Rng::stream(seed, 1)).await;

    // Two or three phones of the commune, sometimes the reviewer: two to four.
    let reporters = rng.between(2, 3) as usize;
    let reviewer = reporters < 4 && rng.percent(50);
    let months = rng.between(1, 3) as u32;
    // Plan 413 applies from February 2024: March to May are months it asks for.
    let keys: Vec<ReportKey> = (3..3 + months)
        .map(|m| ReportKey { plan_id: PLAN.into(), unit_id: UNIT.into(), period: Period::month(2024, m).unwrap() })
        .collect();
    let http = reqwest::Client::new();
    let mut people = Vec::new();
    for i in 0..reporters + usize::from(reviewer) {
        let (username, role) =
            if i < reporters { ("xa.dakbla", Role::Reporter) } else { ("tp.kontum", Role::Reviewer) };
        let login: LoginResponse = http
            .post(format!("{}/api/auth/login", proxy.base()))
            .json(&serde_json::json!({ "username": username, "password": common::PASSWORD }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        people.push((username, role, login));
    }
    let form: Arc<ReportForm> = {
        let res: FormResponse = http
            .get(format!("{}/api/forms/{PLAN}", proxy.base()))
            .bearer_auth(&people[0].2.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Arc::new(res.form)
    };
    let devices: Vec<(Arc<Device>, Role)> = people
        .into_iter()
        .enumerate()
        .map(|(i, (username, role, login))| {
            let device = Device::new(
                format!("device-{i}-{username}"),
                login.user.id,
                login.token,
                proxy.base(),
                form.clone(),
                Rng::stream(seed, 100 + i as u64),
            );
            (Arc::new(device), role)
        })
        .collect();

    // The storm: people edit, phones sync, the network misbehaves, the server dies.
    proxy.set_faults(true);
    let stop_syncing = Arc::new(AtomicBool::new(false));
    let mut editors = Vec::new();
    let mut syncers = Vec::new();
    for (i, (device, role)) in devices.iter().enumerate() {
        let (device, role, keys) = (device.clone(), *role, keys.clone());
        let mut rng = Rng::stream(seed, 200 + i as u64);
        let edits = rng.between(8, 24);
        editors.push(tokio::spawn(async move {
            for _ in 0..edits {
                tokio::time::sleep(Duration::from_millis(rng.between(0, 120))).await;
                person::act(&device, role, &keys, &mut rng);
            }
        }));
        let device = devices[i].0.clone();
        let stop = stop_syncing.clone();
        let mut rng = Rng::stream(seed, 300 + i as u64);
        syncers.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(rng.between(10, 250))).await;
                if let Err(e) = device.sync_now().await {
                    if !e.is_expected_under_faults() {
                        device.log.lock().unwrap().errors.push(format!("{e:?}"));
                    }
                }
            }
        }));
    }
    let pushes = proxy.push_forwarded();
    let mut killer = Rng::stream(seed, 2);
    while !editors.iter().all(|e| e.is_finished()) {
        tokio::time::sleep(Duration::from_millis(killer.between(100, 900))).await;
        if editors.iter().all(|e| e.is_finished()) {
            break;
        }
        // Some kills aimed at a push the server is writing.
        if killer.percent(50) {
            let _ = tokio::time::timeout(Duration::from_millis(800), pushes.notified()).await;
            tokio::time::sleep(Duration::from_millis(killer.between(0, 20))).await;
        }
        server.kill();
        tokio::time::sleep(Duration::from_millis(killer.between(0, 300))).await;
        server.start().await;
    }
    for e in editors {
        e.await.unwrap();
    }
    stop_syncing.store(true, Ordering::SeqCst);
    for s in syncers {
        s.await.unwrap();
    }

    // The network heals: everyone settles conflicts and syncs until a whole round
    // moves nothing (no outbox, no conflict before or after any device's sync).
    proxy.set_faults(false);
    if !server.is_running() {
        server.start().await;
    }
    let mut settle_rounds = 0;
    let mut quiet = false;
    let mut final_rng = Rng::stream(seed, 3);
    while settle_rounds < SETTLE_ROUNDS && !quiet {
        settle_rounds += 1;
        quiet = true;
        for (device, _) in &devices {
            let before = device.snapshot();
            if !before.outbox.is_empty() || !before.conflicts.is_empty() {
                quiet = false;
            }
            person::settle_conflicts(device, &mut final_rng, true);
            let mut synced = false;
            for _ in 0..50 {
                match device.sync_now().await {
                    Ok(()) => {
                        synced = true;
                        break;
                    }
                    Err(e) if e.is_expected_under_faults() => tokio::time::sleep(Duration::from_millis(100)).await,
                    Err(e) => {
                        device.log.lock().unwrap().errors.push(format!("after the faults: {e:?}"));
                        break;
                    }
                }
            }
            let after = device.snapshot();
            if !synced || !after.outbox.is_empty() || !after.conflicts.is_empty() {
                quiet = false;
            }
        }
    }

    // One more SIGKILL: what was answered must be on disk, not in a cache.
    server.kill();
    let store = Store::open(&server.database_url).await.expect("the run's database after the last kill");
    let all: Vec<Arc<Device>> = devices.iter().map(|(d, _)| d.clone()).collect();
    let stats = proxy.stats();
    let mut violations = crate::invariants::check(&store, &form, &all, &stats).await;
    store.close().await;
    if !quiet {
        violations.insert(0, format!("no quiet round after {SETTLE_ROUNDS} rounds of syncing without faults"));
    }
    let server_log = if violations.is_empty() { String::new() } else { server.log_tail() };

    let logs: Vec<_> = all.iter().map(|d| d.log.lock().unwrap().clone()).collect();
    let report = RunReport {
        seed,
        devices: all.len(),
        reviewer,
        reports: keys.len(),
        edits: logs.iter().map(|l| l.edits).sum(),
        kills: server.kills,
        requests: stats.requests,
        faults: stats.faults_injected(),
        acked: logs.iter().map(|l| l.acks.len() as u64).sum(),
        conflicts: logs.iter().map(|l| l.conflicts_answered).sum(),
        outside_saves: logs.iter().map(|l| l.outside_saves).sum(),
        settle_rounds,
        duration: began.elapsed(),
        startup: server.startup,
        violations,
        server_log,
    };
    drop(proxy);
    server.dispose().await;
    report
}
