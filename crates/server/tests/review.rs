//! Dashboard, consolidation (and a district's report of reports), III.1
//! implementation plans and the "Dân vận khéo" register over real HTTP and a real database,
//! and the authorization matrix: every role × endpoint × own / child / unrelated unit.

mod common;

use common::{add_user, applied, assert_error, complete_values, Device, TestServer, PLAN};
use danvan_core::aggregate::{Consolidation, MovementModel, ObligationState, Timeliness};
use danvan_core::api::{DashboardResponse, ImplementationPlanRecord, ImplementationPlansResponse, ModelsResponse};
use danvan_core::sync::MutationOp;
use danvan_core::{Period, ReportKey, ReportStatus, Values};
use reqwest::StatusCode;
use serde_json::{json, Value};

const DAKBLA: &str = "kontum.tpkontum.dakbla";
const QUANGTRUNG: &str = "kontum.tpkontum.quangtrung";
const TP_KONTUM: &str = "kontum.tpkontum";
const SONOIVU: &str = "kontum.sonoivu";
const SOTUPHAP: &str = "kontum.sotuphap";
const DAKMAN: &str = "kontum.dakglei.dakman";
const PROVINCE: &str = "kontum";

/// Last month's period (its deadline is in the past or close: the tests only
/// compare to what the server itself computed, never to the wall clock).
fn period() -> Period {
    Period::month(2024, 3).unwrap()
}

fn key(unit: &str) -> ReportKey {
    ReportKey { plan_id: PLAN.into(), unit_id: unit.into(), period: period() }
}

fn with(mut values: Values, pairs: &[(&str, &str)]) -> Values {
    for (k, v) in pairs {
        values.insert(k.to_string(), v.to_string());
    }
    values
}

/// Saves and submits a complete report of `d`'s unit with extra values.
async fn file(s: &TestServer, d: &mut Device, unit: &str, extra: &[(&str, &str)]) {
    let values = with(complete_values(s, &d.token).await, extra);
    let save =
        d.m(key(unit), 0, MutationOp::Save { form_id: String::new(), set: values, attach: vec![], detach: vec![] });
    let submit = d.m(key(unit), 1, MutationOp::Submit);
    let res = d.push(s, &[save, submit]).await;
    assert_eq!(res.results[1].result, applied(2), "{unit} submitted");
}

fn q(path: &str, unit: &str) -> String {
    format!("{path}?plan={PLAN}&period={}&unit={unit}", period().key())
}

