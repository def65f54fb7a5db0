//! Server functions of the connectors page.

use dto::{enums::ConnectorStatus, ConnectorId, ConnectorList, ConnectorSettings};
use leptos::{prelude::*, server_fn::codec::Json};

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

/// `PUT /connectors/{id}/settings`; the error rate comes in whole percent, as the form asks for it.
/// Answers the connector's status once the settings apply.
#[server(input = Json)]
pub async fn update_connector_settings(
    id: ConnectorId,
    offline: bool,
    error_rate_percent: u32,
    latency_ms: u64,
) -> Result<ConnectorStatus, AppError> {
    let (session, api) = ssr::require_admin().await?;
    let body = dto::UpdateConnectorSettings {
        offline,
        error_rate: f64::from(error_rate_percent) / 100.0,
        latency_ms,
    }
    .validate()
    .map_err(|e| ssr::fail(e.into()))?;
    api.update_connector_settings(session.caller(), id, &body)
        .await
        .map(|s| s.status)
        .map_err(ssr::upstream)
}
