//! Ids and keys that arrive in addresses and headers: report periods
//! (`Period::parse_key`, also every period in JSON), report ids
//! (`ReportKey::parse_id`, `?report=` of an upload) then the upload's check that
//! such a report can exist (`sync::report_form`), device-made ids
//! (`is_plain_id`), SHA-256 hex (`is_sha256_hex`), and an upload's
//! `Content-Type` and `X-Content-SHA256` (crates/server/src/routes/attachments.rs).
#![no_main]

use axum::http::{header, HeaderMap, HeaderValue};
use danvan_core::report::{is_plain_id, is_sha256_hex, ReportKey, ATTACHMENT_TYPES};
use danvan_core::Period;
use danvan_fuzz::{catalog, text};
use danvan_server::routes::attachments::{allowed_type, claimed_sha256, SHA256_HEADER};
use danvan_server::sync::report_form;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    headers(data);
    let Some(s) = text(data) else { return };

    if let Ok(p) = Period::parse_key(s) {
        // One period, one key: what parses is exactly what `key()` writes.
        assert_eq!(p.key(), s);
        assert_eq!(p.to_string(), s);
        assert_eq!(Period::parse_key(&p.to_string()), Ok(p));
        let json = serde_json::to_string(&p).expect("a period serializes");
        assert_eq!(serde_json::from_str::<Period>(&json).ok(), Some(p));
        let w = p.window();
        assert!(w.first <= w.last && w.contains(p.due_date()));
        assert!(p.previous() < p && p < p.next());
        assert_eq!(p.next().previous(), p);
        let _ = (p.deadline(), p.label_vi(), p.window_label());
    }

    if let Some(key) = ReportKey::parse_id(s) {
        // An id names one report: it is made back exactly.
        assert_eq!(key.id(), s);
        assert!(!key.plan_id.is_empty() && !key.unit_id.is_empty());
        assert!(!key.plan_id.contains('~') && !key.unit_id.contains('~'));
        if let Ok(form) = report_form(catalog(), &key) {
            assert_eq!(Some(form), catalog().form_for_plan(&key.plan_id));
        }
    }

    if is_plain_id(s) {
        assert!((1..=64).contains(&s.len()));
        assert!(s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
    }
    if is_sha256_hex(s) {
        assert!(is_plain_id(&s[..32]) && s.len() == 64);
    }
});

/// The upload's header checks, with the input as both header values.
fn headers(data: &[u8]) {
    let Ok(value) = HeaderValue::from_bytes(data) else { return };
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, value.clone());
    headers.insert(SHA256_HEADER, value);
    if let Some(mime) = allowed_type(&headers) {
        assert!(ATTACHMENT_TYPES.contains(&mime));
    }
    if let Some(sha) = claimed_sha256(&headers) {
        // What the upload compares with its own lowercase digest.
        assert!(is_sha256_hex(&sha), "{sha}");
    }
}
