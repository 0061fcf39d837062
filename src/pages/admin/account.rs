//! `/quan-tri/tai-khoan/:id`: one account — its details to edit, its state, the
//! actions (disable / enable, a new enrolment code, sign out everywhere), each
//! asked twice inline, and its devices, each of which can be signed out.

use chrono::Utc;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};

use danvan_core::account::{Account, Device, EnrolmentCode};

use super::form::{AccountFields, FieldErrors, Fields};
use super::{
    account_status, failure_view, keep_codes, loading_view, role_label, use_units, vn_time, AdminOnly, CodeShown,
    ConfirmButton, Ctx, OfflineBanner,
};
use crate::admin_api::{self, SaveError};
use crate::i18n::{Lang, T};

#[component]
pub fn AdminAccountPage() -> impl IntoView {
    view! { <AdminOnly><AccountScreen/></AdminOnly> }
}

/// An action on the account; all answer with a message or a new code.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Disable,
    Enable,
    Reset,
    SignOutEverywhere,
    EndDevice(i64),
}

#[derive(Clone)]
enum Outcome {
    Message(String),
    Code(EnrolmentCode),
}

#[component]
fn AccountScreen() -> impl IntoView {
    let ctx = Ctx::new();
    let lang = ctx.lang;
    let params = use_params_map();
    let navigate = use_navigate();
    let id = Memo::new(move |_| params.with(|p| p.get("id")).and_then(|s| s.parse::<i64>().ok()));
    // Bumped after every change: the account and its devices are read again.
    let reload = RwSignal::new(0u32);

    let account = LocalResource::new(move || {
        let online = ctx.online.get();
        let token = ctx.token();
        let id = id.get();
        let _ = reload.get();
        async move {
            if !online {
                return Err(ctx.offline());
            }
            let id = id.ok_or_else(|| ctx.pick("Không tìm thấy tài khoản.", "No such account.").to_string())?;
            let token = token.ok_or_else(|| ctx.offline())?;
            admin_api::account(&token, id).await.map_err(|e| ctx.failure(&e))
        }
    });
    let devices = LocalResource::new(move || {
        let online = ctx.online.get();
        let token = ctx.token();
        let id = id.get();
        let _ = reload.get();
        async move {
            if !online {
                return Err(ctx.offline());
            }
            let (Some(id), Some(token)) = (id, token) else { return Ok(Vec::new()) };
            admin_api::devices(&token, id).await.map(|d| d.devices).map_err(|e| ctx.failure(&e))
        }
    });
    let units = use_units(ctx);

    // The form follows the account as the server last described it.
    let fields = Fields::new(String::new());
    let errors = RwSignal::new(FieldErrors::default());
    Effect::new(move |_| {
        if let Some(Ok(a)) = account.get() {
            fields.load(&a);
        }
    });

    let message = RwSignal::new(None::<(bool, String)>);
    let new_code = RwSignal::new(None::<EnrolmentCode>);

    let save = Action::new_local(move |_: &()| {
        let input = fields.input();
        let id = id.get_untracked();
        async move {
            if !ctx.is_online_now() {
                return Err(FieldErrors::general(ctx.offline()));
            }
            let (Some(token), Some(id)) = (ctx.token_now(), id) else {
                return Err(FieldErrors::general(ctx.offline()));
            };
            match admin_api::update_account(&token, id, &input).await {
                Ok(a) => Ok(a),
                Err(SaveError::Invalid(list)) => Err(FieldErrors::from_messages(list)),
                Err(SaveError::UsernameTaken(m)) => Err(FieldErrors::general(m)),
                Err(SaveError::Api(e)) => Err(FieldErrors::general(ctx.failure(&e))),
            }
        }
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(_)) => {
            errors.set(FieldErrors::default());
            message.set(Some((true, ctx.pick("Đã lưu thông tin tài khoản.", "Account saved.").to_string())));
            reload.update(|r| *r += 1);
        }
        Some(Err(e)) => errors.set(e),
        None => {}
    });

    let act = Action::new_local(move |op: &Op| {
        let op = *op;
        let id = id.get_untracked();
        async move {
            if !ctx.is_online_now() {
                return Err(ctx.offline());
            }
            let (Some(token), Some(id)) = (ctx.token_now(), id) else { return Err(ctx.offline()) };
            let fail = |e: crate::api::ApiError| ctx.failure(&e);
            Ok(match op {
                Op::Disable => {
                    admin_api::set_disabled(&token, id, true).await.map_err(fail)?;
                    Outcome::Message(
                        ctx.pick(
                            "Đã khoá tài khoản: mọi thiết bị đã bị đăng xuất.",
                            "Account disabled: every device was signed out.",
                        )
                        .to_string(),
                    )
                }
                Op::Enable => {
                    admin_api::set_disabled(&token, id, false).await.map_err(fail)?;
                    Outcome::Message(ctx.pick("Đã mở khoá tài khoản.", "Account enabled.").to_string())
                }
                Op::Reset => {
                    let codes = admin_api::reset(&token, id).await.map_err(fail)?.codes;
                    let code =
                        codes.into_iter().next().ok_or_else(|| "Máy chủ không trả về mã kích hoạt.".to_string())?;
                    Outcome::Code(code)
                }
                Op::SignOutEverywhere => {
                    let n = admin_api::sign_out_everywhere(&token, id).await.map_err(fail)?;
                    Outcome::Message(format!(
                        "{} {n} {}",
                        ctx.pick("Đã đăng xuất", "Signed out"),
                        ctx.pick("thiết bị.", "devices.")
                    ))
                }
                Op::EndDevice(device) => {
                    admin_api::end_device(&token, device).await.map_err(fail)?;
                    Outcome::Message(ctx.pick("Đã đăng xuất thiết bị.", "The device was signed out.").to_string())
                }
            })
        }
    });
    Effect::new(move |_| {
        let Some(result) = act.value().get() else { return };
        act.value().set(None);
        match result {
            Ok(Outcome::Message(m)) => message.set(Some((true, m))),
            Ok(Outcome::Code(code)) => {
                keep_codes(ctx, vec![code.clone()]);
                message.set(Some((
                    true,
                    ctx.pick(
                        "Đã cấp mã kích hoạt mới; mật khẩu cũ không còn dùng được.",
                        "New enrolment code issued; the old password no longer works.",
                    )
                    .to_string(),
                )));
                new_code.set(Some(code));
            }
            Err(e) => message.set(Some((false, e))),
        }
        reload.update(|r| *r += 1);
    });
    let busy = Signal::derive(move || act.pending().get() || save.pending().get() || !ctx.online.get());
    let run = move |op: Op| {
        message.set(None);
        if op != Op::Reset {
            new_code.set(None);
        }
        act.dispatch_local(op);
    };

    let on_save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        message.set(None);
        save.dispatch_local(());
    };
    let print = move |_| navigate("/quan-tri/phieu", Default::default());

    let head = move || {
        let l = lang.get();
        match account.get() {
            None => loading_view(l),
            Some(Err(e)) => failure_view(ctx, e),
            Some(Ok(a)) => {
                let (status, text) = account_status(&a, l, Utc::now());
                view! {
                    <h1 data-testid="account-name">{a.display_name.clone()}</h1>
                    <p class="muted">{format!("{} · {} · {}", a.username, role_label(a.role, l), a.unit_name)}</p>
                    <p>
                        <span class=format!("status status-{status}") data-testid="account-status" data-status=status>{text}</span>
                    </p>
                    <Facts account=a lang=l/>
                }
                .into_any()
            }
        }
    };

    let actions = move || {
        let Some(Ok(a)) = account.get() else { return ().into_any() };
        let disabled = a.disabled_at.is_some();
        view! {
            <section class="card admin-section" data-testid="account-actions">
                <h2><T vi="Thao tác" en="Actions"/></h2>
                {if disabled {
                    view! {
                        <ConfirmButton
                            vi="Mở khoá" en="Enable"
                            question_vi="Mở khoá tài khoản này? Người dùng đăng nhập lại được bằng mật khẩu của mình."
                            question_en="Enable this account? The official can sign in again with their password."
                            confirm_vi="Mở khoá tài khoản" confirm_en="Enable the account"
                            testid="account-enable" confirm_testid="account-enable-confirm"
                            on_confirm=move |_| run(Op::Enable)
                            disabled=busy
                        />
                    }
                    .into_any()
                } else {
                    view! {
                        <ConfirmButton
                            vi="Khoá tài khoản" en="Disable the account"
                            question_vi="Khoá tài khoản này? Mọi thiết bị bị đăng xuất ngay; báo cáo và lịch sử vẫn giữ nguyên."
                            question_en="Disable this account? Every device is signed out at once; reports and history stay."
                            confirm_vi="Khoá tài khoản" confirm_en="Disable the account"
                            testid="account-disable" confirm_testid="account-disable-confirm"
                            on_confirm=move |_| run(Op::Disable)
                            disabled=busy
                            danger=true
                        />
                        <ConfirmButton
                            vi="Cấp lại mã kích hoạt" en="Issue a new enrolment code"
                            question_vi="Cấp mã kích hoạt mới? Mật khẩu hiện tại và mã cũ sẽ không dùng được nữa."
                            question_en="Issue a new enrolment code? The current password and earlier codes stop working."
                            confirm_vi="Cấp mã mới" confirm_en="Issue the code"
                            testid="account-reset" confirm_testid="account-reset-confirm"
                            on_confirm=move |_| run(Op::Reset)
                            disabled=busy
                        />
                    }
                    .into_any()
                }}
                <ConfirmButton
                    vi="Đăng xuất mọi thiết bị" en="Sign out every device"
                    question_vi="Đăng xuất tài khoản này trên mọi thiết bị? Phần chưa gửi trên máy của họ vẫn còn và gửi được sau khi đăng nhập lại."
                    question_en="Sign this account out on every device? Unsent work on their phones stays and is sent after signing in again."
                    confirm_vi="Đăng xuất mọi thiết bị" confirm_en="Sign out everywhere"
                    testid="account-signout" confirm_testid="account-signout-confirm"
                    on_confirm=move |_| run(Op::SignOutEverywhere)
                    disabled=busy
                />
            </section>
        }
        .into_any()
    };

    let form = move || {
        let l = lang.get();
        let Some(Ok(a)) = account.get() else { return ().into_any() };
        match units.get() {
            None => loading_view(l),
            Some(Err(e)) => failure_view(ctx, e),
            Some(Ok(list)) => view! {
                <form class="card admin-form admin-section" novalidate on:submit=on_save data-testid="account-form">
                    <h2>{l.pick("Sửa thông tin", "Edit details")}</h2>
                    <p class="muted">{format!("{} {}", l.pick("Tên đăng nhập:", "Username:"), a.username)}</p>
                    <AccountFields fields=fields errors=errors units=list root=ctx.own_unit() creating=false/>
                    <button type="submit" class="btn btn-primary" data-testid="account-save" disabled=move || busy.get()>
                        {move || if save.pending().get() {
                            lang.get().pick("Đang lưu…", "Saving…")
                        } else {
                            lang.get().pick("Lưu", "Save")
                        }}
                    </button>
                </form>
            }
            .into_any(),
        }
    };

    let device_list = move || {
        let l = lang.get();
        match devices.get() {
            None => loading_view(l),
            Some(Err(e)) => failure_view(ctx, e),
            Some(Ok(list)) if list.is_empty() => view! {
                <p class="muted" data-testid="no-devices">{l.pick("Chưa đăng nhập trên thiết bị nào.", "Never signed in on any device.")}</p>
            }
            .into_any(),
            Some(Ok(list)) => {
                let items = list
                    .into_iter()
                    .map(|d| view! { <DeviceRow device=d lang=l busy=busy on_end=move |device| run(Op::EndDevice(device))/> })
                    .collect_view();
                view! { <ul class="admin-devices">{items}</ul> }.into_any()
            }
        }
    };

    view! {
        <main class="page admin-page" data-testid="admin-account" data-account-id=move || id.get().unwrap_or_default()>
            <a class="back-link" href="/quan-tri"><T vi="← Quản trị tài khoản" en="← Accounts"/></a>
            <OfflineBanner online=ctx.online/>
            <div class="admin-columns">
                <div>
                    {head}
                    {move || message.get().map(|(ok, m)| {
                        let class = if ok { "banner banner-info" } else { "banner banner-error" };
                        view! { <p class=class role="status" data-testid="account-message">{m}</p> }
                    })}
                    {move || new_code.get().map(|code| view! {
                        <section class="card created" data-testid="account-new-code">
                            <CodeShown code=code/>
                            <button type="button" class="btn btn-primary" data-testid="print-sheet" on:click=print.clone()>
                                <T vi="In phiếu kích hoạt" en="Print the enrolment sheet"/>
                            </button>
                        </section>
                    })}
                    {actions}
                    {form}
                </div>
                <section class="card admin-section" data-testid="devices">
                    <h2><T vi="Thiết bị" en="Devices"/></h2>
                    {device_list}
                </section>
            </div>
        </main>
    }
}

