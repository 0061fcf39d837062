//! The catalog in the database: units (with their history), plans and their report
//! forms (the current published version in `plans` / `forms`, every version in
//! `plan_versions`), the catalog version phones compare, and the data packages
//! applied. Every change bumps `sync_state.catalog_version` and writes the audit
//! log in the same transaction.

use chrono::{DateTime, NaiveDate, Utc};
use danvan_core::unit::Designation;
use danvan_core::{OrgUnit, Plan, ReportForm, UnitKind};

use super::accounts::append_audit;
use super::{on_pool, on_tx, parse_ts, ts, Actor, Cols, DbRow, Dialect, NewAudit, Store, StoreError, Tx};

/// One stored version of a plan.
#[derive(Clone, Debug)]
pub struct PlanVersion {
    pub plan: Plan,
    pub form: Option<ReportForm>,
    pub version: u32,
    pub published: bool,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub published_at: Option<DateTime<Utc>>,
    pub published_by: Option<String>,
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn date_text(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%Y-%m-%d").to_string())
}

fn parse_date(s: Option<String>) -> Result<Option<NaiveDate>, StoreError> {
    s.map(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|e| corrupt("ngày", e))).transpose()
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

async fn bump_catalog_version(tx: &mut Tx) -> Result<i64, StoreError> {
    Ok(on_tx!(tx, db => sqlx::query_scalar(
        "UPDATE sync_state SET catalog_version = catalog_version + 1 WHERE id = 1 RETURNING catalog_version",
    )
    .fetch_optional(&mut *db)
    .await?)
    .unwrap_or(1))
}

async fn upsert_units(tx: &mut Tx, units: &[OrgUnit]) -> Result<(), StoreError> {
    // A file may list a child before its parent; check the references at commit.
    on_tx!(tx, db, D => {
        sqlx::query(D::DEFER_FOREIGN_KEYS).execute(&mut *db).await?;
    });
    for (position, u) in units.iter().enumerate() {
        on_tx!(tx, db => { sqlx::query(
            "INSERT INTO units (id, code, name, kind, parent, position, designation, valid_from, valid_to, successors)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name, kind = excluded.kind,
               parent = excluded.parent, position = excluded.position, designation = excluded.designation,
               valid_from = excluded.valid_from, valid_to = excluded.valid_to, successors = excluded.successors",
        )
        .bind(&u.id)
        .bind(&u.code)
        .bind(&u.name)
        .bind(u.kind.as_str())
        .bind(&u.parent)
        .bind(position as i64)
        .bind(u.designation.map(Designation::as_str))
        .bind(date_text(u.valid_from))
        .bind(date_text(u.valid_to))
        .bind(json(&u.successors)?)
        .execute(&mut *db)
        .await?; });
    }
    Ok(())
}

async fn write_current(tx: &mut Tx, plan: &Plan, form: Option<&ReportForm>) -> Result<(), StoreError> {
    on_tx!(tx, db => { sqlx::query(
        "INSERT INTO plans (id, number, data) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET number = excluded.number, data = excluded.data",
    )
    .bind(&plan.id)
    .bind(&plan.number)
    .bind(json(plan)?)
    .execute(&mut *db)
    .await?; });
    if let Some(f) = form {
        on_tx!(tx, db => { sqlx::query(
            "INSERT INTO forms (id, plan_id, data) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET plan_id = excluded.plan_id, data = excluded.data",
        )
        .bind(&f.id)
        .bind(&f.plan_id)
        .bind(json(f)?)
        .execute(&mut *db)
        .await?; });
    }
    Ok(())
}

impl Store {
    /// Every unit of every time, in the order files listed them.
    pub async fn units(&self) -> Result<Vec<OrgUnit>, StoreError> {
        let rows = on_pool!(&self.pool, db => sqlx::query(
            "SELECT id, code, name, kind, parent, designation, valid_from, valid_to, successors
               FROM units ORDER BY position, id",
        )
        .fetch_all(db)
        .await?.into_iter().map(DbRow::from).collect::<Vec<DbRow>>());
        rows.iter()
            .map(|r| {
                let id: String = r.text("id")?;
                let kind: String = r.text("kind")?;
                let designation: Option<String> = r.opt_text("designation")?;
                let successors: String = r.text("successors")?;
                Ok(OrgUnit {
                    code: r.text("code")?,
                    name: r.text("name")?,
                    kind: UnitKind::parse(&kind).ok_or_else(|| corrupt("loại đơn vị", &kind))?,
                    parent: r.opt_text("parent")?,
                    designation: designation
                        .map(|d| Designation::parse(&d).ok_or_else(|| corrupt("loại đơn vị cấp xã", &d)))
                        .transpose()?,
                    valid_from: parse_date(r.opt_text("valid_from")?)?,
                    valid_to: parse_date(r.opt_text("valid_to")?)?,
                    successors: serde_json::from_str(&successors).map_err(|e| corrupt(&id, e))?,
                    id,
                })
            })
            .collect()
    }

