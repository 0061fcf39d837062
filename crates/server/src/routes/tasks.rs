use std::collections::HashMap;

use axum::extract::State;
use axum::Json;
use chrono::Utc;
use danvan_core::aggregate::{classify, implementation_plan_obligation, period_kind};
use danvan_core::api::{ErrorBody, TasksResponse};
use danvan_core::form::PeriodKind;
use danvan_core::task::{sort_tasks, tasks_for, PeriodRecord, Task};
use danvan_core::time::vn_date;
use danvan_core::{DueRule, OrgUnit, Plan};

use crate::auth::AuthUser;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::Store;

/// The caller's unit's obligations under every plan, with next deadlines computed
/// for today's date in Vietnam (never the server's own time zone). A one-off
/// implementation plan already recorded is done; the periodic reports of a plan
/// that has ended come with their record, period by period.
#[utoipa::path(
    get, path = "/tasks", tag = "catalog", operation_id = "list_tasks",
    responses(
        (status = 200, description = "The caller's unit's obligations", body = TasksResponse),
        (status = 404, description = "The account's unit is not in the tree (`not_found`)", body = ErrorBody),
    )
)]
pub async fn list(auth: AuthUser, State(state): State<AppState>) -> Result<Json<TasksResponse>, AppError> {
    let catalog = state.catalog();
    let unit = catalog
        .tree
        .get(&auth.user.unit_id)
        .ok_or_else(|| AppError::NotFound("Không tìm thấy đơn vị của tài khoản này".into()))?;
    let now = Utc::now();
    let today = vn_date(now);
    let mut tasks = Vec::new();
    for plan in &catalog.plans {
        let mut plan_tasks = tasks_for(plan, unit, today);
        if plan_tasks.is_empty() {
            continue;
        }
        settle(&state.store, plan, unit, &mut plan_tasks, now).await?;
        tasks.extend(plan_tasks);
    }
    sort_tasks(&mut tasks);
    Ok(Json(TasksResponse { unit: unit.clone(), today, generated_at: now, tasks }))
}

/// Fills what only the server knows: III.1 recorded (done), and each period's
/// outcome for the periodic tasks of an ended plan.
async fn settle(
    store: &Store,
    plan: &Plan,
    unit: &OrgUnit,
    tasks: &mut [Task],
    now: chrono::DateTime<Utc>,
) -> Result<(), AppError> {
    if let Some((obligation, _)) = implementation_plan_obligation(plan) {
        if tasks.iter().any(|t| t.obligation_id == obligation) {
            let recorded = store.implementation_plans(&plan.id).await?.into_iter().find(|r| r.unit_id == unit.id);
            if let Some(r) = recorded {
                for t in tasks.iter_mut().filter(|t| t.obligation_id == obligation) {
                    t.done_on = Some(r.issued_on);
                }
            }
        }
    }
    if !plan.has_ended(vn_date(now)) || !tasks.iter().any(Task::is_periodic) {
        return Ok(());
    }
    let filed: HashMap<String, _> = store.unit_report_summaries(&plan.id, &unit.id).await?.into_iter().collect();
    for t in tasks.iter_mut() {
        let kind = match t.due {
            DueRule::Monthly { .. } => PeriodKind::Month,
            DueRule::Yearly { .. } => PeriodKind::Year,
            _ => continue,
        };
        t.record = plan
            .periods(kind)
            .into_iter()
            .filter(|p| unit.valid_on(p.due_date()))
            .map(|p| {
                debug_assert_eq!(period_kind(&p), kind);
                PeriodRecord { state: classify(filed.get(&p.key()), p.deadline(), now), period: p }
            })
            .collect();
    }
    Ok(())
}
