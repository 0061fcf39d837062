//! What a list shows while the phone reads it, and when the read fails: the
//! fallbacks of the `Transition` / `ErrorBoundary` around screens that read
//! IndexedDB (src/pages/reports.rs, src/pages/review.rs).

use leptos::prelude::*;

use crate::i18n::T;

/// "Đang tải…", while a read has not answered yet.
#[component]
pub fn LoadingLine() -> impl IntoView {
    view! { <p class="card empty" role="status" data-testid="loading"><T vi="Đang tải…" en="Loading…"/></p> }
}

/// The errors an `ErrorBoundary` caught, in the storage layer's own words
/// (Vietnamese, with what to do).
pub fn load_failed(errors: ArcRwSignal<Errors>) -> impl IntoView {
    view! {
        <p class="banner banner-error" role="alert" data-testid="load-failed">
            {move || errors.get().into_iter().map(|(_, e)| e.to_string()).collect::<Vec<_>>().join(" ")}
        </p>
    }
}
