//! The push algorithm (protocol types in crates/core/src/sync.rs): each mutation of a push in its own
//! write transaction, answered exactly once. The SQL is in `store::sync`; the report
//! state machine and validation are `danvan_core::sync::apply_op`, the very code the
//! phone runs, so the server never disagrees with the app about what is valid.
//!
//! Per mutation, in one transaction:
//! - register the client on first sight (to the caller);
//! - `id ≤ last_mutation_id`: a replay, answered from `mutation_results`;
//! - `id > last + 1`: a gap, the batch stops (`stopped: "gap"`);
//! - otherwise decide (hash, authorization, validity, conflict, `apply_op`), record
//!   the answer and move `last_mutation_id` to `id` together, so a mutation is never
//!   half-done and the queue never wedges on one that can never apply.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use danvan_core::plan::DueRule;
use danvan_core::report::ReportKey;
use danvan_core::sync::{
    apply_op, Mutation, MutationOp, MutationOutcome, MutationResult, PushRequest, PushResponse, MAX_PUSH_MUTATIONS,
    SYNC_SCHEMA_VERSION,
};
use danvan_core::{Plan, Report};

use crate::access::{may_review_report_of, may_write_report_of};
use crate::error::AppError;
use crate::state::{AppState, Catalog};
use crate::store::{Client, NewRevision, User, WriteTx};

/// Longest client id (made on the device).
pub const MAX_CLIENT_ID_CHARS: usize = 64;

/// `stopped` when the batch ended at a gap in the mutation ids.
pub const STOPPED_GAP: &str = "gap";
/// `stopped` when the batch ended after a mutation the caller may not make.
pub const STOPPED_FORBIDDEN: &str = "forbidden";

pub const CODE_FORBIDDEN: &str = "forbidden";

pub const MSG_CLIENT_FORBIDDEN: &str =
    "Thiết bị này đã được đăng ký cho tài khoản khác hoặc đã bị thu hồi; hãy đăng nhập lại trên thiết bị";

pub use danvan_core::report::is_plain_id;

fn bad_request(code: &'static str, message: impl Into<crate::error::Msg>) -> AppError {
    AppError::coded(StatusCode::BAD_REQUEST, code, message)
}

pub fn check_client_id(id: &str) -> Result<(), AppError> {
    if is_plain_id(id) {
        Ok(())
    } else {
        Err(bad_request("invalid_client_id", "Mã thiết bị không hợp lệ (1–64 ký tự chữ, số, _ hoặc -)"))
    }
}

/// 403 `client_forbidden` unless the client is new or the caller's own and live.
pub fn check_client_owner(client: Option<&Client>, user: &User) -> Result<(), AppError> {
    match client {
        Some(c) if c.user_id != user.id || c.revoked => {
            Err(AppError::coded(StatusCode::FORBIDDEN, "client_forbidden", MSG_CLIENT_FORBIDDEN))
        }
        _ => Ok(()),
    }
}

/// 409 `epoch_mismatch` (with the server's epoch) when the client synced with
/// another database (this one was restored from a backup or replaced).
fn check_epoch(epoch: Option<&str>, server: &str) -> Result<(), AppError> {
    match epoch {
        Some(e) if e != server => Err(AppError::coded(
            StatusCode::CONFLICT,
            "epoch_mismatch",
            "Dữ liệu trên máy chủ đã được khôi phục hoặc thay mới; ứng dụng cần đồng bộ lại từ đầu",
        )
        .with_field("epoch", server.into())),
        _ => Ok(()),
    }
}

