//! `/quan-tri/tao`: a new account. The server answers with its one-time enrolment
//! code, shown here once, with the button to print its sheet.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use danvan_core::account::{check_username, normalize_username, EnrolmentCode};

use super::form::{AccountFields, FieldErrors, Fields};
use super::{failure_view, keep_codes, loading_view, use_units, AdminOnly, CodeShown, Ctx, OfflineBanner};
use crate::admin_api::{self, SaveError};
use crate::i18n::T;

#[component]
pub fn AdminCreatePage() -> impl IntoView {
    view! { <AdminOnly><Create/></AdminOnly> }
}

#[component]
fn Create() -> impl IntoView {
    let ctx = Ctx::new();
    let lang = ctx.lang;
    let query = use_query_map();
    let navigate = use_navigate();
    let start_unit = query.with_untracked(|q| q.get("don-vi")).or_else(|| ctx.own_unit()).unwrap_or_default();
    let fields = Fields::new(start_unit);
    let errors = RwSignal::new(FieldErrors::default());
    let created = RwSignal::new(None::<EnrolmentCode>);
    let units = use_units(ctx);

    let create = Action::new_local(move |_: &()| {
        let input = fields.input();
        async move {
            if !ctx.is_online_now() {
                return Err(FieldErrors::general(ctx.offline()));
            }
            let token = ctx.token_now().ok_or_else(|| FieldErrors::general(ctx.offline()))?;
            match admin_api::create_account(&token, &input).await {
                Ok(r) => r
                    .codes
                    .into_iter()
                    .next()
                    .ok_or_else(|| FieldErrors::general("Máy chủ không trả về mã kích hoạt.".into())),
                Err(SaveError::Invalid(list)) => Err(FieldErrors::from_messages(list)),
                Err(SaveError::UsernameTaken(m)) => Err(FieldErrors { username: vec![m], ..Default::default() }),
                Err(SaveError::Api(e)) => Err(FieldErrors::general(ctx.failure(&e))),
            }
        }
    });
    Effect::new(move |_| match create.value().get() {
        Some(Ok(code)) => {
            keep_codes(ctx, vec![code.clone()]);
            errors.set(FieldErrors::default());
            created.set(Some(code));
        }
        Some(Err(e)) => errors.set(e),
        None => {}
    });

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // The username rule is shared with the server: say it before sending.
        let username = normalize_username(&fields.username.get_untracked());
        if let Err(e) = check_username(&username) {
            errors.set(FieldErrors { username: vec![e.to_string()], ..Default::default() });
            return;
        }
        errors.set(FieldErrors::default());
        create.dispatch_local(());
    };
    let another = move |_| {
        // Same unit and role: accounts are usually added unit by unit.
        fields.username.set(String::new());
        fields.display_name.set(String::new());
        fields.phone.set(String::new());
        fields.email.set(String::new());
        created.set(None);
        create.value().set(None);
    };
    let print = {
        let navigate = navigate.clone();
        move |_| navigate("/quan-tri/phieu", Default::default())
    };

    let form = move || {
        let l = lang.get();
        match units.get() {
            None => loading_view(l),
            Some(Err(e)) => failure_view(ctx, e),
            Some(Ok(list)) => view! {
                <form class="card admin-form" novalidate on:submit=on_submit data-testid="account-form">
                    <AccountFields fields=fields errors=errors units=list root=ctx.own_unit() creating=true/>
                    <button
                        type="submit"
                        class="btn btn-primary"
                        data-testid="account-save"
                        disabled=move || create.pending().get() || !ctx.online.get()
                    >
                        {move || if create.pending().get() {
                            lang.get().pick("Đang tạo…", "Creating…")
                        } else {
                            lang.get().pick("Tạo tài khoản", "Create the account")
                        }}
                    </button>
                </form>
            }
            .into_any(),
        }
    };

    view! {
        <main class="page admin-page admin-narrow" data-testid="admin-create-page">
            <a class="back-link" href="/quan-tri"><T vi="← Quản trị tài khoản" en="← Accounts"/></a>
            <h1><T vi="Thêm tài khoản" en="Add an account"/></h1>
            <OfflineBanner online=ctx.online/>
            {move || match created.get() {
                Some(code) => view! {
                    <section class="card created" data-testid="account-created" data-username=code.username.clone()>
                        <h2>{format!("{} {}", lang.get().pick("Đã tạo tài khoản", "Account created:"), code.username)}</h2>
                        <p>{format!("{} · {}", code.display_name, code.unit_name)}</p>
                        <CodeShown code=code.clone()/>
                        <p class="muted"><T
                            vi="In phiếu và trao tận tay; người dùng quét mã QR trên phiếu để tự đặt mật khẩu."
                            en="Print the sheet and hand it over; the official scans its QR code and chooses a password."
                        /></p>
                        <button type="button" class="btn btn-primary" data-testid="print-sheet" on:click=print.clone()>
                            <T vi="In phiếu kích hoạt" en="Print the enrolment sheet"/>
                        </button>
                        <a class="btn btn-secondary" href=format!("/quan-tri/tai-khoan/{}", code.account_id)>
                            <T vi="Xem tài khoản" en="Open the account"/>
                        </a>
                        <button type="button" class="btn btn-secondary" data-testid="create-another" on:click=another>
                            <T vi="Thêm tài khoản khác" en="Add another account"/>
                        </button>
                    </section>
                }
                .into_any(),
                None => form().into_any(),
            }}
        </main>
    }
}
