//! Start-up (open, migrate, seed) and the state shared by the handlers.

use std::sync::Arc;

use chrono::Utc;

use crate::catalog::packages::{apply_shipped, PackageError};
pub use crate::catalog::Catalog;
use crate::catalog::{CatalogCell, CatalogError};

use crate::auth::{hash_password, password_work, random_hex, verify_password};
use crate::config::IpNet;
use crate::push_queue::PushQueue;
use crate::throttle::Throttle;

use crate::config::{Config, PasswordCost};
use crate::seed::{DEMO_ACCOUNTS, DEMO_PASSWORD};
use crate::static_files::StaticFiles;
use crate::store::{NewUser, Store, StoreError};

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Read with [`AppState::catalog`]; replaced whole after imports.
    pub catalog_cell: CatalogCell,
    pub static_files: StaticFiles,
    pub password_cost: PasswordCost,
    /// A hash checked when the username does not exist, so a wrong username takes
    /// as long as a wrong password.
    pub dummy_hash: Arc<str>,
    /// See `sync_state.epoch`.
    pub epoch: Arc<str>,
    /// `DANVAN_TRUSTED_PROXIES` (see `net::client_ip`).
    pub trusted_proxies: Arc<[IpNet]>,
    pub throttle: Arc<Throttle>,
    /// Pushes are written by one task that commits concurrent ones together.
    pub pushes: PushQueue,
    /// `serve::Limits::unit_attachment_bytes`.
    pub unit_attachment_bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Package(#[from] PackageError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("lỗi cơ sở dữ liệu khi khởi động: {0}")]
    Db(#[from] sqlx::Error),
    #[error("không tạo được tài khoản mẫu: {0}")]
    Demo(String),
    #[error("không tạo được dữ liệu mẫu (DANVAN_DEMO=1): {0}")]
    DemoHistory(#[from] crate::demo::DemoError),
    #[error(
        "tài khoản {0} vẫn đăng nhập được bằng mật khẩu mẫu (README) trong khi máy chủ chạy không có DANVAN_DEMO: \
         ai cũng vào được. Cấp mã kích hoạt mới (`danvan-server reset-password TÊN`) hoặc khoá tài khoản \
         (`danvan-server disable-account TÊN`), rồi khởi động lại; chỉ đặt DANVAN_DEMO=1 cho bản chạy thử"
    )]
    DemoPasswordInUse(String),
}

impl AppState {
    /// Opens the database, applies migrations and the shipped data packages not
    /// applied yet, creates the demo accounts when enabled, loads the catalog, and
    /// with `demo_history` writes the demo's history once (`demo.rs`). Idempotent.
    pub async fn open(config: &Config) -> Result<AppState, StartupError> {
        let options = crate::store::StoreOptions {
            max_connections: config.database_pool,
            application_name: crate::store::SERVER_APPLICATION,
        };
        let store = Store::open_with(&config.database_url, options).await?;
        let epoch = store.ensure_epoch(&random_hex(16)).await?;
        apply_shipped(&store, Utc::now()).await?;
        let catalog = Catalog::load(&store).await?;
        let backfilled = store.backfill_figures(&catalog.forms).await?;
        if backfilled > 0 {
            tracing::info!(backfilled, "đã tính số liệu tổng hợp cho các báo cáo cũ");
        }

        let cost = config.password_cost;
        if config.demo {
            for a in DEMO_ACCOUNTS {
                if store.user_exists(a.username).await? {
                    continue;
                }
                let password = a.password;
                let hash = password_work(move || hash_password(cost, password))
                    .await
                    .and_then(|r| r)
                    .map_err(|e| StartupError::Demo(e.to_string()))?;
                let new = NewUser {
                    username: a.username,
                    display_name: a.display_name,
                    password_hash: &hash,
                    role: a.role,
                    unit_id: a.unit_id,
                };
                if store.create_user_if_absent(&new, Utc::now()).await? {
                    tracing::info!(username = a.username, "đã tạo tài khoản mẫu");
                }
            }
        } else {
            refuse_demo_password(&store).await?;
        }
        if !store.has_admin().await? {
            tracing::warn!(
                "chưa có tài khoản quản trị: chạy `danvan-server create-admin` (cùng DANVAN_DATABASE_URL) để tạo, \
                 rồi đăng nhập để tạo tài khoản cho các đơn vị"
            );
        }
        crate::maintenance::run_once(&store, Utc::now()).await?;
        let dummy_hash = password_work(move || hash_password(cost, "không phải mật khẩu của ai"))
            .await
            .and_then(|r| r)
            .map_err(|e| StartupError::Demo(e.to_string()))?;

        if !config.dist.join("index.html").is_file() {
            tracing::warn!(dist = %config.dist.display(), "không thấy index.html: ứng dụng web chưa được build (DANVAN_DIST)");
        }
        let throttle = Arc::new(Throttle::for_store(&store));
        let state = AppState {
            store,
            catalog_cell: CatalogCell::new(catalog),
            static_files: StaticFiles::new(&config.dist),
            password_cost: cost,
            dummy_hash: dummy_hash.into(),
            epoch: epoch.into(),
            trusted_proxies: config.trusted_proxies.clone().into(),
            throttle,
            pushes: PushQueue::start(config.limits.max_waiting_pushes),
            unit_attachment_bytes: config.limits.unit_attachment_bytes,
        };
        crate::maintenance::start(state.store.clone());
        // After the state exists: the history is filed through the real push,
        // which needs it. It reloads the catalog itself after adding its plan.
        if config.demo_history {
            crate::demo::prepare(&state).await?;
        }
        Ok(state)
    }

    /// The catalog as it is now: hold the snapshot for the whole request.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog_cell.current()
    }

    /// Closes the database pool (after the server has stopped).
    pub async fn close(&self) {
        self.store.close().await;
    }
}

/// Without `DANVAN_DEMO`, no enabled account may still accept the demo password:
/// the demo accounts are the only ones ever created with it, and the password
/// policy (`danvan_core::account::check_password`) refuses it as a new password, so
/// trying the demo usernames is enough.
async fn refuse_demo_password(store: &Store) -> Result<(), StartupError> {
    let mut open = Vec::new();
    for a in DEMO_ACCOUNTS {
        let Some(found) = store.user_by_username(a.username).await? else { continue };
        if found.disabled {
            continue;
        }
        let hash = found.password_hash;
        let accepts = password_work(move || verify_password(&hash, DEMO_PASSWORD))
            .await
            .map_err(|e| StartupError::Demo(e.to_string()))?;
        if accepts {
            open.push(a.username);
        }
    }
    if open.is_empty() {
        Ok(())
    } else {
        Err(StartupError::DemoPasswordInUse(open.join(", ")))
    }
}