/// Checks of the request as a whole: when one fails nothing is processed.
pub fn check_request(req: &PushRequest, server_epoch: &str) -> Result<(), AppError> {
    if req.schema_version != SYNC_SCHEMA_VERSION {
        return Err(bad_request(
            "unsupported_schema",
            format!(
                "Phiên bản dữ liệu đồng bộ {} không được hỗ trợ (máy chủ dùng {SYNC_SCHEMA_VERSION}); hãy cập nhật ứng dụng",
                req.schema_version
            ),
        ));
    }
    check_client_id(&req.client_id)?;
    if req.mutations.len() > MAX_PUSH_MUTATIONS {
        return Err(bad_request(
            "too_many_mutations",
            format!("Mỗi lần gửi tối đa {MAX_PUSH_MUTATIONS} thao tác (nhận được {})", req.mutations.len()),
        ));
    }
    // Ids and versions are INTEGER (i64) in the database; attachment sizes are
    // held to the same range (the API description says so of every integer).
    let max = i64::MAX as u64;
    let attach_sizes = |m: &Mutation| match &m.op {
        MutationOp::Save { attach, .. } => attach.iter().any(|a| a.size > max),
        _ => false,
    };
    if let Some(m) = req.mutations.iter().find(|m| m.id == 0 || m.id > max || m.base_version > max || attach_sizes(m)) {
        return Err(bad_request("invalid_mutation", format!("Thao tác {} có mã hoặc phiên bản không hợp lệ", m.id)));
    }
    check_epoch(req.epoch.as_deref(), server_epoch)
}

/// Runs a push for `user` in a write transaction of its own. Errors are
/// whole-request failures: a 4xx before anything was processed, or a 503/500 for a
/// database failure, in which case nothing of the batch was committed and a retry
/// does it all again.
///
/// The request handler goes through [`crate::push_queue::PushQueue`] instead,
/// which commits concurrent pushes together; this direct path is for the demo's
/// history (`demo.rs`), which files its reports at the times they would have been
/// filed (`now`).
pub async fn push_at(
    state: &AppState,
    user: &User,
    req: PushRequest,
    now: DateTime<Utc>,
) -> Result<PushResponse, AppError> {
    check_before_lock(state, user, &req).await?;
    let mut tx = state.store.begin_write().await?;
    reload_catalog_if_moved(state, &tx).await?;
    let res = push_in(&mut tx, state, user, &req, now).await?;
    tx.commit().await?;
    Ok(res)
}

/// What can be refused before taking the write lock: the request as a whole, and
/// someone else's client id.
pub async fn check_before_lock(state: &AppState, user: &User, req: &PushRequest) -> Result<(), AppError> {
    check_request(req, &state.epoch)?;
    check_client_owner(state.store.client(&req.client_id).await?.as_ref(), user)
}

/// Another server process (or `danvan-server import-units`) changed the units or
/// plans since this one loaded them: check against the new ones, not what the
/// periodic reload (`catalog::watch`) would bring in a few seconds.
pub async fn reload_catalog_if_moved(state: &AppState, tx: &WriteTx) -> Result<(), AppError> {
    if tx.catalog_version() > state.catalog().version {
        state.catalog_cell.reload(&state.store).await.map_err(AppError::internal)?;
    }
    Ok(())
}

/// One push inside a write transaction the caller commits: each mutation's change,
/// its recorded result and the client's `last_mutation_id` are written in it, so a
/// mutation is applied, answered and acknowledged together or not at all, and
/// the whole batch pays one `fsync` (synchronous=FULL) instead of one per
/// mutation.
pub async fn push_in(
    tx: &mut WriteTx,
    state: &AppState,
    user: &User,
    req: &PushRequest,
    now: DateTime<Utc>,
) -> Result<PushResponse, AppError> {
    let mut results = Vec::with_capacity(req.mutations.len());
    let mut stopped = None;
    let client = tx.ensure_client(&req.client_id, user.id, now).await?;
    // Checked again inside the lock: another user may have registered the id since.
    check_client_owner(Some(&client), user)?;
    let mut last_mutation_id = client.last_mutation_id;
    for m in &req.mutations {
        match process(tx, state, user, &req.client_id, m, last_mutation_id, now).await? {
            Step::Replay { result } => {
                results.push(MutationOutcome { id: m.id, result });
            }
            Step::Gap => {
                stopped = Some(STOPPED_GAP.to_string());
                break;
            }
            Step::Recorded(result) => {
                last_mutation_id = m.id;
                let forbidden = is_forbidden(&result);
                results.push(MutationOutcome { id: m.id, result });
                if forbidden {
                    // The caller tried something outside its rights: answer it
                    // (recorded, so the queue moves on) but do no more in this push.
                    stopped = Some(STOPPED_FORBIDDEN.to_string());
                    break;
                }
            }
        }
    }
    if last_mutation_id != client.last_mutation_id {
        tx.set_last_mutation_id(&req.client_id, last_mutation_id, now).await?;
    }
    Ok(PushResponse { epoch: state.epoch.to_string(), last_mutation_id, results, stopped })
}

