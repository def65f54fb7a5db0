//! Fault injection for a built-in directory connector: make it offline, flaky or slow, so an admin can
//! show and test the failure paths (retries, dead letters, awaiting system) for real.

use dto::{ConnectorId, ConnectorSettings};
use leptos::prelude::*;

use crate::components::{
    commands::{CommandForm, Hidden},
    dialog::{BUTTON, DIALOG_CLASS, PRIMARY},
};

/// A connector's fault settings as the form shows them (whole percent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

/// A button opening the fault-injection dialog of the connector `id` called `name`, its form showing the
/// current `settings`. The form is a [command](crate::components::commands): the browser checks the fields
/// (required, min, max), it is sent in place, the toast says the connector's new status, and the page's live
/// regions re-render (the new status shows, and this dialog comes back with the new settings).
#[component]
pub fn FaultSettingsButton(id: ConnectorId, name: String, settings: FaultForm) -> impl IntoView {
    use crate::api::UpdateConnectorSettings;
    use leptos::server_fn::ServerFn;
    let dialog = format!("faults-{id}");
    let title_id = format!("{dialog}-title");
    let labelled_by = title_id.clone();
    let input = "mt-1 w-full rounded border border-slate-300 px-2 py-1";
    view! {
        <button
            type="button"
            class="rounded border border-slate-300 bg-white px-3 py-1 text-sm hover:bg-slate-100"
            aria-label=format!("Fault injection for {name}")
            data-open-dialog=dialog.clone()
        >
            "Fault injection"
        </button>
        <dialog id=dialog class=DIALOG_CLASS aria-labelledby=labelled_by>
            <div class="space-y-3 p-5">
                <h2 id=title_id class="text-lg font-semibold">{format!("Fault injection: {name}")}</h2>
                <p class="text-sm text-slate-700">
                    "Make this directory fail on purpose. Offline sends new work to “awaiting system” until it is back; "
                    "an error rate makes calls fail with retryable errors; latency slows every call."
                </p>
                <CommandForm endpoint=UpdateConnectorSettings::PATH then="close refresh" class="space-y-3">
                    <Hidden name="id" value=id.to_string()/>
                    <label class="flex items-center gap-2 text-sm">
                        <input type="checkbox" name="offline" value="true" checked=settings.offline/>
                        "Offline"
                    </label>
                    <label class="block text-sm">
                        "Error rate (%)"
                        <input type="number" name="error_rate_percent" min="0" max="100" step="1" required
                            value=settings.error_rate_percent.to_string() class=input/>
                    </label>
                    <label class="block text-sm">
                        "Latency (ms)"
                        <input type="number" name="latency_ms" min="0" max="10000" step="10" required
                            value=settings.latency_ms.to_string() class=input/>
                    </label>
                    <p role="alert" class="text-sm text-rose-900" data-problem hidden></p>
                    <div class="flex justify-end gap-2">
                        <button type="button" class=BUTTON data-close>"Close"</button>
                        <button type="submit" class=PRIMARY>"Save settings"</button>
                    </div>
                </CommandForm>
            </div>
        </dialog>
    }
}
