//! Server functions of the connectors page.

use dto::{Connector, ConnectorId, ConnectorList, ConnectorSettings};
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

/// `GET /connectors/{id}`.
#[server]
pub async fn get_connector(id: ConnectorId) -> Result<Connector, AppError> {
    let (session, api) = ssr::require_admin().await?;
    api.get_connector(session.caller(), id)
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

/// `PUT /connectors/{id}/settings`, from the fault-injection form (a command form: URL-encoded fields, the
/// error rate in whole percent as the form asks for it, `offline` a checkbox). Answers, for the toast, the
/// connector's status once the settings apply.
#[server]
pub async fn update_connector_settings(
    id: ConnectorId,
    offline: Option<bool>,
    error_rate_percent: u32,
    latency_ms: u64,
) -> Result<String, AppError> {
    let (session, api) = ssr::require_admin().await?;
    let body = dto::UpdateConnectorSettings {
        offline: offline.unwrap_or(false),
        error_rate: f64::from(error_rate_percent) / 100.0,
        latency_ms,
    }
    .validate()
    .map_err(|e| ssr::fail(e.into()))?;
    let settings = api
        .update_connector_settings(session.caller(), id, &body)
        .await
        .map_err(ssr::upstream)?;
    Ok(format!(
        "Fault settings saved: the connector is {}.",
        settings.status.label().to_lowercase()
    ))
}

/// What the upstream does beyond xavyo-idp's API, asked once and then kept by the client. Pages offer the
/// controls that need a feature only when it is listed; when the upstream cannot say right now, nothing extra
/// is offered (and the page is not failed for it).
#[server]
pub async fn upstream_features() -> Result<dto::UpstreamFeatures, AppError> {
    let (session, api) = ssr::require_admin().await?;
    match api.features(session.caller()).await {
        Ok(features) => Ok(features),
        Err(e) => {
            tracing::warn!(error = %e, "upstream features unknown: offering only what xavyo-idp's API does");
            Ok(dto::UpstreamFeatures::none())
        }
    }
}
