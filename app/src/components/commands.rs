//! Commands: forms that are sent to their server functions without a page load, with the answer rendered by
//! the server; and rows of a page that an admin selects for one of them. Server-rendered markup says what to
//! do in `data-` attributes; one listener on the document does it, installed by the page's first
//! [`LiveRegion`](super::live::LiveRegion) (commands live on pages that re-render in place).
//!
//! - A `form[data-endpoint]` ([`CommandForm`]) is sent to its server function: its fields and its submit
//!   button's `name=value`. The answer is text: HTML that the server's components rendered (escaped there,
//!   like every page) goes into the element whose id is `data-answer`; anything else is a toast. `data-open`
//!   opens a dialog while the answer comes; `data-then` says what follows a success: `close` the dialog around
//!   the form (or the confirmation inside it), `refresh` the page's live regions, `select` (the answer is a
//!   selection to add), `deselect-done` (the answer's rows `tr[data-id][data-outcome]` that did not fail leave
//!   the selection; a toast counts them). An error shows in the form's `[data-problem]`, else in the answer's
//!   element, else in a toast. Without the WASM, the form is an ordinary post that comes back to its page.
//! - `[data-open-dialog=id]` opens a dialog, `[data-close]` closes the one around it.
//! - A live check: when a field inside `[data-live=endpoint]` changes (typing pauses for 300 ms), the fields
//!   of the form around it are sent to that server function, and its answer (server-rendered HTML) goes into
//!   the element whose id is `data-live-answer`. Nothing is saved: the schedule form shows its next runs so.
//! - The selection: row boxes `input[data-select="<id>:<anything>"]` (compared by id, sent as they are) and
//!   the page's box `input[data-select-page]`; a shift-click selects the range from the last box clicked; at
//!   most [`dto::MAX_BULK_ITEMS`]. It is kept in `sessionStorage` under the key `[data-selection-key]` names
//!   (so it survives paging, filters and re-renders), counted in it, sent in `input[data-selection]`, and
//!   `[data-needs-selection]` controls are disabled while it is empty.
//!
//! Rules (which remediations fit, the cap, what a change would do) run on the server, which renders the
//! choices; the browser handles the values as opaque text. Why not a reactive island per control: every
//! island, signal type, view type, listener and decoded type is code in the one WASM file that every page
//! loads. Reconciliation's first cut (an island per control, server functions answering typed results) added
//! 69 KB brotli to it; this adds a listener, sends forms through `fetch` as a live region fetches its page,
//! and decodes nothing new. The reconciliation pages and the connectors' fault-injection dialog use it.

use leptos::prelude::*;

/// A form sent to the server function at `endpoint` (see the module docs for `answer`, `then` and `open`).
#[component]
pub fn CommandForm(
    /// The server function's URL (`<Fn as ServerFn>::PATH`).
    endpoint: &'static str,
    /// The id of the element that shows the answer (HTML the server rendered); none: the answer is a toast.
    #[prop(optional)]
    answer: Option<&'static str>,
    /// What follows a success: `close`, `refresh`, `select`, `deselect-done`.
    #[prop(optional)]
    then: Option<&'static str>,
    /// The id of a dialog to open while the answer comes.
    #[prop(optional)]
    open: Option<&'static str>,
    #[prop(optional, into)] class: Option<String>,
    #[prop(optional, into)] aria_label: Option<String>,
    children: Children,
) -> impl IntoView {
    view! {
        <form method="post" action=endpoint data-endpoint=endpoint data-answer=answer data-then=then data-open=open
            class=class aria-label=aria_label>
            {children()}
        </form>
    }
}

/// A hidden field of a [`CommandForm`].
#[component]
pub fn Hidden(name: &'static str, #[prop(into)] value: String) -> impl IntoView {
    view! { <input type="hidden" name=name value=value/> }
}

/// Installs the commands' listener on the page (once), and shows the stored selection on it. Called by live
/// regions when they hydrate and after each re-render. Browser only; nothing while the server renders.
pub fn install() {
    browser::install();
}

#[cfg(feature = "hydrate")]
mod browser {
    use dto::MAX_BULK_ITEMS;
    use leptos::{prelude::*, server_fn::error::FromServerFnError};
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{Element, HtmlDialogElement, HtmlFormElement, HtmlInputElement};

    use crate::components::{
        live::request_refresh,
        toasts::{toast, ToastKind},
    };
    use crate::error::AppError;

    fn attr(el: &Element, name: &str) -> String {
        el.get_attribute(name).unwrap_or_default()
    }

    fn all(root: &Element, selector: &str) -> Vec<Element> {
        let Ok(list) = root.query_selector_all(selector) else {
            return Vec::new();
        };
        (0..list.length())
            .filter_map(|i| list.item(i)?.dyn_into().ok())
            .collect()
    }

