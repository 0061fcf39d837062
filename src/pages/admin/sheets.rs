//! `/quan-tri/phieu`: the enrolment sheets to print — one A4 sheet per unit, each
//! account with its link as a QR code, the link in words and the code in large
//! letters. The codes come only from memory (the action that issued them on this
//! page); after a reload they are gone, and new ones can be issued here.
//!
//! The sheet itself is Vietnamese whatever the interface language: it is read by
//! the officials who receive it.

use std::fmt::Write;

use leptos::prelude::*;

use danvan_core::account::{enrolment_link, format_enrolment_code, EnrolmentCode, ENROLMENT_PATH};
use qrcodegen::{QrCode, QrCodeEcc};

use super::{issue_for_unit, issued, use_units, vn_time, AdminOnly, ConfirmButton, Ctx, OfflineBanner, UnitSelect};
use crate::i18n::T;

/// This app's address, for the links (`https://danvan.example.gov.vn`).
pub(crate) fn origin() -> String {
    web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default()
}

/// The dark modules of `text`'s QR code as one SVG path (a run of modules in a row
/// is one rectangle), and the code's size in modules. Medium error correction:
/// survives a crease or a smudge on a sheet carried to a commune.
fn qr_path(text: &str) -> Option<(i32, String)> {
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    let size = qr.size();
    let mut d = String::new();
    for y in 0..size {
        let mut x = 0;
        while x < size {
            if !qr.get_module(x, y) {
                x += 1;
                continue;
            }
            let start = x;
            while x < size && qr.get_module(x, y) {
                x += 1;
            }
            let _ = write!(d, "M{start} {y}h{}v1h-{}z", x - start, x - start);
        }
    }
    Some((size, d))
}

/// A QR code as inline SVG (no script, no style attribute: fine under the CSP),
/// with the quiet zone of four modules scanners need.
#[component]
fn Qr(text: String) -> impl IntoView {
    match qr_path(&text) {
        Some((size, d)) => {
            let full = size + 8;
            view! {
                <svg
                    class="qr"
                    xmlns="http://www.w3.org/2000/svg"
                    viewBox=format!("-4 -4 {full} {full}")
                    shape-rendering="crispEdges"
                    role="img"
                    aria-label="Mã QR của liên kết kích hoạt"
                >
                    <rect x="-4" y="-4" width=full height=full fill="#fff"/>
                    <path d=d fill="#000"/>
                </svg>
            }
            .into_any()
        }
        None => view! { <p class="form-error">"Không tạo được mã QR"</p> }.into_any(),
    }
}

/// The codes grouped by unit, units in the order they first appear.
fn by_unit(codes: Vec<EnrolmentCode>) -> Vec<(String, String, Vec<EnrolmentCode>)> {
    let mut groups: Vec<(String, String, Vec<EnrolmentCode>)> = Vec::new();
    for c in codes {
        match groups.iter_mut().find(|g| g.0 == c.unit_id) {
            Some(g) => g.2.push(c),
            None => groups.push((c.unit_id.clone(), c.unit_name.clone(), vec![c])),
        }
    }
    groups
}

#[component]
pub fn EnrolmentSheetsPage() -> impl IntoView {
    view! { <AdminOnly><Sheets/></AdminOnly> }
}

#[component]
fn Sheets() -> impl IntoView {
    let ctx = Ctx::new();
    let lang = ctx.lang;
    let store = issued();
    let codes = Memo::new(move |_| {
        let me = ctx.state.session.with(|s| s.as_ref().map(|s| s.user.id));
        store.get().filter(|i| Some(i.user_id) == me).map(|i| i.codes).unwrap_or_default()
    });
    let print = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    };

    let sheets = move || {
        let origin = origin();
        by_unit(codes.get())
            .into_iter()
            .map(|(unit_id, unit_name, codes)| view! { <Sheet unit_id=unit_id unit_name=unit_name codes=codes origin=origin.clone()/> })
            .collect_view()
    };

    view! {
        <main class="page admin-page sheets-page" data-testid="enrolment-sheets">
            <div class="no-print">
                <a class="back-link" href="/quan-tri"><T vi="← Quản trị tài khoản" en="← Accounts"/></a>
                <h1><T vi="Phiếu kích hoạt tài khoản" en="Enrolment sheets"/></h1>
                {move || {
                    let l = lang.get();
                    let list = codes.get();
                    if list.is_empty() {
                        view! { <NoCodes/> }.into_any()
                    } else {
                        let units = by_unit(list.clone()).len();
                        view! {
                            <p data-testid="sheets-summary">
                                {format!(
                                    "{} {} · {units} {}",
                                    list.len(),
                                    l.pick("tài khoản", "accounts"),
                                    l.pick("đơn vị (mỗi đơn vị một trang A4)", "units (one A4 page each)"),
                                )}
                            </p>
                            <p class="banner banner-warn">
                                <T
                                    vi="Mã kích hoạt chỉ hiện ở đây đến khi đóng hoặc tải lại trang, và không được lưu trên máy. Hãy in ngay; không chụp màn hình hay gửi mã qua mạng xã hội."
                                    en="The codes are shown here only until this page is closed or reloaded, and are not stored on this device. Print now; do not screenshot them or send them over chat apps."
                                />
                            </p>
                            <button type="button" class="btn btn-primary" data-testid="print" on:click=print>
                                <T vi="In" en="Print"/>
                            </button>
                        }
                        .into_any()
                    }
                }}
            </div>
            {sheets}
        </main>
    }
}

