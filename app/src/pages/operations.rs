//! `/connectors/operations`: queue statistics and the operations table, filters kept in the URL.

use std::collections::HashMap;

use dto::{
    enums::{OperationStatus, OperationType},
    Connector, ConnectorId, OperationQuery, OperationSort, DEFAULT_LIMIT,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use crate::api::{list_connectors, list_operations, operation_stats, upstream_features};
use crate::components::{
    common::{AutoSubmit, ConnectorSelect, ErrorPanel, Loading, Pagination},
    live::{LiveRegion, PollEvery},
    operations::{OperationsTable, QueueStatsCards},
};
use crate::params::{date_input_value, operation_query, with_params};

const PAGE_SIZES: [u32; 4] = [10, 20, 50, 100];
/// How often the live view refreshes.
const LIVE_INTERVAL_MS: u32 = 5000;

/// The operations queue page. Server rendered; the filter bar applies on change (an island), and with the
/// auto-refresh switch on, the statistics and the table re-render from the server every 5 s (a live region).
#[component]
pub fn OperationsPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| operation_query(&params.read()));

    let live = Memo::new(move |_| params.read().get_str("live") == Some("1"));

    let connectors = Resource::new(|| (), |_| list_connectors());
    let features = Resource::new(|| (), |_| upstream_features());
    // Pending operations that a conflict holds (they wait for an admin, not for the worker); the list marks
    // them. Empty when the upstream cannot say.
    let held = Resource::new(
        || (),
        |_| async {
            crate::api::held_operations(None).await.map(|held| {
                held.into_iter()
                    .map(|(op, conflict)| (op, conflict.id))
                    .collect::<HashMap<_, _>>()
            })
        },
    );
    let operations = Resource::new(
        move || query.get(),
        |query| async move {
            match query {
                Ok(query) => list_operations(query).await,
                Err(e) => Err(e),
            }
        },
    );
    let stats = Resource::new(
        move || query.get().ok().and_then(|q| q.connector_id),
        operation_stats,
    );
    let live_href = move || {
        let flag = (!live.get()).then(|| "1".to_owned());
        format!(
            "/connectors/operations{}",
            with_params(&params.read(), &[("live", flag)])
        )
    };

    let href = Callback::new(move |offset: u64| {
        let offset = (offset > 0).then(|| offset.to_string());
        format!(
            "/connectors/operations{}",
            with_params(&params.get_untracked(), &[("offset", offset)])
        )
    });

    view! {
        <Title text="Operations"/>
        // The whole page is one live region: a filter change or the auto-refresh re-renders it in place.
        <LiveRegion id="operations">
        {move || live.get().then(|| view! { <PollEvery ms=LIVE_INTERVAL_MS/> })}
        <div class="mb-4 flex items-center justify-between">
            <h1 class="text-2xl font-semibold">"Operations"</h1>
            <A href=live_href attr:role="switch" attr:aria-checked=move || live.get().to_string() attr:class="flex items-center gap-2 rounded border bg-white px-3 py-1.5 text-sm hover:bg-slate-100">
                <span class=move || if live.get() { "h-2 w-2 rounded-full bg-emerald-500" } else { "h-2 w-2 rounded-full bg-slate-300" }></span>
                {move || if live.get() { "Auto-refresh on (every 5 s)" } else { "Auto-refresh off" }}
            </A>
        </div>
        <Transition fallback=|| view! { <Loading what="connectors"/> }>
            {move || {
                let current = query.get().unwrap_or_default();
                let live = live.get();
                Suspend::new(async move {
                    let list = connectors.await.map(|l| l.connectors).unwrap_or_default();
                    let can_sort = features
                        .await
                        .is_ok_and(|f| f.supports(dto::enums::UpstreamFeature::SortOperations));
                    view! { <Filters connectors=list current live can_sort/> }
                })
            }}
        </Transition>
        <section aria-labelledby="stats-heading" class="mb-6">
            <h2 id="stats-heading" class="sr-only">"Statistics"</h2>
            <Transition fallback=|| view! { <Loading what="statistics"/> }>
                {move || Suspend::new(async move {
                    match stats.await {
                        Ok(stats) => view! { <QueueStatsCards stats/> }.into_any(),
                        Err(error) => view! {
                            <div>
                                <p class="mb-1 text-sm font-medium">"Statistics are unavailable; the list below still works."</p>
                                <ErrorPanel error/>
                            </div>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <Transition fallback=|| view! { <Loading what="operations"/> }>
            {move || {
            let asked = query.get().unwrap_or_default();
            Suspend::new(async move {
                let names: HashMap<ConnectorId, String> = connectors
                    .await
                    .map(|l| l.connectors.into_iter().map(|c| (c.id, c.name)).collect())
                    .unwrap_or_default();
                let held = held.await.unwrap_or_default();
                match operations.await {
                    Ok(mut list) => {
                        let offset = list.offset.unwrap_or(0);
                        let limit = list.limit.unwrap_or(dto::DEFAULT_LIMIT);
                        let sent = list.operations.len();
                        // An upstream that ignored a filter answered rows it excludes: say so, and show only
                        // the rows that match rather than the others under the filter.
                        let unapplied = asked.unapplied(&list.operations);
                        let mut total = list.total;
                        if !unapplied.is_empty() {
                            list.operations.retain(|op| asked.matches(op));
                            total = None;
                        }
                        let notice = (!unapplied.is_empty())
                            .then(|| view! { <UnappliedFilters filters=unapplied sent kept=list.operations.len()/> });
                        view! {
                            {notice}
                            <OperationsTable operations=list.operations names held/>
                            <Pagination offset limit shown=sent total href/>
                        }
                        .into_any()
                    }
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })
            }}
        </Transition>
        </LiveRegion>
    }
}

/// The words for a filter of the operations list, by its query name.
fn filter_label(name: &str) -> &'static str {
    match name {
        "connector_id" => "Connector",
        "user_id" => "User",
        "status" => "Status",
        "operation_type" => "Type",
        "from_date" => "From",
        "to_date" => "To",
        _ => "a filter",
    }
}

/// Says which filters the upstream did not apply (it answered rows they exclude), and what is shown instead.
#[component]
fn UnappliedFilters(filters: Vec<&'static str>, sent: usize, kept: usize) -> impl IntoView {
    let names = filters
        .iter()
        .map(|f| filter_label(f))
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <div role="status" class="mb-3 rounded border border-amber-300 bg-amber-50 p-3 text-sm text-amber-950">
            <p class="font-semibold">{format!("The upstream did not apply these filters: {names}.")}</p>
            <p>{format!(
                "It answered {sent} row{} that they exclude as well; only the {kept} that match are shown. \
                 Paging still counts every row it sent, and there is no total for the filtered list.",
                if sent == 1 { "" } else { "s" }
            )}</p>
        </div>
    }
}

/// The filter bar: a GET form, so filters live in the URL and work before the WASM arrives too. The sort
/// order is offered only when the upstream sorts (`can_sort`).
#[component]
fn Filters(
    connectors: Vec<Connector>,
    current: OperationQuery,
    live: bool,
    can_sort: bool,
) -> impl IntoView {
    let connector = current
        .connector_id
        .map(|c| c.to_string())
        .unwrap_or_default();
    let status = current.status.map(|s| s.as_str()).unwrap_or_default();
    let kind = current
        .operation_type
        .map(|t| t.as_str())
        .unwrap_or_default();
    let from = date_input_value(current.from_date);
    let to = date_input_value(current.to_date);
    let sort = current.sort.unwrap_or_default();
    let limit = current.limit.unwrap_or(DEFAULT_LIMIT);
    view! {
        <AutoSubmit>
        <form method="get" action="/connectors/operations">
            <div class="mb-4 flex flex-wrap items-end gap-3 rounded-lg border border-slate-200 bg-white p-3 text-sm">
                <ConnectorSelect connectors selected=connector/>
                <label class="flex flex-col gap-1">
                    "Status"
                    <select name="status" class="rounded border border-slate-300 px-2 py-1">
                        <option value="" selected=status.is_empty()>"All statuses"</option>
                        {OperationStatus::ALL
                            .iter()
                            .map(|s| view! { <option value=s.as_str() selected=status == s.as_str()>{s.label()}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label class="flex flex-col gap-1">
                    "Type"
                    <select name="operation_type" class="rounded border border-slate-300 px-2 py-1">
                        <option value="" selected=kind.is_empty()>"All types"</option>
                        {OperationType::ALL
                            .iter()
                            .map(|t| view! { <option value=t.as_str() selected=kind == t.as_str()>{t.label()}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label class="flex flex-col gap-1">
                    "From"
                    <input type="date" name="from_date" value=from class="rounded border border-slate-300 px-2 py-1"/>
                </label>
                <label class="flex flex-col gap-1">
                    "To"
                    <input type="date" name="to_date" value=to class="rounded border border-slate-300 px-2 py-1"/>
                </label>
                {can_sort.then(|| view! {
                    <label class="flex flex-col gap-1">
                        "Sort"
                        <select name="sort" class="rounded border border-slate-300 px-2 py-1">
                            {OperationSort::ALL
                                .iter()
                                .map(|o| view! { <option value=o.as_str() selected=sort == *o>{o.label()}</option> })
                                .collect_view()}
                        </select>
                    </label>
                })}
                <label class="flex flex-col gap-1">
                    "Rows per page"
                    <select name="limit" class="rounded border border-slate-300 px-2 py-1">
                        {PAGE_SIZES
                            .iter()
                            .map(|n| view! { <option value=n.to_string() selected=limit == *n>{n.to_string()}</option> })
                            .collect_view()}
                    </select>
                </label>
                {live.then(|| view! { <input type="hidden" name="live" value="1"/> })}
                <button type="submit" class="rounded bg-slate-900 px-3 py-1.5 text-white">"Apply filters"</button>
            </div>
        </form>
        </AutoSubmit>
    }
}
