//! Operation badges, statistics cards and the queue table.

use std::collections::HashMap;

use dto::{
    enums::OperationStatus, ConflictId, ConnectorId, OperationId, ProvisioningOperation,
    QueueStatistics,
};
use leptos::prelude::*;

use crate::components::common::{ShortId, Timestamp};

/// A coloured status label; the text, not the colour, carries the meaning.
#[component]
pub fn OperationStatusBadge(status: OperationStatus) -> impl IntoView {
    let colour = match status {
        OperationStatus::Pending => "bg-slate-100 text-slate-800",
        OperationStatus::InProgress => "bg-sky-100 text-sky-900",
        OperationStatus::Completed => "bg-emerald-100 text-emerald-900",
        OperationStatus::Failed => "bg-rose-100 text-rose-900",
        OperationStatus::DeadLetter => "bg-rose-200 text-rose-950",
        OperationStatus::AwaitingSystem => "bg-amber-100 text-amber-900",
        OperationStatus::Resolved => "bg-violet-100 text-violet-900",
        OperationStatus::Cancelled => "bg-slate-200 text-slate-700",
    };
    view! {
        <span class=format!("inline-block rounded px-2 py-0.5 text-xs font-medium {colour}") data-status=status.as_str()>
            {status.label()}
        </span>
    }
}

/// The queue statistics cards. Average time shows "N/A" when nothing has completed.
#[component]
pub fn QueueStatsCards(stats: QueueStatistics) -> impl IntoView {
    let avg = stats
        .avg_processing_time_secs
        .map(|s| {
            if s < 10.0 {
                format!("{s:.2} s")
            } else {
                format!("{s:.0} s")
            }
        })
        .unwrap_or_else(|| "N/A".to_owned());
    let cards = [
        ("Pending", stats.pending.to_string()),
        ("In progress", stats.in_progress.to_string()),
        ("Completed", stats.completed.to_string()),
        ("Failed", stats.failed.to_string()),
        ("Dead letter", stats.dead_letter.to_string()),
        ("Awaiting system", stats.awaiting_system.to_string()),
        ("Average time", avg),
    ];
    view! {
        <ul class="grid grid-cols-2 gap-3 sm:grid-cols-4 xl:grid-cols-7" aria-label="Queue statistics">
            {cards
                .into_iter()
                .map(|(label, value)| {
                    view! {
                        <li class="rounded-lg border border-slate-200 bg-white p-3">
                            <p class="text-xs text-slate-500">{label}</p>
                            <p class="text-xl font-semibold" data-stat=label>{value}</p>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// The name to show for a connector: the operation's own, else the connectors list's, else "deleted connector".
pub fn connector_label(op: &ProvisioningOperation, names: &HashMap<ConnectorId, String>) -> String {
    op.connector_name
        .clone()
        .or_else(|| names.get(&op.connector_id).cloned())
        .unwrap_or_else(|| "deleted connector".to_owned())
}

/// The operations table.
#[component]
pub fn OperationsTable(
    operations: Vec<ProvisioningOperation>,
    names: HashMap<ConnectorId, String>,
    /// Pending operations held by a conflict, with the conflict.
    #[prop(optional)]
    held: HashMap<OperationId, ConflictId>,
) -> impl IntoView {
    if operations.is_empty() {
        return view! {
            <p class="rounded border border-dashed border-slate-300 bg-white p-6 text-center text-slate-600">
                "No operations match these filters."
            </p>
        }
        .into_any();
    }
    let rows = operations
        .into_iter()
        .map(|op| {
            let connector = connector_label(&op, &names);
            let error = op.error_message.clone();
            let href = format!("/connectors/operations/{}", op.id);
            let label = format!("{} operation {}", op.operation_type.label(), op.id);
            let holding = held
                .get(&op.id)
                .filter(|_| op.status == OperationStatus::Pending)
                .map(|conflict| {
                    // Above the row's stretched link, so that it is a link of its own.
                    view! {
                        <a href=format!("/connectors/conflicts/{conflict}")
                            class="relative z-10 mt-1 block text-xs font-medium text-amber-900 underline">
                            "Held by a conflict"
                        </a>
                    }
                });
            view! {
                // The first cell's link stretches over the whole row: the row is clickable, and it is still a link.
                <tr class="relative border-t border-slate-100 align-top hover:bg-slate-50">
                    <td class="px-3 py-2">
                        <a href=href aria-label=label class="font-medium underline-offset-2 after:absolute after:inset-0 hover:underline focus:outline-2">
                            {op.operation_type.label()}
                        </a>
                    </td>
                    <td class="px-3 py-2">
                        <OperationStatusBadge status=op.status/>
                        {holding}
                        {error.map(|e| { let title = e.clone(); view! { <p class="mt-1 max-w-xs truncate text-xs text-rose-800" title=title>{e}</p> } })}
                    </td>
                    <td class="px-3 py-2">{connector}</td>
                    <td class="px-3 py-2 whitespace-nowrap"><ShortId id=op.user_id.to_string()/></td>
                    <td class="px-3 py-2 text-right">{op.priority}</td>
                    <td class="px-3 py-2 text-right">{format!("{}/{}", op.retry_count, op.max_retries)}</td>
                    <td class="px-3 py-2 whitespace-nowrap"><Timestamp at=op.created_at/></td>
                    <td class="px-3 py-2 whitespace-nowrap"><Timestamp at=op.updated_at/></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white">
            <table class="w-full text-left text-sm">
                <caption class="sr-only">"Provisioning operations"</caption>
                <thead class="bg-slate-50 text-xs uppercase text-slate-500">
                    <tr>
                        <th scope="col" class="px-3 py-2">"Type"</th>
                        <th scope="col" class="px-3 py-2">"Status"</th>
                        <th scope="col" class="px-3 py-2">"Connector"</th>
                        <th scope="col" class="px-3 py-2">"User"</th>
                        <th scope="col" class="px-3 py-2 text-right">"Priority"</th>
                        <th scope="col" class="px-3 py-2 text-right">"Retries"</th>
                        <th scope="col" class="px-3 py-2">"Created"</th>
                        <th scope="col" class="px-3 py-2">"Updated"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    fn operation(status: OperationStatus) -> ProvisioningOperation {
        serde_json::from_value(serde_json::json!({
            "id": uuid_of(1), "tenant_id": uuid_of(2), "connector_id": uuid_of(3), "user_id": uuid_of(4),
            "operation_type": "update", "object_class": "user", "status": status.as_str(),
            "payload": {}, "priority": 0, "retry_count": 0, "max_retries": 5,
            "created_at": "2026-12-01T00:00:00Z", "updated_at": "2026-12-01T00:00:00Z",
        }))
        .expect("an operation")
    }

    fn uuid_of(n: u128) -> String {
        format!("00000000-0000-4000-8000-{n:012x}")
    }

    #[test]
    fn a_pending_operation_a_conflict_holds_is_marked_with_a_link_to_it() {
        let conflict: ConflictId = uuid_of(9).parse().unwrap();
        for (status, marked) in [
            (OperationStatus::Pending, true),
            (OperationStatus::Cancelled, false),
        ] {
            let op = operation(status);
            let held = HashMap::from([(op.id, conflict)]);
            let html = Owner::new().with(|| {
                view! { <OperationsTable operations=vec![op] names=HashMap::new() held/> }.to_html()
            });
            assert_eq!(
                html.contains("Held by a conflict"),
                marked,
                "{status:?}: {html}"
            );
            assert_eq!(
                html.contains(&format!("/connectors/conflicts/{conflict}")),
                marked
            );
        }
    }
}
