//! `/connectors/reconciliation`: the connectors to reconcile, each with its latest run.

use dto::{Connector, ReconciliationRun, RunQuery};
use leptos::prelude::*;
use leptos_meta::Title;

use super::base;
use crate::api::{list_connectors, list_reconciliation_runs};
use crate::components::{
    common::{ErrorPanel, Loading, Timestamp},
    reconciliation::RunStatusBadge,
};
use crate::error::AppError;

/// Each connector with its latest run (one page of one run each); a connector whose runs cannot be read
/// says so in its row, the others still show.
async fn connectors_with_latest_run(
) -> Result<Vec<(Connector, Result<Option<ReconciliationRun>, AppError>)>, AppError> {
    let list = list_connectors().await?;
    let mut rows = Vec::with_capacity(list.connectors.len());
    for connector in list.connectors {
        let latest = list_reconciliation_runs(
            connector.id,
            RunQuery {
                limit: Some(1),
                ..Default::default()
            },
        )
        .await
        .map(|runs| runs.runs.into_iter().next());
        rows.push((connector, latest));
    }
    Ok(rows)
}

/// The reconciliation overview: pick a connector.
#[component]
pub fn ReconciliationOverviewPage() -> impl IntoView {
    let rows = Resource::new(|| (), |_| connectors_with_latest_run());
    view! {
        <Title text="Reconciliation"/>
        <h1 class="mb-1 text-2xl font-semibold">"Reconciliation"</h1>
        <p class="mb-4 text-sm text-slate-600">
            "Compare a connector's accounts with xavyo's identities, then fix what differs. Choose a connector."
        </p>
        <p class="mb-4 flex gap-4 text-sm">
            <a class="underline" href="/connectors/reconciliation/schedules">"Every connector's schedule"</a>
            <a class="underline" href="/connectors/reconciliation/trend">"Discrepancy trend"</a>
        </p>
        <Transition fallback=|| view! { <Loading what="connectors"/> }>
            {move || Suspend::new(async move {
                match rows.await {
                    Ok(rows) if rows.is_empty() => view! {
                        <p class="rounded border border-dashed border-slate-300 bg-white p-6 text-center text-slate-600">"No connectors are configured for this tenant."</p>
                    }.into_any(),
                    Ok(rows) => view! { <ConnectorRuns rows/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ConnectorRuns(
    rows: Vec<(Connector, Result<Option<ReconciliationRun>, AppError>)>,
) -> impl IntoView {
    view! {
        <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white">
            <table class="w-full text-left text-sm">
                <caption class="sr-only">"Connectors to reconcile"</caption>
                <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                    <tr>
                        <th scope="col" class="px-3 py-2">"Connector"</th>
                        <th scope="col" class="px-3 py-2">"Type"</th>
                        <th scope="col" class="px-3 py-2">"Status"</th>
                        <th scope="col" class="px-3 py-2">"Latest run"</th>
                        <th scope="col" class="px-3 py-2">"Started"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|(c, latest)| {
                        let (badge, started) = match latest {
                            Ok(Some(run)) => (
                                view! {
                                    <RunStatusBadge status=run.status/>
                                    <span class="text-slate-600">{format!(" {}{}", run.mode.label(), if run.is_dry_run() { ", dry run" } else { "" })}</span>
                                }.into_any(),
                                run.started_at,
                            ),
                            Ok(None) => (view! { <span class="text-slate-500">"Never run"</span> }.into_any(), None),
                            Err(e) => (view! { <span class="text-rose-800" title=e.to_string()>"Unavailable"</span> }.into_any(), None),
                        };
                        view! {
                            <tr class="border-t border-slate-100">
                                <td class="px-3 py-2">
                                    <a class="font-medium underline" href=base(c.id)>{c.name}</a>
                                </td>
                                <td class="px-3 py-2">{c.connector_type}</td>
                                <td class="px-3 py-2">{c.status.label()}</td>
                                <td class="px-3 py-2">{badge}</td>
                                <td class="px-3 py-2 whitespace-nowrap"><Timestamp at=started/></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
