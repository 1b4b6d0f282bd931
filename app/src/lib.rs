//! Rollback Desk's pages and server functions (Leptos, server-rendered).
//!
//! Every action is an HTML form posting to a server function, and every page renders in full
//! on the server (`SsrMode::Async`), so the whole application works with JavaScript off.
#![recursion_limit = "256"]

pub mod domain;
pub mod i18n;
pub mod pages;
pub mod records;
pub mod viewer;

#[cfg(feature = "ssr")]
pub mod backend;

pub use pages::{shell, App};

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    leptos::mount::hydrate_body(App);
}
