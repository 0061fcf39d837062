//! The interface language: Vietnamese, with English as a second language. The plan
//! itself and messages from the server stay in Vietnamese — they are official text.

use leptos::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Vi,
    En,
}

const STORAGE_KEY: &str = "danvan.lang";

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// The choice saved on this device; Vietnamese unless English was chosen.
    pub fn saved() -> Lang {
        match local_storage().and_then(|s| s.get_item(STORAGE_KEY).ok().flatten()).as_deref() {
            Some("en") => Lang::En,
            _ => Lang::Vi,
        }
    }

    fn save(self) {
        if let Some(storage) = local_storage() {
            // Private browsing may refuse; the choice then lasts for this page only.
            let _ = storage.set_item(STORAGE_KEY, self.code());
        }
    }

    pub fn pick<T>(self, vi: T, en: T) -> T {
        match self {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }
}

fn local_storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

/// Creates the language signal for the app, saved and reflected in `<html lang>`.
pub fn provide_lang() -> RwSignal<Lang> {
    let lang = RwSignal::new(Lang::saved());
    provide_context(lang);
    Effect::new(move || {
        let lang = lang.get();
        lang.save();
        if let Some(html) = document().document_element() {
            let _ = html.set_attribute("lang", lang.code());
        }
    });
    lang
}

pub fn use_lang() -> RwSignal<Lang> {
    expect_context()
}

/// Fixed interface text in the current language.
#[component]
pub fn T(vi: &'static str, en: &'static str) -> impl IntoView {
    let lang = use_lang();
    move || lang.get().pick(vi, en)
}

/// Switches between Vietnamese and English; labelled in the language it switches to.
#[component]
pub fn LangSwitch() -> impl IntoView {
    let lang = use_lang();
    view! {
        <button
            class="lang-switch"
            type="button"
            data-testid="lang-switch"
            on:click=move |_| lang.update(|l| *l = l.pick(Lang::En, Lang::Vi))
        >
            {move || lang.get().pick("English", "Tiếng Việt")}
        </button>
    }
}
