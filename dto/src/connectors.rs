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
