//! `danvan-server backup` and `restore`, and the database lock, over real HTTP,
//! real SQLite files and the real binary (`CARGO_BIN_EXE_danvan-server`): a backup
//! taken while devices push holds everything acknowledged before it began; a
//! restore starts a new epoch (devices start over and resend what the backup
//! lacks) and keeps the replaced database; nothing runs on a database a server
//! holds. SQLite only: the tests skip on PostgreSQL (tests/common), whose
//! backups are pg_dump's job.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{applied, assert_error, Device, TestServer, PLAN};
use danvan_core::sync::{Mutation, MutationOp, PushRequest, PushResponse, SYNC_SCHEMA_VERSION};
use danvan_core::{Period, ReportKey};
use danvan_server::backup::{self, BackupError};
use danvan_server::store::Backend;
use reqwest::StatusCode;
use sqlx::SqlitePool;

const FORM: &str = "kh-413-ubnd-2024.bao-cao";
const DAKBLA: &str = "kontum.tpkontum.dakbla";
const LOCKED: &str = "đang được một tiến trình danvan-server khác sử dụng";

/// Months 06–12/2024 are left to the pushers (`key(2024, n + 5)`), 03–05 to the
/// other tests.
fn key(year: i32, month: u32) -> ReportKey {
    ReportKey { plan_id: PLAN.into(), unit_id: DAKBLA.into(), period: Period::month(year, month).unwrap() }
}

fn save(field: &str, value: &str) -> MutationOp {
    MutationOp::Save {
        form_id: FORM.into(),
        set: [(field.to_string(), value.to_string())].into_iter().collect(),
        attach: vec![],
        detach: vec![],
    }
}

fn url(dir: &Path) -> String {
    format!("sqlite://{}", common::db_path(dir).display())
}

/// The real binary with a clean environment pointing at `dir`'s database.
fn danvan(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_danvan-server"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DANVAN_DATABASE_URL", url(dir))
        .env("DANVAN_DIST", dir.join("dist"))
        .env("DANVAN_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null());
    cmd
}

/// Runs a `danvan-server` command to its end (off the async workers); its
/// stdout and stderr together. Killed after a minute: a server that starts when
/// it should have refused must fail the test, not hang it.
async fn run(dir: &Path, args: &[&str]) -> (bool, String) {
    let mut cmd = danvan(dir);
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().unwrap();
        let read = |mut pipe: Box<dyn std::io::Read + Send>| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                text
            })
        };
        let stdout = read(Box::new(child.stdout.take().unwrap()));
        let stderr = read(Box::new(child.stderr.take().unwrap()));
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let text = format!("{}{}", stdout.join().unwrap(), stderr.join().unwrap());
        match status {
            Some(status) => (status.success(), text),
            None => (false, format!("{text}\n[killed: still running after 60 s]")),
        }
    })
    .await
    .unwrap()
}

async fn open(path: &Path) -> SqlitePool {
    SqlitePool::connect(&format!("sqlite://{}", path.display())).await.unwrap()
}

async fn integrity(pool: &SqlitePool) -> String {
    sqlx::query_scalar("PRAGMA integrity_check").fetch_one(pool).await.unwrap()
}

async fn epoch_in(pool: &SqlitePool) -> String {
    sqlx::query_scalar("SELECT epoch FROM sync_state WHERE id = 1").fetch_one(pool).await.unwrap()
}

