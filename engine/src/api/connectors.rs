//! `GET /connectors`, `GET /connectors/{id}`, and the fault settings `GET`/`PUT /connectors/{id}/settings`.

use axum::{extract::State, Json};
use dto::{Connector, ConnectorId, ConnectorList};
use enums::ConnectorStatus;
use serde::Serialize;

use super::{
    body::JsonObject,
    params::{PathId, QueryParams},
};
use crate::{auth::AdminContext, connector::ConnectorSettings, store, ApiError, AppState};

/// A page of the tenant's connectors, by name.
pub async fn list(
    admin: AdminContext,
    State(state): State<AppState>,
    params: QueryParams,
) -> Result<Json<ConnectorList>, ApiError> {
    let page = params.page()?;
    let (mut connectors, total) =
        store::list_connectors(state.pool(), admin.tenant_id, page).await?;
    for c in &mut connectors {
        c.capabilities = state.queue().connectors().capabilities(&c.connector_type);
    }
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
    let mut connector = store::get_connector(state.pool(), admin.tenant_id, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    connector.capabilities = state
        .queue()
        .connectors()
        .capabilities(&connector.connector_type);
    Ok(Json(connector))
}

/// The connector, if it takes injected faults; 404 otherwise (no settings to read or write).
async fn with_faults(
    state: &AppState,
    admin: &AdminContext,
    id: ConnectorId,
) -> Result<Connector, ApiError> {
    let connector = store::get_connector(state.pool(), admin.tenant_id, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let capabilities = state
        .queue()
        .connectors()
        .capabilities(&connector.connector_type);
    if !capabilities.iter().any(|c| c == Connector::FAULT_INJECTION) {
        return Err(ApiError::NotFound(format!(
            "connector {id} takes no injected faults: fault injection is offered only by an engine in demo \
             mode or started with ENGINE_FAULT_INJECTION=1"
        )));
    }
    Ok(connector)
}

/// A connector's injected faults, with the status they leave it in.
#[derive(Debug, Serialize)]
pub struct SettingsBody {
    /// The connector.
    pub connector_id: ConnectorId,
    /// Its status (`offline: true` makes an active connector `offline`, and back).
    pub status: ConnectorStatus,
    /// Every call fails offline.
    pub offline: bool,
    /// Share of calls (0.0–1.0) failing with a transient error.
    pub error_rate: f64,
    /// Milliseconds every call waits.
    pub latency_ms: u64,
}

fn settings_body(id: ConnectorId, status: ConnectorStatus, s: ConnectorSettings) -> SettingsBody {
    SettingsBody {
        connector_id: id,
        status,
        offline: s.offline,
        error_rate: s.error_rate,
        latency_ms: s.latency_ms,
    }
}

/// The connector's fault settings: `offline`, `error_rate`, `latency_ms`.
pub async fn settings(
    admin: AdminContext,
    State(state): State<AppState>,
    PathId(id): PathId<ConnectorId>,
) -> Result<Json<SettingsBody>, ApiError> {
    let connector = with_faults(&state, &admin, id).await?;
    let settings = state
        .queue()
        .connector_settings(admin.tenant_id, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    Ok(Json(settings_body(id, connector.status, settings)))
}

/// Replaces the connector's fault settings (all three fields, checked); bringing it back online returns the
/// operations awaiting it to the queue.
pub async fn put_settings(
    admin: AdminContext,
    State(state): State<AppState>,
    PathId(id): PathId<ConnectorId>,
    body: JsonObject,
) -> Result<Json<SettingsBody>, ApiError> {
    with_faults(&state, &admin, id).await?;
    let max_latency = i64::try_from(ConnectorSettings::MAX_LATENCY_MS).unwrap_or(i64::MAX);
    let settings = ConnectorSettings {
        offline: body.required_bool("offline")?,
        error_rate: body.required_number("error_rate", 0.0, 1.0)?,
        latency_ms: u64::try_from(body.required_integer("latency_ms", 0..=max_latency)?)
            .unwrap_or(0),
    };
    let status = state
        .queue()
        .set_connector_settings(admin.tenant_id, id, settings)
        .await?
        .ok_or_else(|| not_found(id))?;
    Ok(Json(settings_body(id, status, settings)))
}

fn not_found(id: ConnectorId) -> ApiError {
    ApiError::NotFound(format!("connector {id} not found"))
}
