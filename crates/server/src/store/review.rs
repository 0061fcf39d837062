//! Reads for the dashboard and the consolidation, and the two registers:
//! III.1 implementation plans and "Dân vận khéo" models.
//!
//! The dashboard reads four small columns per report of one period (index
//! `reports_plan_period`), never the report JSON; the consolidation loads the JSON
//! only of the reports it actually sums.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use danvan_core::aggregate::{ModelField, ReportSummary};
use danvan_core::{ReportForm, ReportStatus, Values};

use danvan_core::time::format_date;

use super::accounts::append_audit;
use super::{on_pool, on_tx, parse_ts, ts, Actor, Cols, DbRow, Dialect, NewAudit, Store, StoreError};

/// A III.1 implementation plan as stored (without the file's bytes).
#[derive(Clone, Debug, PartialEq)]
pub struct ImplementationPlanRow {
    pub unit_id: String,
    pub doc_number: String,
    pub issued_on: NaiveDate,
    pub file_name: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

/// A "Dân vận khéo" model as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelRow {
    pub id: i64,
    pub plan_id: String,
    pub unit_id: String,
    pub name: String,
    pub field: ModelField,
    pub description: String,
    pub registered_on: NaiveDate,
    pub recognised_on: Option<NaiveDate>,
    pub commended_on: Option<NaiveDate>,
    pub commendation: Option<String>,
}

fn parse_date(s: &str) -> Result<NaiveDate, StoreError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| StoreError::Corrupt(format!("ngày {s:?}: {e}")))
}

fn opt_date(s: Option<String>) -> Result<Option<NaiveDate>, StoreError> {
    s.as_deref().map(parse_date).transpose()
}

fn model_from_row(r: &impl Cols) -> Result<ModelRow, StoreError> {
    let field: String = r.text("field")?;
    Ok(ModelRow {
        id: r.int("id")?,
        plan_id: r.text("plan_id")?,
        unit_id: r.text("unit_id")?,
        name: r.text("name")?,
        field: ModelField::parse(&field).ok_or_else(|| StoreError::Corrupt(format!("lĩnh vực {field:?}")))?,
        description: r.text("description")?,
        registered_on: parse_date(&r.text("registered_on")?)?,
        recognised_on: opt_date(r.opt_text("recognised_on")?)?,
        commended_on: opt_date(r.opt_text("commended_on")?)?,
        commendation: r.opt_text("commendation")?,
    })
}

const MODEL_COLUMNS: &str =
    "id, plan_id, unit_id, name, field, description, registered_on, recognised_on, commended_on, commendation";

