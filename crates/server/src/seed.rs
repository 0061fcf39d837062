//! The data the server ships with: the unit tree, the plans and their report forms
//! (embedded in the binary so it runs from any directory), plus the demo accounts.

use danvan_core::api::Role;
use danvan_core::plan::PlanError;
use danvan_core::unit::UnitTreeError;
use danvan_core::{Assignee, OrgUnit, Plan, ReportForm, UnitTree};

pub const UNITS_JSON: &str = include_str!("../../../data/seed/units/kon-tum-2024.json");
pub const PLAN_JSONS: &[(&str, &str)] =
    &[("kh-413-ubnd-2024.json", include_str!("../../../data/seed/plans/kh-413-ubnd-2024.json"))];
pub const FORM_JSONS: &[(&str, &str)] =
    &[("kh-413-ubnd-2024.json", include_str!("../../../data/seed/forms/kh-413-ubnd-2024.json"))];

#[derive(Clone, Debug)]
pub struct Seed {
    pub units: Vec<OrgUnit>,
    pub plans: Vec<Plan>,
    pub forms: Vec<ReportForm>,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("dữ liệu đơn vị (seed/units) không đọc được: {0}")]
    UnitsJson(serde_json::Error),
    #[error("cây đơn vị (seed/units) không hợp lệ: {0}")]
    Units(#[from] UnitTreeError),
    #[error("kế hoạch {file} không đọc được: {source}")]
    PlanJson { file: String, source: serde_json::Error },
    #[error("kế hoạch {file} không hợp lệ: {source}")]
    Plan { file: String, source: PlanError },
    #[error("kế hoạch {0} bị trùng mã")]
    DuplicatePlan(String),
    #[error("mẫu báo cáo {file} không đọc được: {source}")]
    FormJson { file: String, source: serde_json::Error },
    #[error("mẫu báo cáo {file} không hợp lệ: {reason}")]
    Form { file: String, reason: String },
}

impl Seed {
    /// The embedded seed, parsed and validated.
    pub fn embedded() -> Result<Seed, SeedError> {
        let mut seed = Seed::parse(UNITS_JSON, PLAN_JSONS)?;
        seed.add_forms(FORM_JSONS)?;
        Ok(seed)
    }

    /// Parses and validates report forms: a valid definition, for a plan of this
    /// seed, at most one form per plan (the form of a plan is what the app asks for).
    pub fn add_forms(&mut self, form_jsons: &[(&str, &str)]) -> Result<(), SeedError> {
        for (file, json) in form_jsons {
            let bad = |reason: String| SeedError::Form { file: file.to_string(), reason };
            let form: ReportForm =
                serde_json::from_str(json).map_err(|source| SeedError::FormJson { file: file.to_string(), source })?;
            form.check_definition().map_err(bad)?;
            if !self.plans.iter().any(|p| p.id == form.plan_id) {
                return Err(bad(format!("không có kế hoạch {}", form.plan_id)));
            }
            if self.forms.iter().any(|f| f.id == form.id || f.plan_id == form.plan_id) {
                return Err(bad(format!("trùng mẫu {} / kế hoạch {}", form.id, form.plan_id)));
            }
            self.forms.push(form);
        }
        Ok(())
    }

    /// Parses and validates: the unit tree must be a tree, every plan must pass
    /// `Plan::validate`, plan ids must be unique.
    pub fn parse(units_json: &str, plan_jsons: &[(&str, &str)]) -> Result<Seed, SeedError> {
        let units: Vec<OrgUnit> = serde_json::from_str(units_json).map_err(SeedError::UnitsJson)?;
        let tree = UnitTree::new(units.clone())?;
        let mut plans: Vec<Plan> = Vec::with_capacity(plan_jsons.len());
        for (file, json) in plan_jsons {
            let plan: Plan =
                serde_json::from_str(json).map_err(|source| SeedError::PlanJson { file: file.to_string(), source })?;
            plan.validate().map_err(|source| SeedError::Plan { file: file.to_string(), source })?;
            if plans.iter().any(|p| p.id == plan.id) {
                return Err(SeedError::DuplicatePlan(plan.id));
            }
            for id in unknown_assignees(&plan, &tree) {
                // Not fatal (the rest of the plan is usable) but the obligation
                // reaches nobody, so say so loudly.
                tracing::warn!(plan = %plan.id, unit = %id, "kế hoạch giao việc cho đơn vị không có trong danh sách đơn vị");
            }
            plans.push(plan);
        }
        Ok(Seed { units, plans, forms: Vec::new() })
    }
}

/// Unit ids a plan assigns work to that are not in the tree.
pub fn unknown_assignees(plan: &Plan, tree: &UnitTree) -> Vec<String> {
    let mut out: Vec<String> = plan
        .items
        .iter()
        .flat_map(|i| i.assigned_to.iter().chain(i.obligations.iter().flat_map(|o| o.assigned_to.iter().flatten())))
        .filter_map(|a| match a {
            Assignee::Unit(id) if tree.get(id).is_none() => Some(id.clone()),
            _ => None,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

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
        unit_id: "kontum",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_seed_is_valid_and_has_the_demo_units() {
        let seed = Seed::embedded().unwrap();
        let tree = UnitTree::new(seed.units.clone()).unwrap();
        for a in DEMO_ACCOUNTS {
            assert!(tree.get(a.unit_id).is_some(), "demo unit {} missing from the seed", a.unit_id);
        }
        assert!(seed.plans.iter().any(|p| p.number == "413/KH-UBND"));
        let form = seed.forms.iter().find(|f| f.plan_id == "kh-413-ubnd-2024").expect("the form of plan 413");
        assert_eq!(form.id, "kh-413-ubnd-2024.bao-cao");
    }

    #[test]
    fn a_form_for_an_unknown_plan_is_rejected() {
        let mut seed = Seed::embedded().unwrap();
        let json = FORM_JSONS[0].1.replace("\"plan_id\": \"kh-413-ubnd-2024\"", "\"plan_id\": \"khong-co\"");
        let err = seed.add_forms(&[("x.json", &json)]).unwrap_err();
        assert!(err.to_string().contains("khong-co"), "{err}");
        // The same form twice.
        let err = seed.add_forms(FORM_JSONS).unwrap_err();
        assert!(matches!(err, SeedError::Form { .. }), "{err}");
    }

    #[test]
    fn broken_seed_is_rejected_with_a_clear_error() {
        let err =
            Seed::parse("[{\"id\":\"a\",\"code\":\"a\",\"name\":\"A\",\"kind\":\"district\",\"parent\":\"x\"}]", &[])
                .unwrap_err();
        assert!(matches!(err, SeedError::Units(UnitTreeError::MissingParent { .. })), "{err}");
        let err = Seed::parse("[]", &[("p.json", "{\"id\": 1}")]).unwrap_err();
        assert!(err.to_string().contains("p.json"), "{err}");
    }
}
