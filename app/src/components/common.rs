//! Small building blocks: error panels, loading state, pagination, timestamps.

use chrono::{DateTime, Utc};
use dto::Connector;
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_location};

use crate::error::AppError;

/// A timestamp as admins read it: `2026-11-24 09:30 UTC`, full RFC 3339 in the tooltip.
#[component]
pub fn Timestamp(#[prop(into)] at: Option<DateTime<Utc>>) -> impl IntoView {
    match at {
        Some(at) => view! {
            <time datetime=at.to_rfc3339() title=at.to_rfc3339()>{at.format("%Y-%m-%d %H:%M").to_string()}</time>
        }
        .into_any(),
        None => view! { <span class="text-slate-400">"—"</span> }.into_any(),
    }
}

/// A uuid shortened to its first block; the whole id is in the tooltip and for screen readers.
#[component]
pub fn ShortId(#[prop(into)] id: String) -> impl IntoView {
    let short = format!("{}…", id.split('-').next().unwrap_or_default());
    let title = id.clone();
    view! {
        <code class="text-xs" title=title>
            <span aria-hidden="true">{short}</span>
            <span class="sr-only">{id}</span>
        </code>
    }
}

/// Shown while data loads.
#[component]
pub fn Loading(#[prop(into)] what: String) -> impl IntoView {
    view! {
        <p class="p-4 text-sm text-slate-500" role="status" aria-busy="true">{format!("Loading {what}…")}</p>
    }
}

/// An error in place of the data it stands for. Never an empty table pretending all is well.
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    // During server rendering, a missing page or a refused session also sets the HTTP status.
    #[cfg(feature = "ssr")]
    crate::ssr::set_status(&error);
    let location = use_location();
    let (title, hint) = match &error {
        AppError::Unauthorized => ("Signed out", "Your session has ended."),
        AppError::Forbidden => ("Forbidden", "This console is for administrators only. Ask an administrator of your tenant for access."),
        AppError::NotFound(_) => ("Not found", "It may have been deleted, or it belongs to another tenant."),
        AppError::Validation { .. } => ("Invalid request", "Correct the value and try again."),
        AppError::Conflict { .. } => ("Conflict", "The data changed in the meantime; the view shows its current state."),
        AppError::NotStarted { .. } => ("Not started", "Nothing was queued; the message says why and what to do."),
        AppError::SignIn(_) => ("Not signed in", "Sign in again."),
        AppError::Unavailable(_) => (
            "Provisioning service unavailable",
            "The console cannot reach the provisioning service right now. Try again in a moment.",
        ),
        AppError::Upstream { .. } => ("The provisioning service failed", "Try again; if it keeps failing, check the service."),
        AppError::Internal(_) => ("Unexpected error", "Try again; if it keeps failing, tell the console's operators."),
    };
    let sign_in = matches!(error, AppError::Unauthorized).then(|| {
        let next = format!(
            "{}{}",
            location.pathname.get_untracked(),
            location.search.get_untracked()
        );
        let href = format!("/login?next={}", crate::params::url_encode(&next));
        view! { <A href=href attr:class="font-medium underline">"Sign in again"</A> }
    });
    view! {
        <div role="alert" class="rounded border border-rose-200 bg-rose-50 p-4 text-sm text-rose-900">
            <p class="font-semibold">{title}</p>
            <p>{error.to_string()}</p>
            <p class="text-rose-800">{hint}</p>
            {sign_in}
        </div>
    }
}

/// "Showing 21–40 of 312" with previous / next links that keep the other URL parameters.
#[component]
pub fn Pagination(
    /// Rows skipped.
    offset: u64,
    /// Page size.
    limit: u32,
    /// Rows on this page.
    shown: usize,
    /// All matching rows, when known.
    total: Option<u64>,
    /// Builds the link to another offset.
    href: Callback<u64, String>,
) -> impl IntoView {
    let first = if shown == 0 { 0 } else { offset + 1 };
    let last = offset + shown as u64;
    let summary = match total {
        Some(total) => format!("Showing {first}–{last} of {total}"),
        None => format!("Showing {first}–{last}"),
    };
    let has_prev = offset > 0;
    let has_next = match total {
        Some(total) => last < total,
        None => shown as u64 == u64::from(limit),
    };
    let prev = href.run(offset.saturating_sub(u64::from(limit)));
    let next = href.run(offset + u64::from(limit));
    view! {
        <nav class="flex items-center justify-between py-3 text-sm" aria-label="Pagination">
            <p>{summary}</p>
            <div class="flex gap-2">
                {if has_prev {
                    view! { <A href=prev attr:class="rounded border bg-white px-3 py-1 hover:bg-slate-100" attr:rel="prev">"Previous"</A> }.into_any()
                } else {
                    view! { <span class="rounded border px-3 py-1 text-slate-400" aria-disabled="true">"Previous"</span> }.into_any()
                }}
                {if has_next {
                    view! { <A href=next attr:class="rounded border bg-white px-3 py-1 hover:bg-slate-100" attr:rel="next">"Next"</A> }.into_any()
                } else {
                    view! { <span class="rounded border px-3 py-1 text-slate-400" aria-disabled="true">"Next"</span> }.into_any()
                }}
            </div>
        </nav>
    }
}

/// A label/value pair of a description list.
#[component]
pub fn Field(#[prop(into)] label: String, children: Children) -> impl IntoView {
    view! {
        <div class="py-1">
            <dt class="text-xs text-slate-500">{label}</dt>
            <dd class="text-sm">{children()}</dd>
        </div>
    }
}

/// Wraps a GET filter form: picking a value in one of its selects applies the filters at once, and so does
/// its button. On a page with live regions the new URL is pushed to the history and the regions re-render
/// from the server in place (no page load, the focus stays); elsewhere, and before the WASM arrives, the
/// form does what a GET form does: a page load with the new URL.
#[island]
pub fn AutoSubmit(children: Children) -> impl IntoView {
    use wasm_bindgen::JsCast;
    let apply = |form: web_sys::HtmlFormElement| {
        if !crate::components::live::navigate_in_place(&form) {
            let _ = form.request_submit();
        }
    };
    let on_change = move |ev: leptos::ev::Event| {
        let form = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
            .and_then(|select| select.form());
        if let Some(form) = form {
            apply(form);
        }
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        let form = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok());
        if let Some(form) = form {
            if crate::components::live::navigate_in_place(&form) {
                ev.prevent_default();
            }
        }
    };
    view! { <div on:change=on_change on:submit=on_submit>{children()}</div> }
}

/// The "Connector" filter of a GET form (`connector_id`); inside [`AutoSubmit`] it applies on change.
#[component]
pub fn ConnectorSelect(
    /// The tenant's connectors.
    connectors: Vec<Connector>,
    /// The selected connector's id, empty for all.
    #[prop(into)]
    selected: String,
) -> impl IntoView {
    let options = connectors
        .into_iter()
        .map(|c| {
            let id = c.id.to_string();
            let is_selected = id == selected;
            view! { <option value=id selected=is_selected>{c.name}</option> }
        })
        .collect_view();
    view! {
        <label class="flex flex-col gap-1">
            "Connector"
            <select name="connector_id" class="rounded border border-slate-300 px-2 py-1">
                <option value="" selected=selected.is_empty()>"All connectors"</option>
                {options}
            </select>
        </label>
    }
}
