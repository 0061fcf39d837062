//! Accounts, devices (one per sign-in), enrolment codes and the audit log.
//!
//! Multi-step changes (create accounts with their codes and the audit line; disable
//! an account and end its devices) run in one `BEGIN IMMEDIATE` transaction, so an
//! administrator never sees half an import and the audit log never misses an action
//! that happened.

use chrono::{DateTime, Utc};
use danvan_core::account::{Account, AuditEntry, Device};
use danvan_core::api::Role;

use super::{on_pool, on_tx, parse_role, parse_ts, role_str, ts, Cols, DbRow, Dialect, Store, StoreError, Tx};
use crate::store::DataScope;

/// A user as the rest of the server sees it (no password hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub unit_id: String,
}

#[derive(Clone, Debug)]
pub struct UserWithHash {
    pub user: User,
    /// '' while the account waits for its enrolment: matches no password.
    pub password_hash: String,
    pub disabled: bool,
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub unit_id: &'a str,
}

/// A new account from the administrator's form or an import row (already checked).
#[derive(Clone, Debug)]
pub struct AccountFields {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub unit_id: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// Who did an administrative action, for the audit log.
#[derive(Clone, Debug)]
pub struct Actor {
    /// `None` for `danvan-server` commands run on the machine.
    pub user_id: Option<i64>,
    pub name: String,
    pub address: Option<String>,
}

impl Actor {
    pub fn cli() -> Actor {
        Actor { user_id: None, name: "cli".into(), address: None }
    }
}

/// An audit line to append.
#[derive(Clone, Debug)]
pub struct NewAudit<'a> {
    pub action: &'a str,
    pub target: Option<&'a str>,
    /// The unit the action concerns (an account's unit): scopes who may read it.
    pub unit_id: Option<&'a str>,
    pub detail: Option<String>,
}

/// A fresh enrolment code to store (hash only).
pub struct NewCode<'a> {
    pub user_id: i64,
    pub code_hash: &'a str,
    pub expires_at: DateTime<Utc>,
}

/// What a bearer token turns out to be.
#[derive(Clone, Debug)]
pub enum TokenLookup {
    Active {
        user: User,
        device_id: i64,
        last_seen_at: DateTime<Utc>,
        last_sync_at: Option<DateTime<Utc>>,
        app_version: Option<String>,
    },
    /// Signed out on purpose (`ended_reason`: logout, user, admin, disabled, password).
    Ended { reason: String },
    /// Unknown, or past its idle or absolute expiry.
    Invalid,
}

/// A device row with its owner, for authorization.
#[derive(Clone, Debug)]
pub struct DeviceOwner {
    pub device: Device,
    pub user_id: i64,
    pub unit_id: String,
}

/// Why a code cannot be used: the official sees a message per case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeState {
    Unknown,
    Used,
    Expired,
    /// A newer code was issued, or the account was disabled.
    Revoked,
}

const ACCOUNT_COLUMNS: &str = "u.id, u.username, u.display_name, u.role, u.unit_id, u.phone, u.email, u.created_at,
    u.disabled_at, u.password_hash <> '' AS has_password,
    (SELECT MAX(c.expires_at) FROM enrolment_codes c
      WHERE c.user_id = u.id AND c.used_at IS NULL AND c.revoked_at IS NULL AND c.expires_at > $1) AS enrolment_expires_at,
    (SELECT COUNT(*) FROM devices d WHERE d.user_id = u.id AND d.ended_at IS NULL AND d.expires_at > $1
      AND d.last_seen_at > $2) AS active_devices,
    (SELECT MAX(d.last_seen_at) FROM devices d WHERE d.user_id = u.id) AS last_seen_at";

pub(super) fn user_from_row(r: &impl Cols) -> Result<User, StoreError> {
    Ok(User {
        id: r.int("id")?,
        username: r.text("username")?,
        display_name: r.text("display_name")?,
        role: parse_role(&r.text("role")?)?,
        unit_id: r.text("unit_id")?,
    })
}

fn opt_ts(r: &impl Cols, col: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    r.opt_text(col)?.map(|s| parse_ts(&s)).transpose()
}

