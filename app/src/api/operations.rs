//! Server functions of the operations queue, its detail views and the dead-letter queue.

use dto::{
    enums::OperationStatus, AttemptList, ConnectorFilter, ConnectorId, LogList, OperationId,
    OperationList, OperationQuery, ProvisioningOperation, QueueStatistics,
};
use leptos::{prelude::*, server_fn::codec::Json};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::ssr;

/// `GET /operations` with the page's filters.
#[server]
pub async fn list_operations(query: OperationQuery) -> Result<OperationList, AppError> {
    let (session, api) = ssr::require_admin().await?;
    query.validate().map_err(|e| ssr::fail(e.into()))?;
    api.list_operations(session.caller(), &query)
        .await
        .map_err(ssr::upstream)
}

/// `GET /operations/stats`, for one connector or all.
#[server]
pub async fn operation_stats(
    connector_id: Option<ConnectorId>,
) -> Result<QueueStatistics, AppError> {
    let (session, api) = ssr::require_admin().await?;
    let filter = ConnectorFilter {
        connector_id,
        ..Default::default()
    };
    api.operation_stats(session.caller(), &filter)
        .await
        .map_err(ssr::upstream)
}

/// `GET /operations/{id}`.
#[server]
pub async fn get_operation(id: OperationId) -> Result<ProvisioningOperation, AppError> {
    let (session, api) = ssr::require_admin().await?;
    api.get_operation(session.caller(), id)
        .await
        .map_err(ssr::upstream)
}

/// `GET /operations/{id}/attempts`.
#[server]
pub async fn operation_attempts(id: OperationId) -> Result<AttemptList, AppError> {
    let (session, api) = ssr::require_admin().await?;
    api.operation_attempts(session.caller(), id)
        .await
        .map_err(ssr::upstream)
}

/// `GET /operations/{id}/logs`.
#[server]
pub async fn operation_logs(id: OperationId) -> Result<LogList, AppError> {
    let (session, api) = ssr::require_admin().await?;
    api.operation_logs(session.caller(), id)
        .await
        .map_err(ssr::upstream)
}

/// `GET /operations/dlq`, one page, optionally for one connector.
#[server]
pub async fn dead_letters(filter: ConnectorFilter) -> Result<OperationList, AppError> {
    let (session, api) = ssr::require_admin().await?;
    if let Some(limit) = filter.limit {
        dto::PageRequest { limit, offset: 0 }
            .validate()
            .map_err(|e| ssr::fail(e.into()))?;
    }
    api.dead_letters(session.caller(), &filter)
        .await
        .map_err(ssr::upstream)
}

/// `POST /operations/{id}/retry`, a start like a run: answers what came of it as the server-rendered
/// [`StartOutcome`](crate::components::start_outcome::StartOutcome) (queued, or the start gate's refusal:
/// the operation already doing it, or what blocks the connector and what to do). Other failures are errors.
#[server]
pub async fn retry_operation(id: OperationId) -> Result<String, AppError> {
    use crate::components::start_outcome::{Outcome, StartOutcome};
    let (session, api) = ssr::require_admin().await?;
    let outcome = match api.retry_operation(session.caller(), id).await {
        Ok(op) => Outcome::accepted(
            "Operation queued for retry.",
            Some((
                format!("/connectors/operations/{}", op.id),
                "Follow it".to_owned(),
            )),
        ),
        Err(e) => match e.start_refused() {
            Some(refused) => Outcome::refused(refused, None),
            None => return Err(ssr::upstream(e)),
        },
    };
    Ok(view! { <StartOutcome outcome/> }.to_html())
}

/// `POST /operations/{id}/cancel`. Answers the operation's new status: the island that calls it needs no more (and every type
/// an island decodes is code in the WASM).
#[server(input = Json)]
pub async fn cancel_operation(id: OperationId) -> Result<OperationStatus, AppError> {
    let (session, api) = ssr::require_admin().await?;
    api.cancel_operation(session.caller(), id)
        .await
        .map(|op| op.status)
        .map_err(ssr::upstream)
}

/// `POST /operations/{id}/resolve` with the admin's notes; answers the new status.
#[server(input = Json)]
pub async fn resolve_operation(
    id: OperationId,
    notes: String,
) -> Result<OperationStatus, AppError> {
    let (session, api) = ssr::require_admin().await?;
    let body = dto::ResolveOperation::from_notes(&notes)
        .validate()
        .map_err(|e| ssr::fail(e.into()))?;
    api.resolve_operation(session.caller(), id, &body)
        .await
        .map(|op| op.status)
        .map_err(ssr::upstream)
}