    /// Writes the whole unit list (after a checked import) and the audit line, in
    /// one transaction; returns the new catalog version.
    pub async fn save_units(
        &self,
        units: &[OrgUnit],
        actor: &Actor,
        audit: &NewAudit<'_>,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_immediate().await?;
        upsert_units(&mut tx, units).await?;
        append_audit(&mut tx, actor, audit, now).await?;
        let version = bump_catalog_version(&mut tx).await?;
        tx.commit().await?;
        Ok(version)
    }

    /// The current published version of every plan.
    pub async fn plans(&self) -> Result<Vec<Plan>, StoreError> {
        let rows: Vec<(String, String)> =
            on_pool!(&self.pool, db => sqlx::query_as("SELECT id, data FROM plans ORDER BY id").fetch_all(db).await?);
        rows.into_iter().map(|(id, data)| serde_json::from_str(&data).map_err(|e| corrupt(&id, e))).collect()
    }

    /// The current report form of every plan.
    pub async fn forms(&self) -> Result<Vec<ReportForm>, StoreError> {
        let rows: Vec<(String, String)> =
            on_pool!(&self.pool, db => sqlx::query_as("SELECT id, data FROM forms ORDER BY id").fetch_all(db).await?);
        rows.into_iter().map(|(id, data)| serde_json::from_str(&data).map_err(|e| corrupt(&id, e))).collect()
    }

    /// Moves by one at every change of units, plans or forms.
    pub async fn catalog_version(&self) -> Result<i64, StoreError> {
        Ok(on_pool!(&self.pool, db => sqlx::query_scalar("SELECT catalog_version FROM sync_state WHERE id = 1")
            .fetch_optional(db)
            .await?)
        .unwrap_or(0))
    }

