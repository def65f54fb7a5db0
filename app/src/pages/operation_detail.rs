//! `/connectors/operations/{id}`: one operation with its timeline, error, payload, attempts and logs.

use dto::{
    enums::OperationStatus, AttemptList, ExecutionAttempt, LogList, OperationId,
    ProvisioningConflict, ProvisioningOperation,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_params_map};

use crate::api::{
    get_operation, list_connectors, operation_attempts, operation_logs, upstream_features,
};
use crate::components::{
    common::{ErrorPanel, Field, Loading, Timestamp},
    json_tree::JsonTree,
    live::{LiveRegion, PollEvery},
    operation_actions::{OperationActionButtons, RetryCommand},
    operations::OperationStatusBadge,
};
use crate::error::AppError;

/// How often the page follows an operation that is still moving.
const MOVING_POLL_MS: u32 = 2000;

/// The operation detail page: server rendered, in a live region that follows the operation while it moves
/// and re-renders after an action.
#[component]
pub fn OperationDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| {
        let raw = params.read().get("id").unwrap_or_default();
        raw.parse::<OperationId>().map_err(|_| {
            AppError::NotFound(format!(
                "There is no operation `{raw}`: operation ids are UUIDs."
            ))
        })
    });
    let operation = Resource::new(
        move || id.get(),
        |id| async move { get_operation(id?).await },
    );
    let attempts = Resource::new(
        move || id.get(),
        |id| async move { operation_attempts(id?).await },
    );
    let logs = Resource::new(
        move || id.get(),
        |id| async move { operation_logs(id?).await },
    );
    let connectors = Resource::new(|| (), |_| list_connectors());
    let features = Resource::new(|| (), |_| upstream_features());
    // A pending conflict that holds this operation (it waits for an admin's decision); none when the
    // upstream cannot say.
    let holding = Resource::new(
        move || id.get(),
        |id| async move { crate::api::held_operations(Some(id?)).await },
    );

    view! {
        <Title text="Operation"/>
        <nav aria-label="Breadcrumb" class="mb-2 text-sm">
            <A href="/connectors/operations" attr:class="underline">"Operations"</A>
            " / "
            <span aria-current="page">"Operation"</span>
        </nav>
        <Transition fallback=|| view! { <Loading what="the operation"/> }>
            {move || Suspend::new(async move {
                let op = match operation.await {
                    Ok(op) => op,
                    Err(error) => return view! { <ErrorPanel error/> }.into_any(),
                };
                // Waited for, not peeked at: a list still loading is not a deleted connector.
                let connector = match (op.connector_name.clone(), connectors.await) {
                    (Some(name), _) => ConnectorName::Named(name),
                    (None, Ok(list)) => list
                        .connectors
                        .into_iter()
                        .find(|c| c.id == op.connector_id)
                        .map_or(ConnectorName::Deleted, |c| ConnectorName::Named(c.name)),
                    (None, Err(_)) => ConnectorName::Unknown,
                };
                let retry_failed = features
                    .await
                    .is_ok_and(|f| f.supports(dto::enums::UpstreamFeature::RetryFailed));
                let attempts = attempts.await;
                let logs = logs.await;
                let held = holding
                    .await
                    .ok()
                    .and_then(|held| held.into_iter().find(|(held, _)| *held == op.id))
                    .map(|(_, conflict)| conflict)
                    .filter(|_| op.status == OperationStatus::Pending);
                view! {
                    // Outside the live region: what came of a retry stays while the detail re-renders.
                    <div id="retry-outcome" role="status" class="mb-3 empty:hidden"></div>
                    <LiveRegion id="operation">
                        {(!op.status.is_settled()).then(|| view! { <PollEvery ms=MOVING_POLL_MS/> })}
                        <Detail op connector attempts logs held retry_failed/>
                    </LiveRegion>
                }
                .into_any()
            })}
        </Transition>
    }
}

/// What the page knows of the operation's connector.
enum ConnectorName {
    /// Its name.
    Named(String),
    /// The connectors list answered, and it is not in it.
    Deleted,
    /// The connectors list could not be read: only its id is known.
    Unknown,
}

