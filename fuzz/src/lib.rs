//! What the fuzz targets share: the catalog the server would have after applying
//! its shipped packages (crates/server/src/catalog/packages.rs), built once per
//! process, and a fixed "today" so that a crash reproduces on any day.

use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, Utc};
use danvan_core::ReportForm;
use danvan_server::catalog::packages::{shipped_plans, shipped_tree};
use danvan_server::catalog::Catalog;

/// The day every target runs on: after the 2025 reform, so both Kon Tum's 2024
/// units (closed) and Quảng Ngãi's (open) are in the tree.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 9, 1).expect("a real date")
}

/// `today()` at noon UTC, for the server's clock.
pub fn now() -> DateTime<Utc> {
    today().and_hms_opt(12, 0, 0).expect("a real time").and_utc()
}

/// The shipped units, plan 413/KH-UBND and its form, as `Catalog::load` would
/// read them from a freshly seeded database.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let tree = shipped_tree(today()).expect("the shipped units import (tested in packages.rs)");
        let docs = shipped_plans();
        let forms = docs.iter().filter_map(|d| d.form.clone()).collect();
        let plans = docs.into_iter().map(|d| d.plan).collect();
        Catalog { tree, plans, forms, version: 1 }
    })
}

/// The seed form, `data/seed/forms/kh-413-ubnd-2024.json`.
pub fn seed_form() -> &'static ReportForm {
    catalog().forms.first().expect("the shipped plan has a form")
}

/// The input as text when it is UTF-8 (what every JSON body and CSV file must be).
pub fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// A JSON request body decoded exactly as the server's `ApiJson` extractor does
/// (`axum::Json`, then crates/server/src/error.rs turns a rejection into the
/// 400/413 answer): the rejection is mapped too, so that code runs on every
/// malformed body.
pub fn decode_body<T: serde::de::DeserializeOwned>(data: &[u8]) -> Option<T> {
    match axum::Json::<T>::from_bytes(data) {
        Ok(axum::Json(value)) => Some(value),
        Err(rejection) => {
            let error = danvan_server::AppError::from(rejection);
            assert!(error.status().is_client_error(), "a bad body is the client's error: {error:?}");
            None
        }
    }
}

/// `value` written as JSON and read back is `value` again: what the server sends
/// the phone (and the phone keeps) is what it meant.
pub fn assert_json_round_trip<T>(value: &T)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_string(value).expect("our types always serialize");
    let back: T = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json} does not read back: {e}"));
    assert_eq!(&back, value, "JSON round trip changed the value: {json}");
}
