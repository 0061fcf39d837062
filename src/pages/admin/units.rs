//! `/quan-tri/don-vi`: the unit tree as data. The province's administrator
//! downloads the tree as CSV, edits it in a spreadsheet (or takes a file from the
//! provincial statistics office), sends it back: the server checks every row and
//! answers what would change — units added, renamed, moved, closed — and nothing is
//! written until "Áp dụng". Below, the closed units that still have accounts, to
//! move to their successor.

use chrono::Utc;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use danvan_core::catalog::UnitImportResponse;
use danvan_core::time::vn_date;
use danvan_core::tree_import::{RowError, UnitChange};
use danvan_core::{OrgUnit, UnitTree};

use super::{error_view, failure_view, loading_view, save_download, AdminOnly, Ctx, OfflineBanner};
use crate::i18n::{Lang, T};
use crate::{admin_api, api, catalog_api};

/// The server's request limit (1 MiB).
const MAX_FILE_BYTES: usize = 1024 * 1024;

#[component]
pub fn AdminUnitsPage() -> impl IntoView {
    view! { <AdminOnly><Units/></AdminOnly> }
}

#[derive(Clone, Debug, PartialEq)]
struct Chosen {
    name: String,
    mime: String,
    bytes: Vec<u8>,
}

/// The column of an import file, as its header says it.
fn column_label(field: &str, lang: Lang) -> &'static str {
    match field {
        "code" => lang.pick("mã", "code"),
        "name" => lang.pick("tên", "name"),
        "kind" => lang.pick("loại", "kind"),
        "parent_code" => lang.pick("mã cấp trên", "parent code"),
        "valid_from" => lang.pick("hiệu lực từ", "valid from"),
        "valid_to" => lang.pick("hiệu lực đến", "valid to"),
        "successor_codes" => lang.pick("mã đơn vị kế thừa", "successor codes"),
        "id" => "id",
        _ => "",
    }
}

