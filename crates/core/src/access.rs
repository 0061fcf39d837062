//! Who reviews which unit's reports, and which unit an official's overview opens
//! on: rules the server enforces (`crates/server/src/access.rs`) and the app
//! follows, so a button appears only where the server will honour it.

use chrono::NaiveDate;

use crate::api::Role;
use crate::unit::UnitTree;

/// Whether the role reviews (returns, accepts) anybody's reports.
pub fn is_reviewer(role: Role) -> bool {
    matches!(role, Role::Reviewer | Role::Aggregator)
}

/// Whether an official with `role` at `own_unit` may review the reports of
/// `unit_id`: a reviewer those of units under its own (its subtree and the units
/// merged into them, [`UnitTree::is_within`]), Sở Nội vụ (aggregator) those of
/// every other unit. Nobody reviews their own unit's reports, nor those of a unit
/// the tree does not hold.
pub fn may_review(tree: &UnitTree, role: Role, own_unit: &str, unit_id: &str) -> bool {
    if tree.get(unit_id).is_none() || unit_id == own_unit {
        return false;
    }
    match role {
        Role::Aggregator => true,
        Role::Reviewer => tree.is_within(unit_id, own_unit),
        Role::Reporter | Role::Admin => false,
    }
}

/// The province on `date`: the root that exists then, else the first root (a
/// tree whose province closed keeps its history readable).
pub fn province_on(tree: &UnitTree, date: NaiveDate) -> Option<&str> {
    tree.roots_on(date)
        .into_iter()
        .next()
        .or_else(|| tree.all().iter().find(|u| u.parent.is_none()))
        .map(|u| u.id.as_str())
}

/// The unit an official's overview, consolidation and obligations open on (its
/// "home unit"): the province on `date` for Sở Nội vụ and the administrator, who
/// look over everything; otherwise the official's own unit.
pub fn home_unit<'a>(tree: &'a UnitTree, role: Role, own_unit: &'a str, date: NaiveDate) -> &'a str {
    match role {
        Role::Aggregator | Role::Admin => province_on(tree, date).unwrap_or(own_unit),
        Role::Reviewer | Role::Reporter => own_unit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{OrgUnit, UnitKind};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn tree() -> UnitTree {
        let u = |id: &str, kind, parent: Option<&str>| OrgUnit::new(id, id, id, kind, parent);
        let mut old_commune = u("p.d1.old", UnitKind::Commune, Some("p.d1"));
        old_commune.valid_to = Some(d(2025, 6, 30));
        old_commune.successors = vec!["p.d2.c3".into()];
        UnitTree::new(vec![
            u("p", UnitKind::Province, None),
            u("p.snv", UnitKind::Department, Some("p")),
            u("p.d1", UnitKind::District, Some("p")),
            u("p.d1.c1", UnitKind::Commune, Some("p.d1")),
            old_commune,
            u("p.d2", UnitKind::District, Some("p")),
            u("p.d2.c3", UnitKind::Commune, Some("p.d2")),
        ])
        .unwrap()
    }

    #[test]
    fn a_reviewer_reviews_below_its_unit_and_what_merged_into_it() {
        let t = tree();
        assert!(may_review(&t, Role::Reviewer, "p.d1", "p.d1.c1"));
        assert!(!may_review(&t, Role::Reviewer, "p.d1", "p.d1"), "not its own");
        assert!(!may_review(&t, Role::Reviewer, "p.d1", "p.d2.c3"), "not another district's");
        assert!(may_review(&t, Role::Reviewer, "p.d2.c3", "p.d1.old"), "a commune merged into its unit");
        assert!(!may_review(&t, Role::Reviewer, "p.d1", "nope"));
    }

    #[test]
    fn the_aggregator_reviews_every_other_unit_and_nobody_else_reviews() {
        let t = tree();
        assert!(may_review(&t, Role::Aggregator, "p.snv", "p.d2.c3"));
        assert!(may_review(&t, Role::Aggregator, "p.snv", "p.d1"));
        assert!(!may_review(&t, Role::Aggregator, "p.snv", "p.snv"));
        assert!(!may_review(&t, Role::Aggregator, "p.snv", "nope"));
        assert!(!may_review(&t, Role::Reporter, "p.d1", "p.d1.c1"));
        assert!(!may_review(&t, Role::Admin, "p", "p.d1.c1"));
        assert!(is_reviewer(Role::Reviewer) && is_reviewer(Role::Aggregator));
        assert!(!is_reviewer(Role::Reporter) && !is_reviewer(Role::Admin));
    }

    #[test]
    fn the_home_unit_is_the_province_of_the_day_for_those_who_see_everything() {
        // A province that closed before the tree's own (merged into it).
        let mut old = OrgUnit::new("old", "old", "old", UnitKind::Province, None);
        old.valid_to = Some(d(2025, 6, 30));
        old.successors = vec!["p".into()];
        let mut units = vec![old];
        units.extend(tree().all().iter().cloned());
        let t = UnitTree::new(units).unwrap();
        assert_eq!(home_unit(&t, Role::Aggregator, "p.snv", d(2025, 3, 1)), "old");
        assert_eq!(home_unit(&t, Role::Admin, "p", d(2026, 1, 1)), "p");
        assert_eq!(home_unit(&t, Role::Reviewer, "p.d1", d(2026, 1, 1)), "p.d1");
        assert_eq!(home_unit(&t, Role::Reporter, "p.d1.c1", d(2026, 1, 1)), "p.d1.c1");
        let empty = UnitTree::partial(Vec::new());
        assert_eq!(home_unit(&empty, Role::Aggregator, "p.snv", d(2026, 1, 1)), "p.snv");
    }
}
