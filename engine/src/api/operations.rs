//! `GET /operations` and `GET /operations/stats`.

use axum::{extract::State, Json};
use dto::{OperationList, OperationQuery, QueueStatistics};

use super::params::QueryParams;
use crate::{auth::AdminContext, store, ApiError, AppState};

/// The tenant's operations matching the filters, newest first, with connector names.
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
    let page = query.validate()?;
    let (operations, total) =
        store::list_operations(state.pool(), admin.tenant_id, &query, page).await?;
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
