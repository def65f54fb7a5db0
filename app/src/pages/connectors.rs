//! `/connectors`: every connector with its type and status.

use leptos::prelude::*;
use leptos_meta::Title;

use std::collections::HashMap;

use dto::{ConnectorId, ConnectorList};

use crate::api::{get_connector_settings, list_connectors};
use crate::components::{
    common::{ErrorPanel, Loading},
    connector_settings::{FaultForm, FaultSettingsButton},
    live::LiveRegion,
};
use crate::error::AppError;

/// The connectors, and the fault settings of those that have them (the built-in directories).
async fn connectors_with_settings(
) -> Result<(ConnectorList, HashMap<ConnectorId, FaultForm>), AppError> {
    let list = list_connectors().await?;
    let mut settings = HashMap::new();
    for c in list
        .connectors
        .iter()
        .filter(|c| c.supports(dto::Connector::FAULT_INJECTION))
    {
        settings.insert(c.id, FaultForm::from(&get_connector_settings(c.id).await?));
    }
    Ok((list, settings))
}

/// The connectors list: server rendered, re-rendered from the server after a fault-injection save.
#[component]
pub fn ConnectorsPage() -> impl IntoView {
    let connectors = Resource::new(|| (), |_| connectors_with_settings());
    view! {
        <Title text="Connectors"/>
        <h1 class="mb-4 text-2xl font-semibold">"Connectors"</h1>
        <LiveRegion id="connectors">
        <Transition fallback=|| view! { <Loading what="connectors"/> }>
            {move || Suspend::new(async move {
                match connectors.await {
                    Ok((list, _)) if list.connectors.is_empty() => view! {
                        <p class="rounded border border-dashed border-slate-300 bg-white p-6 text-center text-slate-600">"No connectors are configured for this tenant."</p>
                    }.into_any(),
                    Ok((list, settings)) => view! {
                        <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white">
                            <table class="w-full text-left text-sm">
                                <caption class="sr-only">"Connectors"</caption>
                                <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                                    <tr>
                                        <th scope="col" class="px-3 py-2">"Name"</th>
                                        <th scope="col" class="px-3 py-2">"Type"</th>
                                        <th scope="col" class="px-3 py-2">"Status"</th>
                                        <th scope="col" class="px-3 py-2">"Operations"</th>
                                        <th scope="col" class="px-3 py-2">"Reconciliation"</th>
                                        <th scope="col" class="px-3 py-2">"Failure paths"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {list.connectors.into_iter().map(|c| {
                                        let faults = settings.get(&c.id).map(|s| view! { <FaultSettingsButton id=c.id name=c.name.clone() settings=*s/> });
                                        let reconciliation_label = format!("Reconciliation of {}", c.name);
                                        view! {
                                        <tr class="border-t border-slate-100">
                                            <td class="px-3 py-2 font-medium">{c.name}</td>
                                            <td class="px-3 py-2">{c.connector_type}</td>
                                            <td class="px-3 py-2">{c.status.label()}</td>
                                            <td class="px-3 py-2">
                                                <a class="underline" href=format!("/connectors/operations?connector_id={}", c.id)>"View operations"</a>
                                            </td>
                                            <td class="px-3 py-2">
                                                <a class="underline" href=format!("/connectors/{}/reconciliation", c.id) aria-label=reconciliation_label>"Reconciliation"</a>
                                            </td>
                                            <td class="px-3 py-2">{faults}</td>
                                        </tr>
                                    }}).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Transition>
        </LiveRegion>
    }
}
