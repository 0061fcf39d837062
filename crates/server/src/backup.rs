//! `danvan-server backup FILE [--force]`, `danvan-server restore FILE`, and the
//! lock a process holds on the database while it uses it.
//!
//! Backups are taken while the server runs: `VACUUM INTO` on a connection of its
//! own reads one snapshot of the database (a WAL read transaction), which never
//! blocks the server's writers; they keep committing to the WAL meanwhile.
//!
//! A restore must not happen under a running server (it would keep writing to the
//! replaced file's inode), so every process that uses the database for long —
//! the server, `restore`, `new-epoch` — holds an exclusive advisory lock on
//! `<database>.lock` for as long as it runs ([`DatabaseLock`]). The lock is released
//! by the kernel when the process ends, however it ends.
//!
//! A restore always starts a new sync epoch (`sync_state.epoch`, see
//! `routes/sync.rs`): phones that synced with the database after the backup was
//! taken must notice that the server forgot their changes, start over and send
//! back what the backup lacks. Before this module that was a separate
//! `new-epoch` command, easy to forget.

use std::ffi::OsString;
use std::fmt;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use chrono::Utc;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{ConnectOptions, Connection, SqliteConnection};

use crate::auth::random_hex;
use crate::store::BUSY_TIMEOUT;

/// The server's migrations (`Store::migrate` embeds the same directory): a backup
/// with one this binary does not know would stop the server at start.
use crate::store::SQLITE_MIGRATOR as MIGRATOR;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("cách dùng: {0}")]
    Usage(&'static str),
    #[error("DANVAN_DATABASE_URL không hợp lệ ({url}): {source}")]
    Url { url: String, source: sqlx::Error },
    #[error(
        "DANVAN_DATABASE_URL là cơ sở dữ liệu trong bộ nhớ ({0}): không có tệp nào để sao lưu, khôi phục hay khóa"
    )]
    InMemory(String),
    #[error(
        "DANVAN_DATABASE_URL là PostgreSQL: sao lưu bằng pg_dump, khôi phục bằng pg_restore rồi chạy \
         `danvan-server new-epoch` (docs/deploy.md)"
    )]
    Postgres,
    #[error("không thấy cơ sở dữ liệu {0}: kiểm tra DANVAN_DATABASE_URL")]
    NoDatabase(PathBuf),
    #[error("không thấy tệp sao lưu {0}")]
    NoBackup(PathBuf),
    #[error("{0} đã tồn tại: chọn tên tệp khác, hoặc thêm --force để ghi đè")]
    Exists(PathBuf),
    #[error(
        "cơ sở dữ liệu {db} đang được một tiến trình danvan-server khác sử dụng{holder} (tệp khóa {lock}): \
         dừng tiến trình đó trước (ví dụ `systemctl stop danvan`) rồi chạy lại"
    )]
    Locked { db: PathBuf, lock: PathBuf, holder: String },
    #[error("{what} {path}: {source}")]
    Io { what: &'static str, path: PathBuf, source: std::io::Error },
    #[error("lỗi SQLite với {path}: {source}")]
    Sqlite { path: PathBuf, source: sqlx::Error },
    #[error("{path} bị hỏng (PRAGMA integrity_check: {report})")]
    Corrupt { path: PathBuf, report: String },
    #[error("{path} không phải cơ sở dữ liệu danvan: {reason}")]
    NotDanvan { path: PathBuf, reason: String },
    #[error(
        "{path} do một phiên bản danvan-server mới hơn tạo ra (migration {version} không có trong phiên bản này): \
         khôi phục bằng đúng phiên bản đã tạo bản sao lưu"
    )]
    NewerSchema { path: PathBuf, version: i64 },
    #[error(
        "bên cạnh {0} còn tệp -wal chưa ghi vào tệp chính: tệp này có thể thiếu dữ liệu. \
         Hãy dùng tệp do `danvan-server backup` tạo ra"
    )]
    PendingWal(PathBuf),
    #[error("một tiến trình khác vẫn đang mở {0} (không ghi hết được tệp -wal vào tệp chính): đóng nó rồi chạy lại")]
    InUse(PathBuf),
}

type Result<T, E = BackupError> = std::result::Result<T, E>;

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BackupError {
    let path = path.to_path_buf();
    move |source| BackupError::Io { what, path, source }
}

