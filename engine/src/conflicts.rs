//! Conflicts between provisioning operations, as pure rules: when two operations on one account collide, of
//! which type, on which attributes; and what resolving a conflict does to the operation it holds. The claim
//! (`store::claim_operations`) asks [`detect`] about every pending operation it is about to hand a worker,
//! against each earlier active operation on the same connector and account, in the claim's own transaction.
//! See `specs/conflicts.md`.

use std::collections::BTreeSet;

use enums::{ConflictOutcome, ConflictType, OperationStatus, OperationType};
use serde_json::Value;

use crate::{
    connector::uid_from_email,
    queue::lifecycle::{next_status, sources, Event},
};

/// The statuses of an operation that is on its way to its target: an operation in one of them collides with
/// a later one on the same account. (A `failed` one waiting for its retry is not counted: see
/// `specs/conflicts.md`.)
pub const ACTIVE: [OperationStatus; 3] = [
    OperationStatus::Pending,
    OperationStatus::InProgress,
    OperationStatus::AwaitingSystem,
];

/// The account an operation targets, as the worker finds it when it runs the operation: its target uid, else
/// its payload's `uid`, else for a create the part of its payload's `email` before `@`. Stored with the
/// operation (`target_key`), it tells which operations share an account.
pub fn target_key(
    operation_type: OperationType,
    target_uid: Option<&str>,
    payload: &Value,
) -> Option<String> {
    let text = |key: &str| {
        payload
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    target_uid
        .map(str::to_owned)
        .or_else(|| text("uid").map(str::to_owned))
        .or_else(|| {
            (operation_type == OperationType::Create)
                .then(|| text("email").and_then(uid_from_email))
                .flatten()
        })
}

/// One side of a possible conflict: what an operation does and with which attributes.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    /// create / update / delete.
    pub operation_type: OperationType,
    /// Its payload (a JSON object; anything else touches no attribute).
    pub payload: &'a Value,
}

/// A conflict found between an earlier and a later operation on one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    /// Its type.
    pub conflict_type: ConflictType,
    /// The attributes both change, sorted (empty: the whole account, e.g. two deletes).
    pub affected_attributes: Vec<String>,
}

