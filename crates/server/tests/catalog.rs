//! Units, plans and forms as runtime data, over real HTTP on a real database:
//! unit-tree imports (CSV, XLSX, JSON) with previews and exact errors, a plan copied
//! to a new year, edited and published, corrections as new versions that keep what
//! was filed, and phones told at their next sync.

mod common;

use common::{add_user, applied, assert_error, count_rows, Device, TestServer, PLAN};
use danvan_core::api::{FormResponse, PlansResponse, TasksResponse, UnitsResponse};
use danvan_core::catalog::{
    CopyPlanResponse, DraftResponse, MoveAccountsResponse, PlanCheck, PlanDocument, PlansAdminResponse,
    UnitImportResponse,
};
use danvan_core::form::{Field, FieldKind};
use danvan_core::sync::MutationOp;
use danvan_core::{Period, ReportKey, Values};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const NEW_PLAN: &str = "kh-413-ubnd-2026";

async fn post_bytes(s: &TestServer, path: &str, token: &str, body: Vec<u8>) -> reqwest::Response {
    s.client.post(s.url(path)).bearer_auth(token).body(body).send().await.unwrap()
}

async fn import_units(s: &TestServer, token: &str, file: &[u8], commit: bool) -> UnitImportResponse {
    let path = if commit { "/api/admin/units/import?commit=1" } else { "/api/admin/units/import" };
    let res = post_bytes(s, path, token, file.to_vec()).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn send_json(s: &TestServer, method: Method, path: &str, token: &str, body: Value) -> reqwest::Response {
    s.client.request(method, s.url(path)).bearer_auth(token).json(&body).send().await.unwrap()
}

async fn catalog_version(s: &TestServer, token: &str) -> i64 {
    let res = s
        .client
        .post(s.url("/api/sync/pull"))
        .bearer_auth(token)
        .json(&json!({"client_id": "catalog-watch", "cursor": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    body["catalog_version"].as_i64().expect("the pull says the catalog version")
}

const CSV_HEADER: &str = "mã,tên,loại,mã cấp trên,hiệu lực từ,hiệu lực đến,mã đơn vị kế thừa\r\n";

#[tokio::test]
async fn a_unit_tree_change_is_previewed_then_applied_without_a_restart() {
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    let admin = s.login("admin").await.token;
    let phone = s.login("xa.dakbla").await.token;
    let version_before = catalog_version(&s, &phone).await;
    let store = &s.state.store;
    let units_before = count_rows(store, "units").await;

    // A new ward from 01/01/2027 and a renamed one.
    let file = format!(
        "{CSV_HEADER}99001,Phường Thử Nghiệm,phường,51,01/01/2027,,\r\n23302,Phường Đăk Bla (mới),phường,51,,,\r\n"
    );
    let preview = import_units(&s, &admin, file.as_bytes(), false).await;
    assert!(preview.valid && !preview.committed, "{preview:?}");
    let changes = preview.changes.as_ref().unwrap();
    assert_eq!(changes.added.len(), 1);
    assert_eq!(changes.added[0].id, "quangngai.99001");
    assert_eq!(changes.added[0].detail.as_deref(), Some("Tỉnh Quảng Ngãi, từ 01/01/2027"));
    assert_eq!(changes.renamed[0].before.as_deref(), Some("Phường Đăk Bla"));
    assert_eq!(count_rows(store, "units").await, units_before, "a preview writes nothing");

    let done = import_units(&s, &admin, file.as_bytes(), true).await;
    assert!(done.committed, "{done:?}");
    let units: UnitsResponse = s.get_json("/api/units", &admin).await;
    let ward = units.units.iter().find(|u| u.id == "quangngai.99001").expect("the new ward, without a restart");
    assert_eq!(ward.valid_from, chrono::NaiveDate::from_ymd_opt(2027, 1, 1));
    assert!(units.units.iter().any(|u| u.name == "Phường Đăk Bla (mới)"));
    assert_eq!(catalog_version(&s, &phone).await, version_before + 1, "phones learn at their next sync");
    let audit: Value = s.get_json("/api/admin/audit", &admin).await;
    assert_eq!(audit["entries"][0]["action"], "units.import");
    assert!(audit["entries"][0]["detail"].as_str().unwrap().starts_with("thêm 1, đổi tên 1"));

    // The export is the import format: imported back as it is, it changes nothing.
    let res = s.get_auth("/api/admin/units/export.csv", &admin).await;
    assert_eq!(res.status(), StatusCode::OK);
    let exported = res.bytes().await.unwrap().to_vec();
    let again = import_units(&s, &admin, &exported, false).await;
    assert!(again.valid, "{:?}", again.errors);
    let c = again.changes.unwrap();
    assert!(
        c.added.is_empty() && c.renamed.is_empty() && c.moved.is_empty() && c.closed.is_empty() && c.updated.is_empty(),
        "{c:?}"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_bad_unit_file_names_every_line_and_column_and_changes_nothing() {
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    let admin = s.login("admin").await.token;
    let store = &s.state.store;
    let units_before = count_rows(store, "units").await;
    let file = format!(
        "{CSV_HEADER}99001,Xã Mới,xã,51,01/01/2027,,\r\n,Xã Không Mã,xã,51,,,\r\n99003,Xã B,làng,51,,,\r\n99004,Xã C,xã,77777,,,\r\n99005,Xã D,xã,51,32/13/2027,,\r\n"
    );
    let res = import_units(&s, &admin, file.as_bytes(), true).await;
    assert!(!res.valid && !res.committed);
    let got: Vec<(usize, &str)> = res.errors.iter().map(|e| (e.line, e.field.as_str())).collect();
    assert_eq!(got, [(3, "code"), (4, "kind"), (6, "valid_from")], "{:?}", res.errors);
    assert_eq!(res.errors[0].message, "Thiếu mã đơn vị");
    // The rows are fine on their own: the reference is checked next.
    let file = format!("{CSV_HEADER}99004,Xã C,xã,77777,,,\r\n");
    let res = import_units(&s, &admin, file.as_bytes(), true).await;
    assert_eq!((res.errors[0].line, res.errors[0].field.as_str()), (2, "parent_code"));
    assert!(res.errors[0].message.starts_with("Không có đơn vị cấp trên mã «77777» vào ngày"), "{:?}", res.errors);
    // Not a table at all, or without the columns.
    let res = import_units(&s, &admin, "tên,mã\r\nA,1\r\n".as_bytes(), true).await;
    assert_eq!(res.errors[0].line, 0);
    assert!(res.errors[0].message.contains("thiếu cột «loại»"), "{:?}", res.errors);
    let res = import_units(&s, &admin, b"[{\"code\": 1}]", true).await;
    assert!(res.errors[0].message.starts_with("Đơn vị thứ 1:"), "{:?}", res.errors);
    assert_eq!(count_rows(store, "units").await, units_before, "nothing half-applied");
    let audit = store.audit_entries(&danvan_server::store::DataScope::All, None, 10_000).await.unwrap();
    assert_eq!(audit.iter().filter(|e| e.action == "units.import" && e.actor == "admin").count(), 0);
    s.stop().await;
}

#[tokio::test]
async fn only_a_province_administrator_changes_the_catalog() {
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    add_user(dir.path(), "qt.huyen", "admin", "kontum.tpkontum").await;
    let district_admin = s.login("qt.huyen").await.token;
    let reporter = s.login("xa.dakbla").await.token;
    let file = format!("{CSV_HEADER}99001,Xã Mới,xã,51,01/01/2027,,\r\n");
    for token in [&district_admin, &reporter] {
        let res = post_bytes(&s, "/api/admin/units/import?commit=1", token, file.clone().into_bytes()).await;
        assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;
        let res =
            send_json(&s, Method::POST, &format!("/api/admin/plans/{PLAN}/copy"), token, json!({"year": 2026})).await;
        assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let res = post_bytes(&s, "/api/admin/units/import", "", file.into_bytes()).await;
    assert_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    s.stop().await;
}

#[tokio::test]
async fn units_import_from_xlsx_and_json_too() {
    let (s, _dir) = TestServer::start().await;
    let admin = s.login("admin").await.token;
    // XLSX as Excel writes it: a date cell and a code typed as a number.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["mã", "tên", "loại", "mã cấp trên", "hiệu lực từ"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_number(1, 0, 99010.0).unwrap();
    sheet.write_string(1, 1, "Đặc khu Thử").unwrap();
    sheet.write_string(1, 2, "đặc khu").unwrap();
    sheet.write_number(1, 3, 51.0).unwrap();
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2027, 1, 1).unwrap();
    let format = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
    sheet.write_datetime_with_format(1, 4, &date, &format).unwrap();
    let xlsx = book.save_to_buffer().unwrap();
    let res = import_units(&s, &admin, &xlsx, true).await;
    assert!(res.committed, "{:?}", res.errors);
    let units: UnitsResponse = s.get_json("/api/units", &admin).await;
    let zone = units.units.iter().find(|u| u.code == "99010").unwrap();
    assert_eq!(zone.kind_label_vi(), "Đặc khu");
    assert_eq!(zone.valid_from, chrono::NaiveDate::from_ymd_opt(2027, 1, 1));

    let json = r#"[{"code": "99011", "name": "Xã Thử JSON", "kind": "commune", "parent_code": "51", "valid_from": "2027-01-01"}]"#;
    let res = import_units(&s, &admin, json.as_bytes(), true).await;
    assert!(res.committed, "{:?}", res.errors);
    s.stop().await;
}

/// The 2024 plan copied to 2026, an item edited and a field added, published.
async fn publish_2026(s: &TestServer, admin: &str) -> DraftResponse {
    let res = send_json(s, Method::POST, &format!("/api/admin/plans/{PLAN}/copy"), admin, json!({"year": 2026})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let copy: CopyPlanResponse = res.json().await.unwrap();
    assert_eq!(copy.plan_id, NEW_PLAN);
    assert!(
        copy.notes.reassigned.iter().any(|l| l == "Sở Nội vụ → Sở Nội vụ"),
        "work of Kon Tum's departments goes to Quảng Ngãi's: {:?}",
        copy.notes
    );
    let draft: DraftResponse = s.get_json(&format!("/api/admin/plans/{NEW_PLAN}/draft"), admin).await;
    assert_eq!(draft.doc.plan.issued_on, chrono::NaiveDate::from_ymd_opt(2026, 2, 1).unwrap());
    assert!(draft.check.valid, "{:?}", draft.check.errors);
    let mut doc: PlanDocument = draft.doc;
    doc.plan.items[0].title = "Tuyên truyền, phổ biến năm 2026".into();
    let form = doc.form.as_mut().unwrap();
    form.sections[0].fields.push(Field {
        id: "ii1.digital_sessions".into(),
        label: "Số buổi tuyên truyền trên nền tảng số".into(),
        label_en: "Online sessions".into(),
        kind: FieldKind::Count,
        required: false,
        only: None,
        retired: false,
    });
    let res = send_json(
        s,
        Method::PUT,
        &format!("/api/admin/plans/{NEW_PLAN}/draft"),
        admin,
        serde_json::to_value(&doc).unwrap(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let saved: DraftResponse = res.json().await.unwrap();
    assert!(saved.check.valid && saved.check.changes.as_ref().unwrap().new_plan);
    // Nothing reaches the phones before publishing.
    let plans: PlansResponse = s.get_json("/api/plans", admin).await;
    assert!(plans.plans.iter().all(|p| p.id != NEW_PLAN));
    let res = send_json(s, Method::POST, &format!("/api/admin/plans/{NEW_PLAN}/publish"), admin, json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let published: PlanCheck = res.json().await.unwrap();
    assert!(published.committed && published.version == Some(1), "{published:?}");
    saved
}

#[tokio::test]
async fn next_years_plan_is_copied_edited_published_and_reaches_the_new_communes() {
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    add_user(dir.path(), "xa.dakrowa", "reporter", "quangngai.23332").await;
    let admin = s.login("admin").await.token;
    let phone = s.login("xa.dakrowa").await.token;
    let before = catalog_version(&s, &phone).await;
    publish_2026(&s, &admin).await;
    assert!(catalog_version(&s, &phone).await > before);

    let plans: PlansResponse = s.get_json("/api/plans", &phone).await;
    let plan = plans.plans.iter().find(|p| p.id == NEW_PLAN).expect("published");
    assert_eq!(plan.items[0].title, "Tuyên truyền, phổ biến năm 2026");
    assert_eq!(plan.validity_label(), "01/02/2026 – 31/12/2026");
    let sonoivu_items = plan
        .items
        .iter()
        .flat_map(|i| &i.assigned_to)
        .filter(|a| matches!(a, danvan_core::Assignee::Unit(u) if u == "quangngai.sonoivu"))
        .count();
    assert!(sonoivu_items > 0, "assignments follow the successors");
    let form: FormResponse = s.get_json(&format!("/api/forms/{NEW_PLAN}"), &phone).await;
    assert!(form.form.field("ii1.digital_sessions").is_some());
    // The commune of 2026 has the 2026 tasks; the 2024 ones are not its.
    let tasks: TasksResponse = s.get_json("/api/tasks", &phone).await;
    assert!(tasks.tasks.iter().any(|t| t.plan_id == NEW_PLAN && t.obligation_id == "III.1.monthly-report"));
    assert!(tasks.tasks.iter().all(|t| t.plan_id != PLAN));
    // It files under the new plan, with the new field.
    let mut d = Device::new(&s, "xa.dakrowa", "dakrowa-1").await;
    let key = ReportKey {
        plan_id: NEW_PLAN.into(),
        unit_id: "quangngai.23332".into(),
        period: Period::month(2026, 3).unwrap(),
    };
    let values: Values = [("ii1.digital_sessions".to_string(), "4".to_string())].into();
    let save = d.m(key, 0, MutationOp::Save { form_id: String::new(), set: values, attach: vec![], detach: vec![] });
    assert_eq!(d.push(&s, &[save]).await.results[0].result, applied(1));

    let admin_list: PlansAdminResponse = s.get_json("/api/admin/plans", &admin).await;
    let listed = admin_list.plans.iter().find(|p| p.id == NEW_PLAN).unwrap();
    assert_eq!((listed.published_version, listed.draft.is_none()), (Some(1), true));
    // A second copy to the same year is refused.
    let res =
        send_json(&s, Method::POST, &format!("/api/admin/plans/{PLAN}/copy"), &admin, json!({"year": 2026})).await;
    assert_error(res, StatusCode::CONFLICT, "plan_exists").await;
    s.stop().await;
}

#[tokio::test]
async fn a_correction_is_a_new_version_and_never_invalidates_what_was_filed() {
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    add_user(dir.path(), "xa.dakrowa", "reporter", "quangngai.23332").await;
    let admin = s.login("admin").await.token;
    publish_2026(&s, &admin).await;
    let mut d = Device::new(&s, "xa.dakrowa", "dakrowa-1").await;
    let key = ReportKey {
        plan_id: NEW_PLAN.into(),
        unit_id: "quangngai.23332".into(),
        period: Period::month(2026, 3).unwrap(),
    };
    let values: Values = [("ii1.digital_sessions".to_string(), "4".to_string())].into();
    let save =
        d.m(key.clone(), 0, MutationOp::Save { form_id: String::new(), set: values, attach: vec![], detach: vec![] });
    assert_eq!(d.push(&s, &[save]).await.results[0].result, applied(1));
    // Another month, filed under version 1 only.
    let april = ReportKey { period: Period::month(2026, 4).unwrap(), ..key.clone() };
    let sessions: Values = [("ii1.digital_sessions".to_string(), "1".to_string())].into();
    let save = d.m(
        april.clone(),
        0,
        MutationOp::Save { form_id: String::new(), set: sessions, attach: vec![], detach: vec![] },
    );
    assert_eq!(d.push(&s, &[save]).await.results[0].result, applied(1));
    let (key_id, first_id) = (key.id(), april.id());

    // Version 2: dropping the field is refused, retiring it is fine.
    let res = send_json(&s, Method::POST, &format!("/api/admin/plans/{NEW_PLAN}/draft"), &admin, json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let draft: DraftResponse = res.json().await.unwrap();
    assert_eq!(draft.info.version, 2);
    let mut doc = draft.doc;
    doc.form.as_mut().unwrap().sections[0].fields.retain(|f| f.id != "ii1.digital_sessions");
    let path = format!("/api/admin/plans/{NEW_PLAN}/draft");
    let saved: DraftResponse =
        send_json(&s, Method::PUT, &path, &admin, serde_json::to_value(&doc).unwrap()).await.json().await.unwrap();
    assert!(!saved.check.valid);
    assert!(saved.check.errors[0].contains("không được xoá"), "{:?}", saved.check.errors);
    let res = send_json(&s, Method::POST, &format!("/api/admin/plans/{NEW_PLAN}/publish"), &admin, json!({})).await;
    let refused: PlanCheck = res.json().await.unwrap();
    assert!(!refused.committed && !refused.valid);
    let mut doc = saved.doc;
    let form = doc.form.as_mut().unwrap();
    let mut field = form.sections[0].fields.last().unwrap().clone();
    field = Field {
        id: "ii1.digital_sessions".into(),
        label: "Số buổi trên nền tảng số".into(),
        kind: FieldKind::Count,
        retired: true,
        ..field
    };
    form.sections[0].fields.push(field);
    let saved: DraftResponse =
        send_json(&s, Method::PUT, &path, &admin, serde_json::to_value(&doc).unwrap()).await.json().await.unwrap();
    assert!(saved.check.valid, "{:?}", saved.check.errors);
    let changes = saved.check.changes.unwrap();
    assert_eq!(changes.fields_retired.len(), 1);
    let res = send_json(&s, Method::POST, &format!("/api/admin/plans/{NEW_PLAN}/publish"), &admin, json!({})).await;
    let published: PlanCheck = res.json().await.unwrap();
    assert_eq!((published.committed, published.version), (true, Some(2)));

    // The filed value stays, and the report can still be edited and submitted.
    let reports = d.pull_all(&s, &d.pull(&s, 0, None).await.epoch).await;
    let filed = reports.iter().find(|r| r.key == key).unwrap();
    assert_eq!(filed.value("ii1.digital_sessions"), "4");
    let more = d.m(
        key.clone(),
        1,
        MutationOp::Save {
            form_id: String::new(),
            set: common::complete_values_of(&s, &d.token, NEW_PLAN).await,
            attach: vec![],
            detach: vec![],
        },
    );
    let submit = d.m(key, 2, MutationOp::Submit);
    let res = d.push(&s, &[more, submit]).await;
    assert_eq!(res.results[1].result, applied(3), "{res:?}");
    // The report now points at version 2 (it was written again under it); another
    // report, filed only under version 1, keeps pointing at 1.
    let store = &s.state.store;
    assert_eq!(store.report_plan_version(&key_id).await.unwrap(), Some(2));
    assert_eq!(store.report_plan_version(&first_id).await.unwrap(), Some(1));
    // Versions: 1 and 2 published, no draft.
    let list: PlansAdminResponse = s.get_json("/api/admin/plans", &admin).await;
    let p = list.plans.iter().find(|p| p.id == NEW_PLAN).unwrap();
    assert_eq!((p.published_version, p.draft.is_none()), (Some(2), true));
    let audit: Value = s.get_json("/api/admin/audit", &admin).await;
    let actions: Vec<&str> =
        audit["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(&actions[..4], ["plan.publish", "plan.draft", "plan.publish", "plan.copy"], "{actions:?}");
    s.stop().await;
}

#[tokio::test]
async fn the_accounts_of_a_closed_unit_move_to_its_successor_when_the_admin_says_so() {
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    let admin = s.login("admin").await.token;
    let path = "/api/admin/units/kontum.tpkontum.dakbla/move-accounts";
    let res = send_json(&s, Method::POST, path, &admin, json!({"to": "quangngai.23302"})).await;
    assert_error(res, StatusCode::BAD_REQUEST, "bad_request").await;
    let res = send_json(&s, Method::POST, path, &admin, json!({"to": "quangngai.23332"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let moved: MoveAccountsResponse = res.json().await.unwrap();
    assert_eq!(moved.moved, 1);
    let me = s.login("xa.dakbla").await;
    assert_eq!(me.user.unit_id, "quangngai.23332");
    s.stop().await;
}

/// Saves and submits a complete monthly report.
async fn file_month(s: &TestServer, d: &mut Device, plan: &str, unit: &str, period: Period) {
    let key = ReportKey { plan_id: plan.into(), unit_id: unit.into(), period };
    let values = common::complete_values_of(s, &d.token, plan).await;
    let save =
        d.m(key.clone(), 0, MutationOp::Save { form_id: String::new(), set: values, attach: vec![], detach: vec![] });
    let submit = d.m(key, 1, MutationOp::Submit);
    let res = d.push(s, &[save, submit]).await;
    assert_eq!(res.results[1].result, applied(2), "{res:?}");
}

#[tokio::test]
async fn dashboards_count_a_past_period_over_the_tree_of_then_and_a_current_one_over_today() {
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    add_user(dir.path(), "xa.dakrowa", "reporter", "quangngai.23332").await;
    let admin = s.login("admin").await.token;
    publish_2026(&s, &admin).await;
    let mut old = Device::new(&s, "xa.dakbla", "dakbla-2024").await;
    file_month(&s, &mut old, PLAN, "kontum.tpkontum.dakbla", Period::month(2024, 3).unwrap()).await;
    let mut new = Device::new(&s, "xa.dakrowa", "dakrowa-2026").await;
    file_month(&s, &mut new, NEW_PLAN, "quangngai.23332", Period::month(2026, 3).unwrap()).await;
    let snv = s.login("sonoivu").await.token;

    // 03/2024: Kon Tum with its districts, as it was.
    let past: danvan_core::api::DashboardResponse =
        s.get_json(&format!("/api/dashboard?plan={PLAN}&period=2024-03"), &snv).await;
    assert_eq!(past.dashboard.unit_id, "kontum");
    let city = past.dashboard.rows.iter().find(|r| r.unit_id == "kontum.tpkontum").expect("the district of then");
    assert_eq!(city.subtree.on_time + city.subtree.late, 1, "Xã Đăk Blà's report, where it was filed");
    assert!(past.dashboard.rows.iter().all(|r| !r.unit_id.starts_with("quangngai")));

    // 03/2026: Quảng Ngãi, two levels, its 96 commune-level units.
    let now: danvan_core::api::DashboardResponse =
        s.get_json(&format!("/api/dashboard?plan={NEW_PLAN}&period=2026-03"), &snv).await;
    assert_eq!(now.dashboard.unit_id, "quangngai");
    let communes = now.dashboard.rows.iter().filter(|r| r.kind == danvan_core::UnitKind::Commune).count();
    assert_eq!(communes, 96);
    assert!(now.dashboard.rows.iter().all(|r| !r.has_children || r.unit_id == "quangngai"), "no district level");
    let dakrowa = now.dashboard.rows.iter().find(|r| r.unit_id == "quangngai.23332").unwrap();
    assert_eq!(dakrowa.subtree.on_time + dakrowa.subtree.late, 1);
    assert_eq!(now.dashboard.totals.on_time + now.dashboard.totals.late, 1, "2024 reports stay in 2024");

    // The new commune's official sees its predecessor's 2024 report (read only).
    let reports = new.pull_all(&s, &new.pull(&s, 0, None).await.epoch).await;
    assert!(reports.iter().any(|r| r.key.unit_id == "kontum.tpkontum.dakbla" && r.key.plan_id == PLAN));
    // A period outside the plan names nothing: a 404 with the reason.
    let res = s.get_auth(&format!("/api/dashboard?plan={NEW_PLAN}&period=2025-03"), &snv).await;
    assert_error(res, StatusCode::NOT_FOUND, "period_outside_plan").await;
    s.stop().await;
}

/// Runs the real `danvan-server` binary on the database of `dir`.
fn cli(dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_danvan-server"))
        .args(args)
        .env("DANVAN_DATABASE_URL", common::database_url(dir))
        .env_remove("DANVAN_DEMO")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[tokio::test]
async fn the_command_line_previews_applies_and_a_running_server_picks_it_up() {
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    let admin = s.login("admin").await.token;
    let file = dir.path().join("them-xa.csv");
    std::fs::write(&file, format!("{CSV_HEADER}99020,Xã Dòng Lệnh,xã,51,01/01/2027,,\r\n")).unwrap();
    let file = file.to_str().unwrap();

    let (ok, out, err) = cli(dir.path(), &["import-units", file]);
    assert!(
        ok && out.contains("Thêm (1):") && out.contains("99020 Xã Dòng Lệnh") && out.contains("--apply"),
        "{out}{err}"
    );
    let (ok, out, err) = cli(dir.path(), &["import-units", file, "--apply"]);
    assert!(ok && out.contains("Đã áp dụng"), "{out}{err}");
    // The running server reloads when it notices the version moved.
    danvan_server::catalog::watch(
        s.state.catalog_cell.clone(),
        s.state.store.clone(),
        std::time::Duration::from_millis(50),
    );
    let mut seen = false;
    for _ in 0..100 {
        let units: UnitsResponse = s.get_json("/api/units", &admin).await;
        if units.units.iter().any(|u| u.code == "99020") {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(seen, "the server picked up the change without a restart");

    // A bad file: every error, exit status non-zero, nothing applied.
    std::fs::write(dir.path().join("sai.csv"), format!("{CSV_HEADER},Thiếu mã,xã,51,,,\r\n")).unwrap();
    let (ok, _, err) = cli(dir.path(), &["import-units", dir.path().join("sai.csv").to_str().unwrap(), "--apply"]);
    assert!(!ok && err.contains("Dòng 2, cột code: Thiếu mã đơn vị"), "{err}");

    // A plan file: previewed, published, listed.
    let plan =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/seed/plans/kh-413-ubnd-2024.json"))
            .unwrap();
    let form =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/seed/forms/kh-413-ubnd-2024.json"))
            .unwrap();
    let plan = plan.replace("\"kh-413-ubnd-2024\"", "\"kh-thu-2027\"").replace("\"2024-02-01\"", "\"2027-02-01\"");
    let form = form.replace("kh-413-ubnd-2024", "kh-thu-2027");
    std::fs::write(dir.path().join("plan.json"), plan).unwrap();
    std::fs::write(dir.path().join("form.json"), form).unwrap();
    let (p, f) = (dir.path().join("plan.json"), dir.path().join("form.json"));
    let (ok, out, err) = cli(dir.path(), &["import-plan", p.to_str().unwrap(), f.to_str().unwrap()]);
    // Kon Tum's departments closed in 2025: a 2027 plan cannot give them work.
    assert!(!ok && err.contains("không hoạt động trong thời gian 01/02/2027 – 31/12/2027"), "{out}{err}");
    let (ok, out, _) = cli(dir.path(), &["list-plans"]);
    assert!(ok && out.contains("kh-413-ubnd-2024,413/KH-UBND,01/02/2024 – 31/12/2024,1,"), "{out}");
    assert!(!out.contains("kh-thu-2027"));
    s.stop().await;
}
