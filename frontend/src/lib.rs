//! The browser entry point: hydrates the console's islands (the app crate's `#[island]` components).

// The islands are exported to JavaScript by the app crate; linking it is what puts them in the WASM.
use app as _;

/// Called by the islands loader once the WASM has loaded, before it hydrates each island.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    // The loader hydrates the page's islands right after this call, without yielding to the event loop:
    // a zero-delay timer fires once they all are. Tests (and anyone watching) can wait for this mark.
    leptos::prelude::set_timeout(
        || {
            if let Some(body) = leptos::prelude::document().body() {
                let _ = body.set_attribute("data-hydrated", "true");
            }
        },
        std::time::Duration::ZERO,
    );
}
