//! Unit-tree files an administrator uploads (`POST /api/admin/units/import`, the
//! `import-units` command, the shipped packages): CSV, XLSX or JSON read by
//! `catalog::unit_files::read_unit_file`, then checked and applied by
//! `danvan_core::tree_import::plan_tree_import`, onto an empty tree and onto the
//! shipped one.
//!
//! A valid import is saved and every server then loads it with `UnitTree::new`:
//! it must build, or no server starts. Its export (`export_csv`, what
//! administrators download, edit and upload again) must import back as "no
//! change".
#![no_main]

use danvan_core::tree_import::plan_tree_import;
use danvan_core::UnitTree;
use danvan_fuzz::{catalog, today};
use danvan_server::catalog::unit_files::{export_csv, read_unit_file};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let rows = match read_unit_file(data) {
        Ok(rows) => rows,
        Err(errors) => {
            assert!(!errors.is_empty() && errors.iter().all(|e| !e.message.is_empty()));
            return;
        }
    };
    assert!(rows.windows(2).all(|w| w[0].line < w[1].line), "rows keep the file's order");
    for base in [&UnitTree::default(), &catalog().tree] {
        let import = match plan_tree_import(base, &rows, today()) {
            Ok(import) => import,
            Err(errors) => {
                assert!(!errors.is_empty());
                continue;
            }
        };
        // Units are never deleted.
        assert!(base.all().iter().all(|u| import.units.iter().any(|v| v.id == u.id)));
        let tree = UnitTree::new(import.units).unwrap_or_else(|e| panic!("a valid import builds a tree: {e}"));
        let csv = export_csv(&tree);
        let again = read_unit_file(csv.as_bytes()).unwrap_or_else(|e| panic!("the export reads back: {e:?}\n{csv}"));
        let back = plan_tree_import(&tree, &again, today())
            .unwrap_or_else(|e| panic!("the export imports back: {e:?}\n{csv}"));
        assert!(back.changes.is_empty(), "the export imports as no change: {:?}\n{csv}", back.changes);
    }
});
