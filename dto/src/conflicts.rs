//! Provisioning conflicts: two operations that want to change the same account, and how an admin settles them.

use chrono::{DateTime, Utc};
use enums::{ConflictOutcome, ConflictType};
use serde::{Deserialize, Serialize};

use crate::reconciliation::{checked_page, nullable};
use crate::{ConflictId, ErrorBody, OperationId, PageRequest, TenantId, UserId};

/// `status` of a conflict an admin has not settled yet.
pub const CONFLICT_PENDING: &str = "pending";
/// `status` of a settled conflict.
pub const CONFLICT_RESOLVED: &str = "resolved";

/// Two operations that touch the same attributes of one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawConflict")]
pub struct ProvisioningConflict {
    /// Its id.
    pub id: ConflictId,
    /// Owning tenant (xavyo-idp does not send it).
    pub tenant_id: Option<TenantId>,
    /// The first operation (xavyo-idp: `operation_id`).
    pub operation_id_a: OperationId,
    /// The second operation (xavyo-idp: `conflicting_operation_id`, which it may not know).
    pub operation_id_b: Option<OperationId>,
    /// e.g. `concurrent_update`, `stale_data`, `missing_target`, `external_change`.
    pub conflict_type: String,
    /// The attributes both operations change.
    pub affected_attributes: Vec<String>,
    /// [`CONFLICT_PENDING`] or [`CONFLICT_RESOLVED`].
    pub status: String,
    /// How it was settled (xavyo-idp: `resolution_outcome`).
    pub outcome: Option<ConflictOutcome>,
    /// The admin's notes.
    pub notes: Option<String>,
    /// Detected at (xavyo-idp: `detected_at`).
    pub created_at: DateTime<Utc>,
    /// Settled at.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Who settled it.
    pub resolved_by: Option<UserId>,
}

impl ProvisioningConflict {
    /// True while an admin still has to settle it.
    pub fn is_pending(&self) -> bool {
        self.status == CONFLICT_PENDING
    }

    /// Its type when it is one of the known ones (an upstream may send others: show those as sent).
    pub fn kind(&self) -> Option<ConflictType> {
        self.conflict_type.parse().ok()
    }
}

/// A conflict in either shape: ours, or xavyo-idp's (`operation_id`, `conflicting_operation_id`, `is_pending`,
/// `detected_at`, `resolution_outcome` which may read `pending`, no `tenant_id`).
#[derive(Deserialize)]
struct RawConflict {
    id: ConflictId,
    tenant_id: Option<TenantId>,
    #[serde(alias = "operation_id")]
    operation_id_a: OperationId,
    #[serde(alias = "conflicting_operation_id")]
    operation_id_b: Option<OperationId>,
    conflict_type: String,
    #[serde(default, deserialize_with = "nullable")]
    affected_attributes: Vec<String>,
    status: Option<String>,
    is_pending: Option<bool>,
    #[serde(alias = "resolution_outcome")]
    outcome: Option<String>,
    notes: Option<String>,
    #[serde(alias = "detected_at")]
    created_at: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
    resolved_by: Option<UserId>,
}

impl TryFrom<RawConflict> for ProvisioningConflict {
    type Error = String;

    fn try_from(raw: RawConflict) -> Result<Self, Self::Error> {
        let outcome = match raw.outcome.as_deref() {
            None | Some(CONFLICT_PENDING) => None,
            Some(text) => Some(
                text.parse::<ConflictOutcome>()
                    .map_err(|err| err.to_string())?,
            ),
        };
        let pending = match (raw.status.as_deref(), raw.is_pending) {
            (Some(status), _) => status == CONFLICT_PENDING,
            (None, Some(pending)) => pending,
            (None, None) => outcome.is_none() && raw.resolved_at.is_none(),
        };
        Ok(Self {
            id: raw.id,
            tenant_id: raw.tenant_id,
            operation_id_a: raw.operation_id_a,
            operation_id_b: raw.operation_id_b,
            conflict_type: raw.conflict_type,
            affected_attributes: raw.affected_attributes,
            status: if pending {
                CONFLICT_PENDING
            } else {
                CONFLICT_RESOLVED
            }
            .to_owned(),
            outcome,
            notes: raw.notes,
            created_at: raw.created_at,
            resolved_at: raw.resolved_at,
            resolved_by: raw.resolved_by,
        })
    }
}