/// The attributes a payload sets: its keys, but `uid`, which names the account rather than changing it.
fn attributes(payload: &Value) -> BTreeSet<&str> {
    payload
        .as_object()
        .map(|map| {
            map.keys()
                .map(String::as_str)
                .filter(|k| *k != "uid")
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `later` collides with `earlier` (both active, on the same connector and account): a delete touches
/// every attribute, two creates of one account always collide, otherwise they collide on the attributes both
/// set. An earlier delete makes the later operation's target go away (`missing_target`); every other
/// collision is a `concurrent_update`.
pub fn detect(earlier: Change<'_>, later: Change<'_>) -> Option<Detected> {
    use OperationType::{Create, Delete};
    let (a, b) = (attributes(earlier.payload), attributes(later.payload));
    let affected: BTreeSet<&str> = match (earlier.operation_type, later.operation_type) {
        (Delete, Delete) => BTreeSet::new(),
        (Delete, _) => b,
        (_, Delete) => a,
        (Create, Create) => a.intersection(&b).copied().collect(),
        _ => {
            let both: BTreeSet<&str> = a.intersection(&b).copied().collect();
            if both.is_empty() {
                return None;
            }
            both
        }
    };
    let conflict_type = match (earlier.operation_type, later.operation_type) {
        (Delete, OperationType::Update | Delete) => ConflictType::MissingTarget,
        _ => ConflictType::ConcurrentUpdate,
    };
    Some(Detected {
        conflict_type,
        affected_attributes: affected.into_iter().map(str::to_owned).collect(),
    })
}

/// What resolving a conflict does to the operation it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeldFate {
    /// It is released to the queue and runs (applied, merged).
    Release,
    /// It is cancelled, from one of `from` to `to` (superseded, rejected).
    Cancel {
        /// The statuses an admin's cancel applies to.
        from: Vec<OperationStatus>,
        /// Where a cancel takes it.
        to: OperationStatus,
    },
}

/// The fate of the held operation for `outcome`: an applied or merged change still has to be made; a
/// superseded or rejected one must never run. Cancelling follows the operation lifecycle's cancel rule.
pub fn fate(outcome: ConflictOutcome) -> HeldFate {
    if outcome.releases_held() {
        HeldFate::Release
    } else {
        HeldFate::Cancel {
            from: sources(Event::Cancel),
            to: next_status(OperationStatus::Pending, Event::Cancel)
                .unwrap_or(OperationStatus::Cancelled),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use OperationType::{Create, Delete, Update};

    fn check(
        earlier: (OperationType, Value),
        later: (OperationType, Value),
    ) -> Option<(ConflictType, String)> {
        detect(
            Change {
                operation_type: earlier.0,
                payload: &earlier.1,
            },
            Change {
                operation_type: later.0,
                payload: &later.1,
            },
        )
        .map(|d| (d.conflict_type, d.affected_attributes.join(",")))
    }

    #[test]
    fn updates_collide_on_the_attributes_both_set() {
        let both = check(
            (Update, json!({"title": "a", "department": "x", "uid": "u"})),
            (Update, json!({"title": "b", "manager": "m", "uid": "u"})),
        );
        assert_eq!(both, Some((ConflictType::ConcurrentUpdate, "title".into())));
        let apart = check(
            (Update, json!({"title": "a"})),
            (Update, json!({"department": "x", "uid": "u"})),
        );
        assert_eq!(apart, None, "different attributes, and uid is not one");
        assert_eq!(check((Update, json!({})), (Update, json!({}))), None);
        assert_eq!(
            check((Update, json!("not an object")), (Update, json!({"a": 1}))),
            None
        );
        let create_then_update = check(
            (Create, json!({"email": "e", "title": "t"})),
            (Update, json!({"title": "u"})),
        );
        assert_eq!(
            create_then_update,
            Some((ConflictType::ConcurrentUpdate, "title".into()))
        );
        assert_eq!(
            check(
                (Create, json!({"email": "e"})),
                (Update, json!({"title": "u"}))
            ),
            None
        );
    }

    #[test]
    fn creates_of_one_account_always_collide() {
        assert_eq!(
            check(
                (Create, json!({"email": "a@x", "title": "t"})),
                (Create, json!({"email": "a@x", "department": "d"}))
            ),
            Some((ConflictType::ConcurrentUpdate, "email".into()))
        );
        assert_eq!(
            check((Create, json!({"uid": "a"})), (Create, json!({"uid": "a"}))),
            Some((ConflictType::ConcurrentUpdate, "".into()))
        );
    }

    #[test]
    fn a_delete_touches_everything() {
        assert_eq!(
            check(
                (Delete, json!({"reason": "left"})),
                (Update, json!({"title": "t", "department": "d"}))
            ),
            Some((ConflictType::MissingTarget, "department,title".into()))
        );
        assert_eq!(
            check((Delete, json!({})), (Delete, json!({}))),
            Some((ConflictType::MissingTarget, "".into()))
        );
        assert_eq!(
            check((Delete, json!({})), (Create, json!({"email": "a@x"}))),
            Some((ConflictType::ConcurrentUpdate, "email".into()))
        );
        assert_eq!(
            check(
                (Update, json!({"title": "t"})),
                (Delete, json!({"reason": "r"}))
            ),
            Some((ConflictType::ConcurrentUpdate, "title".into()))
        );
    }

    #[test]
    fn the_target_is_the_uid_then_the_payloads_uid_then_a_creates_email() {
        let key = |t, uid: Option<&str>, payload: Value| target_key(t, uid, &payload);
        assert_eq!(
            key(Update, Some("a.b"), json!({"uid": "c"})).as_deref(),
            Some("a.b")
        );
        assert_eq!(
            key(Update, None, json!({"uid": " c ", "email": "d@x"})).as_deref(),
            Some("c")
        );
        assert_eq!(key(Update, None, json!({"email": "d@x"})), None);
        assert_eq!(
            key(Create, None, json!({"uid": " ", "email": " d.e@x "})).as_deref(),
            Some("d.e")
        );
        assert_eq!(key(Delete, None, json!({"uid": 5})), None);
    }

    #[test]
    fn outcomes_release_or_cancel_the_held_operation() {
        assert_eq!(fate(ConflictOutcome::Applied), HeldFate::Release);
        assert_eq!(fate(ConflictOutcome::Merged), HeldFate::Release);
        for outcome in [ConflictOutcome::Superseded, ConflictOutcome::Rejected] {
            assert_eq!(
                fate(outcome),
                HeldFate::Cancel {
                    from: vec![OperationStatus::Pending],
                    to: OperationStatus::Cancelled
                }
            );
        }
    }

    #[test]
    fn active_statuses_are_those_not_settled() {
        for status in OperationStatus::ALL {
            let active = !status.is_settled();
            assert_eq!(ACTIVE.contains(&status), active, "{status}");
        }
    }
}
