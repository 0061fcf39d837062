//! The administrator's screens (`/quan-tri/…`): accounts, creating and importing
//! them, their devices, enrolment sheets to print and the audit log; the unit tree
//! and the plans with their report forms (`units.rs`, `plans.rs`, `plan_editor.rs`).
//!
//! Online only: nothing an administrator does here is queued on the phone, and the
//! enrolment codes the server hands back are secrets shown once — they live in
//! memory only ([`issued`]), never in IndexedDB or localStorage, and are gone
//! after a reload.

mod account;
mod accounts;
mod audit;
mod create;
mod form;
mod import;
mod plan_editor;
mod plans;
mod sheets;
mod units;

pub use account::AdminAccountPage;
pub use accounts::AdminAccountsPage;
pub use audit::AdminAuditPage;
pub use create::AdminCreatePage;
pub use import::AdminImportPage;
pub use plan_editor::AdminPlanEditorPage;
pub use plans::AdminPlansPage;
pub use sheets::EnrolmentSheetsPage;
pub use units::AdminUnitsPage;

use chrono::{DateTime, Timelike, Utc};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use danvan_core::account::{Account, EnrolmentCode, NewCodesRequest};
use danvan_core::api::Role;
use danvan_core::time::{format_date, vn_offset};
use danvan_core::{OrgUnit, UnitTree};

use crate::admin_api;
use crate::api::{self, ApiError};
use crate::hooks::use_online;
use crate::i18n::{use_lang, Lang, T};
use crate::state::AppState;

pub(crate) const OFFLINE_VI: &str = "Cần có mạng để quản trị tài khoản.";
pub(crate) const OFFLINE_EN: &str = "Managing accounts needs a connection.";

/// What the administrator's screens share: who is signed in, the connection, the language.
#[derive(Clone, Copy)]
pub(crate) struct Ctx {
    pub state: AppState,
    pub online: Signal<bool>,
    pub lang: RwSignal<Lang>,
}

impl Ctx {
    pub fn new() -> Ctx {
        Ctx { state: expect_context::<AppState>(), online: use_online().is_online, lang: use_lang() }
    }

    /// The bearer token, tracked (a resource reading it refetches after a new sign-in).
    pub fn token(&self) -> Option<String> {
        self.state.session.with(|s| s.as_ref().map(|s| s.token.clone()))
    }

    /// The bearer token now, for event handlers and async code.
    pub fn token_now(&self) -> Option<String> {
        self.state.session.try_with_untracked(|s| s.as_ref().map(|s| s.token.clone())).flatten()
    }

    pub fn user_id_now(&self) -> Option<i64> {
        self.state.session.try_with_untracked(|s| s.as_ref().map(|s| s.user.id)).flatten()
    }

    /// The administrator's own unit: the root of everything it manages.
    pub fn own_unit(&self) -> Option<String> {
        self.state.session.with(|s| s.as_ref().map(|s| s.user.unit_id.clone()))
    }

    pub fn is_online_now(&self) -> bool {
        self.online.try_get_untracked().unwrap_or(true)
    }

    pub fn pick(&self, vi: &'static str, en: &'static str) -> &'static str {
        self.lang.try_get_untracked().unwrap_or(Lang::Vi).pick(vi, en)
    }

    /// What an online operation's failure says. Server messages are Vietnamese
    /// official text and shown as they are.
    pub fn failure(&self, e: &ApiError) -> String {
        match e {
            ApiError::Network => self
                .pick(
                    "Không kết nối được máy chủ. Cần có mạng để quản trị tài khoản.",
                    "The server could not be reached. Managing accounts needs a connection.",
                )
                .to_string(),
            e => e.to_string(),
        }
    }

    /// The message for an operation tried offline.
    pub fn offline(&self) -> String {
        self.pick(OFFLINE_VI, OFFLINE_EN).to_string()
    }
}

