//! Fault injection for a built-in directory connector: make it offline, flaky or slow, so an admin can
//! show and test the failure paths (retries, dead letters, awaiting system) for real.

use dto::{Connector, ConnectorId};
use leptos::{html, prelude::*};

use crate::api::{get_connector_settings, UpdateConnectorSettings};
use crate::components::{
    common::ErrorPanel,
    toasts::{use_toasts, ToastKind},
};

/// A button opening the fault-injection dialog of `connector`; `on_saved` runs after a successful save.
#[component]
pub fn FaultSettingsButton(connector: Connector, on_saved: Callback<()>) -> impl IntoView {
    let id: ConnectorId = connector.id;
    let dialog = NodeRef::<html::Dialog>::new();
    let opened = RwSignal::new(0u32);
    let settings = Resource::new(
        move || opened.get(),
        move |n| async move {
            if n == 0 {
                None
            } else {
                Some(get_connector_settings(id).await)
            }
        },
    );
    let save = ServerAction::<UpdateConnectorSettings>::new();
    let toasts = use_toasts();
    let name = connector.name.clone();
    Effect::new(move |_| match save.value().get() {
        Some(Ok(s)) => {
            toasts.push(
                ToastKind::Success,
                format!(
                    "Fault settings saved: the connector is {}.",
                    s.status.label().to_lowercase()
                ),
            );
            if let Some(d) = dialog.get() {
                d.close();
            }
            on_saved.run(());
        }
        Some(Err(e)) => toasts.push(ToastKind::Error, format!("Not saved: {e}")),
        None => {}
    });
    let title_id = format!("faults-{id}");
    let labelled_by = title_id.clone();
    view! {
        <button
            type="button"
            class="rounded border border-slate-300 bg-white px-3 py-1 text-sm hover:bg-slate-100"
            aria-label=format!("Fault injection for {name}")
            on:click=move |_| {
                opened.update(|n| *n += 1);
                if let Some(d) = dialog.get() {
                    let _ = d.show_modal();
                }
            }
        >
            "Fault injection"
        </button>
        <dialog node_ref=dialog class="w-full max-w-md rounded-lg border border-slate-200 p-0 shadow-xl backdrop:bg-slate-900/40" aria-labelledby=labelled_by>
            <div class="space-y-3 p-5">
                <h2 id=title_id class="text-lg font-semibold">{format!("Fault injection: {}", connector.name)}</h2>
                <p class="text-sm text-slate-700">
                    "Make this directory fail on purpose. Offline sends new work to “awaiting system” until it is back; "
                    "an error rate makes calls fail with retryable errors; latency slows every call."
                </p>
                <Suspense fallback=|| view! { <p class="text-sm">"Loading settings…"</p> }>
                    {move || Suspend::new(async move {
                        match settings.await {
                            None => ().into_any(),
                            Some(Err(error)) => view! { <ErrorPanel error/> }.into_any(),
                            Some(Ok(s)) => view! {
                                <ActionForm action=save attr:class="space-y-3">
                                    <input type="hidden" name="id" value=id.to_string()/>
                                    <label class="flex items-center gap-2 text-sm">
                                        <input type="checkbox" name="offline" value="on" checked=s.offline/>
                                        "Offline"
                                    </label>
                                    <label class="block text-sm">
                                        "Error rate (%)"
                                        <input type="number" name="error_rate_percent" min="0" max="100" step="1" required
                                            value=format!("{}", (s.error_rate * 100.0).round())
                                            class="mt-1 w-full rounded border border-slate-300 px-2 py-1"/>
                                    </label>
                                    <label class="block text-sm">
                                        "Latency (ms)"
                                        <input type="number" name="latency_ms" min="0" max="10000" step="10" required
                                            value=s.latency_ms.to_string()
                                            class="mt-1 w-full rounded border border-slate-300 px-2 py-1"/>
                                    </label>
                                    <div class="flex justify-end gap-2">
                                        <button type="button" class="rounded border border-slate-300 bg-white px-3 py-1.5 text-sm"
                                            on:click=move |_| if let Some(d) = dialog.get() { d.close(); }>
                                            "Close"
                                        </button>
                                        <button type="submit" class="rounded bg-slate-900 px-3 py-1.5 text-sm text-white disabled:opacity-50"
                                            disabled=move || save.pending().get()>
                                            "Save settings"
                                        </button>
                                    </div>
                                </ActionForm>
                            }.into_any(),
                        }
                    })}
                </Suspense>
            </div>
        </dialog>
    }
}