#[component]
fn Sheet(unit_id: String, unit_name: String, codes: Vec<EnrolmentCode>, origin: String) -> impl IntoView {
    let expires = codes.iter().map(|c| c.expires_at).min().map(vn_time).unwrap_or_default();
    let address = format!("{}{ENROLMENT_PATH}", origin.trim_end_matches('/'));
    let entries = codes
        .into_iter()
        .map(|c| {
            let link = enrolment_link(&origin, &c.code);
            view! {
                <li class="enrolment-entry" data-testid="enrolment-entry" data-username=c.username.clone()>
                    <div class="entry-qr"><Qr text=link.clone()/></div>
                    <div class="entry-text">
                        <p class="entry-name">{c.display_name.clone()}</p>
                        <p class="entry-meta">"Tên đăng nhập: "<strong data-testid="enrolment-username">{c.username.clone()}</strong></p>
                        <p class="entry-meta">"Vai trò: "{c.role.label_vi()}</p>
                        <p class="entry-code-label">"Mã kích hoạt"</p>
                        <p class="entry-code" data-testid="enrolment-code">{format_enrolment_code(&c.code)}</p>
                        <p class="entry-link" data-testid="enrolment-link">{link}</p>
                    </div>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="enrolment-sheet" data-testid="enrolment-sheet" data-unit=unit_id>
            <header class="sheet-head">
                <p class="sheet-kicker">"PHIẾU KÍCH HOẠT TÀI KHOẢN"</p>
                <p class="sheet-app">"Ứng dụng theo dõi công tác dân vận · Kế hoạch 413/KH-UBND"</p>
                <h2 class="sheet-unit">{unit_name}</h2>
            </header>
            <p class="sheet-instruction">
                "Mở điện thoại, quét mã QR hoặc vào địa chỉ "<strong>{address}</strong>
                ", nhập mã, đặt mật khẩu mới. Mã dùng một lần, hết hạn lúc "<strong>{expires}</strong>
                ". Cắt theo đường kẻ và trao tận tay từng người; không chụp hay gửi mã cho người khác."
            </p>
            <ul class="sheet-entries">{entries}</ul>
        </section>
    }
}

/// After a reload the codes are gone (never stored): say so, and offer new ones
/// for a unit.
#[component]
fn NoCodes() -> impl IntoView {
    let ctx = Ctx::new();
    let lang = ctx.lang;
    let units = use_units(ctx);
    let unit = RwSignal::new(ctx.own_unit().unwrap_or_default());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let issue = move |_| {
        let unit_id = unit.get_untracked();
        if unit_id.is_empty() {
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let result = issue_for_unit(ctx, unit_id).await;
            busy.try_set(false);
            if let Err(e) = result {
                error.try_set(Some(e));
            }
        });
    };
    view! {
        <p class="card empty" data-testid="no-codes">
            <T
                vi="Không có mã kích hoạt nào để in. Vì an toàn, mã chỉ được giữ trong bộ nhớ của trang lúc vừa cấp và mất khi tải lại trang. Có thể cấp mã mới cho các tài khoản chưa kích hoạt của một đơn vị:"
                en="There are no enrolment codes to print. For safety, codes are kept only in this page's memory when issued and are lost on reload. New codes can be issued for a unit's accounts that have not enrolled:"
            />
        </p>
        <OfflineBanner online=ctx.online/>
        {move || match units.get() {
            Some(Ok(list)) => view! {
                <label class="admin-field">
                    <span>{lang.get().pick("Đơn vị", "Unit")}</span>
                    <UnitSelect units=list root=ctx.own_unit() value=unit testid="sheet-unit"/>
                </label>
            }
            .into_any(),
            Some(Err(e)) => view! { <p class="banner banner-error" role="alert">{e}</p> }.into_any(),
            None => ().into_any(),
        }}
        <ConfirmButton
            vi="Cấp mã mới cho đơn vị" en="Issue new codes for the unit"
            question_vi="Cấp mã mới cho mọi tài khoản chưa kích hoạt của đơn vị này (cả các đơn vị trực thuộc)? Mã cũ chưa dùng sẽ hết hiệu lực."
            question_en="Issue new codes for every account of this unit (and the units below it) that has not enrolled? Unused earlier codes stop working."
            confirm_vi="Cấp mã mới" confirm_en="Issue the codes"
            testid="sheet-issue" confirm_testid="sheet-issue-confirm"
            on_confirm=issue
            disabled=Signal::derive(move || busy.get() || !ctx.online.get())
        />
        {move || error.get().map(|e| view! { <p class="banner banner-error" role="alert" data-testid="sheet-issue-error">{e}</p> })}
    }
}