#[tokio::test]
async fn dashboard_and_consolidation_follow_the_review_loop_up_to_the_province() {
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    add_user(dir.path(), "xa.quangtrung", "reporter", QUANGTRUNG).await;
    let mut dakbla = Device::new(&s, "xa.dakbla", "p1").await;
    let mut quangtrung = Device::new(&s, "xa.quangtrung", "p2").await;
    let mut city = Device::new(&s, "tp.kontum", "c1").await;
    let mut snv = Device::new(&s, "sonoivu", "s1").await;

    file(
        &s,
        &mut dakbla,
        DAKBLA,
        &[("ii1.sessions", "3"), ("ii1.participants", "120"), ("ii1.result", "Tuyên truyền ở 3 thôn")],
    )
    .await;
    file(&s, &mut quangtrung, QUANGTRUNG, &[("ii1.sessions", "2"), ("ii1.participants", "80")]).await;

    // Submitted, not yet reviewed: counted as filed, nothing to consolidate yet.
    let d: DashboardResponse = s.get_json(&q("/api/dashboard", TP_KONTUM), &city.token).await;
    let communes = d.dashboard.rows.len() as u32 - 1;
    assert_eq!(d.dashboard.totals.expected, communes + 1);
    let filed = d.dashboard.totals.on_time + d.dashboard.totals.late;
    assert_eq!(filed, 2);
    assert_eq!(d.dashboard.totals.accepted, 0);
    let row = d.dashboard.rows.iter().find(|r| r.unit_id == DAKBLA).unwrap();
    assert_eq!(row.status, Some(ReportStatus::Submitted));
    assert!(row.first_submitted_at.is_some());
    let c: Consolidation = s.get_json(&q("/api/consolidation", TP_KONTUM), &city.token).await;
    assert!(c.sources.is_empty());

    // The city returns Quang Trung's report, accepts Đăk Blà's.
    let ret = city.m(key(QUANGTRUNG), 2, MutationOp::Return { reason: "Thiếu kết quả II.6".into() });
    let acc = city.m(key(DAKBLA), 2, MutationOp::Accept);
    let res = city.push(&s, &[ret, acc]).await;
    assert_eq!(res.results[0].result, applied(3));
    assert_eq!(res.results[1].result, applied(3));
    let d: DashboardResponse = s.get_json(&q("/api/dashboard", TP_KONTUM), &city.token).await;
    assert_eq!(d.dashboard.totals.returned, 1);
    assert_eq!(d.dashboard.totals.accepted, 1);
    let qt = d.dashboard.rows.iter().find(|r| r.unit_id == QUANGTRUNG).unwrap();
    assert_eq!(qt.timeliness, Some(Timeliness::Returned));
    assert_eq!(qt.return_reason.as_deref(), Some("Thiếu kết quả II.6"));

    // Quang Trung fixes and resubmits; accepted. Its first submission still decides timeliness.
    let fix = quangtrung.m(
        key(QUANGTRUNG),
        3,
        MutationOp::Save {
            form_id: String::new(),
            set: [("ii6.petitions_received".to_string(), "4".to_string())].into(),
            attach: vec![],
            detach: vec![],
        },
    );
    let again = quangtrung.m(key(QUANGTRUNG), 4, MutationOp::Submit);
    assert_eq!(quangtrung.push(&s, &[fix, again]).await.results[1].result, applied(5));
    let acc = city.m(key(QUANGTRUNG), 5, MutationOp::Accept);
    assert_eq!(city.push(&s, &[acc]).await.results[0].result, applied(6));

    let c: Consolidation = s.get_json(&q("/api/consolidation", TP_KONTUM), &city.token).await;
    assert_eq!(c.totals["ii1.sessions"], 5);
    assert_eq!(c.totals["ii1.participants"], 200);
    assert_eq!(c.totals["ii6.petitions_received"], 4);
    let mut sources: Vec<&str> = c.sources.iter().map(|s| s.unit_id.as_str()).collect();
    sources.sort();
    assert_eq!(sources, [DAKBLA, QUANGTRUNG]);
    let ii1 = c.narratives.iter().find(|n| n.section_id == "II.1").unwrap();
    assert!(ii1.fields.iter().any(|f| f.entries.iter().any(|e| e.text == "Tuyên truyền ở 3 thôn")));

    // A province's consolidation asks for thousands of units' figures: beyond a few
    // hundred the store reads the period whole and keeps the wanted units. Both
    // ways give the same answer.
    let period_key = key(DAKBLA).period.key();
    let store = &s.state.store;
    let by_list = store.accepted_figures(PLAN, &period_key, &[DAKBLA, QUANGTRUNG]).await.unwrap();
    assert_eq!(by_list.iter().map(|(u, _)| u.as_str()).collect::<std::collections::BTreeSet<_>>().len(), 2);
    let others: Vec<String> = (0..600).map(|i| format!("kontum.khong-co.{i}")).collect();
    let mut many: Vec<&str> = others.iter().map(String::as_str).collect();
    many.extend([DAKBLA, QUANGTRUNG]);
    let mut by_period = store.accepted_figures(PLAN, &period_key, &many).await.unwrap();
    let mut by_list = by_list;
    by_list.sort();
    by_period.sort();
    assert_eq!(by_period, by_list);
    many.pop();
    let only_dakbla = store.accepted_figures(PLAN, &period_key, &many).await.unwrap();
    assert_eq!(only_dakbla.iter().map(|(u, _)| u.as_str()).collect::<Vec<_>>(), [DAKBLA]);
    assert_eq!(only_dakbla[0].1["ii1.sessions"], 3);

    // The exports of the same consolidation, over HTTP.
    let res = s.get_auth(&q("/api/exports/consolidation.csv", TP_KONTUM), &city.token).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("kontum.tpkontum_2024-03.csv"));
    let csv = res.text().await.unwrap();
    assert!(csv.starts_with('\u{feff}'), "UTF-8 BOM for Excel");
    assert!(csv.contains("Xã Đăk Blà") && csv.contains("Tổng cộng"), "{csv}");
    let res = s.get_auth(&q("/api/exports/consolidation.docx", TP_KONTUM), &city.token).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    assert!(res.bytes().await.unwrap().starts_with(b"PK"), "a zip container");
    let res = s.get_auth(&q("/api/exports/consolidation.xlsx", TP_KONTUM), &city.token).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.bytes().await.unwrap().starts_with(b"PK"));

    // The province, before the city has filed its own report: the communes count directly.
    let p: Consolidation = s.get_json(&q("/api/consolidation", PROVINCE), &snv.token).await;
    assert_eq!(p.totals["ii1.sessions"], 5);
    assert_eq!((p.sources[0].unit_id.as_str(), p.sources[0].own, p.sources[0].reports), (TP_KONTUM, false, 2));

    // The city's report of reports: its own figures start from the consolidation.
    let mut values = with(complete_values(&s, &city.token).await, &[]);
    values.extend(c.prefill());
    values.insert("ii1.sessions".into(), "6".into()); // plus one session of the city's own
    let save = city.m(
        key(TP_KONTUM),
        0,
        MutationOp::Save { form_id: String::new(), set: values, attach: vec![], detach: vec![] },
    );
    let submit = city.m(key(TP_KONTUM), 1, MutationOp::Submit);
    assert_eq!(city.push(&s, &[save, submit]).await.results[1].result, applied(2));
    let acc = snv.m(key(TP_KONTUM), 2, MutationOp::Accept);
    assert_eq!(snv.push(&s, &[acc]).await.results[0].result, applied(3));

    // Now the province sums the city's report, not its communes again.
    let p: Consolidation = s.get_json(&q("/api/consolidation", PROVINCE), &snv.token).await;
    assert_eq!(p.totals["ii1.sessions"], 6);
    assert_eq!(p.sources.len(), 1);
    assert_eq!(p.sources[0].unit_id, TP_KONTUM);
    let d: DashboardResponse = s.get_json(&q("/api/dashboard", PROVINCE), &snv.token).await;
    assert_eq!(d.dashboard.unit_id, PROVINCE);
    assert_eq!(d.dashboard.totals.accepted, 3);
    let city_row = d.dashboard.rows.iter().find(|r| r.unit_id == TP_KONTUM).unwrap();
    assert_eq!(city_row.subtree.accepted, 3);
    assert!(city_row.has_children);
    // Default unit for Sở Nội vụ is the province.
    let d2: DashboardResponse = s.get_json(&format!("/api/dashboard?period={}", period().key()), &snv.token).await;
    assert_eq!(d2.dashboard.unit_id, PROVINCE);

    // Bad input: a clear JSON error.
    let res = s.get_auth("/api/dashboard?period=2024-13", &snv.token).await;
    assert_error(res, StatusCode::BAD_REQUEST, "invalid_period").await;
    let res = s.get_auth("/api/consolidation", &snv.token).await;
    assert_error(res, StatusCode::BAD_REQUEST, "invalid_period").await;
    let res = s.get_auth(&q("/api/dashboard", "khong-co"), &snv.token).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    s.stop().await;
}

