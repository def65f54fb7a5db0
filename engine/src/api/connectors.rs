//! `GET /connectors` and `GET /connectors/{id}`.

use axum::{extract::State, Json};
use dto::{Connector, ConnectorId, ConnectorList};

use super::params::{PathId, QueryParams};
use crate::{auth::AdminContext, store, ApiError, AppState};

/// A page of the tenant's connectors, by name.
pub async fn list(
    admin: AdminContext,
    State(state): State<AppState>,
    params: QueryParams,
) -> Result<Json<ConnectorList>, ApiError> {
    let page = params.page()?;
    let (connectors, total) = store::list_connectors(state.pool(), admin.tenant_id, page).await?;
    Ok(Json(ConnectorList {
        connectors,
        total: Some(total),
        limit: Some(page.limit),
        offset: Some(page.offset),
    }))
}

/// One connector of the tenant; 404 for an unknown id or another tenant's.
pub async fn get(
    admin: AdminContext,
    State(state): State<AppState>,
    PathId(id): PathId<ConnectorId>,
) -> Result<Json<Connector>, ApiError> {
    store::get_connector(state.pool(), admin.tenant_id, id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("connector {id} not found")))
}