async fn count(pool: &SqlitePool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// `danvan-server backup` / `restore` copy the SQLite file (src/backup.rs) and
/// these tests look inside the files they make; on PostgreSQL backups are
/// pg_dump's job, so the whole file skips there.
fn skipped_on_postgres(test: &str) -> bool {
    let skip = common::backend() == Backend::Postgres;
    if skip {
        eprintln!("{test}: skipped on PostgreSQL (SQLite file backups; pg_dump backs PostgreSQL up)");
    }
    skip
}

/// Files of a directory whose name starts with `prefix`.
fn files_starting(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    v.sort();
    v
}

/// One push acknowledged by the server.
#[derive(Clone, Debug)]
struct Ack {
    client_id: String,
    mutation_id: u64,
    month: u32,
    value: u64,
    version: u64,
}

/// A device saving its own report over and over (`ii1.sessions` = 1, 2, 3, …)
/// until `stop`, recording each acknowledged push.
async fn pusher(base: String, token: String, n: u32, stop: Arc<AtomicBool>, acks: Arc<Mutex<Vec<Ack>>>) -> usize {
    let http = reqwest::Client::new();
    let client_id = format!("pusher-{n}");
    let mut version = 0;
    let mut id = 1;
    while !stop.load(Ordering::SeqCst) {
        let m = Mutation::new(id, key(2024, n + 5), version, save("ii1.sessions", &id.to_string()));
        let req = PushRequest {
            client_id: client_id.clone(),
            epoch: None,
            schema_version: SYNC_SCHEMA_VERSION,
            mutations: vec![m],
        };
        let res = http.post(format!("{base}/api/sync/push")).bearer_auth(&token).json(&req).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let res: PushResponse = res.json().await.unwrap();
        assert_eq!(res.results[0].result, applied(version + 1), "{res:?}");
        version += 1;
        acks.lock().unwrap().push(Ack { client_id: client_id.clone(), mutation_id: id, month: n, value: id, version });
        id += 1;
    }
    (id - 1) as usize
}

#[tokio::test]
async fn a_backup_taken_during_pushes_holds_every_acknowledged_push_and_restores() {
    if skipped_on_postgres("a_backup_taken_during_pushes_holds_every_acknowledged_push_and_restores") {
        return;
    }
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    const PUSHERS: u32 = 4;
    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for n in 1..=PUSHERS {
        let token = s.login("xa.dakbla").await.token;
        tasks.push(tokio::spawn(pusher(s.base.clone(), token, n, stop.clone(), acks.clone())));
    }
    // Let the pushes flow, then take the backup with the real command.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acks.lock().unwrap().len() < 20 {
        assert!(Instant::now() < deadline && tasks.iter().all(|t| !t.is_finished()), "pushes do not flow");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let file = dir.path().join("sao-luu.db");
    let acked_before: Vec<Ack> = acks.lock().unwrap().clone();
    let started = Instant::now();
    let (ok, out) = run(dir.path(), &["backup", file.to_str().unwrap()]).await;
    let took = started.elapsed();
    let during = acks.lock().unwrap().len() - acked_before.len();
    // A few more after the backup: these must not be in it... nor lost later.
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.store(true, Ordering::SeqCst);
    let mut pushed = 0;
    for t in tasks {
        pushed += t.await.unwrap();
    }
    assert!(ok, "{out}");
    assert!(out.contains("Đã sao lưu cơ sở dữ liệu") && out.contains("integrity_check: ok"), "{out}");
    eprintln!(
        "backup took {took:?}; {} pushes acknowledged before, {during} during, {pushed} in all",
        acked_before.len()
    );

    // The backup itself: intact, and every push acknowledged before it began is in it.
    let pool = open(&file).await;
    assert_eq!(integrity(&pool).await, "ok");
    let backup_epoch = epoch_in(&pool).await;
    for a in &acked_before {
        let n = sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM mutation_results WHERE client_id = ? AND mutation_id = ?",
        )
        .bind(&a.client_id)
        .bind(a.mutation_id as i64)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(n, 1, "{a:?} missing from the backup");
    }
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&pool).await.unwrap();
    assert_eq!(journal, "delete", "one self-contained file");
    pool.close().await;
    s.stop().await;
    assert_eq!(files_starting(dir.path(), ".sao-luu.db"), Vec::<PathBuf>::new(), "no temp file left");

    // Restored elsewhere and served: a device finds every acknowledged report, at
    // least as far as it was acknowledged before the backup.
    let elsewhere = common::workspace();
    let (ok, out) = run(elsewhere.path(), &["restore", file.to_str().unwrap()]).await;
    assert!(ok, "{out}");
    assert!(out.contains("Trước đó chưa có cơ sở dữ liệu nào"), "{out}");
    let pool = open(&common::db_path(elsewhere.path())).await;
    assert_eq!(integrity(&pool).await, "ok");
    pool.close().await;
    let s = TestServer::start_in(elsewhere.path()).await;
    let d = Device::new(&s, "xa.dakbla", "checker").await;
    let first = d.pull(&s, 0, None).await;
    assert_ne!(first.epoch, backup_epoch, "a restore always starts a new epoch");
    let reports = d.pull_all(&s, &first.epoch).await;
    for n in 1..=PUSHERS {
        let last = acked_before.iter().filter(|a| a.month == n).max_by_key(|a| a.version);
        let Some(last) = last else { continue };
        let r =
            reports.iter().find(|r| r.key == key(2024, n + 5)).unwrap_or_else(|| panic!("report of pusher {n} lost"));
        assert!(r.version >= last.version, "pusher {n}: version {} < acknowledged {}", r.version, last.version);
        let value: u64 = r.value("ii1.sessions").parse().unwrap();
        assert!(value >= last.value, "pusher {n}: {value} < acknowledged {}", last.value);
    }
    s.stop().await;
}

