//! Provisioning operations, their attempts and logs, queue statistics and the queries that list them.

use chrono::{DateTime, Utc};
use enums::{OperationStatus, OperationType};
use serde::{Deserialize, Serialize};

use crate::{ConnectorId, EntryId, ErrorBody, OperationId, PageRequest, TenantId, UserId};

/// One unit of provisioning work: push an account change to a connector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProvisioningOperation {
    /// Its id.
    pub id: OperationId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Target connector.
    pub connector_id: ConnectorId,
    /// Connector display name (xavyo-idp does not send it; the console fills it in).
    #[serde(default)]
    pub connector_name: Option<String>,
    /// The identity being provisioned.
    pub user_id: UserId,
    /// create / update / delete.
    pub operation_type: OperationType,
    /// Target object class, e.g. `user`.
    pub object_class: String,
    /// Id of the account in the target system, once known.
    #[serde(default)]
    pub target_uid: Option<String>,
    /// Lifecycle state.
    pub status: OperationStatus,
    /// Higher runs first.
    #[serde(default)]
    pub priority: i32,
    /// Attempts that failed so far.
    #[serde(default)]
    pub retry_count: i32,
    /// Failures allowed before the dead-letter queue.
    #[serde(default)]
    pub max_retries: i32,
    /// Last error.
    #[serde(default)]
    pub error_message: Option<String>,
    /// The attributes to write (xavyo-idp does not send it).
    #[serde(default)]
    pub payload: Option<serde_json::Value>,
    /// Deduplicates enqueues.
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// When a failed operation is next tried.
    #[serde(default)]
    pub next_retry_at: Option<DateTime<Utc>>,
    /// Enqueued at.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Last attempt started at.
    #[serde(default)]
    pub started_at: Option<DateTime<Utc>>,
    /// Finished at.
    #[serde(default)]
    pub completed_at: Option<DateTime<Utc>>,
    /// Notes written when resolved from the dead-letter queue.
    #[serde(default)]
    pub resolution_notes: Option<String>,
    /// Who resolved it.
    #[serde(default)]
    pub resolved_by: Option<UserId>,
    /// When it was resolved.
    #[serde(default)]
    pub resolved_at: Option<DateTime<Utc>>,
}

/// `GET /operations` and `GET /operations/dlq` (xavyo-idp omits `total` on the DLQ).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationList {
    /// This page's operations, newest first.
    #[serde(alias = "items")]
    pub operations: Vec<ProvisioningOperation>,
    /// All matching operations, when the upstream counts them.
    #[serde(default)]
    pub total: Option<u64>,
    /// Page size.
    #[serde(default)]
    pub limit: Option<u32>,
    /// Rows skipped.
    #[serde(default)]
    pub offset: Option<u64>,
}

/// The filters of `GET /operations`. Serialises to its query string.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OperationQuery {
    /// Only this connector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector_id: Option<ConnectorId>,
    /// Only this user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// Only this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<OperationStatus>,
    /// Only this type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_type: Option<OperationType>,
    /// Created at or after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_date: Option<DateTime<Utc>>,
    /// Created at or before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_date: Option<DateTime<Utc>>,
    /// Page size (1..=100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Rows skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Order of the rows (our engine; xavyo-idp ignores it and answers newest first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<OperationSort>,
}

/// How `GET /operations` orders its rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationSort {
    /// Newest first (the default).
    #[default]
    Newest,
    /// Oldest first.
    Oldest,
    /// Highest priority first, then newest.
    Priority,
}

impl OperationSort {
    /// Every order, as offered to people.
    pub const ALL: [Self; 3] = [Self::Newest, Self::Oldest, Self::Priority];

    /// The wire spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Newest => "newest",
            Self::Oldest => "oldest",
            Self::Priority => "priority",
        }
    }

    /// A label for people.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Newest => "Newest first",
            Self::Oldest => "Oldest first",
            Self::Priority => "Highest priority",
        }
    }
}

impl std::str::FromStr for OperationSort {
    type Err = enums::UnknownVariant;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| enums::UnknownVariant {
                kind: "sort order",
                value: s.to_owned(),
                expected: "newest, oldest, priority".to_owned(),
            })
    }
}

impl OperationQuery {
    /// The page this query asks for, checked.
    pub fn page(&self) -> Result<PageRequest, ErrorBody> {
        PageRequest {
            limit: self.limit.unwrap_or(crate::DEFAULT_LIMIT),
            offset: self.offset.unwrap_or(0),
        }
        .validate()
    }

