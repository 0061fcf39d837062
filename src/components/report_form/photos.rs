//! Evidence photos of a section: thumbnails from IndexedDB (also offline) and a
//! button that opens the camera or gallery. Resizing happens in the page.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use danvan_core::report::AttachmentRef;

use super::FormBinding;
use crate::i18n::T;
use crate::state::AppState;
use crate::storage::LocalDb;
use crate::web;

#[component]
pub fn Photos(section: String, binding: FormBinding) -> impl IntoView {
    let list = {
        let section = section.clone();
        Memo::new(move |_| {
            binding.attachments.with(|all| all.iter().filter(|a| a.section == section).cloned().collect::<Vec<_>>())
        })
    };
    let on_pick = {
        let section = section.clone();
        move |ev: leptos::ev::Event| {
            let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
            if let Some(files) = input.files() {
                for i in 0..files.length() {
                    if let Some(file) = files.get(i) {
                        binding.on_photo.run((section.clone(), file));
                    }
                }
            }
            // Let the same photo be picked again after a failure.
            input.set_value("");
        }
    };
    // Photos of this section the server refused for good (`LocalDb::refuse_upload`):
    // they are on this phone only, and the official is told which and why. Read
    // again whenever a sync changed something.
    let state = expect_context::<AppState>();
    let refused = LocalResource::new(move || {
        state.sync.generation.track();
        let shown = list.get();
        async move {
            let all = LocalDb::shared().await.ok()?.refused_uploads().await.ok()?;
            let lines: Vec<(String, String)> =
                shown.into_iter().filter_map(|a| all.get(&a.id).map(|why| (a.name.clone(), why.clone()))).collect();
            Some(lines)
        }
    });
    view! {
        <div class="photos">
            <ul class="photo-list">
                <For each=move || list.get() key=|a| a.id.clone() let:attachment>
                    <Thumb attachment=attachment/>
                </For>
            </ul>
            {move || refused.get().flatten().filter(|l| !l.is_empty()).map(|lines| view! {
                <ul class="banner banner-error photo-refused" role="alert" data-testid="photo-refused">
                    {lines.into_iter().map(|(name, why)| view! {
                        <li>{format!("Ảnh «{name}» không gửi được lên máy chủ: {why}")}</li>
                    }).collect_view()}
                </ul>
            })}
            <label class="btn btn-secondary photo-add" class:hidden=move || !binding.editable.get()>
                <input
                    type="file"
                    accept="image/*"
                    data-testid="photo-input"
                    data-section=section.clone()
                    on:change=on_pick
                    disabled=move || !binding.editable.get()
                />
                <T vi="+ Thêm ảnh minh chứng" en="+ Add a photo"/>
            </label>
        </div>
    }
}

#[component]
fn Thumb(attachment: AttachmentRef) -> impl IntoView {
    let state = expect_context::<AppState>();
    let id = attachment.id.clone();
    let url = LocalResource::new(move || {
        let id = id.clone();
        async move {
            let db = LocalDb::shared().await.ok()?;
            let blob = match db.load_blob(&id).await.ok()? {
                Some(blob) => blob,
                // Attached on another device: fetch it once, keep it for offline.
                None => {
                    let token = state.session.try_with_untracked(|s| s.as_ref().map(|s| s.token.clone())).flatten()?;
                    let blob = crate::api::download_attachment(&token, &id).await.ok()?;
                    let _ = db.save_blob(&id, &blob).await;
                    blob
                }
            };
            web::object_url(&blob)
        }
    });
    on_cleanup(move || {
        if let Some(Some(u)) = url.try_get_untracked().flatten() {
            let _ = web_sys::Url::revoke_object_url(&u);
        }
    });
    let kb = attachment.size.div_ceil(1024);
    view! {
        <li class="photo" data-testid="photo-thumb" data-attachment=attachment.id.clone()>
            {move || match url.get().flatten() {
                Some(u) => view! { <img src=u alt=attachment.name.clone() loading="lazy"/> }.into_any(),
                None => view! { <span class="photo-missing"><T vi="Ảnh trên máy chủ" en="Photo on the server"/></span> }.into_any(),
            }}
            <span class="photo-size muted">{format!("{kb} KB")}</span>
        </li>
    }
}