    fn one(root: &Element, selector: &str) -> Option<Element> {
        root.query_selector(selector).ok().flatten()
    }

    fn closest(el: &Element, selector: &str) -> Option<Element> {
        el.closest(selector).ok().flatten()
    }

    /// Sets the boolean attribute `name` (`hidden`, `disabled`) of `el` to `on`.
    fn flag(el: &Element, name: &str, on: bool) {
        let _ = if on {
            el.set_attribute(name, "")
        } else {
            el.remove_attribute(name)
        };
    }

    /// What the handlers look in: the page (it has one set of commands).
    fn page() -> Option<Element> {
        document().body().map(Into::into)
    }

    fn by_id(id: &str) -> Option<Element> {
        page().and_then(|p| one(&p, &format!("#{id}")))
    }

    fn target_of(ev: &web_sys::Event) -> Option<Element> {
        ev.target()?.dyn_into().ok()
    }

    /// Closes the dialog `el` is in, or the open one it holds (a confirmation inside its form).
    fn close_dialog_of(el: &Element) {
        if let Some(d) = closest(el, "dialog").or_else(|| one(el, "dialog[open]")) {
            d.unchecked_into::<HtmlDialogElement>().close();
        }
    }

    fn open_dialog(id: &str) {
        if let Some(d) = by_id(id) {
            for p in all(&d, "[data-problem]") {
                flag(&p, "hidden", true);
            }
            let _ = d.unchecked_into::<HtmlDialogElement>().show_modal();
        }
    }

    // --- The selection: `id:…` values, compared by id ------------------------------------------------------

    fn id_of(pair: &str) -> &str {
        pair.split(':').next().unwrap_or_default()
    }

    fn storage() -> Option<web_sys::Storage> {
        window().session_storage().ok().flatten()
    }

    /// The `sessionStorage` key of this page's selection, when the page has one (its toolbar names it).
    fn selection_key(root: &Element) -> Option<String> {
        one(root, "[data-selection-key]").map(|el| attr(&el, "data-selection-key"))
    }

    fn selection(key: &str) -> Vec<String> {
        let text = storage()
            .and_then(|s| s.get_item(key).ok().flatten())
            .unwrap_or_default();
        text.split(',')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Stores `selection` and shows it: the page's boxes checked where selected (the page's box when all are,
    /// half when some), the count, the buttons that need a selection, and the `picked` field.
    fn commit(root: &Element, key: &str, selection: &[String]) {
        let mut text = String::new();
        for pair in selection {
            if !text.is_empty() {
                text.push(',');
            }
            text.push_str(pair);
        }
        if let Some(s) = storage() {
            let _ = s.set_item(key, &text);
        }
        let rows = all(root, "input[data-select]");
        let mut on = 0;
        for b in &rows {
            let pair = attr(b, "data-select");
            let checked = selection.iter().any(|p| id_of(p) == id_of(&pair));
            on += usize::from(checked);
            b.unchecked_ref::<HtmlInputElement>().set_checked(checked);
        }
        if let Some(page) = one(root, "input[data-select-page]") {
            let page: HtmlInputElement = page.unchecked_into();
            page.set_checked(!rows.is_empty() && on == rows.len());
            page.set_indeterminate(on > 0 && on < rows.len());
        }
        for el in all(root, "[data-selected-count]") {
            el.set_text_content(Some(&format!("{} selected", selection.len())));
        }
        for b in all(root, "[data-needs-selection]") {
            flag(&b, "disabled", selection.is_empty());
        }
        for field in all(root, "input[data-selection]") {
            let _ = field.set_attribute("value", &text);
        }
    }

    /// Adds (up to the cap) or removes `pairs`, and says so when the cap stopped some.
    fn apply<'a>(root: &Element, pairs: impl Iterator<Item = &'a str>, on: bool) {
        let Some(key) = selection_key(root) else {
            return;
        };
        let mut next = selection(&key);
        let mut refused = 0;
        for pair in pairs.filter(|p| !p.is_empty()) {
            match (on, next.iter().position(|x| id_of(x) == id_of(pair))) {
                (false, Some(i)) => {
                    next.remove(i);
                }
                (true, None) if next.len() < MAX_BULK_ITEMS => next.push(pair.to_owned()),
                (true, None) => refused += 1,
                _ => {}
            }
        }
        if refused > 0 {
            toast(
                ToastKind::Error,
                format!("At most {MAX_BULK_ITEMS} discrepancies can be remediated at once: {refused} not selected."),
            );
        }
        commit(root, &key, &next);
    }

    // --- Events -------------------------------------------------------------------------------------------

