//! `/connectors/{id}/reconciliation`: start a run, and the connector's runs (live while one is active).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{base, path_connector, ReconciliationHeader, Tab};
use crate::api::{current_user, list_reconciliation_runs, upstream_features};
use crate::components::{
    common::{ErrorPanel, Loading, Pagination},
    live::{LiveRegion, PollEvery},
    reconciliation::{RunsTable, StartRunForm},
};
use crate::params::{run_query, with_params};

/// How often the runs list refreshes while a run is active.
const ACTIVE_POLL_MS: u32 = 2000;

/// A connector's runs page. Server rendered; the start form and the run actions are forms sent in place (the
/// page's commands); the list is a live region that follows active runs and re-renders after a start or an
/// action.
#[component]
pub fn ReconciliationRunsPage() -> impl IntoView {
    let query = use_query_map();
    let (connector_id, connector) = path_connector();
    let runs_query = Memo::new(move |_| run_query(&query.read()));
    let runs = Resource::new(
        move || (connector_id.get(), runs_query.get()),
        |(id, q)| async move { list_reconciliation_runs(id?, q?).await },
    );
    let me = Resource::new(|| (), |_| current_user());
    let features = Resource::new(|| (), |_| upstream_features());

    view! {
        <Title text="Reconciliation runs"/>
        <Transition fallback=|| view! { <Loading what="the connector"/> }>
            {move || Suspend::new(async move {
                let connector = match connector.await {
                    Ok(c) => c,
                    Err(error) => return view! { <ErrorPanel error/> }.into_any(),
                };
                let id = connector.id;
                let me = me.await.ok().map(|u| u.user_id);
                let runs = runs.await;
                let can_pause = features
                    .await
                    .is_ok_and(|f| f.supports(dto::enums::UpstreamFeature::PauseRuns));
                let href = Callback::new(move |offset: u64| {
                    let offset = (offset > 0).then(|| offset.to_string());
                    format!("{}{}", base(id), with_params(&query.get_untracked(), &[("offset", offset)]))
                });
                view! {
                    <ReconciliationHeader connector tab=Tab::Runs/>
                    <section aria-labelledby="start-heading" class="mb-6">
                        <h2 id="start-heading" class="mb-2 font-semibold">"Start a run"</h2>
                        <StartRunForm connector_id=id/>
                    </section>
                    <section aria-labelledby="runs-heading">
                        <h2 id="runs-heading" class="mb-2 font-semibold">"Runs"</h2>
                        <LiveRegion id="runs">
                            {match runs {
                                Ok(list) => {
                                    let active = list.runs.iter().any(|r| r.status.is_active());
                                    let offset = list.offset.unwrap_or(0);
                                    let limit = list.limit.unwrap_or(dto::DEFAULT_LIMIT);
                                    let shown = list.runs.len();
                                    view! {
                                        {active.then(|| view! { <PollEvery ms=ACTIVE_POLL_MS/> })}
                                        <RunsTable connector_id=id runs=list.runs me can_pause/>
                                        <Pagination offset limit shown total=Some(list.total) href/>
                                    }.into_any()
                                }
                                Err(error) => view! { <ErrorPanel error/> }.into_any(),
                            }}
                        </LiveRegion>
                    </section>
                }
                .into_any()
            })}
        </Transition>
    }
}
