//! `/connectors/operations/dlq`: operations that gave up, with their errors, to retry or resolve.

use std::collections::HashMap;

use dto::{ConnectorId, ProvisioningOperation, DEFAULT_LIMIT};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use crate::api::{dead_letters, list_connectors};
use crate::components::{
    common::{AutoSubmit, ConnectorSelect, ErrorPanel, Loading, Pagination, ShortId, Timestamp},
    live::LiveRegion,
    operation_actions::{OperationActionButtons, RetryCommand},
    operations::connector_label,
};
use crate::params::{dead_letter_filter, with_params};

/// The dead-letter queue page: server rendered; the row actions are islands, and the list re-renders from
/// the server after each of them (a live region).
#[component]
pub fn DeadLettersPage() -> impl IntoView {
    let params = use_query_map();
    let filter = Memo::new(move |_| dead_letter_filter(&params.read()));
    let connectors = Resource::new(|| (), |_| list_connectors());
    let page = Resource::new(
        move || filter.get(),
        |filter| async move { dead_letters(filter?).await },
    );
    let href = Callback::new(move |offset: u64| {
        let offset = (offset > 0).then(|| offset.to_string());
        format!(
            "/connectors/operations/dlq{}",
            with_params(&params.get_untracked(), &[("offset", offset)])
        )
    });

    view! {
        <Title text="Dead letter queue"/>
        <h1 class="mb-1 text-2xl font-semibold">"Dead letter queue"</h1>
        <p class="mb-4 text-sm text-slate-600">
            "Operations that failed for good. Retry them once the cause is fixed, or resolve them with a note."
        </p>
        <Transition fallback=|| view! { <Loading what="connectors"/> }>
            {move || {
                let current = filter.get().ok().and_then(|f| f.connector_id).map(|c| c.to_string()).unwrap_or_default();
                Suspend::new(async move {
                let list = connectors.await.map(|l| l.connectors).unwrap_or_default();
                view! {
                    <AutoSubmit>
                    <form method="get" action="/connectors/operations/dlq">
                        <div class="mb-4 flex items-end gap-3 rounded-lg border border-slate-200 bg-white p-3 text-sm">
                            <ConnectorSelect connectors=list selected=current/>
                            <button type="submit" class="rounded bg-slate-900 px-3 py-1.5 text-white">"Apply filters"</button>
                        </div>
                    </form>
                    </AutoSubmit>
                }
            })
            }}
        </Transition>
        <div id="retry-outcome" role="status" class="mb-3 empty:hidden"></div>
        <LiveRegion id="dead-letters">
        <Transition fallback=|| view! { <Loading what="dead letters"/> }>
            {move || Suspend::new(async move {
                let names: HashMap<ConnectorId, String> = connectors
                    .await
                    .map(|l| l.connectors.into_iter().map(|c| (c.id, c.name)).collect())
                    .unwrap_or_default();
                match page.await {
                    Ok(list) if list.operations.is_empty() && list.offset.unwrap_or(0) == 0 => view! {
                        <p class="rounded border border-dashed border-slate-300 bg-white p-6 text-center text-slate-600">
                            "The dead-letter queue is empty: nothing needs attention."
                        </p>
                    }.into_any(),
                    Ok(list) => {
                        let offset = list.offset.unwrap_or(0);
                        let limit = list.limit.unwrap_or(DEFAULT_LIMIT);
                        let shown = list.operations.len();
                        view! {
                            <DeadLetterTable operations=list.operations names/>
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

#[component]
fn DeadLetterTable(
    operations: Vec<ProvisioningOperation>,
    names: HashMap<ConnectorId, String>,
) -> impl IntoView {
    view! {
        <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white">
            <table class="w-full text-left text-sm">
                <caption class="sr-only">"Dead-letter operations"</caption>
                <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                    <tr>
                        <th scope="col" class="px-3 py-2">"Operation"</th>
                        <th scope="col" class="px-3 py-2">"Connector"</th>
                        <th scope="col" class="px-3 py-2">"User"</th>
                        <th scope="col" class="px-3 py-2">"Error"</th>
                        <th scope="col" class="px-3 py-2 text-right">"Retries"</th>
                        <th scope="col" class="px-3 py-2">"Failed at"</th>
                        <th scope="col" class="px-3 py-2">"Actions"</th>
                    </tr>
                </thead>
                <tbody>
                    {operations.into_iter().map(|op| {
                        let connector = connector_label(&op, &names);
                        let href = format!("/connectors/operations/{}", op.id);
                        let subject = format!("{} operation", op.operation_type.label().to_lowercase());
                        view! {
                            <tr class="border-t border-slate-100 align-top">
                                <td class="px-3 py-2"><A href=href attr:class="underline">{op.operation_type.label()}</A></td>
                                <td class="px-3 py-2">{connector}</td>
                                <td class="px-3 py-2 whitespace-nowrap"><ShortId id=op.user_id.to_string()/></td>
                                <td class="px-3 py-2 text-rose-900">{op.error_message.clone().unwrap_or_else(|| "no error recorded".to_owned())}</td>
                                <td class="px-3 py-2 text-right">{format!("{}/{}", op.retry_count, op.max_retries)}</td>
                                <td class="px-3 py-2 whitespace-nowrap"><Timestamp at=op.updated_at/></td>
                                <td class="min-w-44 px-3 py-2">
                                    <div class="flex flex-wrap gap-2">
                                        <RetryCommand id=op.id status=op.status answer="retry-outcome" retry_failed=false/>
                                        <OperationActionButtons id=op.id status=op.status subject/>
                                    </div>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