    /// Whether `op` is one this query's filters ask for.
    pub fn matches(&self, op: &ProvisioningOperation) -> bool {
        self.contradicted_by(op).is_empty()
    }

    /// The filters of this query that `op` does not meet, by their query names.
    fn contradicted_by(&self, op: &ProvisioningOperation) -> Vec<&'static str> {
        let mut missed = Vec::new();
        if self.connector_id.is_some_and(|c| c != op.connector_id) {
            missed.push("connector_id");
        }
        if self.user_id.is_some_and(|u| u != op.user_id) {
            missed.push("user_id");
        }
        if self.status.is_some_and(|s| s != op.status) {
            missed.push("status");
        }
        if self.operation_type.is_some_and(|t| t != op.operation_type) {
            missed.push("operation_type");
        }
        if self.from_date.is_some_and(|from| op.created_at < from) {
            missed.push("from_date");
        }
        if self.to_date.is_some_and(|to| op.created_at > to) {
            missed.push("to_date");
        }
        missed
    }

    /// The filters an upstream did not apply, judged by the rows it answered: each named once, in query
    /// order. xavyo-idp ignores `operation_type`, `user_id` and the date range and answers every row; a
    /// console must say so rather than show those rows under the filter.
    pub fn unapplied(&self, rows: &[ProvisioningOperation]) -> Vec<&'static str> {
        const ORDER: [&str; 6] = [
            "connector_id",
            "user_id",
            "status",
            "operation_type",
            "from_date",
            "to_date",
        ];
        let missed: std::collections::BTreeSet<&str> = rows
            .iter()
            .flat_map(|op| self.contradicted_by(op))
            .collect();
        ORDER.into_iter().filter(|f| missed.contains(f)).collect()
    }

    /// Checks the date range is the right way round.
    pub fn validate(&self) -> Result<PageRequest, ErrorBody> {
        if let (Some(from), Some(to)) = (self.from_date, self.to_date) {
            if from > to {
                return Err(ErrorBody::validation(
                    "from_date",
                    "from_date must not be after to_date",
                ));
            }
        }
        self.page()
    }
}

/// `GET /operations/stats`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueStatistics {
    /// Waiting to run.
    pub pending: u64,
    /// Running now.
    pub in_progress: u64,
    /// Done.
    pub completed: u64,
    /// Failed, will retry.
    pub failed: u64,
    /// Gave up; needs an admin.
    pub dead_letter: u64,
    /// Waiting for an offline connector.
    pub awaiting_system: u64,
    /// Mean seconds from start to completion; none when nothing completed.
    #[serde(default)]
    pub avg_processing_time_secs: Option<f64>,
    /// Percentage of finished operations that succeeded.
    #[serde(default)]
    pub success_rate: Option<f64>,
}

/// The connector filter of `GET /operations/stats` and `GET /operations/dlq`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnectorFilter {
    /// Only this connector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector_id: Option<ConnectorId>,
    /// Page size (DLQ only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Rows skipped (DLQ only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

/// `POST /operations` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateOperation {
    /// Target connector.
    pub connector_id: ConnectorId,
    /// The identity being provisioned.
    pub user_id: UserId,
    /// create / update / delete.
    pub operation_type: OperationType,
    /// Target object class.
    #[serde(default = "default_object_class")]
    pub object_class: String,
    /// Target account id, when known.
    #[serde(default)]
    pub target_uid: Option<String>,
    /// Attributes to write.
    #[serde(default)]
    pub payload: serde_json::Value,
    /// Higher runs first.
    #[serde(default)]
    pub priority: Option<i32>,
    /// Deduplicates enqueues; derived from the content when absent.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

fn default_object_class() -> String {
    "user".to_owned()
}

/// `POST /operations/{id}/resolve` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResolveOperation {
    /// Why it was resolved by hand.
    #[serde(default)]
    pub resolution_notes: Option<String>,
}

/// The most characters resolution notes may have.
pub const MAX_RESOLUTION_NOTES: usize = 2000;

impl ResolveOperation {
    /// The request for what an admin typed: trimmed; blank means no notes.
    pub fn from_notes(notes: &str) -> Self {
        let notes = notes.trim();
        Self {
            resolution_notes: (!notes.is_empty()).then(|| notes.to_owned()),
        }
    }