/// Whether the outcome is a refusal for lack of rights (the push answers 403).
pub fn is_forbidden(result: &MutationResult) -> bool {
    matches!(result, MutationResult::Rejected { code, .. } if code == CODE_FORBIDDEN)
}

/// What became of one mutation.
enum Step {
    Replay {
        result: MutationResult,
    },
    /// The mutation does not follow the client's last one: stop.
    Gap,
    Recorded(MutationResult),
}

/// One mutation, inside the push's write transaction.
async fn process(
    tx: &mut WriteTx,
    state: &AppState,
    user: &User,
    client_id: &str,
    m: &Mutation,
    last: u64,
    now: chrono::DateTime<Utc>,
) -> Result<Step, AppError> {
    let catalog = state.catalog();
    if m.id <= last {
        let result = match tx.stored_result(client_id, m.id).await? {
            Some(stored) if stored.content_hash == m.content_hash => stored.result,
            Some(_) => rejected(
                "replay_mismatch",
                format!("Mã thao tác {} đã được dùng cho một nội dung khác; thao tác này không được áp dụng", m.id),
            ),
            // Only if results were pruned; nothing to answer but that it is done.
            None => rejected("unknown_mutation", format!("Thao tác {} đã được xử lý trước đây", m.id)),
        };
        return Ok(Step::Replay { result });
    }
    if m.id > last + 1 {
        return Ok(Step::Gap);
    }
    let result = decide(tx, &catalog, user, client_id, m, now).await?;
    tx.record_result(client_id, m.id, &m.content_hash, &result, now).await?;
    Ok(Step::Recorded(result))
}

fn rejected(code: &str, message: impl Into<String>) -> MutationResult {
    MutationResult::Rejected { code: code.to_string(), message: message.into() }
}

/// What becomes of a new mutation; applies it (report row and revision) when it
/// applies.
async fn decide(
    tx: &mut WriteTx,
    catalog: &Catalog,
    user: &User,
    client_id: &str,
    m: &Mutation,
    now: DateTime<Utc>,
) -> Result<MutationResult, AppError> {
    if m.content_hash != m.expected_hash() {
        return Ok(rejected("bad_hash", "Nội dung thao tác không khớp mã kiểm tra; thao tác không được áp dụng"));
    }
    if let Some(message) = unauthorized(catalog, user, m) {
        return Ok(rejected(CODE_FORBIDDEN, message));
    }
    let form = match valid_target(catalog, m) {
        Ok(form) => form,
        Err(message) => return Ok(rejected("invalid", message)),
    };

    let id = m.key.id();
    let mut report = match tx.report(&id).await? {
        Some(r) => r,
        None if m.op.is_reporters() => Report::new(m.key.clone(), &form.id),
        None => return Ok(rejected("not_found", "Báo cáo này chưa có trên máy chủ")),
    };
    // A base that is not the current version is a conflict only if someone else
    // moved the report since: a device sends its second edit on the same base as
    // its first when it has not yet received the first one's acknowledgement, and
    // that chain of its own must apply.
    if m.base_version != report.version
        && (m.base_version > report.version || tx.changed_by_others_since(&id, m.base_version, client_id).await?)
    {
        return Ok(MutationResult::Conflict { server: Box::new(report) });
    }
    let first_submission = report.first_submitted_at.is_none();
    let before = (m.op.is_save()).then(|| (report.values.clone(), report.attachments.clone()));
    if let Err(rejection) = apply_op(&mut report, &m.op, form, now) {
        return Ok(rejection.into_result());
    }
    // A save that changes nothing (the same values typed again, a folded edit
    // undone) is acknowledged at the current version: no revision, no new version,
    // so the history and the reviewers' pulls carry only real changes.
    if before.is_some_and(|(values, attachments)| values == report.values && attachments == report.attachments) {
        return Ok(MutationResult::Applied { version: report.version });
    }
    // The phone's clock at "Gửi", kept beside the server's receipt (README, "Đúng
    // hạn hay trễ hạn").
    if first_submission && matches!(m.op, danvan_core::sync::MutationOp::Submit) {
        report.first_sent_on_device_at = m.device_time;
    }
    report.version += 1;
    report.updated_at = Some(now);
    report.updated_by = Some(user.display_name.clone());
    let plan_version = if m.op.is_reporters() { catalog.plan(&m.key.plan_id).map_or(1, |p| p.version) } else { 0 };
    let revision = NewRevision { client_id, mutation_id: m.id, user_id: user.id, op: &m.op, at: now, plan_version };
    tx.save_report(&report, &danvan_core::aggregate::figures(form, &report.values), &revision).await?;
    Ok(MutationResult::Applied { version: report.version })
}