#[tokio::test]
async fn implementation_plans_and_models_move_through_their_steps() {
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    let city = s.login("tp.kontum").await.token;
    let snv = s.login("sonoivu").await.token;
    let commune = s.login("xa.dakbla").await.token;
    let put = |path: String, token: &str, body: Value| s.client.put(s.url(&path)).bearer_auth(token).json(&body).send();

    // III.1: the city records its plan, dated in February: done on time.
    let path = format!("/api/implementation-plans/{PLAN}/{TP_KONTUM}");
    let res = put(path.clone(), &city, json!({"doc_number": "  ", "issued_on": "2024-02-20"})).await.unwrap();
    assert_error(res, StatusCode::BAD_REQUEST, "invalid").await;
    let res = put(path.clone(), &city, json!({"doc_number": "25/KH-UBND", "issued_on": "2024-02-20"})).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let rec: ImplementationPlanRecord = res.json().await.unwrap();
    assert_eq!(rec.state, ObligationState::Done);
    // Dates after today, or more than a year before the plan (01/02/2024), are
    // typing mistakes: refused, the record unchanged.
    for (date, says) in [("2099-01-01", "không được sau hôm nay"), ("1900-01-01", "không được trước 31/01/2023")]
    {
        let res = put(path.clone(), &city, json!({"doc_number": "25/KH-UBND", "issued_on": date})).await.unwrap();
        let body = assert_error(res, StatusCode::BAD_REQUEST, "invalid").await;
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.starts_with("Ngày ban hành ") && message.contains(says), "{message}");
    }
    // A correction replaces the record and the log keeps what it replaced.
    let res = put(path.clone(), &city, json!({"doc_number": "26/KH-UBND", "issued_on": "2024-02-21"})).await.unwrap();
    assert_eq!(res.json::<ImplementationPlanRecord>().await.unwrap().doc_number.as_deref(), Some("26/KH-UBND"));
    let admin = s.login("admin").await.token;
    let log: danvan_core::account::AuditResponse = s.get_json("/api/admin/audit", &admin).await;
    let recorded: Vec<_> = log
        .entries
        .iter()
        .filter(|e| e.action == "implementation_plan.record")
        .filter_map(|e| e.detail.clone())
        .collect();
    assert_eq!(
        recorded,
        ["Số 26/KH-UBND ngày 21/02/2024 (trước: số 25/KH-UBND ngày 20/02/2024)", "Số 25/KH-UBND ngày 20/02/2024"],
        "newest first"
    );
    // The document itself; only PDF or images.
    let file = |mime: &'static str, bytes: &'static [u8]| {
        s.client
            .put(s.url(&format!("{path}/file?name=K%E1%BA%BF%20ho%E1%BA%A1ch.pdf")))
            .bearer_auth(&city)
            .header("content-type", mime)
            .body(bytes)
            .send()
    };
    assert_error(file("text/html", b"<script>").await.unwrap(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_type")
        .await;
    let res = file("application/pdf", b"%PDF-1.4 ke hoach").await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let rec: ImplementationPlanRecord = res.json().await.unwrap();
    assert_eq!(rec.file_name.as_deref(), Some("Kế hoạch.pdf"));
    let res = s.get_auth(&format!("{path}/file"), &snv).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"%PDF-1.4 ke hoach");
    // A department records late; the others are missing (the deadline passed long ago).
    add_user(dir.path(), "so.tuphap", "reporter", SOTUPHAP).await;
    let stp = s.login("so.tuphap").await.token;
    let res = put(
        format!("/api/implementation-plans/{PLAN}/{SOTUPHAP}"),
        &stp,
        json!({"doc_number": "3/KH-STP", "issued_on": "2024-03-04"}),
    )
    .await
    .unwrap();
    assert_eq!(res.json::<ImplementationPlanRecord>().await.unwrap().state, ObligationState::Late);
    // A commune owes no implementation plan under III.1.
    let res = put(
        format!("/api/implementation-plans/{PLAN}/{DAKBLA}"),
        &commune,
        json!({"doc_number": "1", "issued_on": "2024-02-01"}),
    )
    .await
    .unwrap();
    assert_error(res, StatusCode::BAD_REQUEST, "invalid").await;
    let all: ImplementationPlansResponse =
        s.get_json(&format!("/api/implementation-plans?plan={PLAN}&unit={PROVINCE}"), &snv).await;
    assert_eq!(all.due.to_string(), "2024-02-29");
    let state_of = |u: &str| all.records.iter().find(|r| r.unit_id == u).unwrap().state;
    assert_eq!(state_of(TP_KONTUM), ObligationState::Done);
    assert_eq!(state_of(SOTUPHAP), ObligationState::Late);
    assert_eq!(state_of(SONOIVU), ObligationState::Missing);
    assert!(all.records.iter().all(|r| r.unit_id != DAKBLA));
    let d: DashboardResponse = s.get_json(&q("/api/dashboard", PROVINCE), &snv).await;
    assert_eq!((d.implementation_plans.done, d.implementation_plans.late), (1, 1));
    assert_eq!(d.implementation_plans.missing as usize, all.records.len() - 2);

    // "Dân vận khéo": the commune registers, the city recognises, the province commends.
    let post = |path: &str, token: &str, body: Value| s.client.post(s.url(path)).bearer_auth(token).json(&body).send();
    let res = post(
        "/api/models",
        &commune,
        json!({"plan_id": PLAN, "unit_id": DAKBLA, "name": "Thôn không có người vi phạm pháp luật", "field": "defence_security", "registered_on": "2024-02-20"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let m: MovementModel = res.json().await.unwrap();
    assert_eq!(m.unit_name, "Xã Đăk Blà");
    let res = post(&format!("/api/models/{}/commend", m.id), &city, json!({"on": "2024-03-01", "note": "Giấy khen"}))
        .await
        .unwrap();
    assert_error(res, StatusCode::CONFLICT, "not_recognised").await;
    let res = post(&format!("/api/models/{}/recognise", m.id), &commune, json!({"on": "2024-03-01"})).await.unwrap();
    assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = post(&format!("/api/models/{}/recognise", m.id), &city, json!({"on": "2024-02-01"})).await.unwrap();
    assert_error(res, StatusCode::BAD_REQUEST, "invalid").await;
    let res = post(&format!("/api/models/{}/recognise", m.id), &city, json!({"on": "2099-03-01"})).await.unwrap();
    assert_error(res, StatusCode::BAD_REQUEST, "invalid").await;
    let res = post(&format!("/api/models/{}/recognise", m.id), &city, json!({"on": "2024-03-01"})).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = post(
        &format!("/api/models/{}/commend", m.id),
        &snv,
        json!({"on": "2024-03-10", "note": "Bằng khen của UBND tỉnh"}),
    )
    .await
    .unwrap();
    let m: MovementModel = res.json().await.unwrap();
    assert_eq!(m.commendation.as_deref(), Some("Bằng khen của UBND tỉnh"));
    let res = post("/api/models", &commune, json!({"plan_id": PLAN, "unit_id": DAKBLA, "name": "X", "field": "nope"}))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let old =
        json!({"plan_id": PLAN, "unit_id": DAKBLA, "name": "X", "field": "economy", "registered_on": "2021-05-01"});
    assert_error(post("/api/models", &commune, old).await.unwrap(), StatusCode::BAD_REQUEST, "invalid").await;
    // Each step of the register is in the log, with its date.
    let log: danvan_core::account::AuditResponse = s.get_json("/api/admin/audit", &admin).await;
    let steps: Vec<(&str, &str)> = log
        .entries
        .iter()
        .filter(|e| e.action.starts_with("model."))
        .map(|e| (e.action.as_str(), e.detail.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        steps,
        [
            (
                "model.commend",
                "«Thôn không có người vi phạm pháp luật» khen thưởng ngày 10/03/2024: Bằng khen của UBND tỉnh"
            ),
            ("model.recognise", "«Thôn không có người vi phạm pháp luật» công nhận ngày 01/03/2024"),
            ("model.register", "«Thôn không có người vi phạm pháp luật» đăng ký ngày 20/02/2024"),
        ]
    );

    let list: ModelsResponse = s.get_json(&format!("/api/models?plan={PLAN}&unit={TP_KONTUM}"), &city).await;
    assert_eq!(list.models.len(), 1);
    // March's window (15/02–14/03) holds all three steps; they count in the dashboard and the consolidation.
    let d: DashboardResponse = s.get_json(&q("/api/dashboard", TP_KONTUM), &city).await;
    assert_eq!((d.models.registered, d.models.recognised, d.models.commended), (1, 1, 1));
    let c: Consolidation = s.get_json(&q("/api/consolidation", PROVINCE), &snv).await;
    assert_eq!(c.models.commended, 1);
    let d: DashboardResponse = s.get_json(&format!("/api/dashboard?period=2024-05&unit={TP_KONTUM}"), &city).await;
    assert_eq!(d.models.registered, 0);
    s.stop().await;
}

// --- The authorization matrix ---------------------------------------------------------

/// Who may do what to a unit, written out by hand (not derived from `access.rs`):
/// (see its data, file its reports and register for it, review it).
#[derive(Clone, Copy, Debug)]
struct Rights {
    see: bool,
    write: bool,
    review: bool,
}

const SEE_WRITE: Rights = Rights { see: true, write: true, review: false };
const SEE_REVIEW: Rights = Rights { see: true, write: false, review: true };
const SEE_ONLY: Rights = Rights { see: true, write: false, review: false };
const NOTHING: Rights = Rights { see: false, write: false, review: false };

/// (relation, target unit, rights).
type Target = (&'static str, &'static str, Rights);

/// (username, role, unit, targets).
fn matrix() -> Vec<(&'static str, &'static str, &'static str, Vec<Target>)> {
    vec![
        (
            "xa.dakbla",
            "reporter",
            DAKBLA,
            vec![("own", DAKBLA, SEE_WRITE), ("unrelated", QUANGTRUNG, NOTHING), ("parent", TP_KONTUM, NOTHING)],
        ),
        ("so.tuphap", "reporter", SOTUPHAP, vec![("own", SOTUPHAP, SEE_WRITE), ("unrelated", DAKBLA, NOTHING)]),
        (
            "tp.kontum",
            "reviewer",
            TP_KONTUM,
            vec![
                ("own", TP_KONTUM, SEE_WRITE),
                ("child", DAKBLA, SEE_REVIEW),
                ("unrelated", DAKMAN, NOTHING),
                ("parent", PROVINCE, NOTHING),
            ],
        ),
        (
            "sonoivu",
            "aggregator",
            SONOIVU,
            vec![("own", SONOIVU, SEE_WRITE), ("child", DAKBLA, SEE_REVIEW), ("other", SOTUPHAP, SEE_REVIEW)],
        ),
        ("admin", "admin", PROVINCE, vec![("own", PROVINCE, SEE_ONLY), ("child", DAKBLA, SEE_ONLY)]),
    ]
}

/// Whether a status means the request got past authorization.
/// Endpoints marked `ok` must answer 200 when allowed (a 404 there would hide a
/// missing route).
fn allowed(status: StatusCode, ok: bool) -> bool {
    if ok {
        return status == StatusCode::OK;
    }
    status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED && !status.is_server_error()
}

#[tokio::test]
async fn authorization_matrix_every_role_endpoint_and_unit_relation() {
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    add_user(dir.path(), "so.tuphap", "reporter", SOTUPHAP).await;
    // One model registered (and recognised) for every target unit, for the
    // recognise/commend rows: written through the store, as the register's
    // endpoints do, by the province's administrator.
    let store = &s.state.store;
    let by = store.user_by_username("admin").await.unwrap().unwrap().user.id;
    let day = |d: &str| d.parse::<chrono::NaiveDate>().unwrap();
    let created_at = "2024-02-01T00:00:00Z".parse().unwrap();
    let actor = danvan_server::store::Actor { user_id: Some(by), name: "admin".into(), address: None };
    let mut model_of = std::collections::HashMap::new();
    for unit in [DAKBLA, QUANGTRUNG, TP_KONTUM, SOTUPHAP, SONOIVU, DAKMAN, PROVINCE] {
        let economy = danvan_core::aggregate::ModelField::Economy;
        let id = store
            .insert_model(PLAN, unit, "Mô hình", economy, "", day("2024-02-01"), by, &actor, created_at)
            .await
            .unwrap();
        let row = store.model(id).await.unwrap().unwrap();
        store.recognise_model(&row, day("2024-02-02"), by, &actor, created_at).await.unwrap();
        model_of.insert(unit, id);
    }

    let mut checked = 0;
    let mut failures = Vec::new();
    for (username, role, _unit, targets) in matrix() {
        let mut device = Device::new(&s, username, &format!("m-{}", username.replace('.', "-"))).await;
        let token = device.token.clone();
        for (relation, target, rights) in targets {
            // (endpoint, expected right, status)
            let mut results: Vec<(&str, bool, StatusCode)> = Vec::new();
            let get = |path: String| {
                let s = &s;
                let token = token.clone();
                async move { s.get_auth(&path, &token).await.status() }
            };
            results.push(("GET /api/dashboard", rights.see, get(q("/api/dashboard", target)).await));
            results.push(("GET /api/consolidation", rights.see, get(q("/api/consolidation", target)).await));
            for ext in ["docx", "xlsx", "csv"] {
                let path = q(&format!("/api/exports/consolidation.{ext}"), target);
                results.push(("GET /api/exports/consolidation.*", rights.see, get(path).await));
            }
            results.push((
                "GET /api/implementation-plans",
                rights.see,
                get(format!("/api/implementation-plans?plan={PLAN}&unit={target}")).await,
            ));
            results.push((
                "GET /api/implementation-plans/…/file",
                rights.see,
                get(format!("/api/implementation-plans/{PLAN}/{target}/file")).await,
            ));
            results.push(("GET /api/models", rights.see, get(format!("/api/models?plan={PLAN}&unit={target}")).await));
            results.push((
                "GET /api/reports/{id}/revisions",
                rights.see,
                get(format!("/api/reports/{}/revisions", key(target).id())).await,
            ));

            let put_plan = s
                .client
                .put(s.url(&format!("/api/implementation-plans/{PLAN}/{target}")))
                .bearer_auth(&token)
                .json(&json!({"doc_number": "1/KH", "issued_on": "2024-02-10"}))
                .send()
                .await
                .unwrap()
                .status();
            results.push(("PUT /api/implementation-plans/…", rights.write, put_plan));
            let put_file = s
                .client
                .put(s.url(&format!("/api/implementation-plans/{PLAN}/{target}/file?name=a.pdf")))
                .bearer_auth(&token)
                .header("content-type", "application/pdf")
                .body("%PDF-1.4")
                .send()
                .await
                .unwrap()
                .status();
            results.push(("PUT /api/implementation-plans/…/file", rights.write, put_file));
            let register = s
                .client
                .post(s.url("/api/models"))
                .bearer_auth(&token)
                .json(&json!({"plan_id": PLAN, "unit_id": target, "name": "Mô hình mới", "field": "economy"}))
                .send()
                .await
                .unwrap()
                .status();
            results.push(("POST /api/models", rights.write, register));
            for step in ["recognise", "commend"] {
                let status = s
                    .client
                    .post(s.url(&format!("/api/models/{}/{step}", model_of[target])))
                    .bearer_auth(&token)
                    .json(&json!({"on": "2024-02-03", "note": "Giấy khen"}))
                    .send()
                    .await
                    .unwrap()
                    .status();
                results.push(("POST /api/models/{id}/recognise|commend", rights.review, status));
            }
            // Sync: saving/submitting is writing; returning/accepting is reviewing.
            // A refused push answers 403 and applies nothing.
            let save = device.m(
                key(target),
                0,
                MutationOp::Save {
                    form_id: String::new(),
                    set: [("ii1.sessions".to_string(), "1".to_string())].into(),
                    attach: vec![],
                    detach: vec![],
                },
            );
            // A refused mutation's id is recorded too, so the device's next id follows on.
            let status = device.push_raw(&s, &[save], None).await.status();
            results.push(("POST /api/sync/push save", rights.write, status));
            let accept = device.m(key(target), 0, MutationOp::Accept);
            results.push((
                "POST /api/sync/push accept",
                rights.review,
                device.push_raw(&s, &[accept], None).await.status(),
            ));
            let ret = device.m(key(target), 0, MutationOp::Return { reason: "Xem lại".into() });
            results.push((
                "POST /api/sync/push return",
                rights.review,
                device.push_raw(&s, &[ret], None).await.status(),
            ));

            for (endpoint, expected, status) in results {
                checked += 1;
                let strict = endpoint.starts_with("GET /api/dashboard")
                    || endpoint.starts_with("GET /api/consolidation")
                    || endpoint.starts_with("GET /api/exports")
                    || endpoint == "GET /api/models"
                    || endpoint == "GET /api/implementation-plans";
                let ok = if expected { allowed(status, strict) } else { status == StatusCode::FORBIDDEN };
                if !ok {
                    failures.push(format!(
                        "{role} {username} → {relation} {target}: {endpoint} gave {status}, expected {}",
                        if expected { "allowed" } else { "403" }
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {checked} checks failed:\n{}", failures.len(), failures.join("\n"));

    // Pull: each role receives the reports of exactly the units it may see. The
    // reports that exist now are the ones their own units saved above.
    let filed = [DAKBLA, SOTUPHAP, TP_KONTUM, SONOIVU];
    for (username, _role, _unit, targets) in matrix() {
        let d = Device::new(&s, username, &format!("pull-{}", username.replace('.', "-"))).await;
        let epoch = d.pull(&s, 0, None).await.epoch;
        let units: std::collections::BTreeSet<String> =
            d.pull_all(&s, &epoch).await.into_iter().map(|r| r.key.unit_id).collect();
        for (relation, target, rights) in targets.into_iter().filter(|(_, t, _)| filed.contains(t)) {
            assert_eq!(units.contains(target), rights.see, "{username} pulls {relation} {target}");
            checked += 1;
        }
    }
    assert!(checked >= 200, "{checked}");
    // Without a token: 401 everywhere.
    for path in [q("/api/dashboard", DAKBLA), q("/api/consolidation", DAKBLA), format!("/api/models?plan={PLAN}")] {
        assert_error(s.get(&path).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    s.stop().await;
}
