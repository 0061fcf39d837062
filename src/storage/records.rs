use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use danvan_core::api::{LoginResponse, TasksResponse, UserInfo};
use danvan_core::{OrgUnit, Plan};

/// Who is signed in on this device. Kept across reloads, also offline: an official
/// who signed in at the district office must still see their work in the village.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: UserInfo,
}

impl From<LoginResponse> for Session {
    fn from(r: LoginResponse) -> Session {
        Session { token: r.token, expires_at: r.expires_at, user: r.user }
    }
}

/// Everything the read-only screens need, as last fetched from the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub plans: Vec<Plan>,
    pub units: Vec<OrgUnit>,
    pub tasks: TasksResponse,
    pub fetched_at: DateTime<Utc>,
    /// The server's catalog version when fetched: a pull that says another one
    /// fetches plans, units and forms again (`sync::pull_all`).
    #[serde(default)]
    pub catalog_version: i64,
}
