//! `/quan-tri`: the accounts an administrator manages — a unit filter and a search
//! (both kept in the address, so "back" from an account returns to the same list),
//! cards on a phone and a table on a desktop, and the way to every other screen.

use chrono::Utc;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use super::{
    account_status, failure_view, issue_for_unit, loading_view, role_label, use_units, AdminOnly, ConfirmButton, Ctx,
    OfflineBanner, UnitSelect,
};
use crate::admin_api;
use crate::i18n::T;

/// `/quan-tri?don-vi=…&q=…`.
fn list_href(unit: &str, q: &str) -> String {
    let mut href = String::from("/quan-tri");
    let mut sep = '?';
    if !unit.is_empty() {
        href.push_str(&format!("{sep}don-vi={}", js_sys::encode_uri_component(unit)));
        sep = '&';
    }
    if !q.trim().is_empty() {
        href.push_str(&format!("{sep}q={}", js_sys::encode_uri_component(q.trim())));
    }
    href
}

#[component]
pub fn AdminAccountsPage() -> impl IntoView {
    view! { <AdminOnly><Accounts/></AdminOnly> }
}

#[component]
fn Accounts() -> impl IntoView {
    let ctx = Ctx::new();
    let lang = ctx.lang;
    let query = use_query_map();
    let navigate = use_navigate();
    let unit = Memo::new(move |_| query.with(|q| q.get("don-vi")).unwrap_or_default());
    let q = Memo::new(move |_| query.with(|q| q.get("q")).unwrap_or_default());

    // The pickers' values; the address follows them.
    let unit_choice = RwSignal::new(unit.get_untracked());
    let typed = RwSignal::new(q.get_untracked());
    let go = {
        let navigate = navigate.clone();
        move |unit: String, q: String| {
            navigate(&list_href(&unit, &q), NavigateOptions { replace: true, scroll: false, ..Default::default() })
        }
    };
    {
        let go = go.clone();
        Effect::new(move |prev: Option<String>| {
            let chosen = unit_choice.get();
            if prev.is_some_and(|p| p != chosen) {
                go(chosen.clone(), typed.get_untracked());
            }
            chosen
        });
    }
    // Searching as one types, once the typing pauses (a request per letter on 2G
    // would queue up behind each other).
    let on_input = {
        let go = go.clone();
        move |ev: leptos::ev::Event| {
            let text = event_target_value(&ev);
            typed.set(text.clone());
            let go = go.clone();
            leptos::task::spawn_local(async move {
                gloo_timers::future::TimeoutFuture::new(400).await;
                if typed.try_get_untracked().as_deref() == Some(text.as_str())
                    && q.try_get_untracked().is_some_and(|current| current != text)
                {
                    go(unit_choice.get_untracked(), text);
                }
            });
        }
    };
    let on_submit = {
        let go = go.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            go(unit_choice.get_untracked(), typed.get_untracked());
        }
    };

    let units = use_units(ctx);
    let accounts = LocalResource::new(move || {
        let online = ctx.online.get();
        let token = ctx.token();
        let (unit, q) = (unit.get(), q.get());
        async move {
            if !online {
                return Err(ctx.offline());
            }
            let token = token.ok_or_else(|| ctx.offline())?;
            admin_api::accounts(&token, Some(&unit), &q).await.map(|r| r.accounts).map_err(|e| ctx.failure(&e))
        }
    });

    let issuing = RwSignal::new(false);
    let issue_error = RwSignal::new(None::<String>);
    let print_unit = {
        let navigate = navigate.clone();
        move |_| {
            let unit_id = Some(unit.get_untracked()).filter(|u| !u.is_empty()).or_else(|| ctx.own_unit());
            let Some(unit_id) = unit_id else { return };
            issuing.set(true);
            issue_error.set(None);
            let navigate = navigate.clone();
            leptos::task::spawn_local(async move {
                let result = issue_for_unit(ctx, unit_id).await;
                issuing.try_set(false);
                match result {
                    Ok(_) => navigate("/quan-tri/phieu", Default::default()),
                    Err(e) => {
                        issue_error.try_set(Some(e));
                    }
                }
            });
        }
    };

    let filters = move || {
        let l = lang.get();
        match units.get() {
            Some(Ok(list)) => view! {
                <label class="admin-field">
                    <span>{l.pick("Đơn vị", "Unit")}</span>
                    <UnitSelect
                        units=list
                        root=ctx.own_unit()
                        value=unit_choice
                        all=l.pick("Tất cả đơn vị", "All units")
                        testid="unit-filter"
                    />
                </label>
            }
            .into_any(),
            Some(Err(e)) => failure_view(ctx, e),
            None => ().into_any(),
        }
    };

    let list = move || {
        let l = lang.get();
        match accounts.get() {
            None => loading_view(l),
            Some(Err(e)) => failure_view(ctx, e),
            Some(Ok(list)) if list.is_empty() => view! {
                <p class="card empty" data-testid="no-accounts">
                    {l.pick("Không có tài khoản nào khớp.", "No matching account.")}
                </p>
            }
            .into_any(),
            Some(Ok(list)) => {
                let now = Utc::now();
                let pending = list.iter().filter(|a| !a.has_password && a.disabled_at.is_none()).count();
                let disabled = list.iter().filter(|a| a.disabled_at.is_some()).count();
                let summary = format!(
                    "{} {} · {pending} {} · {disabled} {}",
                    list.len(),
                    l.pick("tài khoản", "accounts"),
                    l.pick("chờ kích hoạt", "awaiting enrolment"),
                    l.pick("đã khoá", "disabled"),
                );
                let rows = list
                    .into_iter()
                    .map(|a| {
                        let (status, status_text) = account_status(&a, l, now);
                        let href = format!("/quan-tri/tai-khoan/{}", a.id);
                        let devices = a.active_devices;
                        view! {
                            <tr data-testid="account-row" data-username=a.username.clone() data-status=status>
                                <td class="cell-username" data-label=l.pick("Tên đăng nhập", "Username")>
                                    <a class="row-link" href=href>{a.username.clone()}</a>
                                </td>
                                <td class="cell-name" data-label=l.pick("Họ và tên", "Name")>{a.display_name.clone()}</td>
                                <td class="cell-role" data-label=l.pick("Vai trò", "Role")>{role_label(a.role, l)}</td>
                                <td class="cell-unit" data-label=l.pick("Đơn vị", "Unit")>{a.unit_name.clone()}</td>
                                <td class="cell-status" data-label=l.pick("Trạng thái", "Status")>
                                    <span class=format!("status status-{status}")>{status_text}</span>
                                </td>
                                <td class="cell-devices" data-label=l.pick("Thiết bị", "Devices") data-testid="active-devices">
                                    {devices}
                                    <span class="devices-word">{l.pick(" thiết bị đang đăng nhập", " devices signed in")}</span>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view();
                view! {
                    <p class="muted" data-testid="accounts-summary">{summary}</p>
                    <table class="admin-table accounts-table">
                        <thead>
                            <tr>
                                <th scope="col">{l.pick("Tên đăng nhập", "Username")}</th>
                                <th scope="col">{l.pick("Họ và tên", "Name")}</th>
                                <th scope="col">{l.pick("Vai trò", "Role")}</th>
                                <th scope="col">{l.pick("Đơn vị", "Unit")}</th>
                                <th scope="col">{l.pick("Trạng thái", "Status")}</th>
                                <th scope="col">{l.pick("Thiết bị", "Devices")}</th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                }
                .into_any()
            }
        }
    };

    view! {
        <main class="page admin-page" data-testid="admin-accounts">
            <h1><T vi="Quản trị tài khoản" en="Accounts"/></h1>
            <OfflineBanner online=ctx.online/>
            <nav class="admin-actions" aria-label="Quản trị">
                <a class="btn btn-primary" data-testid="admin-create" href=move || {
                    let u = unit.get();
                    if u.is_empty() { "/quan-tri/tao".to_string() } else { format!("/quan-tri/tao?don-vi={}", js_sys::encode_uri_component(&u)) }
                }>
                    <T vi="Thêm tài khoản" en="Add an account"/>
                </a>
                <a class="btn btn-secondary" data-testid="admin-import" href="/quan-tri/nhap">
                    <T vi="Nhập từ tệp Excel/CSV" en="Import from Excel/CSV"/>
                </a>
                <a class="btn btn-secondary" data-testid="admin-audit" href="/quan-tri/nhat-ky">
                    <T vi="Nhật ký quản trị" en="Audit log"/>
                </a>
                <a class="btn btn-secondary" data-testid="admin-units" href="/quan-tri/don-vi">
                    <T vi="Cây đơn vị" en="Unit tree"/>
                </a>
                <a class="btn btn-secondary" data-testid="admin-plans" href="/quan-tri/ke-hoach">
                    <T vi="Kế hoạch, mẫu báo cáo" en="Plans and forms"/>
                </a>
                <ConfirmButton
                    vi="In phiếu kích hoạt cho đơn vị"
                    en="Print enrolment sheets for the unit"
                    question_vi="Cấp mã kích hoạt mới cho mọi tài khoản chưa kích hoạt của đơn vị đang chọn (cả các đơn vị trực thuộc)? Mã cũ chưa dùng sẽ hết hiệu lực."
                    question_en="Issue new enrolment codes for every account of the selected unit (and the units below it) that has not enrolled yet? Unused earlier codes stop working."
                    confirm_vi="Cấp mã mới và in phiếu"
                    confirm_en="Issue new codes and print"
                    testid="admin-print-unit"
                    confirm_testid="admin-print-unit-confirm"
                    on_confirm=print_unit
                    disabled=Signal::derive(move || issuing.get() || !ctx.online.get())
                />
            </nav>
            {move || issuing.get().then(|| view! {
                <p class="muted" role="status"><T vi="Đang cấp mã…" en="Issuing codes…"/></p>
            })}
            {move || issue_error.get().map(|e| view! {
                <p class="banner banner-error" role="alert" data-testid="print-unit-error">{e}</p>
            })}
            <form class="admin-filters" role="search" on:submit=on_submit>
                {filters}
                <label class="admin-field">
                    <span><T vi="Tìm theo tên hoặc tên đăng nhập" en="Search by name or username"/></span>
                    <input
                        type="search"
                        data-testid="account-search"
                        autocomplete="off"
                        autocapitalize="off"
                        prop:value=move || typed.get()
                        on:input=on_input
                    />
                </label>
            </form>
            {list}
        </main>
    }
}
