//! Small wrappers over browser APIs web-sys leaves raw or unstable: random ids,
//! SHA-256, photo resizing, Web Locks, persistent storage, file download. Every
//! failure comes back as an `Err` with a message: nothing here may panic (a panic
//! stops the app until reload).

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

fn js_err(e: JsValue) -> String {
    e.as_string()
        .or_else(|| Reflect::get(&e, &"message".into()).ok().and_then(|m| m.as_string()))
        .unwrap_or_else(|| "lỗi trình duyệt".into())
}

fn window() -> Result<web_sys::Window, String> {
    web_sys::window().ok_or_else(|| "không có cửa sổ trình duyệt".into())
}

/// `n` random bytes as hex, from the browser's CSPRNG.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    let filled = window()
        .ok()
        .and_then(|w| w.crypto().ok())
        .and_then(|c| c.get_random_values_with_u8_array(&mut bytes).ok())
        .is_some();
    if !filled {
        // No crypto (very old browser): Math.random is enough for an id that only
        // has to be unique, not secret.
        for b in bytes.iter_mut() {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn blob_bytes(blob: &web_sys::Blob) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(blob.array_buffer()).await.map_err(js_err)?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

pub fn bytes_to_blob(bytes: &[u8], mime: &str) -> Result<web_sys::Blob, String> {
    let array = Uint8Array::from(bytes);
    let parts = Array::of1(&array);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(js_err)
}

/// SHA-256 of the bytes, hex (the server checks the upload against it).
pub async fn sha256_hex(bytes: &[u8]) -> Result<String, String> {
    let subtle = window()?.crypto().map_err(js_err)?.subtle();
    let data = Uint8Array::from(bytes);
    let promise = subtle.digest_with_str_and_buffer_source("SHA-256", &data).map_err(js_err)?;
    let digest = JsFuture::from(promise).await.map_err(js_err)?;
    Ok(Uint8Array::new(&digest).to_vec().iter().map(|b| format!("{b:02x}")).collect())
}

/// The longest side of a photo after resizing: enough to read a document or see a
/// meeting, small enough (~150–400 KB) to upload over 2G.
pub const PHOTO_MAX_SIDE: u32 = 1600;
pub const PHOTO_QUALITY: f64 = 0.72;

/// Decodes an image file, scales it down to `PHOTO_MAX_SIDE` and re-encodes it as
/// JPEG on the device.
pub async fn resize_photo(file: &web_sys::Blob) -> Result<web_sys::Blob, String> {
    let w = window()?;
    let bitmap: web_sys::ImageBitmap =
        JsFuture::from(w.create_image_bitmap_with_blob(file).map_err(js_err)?).await.map_err(js_err)?.unchecked_into();
    let (width, height) = (bitmap.width(), bitmap.height());
    if width == 0 || height == 0 {
        return Err("ảnh rỗng".into());
    }
    let scale = (PHOTO_MAX_SIDE as f64 / width.max(height) as f64).min(1.0);
    let (tw, th) =
        (((width as f64) * scale).round().max(1.0) as u32, ((height as f64) * scale).round().max(1.0) as u32);
    let document = w.document().ok_or("không có document")?;
    let canvas: web_sys::HtmlCanvasElement =
        document.create_element("canvas").map_err(js_err)?.dyn_into().map_err(|_| "không tạo được canvas")?;
    canvas.set_width(tw);
    canvas.set_height(th);
    let ctx: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")
        .map_err(js_err)?
        .ok_or("không có canvas 2d")?
        .dyn_into()
        .map_err(|_| "không có canvas 2d")?;
    ctx.draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, tw as f64, th as f64).map_err(js_err)?;
    bitmap.close();
    let promise = Promise::new(&mut |resolve, reject| {
        let reject_in_callback = reject.clone();
        let callback = Closure::once_into_js(move |blob: JsValue| {
            let _ = if blob.is_null() {
                reject_in_callback.call1(&JsValue::NULL, &"toBlob".into())
            } else {
                resolve.call1(&JsValue::NULL, &blob)
            };
        });
        if let Err(e) = canvas.to_blob_with_type_and_encoder_options(
            callback.unchecked_ref(),
            "image/jpeg",
            &JsValue::from_f64(PHOTO_QUALITY),
        ) {
            let _ = reject.call1(&JsValue::NULL, &e);
        }
    });
    let blob = JsFuture::from(promise).await.map_err(js_err)?;
    blob.dyn_into::<web_sys::Blob>().map_err(|_| "không mã hóa được ảnh".into())
}

/// Runs `work` holding the Web Lock `name` if nobody else holds it (`ifAvailable`):
/// one tab syncs at a time. Returns None when another tab holds it. Browsers
/// without Web Locks run `work` directly.
pub async fn with_lock_if_available<F, T>(name: &str, work: F) -> Option<T>
where
    F: std::future::Future<Output = T> + 'static,
    T: 'static,
{
    let locks =
        window().ok().and_then(|w| Reflect::get(&w.navigator(), &"locks".into()).ok()).filter(|l| !l.is_undefined());
    let Some(locks) = locks else { return Some(work.await) };
    let Some(request) = Reflect::get(&locks, &"request".into()).ok().and_then(|f| f.dyn_into::<Function>().ok()) else {
        return Some(work.await);
    };
    let result = std::rc::Rc::new(std::cell::RefCell::new(None));
    let slot = result.clone();
    let mut work = Some(work);
    let callback = Closure::<dyn FnMut(JsValue) -> Promise>::new(move |lock: JsValue| {
        let work = work.take();
        let slot = slot.clone();
        if lock.is_null() || work.is_none() {
            return Promise::resolve(&JsValue::UNDEFINED);
        }
        let fut = async move {
            if let Some(work) = work {
                *slot.borrow_mut() = Some(work.await);
            }
            Ok(JsValue::UNDEFINED)
        };
        wasm_bindgen_futures::future_to_promise(fut)
    });
    let options = Object::new();
    let _ = Reflect::set(&options, &"ifAvailable".into(), &JsValue::TRUE);
    let promise = request.call3(&locks, &name.into(), &options, callback.as_ref().unchecked_ref());
    match promise.ok().and_then(|p| p.dyn_into::<Promise>().ok()) {
        Some(p) => {
            let _ = JsFuture::from(p).await;
        }
        None => return None,
    }
    drop(callback);
    let value = result.borrow_mut().take();
    value
}

/// Asks the browser not to evict this site's data under storage pressure.
/// Returns whether storage is (now) persistent.
pub async fn request_persistent_storage() -> bool {
    let Ok(w) = window() else { return false };
    let storage = w.navigator().storage();
    if let Ok(p) = storage.persisted() {
        if JsFuture::from(p).await.ok().and_then(|v| v.as_bool()) == Some(true) {
            return true;
        }
    }
    match storage.persist() {
        Ok(p) => JsFuture::from(p).await.ok().and_then(|v| v.as_bool()).unwrap_or(false),
        Err(_) => false,
    }
}

/// Safari (iOS/macOS) may wipe a site's storage after 7 days without a visit
/// unless the app was added to the home screen.
pub fn eviction_risk() -> bool {
    let Ok(w) = window() else { return false };
    let ua = w.navigator().user_agent().unwrap_or_default();
    let safari = ua.contains("Safari") && !ua.contains("Chrome") && !ua.contains("Chromium") && !ua.contains("Android");
    let standalone = w.match_media("(display-mode: standalone)").ok().flatten().map(|m| m.matches()).unwrap_or(false);
    safari && !standalone
}

/// Offers `text` as a file download.
pub fn download_text(file_name: &str, mime: &str, text: &str) -> Result<(), String> {
    let blob = bytes_to_blob(text.as_bytes(), mime)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(js_err)?;
    let document = window()?.document().ok_or("không có document")?;
    let a: web_sys::HtmlAnchorElement =
        document.create_element("a").map_err(js_err)?.dyn_into().map_err(|_| "không tạo được liên kết")?;
    a.set_href(&url);
    a.set_download(file_name);
    a.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

pub fn object_url(blob: &web_sys::Blob) -> Option<String> {
    web_sys::Url::create_object_url_with_blob(blob).ok()
}

/// Milliseconds since page load with sub-millisecond resolution (for measuring).
pub fn now_ms() -> f64 {
    window().ok().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or_else(js_sys::Date::now)
}

thread_local! {
    static BUSY: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Marks the app as writing (the outbox, a sync) while alive. `index.html` reads
/// `window.danvanBusy` and lets a new service worker take over only when it is
/// false: a new version could upgrade the database under a half-done write.
pub struct BusyGuard;

impl BusyGuard {
    pub fn new() -> BusyGuard {
        BUSY.with(|b| b.set(b.get() + 1));
        publish_busy();
        BusyGuard
    }
}

impl Default for BusyGuard {
    fn default() -> Self {
        BusyGuard::new()
    }
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        BUSY.with(|b| b.set(b.get().saturating_sub(1)));
        publish_busy();
    }
}

fn publish_busy() {
    if let Ok(w) = window() {
        let busy = BUSY.with(|b| b.get()) > 0;
        let _ = Reflect::set(&w, &"danvanBusy".into(), &JsValue::from_bool(busy));
    }
}

/// Gzips `bytes` with the browser's CompressionStream; None where the browser has
/// none (the caller then sends the bytes as they are).
pub async fn gzip(bytes: &[u8]) -> Option<Vec<u8>> {
    let global = js_sys::global();
    let ctor: Function = Reflect::get(&global, &"CompressionStream".into()).ok()?.dyn_into().ok()?;
    let stream = Reflect::construct(&ctor, &Array::of1(&"gzip".into())).ok()?;
    let blob = bytes_to_blob(bytes, "application/octet-stream").ok()?;
    let readable = call0(&blob, "stream")?;
    let piped = Reflect::get(&readable, &"pipeThrough".into())
        .ok()?
        .dyn_into::<Function>()
        .ok()?
        .call1(&readable, &stream)
        .ok()?;
    let response_ctor: Function = Reflect::get(&global, &"Response".into()).ok()?.dyn_into().ok()?;
    let response = Reflect::construct(&response_ctor, &Array::of1(&piped)).ok()?;
    let buffer = JsFuture::from(call0(&response, "arrayBuffer")?.dyn_into::<Promise>().ok()?).await.ok()?;
    Some(Uint8Array::new(&buffer).to_vec())
}

fn call0(target: &JsValue, method: &str) -> Option<JsValue> {
    Reflect::get(target, &method.into()).ok()?.dyn_into::<Function>().ok()?.call0(target).ok()
}

/// Asks the service worker (`public/sw.js`) to keep these groups of screens for
/// offline use: it downloads their modules in the background. Does nothing where
/// there is no service worker (a plain-http address, an old browser).
pub async fn precache_modules(groups: &[&str]) -> Result<(), String> {
    let navigator = window()?.navigator();
    let has_worker = Reflect::get(&navigator, &"serviceWorker".into()).is_ok_and(|c| !c.is_undefined());
    if !has_worker {
        return Ok(());
    }
    let ready = navigator.service_worker().ready().map_err(js_err)?;
    let registration: web_sys::ServiceWorkerRegistration =
        JsFuture::from(ready).await.map_err(js_err)?.dyn_into().map_err(|_| "không có service worker".to_string())?;
    let Some(worker) = registration.active() else { return Ok(()) };
    let message = Object::new();
    Reflect::set(&message, &"type".into(), &"precache-modules".into()).map_err(js_err)?;
    let names: Array = groups.iter().map(|g| JsValue::from_str(g)).collect();
    Reflect::set(&message, &"groups".into(), &names).map_err(js_err)?;
    worker.post_message(&message).map_err(js_err)
}

/// Adds the stylesheets only lazily loaded screens use — listed by
/// `scripts/build-app.sh` in `<meta name="danvan-styles">` instead of the page's
/// head, so the first screen does not wait for them — and waits until they apply
/// (or fail: a screen without its styles beats no screen). Each is added once.
pub async fn load_deferred_styles() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    let Ok(Some(meta)) = document.query_selector("meta[name=danvan-styles]") else { return };
    let Ok(Some(head)) = document.query_selector("head") else { return };
    let hrefs = meta.get_attribute("content").unwrap_or_default();
    let mut pending = Vec::new();
    for href in hrefs.split_whitespace() {
        if document.query_selector(&format!("link[href=\"{href}\"]")).ok().flatten().is_some() {
            continue;
        }
        let Ok(link) = document.create_element("link") else { continue };
        if link.set_attribute("rel", "stylesheet").is_err() || link.set_attribute("href", href).is_err() {
            continue;
        }
        let applied = Promise::new(&mut |resolve, _reject| {
            let _ = link.add_event_listener_with_callback("load", &resolve);
            let _ = link.add_event_listener_with_callback("error", &resolve);
        });
        if head.append_child(&link).is_ok() {
            pending.push(JsFuture::from(applied));
        }
    }
    futures::future::join_all(pending).await;
}
