//! Fault injection for a built-in directory connector: make it offline, flaky or slow, so an admin can
//! show and test the failure paths (retries, dead letters, awaiting system) for real.

use dto::{ConnectorId, ConnectorSettings};
use leptos::{html, prelude::*};
use serde::{Deserialize, Serialize};

use crate::api::UpdateConnectorSettings;
use crate::components::{
    live::request_refresh,
    toasts::{toast, ToastKind},
};

/// A connector's fault settings as the form shows them (whole percent), and as the island receives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultForm {
    /// Every call fails as if the system were down.
    pub offline: bool,
    /// Share of calls failing with a transient error, in percent.
    pub error_rate_percent: u32,
    /// Milliseconds every call waits.
    pub latency_ms: u64,
}

impl From<&ConnectorSettings> for FaultForm {
    fn from(s: &ConnectorSettings) -> Self {
        Self {
            offline: s.offline,
            error_rate_percent: (s.error_rate * 100.0).round().clamp(0.0, 100.0) as u32,
            latency_ms: s.latency_ms,
        }
    }
}

/// A button opening the fault-injection dialog of the connector `id` called `name`, showing its current
/// `settings` (rendered by the server); after a save the page's live regions re-render, so the connector's
/// new status shows (and this island comes back with the new settings).
#[island]
pub fn FaultSettingsButton(id: ConnectorId, name: String, settings: FaultForm) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    let offline = RwSignal::new(settings.offline);
    let error_rate = RwSignal::new(settings.error_rate_percent.to_string());
    let latency = RwSignal::new(settings.latency_ms.to_string());
    let save = ServerAction::<UpdateConnectorSettings>::new();
    let title = format!("Fault injection: {name}");
    let title_id = format!("faults-{id}");
    let labelled_by = title_id.clone();

    Effect::new(move |_| match save.value().get() {
        Some(Ok(status)) => {
            toast(
                ToastKind::Success,
                format!(
                    "Fault settings saved: the connector is {}.",
                    status.label().to_lowercase()
                ),
            );
            if let Some(d) = dialog.get() {
                d.close();
            }
            request_refresh();
        }
        Some(Err(e)) => toast(ToastKind::Error, format!("Not saved: {e}")),
        None => {}
    });
    // The browser has checked the fields (required, min, max) before a submit event fires.
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (Ok(error_rate_percent), Ok(latency_ms)) = (
            error_rate.get_untracked().trim().parse::<u32>(),
            latency.get_untracked().trim().parse::<u64>(),
        ) else {
            toast(ToastKind::Error, "Not saved: enter whole numbers.");
            return;
        };
        save.dispatch(UpdateConnectorSettings {
            id,
            offline: offline.get_untracked(),
            error_rate_percent,
            latency_ms,
        });
    };

    view! {
        <button
            type="button"
            class="rounded border border-slate-300 bg-white px-3 py-1 text-sm hover:bg-slate-100"
            aria-label=format!("Fault injection for {name}")
            on:click=move |_| {
                if let Some(d) = dialog.get() {
                    let _ = d.show_modal();
                }
            }
        >
            "Fault injection"
        </button>
        <dialog node_ref=dialog class="w-full max-w-md rounded-lg border border-slate-200 p-0 shadow-xl backdrop:bg-slate-900/40" aria-labelledby=labelled_by>
            <div class="space-y-3 p-5">
                <h2 id=title_id class="text-lg font-semibold">{title}</h2>
                <p class="text-sm text-slate-700">
                    "Make this directory fail on purpose. Offline sends new work to “awaiting system” until it is back; "
                    "an error rate makes calls fail with retryable errors; latency slows every call."
                </p>
                <form class="space-y-3" on:submit=on_submit>
                    <label class="flex items-center gap-2 text-sm">
                        <input type="checkbox" prop:checked=move || offline.get() on:change=move |ev| offline.set(event_target_checked(&ev))/>
                        "Offline"
                    </label>
                    <label class="block text-sm">
                        "Error rate (%)"
                        <input type="number" min="0" max="100" step="1" required
                            prop:value=move || error_rate.get() on:input=move |ev| error_rate.set(event_target_value(&ev))
                            class="mt-1 w-full rounded border border-slate-300 px-2 py-1"/>
                    </label>
                    <label class="block text-sm">
                        "Latency (ms)"
                        <input type="number" min="0" max="10000" step="10" required
                            prop:value=move || latency.get() on:input=move |ev| latency.set(event_target_value(&ev))
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
                </form>
            </div>
        </dialog>
    }
}