fn sqlite(path: &Path) -> impl FnOnce(sqlx::Error) -> BackupError {
    let path = path.to_path_buf();
    move |source| BackupError::Sqlite { path, source }
}

/// The database file named by `DANVAN_DATABASE_URL` (`sqlite://data/danvan.db` →
/// `data/danvan.db`).
pub fn database_file(database_url: &str) -> Result<PathBuf> {
    if crate::store::Backend::of_url(database_url) == Some(crate::store::Backend::Postgres) {
        return Err(BackupError::Postgres);
    }
    let options = SqliteConnectOptions::from_str(database_url)
        .map_err(|source| BackupError::Url { url: database_url.to_string(), source })?;
    let file = options.get_filename();
    let name = file.to_string_lossy();
    // The same test as `store::is_in_memory`: sqlx names in-memory databases so.
    if name == ":memory:" || name.starts_with("file:sqlx-in-memory") {
        return Err(BackupError::InMemory(database_url.to_string()));
    }
    Ok(file.to_path_buf())
}

/// `path` with `suffix` appended to its file name (`danvan.db` → `danvan.db-wal`).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s: OsString = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn parent_dir(path: &Path) -> &Path {
    path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// A file in `dir`, hidden, named after `name`, that is removed on drop unless
/// [`TempFile::keep`] is called: an interrupted backup or restore leaves nothing
/// half-written under a real name.
struct TempFile {
    path: PathBuf,
    keep: bool,
}

impl TempFile {
    fn new(dir: &Path, name: &str, purpose: &str) -> TempFile {
        let path = dir.join(format!(".{name}.{purpose}-{}.tmp", std::process::id()));
        // A leftover of an earlier run that had the same process id.
        remove_if_present(&path);
        for suffix in ["-journal", "-wal", "-shm"] {
            remove_if_present(&with_suffix(&path, suffix));
        }
        TempFile { path, keep: false }
    }

    fn keep(mut self) -> PathBuf {
        self.keep = true;
        std::mem::take(&mut self.path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            remove_if_present(&self.path);
            for suffix in ["-journal", "-wal", "-shm"] {
                remove_if_present(&with_suffix(&self.path, suffix));
            }
        }
    }
}

fn remove_if_present(path: &Path) {
    let _ = std::fs::remove_file(path);
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| "danvan.db".into(), |n| n.to_string_lossy().into_owned())
}

/// fsync of a file, so what was written is on disk before it is renamed into place.
fn sync_file(path: &Path) -> Result<()> {
    File::open(path).and_then(|f| f.sync_all()).map_err(io("không ghi xuống đĩa được", path))
}

/// fsync of a directory, so a rename in it survives a power cut.
fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|f| f.sync_all()).map_err(io("không ghi xuống đĩa được thư mục", dir))
}

// --- The lock --------------------------------------------------------------------

/// An exclusive advisory lock (`flock`) on `<database>.lock`, held while the value
/// lives. The server takes it at start (`main.rs`), so a second server on the
/// same database, or a `restore` under a running server, refuses to run. The file
/// holds the holder's process id, for the error message; it is never deleted
/// (deleting it would let two processes lock two different files of one name).
#[derive(Debug)]
pub struct DatabaseLock {
    _file: File,
    path: PathBuf,
}