/// `GET /operations/conflicts` (xavyo-idp sends `pending_count` instead of `total`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictList {
    /// This page's conflicts, newest first.
    pub conflicts: Vec<ProvisioningConflict>,
    /// All matching conflicts, when the upstream counts them.
    #[serde(default)]
    pub total: Option<u64>,
    /// Conflicts still pending (xavyo-idp).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_count: Option<u64>,
    /// Page size.
    #[serde(default)]
    pub limit: Option<u32>,
    /// Rows skipped.
    #[serde(default)]
    pub offset: Option<u64>,
}

/// The filters of `GET /operations/conflicts`. Serialises to its query string.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConflictQuery {
    /// Only conflicts involving this operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<OperationId>,
    /// Only this conflict type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict_type: Option<ConflictType>,
    /// Only pending ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_only: Option<bool>,
    /// Page size (1..=100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Rows skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

impl ConflictQuery {
    /// The page this query asks for, checked.
    pub fn page(&self) -> Result<PageRequest, ErrorBody> {
        checked_page(self.limit, self.offset)
    }
}

/// `POST /operations/conflicts/{id}/resolve` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolveConflict {
    /// How it is settled.
    pub outcome: ConflictOutcome,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// The most characters a conflict's resolution notes may have.
pub const MAX_CONFLICT_NOTES: usize = 2000;

impl ResolveConflict {
    /// The request for what an admin chose and typed: notes trimmed; blank means no notes.
    pub fn new(outcome: ConflictOutcome, notes: &str) -> Self {
        let notes = notes.trim();
        Self {
            outcome,
            notes: (!notes.is_empty()).then(|| notes.to_owned()),
        }
    }

    /// The one rule for a conflict's notes (console, BFF and engine alike): at most [`MAX_CONFLICT_NOTES`]
    /// characters, and no control characters other than line breaks and tabs.
    pub fn validate(self) -> Result<Self, ErrorBody> {
        if let Some(notes) = &self.notes {
            if notes.chars().count() > MAX_CONFLICT_NOTES {
                return Err(ErrorBody::validation(
                    "notes",
                    format!("Notes are limited to {MAX_CONFLICT_NOTES} characters."),
                ));
            }
            if notes
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
            {
                return Err(ErrorBody::validation(
                    "notes",
                    "Notes may hold text, line breaks and tabs, but no other control characters.",
                ));
            }
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_trimmed_and_limited() {
        let blank = ResolveConflict::new(ConflictOutcome::Merged, "  ");
        assert_eq!(blank.notes, None);
        let ok = ResolveConflict::new(ConflictOutcome::Applied, " Kept both.\n\tTicket 7 ");
        assert_eq!(ok.notes.as_deref(), Some("Kept both.\n\tTicket 7"));
        assert!(ok.validate().is_ok());
        let fits = "é".repeat(MAX_CONFLICT_NOTES);
        assert!(ResolveConflict::new(ConflictOutcome::Rejected, &fits)
            .validate()
            .is_ok());
        let long = "x".repeat(MAX_CONFLICT_NOTES + 1);
        let err = ResolveConflict::new(ConflictOutcome::Rejected, &long)
            .validate()
            .unwrap_err();
        assert_eq!(err.field.as_deref(), Some("notes"));
        assert!(
            ResolveConflict::new(ConflictOutcome::Superseded, "bell \u{7}")
                .validate()
                .is_err()
        );
    }

    #[test]
    fn unknown_types_read_as_sent() {
        let json = serde_json::json!({
            "id": "3e4f5061-7283-4a94-8ba5-000000000301",
            "operation_id": "0b5c2d3e-4f50-4a61-8b72-000000000001",
            "conflict_type": "something_new",
            "detected_at": "2026-11-20T10:05:00Z",
        });
        let conflict: ProvisioningConflict = serde_json::from_value(json).expect("reads");
        assert_eq!(conflict.conflict_type, "something_new");
        assert_eq!(conflict.kind(), None);
        assert!(conflict.is_pending());
    }
}