#[tokio::test]
async fn restore_starts_a_new_epoch_keeps_the_replaced_database_and_devices_resend_what_it_lacks() {
    if skipped_on_postgres("restore_starts_a_new_epoch_keeps_the_replaced_database_and_devices_resend_what_it_lacks") {
        return;
    }
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    let mut d = Device::new(&s, "xa.dakbla", "phone-restore").await;
    let m = d.m(key(2024, 3), 0, save("ii1.sessions", "3"));
    assert_eq!(d.push(&s, &[m]).await.results[0].result, applied(1));
    let page = d.pull(&s, 0, None).await;
    let (old_epoch, cursor) = (page.epoch, page.cursor);

    let file = dir.path().join("truoc-thang-4.db");
    let (ok, out) = run(dir.path(), &["backup", file.to_str().unwrap()]).await;
    assert!(ok, "{out}");
    // Work the backup does not have.
    let april = d.m(key(2024, 4), 0, save("ii1.sessions", "4"));
    assert_eq!(d.push(&s, std::slice::from_ref(&april)).await.results[0].result, applied(1));
    s.stop().await;

    // The database's permissions, as a deployment sets them; the backup has others.
    let db = common::db_path(dir.path());
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o640)).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o604)).unwrap();

    let (ok, out) = run(dir.path(), &["restore", file.to_str().unwrap()]).await;
    assert!(ok, "{out}");
    assert!(out.contains("Đã khôi phục cơ sở dữ liệu") && out.contains("epoch đồng bộ mới"), "{out}");
    assert_eq!(std::fs::metadata(&db).unwrap().permissions().mode() & 0o777, 0o640, "the replaced file's mode");
    let db_dir = db.parent().unwrap();
    // The replaced database is kept beside it, with the April report in it.
    let kept = files_starting(db_dir, "danvan.db.before-restore-");
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(out.contains(&kept[0].display().to_string()), "{out}");
    let pool = open(&kept[0]).await;
    assert_eq!(integrity(&pool).await, "ok");
    assert_eq!(epoch_in(&pool).await, old_epoch);
    assert_eq!(count(&pool, "SELECT COUNT(*) FROM reports").await, 2);
    pool.close().await;
    // No stale -wal/-shm of the old file beside the new one, no temp copy.
    for stale in ["danvan.db-wal", "danvan.db-shm", ".danvan.db"] {
        assert_eq!(files_starting(db_dir, stale), Vec::<PathBuf>::new(), "{stale}");
    }
    let pool = open(&db).await;
    let new_epoch = epoch_in(&pool).await;
    assert_eq!(count(&pool, "SELECT COUNT(*) FROM reports").await, 1, "the backup's content");
    pool.close().await;
    assert_ne!(new_epoch, old_epoch);
    assert!(out.contains(&new_epoch) && out.contains(&old_epoch), "{out}");

    // Served again: the phone's old epoch gets a reset and a full snapshot...
    let s = TestServer::start_in(dir.path()).await;
    let page = d.pull(&s, cursor, Some(&old_epoch)).await;
    assert!(page.reset, "the device must start over");
    assert_eq!(page.epoch, new_epoch);
    assert_eq!(page.changes.len(), 1, "only March: the backup lacks April");
    // ... its old-epoch pushes are refused until it has started over ...
    let res = d.push_raw(&s, std::slice::from_ref(&april), Some(&old_epoch)).await;
    assert_error(res, StatusCode::CONFLICT, "epoch_mismatch").await;
    // ... and then what the backup lacked comes back (a new client id, as the
    // app takes after a reset).
    let mut again = Device { token: d.token.clone(), client_id: "phone-restore-2".into(), next: 1 };
    let resend = again.m(key(2024, 4), 0, save("ii1.sessions", "4"));
    let res = again.push_raw(&s, &[resend], Some(&new_epoch)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res: PushResponse = res.json().await.unwrap();
    assert_eq!(res.results[0].result, applied(1));
    assert_eq!(again.pull_all(&s, &new_epoch).await.len(), 2);
    s.stop().await;
}

