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

/// Created (if absent) when `DANVAN_DEMO` is on (both levels). The first three
/// sit on the Kon Tum side of the 2025 reform (their units closed on 30/06/2025:
/// they see 2024), the last three on the Quảng Ngãi side (Xã Đăk Rơ Wa took over
/// Xã Đăk Blà, Phường Kon Tum the wards of the old city): the demo's history
/// (`demo.rs`) gives each of them reports to look at.
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
    DemoAccount {
        username: "sonoivu.qn",
        password: DEMO_PASSWORD,
        display_name: "Huỳnh Thị Ngọc Lan",
        role: Role::Aggregator,
        unit_id: "quangngai.sonoivu",
    },
    DemoAccount {
        username: "xa.dakrowa",
        password: DEMO_PASSWORD,
        display_name: "Y Nga",
        role: Role::Reporter,
        // Xã Đăk Rơ Wa, the successor of Xã Đăk Blà.
        unit_id: "quangngai.23332",
    },
    DemoAccount {
        username: "phuong.kontum",
        password: DEMO_PASSWORD,
        display_name: "Đỗ Minh Khoa",
        role: Role::Reporter,
        unit_id: "quangngai.23293",
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

    #[test]
    fn the_quang_ngai_demo_units_are_the_successors_of_the_kon_tum_ones() {
        let tree =
            crate::catalog::packages::shipped_tree(chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()).unwrap();
        let unit = |username: &str| DEMO_ACCOUNTS.iter().find(|a| a.username == username).unwrap().unit_id;
        assert_eq!(tree.get(unit("xa.dakrowa")).unwrap().name, "Xã Đăk Rơ Wa");
        assert_eq!(tree.get(unit("phuong.kontum")).unwrap().name, "Phường Kon Tum");
        assert_eq!(tree.get(unit("xa.dakbla")).unwrap().successors, [unit("xa.dakrowa")]);
        assert_eq!(tree.get(unit("sonoivu")).unwrap().successors, [unit("sonoivu.qn")]);
        let mut names: Vec<_> = DEMO_ACCOUNTS.iter().map(|a| a.username).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), DEMO_ACCOUNTS.len(), "usernames are unique");
        for a in DEMO_ACCOUNTS {
            assert_eq!(danvan_core::account::check_username(a.username), Ok(()), "{}", a.username);
        }
    }
}