impl DatabaseLock {
    /// The lock of the database named by `database_url`; `None` for an in-memory
    /// database (nothing to protect across processes) and for PostgreSQL (where
    /// several server processes share one database by design).
    pub fn acquire_for(database_url: &str) -> Result<Option<DatabaseLock>> {
        match database_file(database_url) {
            Ok(db) => DatabaseLock::acquire(&db).map(Some),
            Err(BackupError::InMemory(_) | BackupError::Postgres) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Locks `<db>.lock` (creating it and the database's directory), or fails at
    /// once with [`BackupError::Locked`] if another process holds it.
    pub fn acquire(db: &Path) -> Result<DatabaseLock> {
        let dir = parent_dir(db);
        std::fs::create_dir_all(dir).map_err(io("không tạo được thư mục", dir))?;
        let path = with_suffix(db, ".lock");
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io("không mở được tệp khóa", &path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let pid = pid.trim();
                let holder = if pid.is_empty() { String::new() } else { format!(" (PID {pid})") };
                return Err(BackupError::Locked { db: db.to_path_buf(), lock: path, holder });
            }
            Err(TryLockError::Error(e)) => return Err(io("không khóa được", &path)(e)),
        }
        // Best effort: only for the message another process prints.
        let _ = file.set_len(0).and_then(|()| file.rewind()).and_then(|()| write!(file, "{}", std::process::id()));
        Ok(DatabaseLock { _file: file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

// --- Opening and checking ------------------------------------------------------------

async fn connect(path: &Path, journal: Option<SqliteJournalMode>) -> Result<SqliteConnection> {
    let mut options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .busy_timeout(BUSY_TIMEOUT)
        // Statements here are few and rare; they are not worth a log line each.
        .disable_statement_logging();
    if let Some(mode) = journal {
        options = options.journal_mode(mode);
    }
    options.connect().await.map_err(sqlite(path))
}

/// `PRAGMA integrity_check` must answer exactly `ok`.
async fn check_integrity(conn: &mut SqliteConnection, path: &Path) -> Result<()> {
    let rows: Vec<String> =
        sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&mut *conn).await.map_err(sqlite(path))?;
    if rows.len() == 1 && rows[0] == "ok" {
        Ok(())
    } else {
        let mut report = rows.into_iter().take(5).collect::<Vec<_>>().join("; ");
        if report.is_empty() {
            report = "không có kết quả".into();
        }
        Err(BackupError::Corrupt { path: path.to_path_buf(), report })
    }
}

/// What a danvan database must have: its epoch row, and no migration this binary
/// does not know (the server would refuse to start on it).
async fn check_danvan(conn: &mut SqliteConnection, path: &Path) -> Result<DatabaseFacts> {
    let not_danvan = |reason: &str| BackupError::NotDanvan { path: path.to_path_buf(), reason: reason.into() };
    let tables: Vec<String> = sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
        .fetch_all(&mut *conn)
        .await
        .map_err(sqlite(path))?;
    if !tables.iter().any(|t| t == "sync_state") {
        return Err(not_danvan("không có bảng sync_state"));
    }
    let epoch: Option<String> = sqlx::query_scalar("SELECT epoch FROM sync_state WHERE id = 1")
        .fetch_optional(&mut *conn)
        .await
        .map_err(sqlite(path))?;
    let epoch = epoch.ok_or_else(|| not_danvan("bảng sync_state không có dòng epoch"))?;
    if tables.iter().any(|t| t == "_sqlx_migrations") {
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations")
            .fetch_all(&mut *conn)
            .await
            .map_err(sqlite(path))?;
        let known = MIGRATOR.iter().map(|m| m.version).collect::<Vec<_>>();
        if let Some(&version) = applied.iter().find(|v| !known.contains(v)) {
            return Err(BackupError::NewerSchema { path: path.to_path_buf(), version });
        }
    }
    let reports = if tables.iter().any(|t| t == "reports") {
        Some(sqlx::query_scalar("SELECT COUNT(*) FROM reports").fetch_one(&mut *conn).await.map_err(sqlite(path))?)
    } else {
        None
    };
    Ok(DatabaseFacts { epoch, reports })
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatabaseFacts {
    /// `sync_state.epoch`.
    pub epoch: String,
    /// Rows of `reports` (None in a database older than that table).
    pub reports: Option<i64>,
}

/// Checks a file as `restore` would (integrity, a danvan database of a known
/// schema) without changing it, and tells its epoch and size.
pub async fn inspect(path: &Path) -> Result<DatabaseFacts> {
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        // A backup is one self-contained file that nobody writes to: no -shm needed.
        .immutable(true)
        .disable_statement_logging()
        .connect()
        .await
        .map_err(sqlite(path))?;
    check_integrity(&mut conn, path).await?;
    let facts = check_danvan(&mut conn, path).await?;
    conn.close().await.map_err(sqlite(path))?;
    Ok(facts)
}

// --- Backup ----------------------------------------------------------------------------

#[derive(Clone, Debug)]
pub struct BackupReport {
    pub database: PathBuf,
    pub file: PathBuf,
    pub bytes: u64,
    /// The snapshot copy (`VACUUM INTO`): the only time spent inside the database.
    pub copy: Duration,
    /// `PRAGMA integrity_check` of the copy, afterwards.
    pub check: Duration,
    pub facts: DatabaseFacts,
}

impl fmt::Display for BackupReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Đã sao lưu cơ sở dữ liệu {} vào {} ({}{}, epoch {}).\n\
             Sao chép mất {}, kiểm tra toàn vẹn (integrity_check: ok) mất {}.",
            self.database.display(),
            self.file.display(),
            human_bytes(self.bytes),
            self.facts.reports.map(|n| format!(", {n} báo cáo")).unwrap_or_default(),
            self.facts.epoch,
            human_duration(self.copy),
            human_duration(self.check),
        )
    }
}

/// A consistent copy of the database named by `database_url` into `dest`, while a
/// server may be using it: `VACUUM INTO` a hidden temp file beside `dest` on a
/// connection of its own, checked (`integrity_check`, a danvan database), synced
/// to disk and only then renamed to `dest`. Refuses to replace an existing `dest`
/// unless `force`.
pub async fn backup(database_url: &str, dest: &Path, force: bool) -> Result<BackupReport> {
    let db = database_file(database_url)?;
    if !db.is_file() {
        return Err(BackupError::NoDatabase(db));
    }
    if !force && dest.symlink_metadata().is_ok() {
        return Err(BackupError::Exists(dest.to_path_buf()));
    }
    let dir = parent_dir(dest);
    if !dir.is_dir() {
        return Err(io("không thấy thư mục", dir)(std::io::ErrorKind::NotFound.into()));
    }
    let tmp = TempFile::new(dir, &file_name(dest), "backup");
    let tmp_name = tmp.path.to_str().ok_or_else(|| BackupError::Io {
        what: "tên tệp không phải UTF-8:",
        path: tmp.path.clone(),
        source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
    })?;

    let started = Instant::now();
    let mut conn = connect(&db, None).await?;
    // One read transaction over one snapshot: the server's writers go on
    // committing to the WAL meanwhile (they only wait for SQLite's brief WAL-index
    // locks), and the copy holds exactly what was committed when it began.
    sqlx::query("VACUUM INTO ?").bind(tmp_name).execute(&mut conn).await.map_err(sqlite(&db))?;
    conn.close().await.map_err(sqlite(&db))?;
    let copy = started.elapsed();

    let checked = Instant::now();
    // DELETE journal mode, said explicitly: the backup must be one self-contained
    // file, never one that wants a -wal or -shm beside it.
    let mut conn = connect(&tmp.path, Some(SqliteJournalMode::Delete)).await?;
    check_integrity(&mut conn, &tmp.path).await.map_err(|e| rename_path(e, &tmp.path, &db))?;
    let facts = check_danvan(&mut conn, &tmp.path).await.map_err(|e| rename_path(e, &tmp.path, &db))?;
    conn.close().await.map_err(sqlite(&tmp.path))?;
    let check = checked.elapsed();

    // SQLite does not fsync what VACUUM INTO writes.
    sync_file(&tmp.path)?;
    if !force && dest.symlink_metadata().is_ok() {
        // Someone else wrote `dest` meanwhile.
        return Err(BackupError::Exists(dest.to_path_buf()));
    }
    let bytes = std::fs::metadata(&tmp.path).map_err(io("không đọc được", &tmp.path))?.len();
    std::fs::rename(&tmp.path, dest).map_err(io("không đổi tên được thành", dest))?;
    tmp.keep();
    sync_dir(dir)?;
    let file = std::fs::canonicalize(dest).unwrap_or_else(|_| dest.to_path_buf());
    Ok(BackupReport { database: db, file, bytes, copy, check, facts })
}

// --- Restore ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
pub struct RestoreReport {
    pub database: PathBuf,
    pub backup: PathBuf,
    /// The epoch recorded in the backup, and the new one the restored database has.
    pub backup_epoch: String,
    pub new_epoch: String,
    pub reports: Option<i64>,
    /// Where the database that was replaced is kept (None if there was none).
    pub previous: Option<Previous>,
}

impl fmt::Display for RestoreReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Đã khôi phục cơ sở dữ liệu {} từ bản sao lưu {}{}.",
            self.database.display(),
            self.backup.display(),
            self.reports.map(|n| format!(" ({n} báo cáo)")).unwrap_or_default(),
        )?;
        match &self.previous {
            Some(Previous { file, wal: None }) => {
                writeln!(f, "Cơ sở dữ liệu cũ được giữ nguyên tại {}.", file.display())?
            }
            Some(Previous { file, wal: Some(wal) }) => writeln!(
                f,
                "Cơ sở dữ liệu cũ không mở được để gộp tệp -wal: được giữ nguyên tại {} cùng tệp -wal {}.",
                file.display(),
                wal.display()
            )?,
            None => writeln!(f, "Trước đó chưa có cơ sở dữ liệu nào ở đường dẫn này.")?,
        }
        write!(
            f,
            "Đã đặt epoch đồng bộ mới {} (bản sao lưu có epoch {}): khi máy chủ chạy lại, mọi điện thoại \
             sẽ đồng bộ lại từ đầu và gửi lên những gì bản sao lưu còn thiếu.",
            self.new_epoch, self.backup_epoch
        )
    }
}

