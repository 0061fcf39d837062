//! "Kế hoạch của đơn vị": the unit's own III.1 implementation plan (number, date,
//! the document) against its February deadline, and the "Dân vận khéo" register
//! (register a model; a unit above recognises and commends it).
//!
//! These are online operations. What was typed stays in the form when the
//! network or the server says no; the last lists fetched are kept on the phone
//! (`cache:implementation-plans:…`, `cache:models:…`) and shown offline, dated.

use chrono::NaiveDate;
use leptos::prelude::*;

use danvan_core::aggregate::{ModelField, ModelStage, ObligationState};
use danvan_core::api::Role;
use danvan_core::{OrgUnit, Plan};

use crate::api;
use crate::hooks::{use_cached_query, Query, UseCachedQueryReturn};
use crate::i18n::{Lang, T};
use crate::state::AppState;

/// The server's limits, checked here first so the person hears it before sending.
const MAX_TEXT: usize = 200;

/// Who is looking, and at what.
#[derive(Clone, Debug, PartialEq)]
struct Ctx {
    plan: Plan,
    unit: OrgUnit,
    role: Role,
    user_id: i64,
    /// The subtree the lists cover: the province for Sở Nội vụ, else the own unit.
    scope: String,
    units: Vec<OrgUnit>,
}

/// Reads dd/mm/yyyy, also with '.', '-' or spaces between the parts (a numeric
/// keypad may lack '/') or as 8 digits.
pub(crate) fn parse_vn_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        return danvan_core::time::parse_date(&format!("{}/{}/{}", &t[0..2], &t[2..4], &t[4..8]));
    }
    let normalised: String = t.chars().map(|c| if matches!(c, '.' | '-' | ' ') { '/' } else { c }).collect();
    danvan_core::time::parse_date(&normalised)
}

fn state_label(s: ObligationState, lang: Lang) -> &'static str {
    lang.pick(s.label_vi(), s.label_en())
}

fn state_chip(s: ObligationState) -> &'static str {
    match s {
        ObligationState::Done => "chip chip-ok",
        ObligationState::Late | ObligationState::Missing => "chip chip-late",
        ObligationState::NotDue => "chip chip-soon",
    }
}

fn field_label(f: ModelField, lang: Lang) -> &'static str {
    lang.pick(f.label_vi(), f.label_en())
}

fn stage_label(s: ModelStage, lang: Lang) -> &'static str {
    lang.pick(s.label_vi(), s.label_en())
}

/// An online operation's failure in words. The network one differs from sync's:
/// nothing here is retried by itself, and what was typed stays in the form.
fn failure(e: &api::ApiError, lang: Lang) -> String {
    match e {
        api::ApiError::Network => lang
            .pick(
                "Không kết nối được máy chủ. Việc này cần có mạng; nội dung đã nhập vẫn giữ nguyên, hãy bấm lại khi có mạng.",
                "The server cannot be reached. This needs a connection; what you typed is kept, try again when online.",
            )
            .to_string(),
        other => other.to_string(),
    }
}

fn token(state: &AppState) -> Option<String> {
    state.session.try_with_untracked(|s| s.as_ref().map(|s| s.token.clone())).flatten()
}

/// What the lists are asked for: the plan, over the page's subtree.
#[derive(Clone, Debug, PartialEq)]
struct ListScope {
    plan_id: String,
    scope: String,
}

/// A list of the page's subtree (`kind`: `implementation-plans`, `models`) through
/// the shared cache (src/hooks/use_cached_query.rs): the copy kept on the phone at
/// once, then the server's answer.
fn use_list<T, F, Fut>(ctx: &Ctx, kind: &'static str, fetch: F) -> UseCachedQueryReturn<T>
where
    T: Clone + PartialEq + serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
    F: Fn(Query<ListScope>) -> Fut + Copy + 'static,
    Fut: std::future::Future<Output = Result<T, api::ApiError>> + 'static,
{
    let state = expect_context::<AppState>();
    let args = ListScope { plan_id: ctx.plan.id.clone(), scope: ctx.scope.clone() };
    let user_id = ctx.user_id;
    let query = Memo::new(move |_| {
        let token = state.session.with(|s| s.as_ref().map(|s| s.token.clone()))?;
        let cache_key = format!("cache:{kind}:{}:{}", args.plan_id, args.scope);
        Some(Query { cache_key, user_id, token, args: args.clone() })
    });
    use_cached_query(query, fetch)
}

/// Why the list on screen is not the server's, in words (`None` when it is).
fn list_failure(error: Option<api::ApiError>, kept: bool) -> Option<String> {
    Some(match (error?, kept) {
        (api::ApiError::Network, true) => "Không kết nối được máy chủ: đang xem danh sách đã lưu trên máy.".to_string(),
        (api::ApiError::Network, false) => {
            "Không kết nối được máy chủ: cần có mạng để tải danh sách lần đầu.".to_string()
        }
        (other, _) => other.to_string(),
    })
}

#[component]
pub fn ObligationsPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let ctx = Memo::new(move |_| {
        let session = state.session.get()?;
        let home = super::dashboard::home_unit(state);
        state.snapshot.with(|s| {
            let s = s.as_ref()?;
            let plan_id = super::dashboard::current_plan(state, None)?.0;
            let plan = s.plans.iter().find(|p| p.id == plan_id)?.clone();
            let unit =
                s.units.iter().find(|u| u.id == session.user.unit_id).cloned().unwrap_or_else(|| s.tasks.unit.clone());
            let scope = home.unwrap_or_else(|| unit.id.clone());
            Some(Ctx { plan, unit, role: session.user.role, user_id: session.user.id, scope, units: s.units.clone() })
        })
    });
    view! {
        <main class="page obligations-page" data-testid="obligations-page">
            <h1><T vi="Kế hoạch của đơn vị và mô hình «Dân vận khéo»" en="Unit plan and «Dân vận khéo» models"/></h1>
            {move || match ctx.get() {
                None => view! {
                    <p class="card empty" data-testid="no-data">
                        <T
                            vi="Chưa có kế hoạch trên máy. Hãy kết nối mạng để tải."
                            en="No plan on this phone yet. Connect to download it."
                        />
                    </p>
                }.into_any(),
                Some(c) => view! {
                    <ImplementationPlanSection ctx=c.clone()/>
                    <ModelsSection ctx=c/>
                }.into_any(),
            }}
        </main>
    }
}

mod implementation_plans;
mod models;

use implementation_plans::ImplementationPlanSection;
use models::ModelsSection;
