//! Live regions: server-rendered parts of a page that re-render in place from the server.
//!
//! A region refreshes when an island asks for it ([`request_refresh`], after an action changed data) and
//! every few seconds while its content asks for it (a [`PollEvery`] marker, rendered by the server: the
//! auto-refresh switch of the operations page, an operation that is still moving on its detail page). The
//! new content is the same region of the same URL, rendered by the same server components, so no view code
//! is written twice and none of it ships to the browser. Islands inside a region are hydrated again after
//! each swap. A region also brings the page's [commands](super::commands) to life (forms sent in place,
//! selected rows), and shows the selection again on its new content.

use leptos::{ev::Custom, html, prelude::*};

/// The window event that asks every live region of the page to refresh.
const REFRESH_EVENT: &str = "console:refresh";
/// How often a region checks whether its content wants polling (the tick, not the poll interval).
const TICK_MS: u64 = 500;

/// Asks every live region of the page to re-render from the server. Browser only.
pub fn request_refresh() {
    if let Ok(event) = web_sys::Event::new(REFRESH_EVENT) {
        let _ = window().dispatch_event(&event);
    }
}

/// Applies a GET form by pushing its URL to the history and re-rendering the page's live regions from it.
/// False (nothing done) where the page has no live region: the caller then lets the form navigate.
pub fn navigate_in_place(form: &web_sys::HtmlFormElement) -> bool {
    browser::navigate_in_place(form)
}

/// Inside a live region: refresh it every `ms` milliseconds while the tab is visible.
#[component]
pub fn PollEvery(ms: u32) -> impl IntoView {
    view! { <span hidden data-poll-ms=ms.to_string()></span> }
}

/// A part of the page that re-renders from the server (see the module docs). `id` names it on its page.
#[island]
pub fn LiveRegion(#[prop(into)] id: String, children: Children) -> impl IntoView {
    // Commands (forms sent in place, selections) live on pages that re-render in place.
    crate::components::commands::install();
    let root = NodeRef::<html::Div>::new();
    let busy = StoredValue::new(false);
    // A refresh asked for while one is running (a second filter change): run once more after it.
    let again = StoredValue::new(false);
    let failed = RwSignal::new(false);
    let last = StoredValue::new(0f64);

    fn refresh_now(
        id: String,
        root: NodeRef<html::Div>,
        busy: StoredValue<bool>,
        again: StoredValue<bool>,
        failed: RwSignal<bool>,
        last: StoredValue<f64>,
    ) {
        if busy.get_value() {
            again.set_value(true);
            return;
        }
        busy.set_value(true);
        set_busy(root, true);
        last.set_value(now_ms());
        leptos::task::spawn_local(async move {
            let outcome = browser::refresh(&id, root.get_untracked()).await;
            failed.set(matches!(outcome, Outcome::Failed));
            busy.set_value(false);
            if again.get_value() {
                again.set_value(false);
                refresh_now(id, root, busy, again, failed, last);
            } else {
                set_busy(root, false);
            }
        });
    }
    let refresh = {
        let id = id.clone();
        move || refresh_now(id.clone(), root, busy, again, failed, last)
    };

    let listener = window_event_listener(Custom::<web_sys::Event>::new(REFRESH_EVENT), {
        let refresh = refresh.clone();
        move |_| refresh()
    });
    on_cleanup(move || listener.remove());
    // Back and forward between URLs pushed by filter forms: show the state of the URL returned to.
    let history = window_event_listener(leptos::ev::popstate, {
        let refresh = refresh.clone();
        move |_| refresh()
    });
    on_cleanup(move || history.remove());

    Effect::new(move |_| {
        let refresh = refresh.clone();
        let ticker = set_interval_with_handle(
            move || {
                if document().hidden() {
                    return;
                }
                // Never pull the content from under an admin who has a dialog of it open or is filling
                // in one of its fields.
                let due = root
                    .get_untracked()
                    .filter(|el| !browser::has_open_dialog(el) && !browser::is_editing_in(el))
                    .and_then(|el| browser::poll_interval_ms(&el))
                    .is_some_and(|ms| now_ms() - last.get_value() >= ms);
                if due {
                    refresh();
                }
            },
            std::time::Duration::from_millis(TICK_MS),
        );
        if let Ok(ticker) = ticker {
            on_cleanup(move || ticker.clear());
        }
    });
    // The page was just rendered: the first poll waits a full interval.
    last.set_value(now_ms());

    view! {
        <div node_ref=root data-live-region=id aria-busy="false">
            <p role="status" class="mb-2 text-sm text-amber-800" class:hidden=move || !failed.get()>
                "Could not refresh: the console's server did not answer. Showing the last data; retrying."
            </p>
            {children()}
        </div>
    }
}

