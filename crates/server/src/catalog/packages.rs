//! The data shipped with the server, embedded so it runs from any directory, and
//! applied to a database once each (recorded in `catalog_packages`), in this
//! order, through the same checks as an administrator's import. Once applied, a
//! package is never applied again: what administrators change afterwards stays.
//!
//! - the Kon Tum unit tree of 2024 (province → departments | districts → communes);
//! - plan 413/KH-UBND (2024) and its report form;
//! - the reform of 01/07/2025: Quảng Ngãi (code 51) with its departments after
//!   Decree 150/2025 and its 96 commune-level units, every Kon Tum unit closed on
//!   30/06/2025 with its successors (`data/seed/units/quang-ngai-2025.csv`).

use chrono::{DateTime, Utc};
use danvan_core::time::vn_date;
use danvan_core::tree_import::plan_tree_import;
use danvan_core::UnitTree;

use super::plans::{check_plan, PlanDocument};
use super::unit_files::read_unit_file;
use super::{Catalog, CatalogError};
use crate::store::{Actor, NewAudit, Store};

pub enum Contents {
    Units(&'static [u8]),
    Plan { plan: &'static str, form: &'static str },
}

pub struct Package {
    pub name: &'static str,
    pub contents: Contents,
}

pub const PACKAGES: &[Package] = &[
    Package {
        name: "units/kon-tum-2024.json",
        contents: Contents::Units(include_bytes!("../../../../data/seed/units/kon-tum-2024.json")),
    },
    Package {
        name: "plans/kh-413-ubnd-2024.json",
        contents: Contents::Plan {
            plan: include_str!("../../../../data/seed/plans/kh-413-ubnd-2024.json"),
            form: include_str!("../../../../data/seed/forms/kh-413-ubnd-2024.json"),
        },
    },
    Package {
        name: "units/quang-ngai-2025.csv",
        contents: Contents::Units(include_bytes!("../../../../data/seed/units/quang-ngai-2025.csv")),
    },
];

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("gói dữ liệu {name}: {message}")]
    Invalid { name: &'static str, message: String },
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    crate::auth::hex(&Sha256::digest(bytes))
}

/// The plan and form of a plan package, parsed.
pub fn plan_document(plan: &str, form: &str) -> Result<PlanDocument, String> {
    Ok(PlanDocument {
        plan: serde_json::from_str(plan).map_err(|e| format!("kế hoạch không đọc được: {e}"))?,
        form: Some(serde_json::from_str(form).map_err(|e| format!("mẫu báo cáo không đọc được: {e}"))?),
    })
}

/// Applies every package this database has not had yet; returns their names.
pub async fn apply_shipped(store: &Store, now: DateTime<Utc>) -> Result<Vec<&'static str>, PackageError> {
    let actor = Actor { user_id: None, name: "seed".into(), address: None };
    let mut applied = Vec::new();
    for package in PACKAGES {
        if store.package_applied(package.name).await? {
            continue;
        }
        let invalid = |message: String| PackageError::Invalid { name: package.name, message };
        let catalog = Catalog::load(store).await?;
        let bytes: &[u8] = match &package.contents {
            Contents::Units(bytes) => {
                let rows = read_unit_file(bytes).map_err(|e| invalid(format!("{e:?}")))?;
                let import =
                    plan_tree_import(&catalog.tree, &rows, vn_date(now)).map_err(|e| invalid(format!("{e:?}")))?;
                if !import.changes.is_empty() {
                    let detail = format!("{}: {}", package.name, import.changes.summary_vi());
                    let audit = NewAudit {
                        action: "units.import",
                        target: Some(package.name),
                        unit_id: None,
                        detail: Some(detail),
                    };
                    store.save_units(&import.units, &actor, &audit, now).await?;
                }
                bytes
            }
            Contents::Plan { plan, form } => {
                let doc = plan_document(plan, form).map_err(invalid)?;
                // A database seeded before packages existed already has the plan.
                if catalog.plan(&doc.plan.id).is_none() {
                    let checked = check_plan(&catalog, doc).map_err(|e| invalid(e.join("; ")))?;
                    let detail = format!("{}: {}", package.name, checked.changes.summary_vi());
                    let audit = NewAudit {
                        action: "plan.publish",
                        target: Some(&checked.doc.plan.id),
                        unit_id: None,
                        detail: Some(detail),
                    };
                    store.publish_plan(&checked.doc.plan, checked.doc.form.as_ref(), &actor, &audit, now).await?;
                }
                plan.as_bytes()
            }
        };
        store.record_package(package.name, &sha256_hex(bytes), now).await?;
        tracing::info!(package = package.name, "đã nạp gói dữ liệu");
        applied.push(package.name);
    }
    Ok(applied)
}