    /// Publishes `plan` (with its form) as its next version: recorded in
    /// `plan_versions`, served from `plans` / `forms`; the plan's draft, if any,
    /// is the version published and stops being a draft.
    pub async fn publish_plan(
        &self,
        plan: &Plan,
        form: Option<&ReportForm>,
        actor: &Actor,
        audit: &NewAudit<'_>,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_immediate().await?;
        on_tx!(&mut tx, db => { sqlx::query("DELETE FROM plan_versions WHERE plan_id = $1 AND status = 'draft'")
            .bind(&plan.id)
            .execute(&mut *db)
            .await?; });
        on_tx!(&mut tx, db => { sqlx::query(
            "INSERT INTO plan_versions (plan_id, version, status, plan, form, created_at, created_by, published_at, published_by)
             VALUES ($1, $2, 'published', $3, $4, $5, $6, $7, $8)",
        )
        .bind(&plan.id)
        .bind(plan.version as i64)
        .bind(json(plan)?)
        .bind(form.map(json).transpose()?)
        .bind(ts(now))
        .bind(&actor.name)
        .bind(ts(now))
        .bind(&actor.name)
        .execute(&mut *db)
        .await?; });
        write_current(&mut tx, plan, form).await?;
        append_audit(&mut tx, actor, audit, now).await?;
        let version = bump_catalog_version(&mut tx).await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Creates or replaces the plan's draft (numbered `plan.version`).
    pub async fn save_draft(
        &self,
        plan: &Plan,
        form: Option<&ReportForm>,
        actor: &Actor,
        audit: Option<&NewAudit<'_>>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_immediate().await?;
        on_tx!(&mut tx, db => { sqlx::query("DELETE FROM plan_versions WHERE plan_id = $1 AND status = 'draft'")
            .bind(&plan.id)
            .execute(&mut *db)
            .await?; });
        on_tx!(&mut tx, db => { sqlx::query(
            "INSERT INTO plan_versions (plan_id, version, status, plan, form, created_at, created_by)
             VALUES ($1, $2, 'draft', $3, $4, $5, $6)",
        )
        .bind(&plan.id)
        .bind(plan.version as i64)
        .bind(json(plan)?)
        .bind(form.map(json).transpose()?)
        .bind(ts(now))
        .bind(&actor.name)
        .execute(&mut *db)
        .await?; });
        if let Some(audit) = audit {
            append_audit(&mut tx, actor, audit, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Drops a plan's draft; whether there was one.
    pub async fn discard_draft(
        &self,
        plan_id: &str,
        actor: &Actor,
        audit: &NewAudit<'_>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_immediate().await?;
        let gone = on_tx!(&mut tx, db => sqlx::query("DELETE FROM plan_versions WHERE plan_id = $1 AND status = 'draft'")
            .bind(plan_id)
            .execute(&mut *db)
            .await?.rows_affected())
            > 0;
        if gone {
            append_audit(&mut tx, actor, audit, now).await?;
        }
        tx.commit().await?;
        Ok(gone)
    }

    /// Every version of every plan (or of one), newest first within a plan.
    pub async fn plan_versions(&self, plan_id: Option<&str>) -> Result<Vec<PlanVersion>, StoreError> {
        let rows = on_pool!(&self.pool, db => sqlx::query(
            "SELECT plan_id, version, status, plan, form, created_at, created_by, published_at, published_by
               FROM plan_versions WHERE ($1 IS NULL OR plan_id = $1) ORDER BY plan_id, version DESC",
        )
        .bind(plan_id)
        .fetch_all(db)
        .await?.into_iter().map(DbRow::from).collect::<Vec<DbRow>>());
        rows.iter()
            .map(|r| {
                let id: String = r.text("plan_id")?;
                let plan: String = r.text("plan")?;
                let form: Option<String> = r.opt_text("form")?;
                let status: String = r.text("status")?;
                let published_at: Option<String> = r.opt_text("published_at")?;
                Ok(PlanVersion {
                    plan: serde_json::from_str(&plan).map_err(|e| corrupt(&id, e))?,
                    form: form.map(|f| serde_json::from_str(&f).map_err(|e| corrupt(&id, e))).transpose()?,
                    version: r.int("version")? as u32,
                    published: status == "published",
                    created_at: parse_ts(&r.text("created_at")?)?,
                    created_by: r.text("created_by")?,
                    published_at: published_at.as_deref().map(parse_ts).transpose()?,
                    published_by: r.opt_text("published_by")?,
                })
            })
            .collect()
    }

    /// Whether a shipped data package was applied to this database.
    pub async fn package_applied(&self, name: &str) -> Result<bool, StoreError> {
        Ok(
            on_pool!(&self.pool, db => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM catalog_packages WHERE name = $1")
            .bind(name)
            .fetch_one(db)
            .await?)
                > 0,
        )
    }

    pub async fn record_package(&self, name: &str, sha256: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let _turn = self.write_turn().await?;
        on_pool!(&self.pool, db => { sqlx::query(
            "INSERT INTO catalog_packages (name, sha256, applied_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(sha256)
        .bind(ts(now))
        .execute(db)
        .await?; });
        Ok(())
    }
}
