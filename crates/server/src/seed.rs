//! The demo accounts (`DANVAN_DEMO`); the shipped units and plans are data
//! packages (`catalog/packages.rs`).

use danvan_core::api::Role;

pub struct DemoAccount {
    pub username: &'static str,
    pub password: &'static str,
    pub display_name: &'static str,
    pub role: Role,
    pub unit_id: &'static str,
}

pub use danvan_core::account::DEMO_PASSWORD;

/// Created (if absent) when `DANVAN_DEMO` is on.
pub const DEMO_ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        username: "xa.dakbla",
        password: DEMO_PASSWORD,
        display_name: "Nguyễn Thị Hoa",
        role: Role::Reporter,
        unit_id: "kontum.tpkontum.dakbla",
    },
    DemoAccount {
        username: "tp.kontum",
        password: DEMO_PASSWORD,
        display_name: "Trần Văn Minh",
        role: Role::Reviewer,
        unit_id: "kontum.tpkontum",
    },
    DemoAccount {
        username: "sonoivu",
        password: DEMO_PASSWORD,
        display_name: "Lê Thị Thu",
        role: Role::Aggregator,
        unit_id: "kontum.sonoivu",
    },
    DemoAccount {
        username: "admin",
        password: DEMO_PASSWORD,
        display_name: "Quản trị hệ thống",
        role: Role::Admin,
        // The province of today: its reach covers the Kon Tum units it took over.
        unit_id: "quangngai",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_units_exist_in_the_shipped_tree() {
        let tree =
            crate::catalog::packages::shipped_tree(chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()).unwrap();
        for a in DEMO_ACCOUNTS {
            assert!(tree.get(a.unit_id).is_some(), "demo unit {} missing from the shipped data", a.unit_id);
        }
    }
}
