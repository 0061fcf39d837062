//! The JSON shapes of the HTTP API, shared by the server and the app so the two
//! cannot drift apart.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::plan::Plan;
use crate::task::Task;
use crate::unit::OrgUnit;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Files reports for its own unit (a commune, department or district).
    Reporter,
    /// Reviews the reports of the units below its own (a district or department).
    Reviewer,
    /// Consolidates the whole province (Sở Nội vụ).
    Aggregator,
    Admin,
}

impl Role {
    pub fn label_vi(self) -> &'static str {
        match self {
            Role::Reporter => "Cán bộ báo cáo",
            Role::Reviewer => "Cán bộ thẩm định",
            Role::Aggregator => "Tổng hợp cấp tỉnh",
            Role::Admin => "Quản trị",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Role::Reporter => "Reporting officer",
            Role::Reviewer => "Reviewer",
            Role::Aggregator => "Province consolidation",
            Role::Admin => "Administrator",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// The app's build, shown in the device list.
    #[serde(default)]
    pub app_version: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserInfo {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub unit_id: String,
    pub unit_name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    /// The bearer token for `Authorization: Bearer …` (43 characters, base64url).
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: UserInfo,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlansResponse {
    pub plans: Vec<Plan>,
    /// The catalog version these plans are from (see `sync::PullResponse`).
    #[serde(default)]
    pub catalog_version: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnitsResponse {
    pub units: Vec<OrgUnit>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TasksResponse {
    pub unit: OrgUnit,
    /// The server's Vietnam date the deadlines were computed for; the app recomputes
    /// for its own day when offline.
    pub today: NaiveDate,
    pub generated_at: DateTime<Utc>,
    pub tasks: Vec<Task>,
}

/// Every error from the API: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Error))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Machine-readable, stable: `unauthorized`, `forbidden`, `not_found`,
    /// `bad_request`, `payload_too_large`, `method_not_allowed`, `unavailable`,
    /// `timeout`, `body_timeout`, `internal`, `too_many_attempts`, or an endpoint's own
    /// code (each operation lists its own).
    pub code: String,
    /// Human-readable, in Vietnamese.
    pub message: String,
}

/// `GET /api/forms/{plan}`: the report form of a plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FormResponse {
    pub form: crate::form::ReportForm,
}

// ---------------------------------------------------------------------------
// Review, dashboard, consolidation, plan obligations and the movement.

use crate::aggregate::{Consolidation, Dashboard, ModelCounts, ModelField, MovementModel, ObligationState};

/// `GET /api/dashboard?plan=&period=&unit=`: completeness and timeliness of the
/// unit's subtree (`unit` defaults to the caller's own unit, or the province root for
/// Sở Nội vụ and the administrator).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DashboardResponse {
    pub dashboard: Dashboard,
    /// "Dân vận khéo" events over the subtree within the period's window.
    pub models: ModelCounts,
    /// III.1 implementation plans over the subtree (units that owe one).
    pub implementation_plans: ObligationCounts,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ObligationCounts {
    pub done: u32,
    pub late: u32,
    pub missing: u32,
    pub not_due: u32,
}

impl ObligationCounts {
    pub fn add(&mut self, s: ObligationState) {
        match s {
            ObligationState::Done => self.done += 1,
            ObligationState::Late => self.late += 1,
            ObligationState::Missing => self.missing += 1,
            ObligationState::NotDue => self.not_due += 1,
        }
    }
}

/// `GET /api/consolidation?plan=&period=&unit=`.
pub type ConsolidationResponse = Consolidation;

/// One unit's III.1 implementation plan (its own document), or its absence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImplementationPlanRecord {
    pub unit_id: String,
    pub unit_name: String,
    pub state: ObligationState,
    #[serde(default)]
    pub doc_number: Option<String>,
    #[serde(default)]
    pub issued_on: Option<NaiveDate>,
    /// Name of the attached file (the document itself), if one was uploaded.
    #[serde(default)]
    pub file_name: Option<String>,
    #[serde(default)]
    pub recorded_at: Option<DateTime<Utc>>,
}

/// `GET /api/implementation-plans?plan=&unit=`: every unit of the subtree that owes one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImplementationPlansResponse {
    pub obligation_id: String,
    pub due: NaiveDate,
    pub records: Vec<ImplementationPlanRecord>,
}

/// `PUT /api/implementation-plans/{plan}/{unit}`: the unit records its document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImplementationPlanInput {
    /// The document's number and symbol; 1–200 characters once trimmed (400 `invalid`).
    #[cfg_attr(feature = "openapi", schema(max_length = 200, pattern = r"\S"))]
    pub doc_number: String,
    /// Not after today, Vietnam time (400 `invalid`).
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "^(?:[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)$"
        )
    )]
    pub issued_on: NaiveDate,
}

/// `GET /api/models?plan=&unit=`: the register over the subtree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelsResponse {
    pub models: Vec<MovementModel>,
}

/// `POST /api/models`: a unit registers a model of its own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewModel {
    pub plan_id: String,
    /// The caller's own unit (403 otherwise).
    pub unit_id: String,
    /// 1–200 characters once trimmed (400 `invalid`).
    #[cfg_attr(feature = "openapi", schema(max_length = 200, pattern = r"\S"))]
    pub name: String,
    pub field: ModelField,
    /// At most 4000 characters (400 `invalid`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 4000))]
    pub description: String,
    /// Defaults to today (Vietnam time); not after today (400 `invalid`).
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "^(?:[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)$"
        )
    )]
    pub registered_on: Option<NaiveDate>,
}

/// `POST /api/models/{id}/recognise` and `/commend`: a unit above records the step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelStep {
    /// Defaults to today (Vietnam time); neither after today nor before the previous
    /// step (400 `invalid`).
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "^(?:[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)$"
        )
    )]
    pub on: Option<NaiveDate>,
    /// The commendation (e.g. "Bằng khen của UBND tỉnh"), for `/commend`, where it
    /// is required: 1–200 characters once trimmed (400 `invalid`). Ignored by
    /// `/recognise`.
    #[serde(default)]
    pub note: Option<String>,
}

// ---------------------------------------------------------------------------
// A report's history.

/// One change of a report as `GET /api/reports/{id}/revisions` lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Revision {
    pub version: u64,
    /// `save`, `submit`, `return` or `accept` (`MutationOp::name`).
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::sync::op_name_schema))]
    pub op: String,
    /// The author's display name.
    pub user: String,
    #[serde(default)]
    pub client_id: String,
    pub created_at: DateTime<Utc>,
    /// The status after this change.
    pub status: crate::ReportStatus,
    /// Fields whose value differs from the previous revision ("" = cleared).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::form::values_schema))]
    pub changes: crate::Values,
    /// The return reason, on a `return`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Revisions in one answer unless the request asks for fewer.
pub const REVISIONS_PAGE: u32 = 30;
/// The most revisions one answer carries.
pub const MAX_REVISIONS_PAGE: u32 = 100;

/// `GET /api/reports/{id}/revisions?before=&limit=`: the newest `limit` revisions
/// with a version below `before` (all of them when absent).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevisionsQuery {
    #[serde(default)]
    pub before: Option<u64>,
    #[serde(default)]
    pub limit: Option<u32>,
}

/// One page of a report's history, oldest first. A long-edited report's history
/// comes in pages so the review screen opens on 2G; the newest page first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevisionsResponse {
    pub revisions: Vec<Revision>,
    /// Older revisions exist: ask again with `before` set to this version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earlier: Option<u64>,
}