#[component]
fn Detail(
    op: ProvisioningOperation,
    connector: ConnectorName,
    retry_failed: bool,
    attempts: Result<AttemptList, AppError>,
    logs: Result<LogList, AppError>,
    held: Option<ProvisioningConflict>,
) -> impl IntoView {
    let title = format!(
        "{} {} operation",
        op.operation_type.label(),
        op.object_class
    );
    let subject = format!("{} operation", op.operation_type.label().to_lowercase());
    let payload = op.payload.clone();
    let connector = match connector {
        ConnectorName::Named(name) => name,
        ConnectorName::Deleted => "deleted connector".to_owned(),
        ConnectorName::Unknown => {
            format!("connector {} (its name could not be read)", op.connector_id)
        }
    };
    let user = op.user_id.to_string();
    let target = op
        .target_uid
        .clone()
        .unwrap_or_else(|| "not created yet".to_owned());
    let priority = op.priority;
    let retries = format!("{} of {}", op.retry_count, op.max_retries);
    let (next_retry, created, updated, completed) = (
        op.next_retry_at,
        op.created_at,
        op.updated_at,
        op.completed_at,
    );
    let resolution = op.resolved_at.map(|at| {
        let notes = op
            .resolution_notes
            .clone()
            .unwrap_or_else(|| "none".to_owned());
        view! {
            <Field label="Resolved"><Timestamp at=at/></Field>
            <Field label="Resolution notes">{notes}</Field>
        }
    });
    let attempt_rows = attempts
        .as_ref()
        .map(|a| a.attempts.clone())
        .unwrap_or_default();
    view! {
        <header class="mb-4 flex flex-wrap items-center justify-between gap-3">
            <div>
                <h1 class="text-2xl font-semibold">{title}</h1>
                <p class="text-sm text-slate-600">
                    <code>{op.id.to_string()}</code>
                </p>
            </div>
            <div class="flex items-center gap-3">
                <span aria-label="Status"><OperationStatusBadge status=op.status/></span>
                <RetryCommand id=op.id status=op.status answer="retry-outcome" retry_failed/>
                <OperationActionButtons id=op.id status=op.status subject/>
            </div>
        </header>
        {held.map(|c| view! {
            <div role="status" class="mb-4 rounded border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900">
                <p class="font-semibold">"Held by a conflict"</p>
                <p>
                    {format!("It changes the same attributes ({}) of the same account as ", c.affected_attributes.join(", "))}
                    <a class="underline" href=format!("/connectors/operations/{}", c.operation_id_a)>"an earlier operation"</a>
                    ". It waits, and is not sent, until an administrator resolves the conflict. "
                    <a class="font-medium underline" href=format!("/connectors/conflicts/{}", c.id)>"Resolve the conflict"</a>
                </p>
            </div>
        })}
        {op.error_message.clone().map(|e| view! {
            <div role="alert" class="mb-4 rounded border border-rose-200 bg-rose-50 p-3 text-sm text-rose-900">
                <p class="font-semibold">"Last error"</p>
                <p>{e}</p>
            </div>
        })}
        <div class="grid gap-4 lg:grid-cols-3">
            <section class="rounded-lg border border-slate-200 bg-white p-4 lg:col-span-1" aria-labelledby="facts">
                <h2 id="facts" class="mb-2 font-semibold">"Details"</h2>
                <dl>
                    <Field label="Connector">{connector}</Field>
                    <Field label="User"><code class="text-xs">{user}</code></Field>
                    <Field label="Target account">{target}</Field>
                    <Field label="Priority">{priority}</Field>
                    <Field label="Retries">{retries}</Field>
                    <Field label="Next retry"><Timestamp at=next_retry/></Field>
                    <Field label="Created"><Timestamp at=created/></Field>
                    <Field label="Updated"><Timestamp at=updated/></Field>
                    <Field label="Completed"><Timestamp at=completed/></Field>
                    {resolution}
                </dl>
            </section>
            <section class="rounded-lg border border-slate-200 bg-white p-4 lg:col-span-2" aria-labelledby="timeline">
                <h2 id="timeline" class="mb-2 font-semibold">"Timeline"</h2>
                <Timeline op=op.clone() attempts=attempt_rows.clone()/>
            </section>
        </div>
        <section class="mt-4 rounded-lg border border-slate-200 bg-white p-4" aria-labelledby="payload">
            <h2 id="payload" class="mb-2 font-semibold">"Payload"</h2>
            {match payload {
                Some(value) => view! { <JsonTree value/> }.into_any(),
                None => view! { <p class="text-sm text-slate-500">"The provisioning service did not provide the payload."</p> }.into_any(),
            }}
        </section>
        <section class="mt-4 rounded-lg border border-slate-200 bg-white p-4" aria-labelledby="attempts">
            <h2 id="attempts" class="mb-2 font-semibold">"Attempts"</h2>
            {match attempts {
                Ok(_) => view! { <AttemptsTable attempts=attempt_rows/> }.into_any(),
                Err(error) => view! { <ErrorPanel error/> }.into_any(),
            }}
        </section>
        <section class="mt-4 rounded-lg border border-slate-200 bg-white p-4" aria-labelledby="logs">
            <h2 id="logs" class="mb-2 font-semibold">"Log"</h2>
            {match logs {
                Ok(list) if list.logs.is_empty() => view! { <p class="text-sm text-slate-500">"No log entries."</p> }.into_any(),
                Ok(list) => view! {
                    <ol class="space-y-1 font-mono text-xs">
                        {list.logs.into_iter().map(|l| {
                            let colour = match l.level.as_str() { "error" => "text-rose-800", "warn" => "text-amber-800", _ => "text-slate-700" };
                            view! {
                                <li class=colour>
                                    <Timestamp at=l.timestamp/>" "<span class="uppercase">{l.level}</span>" "{l.message}
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                }.into_any(),
                Err(error) => view! { <ErrorPanel error/> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn Timeline(op: ProvisioningOperation, attempts: Vec<ExecutionAttempt>) -> impl IntoView {
    let steps = attempts
        .into_iter()
        .map(|a| {
            let (label, class) = if a.success {
                ("succeeded", "text-emerald-800")
            } else {
                ("failed", "text-rose-800")
            };
            let detail = a
                .error_message
                .clone()
                .map(|e| format!(": {e}"))
                .unwrap_or_default();
            view! {
                <li class="ml-4">
                    <span class=class>{format!("Attempt {} {label}", a.attempt_number)}</span>
                    {detail}
                    " · "<Timestamp at=a.started_at/>
                    {a.duration_ms.map(|ms| format!(" · {ms} ms"))}
                </li>
            }
        })
        .collect_view();
    view! {
        <ol class="list-disc space-y-1 text-sm" aria-label="Status timeline">
            <li class="ml-4">"Created · "<Timestamp at=op.created_at/></li>
            {steps}
            <li class="ml-4">
                "Now: "<strong>{op.status.label()}</strong>" · "<Timestamp at=op.updated_at/>
                {op.next_retry_at.map(|at| view! { " · next retry "<Timestamp at=at/> })}
            </li>
        </ol>
    }
}

#[component]
fn AttemptsTable(attempts: Vec<ExecutionAttempt>) -> impl IntoView {
    if attempts.is_empty() {
        return view! { <p class="text-sm text-slate-500">"Not attempted yet."</p> }.into_any();
    }
    view! {
        <table class="w-full text-left text-sm">
            <caption class="sr-only">"Execution attempts"</caption>
            <thead class="text-xs uppercase text-slate-500">
                <tr>
                    <th scope="col" class="py-1 pr-3">"#"</th>
                    <th scope="col" class="pr-3">"Started"</th>
                    <th scope="col" class="pr-3">"Result"</th>
                    <th scope="col" class="pr-3">"Error"</th>
                    <th scope="col" class="text-right">"Duration"</th>
                </tr>
            </thead>
            <tbody>
                {attempts.into_iter().map(|a| view! {
                    <tr class="border-t border-slate-100">
                        <td class="py-1 pr-3">{a.attempt_number}</td>
                        <td class="pr-3 whitespace-nowrap"><Timestamp at=a.started_at/></td>
                        <td class="pr-3">{if a.success { "Succeeded" } else { "Failed" }}</td>
                        <td class="pr-3">{match (a.error_code, a.error_message) {
                            (Some(code), Some(msg)) => format!("{code}: {msg}"),
                            (None, Some(msg)) => msg,
                            (Some(code), None) => code,
                            (None, None) => String::new(),
                        }}</td>
                        <td class="text-right">{a.duration_ms.map(|ms| format!("{ms} ms")).unwrap_or_else(|| "—".to_owned())}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
