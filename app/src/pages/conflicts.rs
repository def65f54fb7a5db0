//! `/connectors/conflicts`: the conflicts the worker detected between operations, filters kept in the URL.

use dto::{ConflictQuery, DEFAULT_LIMIT};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::list_conflicts;
use crate::components::{
    common::{AutoSubmit, ErrorPanel, Loading, Pagination},
    conflicts::{type_options, ConflictsTable},
    live::LiveRegion,
};
use crate::params::{conflict_query, with_params};

const PAGE_SIZES: [u32; 4] = [10, 20, 50, 100];

/// The conflicts page: server rendered, one live region (a filter change or a resolution re-renders it in
/// place); each pending conflict has its resolve dialog.
#[component]
pub fn ConflictsPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| conflict_query(&params.read()));
    let conflicts = Resource::new(
        move || query.get(),
        |query| async move { list_conflicts(query?).await },
    );
    let href = Callback::new(move |offset: u64| {
        let offset = (offset > 0).then(|| offset.to_string());
        format!(
            "/connectors/conflicts{}",
            with_params(&params.get_untracked(), &[("offset", offset)])
        )
    });

    view! {
        <Title text="Conflicts"/>
        <LiveRegion id="conflicts">
        <h1 class="mb-1 text-2xl font-semibold">"Conflicts"</h1>
        <p class="mb-4 text-sm text-slate-600">
            "Two operations that change the same attributes of one account. The later one is held until you resolve the conflict."
        </p>
        {move || view! { <Filters current=query.get().unwrap_or_default()/> }}
        <Transition fallback=|| view! { <Loading what="conflicts"/> }>
            {move || Suspend::new(async move {
                match conflicts.await {
                    Ok(list) if list.conflicts.is_empty() && list.offset.unwrap_or(0) == 0 => view! {
                        <p class="rounded border border-dashed border-slate-300 bg-white p-6 text-center text-slate-600">
                            "No conflicts match these filters."
                        </p>
                    }.into_any(),
                    Ok(list) => {
                        let offset = list.offset.unwrap_or(0);
                        let limit = list.limit.unwrap_or(DEFAULT_LIMIT);
                        let shown = list.conflicts.len();
                        view! {
                            <ConflictsTable conflicts=list.conflicts/>
                            <Pagination offset limit shown total=list.total href/>
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Transition>
        </LiveRegion>
    }
}

/// The filter bar: a GET form, so filters live in the URL and work before the WASM arrives too.
#[component]
fn Filters(current: ConflictQuery) -> impl IntoView {
    let operation = current
        .operation_id
        .map(|o| o.to_string())
        .unwrap_or_default();
    let pending_only = current.pending_only == Some(true);
    let limit = current.limit.unwrap_or(DEFAULT_LIMIT);
    view! {
        <AutoSubmit>
        <form method="get" action="/connectors/conflicts">
            <div class="mb-4 flex flex-wrap items-end gap-3 rounded-lg border border-slate-200 bg-white p-3 text-sm">
                <label class="flex flex-col gap-1">
                    "Type"
                    <select name="conflict_type" class="rounded border border-slate-300 px-2 py-1">
                        <option value="" selected=current.conflict_type.is_none()>"All types"</option>
                        {type_options(current.conflict_type)}
                    </select>
                </label>
                <label class="flex flex-col gap-1">
                    "Status"
                    <select name="pending_only" class="rounded border border-slate-300 px-2 py-1">
                        <option value="" selected=!pending_only>"All statuses"</option>
                        <option value="true" selected=pending_only>"Pending only"</option>
                    </select>
                </label>
                <label class="flex flex-col gap-1">
                    "Operation id"
                    <input type="text" name="operation_id" value=operation spellcheck="false" placeholder="UUID"
                        class="w-80 rounded border border-slate-300 px-2 py-1"/>
                </label>
                <label class="flex flex-col gap-1">
                    "Rows per page"
                    <select name="limit" class="rounded border border-slate-300 px-2 py-1">
                        {PAGE_SIZES
                            .iter()
                            .map(|n| view! { <option value=n.to_string() selected=limit == *n>{n.to_string()}</option> })
                            .collect_view()}
                    </select>
                </label>
                <button type="submit" class="rounded bg-slate-900 px-3 py-1.5 text-white">"Apply filters"</button>
            </div>
        </form>
        </AutoSubmit>
    }
}