/// Every shipped plan with its form, parsed (tests, benchmarks, examples).
pub fn shipped_plans() -> Vec<PlanDocument> {
    PACKAGES
        .iter()
        .filter_map(|p| match p.contents {
            Contents::Plan { plan, form } => Some(plan_document(plan, form).expect("shipped plans parse (tested)")),
            Contents::Units(_) => None,
        })
        .collect()
}

/// The tree every shipped package together makes, without a database (tests,
/// benchmarks, templates).
pub fn shipped_tree(today: chrono::NaiveDate) -> Result<UnitTree, String> {
    let mut tree = UnitTree::default();
    for package in PACKAGES {
        if let Contents::Units(bytes) = package.contents {
            let rows = read_unit_file(bytes).map_err(|e| format!("{}: {e:?}", package.name))?;
            let import = plan_tree_import(&tree, &rows, today).map_err(|e| format!("{}: {e:?}", package.name))?;
            tree = UnitTree::new(import.units).map_err(|e| e.to_string())?;
        }
    }
    Ok(tree)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use danvan_core::unit::Designation;
    use danvan_core::UnitKind;

    #[test]
    fn the_shipped_plan_passes_the_publishing_checks() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let catalog = Catalog { tree: shipped_tree(today).unwrap(), ..Catalog::default() };
        let plans = shipped_plans();
        assert_eq!(plans.len(), 1);
        let checked = check_plan(&catalog, plans[0].clone()).unwrap();
        assert_eq!(checked.doc.plan.number, "413/KH-UBND");
        assert!(checked.changes.new_plan);
        assert_eq!(checked.doc.plan.validity_label(), "01/02/2024 – 31/12/2024");
    }

    #[test]
    fn the_shipped_trees_make_the_2025_reform() {
        let tree = shipped_tree(NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()).unwrap();
        let before = tree.as_of(NaiveDate::from_ymd_opt(2024, 6, 1).unwrap());
        assert_eq!(before.subtree("kontum").len(), 133);
        let after = tree.as_of(NaiveDate::from_ymd_opt(2026, 12, 2).unwrap());
        let qn = after.subtree("quangngai");
        let communes: Vec<_> = qn.iter().filter(|u| u.kind == UnitKind::Commune).collect();
        assert_eq!(communes.len(), 96);
        let count = |d| communes.iter().filter(|u| u.designation() == Some(d)).count();
        assert_eq!(
            (count(Designation::Commune), count(Designation::Ward), count(Designation::SpecialZone)),
            (86, 9, 1)
        );
        assert!(qn.iter().all(|u| u.kind != UnitKind::District), "no district level");
        assert_eq!(after.roots_on(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()).len(), 1);
        // Every former Kon Tum commune has its successor; 23284 is reused.
        let old = tree.get("kontum.tpkontum.duytan").expect("Phường Duy Tân");
        assert_eq!(old.successors, ["quangngai.23284"]);
        assert_eq!(tree.get("quangngai.23284").unwrap().name, "Phường Đăk Cấm");
        let closed_communes = tree
            .all()
            .iter()
            .filter(|u| u.kind == UnitKind::Commune && u.id.starts_with("kontum."))
            .collect::<Vec<_>>();
        assert_eq!(closed_communes.len(), 102);
        assert!(closed_communes.iter().all(|u| u.successors.len() == 1 && u.valid_to.is_some()));
        assert!(tree.is_within("kontum.tpkontum.dakbla", "quangngai"));
        assert_eq!(tree.get("kontum.sonoivu").unwrap().successors, ["quangngai.sonoivu"]);
    }
}