fn account_from_row(r: &impl Cols) -> Result<Account, StoreError> {
    Ok(Account {
        id: r.int("id")?,
        username: r.text("username")?,
        display_name: r.text("display_name")?,
        role: parse_role(&r.text("role")?)?,
        unit_id: r.text("unit_id")?,
        // Filled by the caller from the catalog.
        unit_name: String::new(),
        phone: r.opt_text("phone")?,
        email: r.opt_text("email")?,
        created_at: parse_ts(&r.text("created_at")?)?,
        disabled_at: opt_ts(r, "disabled_at")?,
        has_password: r.flag("has_password")?,
        enrolment_expires_at: opt_ts(r, "enrolment_expires_at")?,
        active_devices: r.int("active_devices")?.max(0) as u32,
        last_seen_at: opt_ts(r, "last_seen_at")?,
    })
}

fn device_from_row(r: &impl Cols) -> Result<Device, StoreError> {
    Ok(Device {
        id: r.int("id")?,
        account_id: r.int("user_id")?,
        name: r.text("name")?,
        app_version: r.opt_text("app_version")?,
        first_seen_at: parse_ts(&r.text("created_at")?)?,
        last_seen_at: parse_ts(&r.text("last_seen_at")?)?,
        last_sync_at: opt_ts(r, "last_sync_at")?,
        ended_at: opt_ts(r, "ended_at")?,
        current: false,
    })
}

/// The moment before which a device counts as idle-expired.
fn idle_cutoff(now: DateTime<Utc>) -> String {
    ts(now - crate::auth::idle_expiry())
}

impl Store {
    /// Creates the user unless the username exists. Returns whether it was created.
    pub async fn create_user_if_absent(&self, u: &NewUser<'_>, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
        let _turn = self.write_turn().await?;
        let done = on_pool!(&self.pool, db => sqlx::query(
            "INSERT INTO users (username, display_name, password_hash, role, unit_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (username) DO NOTHING",
        )
        .bind(u.username)
        .bind(u.display_name)
        .bind(u.password_hash)
        .bind(role_str(u.role))
        .bind(u.unit_id)
        .bind(ts(now))
        .execute(db)
        .await?.rows_affected());
        Ok(done == 1)
    }

    pub async fn user_exists(&self, username: &str) -> Result<bool, sqlx::Error> {
        let n: i64 = on_pool!(&self.pool, db => sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE username = $1")
            .bind(username)
            .fetch_one(db)
            .await?);
        Ok(n > 0)
    }

    /// Which of `usernames` exist already (for import previews).
    pub async fn existing_usernames(&self, usernames: &[String]) -> Result<Vec<String>, StoreError> {
        let json = serde_json::to_string(usernames).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let rows: Vec<String> = on_pool!(&self.pool, db, D => {
            let sql = format!("SELECT username FROM users WHERE username IN ({})", D::json_text_values("$1"));
            sqlx::query_scalar(&sql).bind(json).fetch_all(db).await?
        });
        Ok(rows)
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<UserWithHash>, StoreError> {
        let row = on_pool!(&self.pool, db => sqlx::query(
            "SELECT id, username, display_name, password_hash, role, unit_id, disabled_at FROM users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(db)
        .await?.map(DbRow::from));
        row.map(|r| {
            Ok(UserWithHash {
                password_hash: r.text("password_hash")?,
                disabled: r.opt_text("disabled_at")?.is_some(),
                user: user_from_row(&r)?,
            })
        })
        .transpose()
    }

    /// Whether any enabled administrator exists (otherwise the server says how to
    /// create one).
    pub async fn has_admin(&self) -> Result<bool, sqlx::Error> {
        let n: i64 = on_pool!(&self.pool, db => sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL")
            .fetch_one(db)
            .await?);
        Ok(n > 0)
    }

    pub async fn has_any_user(&self) -> Result<bool, sqlx::Error> {
        let n: i64 = on_pool!(&self.pool, db => sqlx::query_scalar("SELECT COUNT(*) FROM (SELECT 1 FROM users LIMIT 1) AS one").fetch_one(db).await?);
        Ok(n > 0)
    }

    // --- accounts ---------------------------------------------------------------

    pub async fn account(&self, id: i64, now: DateTime<Utc>) -> Result<Option<Account>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM users u WHERE u.id = $3");
        let row = on_pool!(&self.pool, db => sqlx::query(&sql).bind(ts(now)).bind(idle_cutoff(now)).bind(id).fetch_optional(db).await?.map(DbRow::from));
        row.as_ref().map(account_from_row).transpose()
    }

    /// Accounts of the units in `scope`, ordered by unit then username; `query`
    /// filters on username or name (case-insensitive, diacritics as typed).
    pub async fn accounts(
        &self,
        scope: &DataScope,
        query: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Account>, StoreError> {
        let units = match scope {
            DataScope::All => None,
            DataScope::Units(ids) => Some(serde_json::to_string(ids).map_err(|e| StoreError::Corrupt(e.to_string()))?),
        };
        let pattern = query.map(|q| format!("%{}%", q.trim().to_lowercase()));
        let rows = on_pool!(&self.pool, db, D => sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM users u JOIN units un ON un.id = u.unit_id
             WHERE ($3 IS NULL OR u.unit_id IN ({}))
               AND ($4 IS NULL OR lower(u.username) LIKE $4 OR lower(u.display_name) LIKE $4)
             ORDER BY un.position, u.username",
            D::json_text_values("$3")
        ))
            .bind(ts(now))
            .bind(idle_cutoff(now))
            .bind(units)
            .bind(pattern)
            .fetch_all(db)
            .await?.into_iter().map(DbRow::from).collect::<Vec<DbRow>>());
        rows.iter().map(account_from_row).collect()
    }

