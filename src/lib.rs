//! danvan's web app: Leptos (client-side rendered) compiled to WebAssembly.
//!
//! Everything shown comes from IndexedDB (`storage`), filled from the server's API
//! (`api`) whenever there is a connection, so the app keeps working with no
//! network after its first load. The service worker (`public/sw.js`) keeps the app
//! shell itself available offline.

pub mod admin_api;
pub mod api;
pub mod app;
pub mod catalog_api;
pub mod components;
pub mod hooks;
pub mod i18n;
pub mod pages;
pub mod screens;
mod split;
pub mod state;
pub mod storage;
pub mod sync;
pub mod web;

pub use app::App;
