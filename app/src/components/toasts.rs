//! Toast notifications: `provide_toasts()` once, `use_toasts().push(...)` anywhere.

use leptos::prelude::*;

/// How a toast looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastKind {
    /// Something worked.
    Success,
    /// Something failed.
    Error,
}

#[derive(Debug, Clone, PartialEq)]
struct Toast {
    id: u64,
    kind: ToastKind,
    text: String,
}

/// The toast service.
#[derive(Clone, Copy)]
pub struct Toasts {
    items: RwSignal<Vec<Toast>>,
    next: StoredValue<u64>,
}

impl Toasts {
    /// Shows a toast until it is dismissed.
    pub fn push(&self, kind: ToastKind, text: impl Into<String>) {
        let id = self.next.get_value();
        self.next.set_value(id + 1);
        self.items.update(|items| {
            items.push(Toast {
                id,
                kind,
                text: text.into(),
            })
        });
    }

    fn dismiss(&self, id: u64) {
        self.items.update(|items| items.retain(|t| t.id != id));
    }
}

/// Provides the toast service to the app.
pub fn provide_toasts() {
    provide_context(Toasts {
        items: RwSignal::new(Vec::new()),
        next: StoredValue::new(0),
    });
}

/// The toast service.
pub fn use_toasts() -> Toasts {
    expect_context::<Toasts>()
}

/// The live region where toasts appear; screen readers announce them.
#[component]
pub fn ToastRegion() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div class="fixed bottom-4 right-4 z-50 flex w-80 flex-col gap-2" role="status" aria-live="polite">
            <For each=move || toasts.items.get() key=|t| t.id let:toast>
                <div class=match toast.kind {
                    ToastKind::Success => "flex items-start gap-2 rounded border border-emerald-300 bg-emerald-50 p-3 text-sm text-emerald-900 shadow",
                    ToastKind::Error => "flex items-start gap-2 rounded border border-rose-300 bg-rose-50 p-3 text-sm text-rose-900 shadow",
                }>
                    <span class="flex-1">{toast.text.clone()}</span>
                    <button
                        type="button"
                        class="text-slate-500 hover:text-slate-900"
                        aria-label="Dismiss notification"
                        on:click=move |_| toasts.dismiss(toast.id)
                    >
                        "×"
                    </button>
                </div>
            </For>
        </div>
    }
}