/// Replaces the database named by `database_url` with the backup `source` and
/// gives it a new sync epoch, in one step. Holds the database lock throughout, so
/// it refuses to run under a server and no server starts in the middle of it.
///
/// Steps: check the backup (integrity, a danvan database of a known schema);
/// copy it to a hidden temp file beside the database; set a new epoch in the
/// copy; fsync; keep the current database as `<db>.before-restore-<UTC time>`
/// ([`set_aside`]); rename the copy into place; fsync the directory. Any error
/// before the current database is set aside leaves everything as it was.
pub async fn restore(database_url: &str, source: &Path) -> Result<RestoreReport> {
    let db = database_file(database_url)?;
    let _lock = DatabaseLock::acquire(&db)?;
    if !source.is_file() {
        return Err(BackupError::NoBackup(source.to_path_buf()));
    }
    // A file copied from under a live server may have its last commits only in
    // the -wal beside it; copying just the main file would silently drop them.
    if std::fs::metadata(with_suffix(source, "-wal")).is_ok_and(|m| m.len() > 0) {
        return Err(BackupError::PendingWal(source.to_path_buf()));
    }
    let mut magic = [0u8; 16];
    let read = File::open(source).and_then(|mut f| f.read_exact(&mut magic));
    if read.is_err() || &magic != b"SQLite format 3\0" {
        let reason = "không phải tệp cơ sở dữ liệu SQLite".into();
        return Err(BackupError::NotDanvan { path: source.to_path_buf(), reason });
    }
    let dir = parent_dir(&db);
    let tmp = TempFile::new(dir, &file_name(&db), "restore");
    std::fs::copy(source, &tmp.path).map_err(io("không sao chép được bản sao lưu vào", &tmp.path))?;

    let new_epoch = random_hex(16);
    let mut conn =
        connect(&tmp.path, Some(SqliteJournalMode::Delete)).await.map_err(|e| rename_path(e, &tmp.path, source))?;
    check_integrity(&mut conn, &tmp.path).await.map_err(|e| rename_path(e, &tmp.path, source))?;
    let facts = check_danvan(&mut conn, &tmp.path).await.map_err(|e| rename_path(e, &tmp.path, source))?;
    sqlx::query("UPDATE sync_state SET epoch = ? WHERE id = 1")
        .bind(&new_epoch)
        .execute(&mut conn)
        .await
        .map_err(sqlite(&tmp.path))?;
    conn.close().await.map_err(sqlite(&tmp.path))?;
    if let Ok(current) = std::fs::metadata(&db) {
        take_owner_and_mode(&tmp.path, &current)?;
    }
    sync_file(&tmp.path)?;

    let previous = if db.exists() { Some(set_aside(&db).await?) } else { None };
    std::fs::rename(&tmp.path, &db).map_err(io("không đổi tên được thành", &db))?;
    tmp.keep();
    sync_dir(dir)?;
    Ok(RestoreReport {
        database: db,
        backup: std::fs::canonicalize(source).unwrap_or_else(|_| source.to_path_buf()),
        backup_epoch: facts.epoch,
        new_epoch,
        reports: facts.reports,
        previous,
    })
}

