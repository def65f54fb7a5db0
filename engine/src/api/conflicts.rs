//! The conflicts API: the conflicts the worker detected between operations, one conflict, and its resolution
//! (which releases or cancels the operation it holds).

use axum::{extract::State, Json};
use chrono::Utc;
use dto::{ConflictId, ConflictList, ConflictQuery, ProvisioningConflict, ResolveConflict};

use super::{
    body::JsonObject,
    params::{PathId, QueryParams},
};
use crate::{
    auth::AdminContext,
    conflicts::fate,
    store::{self, ConflictResolution},
    ApiError, AppState,
};

fn not_found(id: ConflictId) -> ApiError {
    ApiError::NotFound(format!("conflict {id} not found"))
}

/// The tenant's conflicts, newest first: of one operation (either side), of one type, pending only.
pub async fn list(
    admin: AdminContext,
    State(state): State<AppState>,
    params: QueryParams,
) -> Result<Json<ConflictList>, ApiError> {
    let query = ConflictQuery {
        operation_id: params.id("operation_id")?,
        conflict_type: params.member("conflict_type")?,
        pending_only: params.boolean("pending_only")?,
        limit: params.limit()?,
        offset: params.offset()?,
    };
    let page = query.page()?;
    let (conflicts, total) =
        store::list_conflicts(state.pool(), admin.tenant_id, &query, page).await?;
    Ok(Json(ConflictList {
        conflicts,
        total: Some(total),
        pending_count: None,
        limit: Some(page.limit),
        offset: Some(page.offset),
    }))
}

/// One conflict of the tenant.
pub async fn get(
    admin: AdminContext,
    State(state): State<AppState>,
    PathId(id): PathId<ConflictId>,
) -> Result<Json<ProvisioningConflict>, ApiError> {
    store::get_conflict(state.pool(), admin.tenant_id, id)
        .await?
        .map(Json)
        .ok_or_else(|| not_found(id))
}

/// Resolves a pending conflict with `{outcome, notes?}`; applied or merged releases the held operation to the
/// queue, superseded or rejected cancels it. 409 once resolved, nothing changed.
pub async fn resolve(
    admin: AdminContext,
    State(state): State<AppState>,
    PathId(id): PathId<ConflictId>,
    body: JsonObject,
) -> Result<Json<ProvisioningConflict>, ApiError> {
    let outcome = body.required_member("outcome")?;
    let notes = body.string("notes")?;
    let resolution =
        ResolveConflict::new(outcome, notes.as_deref().unwrap_or_default()).validate()?;
    let actor = if admin.claims.email.is_empty() {
        format!("user {}", admin.user_id)
    } else {
        admin.claims.email.clone()
    };
    let done = store::resolve_conflict(
        state.pool(),
        admin.tenant_id,
        id,
        &resolution,
        admin.user_id,
        &actor,
        &fate(outcome),
        Utc::now(),
    )
    .await?;
    match done {
        ConflictResolution::Resolved { conflict, released } => {
            if released {
                state.queue().wake();
            }
            Ok(Json(*conflict))
        }
        ConflictResolution::NotFound => Err(not_found(id)),
        ConflictResolution::Refused(status) => Err(ApiError::InvalidState {
            message: format!("conflict {id} is {status} already: it cannot be resolved again"),
            current_status: status,
        }),
    }
}
