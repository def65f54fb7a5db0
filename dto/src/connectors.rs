//! Connectors: the target systems operations are pushed to.

use chrono::{DateTime, Utc};
use enums::ConnectorStatus;
use serde::{Deserialize, Serialize};

use crate::ConnectorId;

/// A connected target system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connector {
    /// Its id.
    pub id: ConnectorId,
    /// Display name.
    pub name: String,
    /// Kind of system, e.g. `directory`, `ldap`, `rest`.
    pub connector_type: String,
    /// Whether it can take work.
    pub status: ConnectorStatus,
    /// Whether its stored credentials work (our engine; xavyo-idp does not say, so assumed true).
    #[serde(default = "yes")]
    pub credentials_valid: bool,
    /// When it was registered.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// What the upstream can do with it beyond provisioning, e.g. [`Connector::FAULT_INJECTION`]. xavyo-idp
    /// says nothing, so nothing extra is offered there.
    #[serde(default, deserialize_with = "crate::reconciliation::nullable")]
    pub capabilities: Vec<String>,
}

impl Connector {
    /// The capability of taking injected faults (`GET`/`PUT /connectors/{id}/settings`).
    pub const FAULT_INJECTION: &'static str = "fault_injection";

    /// Whether the upstream says this connector can do `capability`.
    pub fn supports(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }
}

fn yes() -> bool {
    true
}

/// `GET /connectors` (xavyo-idp names the list `items`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorList {
    /// This page's connectors.
    #[serde(alias = "items")]
    pub connectors: Vec<Connector>,
    /// All matching connectors.
    #[serde(default)]
    pub total: Option<u64>,
    /// Page size.
    #[serde(default)]
    pub limit: Option<u32>,
    /// Rows skipped.
    #[serde(default)]
    pub offset: Option<u64>,
}

/// `GET`/`PUT /connectors/{id}/settings` answer: the faults injected into a built-in directory connector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorSettings {
    /// The connector.
    pub connector_id: ConnectorId,
    /// Its status once the settings apply (`offline` turns an active connector offline, and back).
    pub status: ConnectorStatus,
    /// Every call fails as if the system were down.
    pub offline: bool,
    /// Share of calls (0.0–1.0) failing with a transient error.
    pub error_rate: f64,
    /// Milliseconds every call waits.
    pub latency_ms: u64,
}

/// `PUT /connectors/{id}/settings` body.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UpdateConnectorSettings {
    /// Every call fails as if the system were down.
    pub offline: bool,
    /// Share of calls (0.0–1.0) failing with a transient error.
    pub error_rate: f64,
    /// Milliseconds every call waits (0–10,000).
    pub latency_ms: u64,
}

impl UpdateConnectorSettings {
    /// Checks the ranges the engine accepts, naming the field at fault.
    pub fn validate(self) -> Result<Self, crate::ErrorBody> {
        if !(0.0..=1.0).contains(&self.error_rate) {
            return Err(crate::ErrorBody::validation(
                "error_rate",
                "The error rate is between 0 and 100 %.",
            ));
        }
        if self.latency_ms > 10_000 {
            return Err(crate::ErrorBody::validation(
                "latency_ms",
                "The latency is between 0 and 10,000 ms.",
            ));
        }
        Ok(self)
    }
}