/// Gives the restored file the owner, group and permissions of the database it
/// replaces. Operators often run `restore` with sudo, as root: without this the
/// server, running as its own user, could no longer write its database. Changing
/// the owner needs root; anyone else already owns what they create.
fn take_owner_and_mode(path: &Path, like: &std::fs::Metadata) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    std::fs::set_permissions(path, like.permissions()).map_err(io("không đặt được quyền cho", path))?;
    match std::os::unix::fs::chown(path, Some(like.uid()), Some(like.gid())) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Ok(()),
        Err(e) => Err(io("không đặt được chủ sở hữu cho", path)(e)),
    }
}

/// Errors about a temp copy name the file the operator knows instead.
fn rename_path(e: BackupError, tmp: &Path, source: &Path) -> BackupError {
    match e {
        BackupError::Corrupt { path, report } if path == tmp => BackupError::Corrupt { path: source.into(), report },
        BackupError::NotDanvan { path, reason } if path == tmp => {
            BackupError::NotDanvan { path: source.into(), reason }
        }
        BackupError::NewerSchema { path, version } if path == tmp => {
            BackupError::NewerSchema { path: source.into(), version }
        }
        BackupError::Sqlite { path, source: e } if path == tmp => {
            BackupError::Sqlite { path: source.into(), source: e }
        }
        other => other,
    }
}

