//! `/connectors/conflicts/{id}`: one conflict, both its operations side by side, and its resolution.

use std::collections::HashMap;

use dto::{ConflictId, ConnectorId, ProvisioningConflict, ProvisioningOperation};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::{get_conflict, get_operation, list_connectors};
use crate::components::{
    common::{ErrorPanel, Field, Loading, Timestamp},
    conflicts::{
        conflict_type_text, AffectedAttributes, ConflictOperationCard, ConflictStatusBadge,
        ResolveConflictDialog,
    },
    live::LiveRegion,
};
use crate::error::AppError;

/// The connectors' names by id.
type Names = HashMap<ConnectorId, String>;

/// The conflict and its two operations (each one's failure shown in its place).
type Loaded = (
    ProvisioningConflict,
    Result<ProvisioningOperation, AppError>,
    Option<Result<ProvisioningOperation, AppError>>,
);

async fn load(id: ConflictId) -> Result<Loaded, AppError> {
    let conflict = get_conflict(id).await?;
    let earlier = get_operation(conflict.operation_id_a).await;
    let later = match conflict.operation_id_b {
        Some(b) => Some(get_operation(b).await),
        None => None,
    };
    Ok((conflict, earlier, later))
}

/// The conflict page: server rendered, in a live region that re-renders after the resolution.
#[component]
pub fn ConflictDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| {
        let raw = params.read().get("id").unwrap_or_default();
        raw.parse::<ConflictId>().map_err(|_| {
            AppError::NotFound(format!(
                "There is no conflict `{raw}`: conflict ids are UUIDs."
            ))
        })
    });
    let loaded = Resource::new(move || id.get(), |id| async move { load(id?).await });
    let connectors = Resource::new(|| (), |_| list_connectors());

    view! {
        <Title text="Conflict"/>
        <nav aria-label="Breadcrumb" class="mb-2 text-sm">
            <a href="/connectors/conflicts" class="underline">"Conflicts"</a>
            " / "
            <span aria-current="page">"Conflict"</span>
        </nav>
        <LiveRegion id="conflict">
        <Transition fallback=|| view! { <Loading what="the conflict"/> }>
            {move || Suspend::new(async move {
                match loaded.await {
                    Ok((conflict, earlier, later)) => {
                        let names: Names = connectors
                            .await
                            .map(|l| l.connectors.into_iter().map(|c| (c.id, c.name)).collect())
                            .unwrap_or_default();
                        view! { <ConflictView conflict earlier later names/> }.into_any()
                    }
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                }
            })}
        </Transition>
        </LiveRegion>
    }
}

fn card_parts(
    operation: Option<Result<ProvisioningOperation, AppError>>,
) -> (Option<ProvisioningOperation>, String) {
    match operation {
        Some(Ok(op)) => (Some(op), String::new()),
        Some(Err(e)) => (None, format!("The operation could not be read: {e}")),
        None => (
            None,
            "The upstream does not say which operation this is.".to_owned(),
        ),
    }
}

#[component]
fn ConflictView(
    conflict: ProvisioningConflict,
    earlier: Result<ProvisioningOperation, AppError>,
    later: Option<Result<ProvisioningOperation, AppError>>,
    names: Names,
) -> impl IntoView {
    let kind = conflict_type_text(&conflict);
    let pending = conflict.is_pending();
    let holds = conflict.operation_id_b.is_some();
    let subject = format!("{} conflict", kind.to_lowercase());
    let (earlier, earlier_problem) = card_parts(Some(earlier));
    let (later, later_problem) = card_parts(later);
    view! {
        <header class="mb-4 flex flex-wrap items-center justify-between gap-3">
            <div>
                <h1 class="text-2xl font-semibold">{format!("{kind} conflict")}</h1>
                <p class="text-sm text-slate-600"><code>{conflict.id.to_string()}</code></p>
            </div>
            <div class="flex items-center gap-3">
                <span aria-label="Conflict status"><ConflictStatusBadge pending outcome=conflict.outcome/></span>
                {pending.then(|| view! { <ResolveConflictDialog id=conflict.id subject holds/> })}
            </div>
        </header>
        <section class="mb-4 rounded-lg border border-slate-200 bg-white p-4" aria-labelledby="conflict-facts">
            <h2 id="conflict-facts" class="mb-2 font-semibold">"Details"</h2>
            <dl>
                <Field label="Type">{kind}</Field>
                <Field label="Affected attributes"><AffectedAttributes attributes=conflict.affected_attributes.clone()/></Field>
                <Field label="Detected"><Timestamp at=conflict.created_at/></Field>
                {conflict.outcome.map(|o| view! { <Field label="Outcome">{o.label()}</Field> })}
                {conflict.notes.clone().map(|n| view! { <Field label="Notes"><span class="whitespace-pre-wrap">{n}</span></Field> })}
                {(!pending).then(|| view! { <Field label="Resolved"><Timestamp at=conflict.resolved_at/></Field> })}
            </dl>
            {(pending && holds).then(|| view! {
                <p class="mt-2 text-sm text-slate-700">"The held operation waits: no worker runs it until this conflict is resolved."</p>
            })}
        </section>
        // A conflict that names one operation (xavyo-idp records such) shows that one, and no held operation.
        {if holds {
            view! {
                <div class="grid gap-4 lg:grid-cols-2">
                    <ConflictOperationCard title="Earlier operation" operation=earlier problem=earlier_problem.clone() names=names.clone()/>
                    <ConflictOperationCard title="Held operation" operation=later problem=later_problem names=names.clone()/>
                </div>
            }.into_any()
        } else {
            view! {
                <div class="grid gap-4 lg:grid-cols-2">
                    <ConflictOperationCard title="Operation" operation=earlier problem=earlier_problem.clone() names=names.clone()/>
                </div>
            }.into_any()
        }}
    }
}
