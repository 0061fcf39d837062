//! The administration of the catalog over the API: unit-tree imports, plan
//! imports, drafts, copies to a new year, publishing, and moving the accounts of a
//! closed unit to its successor. Shapes shared by the server and the admin screens.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::form::ReportForm;
use crate::period::DateWindow;
use crate::plan::Plan;
use crate::plan_changes::PlanChanges;
use crate::tree_import::{RowError, TreeChanges};

/// `POST /api/admin/units/import[?commit=1]`: the preview (or the result).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnitImportResponse {
    /// No error: the file may be applied.
    pub valid: bool,
    pub committed: bool,
    pub errors: Vec<RowError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<TreeChanges>,
}

/// A plan with its report form, as imported, edited and kept in drafts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PlanDocument {
    pub plan: Plan,
    #[serde(default)]
    pub form: Option<ReportForm>,
}

/// The checks of a plan before publishing: every problem, or the changes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanCheck {
    pub valid: bool,
    pub errors: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<PlanChanges>,
    /// The version it would be (or was) published as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub committed: bool,
}

/// One plan on the administrator's list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanSummary {
    pub id: String,
    pub number: String,
    pub title: String,
    pub validity: DateWindow,
    pub demo: bool,
    /// The version phones use; None while the plan exists only as a draft.
    pub published_version: Option<u32>,
    pub published_at: Option<DateTime<Utc>>,
    pub draft: Option<DraftInfo>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DraftInfo {
    pub version: u32,
    pub saved_at: DateTime<Utc>,
    pub saved_by: String,
}

/// `GET /api/admin/plans`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlansAdminResponse {
    pub plans: Vec<PlanSummary>,
}

/// `GET /api/admin/plans/{id}/draft`: the draft and what publishing it would do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DraftResponse {
    pub doc: PlanDocument,
    pub check: PlanCheck,
    pub info: DraftInfo,
}

/// `POST /api/admin/plans/{id}/copy`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CopyPlanRequest {
    /// 2000–2100, not the source plan's own year (400 otherwise).
    #[cfg_attr(feature = "openapi", schema(minimum = 2000, maximum = 2100))]
    pub year: i32,
}

/// What a copy did that the administrator should read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CopyNotes {
    /// "Sở Kế hoạch và Đầu tư → Sở Tài chính"
    pub reassigned: Vec<String>,
    /// Units that closed without a successor: the assignment was left as it was.
    pub unresolved: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CopyPlanResponse {
    pub plan_id: String,
    pub notes: CopyNotes,
}

/// `POST /api/admin/units/{id}/move-accounts`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MoveAccountsRequest {
    /// One of the closed unit's successors.
    pub to: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MoveAccountsResponse {
    pub moved: u32,
}
