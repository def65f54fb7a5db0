//! The conflicts between the operations of the script in [`super::operations`]. (Conflict detection has no
//! engine of its own yet: when it has, seeding plays the operations into it instead.) The reconciliation
//! history is not generated: the real reconciler produces it (see `super::reconcile`).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use dto::{ConflictId, ConnectorId, OperationId, UserId};
use enums::ConflictOutcome;
use rand::rngs::StdRng;

use super::operations::{Plan, Planned};
use super::{new_id, History, DEMO_ADMIN, DEMO_TENANT};
use crate::store::NewConflict;

pub(super) fn history(rng: &mut StdRng, now: DateTime<Utc>, plan: &Plan) -> History {
    History {
        conflicts: conflicts(rng, now, plan),
    }
}

/// Four conflicts between operations of one user on one connector: two pending, two resolved.
fn conflicts(rng: &mut StdRng, now: DateTime<Utc>, plan: &Plan) -> Vec<NewConflict> {
    let mut by_target: BTreeMap<(ConnectorId, UserId), Vec<&Planned>> = BTreeMap::new();
    for planned in plan
        .operations()
        .filter(|p| p.operation.tenant_id == DEMO_TENANT)
    {
        let op = &planned.operation;
        by_target
            .entry((op.connector_id, op.user_id))
            .or_default()
            .push(planned);
    }
    let pairs: Vec<(&Planned, &Planned)> = by_target
        .values()
        .filter(|ops| ops.len() >= 2)
        .map(|ops| (ops[0], ops[1]))
        .take(4)
        .collect();
    let kinds = [
        ("concurrent_update", vec!["department", "title"], None),
        ("stale_data", vec!["email"], None),
        (
            "missing_target",
            vec!["uid"],
            Some((ConflictOutcome::Applied, "Recreated the account")),
        ),
        (
            "external_change",
            vec!["title"],
            Some((ConflictOutcome::Merged, "Kept the target's title")),
        ),
    ];
    let id = |p: &Planned| -> OperationId { p.operation.id };
    pairs
        .into_iter()
        .zip(kinds)
        .map(|((a, b), (kind, attributes, outcome))| {
            // Detected two seconds after the later of the two was enqueued.
            let created_at = now - a.age.min(b.age) + Duration::seconds(2);
            NewConflict {
                id: ConflictId(new_id(rng)),
                tenant_id: DEMO_TENANT,
                operation_id_a: id(a),
                operation_id_b: id(b),
                conflict_type: kind.into(),
                affected_attributes: attributes.into_iter().map(String::from).collect(),
                outcome: outcome.map(|(o, _)| o),
                notes: outcome.map(|(_, n)| n.to_owned()),
                created_at,
                resolved_at: outcome.map(|_| (created_at + Duration::hours(3)).min(now)),
                resolved_by: outcome.map(|_| DEMO_ADMIN),
            }
        })
        .collect()
}
