//! `/quan-tri/nhap`: many accounts at once from a spreadsheet (XLSX or CSV, the
//! templates to download here). Choosing the file sends it for a preview at once;
//! the rows and their errors are shown; "Tạo tài khoản" commits only a file whose
//! every row is valid (the server writes all or nothing), and the new accounts'
//! enrolment codes go to the sheets to print.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use wasm_bindgen::JsCast;

use danvan_core::account::{ImportResponse, ImportRow};

use super::{keep_codes, save_download, AdminOnly, Ctx, OfflineBanner};
use crate::admin_api;
use crate::i18n::{Lang, T};

/// The server's request limit (1 MiB): 2,000 rows of CSV are about 150 KB.
const MAX_FILE_BYTES: usize = 1024 * 1024;

#[component]
pub fn AdminImportPage() -> impl IntoView {
    view! { <AdminOnly><Import/></AdminOnly> }
}

/// The file as chosen: sent again, unchanged, to commit.
#[derive(Clone, Debug, PartialEq)]
struct Chosen {
    name: String,
    mime: String,
    bytes: Vec<u8>,
}

#[component]
fn Import() -> impl IntoView {
    let ctx = Ctx::new();
    let lang = ctx.lang;
    let navigate = use_navigate();
    let chosen = RwSignal::new(None::<Chosen>);
    let preview = RwSignal::new(None::<ImportResponse>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(None::<&'static str>);
    let download_message = RwSignal::new(None::<(bool, String)>);

    let send = move |file: Chosen, commit: bool| {
        busy.set(Some(if commit { "commit" } else { "preview" }));
        error.set(None);
        leptos::task::spawn_local(async move {
            let result = async {
                if !ctx.is_online_now() {
                    return Err(ctx.offline());
                }
                let token = ctx.token_now().ok_or_else(|| ctx.offline())?;
                admin_api::import(&token, &file.bytes, &file.mime, commit).await.map_err(|e| ctx.failure(&e))
            }
            .await;
            busy.try_set(None);
            match result {
                Ok(r) => {
                    if r.committed {
                        keep_codes(ctx, r.codes.clone());
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
        // Cleared so choosing the same file again (after fixing it) sends it again.
        input.set_value("");
        preview.set(None);
        error.set(None);
        let name = file.name();
        let size = file.size() as usize;
        if size > MAX_FILE_BYTES {
            error.set(Some(
                ctx.pick(
                    "Tệp lớn quá 1 MB. Mỗi lần nhập tối đa 2.000 tài khoản; hãy chia tệp.",
                    "The file is larger than 1 MB. At most 2,000 accounts per import; split the file.",
                )
                .to_string(),
            ));
            return;
        }
        let mime = file.type_();
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
    let commit = move |_| {
        if let Some(c) = chosen.get_untracked() {
            send(c, true);
        }
    };
    let template = move |path: &'static str, fallback: &'static str| {
        download_message.set(None);
        if !ctx.is_online_now() {
            download_message.set(Some((false, ctx.offline())));
            return;
        }
        let Some(token) = ctx.token_now() else { return };
        leptos::task::spawn_local(async move {
            let message = match admin_api::download(&token, path).await {
                Ok(d) => match save_download(d, fallback) {
                    Ok(name) => (true, format!("{} {name}", ctx.pick("Đã tải về:", "Downloaded:"))),
                    Err(e) => (false, e),
                },
                Err(e) => (false, ctx.failure(&e)),
            };
            download_message.try_set(Some(message));
        });
    };
    let print = Callback::new(move |_: ()| navigate("/quan-tri/phieu", Default::default()));

    let result = move || {
        let l = lang.get();
        let r = preview.get()?;
        Some(view! { <Preview response=r lang=l/> })
    };
    let can_commit = move || {
        preview.with(|p| p.as_ref().is_some_and(|p| p.valid && !p.committed))
            && busy.get().is_none()
            && ctx.online.get()
    };
    let committed = move || preview.with(|p| p.as_ref().filter(|p| p.committed).map(|p| p.codes.len()));

    view! {
        <main class="page admin-page" data-testid="admin-import-page">
            <a class="back-link" href="/quan-tri"><T vi="← Quản trị tài khoản" en="← Accounts"/></a>
            <h1><T vi="Nhập tài khoản từ tệp Excel/CSV" en="Import accounts from Excel/CSV"/></h1>
            <OfflineBanner online=ctx.online/>
            <section class="card admin-section">
                <h2><T vi="1. Tải tệp mẫu" en="1. Download a template"/></h2>
                <p class="muted"><T
                    vi="Mỗi dòng một tài khoản: tên đăng nhập, họ và tên, mã đơn vị, vai trò, điện thoại, email. Tệp Excel có sẵn danh sách mã đơn vị."
                    en="One account per row: username, full name, unit code, role, phone, email. The Excel template lists the unit codes."
                /></p>
                <div class="admin-buttons">
                    <button type="button" class="btn btn-secondary" data-testid="template-xlsx"
                        on:click=move |_| template("accounts/template.xlsx", "mau-tai-khoan.xlsx")>
                        <T vi="Tải tệp mẫu Excel (.xlsx)" en="Excel template (.xlsx)"/>
                    </button>
                    <button type="button" class="btn btn-secondary" data-testid="template-csv"
                        on:click=move |_| template("accounts/template.csv", "mau-tai-khoan.csv")>
                        <T vi="Tải tệp mẫu CSV" en="CSV template"/>
                    </button>
                </div>
                {move || download_message.get().map(|(ok, m)| view! {
                    <p class=if ok { "muted" } else { "form-error" } role="status" data-testid="download-message">{m}</p>
                })}
            </section>
            <section class="card admin-section">
                <h2><T vi="2. Chọn tệp đã điền" en="2. Choose the filled-in file"/></h2>
                <label class="btn btn-primary file-button">
                    <input
                        type="file"
                        accept=".xlsx,.csv"
                        data-testid="import-file"
                        disabled=move || busy.get().is_some()
                        on:change=on_file
                    />
                    <T vi="Chọn tệp .xlsx hoặc .csv" en="Choose an .xlsx or .csv file"/>
                </label>
                {move || chosen.get().map(|c| view! { <p class="muted" data-testid="import-file-name">{c.name}</p> })}
                {move || match busy.get() {
                    Some("commit") => Some(view! { <p class="muted" role="status"><T vi="Đang tạo tài khoản…" en="Creating the accounts…"/></p> }),
                    Some(_) => Some(view! { <p class="muted" role="status"><T vi="Đang kiểm tra tệp…" en="Checking the file…"/></p> }),
                    None => None,
                }}
                {move || error.get().map(|e| view! { <p class="banner banner-error" role="alert" data-testid="import-error">{e}</p> })}
            </section>
            {result}
            {move || preview.with(|p| p.is_some()).then(|| view! {
                <div class="import-commit-bar">
                    {move || match committed() {
                        Some(n) => view! {
                            <p class="banner banner-info" role="status" data-testid="import-result">
                                {format!("{} {n} {}", lang.get().pick("Đã tạo", "Created"), lang.get().pick("tài khoản", "accounts"))}
                            </p>
                            <button type="button" class="btn btn-primary" data-testid="print-sheets" on:click=move |_| print.run(())>
                                <T vi="In phiếu kích hoạt" en="Print the enrolment sheets"/>
                            </button>
                        }
                        .into_any(),
                        None => view! {
                            <button type="button" class="btn btn-primary" data-testid="import-commit"
                                disabled=move || !can_commit() on:click=commit>
                                {move || {
                                    let l = lang.get();
                                    match preview.with(|p| p.as_ref().map(|p| (p.valid, p.rows.len()))) {
                                        Some((true, n)) => format!("{} {n} {}", l.pick("Tạo", "Create"), l.pick("tài khoản", "accounts")),
                                        _ => l.pick("Tạo tài khoản (sửa hết lỗi trước)", "Create the accounts (fix every error first)").to_string(),
                                    }
                                }}
                            </button>
                        }
                        .into_any(),
                    }}
                </div>
            })}
        </main>
    }
}

#[component]
fn Preview(response: ImportResponse, lang: Lang) -> impl IntoView {
    let bad = response.rows.iter().filter(|r| !r.errors.is_empty()).count();
    let good = response.rows.len() - bad;
    let summary = if response.committed {
        None
    } else if bad > 0 {
        Some((
            false,
            format!(
                "{bad} {}",
                lang.pick("dòng có lỗi — sửa tệp rồi chọn lại", "rows with errors — fix the file and choose it again")
            ),
        ))
    } else if response.file_errors.is_empty() && good > 0 {
        Some((true, format!("{good} {}", lang.pick("dòng hợp lệ", "valid rows"))))
    } else {
        None
    };
    let file_errors =
        response.file_errors.iter().map(|e| view! { <li class="import-error">{e.clone()}</li> }).collect_view();
    let has_file_errors = !response.file_errors.is_empty();
    let rows = response.rows.into_iter().map(|r| view! { <Row row=r lang=lang/> }).collect_view();
    view! {
        <section class="card admin-section" data-testid="import-preview" data-valid=response.valid.to_string()>
            <h2>{lang.pick("3. Kiểm tra", "3. Check")}</h2>
            {has_file_errors.then(|| view! {
                <ul class="banner banner-error file-errors" role="alert" data-testid="import-file-errors">{file_errors}</ul>
            })}
            {summary.map(|(ok, text)| view! {
                <p class=if ok { "import-summary ok" } else { "import-summary bad" } data-testid="import-summary">{text}</p>
            })}
            <div class="table-scroll">
                <table class="admin-table import-table">
                    <thead>
                        <tr>
                            <th scope="col">{lang.pick("Dòng", "Row")}</th>
                            <th scope="col">{lang.pick("Tên đăng nhập", "Username")}</th>
                            <th scope="col">{lang.pick("Họ và tên", "Name")}</th>
                            <th scope="col">{lang.pick("Đơn vị", "Unit")}</th>
                            <th scope="col">{lang.pick("Vai trò", "Role")}</th>
                            <th scope="col">{lang.pick("Điện thoại", "Phone")}</th>
                            <th scope="col">{lang.pick("Email", "Email")}</th>
                        </tr>
                    </thead>
                    {rows}
                </table>
            </div>
        </section>
    }
}

#[component]
fn Row(row: ImportRow, lang: Lang) -> impl IntoView {
    let has_errors = !row.errors.is_empty();
    let unit = match &row.unit_name {
        Some(name) => format!("{name} ({})", row.unit_code),
        None => row.unit_code.clone(),
    };
    let errors = row.errors.into_iter().map(|e| view! { <li>{e}</li> }).collect_view();
    let dash = || "—".to_string();
    view! {
        // One body per row: the row and, under it, what is wrong with it.
        <tbody
            data-testid="import-row"
            data-line=row.line
            data-username=row.username.clone()
            data-valid=(!has_errors).to_string()
            class=if has_errors { "import-row has-errors" } else { "import-row" }
        >
            <tr>
                <th scope="row" class="cell-line" data-label=lang.pick("Dòng", "Row")>{row.line}</th>
                <td class="cell-username" data-label=lang.pick("Tên đăng nhập", "Username")>{row.username.clone()}</td>
                <td class="cell-name" data-label=lang.pick("Họ và tên", "Name")>{row.display_name.clone()}</td>
                <td class="cell-unit" data-label=lang.pick("Đơn vị", "Unit")>{unit}</td>
                <td class="cell-role" data-label=lang.pick("Vai trò", "Role")>{row.role.clone()}</td>
                <td class="cell-phone" data-label=lang.pick("Điện thoại", "Phone")>{row.phone.clone().unwrap_or_else(dash)}</td>
                <td class="cell-email" data-label=lang.pick("Email", "Email")>{row.email.clone().unwrap_or_else(dash)}</td>
            </tr>
            {has_errors.then(|| view! {
                <tr class="error-line">
                    <td colspan="7">
                        <ul class="import-error" data-testid="import-row-errors">{errors}</ul>
                    </td>
                </tr>
            })}
        </tbody>
    }
}