/// Why `user` may not make this mutation (Vietnamese), or None.
fn unauthorized(catalog: &Catalog, user: &User, m: &Mutation) -> Option<String> {
    let unit = &m.key.unit_id;
    if m.op.is_reporters() {
        (!may_write_report_of(user, unit)).then(|| "Bạn chỉ được lập và gửi báo cáo của đơn vị mình".to_string())
    } else {
        (!may_review_report_of(&catalog.tree, user, unit))
            .then(|| "Bạn không có quyền trả lại hoặc tiếp nhận báo cáo của đơn vị này".to_string())
    }
}

/// The form the mutation's report uses, if the report can exist at all: a known
/// plan with a form, a known unit, a period kind the plan asks for, and (for a save
/// naming its form) the plan's form.
pub fn valid_target<'c>(catalog: &'c Catalog, m: &Mutation) -> Result<&'c danvan_core::ReportForm, String> {
    let form = report_form(catalog, &m.key)?;
    if let danvan_core::sync::MutationOp::Save { form_id, .. } = &m.op {
        if !form_id.is_empty() && *form_id != form.id {
            let plan = catalog.plan(&m.key.plan_id).map_or(m.key.plan_id.as_str(), |p| p.number.as_str());
            return Err(format!("Mẫu báo cáo «{form_id}» không phải mẫu hiện hành của kế hoạch «{plan}»"));
        }
    }
    Ok(form)
}

/// The form of the report `key` names, or why there is no such report to file
/// (no such plan or unit, a period the plan does not ask for, outside its
/// validity): what a push and an upload both check.
pub fn report_form<'c>(catalog: &'c Catalog, key: &ReportKey) -> Result<&'c danvan_core::ReportForm, String> {
    let ReportKey { plan_id, unit_id, .. } = key;
    let plan = catalog.plan(plan_id).ok_or_else(|| format!("Không có kế hoạch «{plan_id}»"))?;
    let unit = catalog.tree.get(unit_id).ok_or_else(|| format!("Không có đơn vị «{unit_id}»"))?;
    if let Some(problem) = plan.report_problem(unit, &key.period) {
        return Err(problem);
    }
    let form =
        catalog.form_for_plan(plan_id).ok_or_else(|| format!("Kế hoạch «{}» chưa có mẫu báo cáo", plan.number))?;
    if !plan_asks_for(plan, key) {
        return Err(format!("Kế hoạch «{}» không yêu cầu báo cáo {}", plan.number, key.period.label_vi()));
    }
    Ok(form)
}

/// Whether the plan has a monthly (yearly) reporting obligation for a monthly
/// (yearly) period.
fn plan_asks_for(plan: &Plan, key: &ReportKey) -> bool {
    use danvan_core::form::PeriodKind;
    let kind = key.period_kind();
    plan.items.iter().flat_map(|i| &i.obligations).any(|o| match o.due {
        DueRule::Monthly { .. } => kind == PeriodKind::Month,
        DueRule::Yearly { .. } => kind == PeriodKind::Year,
        DueRule::Once { .. } | DueRule::Continuous => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_ids_are_short_and_plain() {
        assert!(is_plain_id("a"));
        assert!(is_plain_id("0190f3a2-7c1e_Ab"));
        assert!(is_plain_id(&"x".repeat(64)));
        assert!(!is_plain_id(&"x".repeat(65)));
        assert!(!is_plain_id(""));
        assert!(!is_plain_id("a b"));
        assert!(!is_plain_id("điện-thoại"));
        assert!(!is_plain_id("a/../b"));
    }
}
