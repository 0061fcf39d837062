//! Plan packages an administrator uploads (`POST /api/admin/plans/import`, drafts
//! saved from the editor, the `import-plan` command): `{"plan": …, "form": …}`
//! decoded as the server does (`ApiJson<PlanDocument>`), then
//! `catalog::plans::check_plan` against the shipped catalog, which holds plan
//! 413/KH-UBND, so a document with its id runs the evolution checks
//! (crates/core/src/form.rs `check_evolution`, crates/core/src/plan_changes.rs).
//!
//! A plan that passes is published and every screen then uses it: its periods
//! (the task list, the app's report list) must be real report periods, and the
//! copy to the next year (`copy_to_year`) must not fail.
#![no_main]

use chrono::Datelike;
use danvan_core::catalog::PlanDocument;
use danvan_core::form::PeriodKind;
use danvan_core::Period;
use danvan_fuzz::{assert_json_round_trip, catalog, decode_body};
use danvan_server::catalog::plans::{check_plan, copy_to_year, is_slug};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(doc) = decode_body::<PlanDocument>(data) else { return };
    assert_json_round_trip(&doc);
    let catalog = catalog();
    let checked = match check_plan(catalog, doc) {
        Ok(checked) => checked,
        Err(errors) => {
            assert!(!errors.is_empty() && errors.iter().all(|e| !e.is_empty()));
            return;
        }
    };
    let (plan, form) = (&checked.doc.plan, checked.doc.form.as_ref());
    assert!(is_slug(&plan.id));
    assert!(plan.validate().is_ok());
    assert!(!checked.changes.is_empty());
    let previous = catalog.plan(&plan.id).map_or(0, |p| p.version);
    assert_eq!(plan.version, previous + 1);
    if let Some(form) = form {
        assert!(form.check_definition().is_ok());
        assert_eq!(form.plan_id, plan.id);
    }
    assert_json_round_trip(&checked.doc);
    let validity = plan.validity();
    for kind in [PeriodKind::Month, PeriodKind::Year] {
        for p in plan.periods(kind) {
            assert!(plan.covers(&p));
            // A period the plan asks for has a key a report id can carry.
            assert_eq!(Period::parse_key(&p.key()), Ok(p), "{p:?} of {validity:?}");
        }
    }
    let (copy, _notes) = copy_to_year(&catalog.tree, plan, form, plan.issued_on.year() + 1);
    assert_json_round_trip(&copy);
});
