//! The JSON API over real HTTP and a real database (a SQLite file, or PostgreSQL:
//! tests/common).

mod common;

use chrono::{Datelike, Utc};
use common::{assert_error, TestServer, PASSWORD};
use danvan_core::aggregate::Timeliness;
use danvan_core::api::{LoginResponse, PlansResponse, Role, TasksResponse, UnitsResponse, UserInfo};
use danvan_core::sync::MutationOp;
use danvan_core::task::TaskStatus;
use danvan_core::time::vn_date;
use danvan_core::{ReportKey, UnitKind};
use danvan_server::store::{Backend, DataScope, NewDevice, TokenLookup};
use reqwest::StatusCode;
use serde_json::json;
use serde_json::Value;

const DAKBLA: &str = "kontum.tpkontum.dakbla";
const TP_KONTUM: &str = "kontum.tpkontum";

#[tokio::test]
async fn health_needs_no_login() {
    let (s, _dir) = TestServer::start().await;
    let res = s.get("/api/health").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap(), serde_json::json!({ "ok": true }));
}

#[tokio::test]
async fn every_demo_user_logs_in() {
    let (s, _dir) = TestServer::start().await;
    let cases = [
        ("xa.dakbla", "Nguyễn Thị Hoa", Role::Reporter, DAKBLA),
        ("tp.kontum", "Trần Văn Minh", Role::Reviewer, TP_KONTUM),
        ("sonoivu", "Lê Thị Thu", Role::Aggregator, "kontum.sonoivu"),
        ("admin", "Quản trị hệ thống", Role::Admin, "quangngai"),
        ("sonoivu.qn", "Huỳnh Thị Ngọc Lan", Role::Aggregator, "quangngai.sonoivu"),
        ("xa.dakrowa", "Y Nga", Role::Reporter, "quangngai.23332"),
        ("phuong.kontum", "Đỗ Minh Khoa", Role::Reporter, "quangngai.23293"),
    ];
    assert_eq!(cases.len(), danvan_server::seed::DEMO_ACCOUNTS.len(), "every demo account is tried");
    for (username, name, role, unit) in cases {
        let res = s.login_raw(username, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK, "{username}");
        // The raw shape, as the app sees it.
        let raw: Value = res.json().await.unwrap();
        assert_eq!(raw["user"]["role"], serde_json::to_value(role).unwrap());
        assert!(raw["expires_at"].as_str().unwrap().ends_with('Z'), "{raw}");
        let login: LoginResponse = serde_json::from_value(raw).unwrap();
        assert_eq!(login.user.username, username);
        assert_eq!(login.user.display_name, name);
        assert_eq!(login.user.role, role);
        assert_eq!(login.user.unit_id, unit);
        assert!(!login.user.unit_name.is_empty());
        // 32 random bytes, base64url without padding.
        assert_eq!(login.token.len(), 43);
        assert!(login.token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        let days = (login.expires_at - Utc::now()).num_days();
        // The absolute limit (auth::session_lifetime); idle devices end sooner.
        assert!((179..=180).contains(&days), "a sign-in lasts at most 180 days, got {days}");

        let me: UserInfo = s.get_json("/api/me", &login.token).await;
        assert_eq!(me, login.user);
    }
    let commune = s.login("xa.dakbla").await;
    assert_eq!(commune.user.unit_name, "Xã Đăk Blà");
}

#[tokio::test]
async fn usernames_forgive_case_and_spaces() {
    let (s, _dir) = TestServer::start().await;
    let res = s.login_raw("  Xa.DakBla ", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_401() {
    let (s, _dir) = TestServer::start().await;
    let wrong =
        assert_error(s.login_raw("xa.dakbla", "sai-mat-khau").await, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let unknown =
        assert_error(s.login_raw("khong.co.ai", PASSWORD).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
    assert_eq!(wrong, unknown);
    assert_eq!(wrong["error"]["message"], "Tên đăng nhập hoặc mật khẩu không đúng");
}

#[tokio::test]
async fn missing_invalid_and_logged_out_tokens_are_401_json() {
    let (s, _dir) = TestServer::start().await;
    for path in ["/api/me", "/api/plans", "/api/units", "/api/tasks"] {
        assert_error(s.get(path).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
        assert_error(s.get_auth(path, "not-a-real-token").await, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    let res = s.client.get(s.url("/api/me")).header("authorization", "Basic eGE6eWE=").send().await.unwrap();
    assert_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let res = s.client.post(s.url("/api/auth/logout")).send().await.unwrap();
    assert_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await;

    let login = s.login("tp.kontum").await;
    let other = s.login("tp.kontum").await;
    assert_eq!(s.get_auth("/api/me", &login.token).await.status(), StatusCode::OK);
    let res = s.client.post(s.url("/api/auth/logout")).bearer_auth(&login.token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // The app is told the device signed out (not "expired").
    assert_error(s.get_auth("/api/me", &login.token).await, StatusCode::UNAUTHORIZED, "device_ended").await;
    // Logging out one device leaves the user's other sessions alone.
    assert_eq!(s.get_auth("/api/me", &other.token).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn malformed_bodies_are_400_json() {
    let (s, _dir) = TestServer::start().await;
    let post = |body: &'static str, ct: Option<&'static str>| {
        let mut req = s.client.post(s.url("/api/auth/login")).body(body);
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        req.send()
    };
    let syntax = post("{\"username\": ", Some("application/json")).await.unwrap();
    assert_error(syntax, StatusCode::BAD_REQUEST, "bad_request").await;
    let shape = post("{\"username\": \"xa.dakbla\"}", Some("application/json")).await.unwrap();
    assert_error(shape, StatusCode::BAD_REQUEST, "bad_request").await;
    let no_type = post("{\"username\": \"a\", \"password\": \"b\"}", None).await.unwrap();
    assert_error(no_type, StatusCode::BAD_REQUEST, "bad_request").await;
}

#[tokio::test]
async fn bodies_over_one_mib_are_413_json() {
    let (s, _dir) = TestServer::start().await;
    let big = format!("{{\"username\":\"xa.dakbla\",\"password\":\"{}\"}}", "x".repeat(1024 * 1024 + 10));
    let res = s
        .client
        .post(s.url("/api/auth/login"))
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_error(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;

    // Streamed (chunked, no Content-Length): the limit applies while reading.
    let (status, body) = chunked_post(&s, "/api/auth/login", big.as_bytes()).await;
    assert_eq!(status, 413, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");
}

/// A raw HTTP/1.1 POST with `Transfer-Encoding: chunked` (reqwest always knows the
/// length of an in-memory body). Returns the status and the body text.
async fn chunked_post(s: &TestServer, path: &str, body: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = s.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.chunks(64 * 1024) {
        let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
        frame.extend_from_slice(chunk);
        frame.extend_from_slice(b"\r\n");
        // The server may answer and stop reading once over the limit.
        if stream.write_all(&frame).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    // The error body is small and sent with a length, so it is not chunk-framed.
    (status, body)
}

#[tokio::test]
async fn unknown_api_paths_and_methods_are_json() {
    let (s, _dir) = TestServer::start().await;
    assert_error(s.get("/api/nope").await, StatusCode::NOT_FOUND, "not_found").await;
    assert_error(s.get("/api/plans/413/extra").await, StatusCode::NOT_FOUND, "not_found").await;
    assert_error(s.get("/api").await, StatusCode::NOT_FOUND, "not_found").await;
    assert_error(s.get("/api/").await, StatusCode::NOT_FOUND, "not_found").await;
    let res = s.get("/api/auth/login").await;
    assert_error(res, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}

#[tokio::test]
async fn plans_include_413_with_its_twelve_items() {
    let (s, _dir) = TestServer::start().await;
    let login = s.login("xa.dakbla").await;
    let plans: PlansResponse = s.get_json("/api/plans", &login.token).await;
    let plan = plans.plans.iter().find(|p| p.number == "413/KH-UBND").expect("plan 413/KH-UBND");
    assert_eq!(plan.items.len(), 12);
    plan.validate().unwrap();
}

#[tokio::test]
async fn api_responses_are_compressed_and_not_cached() {
    let (s, _dir) = TestServer::start().await;
    let login = s.login("sonoivu").await;
    let res = s
        .client
        .get(s.url("/api/plans"))
        .bearer_auth(&login.token)
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-encoding"], "br");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let res = s
        .client
        .get(s.url("/api/plans"))
        .bearer_auth(&login.token)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-encoding"], "gzip");
}

async fn units_of(s: &TestServer, username: &str) -> Vec<danvan_core::OrgUnit> {
    let login = s.login(username).await;
    let units: UnitsResponse = s.get_json("/api/units", &login.token).await;
    units.units
}

#[tokio::test]
async fn unit_visibility_follows_the_role() {
    let (s, _dir) = TestServer::start().await;
    let all = units_of(&s, "sonoivu").await;
    let ids = |units: &[danvan_core::OrgUnit]| units.iter().map(|u| u.id.clone()).collect::<Vec<_>>();

    // Aggregator (Sở Nội vụ) and admin: everything, including ≥ 10 districts.
    let districts = all.iter().filter(|u| u.kind == UnitKind::District).count();
    assert!(districts >= 10, "only {districts} districts");
    assert_eq!(ids(&units_of(&s, "admin").await), ids(&all));
    let dak_glei = all.iter().find(|u| u.name == "Huyện Đắk Glei").expect("Huyện Đắk Glei in the seed");

    // Commune official: own commune + its district + the province, nothing else.
    let commune = units_of(&s, "xa.dakbla").await;
    let mut got = ids(&commune);
    got.sort();
    assert_eq!(got, ["kontum", TP_KONTUM, DAKBLA]);
    assert!(!commune.iter().any(|u| u.id == dak_glei.id));

    // District reviewer: its own communes (all of them), the province, no other district's.
    let district = units_of(&s, "tp.kontum").await;
    let own_communes: Vec<_> = all.iter().filter(|u| u.parent.as_deref() == Some(TP_KONTUM)).collect();
    assert!(own_communes.len() > 1);
    for c in &own_communes {
        assert!(district.iter().any(|u| u.id == c.id), "{} missing", c.id);
    }
    assert!(district.iter().any(|u| u.id == "kontum"));
    assert!(!district.iter().any(|u| u.id == dak_glei.id));
    assert!(!district.iter().any(|u| u.id == "kontum.sonoivu"));
    assert!(district.iter().all(|u| u.id == "kontum"
        || u.id == TP_KONTUM
        || u.parent.as_deref() == Some(TP_KONTUM)
        || u.id.starts_with("kontum.tpkontum.")));
}

#[tokio::test]
async fn the_2024_plan_has_ended_and_its_tasks_show_their_record_not_an_overdue() {
    let (s, _dir) = TestServer::start().await;
    let login = s.login("xa.dakbla").await;
    let before = vn_date(Utc::now());
    let tasks: TasksResponse = s.get_json("/api/tasks", &login.token).await;
    let after = vn_date(Utc::now());
    assert!(tasks.today == before || tasks.today == after, "today {} is not the Vietnam date", tasks.today);
    assert_eq!(tasks.unit.id, DAKBLA);
    assert!(tasks.today.year() >= 2025, "this test describes a time after the 2024 plan");
    let monthly = tasks
        .tasks
        .iter()
        .find(|t| t.obligation_id == "III.1.monthly-report")
        .expect("III.1.monthly-report among the commune's tasks");
    assert_eq!(monthly.next, None, "nothing is due under an ended plan");
    let ended = chrono::NaiveDate::from_ymd_opt(2024, 12, 31).unwrap();
    for t in &tasks.tasks {
        assert_eq!(t.status(tasks.today), TaskStatus::Ended { on: ended }, "{}", t.obligation_id);
    }
    // One line per monthly period of the plan, 02/2024 … 12/2024: none filed here.
    let periods: Vec<String> = monthly.record.iter().map(|r| r.period.key()).collect();
    assert_eq!(periods.len(), 11);
    assert_eq!((periods[0].as_str(), periods[10].as_str()), ("2024-02", "2024-12"));
    assert!(monthly.record.iter().all(|r| r.state == Timeliness::Missing));
}

#[tokio::test]
async fn the_record_of_an_ended_plan_says_on_time_and_late_and_iii1_is_done_once_recorded() {
    let (s, _dir) = TestServer::start().await;
    let mut device = common::Device::new(&s, "xa.dakbla", "record-phone").await;
    // Submitted now, with the server's clock: long after 14/02/2024, so late.
    let key = ReportKey {
        plan_id: common::PLAN.into(),
        unit_id: DAKBLA.into(),
        period: danvan_core::Period::Month { year: 2024, month: 2 },
    };
    let values = common::complete_values(&s, &device.token).await;
    let save = device.m(
        key.clone(),
        0,
        MutationOp::Save { form_id: String::new(), set: values, attach: vec![], detach: vec![] },
    );
    let submit = device.m(key, 1, MutationOp::Submit);
    let res = device.push(&s, &[save, submit]).await;
    assert_eq!(res.results[1].result, common::applied(2));
    let tasks: TasksResponse = s.get_json("/api/tasks", &device.token).await;
    let monthly = tasks.tasks.iter().find(|t| t.obligation_id == "III.1.monthly-report").unwrap();
    let feb = monthly.record.iter().find(|r| r.period.key() == "2024-02").unwrap();
    assert_eq!(feb.state, Timeliness::Late, "filed today, long after 14/02/2024");
    assert_eq!(monthly.record.iter().filter(|r| r.state == Timeliness::Missing).count(), 10);

    // III.1: the city's own implementation plan, once recorded, is done.
    let city = s.login("tp.kontum").await.token;
    let one_off = |tasks: &TasksResponse| {
        tasks.tasks.iter().find(|t| t.obligation_id.ends_with("implementation-plan")).cloned().expect("III.1 plan")
    };
    let before: TasksResponse = s.get_json("/api/tasks", &city).await;
    assert_eq!(one_off(&before).done_on, None);
    let res = s
        .client
        .put(s.url(&format!("/api/implementation-plans/{}/kontum.tpkontum", common::PLAN)))
        .bearer_auth(&city)
        .json(&json!({"doc_number": "25/KH-UBND", "issued_on": "2024-02-20"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let after: TasksResponse = s.get_json("/api/tasks", &city).await;
    let done = one_off(&after);
    assert_eq!(done.done_on, chrono::NaiveDate::from_ymd_opt(2024, 2, 20));
    assert_eq!(
        done.status(after.today),
        TaskStatus::Done { on: chrono::NaiveDate::from_ymd_opt(2024, 2, 20).unwrap() }
    );
}

#[tokio::test]
async fn so_noi_vu_consolidates_the_province() {
    let (s, _dir) = TestServer::start().await;
    let login = s.login("sonoivu").await;
    let tasks: TasksResponse = s.get_json("/api/tasks", &login.token).await;
    assert_eq!(tasks.unit.id, "kontum.sonoivu");
    assert!(tasks.tasks.iter().any(|t| t.obligation_id == "III.5"), "III.5 missing");
}

#[tokio::test]
async fn data_survives_a_restart() {
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    let login = s.login("xa.dakbla").await;
    s.stop().await;
    if common::backend() == Backend::Sqlite {
        assert!(common::db_path(dir.path()).is_file());
    }

    // Same file: migrations and seeding run again without harm.
    let s = TestServer::start_in(dir.path()).await;
    let me: UserInfo = s.get_json("/api/me", &login.token).await;
    assert_eq!(me, login.user);
    let again = s.login("xa.dakbla").await;
    assert_eq!(again.user.id, login.user.id, "demo user not recreated");
    s.stop().await;

    let s = TestServer::start_in(dir.path()).await;
    assert_eq!(s.get_auth("/api/me", &again.token).await.status(), StatusCode::OK);
    s.stop().await;

    // Looked at through the store: one row per demo user, one epoch, every
    // migration once.
    let store = common::store(dir.path()).await;
    let counts = store.row_counts().await.unwrap();
    let users: Vec<String> =
        store.accounts(&DataScope::All, None, Utc::now()).await.unwrap().into_iter().map(|a| a.username).collect();
    assert_eq!(counts["users"], users.len() as i64);
    assert_eq!(users.len(), danvan_server::seed::DEMO_ACCOUNTS.len(), "{users:?}");
    assert_eq!(counts["sync_state"], 1);
    let migrations = store.migrations().await.unwrap();
    let distinct: std::collections::BTreeSet<i64> = migrations.iter().map(|m| m.version).collect();
    assert_eq!(migrations.len(), distinct.len(), "{migrations:?}");
    assert!(migrations.iter().all(|m| m.success), "{migrations:?}");
    let admin = store.user_by_username("admin").await.unwrap().unwrap();
    assert!(admin.password_hash.starts_with("$argon2id$"));
    // Tokens are stored only as hashes: each device is found by its token's
    // SHA-256, not by the token itself.
    for token in [&login.token, &again.token] {
        let hash = danvan_server::auth::hash_token(token);
        assert_eq!(hash.len(), 64);
        assert!(matches!(store.token_lookup(&hash, Utc::now()).await.unwrap(), TokenLookup::Active { .. }));
        assert!(matches!(store.token_lookup(token, Utc::now()).await.unwrap(), TokenLookup::Invalid));
    }
    store.close().await;
}

#[tokio::test]
async fn a_locked_database_is_a_503_the_client_can_retry() {
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    // Another process holds the write lock for longer than the server waits for it
    // (SQLite's busy timeout, PostgreSQL's lock_timeout: 5 s).
    let other = common::store(dir.path()).await;
    let lock = other.hold_write_lock().await.unwrap();
    // Reads still work (WAL on SQLite, MVCC on PostgreSQL)...
    assert_eq!(s.get("/api/health").await.status(), StatusCode::OK);
    // ... but a login must write its session.
    let res = s.login_raw("xa.dakbla", PASSWORD).await;
    assert_eq!(res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string()).as_deref(), Some("5"));
    assert_error(res, StatusCode::SERVICE_UNAVAILABLE, "unavailable").await;
    lock.release().await.unwrap();
    other.close().await;
    // Nothing was left half-done: the retry succeeds.
    s.login("xa.dakbla").await;
    s.stop().await;
}

#[tokio::test]
async fn concurrent_logins_all_succeed() {
    let (s, _dir) = TestServer::start().await;
    let users = ["xa.dakbla", "tp.kontum", "sonoivu", "admin"];
    let jobs: Vec<_> = (0..8)
        .map(|i| {
            let (client, url) = (s.client.clone(), s.url("/api/auth/login"));
            let username = users[i % users.len()];
            // Half right, half wrong passwords: both go through argon2.
            let password = if i < 4 { PASSWORD } else { "sai-mat-khau" };
            tokio::spawn(async move {
                let body = serde_json::json!({ "username": username, "password": password });
                let res = client.post(url).json(&body).send().await.unwrap();
                (i, res.status())
            })
        })
        .collect();
    for job in jobs {
        let (i, status) = job.await.unwrap();
        let expected = if i < 4 { StatusCode::OK } else { StatusCode::UNAUTHORIZED };
        assert_eq!(status, expected, "login #{i}");
    }
    // And again, all with the right password.
    let jobs: Vec<_> = (0..8)
        .map(|i| {
            let (client, url) = (s.client.clone(), s.url("/api/auth/login"));
            let username = users[i % users.len()];
            tokio::spawn(async move {
                let body = serde_json::json!({ "username": username, "password": PASSWORD });
                client.post(url).json(&body).send().await.unwrap().json::<LoginResponse>().await.unwrap()
            })
        })
        .collect();
    for job in jobs {
        let login = job.await.unwrap();
        assert_eq!(s.get_auth("/api/me", &login.token).await.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn devices_long_ended_or_expired_are_forgotten_at_start() {
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    let login = s.login("xa.dakbla").await;
    let store = &s.state.store;
    let at = |t: &str| t.parse::<chrono::DateTime<Utc>>().unwrap();
    // Two devices signed in on 01/01/2020, through the store with the clock of
    // then: one signed out a month later, one that expired in March 2020.
    let signed_in = |token_hash: String, expires_at| async move {
        let device = NewDevice {
            token_hash: &token_hash,
            name: "Chrome trên Android",
            app_version: None,
            expires_at,
            address: None,
        };
        store.create_device(login.user.id, &device, at("2020-01-01T00:00:00Z")).await.unwrap()
    };
    let old_ended = signed_in("e".repeat(64), at("2099-01-01T00:00:00Z")).await;
    assert!(store.end_device(old_ended, "logout", None, at("2020-02-01T00:00:00Z")).await.unwrap());
    let old_expired = signed_in("f".repeat(64), at("2020-03-01T00:00:00Z")).await;
    let kept = |store: danvan_server::store::Store| async move {
        let ids: Vec<i64> = store.devices(login.user.id, Utc::now()).await.unwrap().into_iter().map(|d| d.id).collect();
        [old_ended, old_expired].map(|id| ids.contains(&id))
    };
    assert_eq!(kept(store.clone()).await, [true, true]);
    s.stop().await;
    let s = TestServer::start_in(dir.path()).await;
    let [ended, expired] = kept(s.state.store.clone()).await;
    assert!(!ended, "ended long ago");
    assert!(!expired, "expired long ago");
    // The live device stays, signed in.
    assert_eq!(s.get_auth("/api/me", &login.token).await.status(), StatusCode::OK);
    s.stop().await;
}

#[tokio::test]
async fn shutdown_gives_up_on_requests_that_never_finish() {
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    let entered = Arc::new(tokio::sync::Notify::new());
    let in_handler = entered.clone();
    let router = axum::Router::new().route(
        "/hang",
        axum::routing::get(move || async move {
            in_handler.notify_one();
            std::future::pending::<&'static str>().await
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hang", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let grace = Duration::from_millis(300);
    let server = tokio::spawn(danvan_server::serve_until(
        listener,
        router,
        async {
            let _ = rx.await;
        },
        grace,
    ));
    let client = tokio::spawn(async move { reqwest::get(url).await });
    entered.notified().await;

    let signalled = Instant::now();
    tx.send(()).unwrap();
    let res = tokio::time::timeout(Duration::from_secs(10), server).await.expect("shutdown hung on the request");
    res.unwrap().unwrap();
    let took = signalled.elapsed();
    assert!(took >= grace, "gave up before the grace period: {took:?}");
    client.abort();
}