#[component]
fn Units() -> impl IntoView {
    let ctx = Ctx::new();
    let lang = ctx.lang;
    let chosen = RwSignal::new(None::<Chosen>);
    let preview = RwSignal::new(None::<UnitImportResponse>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(None::<&'static str>);
    let download_message = RwSignal::new(None::<(bool, String)>);
    // Bumped after an import or a move, so the lists below load again.
    let generation = RwSignal::new(0u32);

    let send = move |file: Chosen, commit: bool| {
        busy.set(Some(if commit { "commit" } else { "preview" }));
        error.set(None);
        leptos::task::spawn_local(async move {
            let result = async {
                if !ctx.is_online_now() {
                    return Err(ctx.offline());
                }
                let token = ctx.token_now().ok_or_else(|| ctx.offline())?;
                catalog_api::import_units(&token, &file.bytes, &file.mime, commit).await.map_err(|e| ctx.failure(&e))
            }
            .await;
            busy.try_set(None);
            match result {
                Ok(r) => {
                    if r.committed {
                        generation.try_update(|g| *g += 1);
                        // The administrator's own phone picks the new tree up now.
                        let state = ctx.state;
                        leptos::task::spawn_local(crate::state::refresh(state));
                    }
                    preview.try_set(Some(r));
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    };
    let on_file = move |ev: leptos::ev::Event| {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
        input.set_value("");
        preview.set(None);
        error.set(None);
        if file.size() as usize > MAX_FILE_BYTES {
            error.set(Some(ctx.pick("Tệp lớn quá 1 MB.", "The file is larger than 1 MB.").to_string()));
            return;
        }
        let (name, mime) = (file.name(), file.type_());
        busy.set(Some("preview"));
        leptos::task::spawn_local(async move {
            match crate::web::blob_bytes(file.as_ref()).await {
                Ok(bytes) => {
                    let c = Chosen { name, mime, bytes };
                    chosen.try_set(Some(c.clone()));
                    send(c, false);
                }
                Err(e) => {
                    busy.try_set(None);
                    error.try_set(Some(e));
                }
            }
        });
    };
    let export = move |_| {
        download_message.set(None);
        if !ctx.is_online_now() {
            download_message.set(Some((false, ctx.offline())));
            return;
        }
        let Some(token) = ctx.token_now() else { return };
        leptos::task::spawn_local(async move {
            let message = match admin_api::download(&token, "units/export.csv").await {
                Ok(d) => match save_download(d, "cay-don-vi.csv") {
                    Ok(name) => (true, format!("{} {name}", ctx.pick("Đã tải về:", "Downloaded:"))),
                    Err(e) => (false, e),
                },
                Err(e) => (false, ctx.failure(&e)),
            };
            download_message.try_set(Some(message));
        });
    };
    let can_commit = move || {
        preview.with(|p| {
            p.as_ref().is_some_and(|p| p.valid && !p.committed && p.changes.as_ref().is_some_and(|c| !c.is_empty()))
        }) && busy.get().is_none()
            && ctx.online.get()
    };
    let commit = move |_| {
        if let Some(c) = chosen.get_untracked() {
            send(c, true);
        }
    };

    view! {
        <main class="page admin-page" data-testid="admin-units-page">
            <a class="back-link" href="/quan-tri"><T vi="← Quản trị" en="← Administration"/></a>
            <h1><T vi="Cây đơn vị" en="Unit tree"/></h1>
            <OfflineBanner online=ctx.online/>
            <TreeSummary ctx=ctx generation=generation/>
            <section class="card admin-section">
                <h2><T vi="1. Tải cây đơn vị hiện tại" en="1. Download the current tree"/></h2>
                <p class="muted"><T
                    vi="Tệp CSV gồm các cột: mã, tên, loại (tỉnh, sở, huyện, xã, phường, thị trấn, đặc khu), mã cấp trên, hiệu lực từ, hiệu lực đến (dd/mm/yyyy), mã đơn vị kế thừa (cách nhau bởi dấu ;). Sửa trong Excel rồi gửi lại. Đơn vị đã có báo cáo không bao giờ bị xoá: ghi ngày kết thúc và đơn vị kế thừa."
                    en="CSV columns: code, name, kind (province, department, district, commune, ward, township, special zone), parent code, valid from, valid to (dd/mm/yyyy), successor codes (separated by ;). Edit it in Excel and send it back. Units are never deleted: give a closing date and successors."
                /></p>
                <button type="button" class="btn btn-secondary" data-testid="units-export" on:click=export>
                    <T vi="Tải cây đơn vị (.csv)" en="Download the tree (.csv)"/>
                </button>
                {move || download_message.get().map(|(ok, m)| view! {
                    <p class=if ok { "muted" } else { "form-error" } role="status">{m}</p>
                })}
            </section>
            <section class="card admin-section">
                <h2><T vi="2. Gửi tệp đã sửa" en="2. Send the edited file"/></h2>
                <label class="btn btn-primary file-button">
                    <input type="file" accept=".csv,.xlsx,.json" data-testid="units-file"
                        disabled=move || busy.get().is_some() on:change=on_file/>
                    <T vi="Chọn tệp .csv, .xlsx hoặc .json" en="Choose a .csv, .xlsx or .json file"/>
                </label>
                {move || chosen.get().map(|c| view! { <p class="muted">{c.name}</p> })}
                {move || busy.get().map(|b| view! {
                    <p class="muted" role="status">{if b == "commit" {
                        ctx.pick("Đang áp dụng…", "Applying…")
                    } else {
                        ctx.pick("Đang kiểm tra tệp…", "Checking the file…")
                    }}</p>
                })}
                {move || error.get().map(|e| view! { <p class="banner banner-error" role="alert" data-testid="units-error">{e}</p> })}
            </section>
            {move || preview.get().map(|r| view! { <Preview response=r lang=lang.get()/> })}
            {move || preview.with(|p| p.is_some()).then(|| view! {
                <div class="import-commit-bar">
                    {move || if preview.with(|p| p.as_ref().is_some_and(|p| p.committed)) {
                        view! {
                            <p class="banner banner-info" role="status" data-testid="units-applied">
                                <T vi="Đã áp dụng. Điện thoại nhận cây đơn vị mới ở lần đồng bộ kế tiếp." en="Applied. Phones get the new tree at their next sync."/>
                            </p>
                        }.into_any()
                    } else {
                        view! {
                            <button type="button" class="btn btn-primary" data-testid="units-commit"
                                disabled=move || !can_commit() on:click=commit>
                                <T vi="Áp dụng thay đổi" en="Apply the changes"/>
                            </button>
                        }.into_any()
                    }}
                </div>
            })}
            <ClosedWithAccounts ctx=ctx generation=generation/>
        </main>
    }
}

/// How many units are open today, by kind, and how many are closed.
#[component]
fn TreeSummary(ctx: Ctx, generation: RwSignal<u32>) -> impl IntoView {
    let units = LocalResource::new(move || {
        let _ = generation.get();
        let token = ctx.token();
        async move {
            let token = token.ok_or_else(|| ctx.offline())?;
            api::units(&token).await.map(|u| u.units).map_err(|e| ctx.failure(&e))
        }
    });
    move || {
        let lang = ctx.lang.get();
        match units.get() {
            None => loading_view(lang),
            Some(Err(e)) => failure_view(ctx, e),
            Some(Ok(units)) => {
                let today = vn_date(Utc::now());
                let open: Vec<&OrgUnit> = units.iter().filter(|u| u.valid_on(today)).collect();
                let closed = units.len() - open.len();
                let mut kinds: Vec<(&'static str, usize)> = Vec::new();
                for u in &open {
                    let label = u.kind_label_vi();
                    match kinds.iter_mut().find(|(l, _)| *l == label) {
                        Some((_, n)) => *n += 1,
                        None => kinds.push((label, 1)),
                    }
                }
                let line = kinds.iter().map(|(l, n)| format!("{l}: {n}")).collect::<Vec<_>>().join(" · ");
                view! {
                    <section class="card admin-section" data-testid="units-summary">
                        <p><strong>{format!("{} {}", open.len(), lang.pick("đơn vị đang hoạt động", "units open today"))}</strong></p>
                        <p class="muted">{line}</p>
                        <p class="muted">{format!("{closed} {}", lang.pick("đơn vị đã đóng (giữ lại cùng báo cáo cũ)", "closed units (kept with their reports)"))}</p>
                    </section>
                }
                .into_any()
            }
        }
    }
}

#[component]
fn Preview(response: UnitImportResponse, lang: Lang) -> impl IntoView {
    let errors = response.errors.clone();
    let has_errors = !errors.is_empty();
    let error_rows = errors
        .into_iter()
        .map(|RowError { line, field, message }| {
            let column = column_label(&field, lang);
            view! {
                <tr data-testid="units-row-error" data-line=line data-field=field.clone()>
                    <td>{if line == 0 { "—".to_string() } else { line.to_string() }}</td>
                    <td>{column}</td>
                    <td>{message}</td>
                </tr>
            }
        })
        .collect_view();
    let changes = response.changes.clone().unwrap_or_default();
    let empty = response.valid && changes.is_empty();
    let groups = [
        ("added", lang.pick("Thêm", "Added"), changes.added),
        ("renamed", lang.pick("Đổi tên", "Renamed"), changes.renamed),
        ("moved", lang.pick("Chuyển đơn vị cấp trên", "Moved"), changes.moved),
        ("closed", lang.pick("Đóng", "Closed"), changes.closed),
        ("updated", lang.pick("Sửa khác", "Other changes"), changes.updated),
    ]
    .into_iter()
    .filter(|(_, _, list)| !list.is_empty())
    .map(|(key, title, list)| view! { <ChangeGroup key=key title=title list=list/> })
    .collect_view();
    view! {
        <section class="card admin-section" data-testid="units-preview" data-valid=response.valid.to_string()>
            <h2>{lang.pick("3. Kiểm tra", "3. Check")}</h2>
            {has_errors.then(|| view! {
                <p class="import-summary bad">{lang.pick("Tệp có lỗi — sửa rồi chọn lại. Chưa có gì thay đổi.", "The file has errors — fix it and choose it again. Nothing was changed.")}</p>
                <div class="table-scroll">
                    <table class="admin-table">
                        <thead><tr>
                            <th scope="col">{lang.pick("Dòng", "Line")}</th>
                            <th scope="col">{lang.pick("Cột", "Column")}</th>
                            <th scope="col">{lang.pick("Lỗi", "Error")}</th>
                        </tr></thead>
                        <tbody>{error_rows}</tbody>
                    </table>
                </div>
            })}
            {empty.then(|| view! { <p class="import-summary ok">{lang.pick("Không có gì thay đổi.", "Nothing would change.")}</p> })}
            {groups}
            {(response.valid && !empty).then(|| view! {
                <p class="muted">{format!("{} {}", changes.unchanged, lang.pick("đơn vị không đổi", "units unchanged"))}</p>
            })}
        </section>
    }
}

#[component]
fn ChangeGroup(key: &'static str, title: &'static str, list: Vec<UnitChange>) -> impl IntoView {
    let n = list.len();
    let items = list
        .into_iter()
        .map(|u| {
            let before = u.before.map(|b| format!(" ← {b}"));
            let detail = u.detail.map(|d| format!(" — {d}"));
            view! { <li data-id=u.id><strong>{u.code}</strong>" "{u.name}{before}{detail}</li> }
        })
        .collect_view();
    view! {
        <details class="change-group" data-testid=format!("units-{key}") open=n <= 12>
            <summary>{format!("{title}: {n}")}</summary>
            <ul>{items}</ul>
        </details>
    }
}

/// Closed units that still have accounts, each with a button per successor.
#[component]
fn ClosedWithAccounts(ctx: Ctx, generation: RwSignal<u32>) -> impl IntoView {
    let data = LocalResource::new(move || {
        let _ = generation.get();
        let token = ctx.token();
        async move {
            let token = token.ok_or_else(|| ctx.offline())?;
            let units = api::units(&token).await.map_err(|e| ctx.failure(&e))?.units;
            let accounts = admin_api::accounts(&token, None, "").await.map_err(|e| ctx.failure(&e))?.accounts;
            Ok::<_, String>((units, accounts))
        }
    });
    let message = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);
    let mover = move |from: String, to: String| {
        busy.set(true);
        message.set(None);
        leptos::task::spawn_local(async move {
            let result = async {
                let token = ctx.token_now().ok_or_else(|| ctx.offline())?;
                catalog_api::move_accounts(&token, &from, &to).await.map_err(|e| ctx.failure(&e))
            }
            .await;
            busy.try_set(false);
            match result {
                Ok(r) => {
                    message.try_set(Some((
                        true,
                        format!("{} {}", ctx.pick("Đã chuyển tài khoản:", "Accounts moved:"), r.moved),
                    )));
                    generation.try_update(|g| *g += 1);
                }
                Err(e) => {
                    message.try_set(Some((false, e)));
                }
            }
        });
    };
    move || {
        let lang = ctx.lang.get();
        let body = match data.get() {
            None => loading_view(lang),
            Some(Err(e)) => failure_view(ctx, e),
            Some(Ok((units, accounts))) => {
                let Ok(tree) = UnitTree::new(units) else {
                    return error_view("Cây đơn vị không hợp lệ".into());
                };
                let today = vn_date(Utc::now());
                let mut rows = Vec::new();
                for u in tree.all().iter().filter(|u| u.is_closed() && !u.valid_on(today) && !u.successors.is_empty()) {
                    let n = accounts.iter().filter(|a| a.unit_id == u.id).count();
                    if n > 0 {
                        rows.push((u.clone(), n));
                    }
                }
                if rows.is_empty() {
                    view! { <p class="muted" data-testid="closed-none">{lang.pick("Không còn tài khoản nào ở đơn vị đã đóng.", "No account is left at a closed unit.")}</p> }.into_any()
                } else {
                    rows.into_iter()
                        .map(|(u, n)| {
                            let buttons = u
                                .successors
                                .iter()
                                .filter_map(|s| tree.get(s).cloned())
                                .map(|s| {
                                    let (from, to) = (u.id.clone(), s.id.clone());
                                    view! {
                                        <button type="button" class="btn btn-secondary" data-testid="move-accounts"
                                            data-to=s.id.clone() disabled=move || busy.get()
                                            on:click=move |_| mover(from.clone(), to.clone())>
                                            {format!("{} {}", lang.pick("Chuyển sang", "Move to"), s.name)}
                                        </button>
                                    }
                                })
                                .collect_view();
                            view! {
                                <div class="closed-unit" data-testid="closed-unit" data-unit=u.id.clone()>
                                    <p><strong>{u.name.clone()}</strong>" "<span class="muted">{u.validity_label_vi()}</span></p>
                                    <p class="muted">{format!("{n} {}", lang.pick("tài khoản", "accounts"))}</p>
                                    <div class="admin-buttons">{buttons}</div>
                                </div>
                            }
                        })
                        .collect_view()
                        .into_any()
                }
            }
        };
        view! {
            <section class="card admin-section" data-testid="closed-with-accounts">
                <h2>{lang.pick("Tài khoản ở đơn vị đã đóng", "Accounts at closed units")}</h2>
                <p class="muted">{lang.pick(
                    "Cán bộ của đơn vị đã sáp nhập tiếp tục làm việc ở đơn vị kế thừa: chuyển tài khoản để họ nhận nhiệm vụ mới; báo cáo cũ vẫn xem được.",
                    "Officials of a merged unit carry on at its successor: move their accounts so they get the new tasks; their old reports stay readable."
                )}</p>
                {move || message.get().map(|(ok, m)| view! {
                    <p class=if ok { "banner banner-info" } else { "banner banner-error" } role="status" data-testid="move-message">{m}</p>
                })}
                {body}
            </section>
        }
        .into_any()
    }
}