    /// The one rule for resolution notes (console, BFF and engine alike): at most
    /// [`MAX_RESOLUTION_NOTES`] characters, and no control characters other than line breaks and tabs.
    pub fn validate(self) -> Result<Self, crate::ErrorBody> {
        if let Some(notes) = &self.resolution_notes {
            if notes.chars().count() > MAX_RESOLUTION_NOTES {
                return Err(crate::ErrorBody::validation(
                    "resolution_notes",
                    format!("Resolution notes are limited to {MAX_RESOLUTION_NOTES} characters."),
                ));
            }
            if notes
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
            {
                return Err(crate::ErrorBody::validation(
                    "resolution_notes",
                    "Resolution notes may hold text, line breaks and tabs, but no other control characters.",
                ));
            }
        }
        Ok(self)
    }
}

/// One execution of an operation against its connector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionAttempt {
    /// 1-based.
    pub attempt_number: i32,
    /// Started at.
    pub started_at: DateTime<Utc>,
    /// Finished at.
    #[serde(default)]
    pub completed_at: Option<DateTime<Utc>>,
    /// Whether it worked.
    pub success: bool,
    /// Machine error code, e.g. `CONNECTION_FAILED`.
    #[serde(default)]
    pub error_code: Option<String>,
    /// What went wrong.
    #[serde(default)]
    pub error_message: Option<String>,
    /// How long it took (xavyo-idp may send null).
    #[serde(default)]
    pub duration_ms: Option<i64>,
}

/// `GET /operations/{id}/attempts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptList {
    /// Oldest first.
    pub attempts: Vec<ExecutionAttempt>,
    /// The operation they belong to.
    pub operation_id: OperationId,
}

/// One log line of an operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "RawLog")]
pub struct OperationLog {
    /// Its id.
    pub id: EntryId,
    /// The operation it belongs to.
    pub operation_id: OperationId,
    /// When it was written.
    pub timestamp: DateTime<Utc>,
    /// `info`, `warn` or `error`.
    pub level: String,
    /// What happened.
    pub message: String,
}

/// A log entry in either shape: ours (`timestamp, level, message`) or xavyo-idp's execution record
/// (`created_at, status, error_message, duration_ms`).
#[derive(Deserialize)]
struct RawLog {
    id: EntryId,
    operation_id: OperationId,
    #[serde(alias = "created_at")]
    timestamp: DateTime<Utc>,
    level: Option<String>,
    message: Option<String>,
    status: Option<String>,
    error_message: Option<String>,
    duration_ms: Option<i64>,
}

impl From<RawLog> for OperationLog {
    fn from(raw: RawLog) -> Self {
        let status = raw.status.unwrap_or_default();
        let level = raw.level.unwrap_or_else(|| {
            if raw.error_message.is_some() || status == "failed" {
                "error"
            } else {
                "info"
            }
            .to_owned()
        });
        let message = raw.message.unwrap_or_else(|| {
            let mut text = if status.is_empty() {
                "execution".to_owned()
            } else {
                format!("execution {status}")
            };
            if let Some(ms) = raw.duration_ms {
                text.push_str(&format!(" in {ms} ms"));
            }
            if let Some(err) = raw.error_message {
                text.push_str(&format!(": {err}"));
            }
            text
        });
        Self {
            id: raw.id,
            operation_id: raw.operation_id,
            timestamp: raw.timestamp,
            level,
            message,
        }
    }
}

/// `GET /operations/{id}/logs`: `{logs, operation_id}`, or xavyo-idp's bare array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "RawLogList")]
pub struct LogList {
    /// Oldest first.
    pub logs: Vec<OperationLog>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawLogList {
    Wrapped { logs: Vec<OperationLog> },
    Bare(Vec<OperationLog>),
}

impl From<RawLogList> for LogList {
    fn from(raw: RawLogList) -> Self {
        match raw {
            RawLogList::Wrapped { logs } | RawLogList::Bare(logs) => Self { logs },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_notes_rule() {
        assert_eq!(ResolveOperation::from_notes("  ").resolution_notes, None);
        let ok = "Created by hand.\n\tTicket 42".to_owned();
        assert!(ResolveOperation::from_notes(&ok).validate().is_ok());
        let long = "x".repeat(MAX_RESOLUTION_NOTES + 1);
        let err = ResolveOperation::from_notes(&long).validate().unwrap_err();
        assert_eq!(err.field.as_deref(), Some("resolution_notes"));
        assert!(
            ResolveOperation::from_notes(&"é".repeat(MAX_RESOLUTION_NOTES))
                .validate()
                .is_ok()
        );
        assert!(ResolveOperation::from_notes("bell \u{7}")
            .validate()
            .is_err());
    }
}