/// A server process, killed when dropped: a failing test must not leave it running.
struct ServerProcess(Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The real server, started as a process on `dir`'s database; returns once it
/// says it is serving (it takes the lock before that).
fn start_server_process(dir: &Path) -> (ServerProcess, Arc<Mutex<String>>) {
    let mut child = ServerProcess(danvan(dir).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap());
    let log = Arc::new(Mutex::new(String::new()));
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let stdout = child.0.stdout.take().unwrap();
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.contains("đang chạy tại") {
                let _ = ready_tx.send(());
            }
            sink.lock().unwrap().push_str(&line);
        }
    });
    let stderr = child.0.stderr.take().unwrap();
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            sink.lock().unwrap().push_str(&line);
        }
    });
    // Start-up hashes a dummy password at the production cost (slow in a debug build).
    if ready_rx.recv_timeout(Duration::from_secs(120)).is_err() {
        panic!("the server did not start: {}", log.lock().unwrap());
    }
    (child, log)
}

#[tokio::test]
async fn nothing_else_runs_on_a_database_a_server_holds() {
    if skipped_on_postgres("nothing_else_runs_on_a_database_a_server_holds") {
        return;
    }
    let dir = common::workspace();
    let (server, _log) = start_server_process(dir.path());
    let db = common::db_path(dir.path());
    let lock_file = db.with_file_name("danvan.db.lock");
    assert_eq!(std::fs::read_to_string(&lock_file).unwrap(), server.0.id().to_string(), "the holder's PID");

    // A backup is fine while it runs.
    let file = dir.path().join("sao-luu.db");
    let (ok, out) = run(dir.path(), &["backup", file.to_str().unwrap()]).await;
    assert!(ok, "{out}");
    let pool = open(&db).await;
    let epoch = epoch_in(&pool).await;
    pool.close().await;

    // A restore, a second server and new-epoch are refused, in Vietnamese, naming
    // the holder.
    for args in [&["restore", file.to_str().unwrap()][..], &[][..], &["new-epoch"][..]] {
        let (ok, out) = run(dir.path(), args).await;
        assert!(!ok, "{args:?} ran under a server: {out}");
        assert!(out.contains(LOCKED), "{args:?}: {out}");
        assert!(out.contains(&format!("PID {}", server.0.id())), "{args:?}: {out}");
    }
    let pool = open(&db).await;
    assert_eq!(epoch_in(&pool).await, epoch, "nothing changed");
    pool.close().await;
    assert_eq!(files_starting(db.parent().unwrap(), "danvan.db.before-restore-"), Vec::<PathBuf>::new());
    let err = backup::restore(&url(dir.path()), &file).await.unwrap_err();
    assert!(matches!(err, BackupError::Locked { .. }), "{err}");

    // The lock goes with the process, however it ends.
    drop(server);
    let (ok, out) = run(dir.path(), &["restore", file.to_str().unwrap()]).await;
    assert!(ok, "{out}");
    let pool = open(&db).await;
    assert_ne!(epoch_in(&pool).await, epoch);
    pool.close().await;
}

#[tokio::test]
async fn backup_refuses_to_overwrite_unless_forced() {
    if skipped_on_postgres("backup_refuses_to_overwrite_unless_forced") {
        return;
    }
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    let mut d = Device::new(&s, "xa.dakbla", "phone-force").await;
    let file = dir.path().join("sao-luu.db");
    let (ok, out) = run(dir.path(), &["backup", file.to_str().unwrap()]).await;
    assert!(ok, "{out}");
    let first = std::fs::read(&file).unwrap();
    let m = d.m(key(2024, 5), 0, save("ii1.sessions", "5"));
    d.push(&s, &[m]).await;

    let (ok, out) = run(dir.path(), &["backup", file.to_str().unwrap()]).await;
    assert!(!ok, "{out}");
    assert!(out.contains("đã tồn tại") && out.contains("--force"), "{out}");
    assert_eq!(std::fs::read(&file).unwrap(), first, "left as it was");
    let err = backup::backup(&url(dir.path()), &file, false).await.unwrap_err();
    assert!(matches!(err, BackupError::Exists(_)), "{err}");

    let (ok, out) = run(dir.path(), &["backup", "--force", file.to_str().unwrap()]).await;
    assert!(ok, "{out}");
    let pool = open(&file).await;
    assert_eq!(count(&pool, "SELECT COUNT(*) FROM reports").await, 1, "the newer content");
    pool.close().await;
    assert_eq!(files_starting(dir.path(), ".sao-luu.db"), Vec::<PathBuf>::new(), "no temp file left");
    s.stop().await;
}