/// Keeps the current database as `<db>.before-restore-<UTC time>`, with nothing
/// of it left at `db`'s -wal and -shm (a WAL must never meet another main file:
/// SQLite would replay its pages onto it).
///
/// Usually the WAL is checkpointed into the main file first, so the kept copy is
/// one file. A database that no longer opens (often the reason for a restore)
/// cannot be checkpointed: then its -wal is kept beside the copy as
/// `<kept>-wal`, where SQLite finds it when the copy is opened. The main file is
/// hard-linked, not moved, so the database never goes missing from its path.
async fn set_aside(db: &Path) -> Result<Previous> {
    let kept = with_suffix(db, &format!(".before-restore-{}", Utc::now().format("%Y%m%dT%H%M%SZ")));
    let kept_wal = with_suffix(&kept, "-wal");
    if let Some(taken) = [&kept, &kept_wal].into_iter().find(|p| p.symlink_metadata().is_ok()) {
        return Err(BackupError::Exists(taken.clone()));
    }
    // The -wal is copied before anything opens the database: opening one that
    // turns out to be unreadable may still delete its -wal when the failed
    // connection closes — on sqlx's worker thread, possibly after the attempt has
    // returned — and that -wal may hold the last commits.
    let wal = with_suffix(db, "-wal");
    let mut wal_copy = match std::fs::metadata(&wal) {
        Ok(m) if m.len() > 0 => {
            std::fs::copy(&wal, &kept_wal).map_err(io("không giữ lại được tệp -wal cũ tại", &kept_wal))?;
            sync_file(&kept_wal)?;
            Some(kept_wal)
        }
        _ => None,
    };
    let drop_copy = |copy: &mut Option<PathBuf>| {
        if let Some(path) = copy.take() {
            let _ = std::fs::remove_file(path);
        }
    };
    match checkpoint(db).await {
        // Everything is in the main file: the copy of the -wal is not needed.
        Ok(0) => drop_copy(&mut wal_copy),
        // Another process (an sqlite3 shell…) has it open and in use.
        Ok(_) => {
            drop_copy(&mut wal_copy);
            return Err(BackupError::InUse(db.to_path_buf()));
        }
        Err(_unreadable) => {}
    }
    if std::fs::hard_link(db, &kept).is_err() {
        // A file system without hard links: a copy, synced.
        std::fs::copy(db, &kept).map_err(io("không giữ lại được cơ sở dữ liệu cũ tại", &kept))?;
        sync_file(&kept)?;
    }
    for stale in [wal, with_suffix(db, "-shm")] {
        match std::fs::remove_file(&stale) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("không xoá được", &stale)(e)),
        }
    }
    Ok(Previous { file: kept, wal: wal_copy })
}

/// `PRAGMA wal_checkpoint(TRUNCATE)` then close (the last connection to close
/// also deletes the -wal). Its `busy` column: 0 when everything was written to
/// the main file.
async fn checkpoint(db: &Path) -> Result<i64> {
    let mut conn = connect(db, None).await?;
    let (busy, _, _): (i64, i64, i64) =
        sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(&mut conn).await.map_err(sqlite(db))?;
    conn.close().await.map_err(sqlite(db))?;
    Ok(busy)
}

/// Where the replaced database was kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Previous {
    pub file: PathBuf,
    /// Its WAL, when it could not be checkpointed into `file`.
    pub wal: Option<PathBuf>,
}