    /// See [`super::install`].
    pub fn install() {
        use wasm_bindgen::closure::Closure;
        let Some(root) = page() else {
            return;
        };
        if !root.has_attribute("data-commands") {
            flag(&root, "data-commands", true);
            let handler = Closure::<dyn FnMut(web_sys::Event)>::new(|ev: web_sys::Event| {
                match ev.dyn_into::<web_sys::SubmitEvent>() {
                    Ok(submitted) => submit(submitted),
                    Err(ev) => click(ev.unchecked_into()),
                }
            });
            for event in ["click", "submit"] {
                let _ =
                    root.add_event_listener_with_callback(event, handler.as_ref().unchecked_ref());
            }
            // It serves the page for as long as the page is shown.
            handler.forget();
            let checking = Closure::<dyn FnMut(web_sys::Event)>::new(live_check);
            for event in ["input", "change"] {
                let _ =
                    root.add_event_listener_with_callback(event, checking.as_ref().unchecked_ref());
            }
            checking.forget();
        }
        if let Some(key) = selection_key(&root) {
            commit(&root, &key, &selection(&key));
        }
    }

    fn click(ev: web_sys::MouseEvent) {
        let (Some(root), Some(target)) = (page(), target_of(&ev)) else {
            return;
        };
        if target.has_attribute("data-select-page") || target.has_attribute("data-select") {
            // The box's new state is already set: the page, the range from the last box clicked (shift), or
            // this box takes it. The last box clicked is remembered on the count, which a re-render resets.
            let rows = all(&root, "input[data-select]");
            let on = target.unchecked_ref::<HtmlInputElement>().checked();
            let range = match (
                rows.iter().position(|b| *b == target),
                one(&root, "[data-selection-key]"),
            ) {
                (Some(index), Some(count)) => {
                    let from = attr(&count, "data-anchor")
                        .parse::<usize>()
                        .ok()
                        .filter(|a| ev.shift_key() && *a < rows.len())
                        .unwrap_or(index);
                    let _ = count.set_attribute("data-anchor", &index.to_string());
                    from.min(index)..from.max(index) + 1
                }
                _ => 0..rows.len(),
            };
            let pairs: Vec<String> = rows[range].iter().map(|b| attr(b, "data-select")).collect();
            apply(&root, pairs.iter().map(String::as_str), on);
        } else if let Some(el) = closest(&target, "[data-open-dialog]") {
            open_dialog(&attr(&el, "data-open-dialog"));
        } else if let Some(el) = closest(&target, "[data-close]") {
            close_dialog_of(&el);
        } else if closest(&target, "[data-clear-selection]").is_some() {
            if let Some(key) = selection_key(&root) {
                commit(&root, &key, &[]);
            }
        }
    }

    // --- Live checks --------------------------------------------------------------------------------------