#[tokio::test]
async fn restore_refuses_what_is_not_a_danvan_backup_and_leaves_the_database_alone() {
    if skipped_on_postgres("restore_refuses_what_is_not_a_danvan_backup_and_leaves_the_database_alone") {
        return;
    }
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    s.stop().await;
    let db = common::db_path(dir.path());
    let pool = open(&db).await;
    let epoch = epoch_in(&pool).await;
    pool.close().await;

    let text = dir.path().join("ghi-chu.txt");
    std::fs::write(&text, "không phải cơ sở dữ liệu".repeat(200)).unwrap();
    let (ok, out) = run(dir.path(), &["restore", text.to_str().unwrap()]).await;
    assert!(!ok, "{out}");
    assert!(out.contains("ghi-chu.txt") && out.contains("không phải tệp cơ sở dữ liệu SQLite"), "{out}");

    let other = dir.path().join("khac.db");
    let pool = SqlitePool::connect(&format!("sqlite://{}?mode=rwc", other.display())).await.unwrap();
    sqlx::query("CREATE TABLE notes (id INTEGER PRIMARY KEY)").execute(&pool).await.unwrap();
    pool.close().await;
    let err = backup::restore(&url(dir.path()), &other).await.unwrap_err();
    assert!(matches!(&err, BackupError::NotDanvan { path, .. } if path == &other), "{err}");
    assert!(err.to_string().contains("không phải cơ sở dữ liệu danvan"), "{err}");

    let (ok, out) = run(dir.path(), &["restore", dir.path().join("khong-co.db").to_str().unwrap()]).await;
    assert!(!ok && out.contains("không thấy tệp sao lưu"), "{out}");

    let db_dir = db.parent().unwrap();
    assert_eq!(files_starting(db_dir, "danvan.db.before-restore-"), Vec::<PathBuf>::new());
    assert_eq!(files_starting(db_dir, ".danvan.db"), Vec::<PathBuf>::new(), "no temp copy left");
    let pool = open(&db).await;
    assert_eq!(epoch_in(&pool).await, epoch);
    pool.close().await;
}

#[tokio::test]
async fn restore_replaces_a_database_that_no_longer_opens_and_keeps_it_with_its_wal() {
    if skipped_on_postgres("restore_replaces_a_database_that_no_longer_opens_and_keeps_it_with_its_wal") {
        return;
    }
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    let file = dir.path().join("sao-luu.db");
    let (ok, out) = run(dir.path(), &["backup", file.to_str().unwrap()]).await;
    assert!(ok, "{out}");
    s.stop().await;
    // Another server's database whose main file's header is destroyed, with a WAL
    // left beside it, as after a disk fault in the middle of a write. In a
    // workspace of its own: no connection of the server above can be closing
    // there (the last connection to close a database removes its WAL, and under
    // load that may happen after stop() returned).
    let dir = {
        let target = common::workspace();
        std::fs::rename(&file, target.path().join("sao-luu.db")).unwrap();
        target
    };
    let file = dir.path().join("sao-luu.db");
    let db = common::db_path(dir.path());
    let wal = db.with_file_name("danvan.db-wal");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    std::fs::write(&db, b"hong hoan toan".repeat(1000)).unwrap();
    std::fs::write(&wal, b"wal cu").unwrap();

    let (ok, out) = run(dir.path(), &["restore", file.to_str().unwrap()]).await;
    assert!(ok, "{out}");
    assert!(out.contains("cùng tệp -wal"), "{out}");
    let kept = files_starting(db.parent().unwrap(), "danvan.db.before-restore-");
    assert_eq!(kept.len(), 2, "the main file and its WAL: {kept:?}");
    assert_eq!(std::fs::read(&kept[0]).unwrap(), b"hong hoan toan".repeat(1000));
    assert_eq!(kept[1], PathBuf::from(format!("{}-wal", kept[0].display())));
    assert_eq!(std::fs::read(&kept[1]).unwrap(), b"wal cu");
    assert!(!wal.exists(), "the old WAL must not meet the restored file");
    let pool = open(&db).await;
    assert_eq!(integrity(&pool).await, "ok");
    pool.close().await;
    let s = TestServer::start_in(dir.path()).await;
    s.login("xa.dakbla").await;
    s.stop().await;
}
