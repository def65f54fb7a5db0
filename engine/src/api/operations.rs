//! The operations API: list, statistics and the dead-letter queue; enqueue; one operation with its logs and
//! attempts; and the admin actions retry, cancel and resolve.

use axum::{extract::State, http::StatusCode, Json};
use chrono::Utc;
use dto::{
    AttemptList, OperationId, OperationList, OperationLog, OperationQuery, ProvisioningOperation,
    QueueStatistics,
};
use enums::OperationStatus;
use serde::Serialize;
use uuid::Uuid;

use super::{
    body::JsonObject,
    params::{PathId, QueryParams},
};
use crate::{
    auth::AdminContext,
    queue::OperationRequest,
    store::{self, EnqueueError, Enqueued},
    ApiError, AppState,
};

/// Longest object class accepted.
const MAX_OBJECT_CLASS: usize = 64;
/// Longest target uid accepted.
const MAX_TARGET_UID: usize = 256;
/// Longest idempotency key accepted.
const MAX_IDEMPOTENCY_KEY: usize = 255;
/// Largest payload accepted, serialised.
const MAX_PAYLOAD_BYTES: usize = 64 * 1024;
/// Priorities accepted (higher runs first).
const PRIORITIES: std::ops::RangeInclusive<i64> = -1000..=1000;
/// The tenant's operations matching the filters, in the asked order (newest first by default), with
/// connector names.
pub async fn list(
    admin: AdminContext,
    State(state): State<AppState>,
    params: QueryParams,
) -> Result<Json<OperationList>, ApiError> {
    let query = OperationQuery {
        connector_id: params.id("connector_id")?,
        user_id: params.id("user_id")?,
        status: params.member("status")?,
        operation_type: params.member("operation_type")?,
        from_date: params.time("from_date")?,
        to_date: params.time("to_date")?,
        limit: params.limit()?,
        offset: params.offset()?,
        sort: params.member("sort")?,
    };
    page_of(&state, &admin, &query).await
}

/// The tenant's dead letters (optionally of one connector), newest first.
pub async fn dead_letters(
    admin: AdminContext,
    State(state): State<AppState>,
    params: QueryParams,
) -> Result<Json<OperationList>, ApiError> {
    let query = OperationQuery {
        connector_id: params.id("connector_id")?,
        status: Some(OperationStatus::DeadLetter),
        limit: params.limit()?,
        offset: params.offset()?,
        ..OperationQuery::default()
    };
    page_of(&state, &admin, &query).await
}

async fn page_of(
    state: &AppState,
    admin: &AdminContext,
    query: &OperationQuery,
) -> Result<Json<OperationList>, ApiError> {
    let page = query.validate()?;
    let (operations, total) =
        store::list_operations(state.pool(), admin.tenant_id, query, page).await?;
    Ok(Json(OperationList {
        operations,
        total: Some(total),
        limit: Some(page.limit),
        offset: Some(page.offset),
    }))
}

/// Counts per status, mean processing time and success rate, for the tenant or one connector.
pub async fn stats(
    admin: AdminContext,
    State(state): State<AppState>,
    params: QueryParams,
) -> Result<Json<QueueStatistics>, ApiError> {
    let connector = params.id("connector_id")?;
    Ok(Json(
        store::queue_statistics(state.pool(), admin.tenant_id, connector).await?,
    ))
}

