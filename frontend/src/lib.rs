//! Hydrates the server-rendered console in the browser.

// Leptos view types nest deeply; hydrating them needs more than the default query depth.
#![recursion_limit = "256"]

/// Called by the hydration script once the WASM has loaded.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
