//! The account form, shared by "Thêm tài khoản" and the account page: username
//! (only when creating), full name, unit, role, phone, email — each with the
//! server's complaints about it underneath.

use leptos::prelude::*;

use danvan_core::account::{Account, AccountInput};
use danvan_core::api::Role;
use danvan_core::OrgUnit;

use super::{role_label, UnitSelect};
use crate::i18n::{use_lang, T};

const ROLES: [Role; 4] = [Role::Reporter, Role::Reviewer, Role::Aggregator, Role::Admin];

fn role_code(role: Role) -> &'static str {
    danvan_core::account::role_code(role)
}

/// What is being typed.
#[derive(Clone, Copy)]
pub(crate) struct Fields {
    pub username: RwSignal<String>,
    pub display_name: RwSignal<String>,
    pub unit_id: RwSignal<String>,
    pub role: RwSignal<Role>,
    pub phone: RwSignal<String>,
    pub email: RwSignal<String>,
}

impl Fields {
    pub fn new(unit_id: String) -> Fields {
        Fields {
            username: RwSignal::new(String::new()),
            display_name: RwSignal::new(String::new()),
            unit_id: RwSignal::new(unit_id),
            role: RwSignal::new(Role::Reporter),
            phone: RwSignal::new(String::new()),
            email: RwSignal::new(String::new()),
        }
    }

    pub fn load(&self, a: &Account) {
        self.username.set(a.username.clone());
        self.display_name.set(a.display_name.clone());
        self.unit_id.set(a.unit_id.clone());
        self.role.set(a.role);
        self.phone.set(a.phone.clone().unwrap_or_default());
        self.email.set(a.email.clone().unwrap_or_default());
    }

    pub fn input(&self) -> AccountInput {
        let optional = |s: String| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        AccountInput {
            username: danvan_core::account::normalize_username(&self.username.get_untracked()),
            display_name: self.display_name.get_untracked().trim().to_string(),
            unit_id: self.unit_id.get_untracked(),
            role: self.role.get_untracked(),
            phone: optional(self.phone.get_untracked()),
            email: optional(self.email.get_untracked()),
        }
    }
}

/// The server's complaints, sorted to the field each is about.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct FieldErrors {
    pub username: Vec<String>,
    pub display_name: Vec<String>,
    pub unit: Vec<String>,
    pub role: Vec<String>,
    pub phone: Vec<String>,
    pub email: Vec<String>,
    /// Not about one field (or a failure of the request itself).
    pub general: Vec<String>,
}

impl FieldErrors {
    /// Sorts the server's Vietnamese sentences (`invalid_account`'s `errors`) by
    /// what they name.
    pub fn from_messages(messages: Vec<String>) -> FieldErrors {
        let mut out = FieldErrors::default();
        for m in messages {
            let lower = m.to_lowercase();
            let slot = if lower.contains("tên đăng nhập") {
                &mut out.username
            } else if lower.contains("họ và tên") {
                &mut out.display_name
            } else if lower.contains("số điện thoại") {
                &mut out.phone
            } else if lower.starts_with("email") {
                &mut out.email
            } else if lower.contains("vai trò") || lower.contains("thẩm định") {
                &mut out.role
            } else if lower.contains("đơn vị") {
                &mut out.unit
            } else {
                &mut out.general
            };
            slot.push(m);
        }
        out
    }

    pub fn general(message: String) -> FieldErrors {
        FieldErrors { general: vec![message], ..Default::default() }
    }
}

fn errors_view(list: Vec<String>, field: &'static str) -> impl IntoView {
    list.into_iter()
        .map(|e| view! { <p class="form-error field-error" data-field=field role="alert">{e}</p> })
        .collect_view()
}

#[component]
pub(crate) fn AccountFields(
    fields: Fields,
    errors: RwSignal<FieldErrors>,
    units: Vec<OrgUnit>,
    root: Option<String>,
    /// Creating: the username is typed; editing: it is shown and stays.
    creating: bool,
) -> impl IntoView {
    let lang = use_lang();
    let err = move |pick: fn(&FieldErrors) -> &Vec<String>, field: &'static str| {
        move || errors_view(errors.with(|e| pick(e).clone()), field)
    };
    let role_options = move || {
        let l = lang.get();
        ROLES
            .into_iter()
            .map(|r| {
                view! { <option value=role_code(r) selected=move || fields.role.get() == r>{role_label(r, l)}</option> }
            })
            .collect_view()
    };
    let on_role = move |ev: leptos::ev::Event| {
        let v = event_target_value(&ev);
        if let Some(r) = ROLES.into_iter().find(|r| role_code(*r) == v) {
            fields.role.set(r);
        }
    };
    view! {
        <div class="account-fields">
            {creating.then(|| view! {
                <label class="admin-field" for="acc-username">
                    <span><T vi="Tên đăng nhập" en="Username"/></span>
                    <input
                        id="acc-username"
                        data-testid="acc-username"
                        autocomplete="off"
                        autocapitalize="none"
                        spellcheck="false"
                        required
                        prop:value=move || fields.username.get()
                        on:input=move |ev| fields.username.set(event_target_value(&ev))
                    />
                    <small class="muted"><T
                        vi="Chữ thường không dấu, số và . _ - (ví dụ xa.dakbla)"
                        en="Lower-case letters without accents, digits and . _ - (e.g. xa.dakbla)"
                    /></small>
                    {err(|e| &e.username, "username")}
                </label>
            })}
            <label class="admin-field" for="acc-name">
                <span><T vi="Họ và tên" en="Full name"/></span>
                <input
                    id="acc-name"
                    data-testid="acc-name"
                    autocomplete="off"
                    required
                    prop:value=move || fields.display_name.get()
                    on:input=move |ev| fields.display_name.set(event_target_value(&ev))
                />
                {err(|e| &e.display_name, "display_name")}
            </label>
            <label class="admin-field" for="acc-unit">
                <span><T vi="Đơn vị" en="Unit"/></span>
                <UnitSelect units=units root=root value=fields.unit_id id="acc-unit" testid="acc-unit"/>
                {err(|e| &e.unit, "unit")}
            </label>
            <label class="admin-field" for="acc-role">
                <span><T vi="Vai trò" en="Role"/></span>
                <select id="acc-role" data-testid="acc-role" on:change=on_role>{role_options}</select>
                {err(|e| &e.role, "role")}
            </label>
            <label class="admin-field" for="acc-phone">
                <span><T vi="Số điện thoại (không bắt buộc)" en="Phone (optional)"/></span>
                <input
                    id="acc-phone"
                    data-testid="acc-phone"
                    type="tel"
                    inputmode="tel"
                    autocomplete="off"
                    prop:value=move || fields.phone.get()
                    on:input=move |ev| fields.phone.set(event_target_value(&ev))
                />
                {err(|e| &e.phone, "phone")}
            </label>
            <label class="admin-field" for="acc-email">
                <span><T vi="Email (không bắt buộc)" en="Email (optional)"/></span>
                <input
                    id="acc-email"
                    data-testid="acc-email"
                    type="email"
                    inputmode="email"
                    autocomplete="off"
                    autocapitalize="none"
                    prop:value=move || fields.email.get()
                    on:input=move |ev| fields.email.set(event_target_value(&ev))
                />
                {err(|e| &e.email, "email")}
            </label>
            {move || errors_view(errors.with(|e| e.general.clone()), "general")}
        </div>
    }
}
