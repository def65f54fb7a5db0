//! Toast notifications: any island calls [`toast`]; the page's one [`ToastRegion`] island shows it.
//!
//! Islands hydrate as separate roots and share no context, so they meet through a window event.

use leptos::{ev::Custom, prelude::*};
use serde::{Deserialize, Serialize};

/// The window event that carries a toast (its detail is the JSON of a [`ToastMessage`]).
const TOAST_EVENT: &str = "console:toast";

/// How a toast looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ToastKind {
    /// Something worked.
    Success,
    /// Something failed.
    Error,
}

/// What a toast says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ToastMessage {
    kind: ToastKind,
    text: String,
}

#[derive(Debug, Clone, PartialEq)]
struct Toast {
    id: u64,
    message: ToastMessage,
}

/// Shows a toast in the page's toast region. Browser only: call it from event handlers and effects.
pub fn toast(kind: ToastKind, text: impl Into<String>) {
    let message = ToastMessage {
        kind,
        text: text.into(),
    };
    let Ok(detail) = serde_json::to_string(&message) else {
        return;
    };
    let init = web_sys::CustomEventInit::new();
    init.set_detail(&wasm_bindgen::JsValue::from_str(&detail));
    if let Ok(event) = web_sys::CustomEvent::new_with_event_init_dict(TOAST_EVENT, &init) {
        let _ = window().dispatch_event(&event);
    }
}

/// The live region where toasts appear until dismissed; screen readers announce them.
#[island]
pub fn ToastRegion() -> impl IntoView {
    let items = RwSignal::new(Vec::<Toast>::new());
    let next = StoredValue::new(0u64);
    let listener = window_event_listener(
        Custom::<web_sys::CustomEvent>::new(TOAST_EVENT),
        move |event| {
            let message = event
                .detail()
                .as_string()
                .and_then(|json| serde_json::from_str::<ToastMessage>(&json).ok());
            if let Some(message) = message {
                let id = next.get_value();
                next.set_value(id + 1);
                items.update(|items| items.push(Toast { id, message }));
            }
        },
    );
    on_cleanup(move || listener.remove());
    let dismiss = move |id: u64| items.update(|items| items.retain(|t| t.id != id));

    view! {
        <div class="fixed bottom-4 right-4 z-50 flex w-80 flex-col gap-2" role="status" aria-live="polite">
            <For each=move || items.get() key=|t| t.id let:toast>
                <div class=match toast.message.kind {
                    ToastKind::Success => "flex items-start gap-2 rounded border border-emerald-300 bg-emerald-50 p-3 text-sm text-emerald-900 shadow",
                    ToastKind::Error => "flex items-start gap-2 rounded border border-rose-300 bg-rose-50 p-3 text-sm text-rose-900 shadow",
                }>
                    <span class="flex-1">{toast.message.text.clone()}</span>
                    <button
                        type="button"
                        class="text-slate-500 hover:text-slate-900"
                        aria-label="Dismiss notification"
                        on:click=move |_| dismiss(toast.id)
                    >
                        "×"
                    </button>
                </div>
            </For>
        </div>
    }
}
