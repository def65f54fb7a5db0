//! Server functions of provisioning conflicts: the list, one conflict, and its resolution (a form: URL-encoded
//! fields in, a sentence for the toast out). Each checks the session is an administrator's; the rules of a
//! resolution (outcomes, the notes' limit) are the shared ones in `enums` and `dto`, checked before the call.

use dto::{
    enums::{ConflictOutcome, OperationStatus},
    ConflictId, ConflictList, ConflictQuery, OperationId, ProvisioningConflict,
    ProvisioningOperation,
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

/// `GET /operations/{id}` for one operation of a conflict: none when the upstream no longer has it (an aside
/// of the conflict's page, so its absence does not make the page a 404), any other failure as the error.
#[server]
pub async fn conflict_operation(
    id: OperationId,
) -> Result<Option<ProvisioningOperation>, AppError> {
    let (session, api) = ssr::require_admin().await?;
    match api.get_operation(session.caller(), id).await {
        Ok(op) => Ok(Some(op)),
        Err(client::ClientError::Api { status: 404, .. }) => Ok(None),
        Err(e) => Err(ssr::upstream(e)),
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

/// What became of a conflict's held operation after its resolution, as read back from the upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeldAfter {
    /// The conflict names no second operation.
    NoneHeld,
    /// The held operation's status, read after the resolution.
    Status(OperationStatus),
    /// The held operation could not be read.
    Unread,
}

/// What a resolution did, in a sentence: only what the upstream shows, never what the outcome should have
/// done (xavyo-idp records the outcome and leaves the held operation as it was).
pub fn resolved_sentence(outcome: ConflictOutcome, held: HeldAfter) -> String {
    let resolved = format!("Conflict resolved as {}", outcome.label().to_lowercase());
    match held {
        HeldAfter::NoneHeld => format!("{resolved}."),
        HeldAfter::Unread => {
            format!("{resolved}; what became of the held operation could not be read.")
        }
        HeldAfter::Status(OperationStatus::Cancelled) => {
            format!("{resolved}: the held operation was cancelled.")
        }
        HeldAfter::Status(OperationStatus::Pending) if outcome.releases_held() => {
            format!("{resolved}: the held operation is back in the queue.")
        }
        HeldAfter::Status(OperationStatus::Pending) => format!(
            "{resolved}, but the upstream left the held operation pending: it was not cancelled."
        ),
        // Released and already taken by a worker between the resolution and the read.
        HeldAfter::Status(status) => {
            let fate = match status {
                OperationStatus::InProgress => "is running",
                OperationStatus::Completed => "has run and completed",
                OperationStatus::Failed => "has run and failed; it will be retried",
                OperationStatus::AwaitingSystem => "waits for its system to come back",
                OperationStatus::DeadLetter => "has run and failed for good (dead letter)",
                OperationStatus::Resolved => "is resolved",
                OperationStatus::Pending => "is back in the queue",
                OperationStatus::Cancelled => "was cancelled",
            };
            format!("{resolved}: the held operation {fate}.")
        }
    }
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
    let resolved = api
        .resolve_conflict(session.caller(), id, &body)
        .await
        .map_err(ssr::upstream)?;
    // Read back what the resolution did to the held operation rather than state what it should have done.
    let held = match resolved.operation_id_b {
        None => HeldAfter::NoneHeld,
        Some(op) => match api.get_operation(session.caller(), op).await {
            Ok(op) => HeldAfter::Status(op.status),
            Err(e) => {
                tracing::info!(error = %e, "held operation unread after a conflict resolution");
                HeldAfter::Unread
            }
        },
    };
    Ok(resolved_sentence(outcome, held))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sentence_says_what_became_of_the_held_operation_not_what_should_have() {
        use ConflictOutcome::*;
        use OperationStatus::*;
        let cases = [
            (Rejected, HeldAfter::Status(Cancelled), "Conflict resolved as rejected: the held operation was cancelled."),
            // xavyo-idp records the outcome and leaves the operation pending: never "was cancelled".
            (Rejected, HeldAfter::Status(Pending), "Conflict resolved as rejected, but the upstream left the held operation pending: it was not cancelled."),
            (Applied, HeldAfter::Status(Pending), "Conflict resolved as applied: the held operation is back in the queue."),
            (Merged, HeldAfter::Status(Completed), "Conflict resolved as merged: the held operation has run and completed."),
            (Applied, HeldAfter::Status(Failed), "Conflict resolved as applied: the held operation has run and failed; it will be retried."),
            (Superseded, HeldAfter::NoneHeld, "Conflict resolved as superseded."),
            (Applied, HeldAfter::Unread, "Conflict resolved as applied; what became of the held operation could not be read."),
        ];
        for (outcome, held, want) in cases {
            assert_eq!(
                resolved_sentence(outcome, held),
                want,
                "{outcome:?} {held:?}"
            );
        }
    }
}
