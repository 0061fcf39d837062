//! Who may see which units, and who may change which reports. The single place for
//! these rules; every endpoint that filters by unit (units, reports, dashboards,
//! sync pulls, attachments) goes through it.

use std::collections::HashSet;

use danvan_core::api::Role;
use danvan_core::{OrgUnit, UnitTree};

use crate::store::{DataScope, User};

/// The units `user` may see, in tree order:
/// - admin and aggregator (Sở Nội vụ): every unit;
/// - reviewer and reporter: their own unit's subtree with the history of the units
///   merged into it (`UnitTree::scope`), plus their ancestors so the app can show the
///   chain up to the province (ancestors' own data is not implied).
pub fn visible_units<'t>(tree: &'t UnitTree, user: &User) -> Vec<&'t OrgUnit> {
    match user.role {
        Role::Admin | Role::Aggregator => tree.all().iter().collect(),
        Role::Reviewer | Role::Reporter => {
            let scope = tree.scope(&user.unit_id);
            if scope.is_empty() {
                // The user's unit is gone from the tree: nothing is visible.
                return Vec::new();
            }
            let mut ids: HashSet<&str> = scope.iter().map(|u| u.id.as_str()).collect();
            // Every unit's chain up to its province, for names and the tree's shape
            // (a merged commune's former district included).
            for u in &scope {
                ids.extend(tree.ancestors(&u.id).iter().map(|a| a.id.as_str()));
            }
            tree.all().iter().filter(|u| ids.contains(u.id.as_str())).collect()
        }
    }
}

/// Whether `user` may see the data (reports, tasks) of `unit_id`: the unit lies in
/// the user's subtree, or the user sees everything. Ancestors shown for context by
/// `visible_units` are not included.
pub fn may_see_data_of(tree: &UnitTree, user: &User, unit_id: &str) -> bool {
    match user.role {
        Role::Admin | Role::Aggregator => tree.get(unit_id).is_some(),
        Role::Reviewer | Role::Reporter => tree.get(unit_id).is_some() && tree.is_within(unit_id, &user.unit_id),
    }
}

/// [`may_see_data_of`] as a filter for queries: everything, or the units of the
/// user's scope (subtree and predecessors).
pub fn data_scope(tree: &UnitTree, user: &User) -> DataScope {
    match user.role {
        Role::Admin | Role::Aggregator => DataScope::All,
        Role::Reviewer | Role::Reporter => {
            DataScope::Units(tree.scope(&user.unit_id).iter().map(|u| u.id.clone()).collect())
        }
    }
}

/// Whether `user` may file (save, submit, attach to) reports of `unit_id`: only its
/// own unit's, whatever its role, except the administrator, who manages accounts
/// and reports for nobody.
pub fn may_write_report_of(user: &User, unit_id: &str) -> bool {
    user.role != Role::Admin && user.unit_id == unit_id
}