#[component]
fn Facts(account: Account, lang: Lang) -> impl IntoView {
    let dash = || "—".to_string();
    view! {
        <dl class="card facts admin-facts">
            <dt>{lang.pick("Điện thoại", "Phone")}</dt>
            <dd>{account.phone.clone().unwrap_or_else(dash)}</dd>
            <dt>{lang.pick("Email", "Email")}</dt>
            <dd>{account.email.clone().unwrap_or_else(dash)}</dd>
            <dt>{lang.pick("Tạo lúc", "Created")}</dt>
            <dd>{vn_time(account.created_at)}</dd>
            <dt>{lang.pick("Dùng gần nhất", "Last seen")}</dt>
            <dd>{account.last_seen_at.map(vn_time).unwrap_or_else(dash)}</dd>
            <dt>{lang.pick("Thiết bị", "Devices")}</dt>
            <dd data-testid="active-devices" data-count=account.active_devices>
                {format!("{} {}", account.active_devices, lang.pick("đang đăng nhập", "signed in"))}
            </dd>
            {account.disabled_at.map(|t| view! {
                <dt>{lang.pick("Khoá lúc", "Disabled at")}</dt>
                <dd>{vn_time(t)}</dd>
            })}
        </dl>
    }
}

#[component]
fn DeviceRow(device: Device, lang: Lang, busy: Signal<bool>, #[prop(into)] on_end: Callback<i64>) -> impl IntoView {
    let dash = || "—".to_string();
    let active = device.ended_at.is_none();
    let id = device.id;
    let state = match device.ended_at {
        Some(t) => format!("{} {}", lang.pick("Đã đăng xuất lúc", "Signed out at"), vn_time(t)),
        None => lang.pick("Đang đăng nhập", "Signed in").to_string(),
    };
    view! {
        <li class="device-row" data-testid="device-row" data-device-id=id data-active=active.to_string()>
            <p class="device-name">
                <strong>{device.name.clone()}</strong>
                {device.current.then(|| view! {
                    <span class="muted">{lang.pick(" (thiết bị bạn đang dùng)", " (this device)")}</span>
                })}
            </p>
            <p class=if active { "status status-active" } else { "status status-disabled" } data-testid="device-state">{state}</p>
            <dl class="facts device-facts">
                <dt>{lang.pick("Lần đầu", "First seen")}</dt>
                <dd>{vn_time(device.first_seen_at)}</dd>
                <dt>{lang.pick("Gần nhất", "Last seen")}</dt>
                <dd>{vn_time(device.last_seen_at)}</dd>
                <dt>{lang.pick("Đồng bộ", "Last sync")}</dt>
                <dd>{device.last_sync_at.map(vn_time).unwrap_or_else(dash)}</dd>
                <dt>{lang.pick("Phiên bản", "App version")}</dt>
                <dd>{device.app_version.clone().unwrap_or_else(dash)}</dd>
            </dl>
            {active.then(|| view! {
                <ConfirmButton
                    vi="Đăng xuất thiết bị này" en="Sign this device out"
                    question_vi="Đăng xuất thiết bị này? Lần tới mở ứng dụng, người dùng phải đăng nhập lại."
                    question_en="Sign this device out? Next time the app opens there, the official must sign in again."
                    confirm_vi="Đăng xuất thiết bị" confirm_en="Sign the device out"
                    testid="device-end" confirm_testid="device-end-confirm"
                    on_confirm=move |_| on_end.run(id)
                    disabled=busy
                />
            })}
        </li>
    }
}
