//! Where the server disagreed with its API description (crates/server/src/routes/mod.rs),
//! as schemathesis found (scripts/schemathesis.sh), and how it answers now.

mod common;

use common::{assert_error, TestServer, PLAN};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn post(s: &TestServer, token: &str, path: &str, body: Value) -> reqwest::Response {
    s.client.post(s.url(path)).bearer_auth(token).json(&body).send().await.unwrap()
}

/// JSON has one number type: `1.0` is the integer 1 for the description
/// (`"type": "integer"`), and now for the server too. A fraction stays refused.
#[tokio::test]
async fn whole_numbers_written_with_a_fraction_are_integers() {
    let (s, _dir) = TestServer::start().await;
    let token = s.login("xa.dakbla").await.token;
    let push = |schema_version: Value, id: Value| {
        json!({ "client_id": "c-1", "schema_version": schema_version, "mutations": [{
            "id": id, "base_version": 0.0, "op": "submit", "content_hash": "x",
            "key": { "plan_id": PLAN, "unit_id": "kontum.tpkontum.dakbla", "period": "2024-03" },
        }] })
    };
    let res = post(&s, &token, "/api/sync/push", push(json!(1.0), json!(1.0))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["last_mutation_id"], 1, "{body}");
    let res = post(&s, &token, "/api/sync/push", push(json!(1.5), json!(2))).await;
    assert_error(res, StatusCode::BAD_REQUEST, "bad_request").await;
    let res = post(&s, &token, "/api/sync/pull", json!({ "client_id": "c-1", "cursor": 0.0 })).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = post(&s, &token, "/api/sync/pull", json!({ "client_id": "c-1", "cursor": 0.25 })).await;
    assert_error(res, StatusCode::BAD_REQUEST, "bad_request").await;
    s.stop().await;
}

/// Cursors and attachment sizes beyond a signed 64-bit integer were taken (a pull
/// from scratch, an in-band rejection) where the description bounds them.
#[tokio::test]
async fn integers_beyond_i64_are_refused() {
    let (s, _dir) = TestServer::start().await;
    let token = s.login("xa.dakbla").await.token;
    let cursor = i64::MAX as u64 + 1;
    let res = post(&s, &token, "/api/sync/pull", json!({ "client_id": "c-1", "cursor": cursor })).await;
    assert_error(res, StatusCode::BAD_REQUEST, "invalid_cursor").await;
    let res = post(&s, &token, "/api/sync/pull", json!({ "client_id": "c-1", "cursor": i64::MAX })).await;
    assert_eq!(res.status(), StatusCode::OK);
    let attach =
        json!({ "id": "a1", "section": "II.1", "name": "a.jpg", "mime": "image/jpeg", "size": cursor, "sha256": "00" });
    let body = json!({ "client_id": "c-1", "schema_version": 1, "mutations": [{
        "id": 1, "base_version": 0, "content_hash": "x",
        "op": { "save": { "form_id": "f", "set": {}, "attach": [attach] } },
        "key": { "plan_id": PLAN, "unit_id": "kontum.tpkontum.dakbla", "period": "2024-03" },
    }] });
    let res = post(&s, &token, "/api/sync/push", body).await;
    assert_error(res, StatusCode::BAD_REQUEST, "invalid_mutation").await;
    s.stop().await;
}

/// A well-formed period that the plan does not cover was a 400; it names nothing
/// to show, like an unknown plan: 404.
#[tokio::test]
async fn a_period_outside_the_plan_is_not_found() {
    let (s, _dir) = TestServer::start().await;
    let token = s.login("sonoivu").await.token;
    for path in ["/api/dashboard", "/api/consolidation", "/api/exports/consolidation.csv", "/api/models"] {
        let res = s.get_auth(&format!("{path}?plan={PLAN}&period=1900"), &token).await;
        assert_error(res, StatusCode::NOT_FOUND, "period_outside_plan").await;
        let res = s.get_auth(&format!("{path}?plan={PLAN}&period=1900-13"), &token).await;
        assert_error(res, StatusCode::BAD_REQUEST, "invalid_period").await;
    }
    s.stop().await;
}

/// An import with no body at all was answered 200 like a file with problems; the
/// description requires the file.
#[tokio::test]
async fn an_import_without_a_file_is_a_bad_request() {
    let (s, _dir) = TestServer::start().await;
    let token = s.login("admin").await.token;
    for path in ["/api/admin/accounts/import", "/api/admin/units/import"] {
        let res = s.client.post(s.url(path)).bearer_auth(&token).send().await.unwrap();
        assert_error(res, StatusCode::BAD_REQUEST, "empty_file").await;
        // A file that is not a valid one is still an answer listing its problems.
        let res = s.client.post(s.url(path)).bearer_auth(&token).body("x").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
    s.stop().await;
}

/// Asking for codes when no account needs one is a conflict with the accounts'
/// state (409), not a malformed request.
#[tokio::test]
async fn nothing_to_issue_is_a_conflict() {
    let (s, _dir) = TestServer::start().await;
    let token = s.login("admin").await.token;
    let res = post(&s, &token, "/api/admin/enrolment-codes", json!({ "account_ids": [] })).await;
    assert_error(res, StatusCode::CONFLICT, "nothing_to_issue").await;
    s.stop().await;
}