/// Whether `user` may review (return, accept) reports of `unit_id`: the shared
/// rule, `danvan_core::access::may_review` (the app shows its buttons by it).
pub fn may_review_report_of(tree: &UnitTree, user: &User, unit_id: &str) -> bool {
    danvan_core::access::may_review(tree, user.role, &user.unit_id, unit_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use danvan_core::UnitKind;

    fn u(id: &str, kind: UnitKind, parent: Option<&str>) -> OrgUnit {
        OrgUnit::new(id, id, id, kind, parent)
    }

    fn tree() -> UnitTree {
        UnitTree::new(vec![
            u("p", UnitKind::Province, None),
            u("p.snv", UnitKind::Department, Some("p")),
            u("p.d1", UnitKind::District, Some("p")),
            u("p.d1.c1", UnitKind::Commune, Some("p.d1")),
            u("p.d1.c2", UnitKind::Commune, Some("p.d1")),
            u("p.d2", UnitKind::District, Some("p")),
            u("p.d2.c3", UnitKind::Commune, Some("p.d2")),
        ])
        .unwrap()
    }

    fn user(role: Role, unit: &str) -> User {
        User { id: 1, username: "x".into(), display_name: "X".into(), role, unit_id: unit.into() }
    }

    fn ids(units: Vec<&OrgUnit>) -> Vec<&str> {
        units.into_iter().map(|u| u.id.as_str()).collect()
    }

    #[test]
    fn commune_reporter_sees_itself_and_its_chain_only() {
        let t = tree();
        assert_eq!(ids(visible_units(&t, &user(Role::Reporter, "p.d1.c1"))), ["p", "p.d1", "p.d1.c1"]);
    }

    #[test]
    fn district_reviewer_sees_its_communes_and_the_province() {
        let t = tree();
        assert_eq!(ids(visible_units(&t, &user(Role::Reviewer, "p.d1"))), ["p", "p.d1", "p.d1.c1", "p.d1.c2"]);
    }

    #[test]
    fn aggregator_and_admin_see_everything() {
        let t = tree();
        assert_eq!(visible_units(&t, &user(Role::Aggregator, "p.snv")).len(), 7);
        assert_eq!(visible_units(&t, &user(Role::Admin, "p")).len(), 7);
    }

    #[test]
    fn department_reporter_sees_only_itself_and_the_province() {
        let t = tree();
        assert_eq!(ids(visible_units(&t, &user(Role::Reporter, "p.snv"))), ["p", "p.snv"]);
    }

    #[test]
    fn unknown_unit_sees_nothing() {
        let t = tree();
        assert!(visible_units(&t, &user(Role::Reviewer, "gone")).is_empty());
    }

    #[test]
    fn data_access_excludes_ancestors_and_siblings() {
        let t = tree();
        let reviewer = user(Role::Reviewer, "p.d1");
        assert!(may_see_data_of(&t, &reviewer, "p.d1.c2"));
        assert!(may_see_data_of(&t, &reviewer, "p.d1"));
        assert!(!may_see_data_of(&t, &reviewer, "p"));
        assert!(!may_see_data_of(&t, &reviewer, "p.d2.c3"));
        assert!(may_see_data_of(&t, &user(Role::Aggregator, "p.snv"), "p.d2.c3"));
        assert!(!may_see_data_of(&t, &user(Role::Admin, "p"), "nope"));
    }

    #[test]
    fn scope_matches_may_see_data_of() {
        let t = tree();
        assert_eq!(data_scope(&t, &user(Role::Aggregator, "p.snv")), DataScope::All);
        assert_eq!(
            data_scope(&t, &user(Role::Reviewer, "p.d1")),
            DataScope::Units(vec!["p.d1".into(), "p.d1.c1".into(), "p.d1.c2".into()])
        );
        assert_eq!(data_scope(&t, &user(Role::Reporter, "gone")), DataScope::Units(vec![]));
    }

    #[test]
    fn only_the_unit_itself_files_and_only_those_above_review() {
        let t = tree();
        assert!(may_write_report_of(&user(Role::Reporter, "p.d1.c1"), "p.d1.c1"));
        assert!(may_write_report_of(&user(Role::Reviewer, "p.d1"), "p.d1"));
        assert!(!may_write_report_of(&user(Role::Reviewer, "p.d1"), "p.d1.c1"));
        assert!(!may_write_report_of(&user(Role::Admin, "p"), "p"));

        let reviewer = user(Role::Reviewer, "p.d1");
        assert!(may_review_report_of(&t, &reviewer, "p.d1.c1"));
        assert!(!may_review_report_of(&t, &reviewer, "p.d1"), "not its own");
        assert!(!may_review_report_of(&t, &reviewer, "p.d2.c3"), "not another district's");
        let snv = user(Role::Aggregator, "p.snv");
        assert!(may_review_report_of(&t, &snv, "p.d2.c3"));
        assert!(may_review_report_of(&t, &snv, "p.d1"));
        assert!(!may_review_report_of(&t, &snv, "p.snv"));
        assert!(!may_review_report_of(&t, &snv, "nope"));
        assert!(!may_review_report_of(&t, &user(Role::Reporter, "p.d1"), "p.d1.c1"));
        assert!(!may_review_report_of(&t, &user(Role::Admin, "p"), "p.d1.c1"));
    }

    #[test]
    fn a_merged_commune_sees_what_its_predecessors_filed() {
        let end = chrono::NaiveDate::from_ymd_opt(2025, 6, 30);
        let start = chrono::NaiveDate::from_ymd_opt(2025, 7, 1);
        let mut units = tree().all().to_vec();
        for x in &mut units {
            x.valid_to = end;
        }
        units.iter_mut().find(|x| x.id == "p").unwrap().successors = vec!["q".into()];
        units.iter_mut().find(|x| x.id == "p.d1.c1").unwrap().successors = vec!["q.x".into()];
        units.iter_mut().find(|x| x.id == "p.d1.c2").unwrap().successors = vec!["q.x".into()];
        let mut q = u("q", UnitKind::Province, None);
        q.valid_from = start;
        let mut x = u("q.x", UnitKind::Commune, Some("q"));
        x.valid_from = start;
        units.extend([q, x]);
        let t = UnitTree::new(units).unwrap();
        let reporter = user(Role::Reporter, "q.x");
        assert!(may_see_data_of(&t, &reporter, "p.d1.c1"));
        assert!(may_see_data_of(&t, &reporter, "p.d1.c2"));
        assert!(!may_see_data_of(&t, &reporter, "p.d1"), "not the former district's own data");
        assert!(!may_see_data_of(&t, &reporter, "p.d2.c3"));
        assert_eq!(data_scope(&t, &reporter), DataScope::Units(vec!["p.d1.c1".into(), "p.d1.c2".into(), "q.x".into()]));
        assert!(!may_write_report_of(&reporter, "p.d1.c1"), "history is read, not rewritten");
        let old_reporter = user(Role::Reporter, "p.d1.c1");
        assert!(!may_see_data_of(&t, &old_reporter, "q.x"), "a closed unit does not see its successor");
    }
}