/// Only for administrators; others read why (they have no tab leading here, but
/// an address can be typed).
#[component]
pub(crate) fn AdminOnly(children: ChildrenFn) -> impl IntoView {
    let state = expect_context::<AppState>();
    let is_admin = Memo::new(move |_| state.session.with(|s| s.as_ref().is_some_and(|s| s.user.role == Role::Admin)));
    view! {
        <Show
            when=move || is_admin.get()
            fallback=|| view! {
                <main class="page">
                    <p class="banner banner-error" role="alert" data-testid="admin-forbidden">
                        <T vi="Chỉ quản trị viên mới dùng được chức năng này." en="Only administrators can use this."/>
                    </p>
                </main>
            }
        >
            {children()}
        </Show>
    }
}

/// "Cần có mạng…" while offline: shown above the screen, which keeps what was typed.
#[component]
pub(crate) fn OfflineBanner(online: Signal<bool>) -> impl IntoView {
    move || {
        (!online.get()).then(|| {
            view! {
                <p class="banner banner-warn admin-offline" role="status" data-testid="admin-offline">
                    <T vi=OFFLINE_VI en=OFFLINE_EN/>
                </p>
            }
        })
    }
}

/// A loaded value, its loading state or its error, for a `LocalResource` answer.
pub(crate) fn loading_view(lang: Lang) -> AnyView {
    view! { <p class="card empty" role="status" data-testid="loading">{lang.pick("Đang tải…", "Loading…")}</p> }
        .into_any()
}

/// A failed load: the server's words, or nothing while offline (the banner says so).
pub(crate) fn failure_view(ctx: Ctx, message: String) -> AnyView {
    if ctx.online.get() {
        error_view(message)
    } else {
        ().into_any()
    }
}

pub(crate) fn error_view(message: String) -> AnyView {
    view! { <p class="banner banner-error" role="alert" data-testid="admin-error">{message}</p> }.into_any()
}

/// "dd/mm/yyyy HH:MM", Vietnam time whatever the phone's zone.
pub(crate) fn vn_time(t: DateTime<Utc>) -> String {
    crate::components::history::vn_date_time(t)
}

/// "dd/mm/yyyy HH:MM:SS", Vietnam time (the audit log).
pub(crate) fn vn_time_seconds(t: DateTime<Utc>) -> String {
    let local = t.with_timezone(&vn_offset());
    format!("{} {:02}:{:02}:{:02}", format_date(local.date_naive()), local.hour(), local.minute(), local.second())
}

pub(crate) fn role_label(role: Role, lang: Lang) -> &'static str {
    lang.pick(role.label_vi(), role.label_en())
}

/// An account's state: a key for `data-status` and CSS, and its words.
pub(crate) fn account_status(a: &Account, lang: Lang, now: DateTime<Utc>) -> (&'static str, String) {
    if a.disabled_at.is_some() {
        ("disabled", lang.pick("Đã khoá", "Disabled").to_string())
    } else if a.has_password {
        ("active", lang.pick("Đang dùng", "Active").to_string())
    } else {
        let words = lang.pick("Chờ kích hoạt", "Awaiting enrolment");
        let expiry = match a.enrolment_expires_at {
            Some(t) if t <= now => format!("{} {}", lang.pick("mã đã hết hạn lúc", "code expired"), vn_time(t)),
            Some(t) => format!("{} {}", lang.pick("mã hết hạn", "code expires"), vn_time(t)),
            None => lang.pick("chưa có mã còn hiệu lực", "no valid code").to_string(),
        };
        ("pending", format!("{words} · {expiry}"))
    }
}

/// The units an administrator manages, as (id, label) for a `<select>`: parents
/// before children, indented by depth.
pub(crate) fn unit_choices(units: &[OrgUnit], root: Option<&str>) -> Vec<(String, String)> {
    let Ok(tree) = UnitTree::new(units.to_vec()) else {
        let mut flat: Vec<(String, String)> = units.iter().map(|u| (u.id.clone(), u.name.clone())).collect();
        flat.sort_by(|a, b| a.1.cmp(&b.1));
        return flat;
    };
    let roots: Vec<String> = match root.filter(|r| tree.get(r).is_some()) {
        Some(r) => vec![r.to_string()],
        None => tree.all().iter().filter(|u| u.parent.is_none()).map(|u| u.id.clone()).collect(),
    };
    let mut out = Vec::new();
    for r in roots {
        let base = tree.ancestors(&r).len();
        for u in tree.subtree(&r) {
            let depth = tree.ancestors(&u.id).len().saturating_sub(base);
            let indent = "\u{a0}\u{a0}\u{a0}".repeat(depth);
            out.push((u.id.clone(), format!("{indent}{}", u.name)));
        }
    }
    out
}

