//! "Lấy số liệu tổng hợp từ đơn vị cấp dưới": a unit with units below starts its
//! own report from the sums of their accepted reports (Sở Nội vụ: the province's),
//! after the official has seen what it would overwrite.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use danvan_core::aggregate::Consolidation;
use danvan_core::api::Role;
use danvan_core::form::{FieldKind, PeriodKind};
use danvan_core::{ReportForm, ReportKey, Values};

use crate::api::ApiError;
use crate::components::history::vn_date_time;
use crate::hooks::{fetch_or_kept, use_online};
use crate::i18n::{use_lang, Lang};
use crate::state::AppState;
use crate::storage::consolidation_cache_key;

/// Where the fill stands.
#[derive(Clone, Debug, PartialEq)]
enum Prefill {
    Idle,
    Loading,
    /// Fetched (or read from the phone's copy); waiting for the official's yes.
    Confirm {
        values: Values,
        /// Units whose accepted reports are summed.
        sources: usize,
        /// Units that owe a report but have none accepted.
        without: usize,
        /// Fields already filled that would change.
        overwritten: usize,
        /// Narratives cut to their field's length.
        truncated: usize,
        at: DateTime<Utc>,
        /// Read from the phone's copy (offline).
        kept: bool,
    },
    Message(String),
}

/// The unit whose consolidation fills the report of `own`: the unit itself when
/// it has units below, the province for Sở Nội vụ; `None`: nothing to fill from.
fn consolidation_unit(state: AppState) -> Option<String> {
    let (role, own) = state.session.with(|s| s.as_ref().map(|s| (s.user.role, s.user.unit_id.clone())))?;
    state.snapshot.with(|s| {
        let units = &s.as_ref()?.units;
        if units.iter().any(|u| u.parent.as_deref() == Some(own.as_str())) {
            return Some(own);
        }
        (role == Role::Aggregator).then(|| units.iter().find(|u| u.parent.is_none()).map(|u| u.id.clone())).flatten()
    })
}