    /// Creates accounts (no password yet), each with an enrolment code, and one audit
    /// line per account, all or nothing. Returns the new ids in input order.
    /// A username that exists already fails the whole batch (`Ok(Err(username))`).
    pub async fn create_accounts(
        &self,
        accounts: &[(AccountFields, String)],
        code_expires_at: DateTime<Utc>,
        actor: &Actor,
        audit_action: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<Vec<i64>, String>, StoreError> {
        let mut tx = self.begin_immediate().await?;
        let mut ids = Vec::with_capacity(accounts.len());
        for (a, code_hash) in accounts {
            let id: Option<i64> = on_tx!(&mut tx, db => sqlx::query_scalar(
                "INSERT INTO users (username, display_name, password_hash, role, unit_id, created_at, phone, email)
                 VALUES ($1, $2, '', $3, $4, $5, $6, $7) ON CONFLICT (username) DO NOTHING RETURNING id",
            )
            .bind(&a.username)
            .bind(&a.display_name)
            .bind(role_str(a.role))
            .bind(&a.unit_id)
            .bind(ts(now))
            .bind(&a.phone)
            .bind(&a.email)
            .fetch_optional(&mut *db)
            .await?);
            let Some(id) = id else {
                return Ok(Err(a.username.clone()));
            };
            insert_code(&mut tx, &NewCode { user_id: id, code_hash, expires_at: code_expires_at }, actor, now).await?;
            let detail = format!("{} · {} · {}", a.display_name, role_str(a.role), a.unit_id);
            let audit = NewAudit {
                action: audit_action,
                target: Some(&a.username),
                unit_id: Some(&a.unit_id),
                detail: Some(detail),
            };
            append_audit(&mut tx, actor, &audit, now).await?;
            ids.push(id);
        }
        tx.commit().await?;
        Ok(Ok(ids))
    }

    /// Changes an account's name, unit, role and contacts. A change of unit or role
    /// ends its devices: what they hold on the phone belonged to the old unit.
    pub async fn update_account(
        &self,
        id: i64,
        fields: &AccountFields,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_immediate().await?;
        let before: Option<(String, String, String)> = on_tx!(&mut tx, db => sqlx::query_as("SELECT username, role, unit_id FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *db)
                .await?);
        let Some((username, old_role, old_unit)) = before else { return Ok(false) };
        on_tx!(&mut tx, db => { sqlx::query("UPDATE users SET display_name = $1, role = $2, unit_id = $3, phone = $4, email = $5 WHERE id = $6")
            .bind(&fields.display_name)
            .bind(role_str(fields.role))
            .bind(&fields.unit_id)
            .bind(&fields.phone)
            .bind(&fields.email)
            .bind(id)
            .execute(&mut *db)
            .await?; });
        let moved = old_role != role_str(fields.role) || old_unit != fields.unit_id;
        if moved {
            end_devices(&mut tx, id, None, "admin", now).await?;
        }
        let detail = format!(
            "{} · {} · {}{}",
            fields.display_name,
            role_str(fields.role),
            fields.unit_id,
            if moved {
                format!(" (trước: {old_role} · {old_unit}; đã đăng xuất mọi thiết bị)")
            } else {
                String::new()
            }
        );
        let audit = NewAudit {
            action: "account.update",
            target: Some(&username),
            unit_id: Some(&fields.unit_id),
            detail: Some(detail),
        };
        append_audit(&mut tx, actor, &audit, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Disables (ending every device and unused code) or enables an account.
    /// Returns false when the account does not exist or already was in that state.
    pub async fn set_disabled(
        &self,
        id: i64,
        disabled: bool,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_immediate().await?;
        let row: Option<(String, String)> = on_tx!(&mut tx, db => sqlx::query_as(if disabled {
            "UPDATE users SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL RETURNING username, unit_id"
        } else {
            "UPDATE users SET disabled_at = NULL WHERE $1 IS NOT NULL AND id = $2 AND disabled_at IS NOT NULL
                 RETURNING username, unit_id"
        })
        .bind(ts(now))
        .bind(id)
        .fetch_optional(&mut *db)
        .await?);
        let Some((username, unit_id)) = row else { return Ok(false) };
        let detail = if disabled {
            let ended = end_devices(&mut tx, id, None, "disabled", now).await?;
            revoke_codes(&mut tx, id, now).await?;
            Some(format!("đã đăng xuất {ended} thiết bị"))
        } else {
            None
        };
        let action = if disabled { "account.disable" } else { "account.enable" };
        let audit = NewAudit { action, target: Some(&username), unit_id: Some(&unit_id), detail };
        append_audit(&mut tx, actor, &audit, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A new enrolment code for each account (earlier unused codes stop working).
    /// With `clear_password` (a reset) the old password stops working too; the
    /// devices already signed in stay (a forgotten password is not a lost phone —
    /// "sign out everywhere" is a separate action).
    pub async fn issue_codes(
        &self,
        codes: &[NewCode<'_>],
        clear_password: bool,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_immediate().await?;
        for c in codes {
            revoke_codes(&mut tx, c.user_id, now).await?;
            if clear_password {
                on_tx!(&mut tx, db => { sqlx::query("UPDATE users SET password_hash = '' WHERE id = $1")
                    .bind(c.user_id)
                    .execute(&mut *db)
                    .await?; });
            }
            insert_code(&mut tx, c, actor, now).await?;
            let (username, unit_id): (String, String) = on_tx!(&mut tx, db => sqlx::query_as("SELECT username, unit_id FROM users WHERE id = $1")
                    .bind(c.user_id)
                    .fetch_one(&mut *db)
                    .await?);
            let detail = clear_password.then(|| "mật khẩu cũ hết hiệu lực".to_string());
            let audit = NewAudit { action: "account.reset", target: Some(&username), unit_id: Some(&unit_id), detail };
            append_audit(&mut tx, actor, &audit, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The account a usable code belongs to, or why the code cannot be used.
    pub async fn code_lookup(
        &self,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<(User, DateTime<Utc>), CodeState>, StoreError> {
        let row = on_pool!(&self.pool, db => sqlx::query(
            "SELECT c.expires_at, c.used_at, c.revoked_at, u.disabled_at,
                    u.id, u.username, u.display_name, u.role, u.unit_id
             FROM enrolment_codes c JOIN users u ON u.id = c.user_id WHERE c.code_hash = $1",
        )
        .bind(code_hash)
        .fetch_optional(db)
        .await?.map(DbRow::from));
        let Some(r) = row else { return Ok(Err(CodeState::Unknown)) };
        let expires_at = parse_ts(&r.text("expires_at")?)?;
        if r.opt_text("used_at")?.is_some() {
            return Ok(Err(CodeState::Used));
        }
        if r.opt_text("revoked_at")?.is_some() || r.opt_text("disabled_at")?.is_some() {
            return Ok(Err(CodeState::Revoked));
        }
        if expires_at <= now {
            return Ok(Err(CodeState::Expired));
        }
        Ok(Ok((user_from_row(&r)?, expires_at)))
    }

    /// Uses the code (once: the first of two racing requests wins), sets the
    /// password and signs this device in, in one transaction.
    pub async fn enrol(
        &self,
        code_hash: &str,
        password_hash: &str,
        device: &NewDevice<'_>,
        now: DateTime<Utc>,
    ) -> Result<Result<User, CodeState>, StoreError> {
        let mut tx = self.begin_immediate().await?;
        let user_id: Option<i64> = on_tx!(&mut tx, db => sqlx::query_scalar(
            "UPDATE enrolment_codes SET used_at = $1
             WHERE code_hash = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1
               AND (SELECT disabled_at FROM users WHERE id = user_id) IS NULL
             RETURNING user_id",
        )
        .bind(ts(now))
        .bind(code_hash)
        .fetch_optional(&mut *db)
        .await?);
        let Some(user_id) = user_id else {
            drop(tx);
            return Ok(Err(self.code_lookup(code_hash, now).await?.err().unwrap_or(CodeState::Used)));
        };
        let row = on_tx!(&mut tx, db => DbRow::from(sqlx::query(
            "UPDATE users SET password_hash = $1 WHERE id = $2
             RETURNING id, username, display_name, role, unit_id",
        )
        .bind(password_hash)
        .bind(user_id)
        .fetch_one(&mut *db)
        .await?));
        let user = user_from_row(&row)?;
        insert_device(&mut tx, user_id, device, now).await?;
        let actor = Actor { user_id: Some(user_id), name: user.username.clone(), address: device.address.clone() };
        let audit = NewAudit {
            action: "account.enrol",
            target: Some(&user.username),
            unit_id: Some(&user.unit_id),
            detail: Some(device.name.to_string()),
        };
        append_audit(&mut tx, &actor, &audit, now).await?;
        tx.commit().await?;
        Ok(Ok(user))
    }

    /// Uses a fresh code and sets the password, with no device signed in
    /// (`danvan-server create-admin` with a password typed at the terminal).
    pub async fn set_password_with_code(
        &self,
        code_hash: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_immediate().await?;
        let user_id: Option<i64> = on_tx!(&mut tx, db => sqlx::query_scalar(
            "UPDATE enrolment_codes SET used_at = $1
             WHERE code_hash = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1 RETURNING user_id",
        )
        .bind(ts(now))
        .bind(code_hash)
        .fetch_optional(&mut *db)
        .await?);
        let Some(user_id) = user_id else { return Ok(false) };
        on_tx!(&mut tx, db => { sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user_id)
            .execute(&mut *db)
            .await?; });
        tx.commit().await?;
        Ok(true)
    }

    /// Sets a new password (the official's own change). Other devices stay signed in
    /// unless `end_others`.
    pub async fn set_password(
        &self,
        user: &User,
        password_hash: &str,
        keep_device: Option<i64>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_immediate().await?;
        on_tx!(&mut tx, db => { sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user.id)
            .execute(&mut *db)
            .await?; });
        let ended = end_devices(&mut tx, user.id, keep_device, "password", now).await?;
        let audit = NewAudit {
            action: "account.password",
            target: Some(&user.username),
            unit_id: Some(&user.unit_id),
            detail: Some(format!("đã đăng xuất {ended} thiết bị khác")),
        };
        append_audit(&mut tx, actor, &audit, now).await?;
        tx.commit().await?;
        Ok(ended)
    }

    // --- devices ----------------------------------------------------------------

    pub async fn create_device(
        &self,
        user_id: i64,
        device: &NewDevice<'_>,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_immediate().await?;
        let id = insert_device(&mut tx, user_id, device, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// What a token is: an active device (not ended, within its idle and absolute
    /// expiry, its account enabled), a deliberately ended one, or nothing.
    pub async fn token_lookup(&self, token_hash: &str, now: DateTime<Utc>) -> Result<TokenLookup, StoreError> {
        let row = on_pool!(&self.pool, db => sqlx::query(
            "SELECT d.id AS device_id, d.last_seen_at, d.last_sync_at, d.expires_at, d.ended_at, d.ended_reason, d.app_version,
                    u.id, u.username, u.display_name, u.role, u.unit_id, u.disabled_at
             FROM devices d JOIN users u ON u.id = d.user_id WHERE d.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(db)
        .await?.map(DbRow::from));
        let Some(r) = row else { return Ok(TokenLookup::Invalid) };
        if r.opt_text("ended_at")?.is_some() {
            let reason: Option<String> = r.opt_text("ended_reason")?;
            return Ok(TokenLookup::Ended { reason: reason.unwrap_or_else(|| "admin".into()) });
        }
        if r.opt_text("disabled_at")?.is_some() {
            return Ok(TokenLookup::Ended { reason: "disabled".into() });
        }
        let last_seen_at = parse_ts(&r.text("last_seen_at")?)?;
        let expires_at = parse_ts(&r.text("expires_at")?)?;
        if expires_at <= now || last_seen_at + crate::auth::idle_expiry() <= now {
            return Ok(TokenLookup::Invalid);
        }
        Ok(TokenLookup::Active {
            user: user_from_row(&r)?,
            device_id: r.int("device_id")?,
            last_seen_at,
            last_sync_at: r.opt_text("last_sync_at")?.as_deref().map(parse_ts).transpose()?,
            app_version: r.opt_text("app_version")?,
        })
    }

    /// Records use of a device (renews its idle expiry), and its app version if
    /// given. Skipped while writers queue (`Store::write_turn_if_free`): the next
    /// request renews it.
    pub async fn touch_device(
        &self,
        id: i64,
        app_version: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        let Some(_turn) = self.write_turn_if_free() else { return Ok(()) };
        on_pool!(&self.pool, db => { sqlx::query("UPDATE devices SET last_seen_at = $1, app_version = COALESCE($2, app_version) WHERE id = $3")
            .bind(ts(now))
            .bind(app_version)
            .bind(id)
            .execute(db)
            .await?; });
        Ok(())
    }

    /// A device's last sync (for the administrators' device list); skipped like
    /// [`Store::touch_device`] while writers queue.
    pub async fn touch_device_sync(&self, id: i64, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
        let Some(_turn) = self.write_turn_if_free() else { return Ok(()) };
        on_pool!(&self.pool, db => { sqlx::query("UPDATE devices SET last_sync_at = $1, last_seen_at = $1 WHERE id = $2")
            .bind(ts(now))
            .bind(id)
            .execute(db)
            .await?; });
        Ok(())
    }

    /// Ends one device (sign-out, or the user or an administrator ending it).
    pub async fn end_device(
        &self,
        id: i64,
        reason: &str,
        audit: Option<(&Actor, &str)>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_immediate().await?;
        let row: Option<(String, String, String)> = on_tx!(&mut tx, db => sqlx::query_as(
            "UPDATE devices SET ended_at = $1, ended_reason = $2 WHERE id = $3 AND ended_at IS NULL
             RETURNING name, (SELECT username FROM users WHERE users.id = user_id),
                       (SELECT unit_id FROM users WHERE users.id = user_id)",
        )
        .bind(ts(now))
        .bind(reason)
        .bind(id)
        .fetch_optional(&mut *db)
        .await?);
        let Some((name, username, unit_id)) = row else { return Ok(false) };
        if let Some((actor, action)) = audit {
            let detail = Some(format!("{name} (#{id})"));
            append_audit(
                &mut tx,
                actor,
                &NewAudit { action, target: Some(&username), unit_id: Some(&unit_id), detail },
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Ends every device of the account but `except`; returns how many.
    pub async fn end_all_devices(
        &self,
        user_id: i64,
        except: Option<i64>,
        reason: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Option<u64>, StoreError> {
        let mut tx = self.begin_immediate().await?;
        let row: Option<(String, String)> = on_tx!(&mut tx, db => sqlx::query_as("SELECT username, unit_id FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&mut *db)
            .await?);
        let Some((username, unit_id)) = row else { return Ok(None) };
        let ended = end_devices(&mut tx, user_id, except, reason, now).await?;
        let audit = NewAudit {
            action: "account.sign_out_everywhere",
            target: Some(&username),
            unit_id: Some(&unit_id),
            detail: Some(format!("{ended} thiết bị")),
        };
        append_audit(&mut tx, actor, &audit, now).await?;
        tx.commit().await?;
        Ok(Some(ended))
    }

    /// The account's devices, signed-in ones first, newest first; ended ones of the
    /// last 90 days after them.
    pub async fn devices(&self, user_id: i64, now: DateTime<Utc>) -> Result<Vec<Device>, StoreError> {
        let rows = on_pool!(&self.pool, db => sqlx::query(
            "SELECT id, user_id, name, app_version, created_at, last_seen_at, last_sync_at,
                    CASE WHEN ended_at IS NULL AND (expires_at <= $2 OR last_seen_at <= $3) THEN expires_at
                         ELSE ended_at END AS ended_at
             FROM devices WHERE user_id = $1
             ORDER BY (ended_at IS NULL AND expires_at > $2 AND last_seen_at > $3) DESC, last_seen_at DESC",
        )
        .bind(user_id)
        .bind(ts(now))
        .bind(idle_cutoff(now))
        .fetch_all(db)
        .await?.into_iter().map(DbRow::from).collect::<Vec<DbRow>>());
        rows.iter().map(device_from_row).collect()
    }

    pub async fn device_owner(&self, id: i64) -> Result<Option<DeviceOwner>, StoreError> {
        let row = on_pool!(&self.pool, db => sqlx::query(
            "SELECT d.id, d.user_id, d.name, d.app_version, d.created_at, d.last_seen_at, d.last_sync_at,
                    d.ended_at, u.unit_id
             FROM devices d JOIN users u ON u.id = d.user_id WHERE d.id = $1",
        )
        .bind(id)
        .fetch_optional(db)
        .await?.map(DbRow::from));
        row.map(|r| {
            Ok(DeviceOwner { device: device_from_row(&r)?, user_id: r.int("user_id")?, unit_id: r.text("unit_id")? })
        })
        .transpose()
    }

    /// Forgets devices ended or expired more than 90 days ago; returns how many.
    pub async fn purge_old_devices(&self, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
        let _turn = self.write_turn().await?;
        let cutoff = ts(now - chrono::Duration::days(90));
        let done = on_pool!(&self.pool, db => sqlx::query(
            "DELETE FROM devices WHERE ended_at < $1 OR expires_at < $1
               OR (ended_at IS NULL AND last_seen_at < $2)",
        )
        .bind(&cutoff)
        .bind(ts(now - chrono::Duration::days(90) - crate::auth::idle_expiry()))
        .execute(db)
        .await?.rows_affected());
        Ok(done)
    }

    // --- audit log ----------------------------------------------------------------

    /// Appends one line outside any other change (e.g. a login lock-out).
    /// Moves every account of `from` (a closed unit) to `to` (its successor), in
    /// one transaction with the audit line; returns how many. Their devices stay
    /// signed in: the successor carries on the same office's work.
    pub async fn move_accounts(
        &self,
        from: &str,
        to: &str,
        actor: &Actor,
        audit: &NewAudit<'_>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_immediate().await?;
        let moved = on_tx!(&mut tx, db => sqlx::query("UPDATE users SET unit_id = $1 WHERE unit_id = $2")
            .bind(to)
            .bind(from)
            .execute(&mut *db)
            .await?.rows_affected());
        if moved > 0 {
            let audit = NewAudit { detail: Some(format!("{moved} tài khoản: {from} → {to}")), ..audit.clone() };
            append_audit(&mut tx, actor, &audit, now).await?;
        }
        tx.commit().await?;
        Ok(moved)
    }

    pub async fn audit(&self, actor: &Actor, entry: &NewAudit<'_>, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.begin_immediate().await?;
        append_audit(&mut tx, actor, entry, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Newest first, before the id `before`, at most `limit`, within `scope` (lines
    /// without a unit — server-wide actions — only for an unrestricted scope).
    pub async fn audit_entries(
        &self,
        scope: &DataScope,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let units = match scope {
            DataScope::All => None,
            DataScope::Units(ids) => Some(serde_json::to_string(ids).map_err(|e| StoreError::Corrupt(e.to_string()))?),
        };
        let rows = on_pool!(&self.pool, db, D => sqlx::query(&format!(
            "SELECT id, at, actor, action, target, detail, address FROM audit_log
             WHERE ($1 IS NULL OR id < $1)
               AND ($2 IS NULL OR unit_id IN ({}))
             ORDER BY id DESC LIMIT $3",
            D::json_text_values("$2")
        ))
        .bind(before)
        .bind(units)
        .bind(i64::from(limit))
        .fetch_all(db)
        .await?.into_iter().map(DbRow::from).collect::<Vec<DbRow>>());
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.int("id")?,
                    at: parse_ts(&r.text("at")?)?,
                    actor: r.text("actor")?,
                    action: r.text("action")?,
                    target: r.opt_text("target")?,
                    detail: r.opt_text("detail")?,
                    address: r.opt_text("address")?,
                })
            })
            .collect()
    }
}

/// A device signing in.
#[derive(Clone, Debug)]
pub struct NewDevice<'a> {
    pub token_hash: &'a str,
    pub name: &'a str,
    pub app_version: Option<&'a str>,
    pub expires_at: DateTime<Utc>,
    pub address: Option<String>,
}

async fn insert_device(tx: &mut Tx, user_id: i64, d: &NewDevice<'_>, now: DateTime<Utc>) -> Result<i64, StoreError> {
    let id: i64 = on_tx!(tx, db => sqlx::query_scalar(
        "INSERT INTO devices (token_hash, user_id, name, app_version, created_at, last_seen_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(d.token_hash)
    .bind(user_id)
    .bind(d.name)
    .bind(d.app_version)
    .bind(ts(now))
    .bind(ts(now))
    .bind(ts(d.expires_at))
    .fetch_one(&mut *db)
    .await?);
    Ok(id)
}

async fn end_devices(
    tx: &mut Tx,
    user_id: i64,
    except: Option<i64>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let done = on_tx!(tx, db => sqlx::query(
        "UPDATE devices SET ended_at = $1, ended_reason = $2 WHERE user_id = $3 AND ended_at IS NULL
           AND ($4 IS NULL OR id <> $5)",
    )
    .bind(ts(now))
    .bind(reason)
    .bind(user_id)
    .bind(except)
    .bind(except)
    .execute(&mut *db)
    .await?.rows_affected());
    Ok(done)
}

async fn revoke_codes(tx: &mut Tx, user_id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
    on_tx!(tx, db => { sqlx::query(
        "UPDATE enrolment_codes SET revoked_at = $1 WHERE user_id = $2 AND used_at IS NULL AND revoked_at IS NULL",
    )
    .bind(ts(now))
    .bind(user_id)
    .execute(&mut *db)
    .await?; });
    Ok(())
}

async fn insert_code(tx: &mut Tx, c: &NewCode<'_>, actor: &Actor, now: DateTime<Utc>) -> Result<(), StoreError> {
    on_tx!(tx, db => { sqlx::query(
        "INSERT INTO enrolment_codes (code_hash, user_id, created_at, created_by, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(c.code_hash)
    .bind(c.user_id)
    .bind(ts(now))
    .bind(actor.user_id)
    .bind(ts(c.expires_at))
    .execute(&mut *db)
    .await?; });
    Ok(())
}

pub(super) async fn append_audit(
    tx: &mut Tx,
    actor: &Actor,
    e: &NewAudit<'_>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    on_tx!(tx, db => { sqlx::query(
        "INSERT INTO audit_log (at, actor_id, actor, action, target, detail, address, unit_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(ts(now))
    .bind(actor.user_id)
    .bind(&actor.name)
    .bind(e.action)
    .bind(e.target)
    .bind(&e.detail)
    .bind(&actor.address)
    .bind(e.unit_id)
    .execute(&mut *db)
    .await?; });
    Ok(())
}
