//! The error body every endpoint answers with, and the start gate's refusals.

use serde::{Deserialize, Serialize};

/// `{"error": "<snake_code>", "message": "<human text>"}`, plus the fields some codes carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Machine code: `not_found`, `validation_error`, `invalid_operation_state`, `deduped`, ...
    pub error: String,
    /// Human-readable explanation.
    #[serde(default)]
    pub message: String,
    /// The request field at fault (validation errors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The current state of the entity (invalid state changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_status: Option<String>,
    /// The start gate's reason for a `blocked` start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    /// What the operator should do next (blocked starts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_step: Option<String>,
    /// The equivalent operation already active (deduped starts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_operation_id: Option<uuid::Uuid>,
    /// The equivalent run already active (deduped starts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_run_id: Option<uuid::Uuid>,
    /// The work holding the scope (scope_busy starts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<ActiveWork>,
}

/// The work that holds a connector when a start answers `scope_busy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveWork {
    /// `operation` or `reconciliation_run`.
    pub kind: String,
    /// Its id.
    pub id: uuid::Uuid,
}

impl ErrorBody {
    /// An error with just a code and a message.
    pub fn new(error: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            message: message.into(),
            field: None,
            current_status: None,
            reason_code: None,
            next_step: None,
            existing_operation_id: None,
            existing_run_id: None,
            active: None,
        }
    }

    /// A `validation_error` naming the field at fault.
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: Some(field.to_owned()),
            ..Self::new("validation_error", message)
        }
    }
}

/// RFC 7807 problem details, as xavyo-idp's auth endpoints answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProblemDetails {
    /// A URI naming the problem type.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// Short summary.
    pub title: String,
    /// HTTP status.
    #[serde(default)]
    pub status: Option<u16>,
    /// Longer explanation for people.
    #[serde(default)]
    pub detail: Option<String>,
}