/// `aria-busy` is set on the element at once (not through a signal and an effect), so that anyone who saw
/// the URL change also sees the region busy until the new content is in.
fn set_busy(root: NodeRef<html::Div>, on: bool) {
    if let Some(el) = root.get_untracked() {
        let _ = el.set_attribute("aria-busy", if on { "true" } else { "false" });
    }
}

fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}

/// What a refresh did.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Outcome {
    /// The region shows fresh content.
    Swapped,
    /// The page as a whole changed (signed out, gone, forbidden): it was reloaded.
    Reloaded,
    /// The server could not be reached; the old content stays.
    Failed,
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::Outcome;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    /// The poll interval the region's current content asks for, if any.
    pub fn poll_interval_ms(region: &web_sys::Element) -> Option<f64> {
        region
            .query_selector("[data-poll-ms]")
            .ok()
            .flatten()
            .and_then(|el| el.get_attribute("data-poll-ms"))
            .and_then(|ms| ms.parse::<u32>().ok())
            .map(f64::from)
    }

    /// Whether the focus is in a form field inside the region.
    pub fn is_editing_in(region: &web_sys::Element) -> bool {
        leptos::prelude::document()
            .active_element()
            .filter(|el| region.contains(Some(el)))
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA"))
    }

    /// See [`super::navigate_in_place`].
    pub fn navigate_in_place(form: &web_sys::HtmlFormElement) -> bool {
        let document = leptos::prelude::document();
        if document
            .query_selector("[data-live-region]")
            .ok()
            .flatten()
            .is_none()
        {
            return false;
        }
        let Ok(data) = web_sys::FormData::new_with_form(form) else {
            return false;
        };
        let Ok(params) = web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data) else {
            return false;
        };
        // Empty values mean "any": leave them out of the URL, as the server does in its links.
        let keys: Vec<String> = js_sys::Array::from(&params.keys())
            .iter()
            .filter_map(|k| k.as_string())
            .collect();
        for key in keys {
            if params.get(&key).is_some_and(|v| v.is_empty()) {
                params.delete(&key);
            }
        }
        let query = String::from(params.to_string());
        let url = if query.is_empty() {
            form.action()
        } else {
            format!("{}?{query}", form.action())
        };
        let pushed = leptos::prelude::window()
            .history()
            .and_then(|h| h.push_state_with_url(&JsValue::NULL, "", Some(&url)));
        if pushed.is_err() {
            return false;
        }
        super::request_refresh();
        true
    }

    /// Whether a `<dialog>` inside the region is open.
    pub fn has_open_dialog(region: &web_sys::Element) -> bool {
        region
            .query_selector("dialog[open]")
            .ok()
            .flatten()
            .is_some()
    }

    /// Fetches this page again and swaps the region's children for the new ones (unless they are the
    /// same as what the last refresh brought: nothing to redraw, no islands to hydrate again).
    pub async fn refresh(id: &str, region: Option<web_sys::HtmlDivElement>) -> Outcome {
        match fetch_children(id).await {
            Ok(Some(html)) => {
                if let Some(children) = region.and_then(|r| children_of(&r)) {
                    let unchanged = children.get_attribute("data-fetched-hash").as_deref()
                        == Some(fingerprint(&html).as_str());
                    if !unchanged {
                        let focused = focused_field_in(&children);
                        children.set_inner_html(&html);
                        if let Some(selector) = focused {
                            refocus(&children, &selector);
                        }
                        let _ = children.set_attribute("data-fetched-hash", &fingerprint(&html));
                        hydrate_islands_in(&children);
                        crate::components::commands::install();
                    }
                }
                Outcome::Swapped
            }
            Ok(None) => {
                let _ = leptos::prelude::window().location().reload();
                Outcome::Reloaded
            }
            Err(_) => Outcome::Failed,
        }
    }

    /// A selector for the focused element, when it is a named field or has an id inside `root`.
    fn focused_field_in(root: &web_sys::Element) -> Option<String> {
        let el = leptos::prelude::document().active_element()?;
        if !root.contains(Some(&el)) {
            return None;
        }
        match (el.get_attribute("id"), el.get_attribute("name")) {
            (Some(id), _) if !id.is_empty() => Some(format!("[id=\"{id}\"]")),
            (_, Some(name)) if !name.is_empty() => Some(format!("[name=\"{name}\"]")),
            _ => None,
        }
    }

    /// Gives the focus back to the element that matches `selector` in the new content.
    fn refocus(root: &web_sys::Element, selector: &str) {
        if let Some(el) = root
            .query_selector(selector)
            .ok()
            .flatten()
            .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    }

    /// A cheap fingerprint of fetched HTML (FNV-1a), to tell a changed region from an unchanged one.
    fn fingerprint(html: &str) -> String {
        let hash = html.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        format!("{hash:016x}")
    }

    fn children_of(region: &web_sys::Element) -> Option<web_sys::Element> {
        region
            .query_selector(":scope > leptos-children")
            .ok()
            .flatten()
    }

    /// The region's new children, or `None` when the page itself changed (not a plain 200 any more).
    async fn fetch_children(id: &str) -> Result<Option<String>, JsValue> {
        let window = leptos::prelude::window();
        let href = window.location().href()?;
        let init = web_sys::RequestInit::new();
        init.set_cache(web_sys::RequestCache::NoStore);
        let response: web_sys::Response =
            JsFuture::from(window.fetch_with_str_and_init(&href, &init))
                .await?
                .dyn_into()?;
        if response.status() != 200 || response.redirected() {
            return Ok(None);
        }
        let text = JsFuture::from(response.text()?)
            .await?
            .as_string()
            .unwrap_or_default();
        let document = web_sys::DomParser::new()?
            .parse_from_string(&text, web_sys::SupportedType::TextHtml)?;
        let selector = format!("[data-live-region=\"{id}\"]");
        Ok(document
            .query_selector(&selector)?
            .and_then(|region| children_of(&region))
            .map(|children| children.inner_html()))
    }

    /// Hydrates the islands of swapped-in HTML, through the hook the islands loader leaves on `window`.
    fn hydrate_islands_in(root: &web_sys::Element) {
        let Some(hydrate) =
            js_sys::Reflect::get(&leptos::prelude::window(), &"__hydrateIsland".into())
                .ok()
                .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        else {
            return;
        };
        let Ok(islands) = root.query_selector_all("leptos-island") else {
            return;
        };
        for i in 0..islands.length() {
            let Some(island) = islands
                .item(i)
                .and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
            else {
                continue;
            };
            let component = island.dataset().get("component").unwrap_or_default();
            let _ = hydrate.call2(&JsValue::NULL, &island, &JsValue::from_str(&component));
        }
    }
}

#[cfg(not(feature = "hydrate"))]
mod browser {
    //! Live regions only act in the browser; during server rendering these are never called.
    use super::Outcome;

    pub fn poll_interval_ms(_: &web_sys::Element) -> Option<f64> {
        None
    }

    pub fn has_open_dialog(_: &web_sys::Element) -> bool {
        false
    }

    pub fn is_editing_in(_: &web_sys::Element) -> bool {
        false
    }

    pub fn navigate_in_place(_: &web_sys::HtmlFormElement) -> bool {
        false
    }

    pub async fn refresh(_: &str, _: Option<web_sys::HtmlDivElement>) -> Outcome {
        Outcome::Swapped
    }
}
