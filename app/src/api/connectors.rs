//! Server functions of the connectors page.

use dto::{ConnectorId, ConnectorList, ConnectorSettings};
use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::ssr;

/// `GET /connectors`.
#[server]
pub async fn list_connectors() -> Result<ConnectorList, AppError> {
    let (session, api) = ssr::require_admin().await?;
    api.list_connectors(session.caller())
        .await
        .map_err(ssr::upstream)
}

/// `GET /connectors/{id}/settings`.
#[server]
pub async fn get_connector_settings(id: ConnectorId) -> Result<ConnectorSettings, AppError> {
    let (session, api) = ssr::require_admin().await?;
    api.connector_settings(session.caller(), id)
        .await
        .map_err(ssr::upstream)
}

/// `PUT /connectors/{id}/settings`; the error rate comes in percent, as the form asks for it.
#[server]
pub async fn update_connector_settings(
    id: ConnectorId,
    offline: Option<String>,
    error_rate_percent: f64,
    latency_ms: u64,
) -> Result<ConnectorSettings, AppError> {
    let (session, api) = ssr::require_admin().await?;
    let body = dto::UpdateConnectorSettings {
        offline: offline.is_some(),
        error_rate: error_rate_percent / 100.0,
        latency_ms,
    }
    .validate()
    .map_err(|e| ssr::fail(e.into()))?;
    api.update_connector_settings(session.caller(), id, &body)
        .await
        .map_err(ssr::upstream)
}
