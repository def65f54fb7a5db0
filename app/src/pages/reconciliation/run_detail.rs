//! `/connectors/{id}/reconciliation/runs/{run_id}`: one run, its live progress, then its report.

use dto::{ConnectorId, ReconciliationReport, ReconciliationRun, RunId, UserId};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::{base, path_connector, ReconciliationHeader, Tab};
use crate::api::{
    current_user, get_reconciliation_report, get_reconciliation_run, upstream_features,
};
use crate::components::{
    common::{ErrorPanel, Field, Loading, Timestamp},
    live::{LiveRegion, PollEvery},
    reconciliation::{
        dry_run_text, duration_text, run_name, DiscrepancyTypeBadge, RunActions, RunProgress,
        RunStatusBadge, StartedBy,
    },
};
use crate::error::AppError;
use crate::params::url_encode;

/// How often the page follows a run that is still active.
const ACTIVE_POLL_MS: u32 = 1500;

/// The run, and its report once it has finished (an active run's report is still moving: it is not asked for).
async fn run_with_report(
    connector: ConnectorId,
    run: RunId,
) -> Result<
    (
        ReconciliationRun,
        Option<Result<ReconciliationReport, AppError>>,
    ),
    AppError,
> {
    let run = get_reconciliation_run(connector, run).await?;
    let report = if run.status.is_active() {
        None
    } else {
        Some(get_reconciliation_report(connector, run.id).await)
    };
    Ok((run, report))
}

/// The run page: server rendered, in a live region that follows the run while it is active (the poll pauses
/// while the tab is hidden) and re-renders after an action.
#[component]
pub fn RunDetailPage() -> impl IntoView {
    let params = use_params_map();
    let (connector_id, connector) = path_connector();
    let run_id = Memo::new(move |_| {
        let raw = params.read().get("run_id").unwrap_or_default();
        raw.parse::<RunId>()
            .map_err(|_| AppError::NotFound(format!("There is no run `{raw}`: run ids are UUIDs.")))
    });
    let run = Resource::new(
        move || (connector_id.get(), run_id.get()),
        |(c, r)| async move { run_with_report(c?, r?).await },
    );
    let me = Resource::new(|| (), |_| current_user());
    let features = Resource::new(|| (), |_| upstream_features());

    view! {
        <Title text="Reconciliation run"/>
        <Transition fallback=|| view! { <Loading what="the run"/> }>
            {move || Suspend::new(async move {
                let (connector, (run, report)) = match (connector.await, run.await) {
                    (Ok(c), Ok(r)) => (c, r),
                    (Err(error), _) | (_, Err(error)) => return view! { <ErrorPanel error/> }.into_any(),
                };
                let me = me.await.ok().map(|u| u.user_id);
                let can_pause = features
                    .await
                    .is_ok_and(|f| f.supports(dto::enums::UpstreamFeature::PauseRuns));
                let connector_id = connector.id;
                let connector_name = connector.name.clone();
                view! {
                    <ReconciliationHeader connector tab=Tab::Runs crumb="Run"/>
                    <LiveRegion id="run">
                        {run.status.is_active().then(|| view! { <PollEvery ms=ACTIVE_POLL_MS/> })}
                        <RunView connector_id connector_name run report me can_pause/>
                    </LiveRegion>
                }
                .into_any()
            })}
        </Transition>
    }
}

#[component]
fn RunView(
    connector_id: ConnectorId,
    connector_name: String,
    run: ReconciliationRun,
    report: Option<Result<ReconciliationReport, AppError>>,
    me: Option<UserId>,
    can_pause: bool,
) -> impl IntoView {
    let title = run_name(&run);
    let actions = run
        .status
        .is_active()
        .then(|| view! { <RunActions connector_id run_id=run.id status=run.status can_pause/> });
    let found = run.discrepancies_found;
    let discrepancies_href = format!("{}/discrepancies?run_id={}", base(connector_id), run.id);
    view! {
        <header class="mb-4 flex flex-wrap items-center justify-between gap-3">
            <div>
                <h2 class="text-xl font-semibold">{title}</h2>
                <p class="text-sm text-slate-600"><code>{run.id.to_string()}</code></p>
            </div>
            <div class="flex items-center gap-3">
                <span aria-label="Run status"><RunStatusBadge status=run.status/></span>
                {actions}
            </div>
        </header>
        {run.error_message.clone().map(|e| view! {
            <div role="alert" class="mb-4 rounded border border-rose-200 bg-rose-50 p-3 text-sm text-rose-900">
                <p class="font-semibold">"The run failed"</p>
                <p>{e}</p>
            </div>
        })}
        <div class="grid gap-4 lg:grid-cols-3">
            <section class="rounded-lg border border-slate-200 bg-white p-4 lg:col-span-2" aria-labelledby="progress">
                <h3 id="progress" class="mb-2 font-semibold">"Progress"</h3>
                <RunProgress processed=run.accounts_processed total=run.accounts_total active=run.status.is_active()/>
                <p class="mt-2 text-sm">
                    {format!("{found} discrepanc{} found. ", if found == 1 { "y" } else { "ies" })}
                    <a class="underline" href=discrepancies_href>"See this run's discrepancies"</a>
                </p>
            </section>
            <section class="rounded-lg border border-slate-200 bg-white p-4" aria-labelledby="facts">
                <h3 id="facts" class="mb-2 font-semibold">"Details"</h3>
                <dl>
                    <Field label="Connector">{connector_name}</Field>
                    <Field label="Mode">{run.mode.label()}</Field>
                    <Field label="Dry run">{match run.dry_run {
                        Some(true) => "Yes: reports only, changes nothing",
                        other => dry_run_text(other),
                    }}</Field>
                    <Field label="Started by"><StartedBy by=run.created_by me/></Field>
                    <Field label="Started"><Timestamp at=run.started_at/></Field>
                    <Field label="Finished"><Timestamp at=run.completed_at/></Field>
                    <Field label="Duration">{duration_text(run.elapsed_seconds(std::time::SystemTime::now().into()))}</Field>
                </dl>
            </section>
        </div>
        {match report {
            None => view! {
                <p class="mt-4 text-sm text-slate-600">"The report shows here once the run has finished."</p>
            }.into_any(),
            Some(Ok(report)) => view! { <Report connector_id report/> }.into_any(),
            Some(Err(error)) => view! {
                <section class="mt-4">
                    <p class="mb-1 text-sm font-medium">"The report is unavailable."</p>
                    <ErrorPanel error/>
                </section>
            }.into_any(),
        }}
    }
}

