//! `/connectors/reconciliation/schedules`: every connector's reconciliation schedule.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{list_connectors, list_schedules};
use crate::components::{
    common::{ErrorPanel, Loading},
    schedules::SchedulesTable,
};

/// The schedules page: connector, frequency in words, mode, enabled, last run and next run, each row linking
/// to the connector's schedule and runs.
#[component]
pub fn SchedulesPage() -> impl IntoView {
    let schedules = Resource::new(|| (), |_| list_schedules());
    // xavyo-idp's schedules do not carry their connector's name: the connectors list gives it.
    let connectors = Resource::new(|| (), |_| list_connectors());
    view! {
        <Title text="Reconciliation schedules"/>
        <nav aria-label="Breadcrumb" class="mb-2 text-sm">
            <a href="/connectors/reconciliation" class="underline">"Reconciliation"</a>
            " / "<span aria-current="page">"Schedules"</span>
        </nav>
        <h1 class="mb-1 text-2xl font-semibold">"Reconciliation schedules"</h1>
        <p class="mb-4 text-sm text-slate-600">
            "When each connector is reconciled on its own (UTC). A connector's schedule is set on its reconciliation pages."
        </p>
        <Transition fallback=|| view! { <Loading what="schedules"/> }>
            {move || Suspend::new(async move {
                match schedules.await {
                    Ok(list) if list.schedules.is_empty() => view! {
                        <p class="rounded border border-dashed border-slate-300 bg-white p-6 text-center text-slate-600">
                            "No connector is reconciled on a schedule. Open a connector's reconciliation pages to set one."
                        </p>
                    }.into_any(),
                    Ok(mut list) => {
                        if let Ok(connectors) = connectors.await {
                            for s in list.schedules.iter_mut().filter(|s| s.connector_name.is_none()) {
                                s.connector_name = connectors
                                    .connectors
                                    .iter()
                                    .find(|c| c.id == s.connector_id)
                                    .map(|c| c.name.clone());
                            }
                        }
                        view! { <SchedulesTable schedules=list.schedules/> }.into_any()
                    }
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Transition>
    }
}
