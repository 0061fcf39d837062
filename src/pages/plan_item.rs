use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use danvan_core::plan::DueRule;
use danvan_core::time::format_date;
use danvan_core::UnitKind;

use super::plan::paragraphs;
use crate::i18n::{use_lang, Lang, T};
use crate::state::AppState;

/// One item of the plan: its full text, who it is assigned to, and its deadlines.
#[component]
pub fn PlanItemPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let params = use_params_map();
    let item = move || {
        let id = params.with(|p| p.get("item").unwrap_or_default());
        state.snapshot.with(|s| {
            s.as_ref().and_then(|s| s.plans.iter().find_map(|p| p.item(&id).cloned().map(|i| (p.number.clone(), i))))
        })
    };
    view! {
        <main class="page">
            <A href="/ke-hoach" attr:class="back-link">"‹ " <T vi="Toàn văn kế hoạch" en="Full plan"/></A>
            {move || match item() {
                None => view! { <p class="card empty"><T vi="Không tìm thấy mục này trong kế hoạch trên máy." en="This item is not in the plan on this phone."/></p> }.into_any(),
                Some((number, item)) => view! {
                    <article class="card plan-item" data-testid="plan-item">
                        <p class="muted"><T vi="Kế hoạch " en="Plan "/> {number} " · " {item.section.clone()}</p>
                        <h1>{item.number.clone()} ". " {item.title.clone()}</h1>
                        {paragraphs(&item.body)}
                        <h2><T vi="Nghĩa vụ và thời hạn" en="Duties and deadlines"/></h2>
                        <ul class="obligations">
                            {item.obligations.iter().map(|o| view! {
                                <li><strong>{o.title.clone()}</strong><br/><span class="muted">{rule_label(&o.due, lang.get())}</span></li>
                            }).collect_view()}
                        </ul>
                        {
                            let to = assignees(&item.assigned_to, lang.get());
                            (!to.is_empty()).then(|| view! { <p class="muted"><T vi="Áp dụng cho: " en="Applies to: "/> {to}</p> })
                        }
                    </article>
                }.into_any(),
            }}
        </main>
    }
}

fn rule_label(rule: &DueRule, lang: Lang) -> String {
    if lang == Lang::En {
        return match rule {
            DueRule::Once { date } => format!("Complete by the end of {}", format_date(*date)),
            DueRule::Monthly { before_day } => format!("Monthly, before day {before_day}"),
            DueRule::Yearly { before_month, before_day } => {
                format!("Yearly, before {before_day:02}/{before_month:02}")
            }
            DueRule::Continuous => "Ongoing".to_string(),
        };
    }
    match rule {
        DueRule::Once { date } => format!("Hoàn thành trước hết ngày {}", format_date(*date)),
        DueRule::Monthly { before_day } => format!("Hằng tháng, trước ngày {before_day}"),
        DueRule::Yearly { before_month, before_day } => {
            format!("Hằng năm, trước ngày {before_day:02}/{before_month:02}")
        }
        DueRule::Continuous => "Thường xuyên".to_string(),
    }
}

/// Names the assignees. A unit the caller may not see (another department) is left
/// out rather than shown as a raw id; the item's text names it anyway.
fn assignees(list: &[danvan_core::Assignee], lang: Lang) -> String {
    let state = expect_context::<AppState>();
    list.iter()
        .filter_map(|a| match a {
            danvan_core::Assignee::Kind(k) => Some(kind_label(*k, lang).to_string()),
            danvan_core::Assignee::Unit(id) => state.snapshot.with_untracked(|s| {
                s.as_ref().and_then(|s| s.units.iter().find(|u| &u.id == id).map(|u| u.name.clone()))
            }),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn kind_label(kind: UnitKind, lang: Lang) -> &'static str {
    match kind {
        UnitKind::Province => lang.pick("UBND tỉnh", "the provincial People's Committee"),
        UnitKind::Department => lang.pick("các sở, ban, ngành", "provincial departments"),
        UnitKind::District => lang.pick("UBND các huyện, thành phố", "district People's Committees"),
        UnitKind::Commune => lang.pick("UBND các xã, phường, thị trấn", "commune People's Committees"),
    }
}
