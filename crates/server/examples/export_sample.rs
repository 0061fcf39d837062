//! Writes `docs/screenshots/export-sample.docx`: the Word report of a sample
//! consolidation (Thành phố Kon Tum, March 2024, three accepted commune reports)
//! built from the embedded seed. The README's `docs/screenshots/export.png` is its
//! first page:
//!
//! ```sh
//! cargo run -p danvan-server --example export_sample
//! soffice --headless --convert-to pdf --outdir /tmp docs/screenshots/export-sample.docx
//! pdftoppm -png -r 80 -singlefile /tmp/export-sample.pdf docs/screenshots/export
//! ```
//!
//! `export_sample OUT.docx UNIT_ID` writes elsewhere, headed as another unit would
//! head it (e.g. `kontum.sonoivu` for a department), to look at other layouts.

use std::path::PathBuf;

use chrono::NaiveDate;
use danvan_server::export::{default_recipients, docx, sample_consolidation, DocxInput, IssuingBody};

fn main() {
    let mut args = std::env::args().skip(1);
    let out = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots/export-sample.docx"));
    let issuer_unit = args.next();

    let (c, form, plan, tree) = sample_consolidation();
    let date = NaiveDate::from_ymd_opt(2024, 3, 16).expect("a valid date");
    let mut input = DocxInput::new(&c, &form, &plan, &tree, date).expect("the sample unit is in the seed");
    if let Some(id) = issuer_unit {
        let unit = tree.get(&id).unwrap_or_else(|| panic!("no unit {id} in the seed"));
        let parent = unit.parent.as_deref().and_then(|p| tree.get(p));
        input.issuer = IssuingBody::for_unit(unit, parent);
        input.recipients = default_recipients(unit, parent);
    }
    let bytes = docx(&input).expect("the sample renders");
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).expect("the output directory is writable");
    }
    std::fs::write(&out, bytes).expect("the sample is written");
    println!("{}", out.display());
}
