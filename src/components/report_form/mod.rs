//! The report form on screen: one card per section, its fields, inline
//! validation in Vietnamese, and the section's photos. The page owns the data and
//! the saving; this only renders and reports changes.

mod conflict;
mod photos;
mod prefill;

pub use conflict::ConflictView;
pub use photos::Photos;
pub use prefill::ConsolidationPrefill;

use leptos::prelude::*;

use danvan_core::form::{Field, FieldKind, FormSection, Issue, PeriodKind};
use danvan_core::report::AttachmentRef;
use danvan_core::Values;

use crate::i18n::use_lang;

/// Everything a section needs from the page.
#[derive(Clone, Copy)]
pub struct FormBinding {
    pub values: RwSignal<Values>,
    /// Issues to show (format problems always; required fields after a submit try).
    pub issues: Memo<Vec<Issue>>,
    pub editable: Signal<bool>,
    pub on_change: Callback<(String, String)>,
    pub attachments: Signal<Vec<AttachmentRef>>,
    pub on_photo: Callback<(String, web_sys::File)>,
    pub kind: PeriodKind,
}

#[component]
pub fn SectionCard(section: FormSection, binding: FormBinding) -> impl IntoView {
    let lang = use_lang();
    let fields: Vec<Field> = section.fields.iter().filter(|f| f.applies_to(binding.kind)).cloned().collect();
    let title = (section.title.clone(), section.title_en.clone());
    let number = section.plan_item.clone();
    let with_photos = section.plan_item.is_some();
    let section_id = section.id.clone();
    view! {
        <section class="card form-section" data-testid="form-section" data-section=section.id.clone()>
            <h2>
                {number.map(|n| view! { <span class="item-number">{n}</span>" " })}
                {move || lang.get().pick(title.0.clone(), title.1.clone())}
            </h2>
            {fields.into_iter().map(|f| view! { <FieldInput field=f binding=binding/> }).collect_view()}
            {with_photos.then(|| view! { <Photos section=section_id.clone() binding=binding/> })}
        </section>
    }
}

#[component]
fn FieldInput(field: Field, binding: FormBinding) -> impl IntoView {
    let lang = use_lang();
    let id = field.id.clone();
    let dom_id = format!("f-{}", field.id.replace('.', "-"));
    // A memo per field: a keystroke changes one value, and only that field's
    // element is touched (31 fields on the monthly form).
    let value = {
        let id = id.clone();
        Memo::new(move |_| binding.values.with(|v| v.get(&id).cloned().unwrap_or_default()))
    };
    let issue = {
        let id = id.clone();
        Memo::new(move |_| binding.issues.with(|all| all.iter().find(|i| i.field == id).cloned()))
    };
    let on_input = {
        let id = id.clone();
        move |ev: leptos::ev::Event| binding.on_change.run((id.clone(), event_target_value(&ev)))
    };
    let labels = (field.label.clone(), field.label_en.clone());
    let required = field.required;
    let error_id = format!("{dom_id}-err");
    let input = match field.kind {
        FieldKind::Count => view! {
            <input
                id=dom_id.clone()
                name=id.clone()
                class="field-count"
                type="text"
                inputmode="numeric"
                autocomplete="off"
                data-testid="report-field"
                data-field=id.clone()
                prop:value=value
                on:input=on_input
                disabled=move || !binding.editable.get()
                aria-invalid=move || issue.with(|i| i.is_some()).to_string()
                aria-describedby=error_id.clone()
            />
        }
        .into_any(),
        FieldKind::Text { max_chars } => view! {
            <textarea
                id=dom_id.clone()
                name=id.clone()
                class="field-text"
                rows="4"
                maxlength=max_chars
                data-testid="report-field"
                data-field=id.clone()
                prop:value=value
                on:input=on_input
                disabled=move || !binding.editable.get()
                aria-invalid=move || issue.with(|i| i.is_some()).to_string()
                aria-describedby=error_id.clone()
            ></textarea>
        }
        .into_any(),
    };
    view! {
        <div class="field" class:field-invalid=move || issue.with(|i| i.is_some())>
            <label for=dom_id>
                {move || lang.get().pick(labels.0.clone(), labels.1.clone())}
                {required.then(|| view! { <span class="required" aria-hidden="true">" *"</span> })}
            </label>
            {input}
            <p class="field-error" id=format!("f-{}-err", field.id.replace('.', "-")) data-testid="field-error" role="alert">
                {move || issue.get().map(|i| lang.get().pick(i.message, i.message_en))}
            </p>
        </div>
    }
}

/// A section read-only, for a reviewer: each field's label and value as text
/// (long narratives wrap instead of scrolling inside a disabled box), and the
/// section's photos.
#[component]
pub fn SectionView(section: FormSection, binding: FormBinding) -> impl IntoView {
    let lang = use_lang();
    let fields: Vec<Field> = section.fields.iter().filter(|f| f.applies_to(binding.kind)).cloned().collect();
    let title = (section.title.clone(), section.title_en.clone());
    let number = section.plan_item.clone();
    let with_photos = section.plan_item.is_some();
    let section_id = section.id.clone();
    let rows = fields
        .into_iter()
        .map(|f| {
            let id = f.id.clone();
            let labels = (f.label.clone(), f.label_en.clone());
            let text = matches!(f.kind, FieldKind::Text { .. });
            let value = move || binding.values.with(|v| v.get(&id).cloned().unwrap_or_default());
            let field_id = f.id.clone();
            view! {
                <dt>{move || lang.get().pick(labels.0.clone(), labels.1.clone())}</dt>
                <dd class:value-text=text data-testid="report-value" data-field=field_id>
                    {move || {
                        let v = value();
                        if v.trim().is_empty() {
                            view! { <span class="muted">{move || lang.get().pick("(để trống)", "(empty)")}</span> }.into_any()
                        } else {
                            view! { <span>{v}</span> }.into_any()
                        }
                    }}
                </dd>
            }
        })
        .collect_view();
    view! {
        <section class="card form-section form-section-readonly" data-testid="form-section" data-section=section.id.clone()>
            <h2>
                {number.map(|n| view! { <span class="item-number">{n}</span>" " })}
                {move || lang.get().pick(title.0.clone(), title.1.clone())}
            </h2>
            <dl class="readonly-fields">{rows}</dl>
            {with_photos.then(|| view! { <Photos section=section_id.clone() binding=binding/> })}
        </section>
    }
}
