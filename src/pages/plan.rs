use leptos::prelude::*;
use leptos_router::components::A;

use danvan_core::time::format_date;
use danvan_core::Plan;

use crate::i18n::T;
use crate::state::AppState;

/// The plan document itself, as issued: header, purposes and requirements, and the
/// full text of every item.
#[component]
pub fn PlanPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let plans = move || state.snapshot.with(|s| s.as_ref().map(|s| s.plans.clone()).unwrap_or_default());
    view! {
        <main class="page">
            {move || {
                let plans = plans();
                if plans.is_empty() {
                    view! { <p class="card empty"><T vi="Chưa có kế hoạch trên máy. Hãy kết nối mạng để tải." en="No plan on this phone yet. Connect to download it."/></p> }.into_any()
                } else {
                    view! {
                        <A href="/ke-hoach-don-vi" attr:class="card review-link" attr:data-testid="unit-plan-link">
                            <span><T vi="Kế hoạch của đơn vị (mục III.1) và mô hình «Dân vận khéo»" en="Unit plan (item III.1) and «Dân vận khéo» models"/></span>
                            <span aria-hidden="true">"›"</span>
                        </A>
                        {plans.into_iter().map(|p| view! { <PlanDocument plan=p/> }).collect_view()}
                    }.into_any()
                }
            }}
        </main>
    }
}

#[component]
fn PlanDocument(plan: Plan) -> impl IntoView {
    let mut sections: Vec<(String, Vec<danvan_core::PlanItem>)> = Vec::new();
    for item in plan.items {
        match sections.last_mut() {
            Some((s, items)) if *s == item.section => items.push(item),
            _ => sections.push((item.section.clone(), vec![item])),
        }
    }
    view! {
        <article class="plan" data-testid="plan">
            <header class="plan-header">
                <p class="muted">{plan.issued_by.clone()}</p>
                <p class="plan-number">
                    <T vi="Số: " en="No. "/> {plan.number.clone()} " · "
                    {plan.place.clone()} ", ngày " {format_date(plan.issued_on)}
                </p>
                <h1 class="plan-title">"KẾ HOẠCH"</h1>
                <p class="plan-subtitle">{plan.title.clone()}</p>
            </header>
            {(!plan.preamble.is_empty()).then(|| view! { <p class="plan-text">{plan.preamble.clone()}</p> })}
            {(!plan.purposes.is_empty()).then(|| view! {
                <h2><T vi="Mục đích" en="Purposes"/></h2>
                <ul class="plan-bullets">{plan.purposes.iter().map(|p| view! { <li>{p.clone()}</li> }).collect_view()}</ul>
            })}
            {(!plan.requirements.is_empty()).then(|| view! {
                <h2><T vi="Yêu cầu" en="Requirements"/></h2>
                <ul class="plan-bullets">{plan.requirements.iter().map(|p| view! { <li>{p.clone()}</li> }).collect_view()}</ul>
            })}
            {sections.into_iter().map(|(section, items)| view! {
                <h2>{section}</h2>
                {items.into_iter().map(|item| view! {
                    <section class="card plan-item" id=format!("muc-{}", item.id) data-testid="plan-item">
                        <h3>
                            <A href=format!("/ke-hoach/{}", item.id)>{item.number.clone()} ". " {item.title.clone()}</A>
                        </h3>
                        {paragraphs(&item.body)}
                    </section>
                }).collect_view()}
            }).collect_view()}
        </article>
    }
}

/// Blank-line separated paragraphs as <p> elements.
pub fn paragraphs(body: &str) -> impl IntoView {
    body.split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| view! { <p class="plan-text">{p.trim().to_string()}</p> })
        .collect_view()
}
