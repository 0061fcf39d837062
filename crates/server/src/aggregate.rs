//! The dashboard and the consolidation of one unit's subtree for one period, as
//! the routes, the exports and the benchmark compute them: the store's reads put
//! through `danvan_core::aggregate`, with the caller's rights checked first.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use danvan_core::aggregate::{
    classify_once, consolidate, consolidation_sources, count_models, dashboard, implementation_plan_obligation,
    owes_implementation_plan, period_kind, AcceptedReport, Consolidation, ModelCounts, MovementModel, NO_VALUES,
};
use danvan_core::api::{DashboardResponse, ImplementationPlanRecord, ImplementationPlansResponse, ObligationCounts};
use danvan_core::time::vn_date;
use danvan_core::{Period, Plan, ReportForm, UnitTree};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::access::may_see_data_of;
use crate::error::AppError;
use crate::state::{AppState, Catalog};
use crate::store::{ModelRow, Store, User};

/// `?plan=&period=&unit=`: which plan (default: the one that applies today), which
/// period (`2024-03` or `2024`), which unit's subtree (default: the caller's own
/// unit; the province for Sở Nội vụ and the administrator).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Scope {
    /// A plan id; default: the plan that applies today (404 for an unknown one).
    pub plan: Option<String>,
    /// `YYYY-MM` or `YYYY` (400 `invalid_period` otherwise); one the plan does not
    /// cover is a 404 `period_outside_plan`.
    #[param(pattern = "^(19[0-9]{2}|[2-9][0-9]{3})(-(0[1-9]|1[0-2]))?$")]
    pub period: Option<String>,
    /// A unit id; default: the caller's own unit (the province for Sở Nội vụ and
    /// the administrator). 404 for an unknown one, 403 for one the caller may not see.
    pub unit: Option<String>,
}

/// [`Scope`] where the period is required (`require_period`): the dashboard, the
/// consolidation and its exports. Only describes the parameters in the OpenAPI
/// document (routes/dashboard.rs, routes/exports.rs); the handlers read a `Scope`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PeriodScope {
    /// A plan id; default: the plan that applies today (404 for an unknown one).
    plan: Option<String>,
    /// `YYYY-MM` or `YYYY`: 400 `invalid_period` when missing or malformed; one the
    /// plan does not cover is a 404 `period_outside_plan`.
    #[param(pattern = "^(19[0-9]{2}|[2-9][0-9]{3})(-(0[1-9]|1[0-2]))?$")]
    period: String,
    /// A unit id; default: the caller's own unit (the province for Sở Nội vụ and
    /// the administrator). 404 for an unknown one, 403 for one the caller may not see.
    unit: Option<String>,
}

/// A checked [`Scope`], with the unit tree as it was then: a past period is
/// counted over the units that existed at its deadline (2024 over Kon Tum's
/// communes and districts), a current one over today's.
pub struct Resolved<'c> {
    pub plan: &'c Plan,
    /// The root in `tree`: the unit asked for, or what stood for it then.
    pub unit_id: String,
    pub period: Option<Period>,
    pub tree: UnitTree,
}

