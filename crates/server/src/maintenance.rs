//! Housekeeping that keeps the database from growing without bound: login
//! failures past every throttling window, devices signed out or expired long ago,
//! uploads no report names. Run at start and then every few hours while the
//! server runs, since a provincial server may go months without a restart.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::store::{Store, StoreError};

/// How often the sweep runs while the server is up.
pub const EVERY: Duration = Duration::from_secs(6 * 3600);

/// How long an upload may wait for a report that names it. The app uploads a
/// photo just before the push that names it, but that push may fail and wait for
/// the next connection — on a commune's phone, days; a month covers a phone left
/// in a drawer over Tết.
pub const ORPHAN_GRACE_DAYS: i64 = 30;

/// One sweep; what it removed goes to the log.
pub async fn run_once(store: &Store, now: DateTime<Utc>) -> Result<(), StoreError> {
    // The longest throttling window is 15 minutes: older failures count no more.
    store.purge_login_failures(now - chrono::Duration::hours(1)).await?;
    let devices = store.purge_old_devices(now).await?;
    if devices > 0 {
        tracing::info!(devices, "đã xoá thiết bị đã đăng xuất hoặc hết hạn lâu ngày");
    }
    let attachments = store.purge_orphan_attachments(now - chrono::Duration::days(ORPHAN_GRACE_DAYS)).await?;
    if attachments > 0 {
        tracing::info!(attachments, "đã xoá tệp đính kèm không còn báo cáo nào dùng");
    }
    Ok(())
}

/// Sweeps every [`EVERY`] until the store is closed.
pub fn start(store: Store) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(EVERY).await;
            if store.is_closed() {
                return;
            }
            if let Err(e) = run_once(&store, Utc::now()).await {
                tracing::warn!(error = %e, "dọn dẹp định kỳ không thành công; sẽ thử lại lần sau");
            }
        }
    });
}