impl Store {
    /// Status and submission times of every report of one plan and period.
    ///
    /// The rows travel as one JSON array ([`Dialect::json_rows`]): sqlx hands every
    /// result row from its SQLite thread to the task, which for the ~10,000 reports
    /// of a province cost about half as much again as SQLite's own work
    /// (`examples/dashboard_bench.rs`).
    pub async fn report_summaries(&self, plan_id: &str, period: &str) -> Result<Vec<ReportSummary>, StoreError> {
        let text: String = on_pool!(&self.pool, db, D => sqlx::query_scalar(&format!(
            "SELECT {} FROM reports WHERE plan_id = $1 AND period = $2",
            D::json_rows(&["unit_id", "status", "first_submitted_at", "return_reason"])
        ))
        .bind(plan_id)
        .bind(period)
        .fetch_one(db)
        .await?);
        let rows: Vec<(String, String, Option<String>, Option<String>)> =
            serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("tóm tắt báo cáo: {e}")))?;
        rows.into_iter()
            .map(|(unit_id, status, first, return_reason)| {
                let first = first.as_deref().map(parse_ts).transpose()?;
                Ok(ReportSummary {
                    unit_id,
                    status: ReportStatus::parse(&status)
                        .ok_or_else(|| StoreError::Corrupt(format!("trạng thái {status:?}")))?,
                    first_submitted_at: first,
                    submitted_at: first,
                    return_reason,
                })
            })
            .collect()
    }

    /// One unit's reports under a plan, by period key: the record of its periods.
    pub async fn unit_report_summaries(
        &self,
        plan_id: &str,
        unit_id: &str,
    ) -> Result<Vec<(String, ReportSummary)>, StoreError> {
        let rows: Vec<(String, String, Option<String>, Option<String>)> = on_pool!(&self.pool, db => sqlx::query_as(
            "SELECT period, status, first_submitted_at, return_reason FROM reports WHERE plan_id = $1 AND unit_id = $2",
        )
        .bind(plan_id)
        .bind(unit_id)
        .fetch_all(db)
        .await?);
        rows.into_iter()
            .map(|(period, status, first, return_reason)| {
                let first = first.as_deref().map(parse_ts).transpose()?;
                let summary = ReportSummary {
                    unit_id: unit_id.to_string(),
                    status: ReportStatus::parse(&status)
                        .ok_or_else(|| StoreError::Corrupt(format!("trạng thái {status:?}")))?,
                    first_submitted_at: first,
                    submitted_at: first,
                    return_reason,
                };
                Ok((period, summary))
            })
            .collect()
    }

    /// The units whose report of this plan and period is accepted (one JSON array,
    /// as in [`Store::report_summaries`]).
    pub async fn accepted_units(&self, plan_id: &str, period: &str) -> Result<Vec<String>, StoreError> {
        let text: String = on_pool!(&self.pool, db, D => sqlx::query_scalar(&format!(
            "SELECT {} FROM reports WHERE plan_id = $1 AND period = $2 AND status = 'accepted'",
            D::json_values("unit_id")
        ))
        .bind(plan_id)
        .bind(period)
        .fetch_one(db)
        .await?);
        serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("đơn vị: {e}")))
    }

    /// The figures and values of the accepted reports of `units` (one query; the
    /// ids travel as one JSON array). Reads the whole report JSON and deserialises
    /// only its `values`: cheaper than having SQLite cut them out and re-serialise
    /// them (`json_extract`), and than gathering all rows into one text
    /// (`group_concat`), both measured by `examples/dashboard_bench.rs`.
    pub async fn accepted_reports(
        &self,
        plan_id: &str,
        period: &str,
        units: &[&str],
    ) -> Result<Vec<(String, BTreeMap<String, u64>, Values)>, StoreError> {
        /// The one member of `reports.data` the consolidation reads.
        #[derive(serde::Deserialize)]
        struct ValuesOnly {
            #[serde(default)]
            values: Values,
        }
        if units.is_empty() {
            return Ok(Vec::new());
        }
        let ids = serde_json::to_string(units).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let rows = on_pool!(&self.pool, db, D => sqlx::query(&format!(
            "SELECT unit_id, figures, data FROM reports
              WHERE plan_id = $1 AND period = $2 AND status = 'accepted' AND unit_id IN ({})",
            D::json_text_values("$3")
        ))
        .bind(plan_id)
        .bind(period)
        .bind(ids)
        .fetch_all(db)
        .await?.into_iter().map(DbRow::from).collect::<Vec<DbRow>>());
        rows.iter()
            .map(|r| {
                let unit: String = r.text("unit_id")?;
                let figures = match r.opt_text("figures")?.as_deref() {
                    Some(f) => serde_json::from_str(f).map_err(|e| StoreError::Corrupt(format!("figures: {e}")))?,
                    None => BTreeMap::new(),
                };
                let data: ValuesOnly =
                    serde_json::from_str(&r.text("data")?).map_err(|e| StoreError::Corrupt(format!("values: {e}")))?;
                Ok((unit, figures, data.values))
            })
            .collect()
    }

    /// The figures alone of the accepted reports of `units` (the consolidation
    /// sums them without reading their narratives), as one JSON array.
    ///
    /// For many units (a province's consolidation sums thousands of communes) the
    /// period's accepted reports are read whole and the wanted ones kept here: an
    /// IN list of 10,000 ids is planned by PostgreSQL as one index probe per id.
    pub async fn accepted_figures(
        &self,
        plan_id: &str,
        period: &str,
        units: &[&str],
    ) -> Result<Vec<(String, BTreeMap<String, u64>)>, StoreError> {
        /// Units beyond which the IN list costs more than reading the period.
        const IN_LIST_LIMIT: usize = 500;
        if units.is_empty() {
            return Ok(Vec::new());
        }
        let all = units.len() > IN_LIST_LIMIT;
        let ids = if all {
            "[]".to_string()
        } else {
            serde_json::to_string(units).map_err(|e| StoreError::Corrupt(e.to_string()))?
        };
        let text: String = on_pool!(&self.pool, db, D => sqlx::query_scalar(&format!(
            // The stored JSON texts are put together as they are: `json()` around
            // each would make SQLite parse and re-print 8,000 objects for nothing.
            "SELECT '[' || coalesce({}, '') || ']'
               FROM reports
              WHERE plan_id = $1 AND period = $2 AND status = 'accepted' AND ($4 OR unit_id IN ({}))",
            D::join_rows(&format!("'[' || {} || ',' || coalesce(figures, '{{}}') || ']'", D::json_quote("unit_id"))),
            D::json_text_values("$3")
        ))
        .bind(plan_id)
        .bind(period)
        .bind(ids)
        .bind(all)
        .fetch_one(db)
        .await?);
        let rows: Vec<(String, BTreeMap<String, u64>)> =
            serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("figures: {e}")))?;
        if !all {
            return Ok(rows);
        }
        let wanted: std::collections::HashSet<&str> = units.iter().copied().collect();
        Ok(rows.into_iter().filter(|(unit, _)| wanted.contains(unit.as_str())).collect())
    }

    /// What [`aggregate::count_models`](danvan_core::aggregate::count_models) reads
    /// of every model of a plan: (unit, field, registered, recognised, commended),
    /// as one JSON array (see [`Store::report_summaries`]).
    #[allow(clippy::type_complexity)]
    pub async fn model_dates(
        &self,
        plan_id: &str,
    ) -> Result<Vec<(String, ModelField, NaiveDate, Option<NaiveDate>, Option<NaiveDate>)>, StoreError> {
        let text: String = on_pool!(&self.pool, db, D => sqlx::query_scalar(&format!(
            "SELECT {} FROM movement_models WHERE plan_id = $1",
            D::json_rows(&["unit_id", "field", "registered_on", "recognised_on", "commended_on"])
        ))
        .bind(plan_id)
        .fetch_one(db)
        .await?);
        let rows: Vec<(String, String, String, Option<String>, Option<String>)> =
            serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("mô hình: {e}")))?;
        rows.into_iter()
            .map(|(unit, field, registered, recognised, commended)| {
                Ok((
                    unit,
                    ModelField::parse(&field).ok_or_else(|| StoreError::Corrupt(format!("lĩnh vực {field:?}")))?,
                    parse_date(&registered)?,
                    opt_date(recognised)?,
                    opt_date(commended)?,
                ))
            })
            .collect()
    }

    /// Fills `figures` for reports written before the column existed.
    pub async fn backfill_figures(&self, forms: &[ReportForm]) -> Result<u64, StoreError> {
        let _turn = self.write_turn().await?;
        let rows = on_pool!(&self.pool, db => sqlx::query(
            "SELECT id, form_id, data FROM reports WHERE figures IS NULL",
        )
        .fetch_all(db)
        .await?.into_iter().map(DbRow::from).collect::<Vec<DbRow>>());
        let mut n = 0;
        for r in &rows {
            let id: String = r.text("id")?;
            let form_id: String = r.text("form_id")?;
            let Some(form) = forms.iter().find(|f| f.id == form_id) else { continue };
            #[derive(serde::Deserialize)]
            struct ValuesOnly {
                #[serde(default)]
                values: Values,
            }
            let values = serde_json::from_str::<ValuesOnly>(&r.text("data")?).map(|d| d.values).unwrap_or_default();
            let figures = danvan_core::aggregate::figures(form, &values);
            let text = serde_json::to_string(&figures).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            on_pool!(&self.pool, db => { sqlx::query("UPDATE reports SET figures = $1 WHERE id = $2").bind(text).bind(&id).execute(db).await?; });
            n += 1;
        }
        Ok(n)
    }

    // --- III.1 implementation plans -------------------------------------------

    pub async fn implementation_plans(&self, plan_id: &str) -> Result<Vec<ImplementationPlanRow>, StoreError> {
        let rows = on_pool!(&self.pool, db => sqlx::query(
            "SELECT unit_id, doc_number, issued_on, file_name, recorded_at FROM implementation_plans WHERE plan_id = $1",
        )
        .bind(plan_id)
        .fetch_all(db)
        .await?.into_iter().map(DbRow::from).collect::<Vec<DbRow>>());
        rows.iter()
            .map(|r| {
                Ok(ImplementationPlanRow {
                    unit_id: r.text("unit_id")?,
                    doc_number: r.text("doc_number")?,
                    issued_on: parse_date(&r.text("issued_on")?)?,
                    file_name: r.opt_text("file_name")?,
                    recorded_at: parse_ts(&r.text("recorded_at")?)?,
                })
            })
            .collect()
    }

    /// Records (or corrects) a unit's implementation plan; an attached file stays.
    /// The change, with what it replaced, goes to the audit log in the same
    /// transaction: a corrected number or date is never silently lost.
    #[allow(clippy::too_many_arguments)]
    pub async fn put_implementation_plan(
        &self,
        plan_id: &str,
        unit_id: &str,
        doc_number: &str,
        issued_on: NaiveDate,
        user_id: i64,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_immediate().await?;
        let before: Option<(String, String)> = on_tx!(&mut tx, db => sqlx::query_as(
            "SELECT doc_number, issued_on FROM implementation_plans WHERE plan_id = $1 AND unit_id = $2",
        )
        .bind(plan_id)
        .bind(unit_id)
        .fetch_optional(&mut *db)
        .await?);
        on_tx!(&mut tx, db => { sqlx::query(
            "INSERT INTO implementation_plans (plan_id, unit_id, doc_number, issued_on, recorded_by, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (plan_id, unit_id) DO UPDATE SET doc_number = excluded.doc_number,
               issued_on = excluded.issued_on, recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
        )
        .bind(plan_id)
        .bind(unit_id)
        .bind(doc_number)
        .bind(issued_on.to_string())
        .bind(user_id)
        .bind(ts(now))
        .execute(&mut *db)
        .await?; });
        let mut detail = format!("Số {doc_number} ngày {}", format_date(issued_on));
        if let Some((old_number, old_date)) = before {
            let old_date = NaiveDate::parse_from_str(&old_date, "%Y-%m-%d").map(format_date).unwrap_or(old_date);
            detail.push_str(&format!(" (trước: số {old_number} ngày {old_date})"));
        }
        let target = format!("{plan_id}/{unit_id}");
        let audit = NewAudit {
            action: "implementation_plan.record",
            target: Some(&target),
            unit_id: Some(unit_id),
            detail: Some(detail),
        };
        append_audit(&mut tx, actor, &audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Attaches the document to an existing record; false when there is none.
    pub async fn put_implementation_plan_file(
        &self,
        plan_id: &str,
        unit_id: &str,
        name: &str,
        mime: &str,
        bytes: &[u8],
    ) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await?;
        let done = on_pool!(&self.pool, db => sqlx::query(
            "UPDATE implementation_plans SET file_name = $1, file_mime = $2, file_data = $3 WHERE plan_id = $4 AND unit_id = $5",
        )
        .bind(name)
        .bind(mime)
        .bind(bytes)
        .bind(plan_id)
        .bind(unit_id)
        .execute(db)
        .await?.rows_affected());
        Ok(done == 1)
    }

    /// The attached document: (name, mime, bytes).
    pub async fn implementation_plan_file(
        &self,
        plan_id: &str,
        unit_id: &str,
    ) -> Result<Option<(String, String, Vec<u8>)>, StoreError> {
        let row = on_pool!(&self.pool, db => sqlx::query(
            "SELECT file_name, file_mime, file_data FROM implementation_plans
              WHERE plan_id = $1 AND unit_id = $2 AND file_data IS NOT NULL",
        )
        .bind(plan_id)
        .bind(unit_id)
        .fetch_optional(db)
        .await?.map(DbRow::from));
        row.map(|r| Ok((r.text("file_name")?, r.text("file_mime")?, r.bytes("file_data")?))).transpose()
    }

    // --- "Dân vận khéo" models ---------------------------------------------------

    pub async fn models(&self, plan_id: &str) -> Result<Vec<ModelRow>, StoreError> {
        let rows = on_pool!(&self.pool, db => sqlx::query(&format!("SELECT {MODEL_COLUMNS} FROM movement_models WHERE plan_id = $1 ORDER BY id"))
            .bind(plan_id)
            .fetch_all(db)
            .await?.into_iter().map(DbRow::from).collect::<Vec<DbRow>>());
        rows.iter().map(model_from_row).collect()
    }

    pub async fn model(&self, id: i64) -> Result<Option<ModelRow>, StoreError> {
        let row = on_pool!(&self.pool, db => sqlx::query(&format!("SELECT {MODEL_COLUMNS} FROM movement_models WHERE id = $1"))
            .bind(id)
            .fetch_optional(db)
            .await?.map(DbRow::from));
        row.as_ref().map(model_from_row).transpose()
    }

    /// Registers a model; logged with its date (audit log).
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_model(
        &self,
        plan_id: &str,
        unit_id: &str,
        name: &str,
        field: ModelField,
        description: &str,
        registered_on: NaiveDate,
        user_id: i64,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_immediate().await?;
        let id: i64 = on_tx!(&mut tx, db => sqlx::query_scalar(
            "INSERT INTO movement_models (plan_id, unit_id, name, field, description, registered_on, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(plan_id)
        .bind(unit_id)
        .bind(name)
        .bind(field.as_str())
        .bind(description)
        .bind(registered_on.to_string())
        .bind(user_id)
        .bind(ts(now))
        .fetch_one(&mut *db)
        .await?);
        let detail = format!("«{name}» đăng ký ngày {}", format_date(registered_on));
        model_audit(&mut tx, actor, "model.register", id, unit_id, detail, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Records the recognition of `model` (again: a corrected date), logged with
    /// the date it replaces.
    pub async fn recognise_model(
        &self,
        model: &ModelRow,
        on: NaiveDate,
        user_id: i64,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_immediate().await?;
        on_tx!(&mut tx, db => { sqlx::query("UPDATE movement_models SET recognised_on = $1, recognised_by = $2 WHERE id = $3")
            .bind(on.to_string())
            .bind(user_id)
            .bind(model.id)
            .execute(&mut *db)
            .await?; });
        let mut detail = format!("«{}» công nhận ngày {}", model.name, format_date(on));
        if let Some(old) = model.recognised_on {
            detail.push_str(&format!(" (trước: {})", format_date(old)));
        }
        model_audit(&mut tx, actor, "model.recognise", model.id, &model.unit_id, detail, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records the commendation of `model`, logged with what it replaces.
    pub async fn commend_model(
        &self,
        model: &ModelRow,
        on: NaiveDate,
        note: &str,
        user_id: i64,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_immediate().await?;
        on_tx!(&mut tx, db => { sqlx::query("UPDATE movement_models SET commended_on = $1, commendation = $2, commended_by = $3 WHERE id = $4")
            .bind(on.to_string())
            .bind(note)
            .bind(user_id)
            .bind(model.id)
            .execute(&mut *db)
            .await?; });
        let mut detail = format!("«{}» khen thưởng ngày {}: {note}", model.name, format_date(on));
        if let (Some(old), Some(old_note)) = (model.commended_on, model.commendation.as_deref()) {
            detail.push_str(&format!(" (trước: {} — {old_note})", format_date(old)));
        }
        model_audit(&mut tx, actor, "model.commend", model.id, &model.unit_id, detail, now).await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn model_audit(
    tx: &mut super::Tx,
    actor: &Actor,
    action: &str,
    id: i64,
    unit_id: &str,
    detail: String,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let target = format!("model:{id}");
    let audit = NewAudit { action, target: Some(&target), unit_id: Some(unit_id), detail: Some(detail) };
    append_audit(tx, actor, &audit, now).await
}