impl Scope {
    /// Resolves the defaults and checks that `user` may see the unit's data.
    pub fn resolve<'c>(&self, catalog: &'c Catalog, user: &User) -> Result<Resolved<'c>, AppError> {
        let today = vn_date(Utc::now());
        let plan = match &self.plan {
            Some(id) => {
                catalog.plan(id).ok_or_else(|| AppError::NotFound(format!("Không có kế hoạch «{id}»").into()))?
            }
            None => catalog.default_plan(today).ok_or_else(|| AppError::NotFound("Chưa có kế hoạch nào".into()))?,
        };
        let period = match &self.period {
            Some(p) => Some(Period::parse_key(p).map_err(|_| {
                AppError::coded(
                    axum::http::StatusCode::BAD_REQUEST,
                    "invalid_period",
                    format!("Kỳ báo cáo «{p}» không hợp lệ (dạng 2024-03 hoặc 2024)"),
                )
            })?),
            None => None,
        };
        // A well-formed period the plan does not cover names nothing to show: a
        // 404, like an unknown plan or unit (a 400 is for a malformed request).
        if let Some(p) = &period {
            if !plan.covers(p) {
                return Err(AppError::coded(
                    axum::http::StatusCode::NOT_FOUND,
                    "period_outside_plan",
                    format!(
                        "{} nằm ngoài thời gian áp dụng của kế hoạch {} ({})",
                        p.label_vi(),
                        plan.number,
                        plan.validity_label()
                    ),
                ));
            }
        }
        // The day whose tree counts: the period's deadline, or (no period) today
        // within the plan's validity.
        let v = plan.validity();
        let date = period.map(|p| p.due_date()).unwrap_or_else(|| today.clamp(v.first, v.last));
        let unit_id = match &self.unit {
            Some(u) => u.clone(),
            None => danvan_core::access::home_unit(&catalog.tree, user.role, &user.unit_id, date).to_string(),
        };
        if catalog.tree.get(&unit_id).is_none() {
            return Err(AppError::NotFound(format!("Không có đơn vị «{unit_id}»").into()));
        }
        if !may_see_data_of(&catalog.tree, user, &unit_id) {
            return Err(AppError::Forbidden("Bạn không có quyền xem số liệu của đơn vị này".into()));
        }
        let (tree, root) = catalog.tree.view_on(&unit_id, date).ok_or_else(|| {
            let name = catalog.tree.get(&unit_id).map(|u| u.name.clone()).unwrap_or_default();
            AppError::NotFound(
                format!("{name} chưa hoặc không còn hoạt động vào {}", danvan_core::time::format_date(date)).into(),
            )
        })?;
        Ok(Resolved { plan, unit_id: root, period, tree })
    }
}

fn require_period(r: &Resolved) -> Result<Period, AppError> {
    r.period.ok_or_else(|| {
        AppError::coded(axum::http::StatusCode::BAD_REQUEST, "invalid_period", "Cần chọn kỳ báo cáo (period=2024-03)")
    })
}

/// The plan's report form, or a 404 naming the plan.
pub fn form_of<'c>(catalog: &'c Catalog, plan: &Plan) -> Result<&'c ReportForm, AppError> {
    catalog
        .form_for_plan(&plan.id)
        .ok_or_else(|| AppError::NotFound(format!("Kế hoạch «{}» chưa có mẫu báo cáo", plan.number).into()))
}

/// The register's models of `unit_id`'s subtree in `tree`, with unit names.
pub fn models_in(tree: &UnitTree, rows: Vec<ModelRow>, unit_id: &str) -> Vec<MovementModel> {
    rows.into_iter()
        .filter(|m| tree.is_within(&m.unit_id, unit_id))
        .map(|m| MovementModel {
            unit_name: tree.get(&m.unit_id).map(|u| u.name.clone()).unwrap_or_default(),
            id: m.id,
            plan_id: m.plan_id,
            unit_id: m.unit_id,
            name: m.name,
            field: m.field,
            description: m.description,
            registered_on: m.registered_on,
            recognised_on: m.recognised_on,
            commended_on: m.commended_on,
            commendation: m.commendation,
        })
        .collect()
}

/// The register's events over `unit_id`'s subtree within the period: reads only
/// the unit, field and dates of each model, not its texts.
async fn model_counts(
    store: &Store,
    tree: &UnitTree,
    plan: &Plan,
    unit_id: &str,
    period: &Period,
) -> Result<ModelCounts, AppError> {
    let models: Vec<MovementModel> = store
        .model_dates(&plan.id)
        .await?
        .into_iter()
        .filter(|(unit, ..)| tree.is_within(unit, unit_id))
        .map(|(unit, field, registered_on, recognised_on, commended_on)| MovementModel {
            id: 0,
            plan_id: String::new(),
            unit_id: unit,
            unit_name: String::new(),
            name: String::new(),
            field,
            description: String::new(),
            registered_on,
            recognised_on,
            commended_on,
            commendation: None,
        })
        .collect();
    let w = period.window();
    Ok(count_models(&models, w.first, w.last))
}

