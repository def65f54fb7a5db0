//! `/connectors/{id}/reconciliation/schedule`: a connector's schedule, its form, enable/disable and delete.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{path_connector, ReconciliationHeader, Tab};
use crate::api::{get_schedule, preview_schedule};
use crate::components::{
    common::{ErrorPanel, Loading},
    live::LiveRegion,
    schedules::{ScheduleForm, ScheduleState},
};

/// A connector's schedule page. Server rendered; the form, the toggle and the delete are command forms; the
/// schedule's state is a live region that re-renders after each of them.
#[component]
pub fn ConnectorSchedulePage() -> impl IntoView {
    let (connector_id, connector) = path_connector();
    let schedule = Resource::new(
        move || connector_id.get(),
        |id| async move { get_schedule(id?).await },
    );
    view! {
        <Title text="Reconciliation schedule"/>
        <Transition fallback=|| view! { <Loading what="the schedule"/> }>
            {move || Suspend::new(async move {
                let connector = match connector.await {
                    Ok(c) => c,
                    Err(error) => return view! { <ErrorPanel error/> }.into_any(),
                };
                let id = connector.id;
                let schedule = match schedule.await {
                    Ok(s) => s,
                    Err(error) => return view! { <ReconciliationHeader connector tab=Tab::Schedule/><ErrorPanel error/> }.into_any(),
                };
                // The upcoming runs of the schedule as it stands (or of the form's defaults), by the shared rule.
                let (mode, frequency, dow, dom, hour, cron) = match &schedule {
                    Some(s) => (
                        s.mode.as_str().to_owned(),
                        s.frequency.as_str().to_owned(),
                        s.day_of_week.map(|d| d.to_string()),
                        s.day_of_month.map(|d| d.to_string()),
                        Some(s.hour_of_day.to_string()),
                        s.cron_expression.clone(),
                    ),
                    None => ("full".to_owned(), "daily".to_owned(), None, None, Some("2".to_owned()), None),
                };
                let upcoming = preview_schedule(mode, frequency, dow, dom, hour, cron)
                    .await
                    .unwrap_or_default();
                let state = match schedule.clone() {
                    Some(schedule) => view! { <ScheduleState connector_id=id schedule/> }.into_any(),
                    None => view! {
                        <p class="rounded border border-dashed border-slate-300 bg-white p-4 text-slate-600">
                            "This connector has no schedule: it is reconciled only when someone starts a run. Save the form below to create one."
                        </p>
                    }.into_any(),
                };
                view! {
                    <ReconciliationHeader connector tab=Tab::Schedule/>
                    <section aria-labelledby="current-heading" class="mb-6">
                        <h2 id="current-heading" class="mb-2 font-semibold">"Current schedule"</h2>
                        <LiveRegion id="schedule-state">{state}</LiveRegion>
                    </section>
                    <section aria-labelledby="edit-heading">
                        <h2 id="edit-heading" class="mb-2 font-semibold">
                            {if schedule.is_some() { "Change the schedule" } else { "Create a schedule" }}
                        </h2>
                        <ScheduleForm connector_id=id schedule upcoming/>
                    </section>
                }
                .into_any()
            })}
        </Transition>
    }
}