// --- The two commands -----------------------------------------------------------------

const BACKUP_USAGE: &str = "danvan-server backup TỆP [--force]";
const RESTORE_USAGE: &str = "danvan-server restore TỆP";

/// `danvan-server backup FILE [--force]` (`args`: what follows `backup`). Prints
/// what it did.
pub async fn backup_command(database_url: &str, args: impl IntoIterator<Item = String>) -> Result<BackupReport> {
    let mut file = None;
    let mut force = false;
    for arg in args {
        match arg.as_str() {
            "--force" | "-f" => force = true,
            _ if file.is_none() && !arg.starts_with('-') => file = Some(PathBuf::from(arg)),
            _ => return Err(BackupError::Usage(BACKUP_USAGE)),
        }
    }
    let file = file.ok_or(BackupError::Usage(BACKUP_USAGE))?;
    let report = backup(database_url, &file, force).await?;
    println!("{report}");
    Ok(report)
}

/// `danvan-server restore FILE`. Prints what it did.
pub async fn restore_command(database_url: &str, args: impl IntoIterator<Item = String>) -> Result<RestoreReport> {
    let mut args = args.into_iter();
    let (Some(file), None) = (args.next(), args.next()) else {
        return Err(BackupError::Usage(RESTORE_USAGE));
    };
    if file.starts_with('-') {
        return Err(BackupError::Usage(RESTORE_USAGE));
    }
    let report = restore(database_url, Path::new(&file)).await?;
    println!("{report}");
    Ok(report)
}

/// `12,3 MB`: Vietnamese writes a decimal comma.
fn human_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    let (value, unit) = if b >= 1e9 {
        (b / 1e9, "GB")
    } else if b >= 1e6 {
        (b / 1e6, "MB")
    } else if b >= 1e3 {
        (b / 1e3, "kB")
    } else {
        return format!("{bytes} byte");
    };
    format!("{value:.1} {unit}").replace('.', ",")
}

fn human_duration(d: Duration) -> String {
    format!("{:.2} giây", d.as_secs_f64()).replace('.', ",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_file_from_the_url() {
        assert_eq!(database_file("sqlite://data/danvan.db").unwrap(), PathBuf::from("data/danvan.db"));
        assert_eq!(
            database_file("sqlite:///var/lib/danvan/db.sqlite").unwrap(),
            PathBuf::from("/var/lib/danvan/db.sqlite")
        );
        assert!(matches!(database_file("sqlite::memory:"), Err(BackupError::InMemory(_))));
        assert!(DatabaseLock::acquire_for("sqlite::memory:").unwrap().is_none());
    }

    #[test]
    fn the_lock_is_exclusive_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("nested").join("danvan.db");
        let first = DatabaseLock::acquire(&db).unwrap();
        assert_eq!(first.path(), dir.path().join("nested").join("danvan.db.lock"));
        // flock conflicts between two open files even inside one process.
        let err = DatabaseLock::acquire(&db).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, BackupError::Locked { .. }), "{msg}");
        assert!(msg.contains(&format!("PID {}", std::process::id())), "{msg}");
        assert!(msg.contains("đang được một tiến trình danvan-server khác sử dụng"), "{msg}");
        drop(first);
        let again = DatabaseLock::acquire(&db).unwrap();
        drop(again);
    }

    #[test]
    fn vietnamese_numbers() {
        assert_eq!(human_bytes(512), "512 byte");
        assert_eq!(human_bytes(12_345_678), "12,3 MB");
        assert_eq!(human_duration(Duration::from_millis(1250)), "1,25 giây");
    }

    #[tokio::test]
    async fn usage_errors() {
        let url = "sqlite:///nonexistent/danvan.db";
        let none: [String; 0] = [];
        assert!(matches!(backup_command(url, none.clone()).await, Err(BackupError::Usage(_))));
        assert!(matches!(backup_command(url, ["a".into(), "b".into()]).await, Err(BackupError::Usage(_))));
        assert!(matches!(restore_command(url, none).await, Err(BackupError::Usage(_))));
        assert!(matches!(restore_command(url, ["a".into(), "--force".into()]).await, Err(BackupError::Usage(_))));
        assert!(matches!(backup_command(url, ["x.db".into()]).await, Err(BackupError::NoDatabase(_))));
    }
}