/// The unit tree for the pickers: from the phone (the administrator's refresh
/// stores every unit), else from `GET /api/units`.
pub(crate) fn use_units(ctx: Ctx) -> LocalResource<Result<Vec<OrgUnit>, String>> {
    LocalResource::new(move || {
        let cached = ctx.state.snapshot.with_untracked(|s| s.as_ref().map(|s| s.units.clone())).unwrap_or_default();
        let online = ctx.online.get();
        let token = ctx.token();
        async move {
            if !cached.is_empty() {
                return Ok(cached);
            }
            if !online {
                return Err(ctx.offline());
            }
            let token = token.ok_or_else(|| ctx.offline())?;
            api::units(&token).await.map(|u| u.units).map_err(|e| ctx.failure(&e))
        }
    })
}

/// A `<select>` of units. `all` adds a first choice "" with that label.
#[component]
pub(crate) fn UnitSelect(
    units: Vec<OrgUnit>,
    root: Option<String>,
    value: RwSignal<String>,
    #[prop(optional)] all: Option<&'static str>,
    #[prop(optional)] id: Option<&'static str>,
    #[prop(optional)] testid: Option<&'static str>,
) -> impl IntoView {
    let choices = unit_choices(&units, root.as_deref());
    let options = choices
        .into_iter()
        .map(|(unit_id, label)| {
            let v = unit_id.clone();
            view! { <option value=unit_id selected=move || value.get() == v>{label}</option> }
        })
        .collect_view();
    view! {
        <select id=id data-testid=testid on:change=move |ev| value.set(event_target_value(&ev))>
            {all.map(|label| view! { <option value="" selected=move || value.get().is_empty()>{label}</option> })}
            {options}
        </select>
    }
}

// ---------------------------------------------------------------------------
// Enrolment codes just issued: in memory only.

/// Codes issued in this page's life, for the enrolment sheets. Kept with the
/// administrator who asked for them: another official signing in on this browser
/// does not see them.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Issued {
    pub user_id: i64,
    pub codes: Vec<EnrolmentCode>,
}

thread_local! {
    static ISSUED: ArcRwSignal<Option<Issued>> = ArcRwSignal::new(None);
}

/// The last batch of codes issued (create, reset, import, new codes).
pub(crate) fn issued() -> ArcRwSignal<Option<Issued>> {
    ISSUED.with(Clone::clone)
}

/// Keeps a new batch for the sheets (replacing the previous one: each button
/// prints what its own action issued).
pub(crate) fn keep_codes(ctx: Ctx, codes: Vec<EnrolmentCode>) {
    if let Some(user_id) = ctx.user_id_now() {
        issued().set(Some(Issued { user_id, codes }));
    }
}

/// New codes for every account of `unit_id`'s subtree that has not set a password
/// (and is not disabled). Earlier unused codes of those accounts stop working.
pub(crate) async fn issue_for_unit(ctx: Ctx, unit_id: String) -> Result<Vec<EnrolmentCode>, String> {
    if !ctx.is_online_now() {
        return Err(ctx.offline());
    }
    let token = ctx.token_now().ok_or_else(|| ctx.offline())?;
    let listed = admin_api::accounts(&token, Some(&unit_id), "").await.map_err(|e| ctx.failure(&e))?;
    let account_ids: Vec<i64> =
        listed.accounts.iter().filter(|a| !a.has_password && a.disabled_at.is_none()).map(|a| a.id).collect();
    if account_ids.is_empty() {
        return Err(ctx
            .pick(
                "Không có tài khoản nào cần mã kích hoạt: mọi tài khoản của đơn vị đã đặt mật khẩu hoặc đang bị khoá.",
                "No account needs an enrolment code: every account of the unit has a password or is disabled.",
            )
            .to_string());
    }
    let request = NewCodesRequest { account_ids, unit_id: None };
    let codes = admin_api::new_codes(&token, &request).await.map_err(|e| ctx.failure(&e))?.codes;
    keep_codes(ctx, codes.clone());
    Ok(codes)
}

