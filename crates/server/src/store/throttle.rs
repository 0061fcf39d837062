//! The failures login throttling counts when several server processes share the
//! database (`crate::throttle`).

use chrono::{DateTime, Utc};

use super::{on_pool, parse_ts, ts, Store, StoreError};

impl Store {
    /// The failures of `key` at or after `since`, oldest first.
    pub async fn login_failures(&self, key: &str, since: DateTime<Utc>) -> Result<Vec<DateTime<Utc>>, StoreError> {
        let rows: Vec<String> = on_pool!(&self.pool, db => {
            sqlx::query_scalar("SELECT at FROM login_failures WHERE key = $1 AND at >= $2 ORDER BY at")
                .bind(key)
                .bind(ts(since))
                .fetch_all(db)
                .await?
        });
        rows.iter().map(|t| parse_ts(t)).collect()
    }

    /// Records a failure of each key; forgets their failures older than `forget_before`.
    pub async fn add_login_failure(
        &self,
        keys: &[&str],
        at: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let _turn = self.write_turn().await?;
        on_pool!(&self.pool, db => {
            for key in keys {
                sqlx::query("DELETE FROM login_failures WHERE key = $1 AND at < $2")
                    .bind(key)
                    .bind(ts(forget_before))
                    .execute(db)
                    .await?;
                sqlx::query("INSERT INTO login_failures (key, at) VALUES ($1, $2)")
                    .bind(key)
                    .bind(ts(at))
                    .execute(db)
                    .await?;
            }
        });
        Ok(())
    }

    /// Forgets every failure of `key` (a right password clears its username).
    pub async fn clear_login_failures(&self, key: &str) -> Result<(), StoreError> {
        let _turn = self.write_turn().await?;
        on_pool!(&self.pool, db => {
            sqlx::query("DELETE FROM login_failures WHERE key = $1").bind(key).execute(db).await?;
        });
        Ok(())
    }

    /// Forgets failures older than `before` of every key (at start-up, so keys
    /// attacked once and never again do not stay forever).
    pub async fn purge_login_failures(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let _turn = self.write_turn().await?;
        Ok(on_pool!(&self.pool, db => {
            sqlx::query("DELETE FROM login_failures WHERE at < $1").bind(ts(before)).execute(db).await?.rows_affected()
        }))
    }
}
