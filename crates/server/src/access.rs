//! Who may see which units. The single place for the rule; every endpoint that
//! filters by unit (units, reports, dashboards, sync pulls) goes through it.

use std::collections::HashSet;

use danvan_core::api::Role;
use danvan_core::{OrgUnit, UnitTree};

use crate::store::User;

/// The units `user` may see, in tree order:
/// - admin and aggregator (Sở Nội vụ): every unit;
/// - reviewer and reporter: their own unit's subtree, plus their ancestors so the
///   app can show the chain up to the province (ancestors' own data is not implied).
pub fn visible_units<'t>(tree: &'t UnitTree, user: &User) -> Vec<&'t OrgUnit> {
    match user.role {
        Role::Admin | Role::Aggregator => tree.all().iter().collect(),
        Role::Reviewer | Role::Reporter => {
            let mut ids: HashSet<&str> = tree.subtree(&user.unit_id).iter().map(|u| u.id.as_str()).collect();
            if ids.is_empty() {
                // The user's unit is gone from the tree: nothing is visible.
                return Vec::new();
            }
            ids.extend(tree.ancestors(&user.unit_id).iter().map(|u| u.id.as_str()));
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

#[cfg(test)]
mod tests {
    use super::*;
    use danvan_core::UnitKind;

    fn u(id: &str, kind: UnitKind, parent: Option<&str>) -> OrgUnit {
        OrgUnit { id: id.into(), code: id.into(), name: id.into(), kind, parent: parent.map(Into::into) }
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
}