/// III.1 implementation plans of every unit of the subtree that owes one.
pub async fn implementation_plans(
    store: &Store,
    tree: &UnitTree,
    plan: &Plan,
    unit_id: &str,
    now: DateTime<Utc>,
) -> Result<ImplementationPlansResponse, AppError> {
    let Some((obligation_id, due)) = implementation_plan_obligation(plan) else {
        return Ok(ImplementationPlansResponse {
            obligation_id: String::new(),
            due: vn_date(now),
            records: Vec::new(),
        });
    };
    let rows: HashMap<String, _> =
        store.implementation_plans(&plan.id).await?.into_iter().map(|r| (r.unit_id.clone(), r)).collect();
    let today = vn_date(now);
    let records = tree
        .subtree(unit_id)
        .into_iter()
        .filter(|u| owes_implementation_plan(plan, u))
        .map(|u| {
            let r = rows.get(&u.id);
            ImplementationPlanRecord {
                unit_id: u.id.clone(),
                unit_name: u.name.clone(),
                state: classify_once(r.map(|r| r.issued_on), due, today),
                doc_number: r.map(|r| r.doc_number.clone()),
                issued_on: r.map(|r| r.issued_on),
                file_name: r.and_then(|r| r.file_name.clone()),
                recorded_at: r.map(|r| r.recorded_at),
            }
        })
        .collect();
    Ok(ImplementationPlansResponse { obligation_id: obligation_id.to_string(), due, records })
}

/// `GET /api/dashboard`.
pub async fn dashboard_for(
    state: &AppState,
    user: &User,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<DashboardResponse, AppError> {
    let snapshot = state.catalog();
    let catalog = &*snapshot;
    let r = scope.resolve(catalog, user)?;
    let period = require_period(&r)?;
    let summaries: HashMap<String, _> = state
        .store
        .report_summaries(&r.plan.id, &period.key())
        .await?
        .into_iter()
        .map(|s| (s.unit_id.clone(), s))
        .collect();
    let dashboard = dashboard(r.plan, &r.tree, &r.unit_id, &period, &summaries, now)
        .ok_or_else(|| AppError::NotFound("Không có đơn vị".into()))?;
    let models = model_counts(&state.store, &r.tree, r.plan, &r.unit_id, &period).await?;
    let mut plans = ObligationCounts::default();
    for rec in implementation_plans(&state.store, &r.tree, r.plan, &r.unit_id, now).await?.records {
        plans.add(rec.state);
    }
    Ok(DashboardResponse { dashboard, models, implementation_plans: plans })
}

/// `GET /api/consolidation` and the exports.
pub async fn consolidation_for(
    state: &AppState,
    user: &User,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<Consolidation, AppError> {
    let snapshot = state.catalog();
    let catalog = &*snapshot;
    let r = scope.resolve(catalog, user)?;
    let period = require_period(&r)?;
    let form = form_of(catalog, r.plan)?;
    let key = period.key();
    let accepted: std::collections::HashSet<String> =
        state.store.accepted_units(&r.plan.id, &key).await?.into_iter().collect();
    let (sources, _) =
        consolidation_sources(r.plan, &r.tree, &r.unit_id, period_kind(&period), |id| accepted.contains(id));
    // Narratives only of the direct children's own reports; figures of the rest.
    let own: Vec<&str> = sources.iter().filter(|(_, via)| via.is_none()).map(|(u, _)| u.id.as_str()).collect();
    let deep: Vec<&str> = sources.iter().filter(|(_, via)| via.is_some()).map(|(u, _)| u.id.as_str()).collect();
    let with_values = state.store.accepted_reports(&r.plan.id, &key, &own).await?;
    let figures_only = state.store.accepted_figures(&r.plan.id, &key, &deep).await?;
    let map: HashMap<String, AcceptedReport> = with_values
        .iter()
        .map(|(unit, figures, values)| (unit.clone(), AcceptedReport { figures, values }))
        .chain(
            figures_only.iter().map(|(unit, figures)| (unit.clone(), AcceptedReport { figures, values: &NO_VALUES })),
        )
        .collect();
    let models = model_counts(&state.store, &r.tree, r.plan, &r.unit_id, &period).await?;
    consolidate(r.plan, form, &r.tree, &r.unit_id, &period, &map, &models, now)
        .ok_or_else(|| AppError::NotFound("Không có đơn vị".into()))
}