    /// A field of a `[data-live]` part changed: after a 300 ms pause with no newer change, sends its form to
    /// the live endpoint and shows the answer.
    fn live_check(ev: web_sys::Event) {
        let Some(live) = target_of(&ev).and_then(|t| closest(&t, "[data-live]")) else {
            return;
        };
        let Some(form) = closest(&live, "form") else {
            return;
        };
        let turn = attr(&live, "data-live-turn").parse::<u32>().unwrap_or(0) + 1;
        let _ = live.set_attribute("data-live-turn", &turn.to_string());
        leptos::task::spawn_local(async move {
            let pause = js_sys::Promise::new(&mut |resolve, _| {
                let _ =
                    window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 300);
            });
            let _ = JsFuture::from(pause).await;
            if attr(&live, "data-live-turn") != turn.to_string() {
                return;
            }
            let Ok(fields) = web_sys::FormData::new_with_form(
                form.unchecked_ref::<HtmlFormElement>(),
            )
            .and_then(|data| web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data)) else {
                return;
            };
            let reply = post(&attr(&live, "data-live"), &fields).await;
            if attr(&live, "data-live-turn") != turn.to_string() {
                return;
            }
            if let Some(answer) = by_id(&attr(&live, "data-live-answer")) {
                match reply {
                    // HTML that the server's own components rendered (escaped there, like every page).
                    Ok(html) => answer.set_inner_html(&html),
                    Err(e) => answer.set_text_content(Some(&format!("Could not check: {e}"))),
                }
            }
        });
    }

    // --- Sending a form -----------------------------------------------------------------------------------

    /// Posts `fields` to the server function at `endpoint`: its answer (a JSON string), or its error.
    async fn post(endpoint: &str, fields: &web_sys::UrlSearchParams) -> Result<String, AppError> {
        let unreachable =
            || AppError::Unavailable("the console's server could not be reached".to_owned());
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_body(fields);
        let response: web_sys::Response =
            JsFuture::from(window().fetch_with_str_and_init(endpoint, &init))
                .await
                .ok()
                .and_then(|r| r.dyn_into().ok())
                .ok_or_else(unreachable)?;
        let text = match response.text() {
            Ok(text) => JsFuture::from(text).await.ok().and_then(|t| t.as_string()),
            Err(_) => None,
        }
        .ok_or_else(unreachable)?;
        if response.status() != 200 {
            return Err(AppError::de(text.into()));
        }
        js_sys::JSON::parse(&text)
            .ok()
            .and_then(|v| v.as_string())
            .ok_or_else(|| AppError::Internal("the answer could not be read".to_owned()))
    }

    fn submit(ev: web_sys::SubmitEvent) {
        let (Some(root), Some(form)) = (
            page(),
            target_of(&ev).filter(|f| f.has_attribute("data-endpoint")),
        ) else {
            return;
        };
        ev.prevent_default();
        let Ok(fields) = web_sys::FormData::new_with_form(form.unchecked_ref::<HtmlFormElement>())
            .and_then(|data| web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data))
        else {
            return;
        };
        if let Some(name) = ev
            .submitter()
            .and_then(|b| Some((b.get_attribute("name")?, attr(&b, "value"))))
        {
            fields.append(&name.0, &name.1);
        }
        let answer = by_id(&attr(&form, "data-answer"));
        if let Some(d) = form.get_attribute("data-open") {
            open_dialog(&d);
            if let Some(a) = &answer {
                a.set_text_content(Some("Asking the provisioning service…"));
            }
        }
        let endpoint = attr(&form, "data-endpoint");
        let buttons = all(&form, "button[type=submit]");
        for b in &buttons {
            flag(b, "disabled", true);
        }
        leptos::task::spawn_local(async move {
            let reply = post(&endpoint, &fields).await;
            for b in &buttons {
                flag(b, "disabled", false);
            }
            answered(&root, &form, answer, reply);
        });
    }

    /// Shows what a form's server function answered, and does what its `data-then` says.
    fn answered(
        root: &Element,
        form: &Element,
        answer: Option<Element>,
        reply: Result<String, AppError>,
    ) {
        let steps = attr(form, "data-then");
        let then = |step: &str| steps.split(' ').any(|s| s == step);
        let text = match reply {
            Ok(text) => text,
            Err(e) => {
                if let Some(p) = one(form, "[data-problem]") {
                    p.set_text_content(Some(&e.to_string()));
                    flag(&p, "hidden", false);
                    return;
                }
                match &answer {
                    Some(a) => a.set_text_content(Some(&format!("Not done: {e}"))),
                    None => toast(ToastKind::Error, format!("Not done: {e}")),
                }
                // The thing may have changed under us (a conflict): show its state now.
                if then("close") {
                    close_dialog_of(form);
                }
                if then("refresh") {
                    request_refresh();
                }
                return;
            }
        };
        // A problem shown by an earlier try is settled now.
        for p in all(form, "[data-problem]") {
            flag(&p, "hidden", true);
        }
        if then("select") {
            apply(root, text.split(','), true);
            return;
        }
        match &answer {
            // HTML that the server's own components rendered (escaped there, like every page).
            Some(a) => a.set_inner_html(&text),
            None => toast(ToastKind::Success, text),
        }
        if then("close") {
            close_dialog_of(form);
        }
        if let (true, Some(results)) = (then("deselect-done"), &answer) {
            deselect_done(root, results);
        }
        if then("refresh") {
            request_refresh();
        }
    }

    /// After a command on the selection (its rows in `results`): those done or skipped leave the selection,
    /// failed ones stay to try again; a toast counts them.
    fn deselect_done(root: &Element, results: &Element) {
        let Some(key) = selection_key(root) else {
            return;
        };
        let rows = all(results, "tr[data-outcome]");
        let count = |o: &str| rows.iter().filter(|r| attr(r, "data-outcome") == o).count();
        let done: Vec<String> = rows
            .iter()
            .filter(|r| attr(r, "data-outcome") != "failed")
            .map(|r| attr(r, "data-id"))
            .collect();
        let next: Vec<String> = selection(&key)
            .into_iter()
            .filter(|p| !done.iter().any(|d| d == id_of(p)))
            .collect();
        commit(root, &key, &next);
        let (ok, failed, skipped) = (count("succeeded"), count("failed"), count("skipped"));
        let kind = if failed > 0 {
            ToastKind::Error
        } else {
            ToastKind::Success
        };
        toast(
            kind,
            format!("{ok} succeeded, {failed} failed, {skipped} skipped."),
        );
    }
}

#[cfg(not(feature = "hydrate"))]
mod browser {
    //! Commands act only in the browser: while the server renders, nothing listens.
    pub fn install() {}
}