/// Enqueues an operation: 201 with it when new, 200 with the existing one when its idempotency key (given, or
/// derived from the content) is taken; 404 when the connector is not the tenant's.
pub async fn create(
    admin: AdminContext,
    State(state): State<AppState>,
    body: JsonObject,
) -> Result<(StatusCode, Json<ProvisioningOperation>), ApiError> {
    let object_class = body
        .text("object_class", MAX_OBJECT_CLASS)?
        .unwrap_or_else(|| "user".to_owned());
    if !object_class
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(ApiError::validation(
            "object_class",
            "object_class may hold letters, digits, `_`, `-` and `.` only",
        ));
    }
    let request = OperationRequest {
        tenant_id: admin.tenant_id,
        connector_id: body.required_id("connector_id")?,
        user_id: body.required_id("user_id")?,
        operation_type: body.required_member("operation_type")?,
        object_class,
        target_uid: body.text("target_uid", MAX_TARGET_UID)?,
        payload: serde_json::Value::Object(
            body.object("payload", MAX_PAYLOAD_BYTES)?
                .unwrap_or_default(),
        ),
        priority: body
            .integer("priority", PRIORITIES)?
            .map(|p| i32::try_from(p).unwrap_or(0)),
        max_retries: None,
        idempotency_key: body.text("idempotency_key", MAX_IDEMPOTENCY_KEY)?,
    };
    let queue = state.queue();
    let operation = queue.new_operation(OperationId(Uuid::new_v4()), request, Utc::now());
    let done = queue.enqueue(&[operation]).await.map_err(|err| match err {
        EnqueueError::UnknownConnector(id) => {
            ApiError::NotFound(format!("connector {id} not found"))
        }
        EnqueueError::Database(err) => err.into(),
    })?;
    let (status, id) = match done.first() {
        Some(Enqueued::Created(id)) => (StatusCode::CREATED, *id),
        Some(Enqueued::Existing(id)) => (StatusCode::OK, *id),
        None => return Err(ApiError::Internal("enqueue answered nothing".into())),
    };
    let operation = queue
        .operation(admin.tenant_id, id)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("enqueued operation {id} not found")))?;
    Ok((status, Json(operation)))
}

fn not_found(id: OperationId) -> ApiError {
    ApiError::NotFound(format!("operation {id} not found"))
}

/// One operation of the tenant, with its connector's name (null once the connector is gone).
pub async fn get(
    admin: AdminContext,
    State(state): State<AppState>,
    PathId(id): PathId<OperationId>,
) -> Result<Json<ProvisioningOperation>, ApiError> {
    state
        .queue()
        .operation(admin.tenant_id, id)
        .await?
        .map(Json)
        .ok_or_else(|| not_found(id))
}

/// `GET /operations/{id}/logs`: the operation's log, oldest first.
#[derive(Debug, Serialize)]
pub struct LogsBody {
    /// Oldest first.
    pub logs: Vec<OperationLog>,
    /// The operation they belong to.
    pub operation_id: OperationId,
}

/// The operation's log, oldest first.
pub async fn logs(
    admin: AdminContext,
    State(state): State<AppState>,
    PathId(id): PathId<OperationId>,
) -> Result<Json<LogsBody>, ApiError> {
    let logs = store::operation_logs(state.pool(), admin.tenant_id, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    Ok(Json(LogsBody {
        logs,
        operation_id: id,
    }))
}

/// The operation's execution attempts, oldest first.
pub async fn attempts(
    admin: AdminContext,
    State(state): State<AppState>,
    PathId(id): PathId<OperationId>,
) -> Result<Json<AttemptList>, ApiError> {
    let attempts = store::operation_attempts(state.pool(), admin.tenant_id, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    Ok(Json(AttemptList {
        attempts,
        operation_id: id,
    }))
}

fn actor(admin: &AdminContext) -> String {
    if admin.claims.email.is_empty() {
        format!("user {}", admin.user_id)
    } else {
        admin.claims.email.clone()
    }
}

/// Sends a failed or dead-letter operation back to the queue; 409 from any other status.
pub async fn retry(
    admin: AdminContext,
    State(state): State<AppState>,
    PathId(id): PathId<OperationId>,
) -> Result<Json<ProvisioningOperation>, ApiError> {
    let op = state
        .queue()
        .retry(admin.tenant_id, id, &actor(&admin))
        .await?;
    Ok(Json(op))
}

/// Cancels a pending operation; 409 from any other status.
pub async fn cancel(
    admin: AdminContext,
    State(state): State<AppState>,
    PathId(id): PathId<OperationId>,
) -> Result<Json<ProvisioningOperation>, ApiError> {
    let op = state
        .queue()
        .cancel(admin.tenant_id, id, &actor(&admin))
        .await?;
    Ok(Json(op))
}

/// Resolves a dead letter by hand, with optional notes; 409 from any other status.
pub async fn resolve(
    admin: AdminContext,
    State(state): State<AppState>,
    PathId(id): PathId<OperationId>,
    body: JsonObject,
) -> Result<Json<ProvisioningOperation>, ApiError> {
    let notes = body.string("resolution_notes")?;
    let notes = dto::ResolveOperation::from_notes(notes.as_deref().unwrap_or_default())
        .validate()?
        .resolution_notes;
    let op = state
        .queue()
        .resolve(admin.tenant_id, id, admin.user_id, &actor(&admin), notes)
        .await?;
    Ok(Json(op))
}
