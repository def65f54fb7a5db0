//! `/connectors/{id}/reconciliation/discrepancies`: what the runs found, filtered in the URL; remediate, ignore
//! or preview one, or select many and remediate them together.

use dto::{
    enums::{DiscrepancyType, ResolutionStatus},
    ConnectorId, Discrepancy, DiscrepancyList, DiscrepancyQuery, ReconciliationRun, RunQuery,
    DEFAULT_LIMIT,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{base, path_connector, ReconciliationHeader, Tab};
use crate::api::{
    list_discrepancies, list_reconciliation_runs, upstream_features, DiscrepancyFilter,
};
use crate::components::{
    common::{AutoSubmit, ErrorPanel, Loading, Pagination, ShortId, Timestamp},
    live::LiveRegion,
    reconciliation::{
        BulkDialog, DiscrepancyActions, DiscrepancyTypeBadge, PreviewDialog, ResolutionBadge,
        SelectionToolbar,
    },
};
use crate::error::AppError;
use crate::params::{discrepancy_query, with_params};

const PAGE_SIZES: [u32; 4] = [10, 20, 50, 100];
const INPUT: &str = "rounded border border-slate-300 px-2 py-1";

/// One page of discrepancies, and how many pending ones match the filter in all (what "select all" can
/// take): the list's own total when it is filtered to pending, otherwise one more call of one row.
async fn discrepancies_page(
    connector: ConnectorId,
    query: DiscrepancyQuery,
) -> Result<(DiscrepancyList, u64), AppError> {
    let list = list_discrepancies(connector, query.clone()).await?;
    let pending = match query.resolution_status {
        Some(ResolutionStatus::Pending) => list.total,
        Some(_) => 0,
        None => {
            list_discrepancies(connector, DiscrepancyFilter::from(&query).pending(1))
                .await?
                .total
        }
    };
    Ok((list, pending))
}

/// The discrepancies page. Server rendered; the filter bar applies in place (an island); filters and table are
/// a live region that re-renders after a remediation; the page's commands (forms sent in place) select rows,
/// preview, remediate, ignore, and remediate in bulk.
#[component]
pub fn DiscrepanciesPage() -> impl IntoView {
    let query = use_query_map();
    let (connector_id, connector) = path_connector();
    let filters = Memo::new(move |_| discrepancy_query(&query.read()));
    let runs = Resource::new(
        move || connector_id.get(),
        |id| async move {
            let query = RunQuery {
                limit: Some(dto::MAX_LIMIT),
                ..Default::default()
            };
            list_reconciliation_runs(id?, query).await
        },
    );
    let page = Resource::new(
        move || (connector_id.get(), filters.get()),
        |(id, q)| async move { discrepancies_page(id?, q?).await },
    );
    let features = Resource::new(|| (), |_| upstream_features());

    view! {
        <Title text="Discrepancies"/>
        <Transition fallback=|| view! { <Loading what="the connector"/> }>
            {move || Suspend::new(async move {
                let connector = match connector.await {
                    Ok(c) => c,
                    Err(error) => return view! { <ErrorPanel error/> }.into_any(),
                };
                let id = connector.id;
                let current = filters.get_untracked().unwrap_or_default();
                let runs = runs.await.map(|l| l.runs).unwrap_or_default();
                let audits_ignores = features
                    .await
                    .is_ok_and(|f| f.supports(dto::enums::UpstreamFeature::AuditsIgnores));
                // A bad filter value is refused before any call (the page resource never asked upstream).
                let results = match page.await {
                    Ok((list, pending)) => view! { <Results connector_id=id query=current.clone() list pending audits_ignores/> }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                };
                view! {
                    <ReconciliationHeader connector tab=Tab::Discrepancies/>
                    // Filters and results are one live region: a filter change, back and forward, and a
                    // remediation re-render both from the server in place.
                    <LiveRegion id="discrepancies">
                        <Filters connector_id=id current runs/>
                        {results}
                    </LiveRegion>
                    <PreviewDialog/>
                    <BulkDialog/>
                }
                .into_any()
            })}
        </Transition>
    }
}

/// The filter bar: a GET form (filters live in the URL and work before the WASM arrives).
#[component]
fn Filters(
    connector_id: ConnectorId,
    current: DiscrepancyQuery,
    runs: Vec<ReconciliationRun>,
) -> impl IntoView {
    let kind = current
        .discrepancy_type
        .map(|t| t.as_str())
        .unwrap_or_default();
    let status = current
        .resolution_status
        .map(|s| s.as_str())
        .unwrap_or_default();
    let run = current.run_id.map(|r| r.to_string()).unwrap_or_default();
    let identity = current
        .identity_id
        .map(|i| i.to_string())
        .unwrap_or_default();
    let uid = current.external_uid.clone().unwrap_or_default();
    let limit = current.limit.unwrap_or(DEFAULT_LIMIT);
    // A run from the URL that is not among the recent ones still shows as chosen.
    let unlisted = (!run.is_empty() && !runs.iter().any(|r| r.id.to_string() == run)).then(|| {
        let r = run.clone();
        view! { <option value=r.clone() selected=true>{format!("Run {r}")}</option> }
    });
    let run_options = runs
        .into_iter()
        .map(|r| {
            let value = r.id.to_string();
            let when = r
                .started_at
                .map(|at| at.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_else(|| "not started".to_owned());
            let text = format!(
                "{} {}· {when} · {}",
                r.mode.label(),
                if r.is_dry_run() { "dry run " } else { "" },
                r.status.label()
            );
            let selected = value == run;
            view! { <option value=value selected=selected>{text}</option> }
        })
        .collect_view();
    view! {
        <AutoSubmit>
        <form method="get" action=format!("{}/discrepancies", base(connector_id))>
            <div class="mb-4 flex flex-wrap items-end gap-3 rounded-lg border border-slate-200 bg-white p-3 text-sm">
                <label class="flex flex-col gap-1">
                    "Type"
                    <select name="discrepancy_type" class=INPUT>
                        <option value="" selected=kind.is_empty()>"All types"</option>
                        {DiscrepancyType::ALL.iter().map(|t| view! { <option value=t.as_str() selected=kind == t.as_str()>{t.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="flex flex-col gap-1">
                    "Resolution"
                    <select name="resolution_status" class=INPUT>
                        <option value="" selected=status.is_empty()>"Any"</option>
                        {ResolutionStatus::ALL.iter().map(|s| view! { <option value=s.as_str() selected=status == s.as_str()>{s.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="flex flex-col gap-1">
                    "Run"
                    <select name="run_id" class=INPUT>
                        <option value="" selected=run.is_empty()>"All runs"</option>
                        {unlisted}
                        {run_options}
                    </select>
                </label>
                <label class="flex flex-col gap-1">
                    "Identity id"
                    <input type="text" name="identity_id" value=identity class=INPUT placeholder="UUID" spellcheck="false"/>
                </label>
                <label class="flex flex-col gap-1">
                    "External uid"
                    <input type="text" name="external_uid" value=uid class=INPUT spellcheck="false"/>
                </label>
                <label class="flex flex-col gap-1">
                    "Rows per page"
                    <select name="limit" class=INPUT>
                        {(!PAGE_SIZES.contains(&limit)).then(|| view! { <option value=limit.to_string() selected=true>{limit.to_string()}</option> })}
                        {PAGE_SIZES.iter().map(|n| view! { <option value=n.to_string() selected=limit == *n>{n.to_string()}</option> }).collect_view()}
                    </select>
                </label>
                <button type="submit" class="rounded bg-slate-900 px-3 py-1.5 text-white">"Apply filters"</button>
            </div>
        </form>
        </AutoSubmit>
    }
}

/// What a row stands for, in words: `Mismatch of alice.anders (department)`.
fn subject(d: &Discrepancy) -> String {
    let who = d
        .external_uid
        .clone()
        .or_else(|| d.identity_id.map(|i| format!("identity {i}")))
        .unwrap_or_else(|| format!("discrepancy {}", d.id));
    let attribute = d
        .attribute_name
        .as_ref()
        .map(|a| format!(" ({a})"))
        .unwrap_or_default();
    format!("{} of {who}{attribute}", d.discrepancy_type.label())
}

/// A value as text: strings bare, anything else as JSON, null as a dash.
fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "—".to_owned(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[component]
fn Results(
    connector_id: ConnectorId,
    query: DiscrepancyQuery,
    list: DiscrepancyList,
    pending: u64,
    audits_ignores: bool,
) -> impl IntoView {
    let params = use_query_map();
    let href = Callback::new(move |offset: u64| {
        let offset = (offset > 0).then(|| offset.to_string());
        format!(
            "{}/discrepancies{}",
            base(connector_id),
            with_params(&params.get_untracked(), &[("offset", offset)])
        )
    });
    let offset = list.offset.unwrap_or(query.offset.unwrap_or(0));
    let limit = list.limit.unwrap_or(query.limit.unwrap_or(DEFAULT_LIMIT));
    let shown = list.discrepancies.len();
    let total = list.total;
    if list.discrepancies.is_empty() && offset == 0 {
        return view! {
            <p class="rounded border border-dashed border-slate-300 bg-white p-6 text-center text-slate-600">
                "No discrepancies match these filters."
            </p>
        }
        .into_any();
    }
    let rows = list
        .discrepancies
        .into_iter()
        .map(|d| {
            let subject = subject(&d);
            let pending_row = d.resolution_status == ResolutionStatus::Pending;
            let select = pending_row.then(|| {
                view! {
                    <input
                        type="checkbox"
                        data-select=format!("{}:{}", d.id, d.discrepancy_type)
                        aria-label=format!("Select {subject}")
                    />
                }
            });
            // Expected (xavyo) and actual (target) side by side: the one attribute, or every one that differs.
            let values: Vec<(String, String, String)> = match (&d.attribute_name, d.mismatched_attributes.is_empty()) {
                (Some(name), _) => vec![(
                    name.clone(),
                    d.expected_value.clone().unwrap_or_else(|| "—".to_owned()),
                    d.actual_value.clone().unwrap_or_else(|| "—".to_owned()),
                )],
                (None, false) => d
                    .mismatched_attributes
                    .iter()
                    .map(|(k, v)| (k.clone(), value_text(&v.xavyo), value_text(&v.target)))
                    .collect(),
                (None, true) => Vec::new(),
            };
            let lines = |pick: fn(&(String, String, String)) -> String| {
                values
                    .iter()
                    .map(|v| view! { <div>{pick(v)}</div> })
                    .collect_view()
            };
            let (names, expected, actual) = (lines(|v| v.0.clone()), lines(|v| v.1.clone()), lines(|v| v.2.clone()));
            let resolved = match (d.resolution_status, d.resolved_at) {
                (ResolutionStatus::Pending, _) => None,
                (_, at) => Some(view! { <div class="text-xs text-slate-500"><Timestamp at/></div> }),
            };
            let actions = pending_row.then(|| {
                view! {
                    <DiscrepancyActions
                        connector_id
                        id=d.id
                        kind=d.discrepancy_type
                        candidates=d.candidate_identity_ids.clone()
                        subject=subject.clone()
                        audits_ignores
                    />
                }
            });
            let candidates = (!d.candidate_identity_ids.is_empty()).then(|| {
                format!("{} candidates", d.candidate_identity_ids.len())
            });
            view! {
                <tr class="border-t border-slate-100 align-top" data-discrepancy=d.id.to_string()>
                    <td class="px-3 py-2">{select}</td>
                    <td class="px-3 py-2"><DiscrepancyTypeBadge kind=d.discrepancy_type/></td>
                    <td class="px-3 py-2 whitespace-nowrap">
                        {match d.identity_id {
                            Some(i) => view! { <ShortId id=i.to_string()/> }.into_any(),
                            None => view! { <span class="text-slate-400">"—"</span> }.into_any(),
                        }}
                        {candidates.map(|c| view! { <div class="text-xs text-slate-500">{c}</div> })}
                    </td>
                    <td class="px-3 py-2">{d.external_uid.clone().unwrap_or_else(|| "—".to_owned())}</td>
                    <td class="px-3 py-2"><code class="text-xs">{names}</code></td>
                    <td class="px-3 py-2 text-emerald-900">{expected}</td>
                    <td class="px-3 py-2 text-rose-900">{actual}</td>
                    <td class="px-3 py-2"><ResolutionBadge status=d.resolution_status/>{resolved}</td>
                    <td class="px-3 py-2 whitespace-nowrap"><Timestamp at=d.created_at/></td>
                    <td class="px-3 py-2">{actions}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <SelectionToolbar connector_id matching=pending query=with_params(&params.get_untracked(), &[])/>
        <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white">
                <table class="w-full text-left text-sm">
                    <caption class="sr-only">"Discrepancies"</caption>
                    <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                        <tr>
                            <th scope="col" class="px-3 py-2">
                                <input type="checkbox" data-select-page="" aria-label="Select every pending discrepancy on this page"/>
                            </th>
                            <th scope="col" class="px-3 py-2">"Type"</th>
                            <th scope="col" class="px-3 py-2">"Identity"</th>
                            <th scope="col" class="px-3 py-2">"External uid"</th>
                            <th scope="col" class="px-3 py-2">"Attribute"</th>
                            <th scope="col" class="px-3 py-2">"Expected (xavyo)"</th>
                            <th scope="col" class="px-3 py-2">"Actual (target)"</th>
                            <th scope="col" class="px-3 py-2">"Status"</th>
                            <th scope="col" class="px-3 py-2">"Detected"</th>
                            <th scope="col" class="px-3 py-2">"Actions"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
        </div>
        <Pagination offset limit shown total=Some(total) href/>
    }
    .into_any()
}
