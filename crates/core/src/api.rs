//! The JSON shapes of the HTTP API, shared by the server and the app so the two
//! cannot drift apart.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::plan::Plan;
use crate::task::Task;
use crate::unit::OrgUnit;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserInfo {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub unit_id: String,
    pub unit_name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoginResponse {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: UserInfo,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlansResponse {
    pub plans: Vec<Plan>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnitsResponse {
    pub units: Vec<OrgUnit>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Machine-readable, stable: `unauthorized`, `forbidden`, `not_found`, ...
    pub code: String,
    /// Human-readable, in Vietnamese.
    pub message: String,
}

/// `GET /api/forms/{plan}`: the report form of a plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FormResponse {
    pub form: crate::form::ReportForm,
}