/// Offers a downloaded file to the person (an object URL on a temporary link).
pub(crate) fn save_download(download: api::Download, fallback_name: &str) -> Result<String, String> {
    let name = download.file_name.unwrap_or_else(|| fallback_name.to_string());
    let failed = || "Trình duyệt không cho tải tệp xuống.".to_string();
    let url = crate::web::object_url(&download.blob).ok_or_else(failed)?;
    let document = web_sys::window().and_then(|w| w.document()).ok_or_else(failed)?;
    let a: web_sys::HtmlAnchorElement =
        document.create_element("a").map_err(|_| failed())?.dyn_into().map_err(|_| failed())?;
    a.set_href(&url);
    a.set_download(&name);
    a.click();
    // Revoked later: some browsers read the URL after `click` returns.
    gloo_timers::callback::Timeout::new(60_000, move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    })
    .forget();
    Ok(name)
}

/// A button that asks once more inline (no `window.confirm`): the first press
/// shows the question and a second button that acts.
#[component]
pub(crate) fn ConfirmButton(
    vi: &'static str,
    en: &'static str,
    /// The question shown with the second button.
    question_vi: &'static str,
    question_en: &'static str,
    confirm_vi: &'static str,
    confirm_en: &'static str,
    testid: &'static str,
    confirm_testid: &'static str,
    #[prop(into)] on_confirm: Callback<()>,
    #[prop(into, optional)] disabled: Signal<bool>,
    #[prop(optional)] danger: bool,
) -> impl IntoView {
    let armed = RwSignal::new(false);
    let class = if danger { "btn btn-danger" } else { "btn btn-secondary" };
    move || {
        if armed.get() {
            view! {
                <div class="confirm-box" role="group">
                    <p class="confirm-question"><T vi=question_vi en=question_en/></p>
                    <div class="confirm-buttons">
                        <button
                            type="button"
                            class=class
                            data-testid=confirm_testid
                            disabled=move || disabled.get()
                            on:click=move |_| {
                                armed.set(false);
                                on_confirm.run(());
                            }
                        >
                            <T vi=confirm_vi en=confirm_en/>
                        </button>
                        <button type="button" class="btn btn-secondary" on:click=move |_| armed.set(false)>
                            <T vi="Huỷ" en="Cancel"/>
                        </button>
                    </div>
                </div>
            }
            .into_any()
        } else {
            view! {
                <button
                    type="button"
                    class="btn btn-secondary"
                    data-testid=testid
                    disabled=move || disabled.get()
                    on:click=move |_| armed.set(true)
                >
                    <T vi=vi en=en/>
                </button>
            }
            .into_any()
        }
    }
}

/// A code just issued, shown once on the screen that issued it.
#[component]
pub(crate) fn CodeShown(code: EnrolmentCode) -> impl IntoView {
    let origin = sheets::origin();
    let link = danvan_core::account::enrolment_link(&origin, &code.code);
    view! {
        <div class="code-shown" data-testid="code-shown" data-username=code.username.clone()>
            <p class="muted"><T vi="Mã kích hoạt (chỉ hiện một lần):" en="Enrolment code (shown once only):"/></p>
            <p class="code-big" data-testid="new-code">{danvan_core::account::format_enrolment_code(&code.code)}</p>
            <p class="muted code-link">{link}</p>
            <p class="muted">
                <T vi="Hết hạn lúc " en="Expires at "/>{vn_time(code.expires_at)}
            </p>
        </div>
    }
}
