//! The conflict screen: the report was changed on another device (or the server
//! refused this device's change). Fields changed on one side only are merged
//! without asking; fields both sides changed are shown side by side and the person
//! chooses. Nothing is dropped until they press the button.

use std::collections::BTreeMap;

use leptos::prelude::*;

use danvan_core::client::{Conflict, Side};
use danvan_core::time::format_vn_datetime;
use danvan_core::ReportForm;

use crate::i18n::{use_lang, T};

#[component]
pub fn ConflictView(
    conflict: Conflict,
    form: ReportForm,
    on_resolve: Callback<BTreeMap<String, Side>>,
    /// The page already shows the server's reason in the same words.
    #[prop(optional)]
    reason_said: bool,
) -> impl IntoView {
    let lang = use_lang();
    let merge = conflict.merge();
    let overlapping = merge.conflicts.clone();
    let auto_merged = danvan_core::report::diff(&conflict.theirs.values, &merge.merged).len()
        + danvan_core::report::diff(&conflict.mine.values, &merge.merged).len();
    let choices = RwSignal::new(BTreeMap::<String, Side>::new());
    let can_merge = conflict.can_merge();
    let refused = conflict.refused_for_good();
    let who = conflict.theirs.updated_by.clone().unwrap_or_default();
    let when = conflict.theirs.updated_at.map(format_vn_datetime).unwrap_or_default();
    let theirs_status = conflict.theirs.status;
    let on_server = conflict.theirs.version > 0;
    let reason = conflict.reason.clone().filter(|_| !reason_said);
    let label_of = move |field: &str| {
        form.field(field)
            .map(|f| (f.label.clone(), f.label_en.clone()))
            .unwrap_or((field.to_string(), field.to_string()))
    };
    let rows = overlapping
        .into_iter()
        .map(|c| {
            let (vi, en) = label_of(&c.field);
            let field = c.field.clone();
            let name = format!("choice-{}", c.field);
            let (f1, f2) = (field.clone(), field.clone());
            let pick = move |side: Side| {
                let field = field.clone();
                move |_| {
                    choices.update(|m| {
                        m.insert(field.clone(), side);
                    })
                }
            };
            view! {
                <fieldset class="conflict-field" data-testid="conflict-field" data-field=c.field.clone()>
                    <legend>{move || lang.get().pick(vi.clone(), en.clone())}</legend>
                    <label class="choice">
                        <input type="radio" name=name.clone() data-testid="choose-mine"
                            on:change=pick(Side::Mine)
                            prop:checked=move || choices.with(|m| m.get(&f1) == Some(&Side::Mine))/>
                        <span class="choice-head"><T vi="Bản trên máy này" en="This phone's version"/></span>
                        <span class="choice-value" data-testid="mine-value">{show(&c.mine)}</span>
                    </label>
                    <label class="choice">
                        <input type="radio" name=name data-testid="choose-theirs"
                            on:change=pick(Side::Theirs)
                            prop:checked=move || choices.with(|m| m.get(&f2) != Some(&Side::Mine))/>
                        <span class="choice-head"><T vi="Bản trên máy chủ" en="The server's version"/></span>
                        <span class="choice-value" data-testid="theirs-value">{show(&c.theirs)}</span>
                    </label>
                </fieldset>
            }
        })
        .collect_view();
    // When the server copy is locked, show this device's values that differ so
    // they can be copied into a note or a later report.
    let mine_differs: Vec<(String, String, String)> =
        danvan_core::report::diff(&conflict.theirs.values, &conflict.mine.values)
            .into_iter()
            .map(|(k, v)| {
                let (vi, _) = label_of(&k);
                (k, vi, v)
            })
            .collect();
    view! {
        <section class="card conflict" data-testid="conflict-screen" role="alert">
            {if refused {
                view! { <h2><T vi="Máy chủ không nhận thay đổi này" en="The server did not take this change"/></h2> }
                    .into_any()
            } else {
                view! { <h2><T vi="Báo cáo đã được sửa ở nơi khác" en="This report was changed elsewhere"/></h2> }
                    .into_any()
            }}
            {reason.map(|r| view! { <p class="banner banner-warn">{r}</p> })}
            {if on_server {
                view! {
                    <p class="muted">
                        {move || lang.get().pick("Bản trên máy chủ do ", "The server's version was saved by ")}
                        <strong>{who.clone()}</strong>
                        {move || lang.get().pick(" lưu lúc ", " at ")}
                        {when.clone()}
                        " · "
                        {move || lang.get().pick(theirs_status.label_vi(), theirs_status.label_en())}
                    </p>
                }
                    .into_any()
            } else {
                view! {
                    <p class="muted" data-testid="conflict-not-on-server">
                        <T vi="Máy chủ chưa có báo cáo này." en="The server does not have this report."/>
                    </p>
                }
                    .into_any()
            }}
            {if can_merge {
                view! {
                    <p>
                        {move || lang.get().pick(
                            format!("{auto_merged} thay đổi không trùng nhau đã được gộp. Hãy chọn giá trị cho từng mục bị sửa ở cả hai nơi:"),
                            format!("{auto_merged} non-overlapping changes were merged. Choose a value for each field changed in both places:"),
                        )}
                    </p>
                    {rows}
                    <button class="btn btn-primary" data-testid="resolve-conflict"
                        on:click=move |_| on_resolve.run(choices.get_untracked())>
                        <T vi="Lưu lựa chọn" en="Save my choices"/>
                    </button>
                }.into_any()
            } else {
                view! {
                    <p data-testid="conflict-locked">
                        {if refused {
                            view! {
                                <T
                                    vi="Gửi lại cũng sẽ bị từ chối như trên. Hãy ghi lại các giá trị bạn đã nhập trên máy này để dùng khi cần:"
                                    en="Sending them again would be refused the same way. Note the values you entered on this phone to use where they belong:"
                                />
                            }
                                .into_any()
                        } else {
                            view! {
                                <T
                                    vi="Báo cáo trên máy chủ đã được gửi hoặc tiếp nhận nên không sửa được nữa. Các giá trị bạn đã nhập trên máy này:"
                                    en="The server's report has been submitted or accepted and can no longer change. The values you entered on this phone:"
                                />
                            }
                                .into_any()
                        }}
                    </p>
                    <dl class="facts" data-testid="mine-values">
                        {mine_differs.into_iter().map(|(_, label, v)| view! { <dt>{label}</dt><dd>{v}</dd> }).collect_view()}
                    </dl>
                    <button class="btn btn-secondary" data-testid="resolve-conflict"
                        on:click=move |_| on_resolve.run(BTreeMap::new())>
                        {if on_server {
                            view! { <T vi="Đã ghi lại, dùng bản trên máy chủ" en="Noted — use the server's version"/> }.into_any()
                        } else {
                            view! { <T vi="Đã ghi lại, xoá bản trên máy này" en="Noted — remove this phone's copy"/> }.into_any()
                        }}
                    </button>
                }.into_any()
            }}
        </section>
    }
}

fn show(value: &str) -> String {
    if value.is_empty() {
        "(để trống)".into()
    } else {
        value.to_string()
    }
}
