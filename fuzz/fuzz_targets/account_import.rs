//! Account import files (`POST /api/admin/accounts/import`, the
//! `import-accounts` command): XLSX (calamine) or CSV read by
//! `tables::read_table`, the header found and every row checked by
//! `accounts::ImportFile` (crates/server/src/accounts.rs) against the shipped
//! unit tree, as `check_import` does once it has asked the database which
//! usernames are taken (here: the demo's `xa.dakbla`).
//!
//! Rows that pass are created as accounts in one go: each must be one a person
//! can sign in to, at a unit that exists, and none twice.
#![no_main]

use std::collections::HashSet;

use danvan_core::account::check_username;
use danvan_fuzz::catalog;
use danvan_server::accounts::{ImportFile, MAX_IMPORT_ROWS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = match ImportFile::read(data) {
        Ok(file) => file,
        Err(message) => {
            assert!(!message.is_empty());
            return;
        }
    };
    let usernames = file.usernames();
    assert!(!usernames.is_empty() && usernames.len() <= MAX_IMPORT_ROWS);
    let tree = &catalog().tree;
    let taken: HashSet<String> = ["xa.dakbla".to_string()].into();
    let (preview, fields) = file.check(tree, None, &taken);
    assert_eq!(preview.rows.len(), usernames.len());
    assert!(preview.file_errors.is_empty() && !preview.committed && preview.codes.is_empty());
    assert!(preview.rows.windows(2).all(|w| w[0].line < w[1].line) && preview.rows[0].line >= 2);
    assert_eq!(preview.valid, preview.rows.iter().all(|r| r.errors.is_empty()));
    if preview.valid {
        assert_eq!(fields.len(), preview.rows.len());
    }
    let mut seen = HashSet::new();
    for f in &fields {
        assert_eq!(check_username(&f.username), Ok(()), "{f:?}");
        assert!(!taken.contains(&f.username) && seen.insert(f.username.clone()), "{f:?}");
        assert!(tree.get(&f.unit_id).is_some(), "{f:?}");
        assert!(!f.display_name.is_empty() && f.display_name.chars().count() <= 100);
        assert_eq!(f.display_name.split_whitespace().collect::<Vec<_>>().join(" "), f.display_name);
    }
});
