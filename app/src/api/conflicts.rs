//! Server functions of provisioning conflicts: the list, one conflict, and its resolution (a form: URL-encoded
//! fields in, a sentence for the toast out). Each checks the session is an administrator's; the rules of a
//! resolution (outcomes, the notes' limit) are the shared ones in `enums` and `dto`, checked before the call.

use dto::{
    enums::ConflictOutcome, ConflictId, ConflictList, ConflictQuery, OperationId,
    ProvisioningConflict,
};
use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::ssr;

/// `GET /operations/conflicts` with the page's filters.
#[server]
pub async fn list_conflicts(query: ConflictQuery) -> Result<ConflictList, AppError> {
    let (session, api) = ssr::require_admin().await?;
    query.page().map_err(|e| ssr::fail(e.into()))?;
    api.list_conflicts(session.caller(), &query)
        .await
        .map_err(ssr::upstream)
}

/// The pending conflicts that hold operations (of `operation` only, when given), with the operation each
/// holds: what the queue and an operation's page mark. Only an aside of those pages: when the upstream cannot
/// say, the answer is none, and the page's own status is left alone.
#[server]
pub async fn held_operations(
    operation: Option<OperationId>,
) -> Result<Vec<(OperationId, ProvisioningConflict)>, AppError> {
    let (session, api) = ssr::require_admin().await?;
    let query = ConflictQuery {
        operation_id: operation,
        pending_only: Some(true),
        limit: Some(dto::MAX_LIMIT),
        ..ConflictQuery::default()
    };
    match api.list_conflicts(session.caller(), &query).await {
        Ok(list) => Ok(list
            .conflicts
            .into_iter()
            .filter(ProvisioningConflict::is_pending)
            .filter_map(|c| Some((c.operation_id_b?, c)))
            .collect()),
        Err(e) => {
            tracing::info!(error = %e, "conflicts unavailable: operations shown without their holds");
            Ok(Vec::new())
        }
    }
}

/// `GET /operations/conflicts/{id}`.
#[server]
pub async fn get_conflict(id: ConflictId) -> Result<ProvisioningConflict, AppError> {
    let (session, api) = ssr::require_admin().await?;
    api.get_conflict(session.caller(), id)
        .await
        .map_err(ssr::upstream)
}

/// What a resolution did, in a sentence.
pub fn resolved_sentence(outcome: ConflictOutcome) -> String {
    let fate = if outcome.releases_held() {
        "the held operation is back in the queue"
    } else {
        "the held operation was cancelled"
    };
    format!(
        "Conflict resolved as {}: {fate}.",
        outcome.label().to_lowercase()
    )
}

/// `POST /operations/conflicts/{id}/resolve` from the resolve dialog: an `outcome` (one of the shared enum's)
/// and optional `notes` (the shared limit). 409 from upstream when someone resolved it first.
#[server]
pub async fn resolve_provisioning_conflict(
    id: ConflictId,
    outcome: Option<String>,
    notes: Option<String>,
) -> Result<String, AppError> {
    let (session, api) = ssr::require_admin().await?;
    let outcome = outcome
        .as_deref()
        .unwrap_or_default()
        .parse::<ConflictOutcome>()
        .map_err(|_| {
            ssr::fail(AppError::invalid(
                "outcome",
                "Choose how the conflict is settled: applied, superseded, merged or rejected.",
            ))
        })?;
    let body = dto::ResolveConflict::new(outcome, notes.as_deref().unwrap_or_default())
        .validate()
        .map_err(|e| ssr::fail(e.into()))?;
    api.resolve_conflict(session.caller(), id, &body)
        .await
        .map_err(ssr::upstream)?;
    Ok(resolved_sentence(outcome))
}