/// The "fill in from the units below" card of the editor of `report`. `values`
/// are those on screen (to count what would be overwritten); `on_apply` gets the
/// values to write once the official confirms.
#[component]
pub fn ConsolidationPrefill(
    report: ReportKey,
    #[prop(into)] form: Signal<Option<ReportForm>>,
    #[prop(into)] values: Signal<Values>,
    on_apply: Callback<Values>,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let is_online = use_online().is_online;
    let prefill = RwSignal::new(Prefill::Idle);
    let unit = Memo::new(move |_| consolidation_unit(state));
    let kind = report.period_kind();
    let report = StoredValue::new(report);

    let start_prefill = move |_| {
        let Some(unit) = unit.get_untracked() else { return };
        prefill.set(Prefill::Loading);
        leptos::task::spawn_local(async move {
            let lang = lang.try_get_untracked().unwrap_or(Lang::Vi);
            let k = report.get_value();
            let period = k.period.key();
            let session = state.session.try_get_untracked().flatten();
            let user_id = session.as_ref().map(|s| s.user.id).unwrap_or_default();
            let request = match (&session, is_online.try_get_untracked().unwrap_or(false)) {
                (Some(s), true) => Some(crate::api::consolidation(&s.token, &k.plan_id, &period, &unit)),
                _ => None,
            };
            let cache_key = consolidation_cache_key(&k.plan_id, &unit, &period);
            let shown = match fetch_or_kept::<Consolidation, _>(&cache_key, user_id, request).await {
                Ok(shown) => shown,
                Err(ApiError::Network) => {
                    prefill.try_set(Prefill::Message(lang.pick(
                        "Cần kết nối mạng để lấy số liệu tổng hợp từ đơn vị cấp dưới (trên máy chưa có bản tổng hợp của kỳ này).",
                        "A connection is needed to fetch the consolidated figures (none kept on this phone for this period).",
                    ).to_string()));
                    return;
                }
                Err(e) => {
                    prefill.try_set(Prefill::Message(e.to_string()));
                    return;
                }
            };
            let consolidation = &shown.value;
            if consolidation.sources.is_empty() {
                prefill.try_set(Prefill::Message(
                    lang.pick(
                        "Chưa có báo cáo nào của đơn vị cấp dưới được tiếp nhận cho kỳ này.",
                        "No report of the units below has been accepted for this period yet.",
                    )
                    .to_string(),
                ));
                return;
            }
            let Some(f) = form.try_get_untracked().flatten() else { return };
            let (new_values, truncated) = prefill_values(consolidation, &f, kind);
            let overwritten = values
                .try_with_untracked(|v| {
                    new_values
                        .iter()
                        .filter(|(k, n)| v.get(*k).is_some_and(|old| !old.trim().is_empty() && old != *n))
                        .count()
                })
                .unwrap_or(0);
            prefill.try_set(Prefill::Confirm {
                values: new_values,
                sources: consolidation.sources.len(),
                without: consolidation.without_accepted.len(),
                overwritten,
                truncated,
                at: shown.fetched_at,
                kept: shown.source.is_kept(),
            });
        });
    };
    let apply_prefill = move |_| {
        let Prefill::Confirm { values: new_values, .. } = prefill.get_untracked() else { return };
        prefill.set(Prefill::Idle);
        on_apply.run(new_values);
    };

    move || {
        unit.with(|u| u.is_some()).then(|| {
        let lang = lang.get();
        let button = view! {
            <button type="button" class="btn btn-secondary" data-testid="prefill-consolidation"
                disabled=move || prefill.with(|p| *p == Prefill::Loading)
                on:click=start_prefill>
                {move || if prefill.with(|p| *p == Prefill::Loading) {
                    lang.pick("Đang lấy số liệu…", "Fetching…")
                } else {
                    lang.pick("Lấy số liệu tổng hợp từ đơn vị cấp dưới", "Fill in from the units below")
                }}
            </button>
        };
        let detail = match prefill.get() {
            Prefill::Idle | Prefill::Loading => None,
            Prefill::Message(m) => Some(
                view! { <p class="banner banner-warn" data-testid="prefill-message" role="status">{m}</p> }.into_any(),
            ),
            Prefill::Confirm { values: v, sources, without, overwritten, truncated, at, kept } => {
                let text = match lang {
                    Lang::Vi => {
                        let mut t = format!(
                            "Cộng số liệu và gộp nội dung từ báo cáo đã được tiếp nhận của {sources} đơn vị cấp dưới ({} lúc {}).",
                            if kept { "bản lưu trên máy" } else { "số liệu" },
                            vn_date_time(at)
                        );
                        if without > 0 {
                            t.push_str(&format!(" {without} đơn vị chưa có báo cáo được tiếp nhận."));
                        }
                        t.push_str(&format!(
                            " Sẽ điền {} mục; các số liệu và nội dung đã nhập ở những mục này sẽ bị ghi đè",
                            v.len()
                        ));
                        if overwritten > 0 {
                            t.push_str(&format!(" ({overwritten} mục đang có giá trị khác)"));
                        }
                        t.push('.');
                        if truncated > 0 {
                            t.push_str(&format!(" {truncated} nội dung dài quá giới hạn đã được cắt bớt."));
                        }
                        t
                    }
                    Lang::En => {
                        let mut t = format!(
                            "Sums the figures and gathers the narratives of the accepted reports of {sources} units below ({} {}).",
                            if kept { "copy kept on this phone from" } else { "as of" },
                            vn_date_time(at)
                        );
                        if without > 0 {
                            t.push_str(&format!(" {without} units have no accepted report."));
                        }
                        t.push_str(&format!(" {} fields will be filled, overwriting what they hold", v.len()));
                        if overwritten > 0 {
                            t.push_str(&format!(" ({overwritten} currently differ)"));
                        }
                        t.push('.');
                        if truncated > 0 {
                            t.push_str(&format!(" {truncated} narratives were cut to fit."));
                        }
                        t
                    }
                };
                Some(view! {
                    <div class="prefill-confirm" data-testid="prefill-confirm" role="alertdialog">
                        <p>{text}</p>
                        <div class="review-actions">
                            <button type="button" class="btn btn-secondary" data-testid="cancel-prefill"
                                on:click=move |_| prefill.set(Prefill::Idle)>
                                {lang.pick("Hủy", "Cancel")}
                            </button>
                            <button type="button" class="btn btn-primary" data-testid="confirm-prefill" on:click=apply_prefill>
                                {lang.pick("Ghi đè và điền", "Overwrite and fill")}
                            </button>
                        </div>
                    </div>
                }.into_any())
            }
        };
        view! {
            <section class="card prefill" data-testid="prefill">
                <p class="muted">
                    {lang.pick(
                        "Báo cáo của đơn vị có đơn vị cấp dưới: có thể bắt đầu từ tổng hợp các báo cáo đã được tiếp nhận.",
                        "Your unit has units below: you can start from the sum of their accepted reports.",
                    )}
                </p>
                {button}
                {detail}
            </section>
        }
        })
    }
}

/// The consolidation's values that this form can take for this period: fields
/// it has, narratives cut to their field's length (a longer one would be refused
/// and block the save). Returns them and how many were cut.
fn prefill_values(c: &Consolidation, form: &ReportForm, kind: PeriodKind) -> (Values, usize) {
    let mut out = Values::new();
    let mut truncated = 0;
    for (k, v) in c.prefill() {
        let Some(field) = form.field(&k) else { continue };
        if !field.applies_to(kind) {
            continue;
        }
        let v = match field.kind {
            FieldKind::Text { max_chars } if v.chars().count() > max_chars as usize => {
                truncated += 1;
                let mut cut: String = v.chars().take((max_chars as usize).saturating_sub(1)).collect();
                cut.push('…');
                cut
            }
            _ => v,
        };
        out.insert(k, v);
    }
    (out, truncated)
}
