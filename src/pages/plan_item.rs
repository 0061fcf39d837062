use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use danvan_core::plan::DueRule;
use danvan_core::time::format_date;
use danvan_core::UnitKind;

use super::plan::paragraphs;
use crate::state::AppState;

/// One item of the plan: its full text, who it is assigned to, and its deadlines.
#[component]
pub fn PlanItemPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let params = use_params_map();
    let item = move || {
        let id = params.with(|p| p.get("item").unwrap_or_default());
        state.snapshot.with(|s| {
            s.as_ref().and_then(|s| s.plans.iter().find_map(|p| p.item(&id).cloned().map(|i| (p.number.clone(), i))))
        })
    };
    view! {
        <main class="page">
            <A href="/ke-hoach" attr:class="back-link">"‹ Toàn văn kế hoạch"</A>
            {move || match item() {
                None => view! { <p class="card empty">"Không tìm thấy mục này trong kế hoạch trên máy."</p> }.into_any(),
                Some((number, item)) => view! {
                    <article class="card plan-item" data-testid="plan-item">
                        <p class="muted">"Kế hoạch " {number} " · " {item.section.clone()}</p>
                        <h1>{item.number.clone()} ". " {item.title.clone()}</h1>
                        {paragraphs(&item.body)}
                        <h2>"Nghĩa vụ và thời hạn"</h2>
                        <ul class="obligations">
                            {item.obligations.iter().map(|o| view! {
                                <li><strong>{o.title.clone()}</strong><br/><span class="muted">{rule_label(&o.due)}</span></li>
                            }).collect_view()}
                        </ul>
                        {
                            let to = assignees(&item.assigned_to);
                            (!to.is_empty()).then(|| view! { <p class="muted">"Áp dụng cho: " {to}</p> })
                        }
                    </article>
                }.into_any(),
            }}
        </main>
    }
}

fn rule_label(rule: &DueRule) -> String {
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
fn assignees(list: &[danvan_core::Assignee]) -> String {
    let state = expect_context::<AppState>();
    list.iter()
        .filter_map(|a| match a {
            danvan_core::Assignee::Kind(k) => Some(kind_label(*k).to_string()),
            danvan_core::Assignee::Unit(id) => state.snapshot.with_untracked(|s| {
                s.as_ref().and_then(|s| s.units.iter().find(|u| &u.id == id).map(|u| u.name.clone()))
            }),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn kind_label(kind: UnitKind) -> &'static str {
    match kind {
        UnitKind::Province => "UBND tỉnh",
        UnitKind::Department => "các sở, ban, ngành",
        UnitKind::District => "UBND các huyện, thành phố",
        UnitKind::Commune => "UBND các xã, phường, thị trấn",
    }
}
