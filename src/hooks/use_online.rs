use leptos::prelude::*;

pub struct UseOnlineReturn {
    /// What the browser believes. `true` does not promise the server is reachable
    /// (2G, captive portals), so callers still handle failed requests.
    pub is_online: Signal<bool>,
}

/// Tracks `navigator.onLine` through the window's `online`/`offline` events.
pub fn use_online() -> UseOnlineReturn {
    let (online, set_online) = signal(window().navigator().on_line());
    let on = window_event_listener(leptos::ev::online, move |_| set_online.set(true));
    let off = window_event_listener(leptos::ev::offline, move |_| set_online.set(false));
    on_cleanup(move || {
        on.remove();
        off.remove();
    });
    UseOnlineReturn { is_online: online.into() }
}
