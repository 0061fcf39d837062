//! `POST /api/sync/pull` bodies: decoded as the server does (`ApiJson`) and the
//! client id checked (`sync::check_client_id`, the first thing
//! crates/server/src/routes/sync.rs does with a pull).
#![no_main]

use danvan_core::report::is_plain_id;
use danvan_core::sync::PullRequest;
use danvan_fuzz::{assert_json_round_trip, decode_body};
use danvan_server::sync::check_client_id;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(req) = decode_body::<PullRequest>(data) else { return };
    assert_json_round_trip(&req);
    match check_client_id(&req.client_id) {
        Ok(()) => assert!(is_plain_id(&req.client_id)),
        Err(e) => {
            assert_eq!(e.status(), axum::http::StatusCode::BAD_REQUEST);
            assert!(!is_plain_id(&req.client_id));
        }
    }
});