#[component]
fn Report(connector_id: ConnectorId, report: ReconciliationReport) -> impl IntoView {
    let run_filter = format!(
        "{}/discrepancies?run_id={}",
        base(connector_id),
        report.run_id
    );
    let by_type = report.discrepancy_summary.by_type.clone();
    let perf = report.performance_metrics.clone();
    let section = "rounded-lg border border-slate-200 bg-white p-4";
    view! {
        <h2 class="mb-2 mt-4 text-xl font-semibold">"Report"</h2>
        <div class="grid gap-4 lg:grid-cols-3">
            <section class=section aria-labelledby="by-type">
                <h3 id="by-type" class="mb-2 font-semibold">
                    {format!("Discrepancies: {}", report.discrepancy_summary.total)}
                </h3>
                {if by_type.is_empty() {
                    view! { <p class="text-sm text-slate-500">"None found."</p> }.into_any()
                } else {
                    view! {
                        <ul class="space-y-1 text-sm" aria-label="Discrepancies by type">
                            {by_type.into_iter().map(|(kind, count)| {
                                let href = format!("{run_filter}&discrepancy_type={}", url_encode(kind.as_str()));
                                view! {
                                    <li class="flex items-center gap-2">
                                        <DiscrepancyTypeBadge kind/>
                                        <a class="underline" href=href aria-label=format!("{count} {} discrepancies", kind.label().to_lowercase())>{count}</a>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
            <section class=section aria-labelledby="by-action">
                <h3 id="by-action" class="mb-2 font-semibold">{format!("Actions taken: {}", report.action_summary.total)}</h3>
                {if report.action_summary.by_action.is_empty() {
                    view! { <p class="text-sm text-slate-500">"None."</p> }.into_any()
                } else {
                    view! {
                        <ul class="space-y-1 text-sm">
                            {report.action_summary.by_action.into_iter().map(|(action, count)| {
                                let label = action.parse::<dto::enums::RemediationAction>().map(|a| a.label().to_owned()).unwrap_or(action);
                                view! { <li>{format!("{label}: {count}")}</li> }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
            <section class=section aria-labelledby="top-attributes">
                <h3 id="top-attributes" class="mb-2 font-semibold">"Most mismatched attributes"</h3>
                {if report.top_mismatched_attributes.is_empty() {
                    view! { <p class="text-sm text-slate-500">"No attribute differed."</p> }.into_any()
                } else {
                    view! {
                        <table class="w-full text-left text-sm">
                            <caption class="sr-only">"Most mismatched attributes"</caption>
                            <thead class="text-xs uppercase text-slate-500">
                                <tr><th scope="col">"Attribute"</th><th scope="col" class="text-right">"Discrepancies"</th></tr>
                            </thead>
                            <tbody>
                                {report.top_mismatched_attributes.into_iter().map(|a| view! {
                                    <tr class="border-t border-slate-100"><td class="py-1"><code>{a.attribute_name}</code></td><td class="py-1 text-right">{a.count}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }}
            </section>
            <section class=section aria-labelledby="performance">
                <h3 id="performance" class="mb-2 font-semibold">"Performance"</h3>
                <dl>
                    <Field label="Duration">{duration_text(Some(perf.total_duration_ms as f64 / 1000.0))}</Field>
                    <Field label="Accounts per second">{format!("{:.1}", perf.accounts_per_second)}</Field>
                    <Field label="Connector calls">{perf.api_calls_made.map(|n| n.to_string()).unwrap_or_else(|| "not counted".to_owned())}</Field>
                </dl>
            </section>
        </div>
    }
}
