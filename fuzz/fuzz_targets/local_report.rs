//! Reports as the phone reads them back from outside its memory: the `reports`
//! of a backup file a person imports (src/storage/backup.rs decodes the file
//! with serde into `danvan_core::client::LocalReport`s) and the records of
//! IndexedDB (src/storage/mod.rs). The import then records the differences
//! as a save: `danvan_core::report::diff` from the device's values to the
//! backup's, which `apply_set` (the server's replay, the phone's own edit) must
//! turn into exactly the backup's values.
//!
//! The backup's envelope and its base64 photos are decoded in the wasm app
//! (src/storage/backup.rs), not here.
#![no_main]

use danvan_core::client::LocalReport;
use danvan_core::report::{apply_set, diff, merge3};
use danvan_core::Values;
use danvan_fuzz::assert_json_round_trip;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(reports) = serde_json::from_slice::<Vec<LocalReport>>(data) else { return };
    assert_json_round_trip(&reports);
    let mut current = Values::new();
    for saved in &reports {
        let _ = saved.report.id();
        let target: Values =
            saved.report.values.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (k.clone(), v.clone())).collect();
        let set = diff(&current, &target);
        let mut replayed = current.clone();
        apply_set(&mut replayed, &set);
        assert_eq!(replayed, target, "the import's save makes the backup's values");
        if let Some(base) = &saved.base {
            // Both sides' own changes survive a merge with no conflict.
            let m = merge3(&base.values, &saved.report.values, &base.values);
            assert!(m.conflicts.is_empty());
            assert!(m.merged.values().all(|v| !v.is_empty()));
        }
        current = target;
    }
});
