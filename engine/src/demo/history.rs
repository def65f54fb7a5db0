//! The demo's conflicts, made the way the engine makes them: pairs of operations on one account are enqueued
//! one after the other, the real worker claims them, runs the earlier one and holds the later one (see
//! [`crate::conflicts`]), and the admin resolves some through the same store call as
//! `POST /operations/conflicts/{id}/resolve`, after which the worker runs what was released. Then the pairs,
//! their logs and their conflicts are moved back in time like the rest of the history.
//!
//! It plays after the month of operations and the reconciliation runs, on accounts that no unsettled operation
//! works on, with the identities' own values, so the directory does not drift because of it.

use std::collections::HashSet;

use chrono::{Duration, Utc};
use dto::{ConflictQuery, ConnectorId, OperationId, PageRequest, ResolveConflict};
use enums::{ConflictOutcome, OperationStatus, OperationType};
use rand::rngs::StdRng;
use serde_json::{json, Value};

use super::setup::drift;
use super::{new_id, Setup, ADMIN_EMAIL, CLOUD_CRM, CORPORATE_DIRECTORY, DEMO_ADMIN, DEMO_TENANT};
use crate::{
    conflicts::fate,
    queue::{Queue, RetryPolicy, Worker},
    store::{self, ConflictResolution, IdempotencyKey, NewIdentity, NewOperation},
    EngineError,
};

/// What the two operations of a pair do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairKind {
    /// Department and title, then the title alone.
    TitleAfterProfile,
    /// The title, then department and title.
    ProfileAfterTitle,
    /// The title, then the title again.
    TitleTwice,
    /// A create of the account (it exists: the create updates it), then department and title.
    ProfileAfterCreate,
    /// A delete of the account, then its title.
    TitleAfterDelete,
}

/// Two operations on one account, the later held by a conflict, and what the admin did about it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConflictPair {
    /// What they do.
    pub kind: PairKind,
    /// Where.
    pub connector: ConnectorId,
    /// The earlier and the later operation.
    pub ids: (OperationId, OperationId),
    /// How long ago they were enqueued, once the history is moved back.
    pub age: Duration,
    /// The admin's resolution; none leaves the conflict pending.
    pub resolution: Option<(ConflictOutcome, &'static str)>,
}

/// The pairs to play.
pub(super) fn pairs(rng: &mut StdRng) -> Vec<ConflictPair> {
    let mut pair = |kind, connector, age: Duration, resolution| ConflictPair {
        kind,
        connector,
        ids: (OperationId(new_id(rng)), OperationId(new_id(rng))),
        age,
        resolution,
    };
    vec![
        pair(
            PairKind::ProfileAfterTitle,
            CORPORATE_DIRECTORY,
            Duration::days(3) + Duration::minutes(12),
            Some((
                ConflictOutcome::Merged,
                "Same title on both sides: kept the department change too",
            )),
        ),
        pair(
            PairKind::TitleAfterDelete,
            CLOUD_CRM,
            Duration::days(4) + Duration::minutes(40),
            Some((
                ConflictOutcome::Rejected,
                "The account is being removed: updating it is moot",
            )),
        ),
        pair(
            PairKind::TitleTwice,
            CORPORATE_DIRECTORY,
            Duration::days(1) + Duration::minutes(5),
            Some((ConflictOutcome::Applied, "Reviewed: the later title stands")),
        ),
        pair(
            PairKind::TitleAfterProfile,
            CORPORATE_DIRECTORY,
            Duration::hours(3) + Duration::minutes(20),
            None,
        ),
        pair(
            PairKind::ProfileAfterCreate,
            CORPORATE_DIRECTORY,
            Duration::minutes(42),
            None,
        ),
    ]
}

/// Retries within milliseconds (nothing here is meant to fail).
const FAST: RetryPolicy = RetryPolicy {
    base: std::time::Duration::from_millis(1),
    max: std::time::Duration::from_millis(8),
    jitter: 0.2,
};

/// The identities of Demo Corp whose Corporate Directory account is as it should be (as the script of
/// operations picks them): changing them with their own values changes nothing there.
fn in_step(setup: &Setup) -> Vec<&NewIdentity> {
    let drifting: Vec<usize> = [
        &drift::MISSING[..],
        &drift::MISMATCH,
        &drift::UNLINKED,
        &drift::DELETED,
        &drift::COLLISION,
    ]
    .concat();
    setup
        .identities
        .iter()
        .filter(|i| i.tenant_id == DEMO_TENANT)
        .enumerate()
        .filter(|(n, _)| !drifting.contains(n))
        .map(|(_, p)| p)
        .collect()
}

fn uid(p: &NewIdentity) -> String {
    p.email.split('@').next().unwrap_or_default().to_owned()
}

fn payloads(kind: PairKind, p: &NewIdentity) -> [(OperationType, Option<String>, Value); 2] {
    let (department, title) = (&p.attributes["department"], &p.attributes["title"]);
    let update = |payload| (OperationType::Update, Some(uid(p)), payload);
    let profile = json!({"department": department, "title": title});
    let only_title = json!({"title": title});
    match kind {
        PairKind::TitleAfterProfile => [update(profile), update(only_title)],
        PairKind::ProfileAfterTitle => [update(only_title), update(profile)],
        PairKind::TitleTwice => [update(only_title.clone()), update(only_title)],
        PairKind::ProfileAfterCreate => [
            (OperationType::Create, None, p.attributes.clone()),
            update(profile),
        ],
        PairKind::TitleAfterDelete => [
            (
                OperationType::Delete,
                Some(uid(p)),
                json!({"reason": "identity leaving"}),
            ),
            update(only_title),
        ],
    }
}

/// Plays the pairs through the queue, the worker and the resolution path, then moves them back in time.
pub(super) async fn play(
    queue: &Queue,
    setup: &Setup,
    pairs: &[ConflictPair],
) -> Result<(), EngineError> {
    let failed =
        |what: &str, err: &dyn std::fmt::Display| EngineError::Demo(format!("{what}: {err}"));
    let pool = queue.pool();
    let people = in_step(setup);
    let mut used: HashSet<(ConnectorId, String)> = HashSet::new();
    // Accounts with work that may still run (or be retried) are left alone.
    let unsettled: Vec<OperationStatus> = OperationStatus::ALL
        .into_iter()
        .filter(|s| {
            !matches!(
                s,
                OperationStatus::Completed | OperationStatus::Cancelled | OperationStatus::Resolved
            )
        })
        .collect();
    for connector in [CORPORATE_DIRECTORY, CLOUD_CRM] {
        for key in store::targets_in(pool, connector, &unsettled).await? {
            used.insert((connector, key));
        }
    }
    // Every earlier operation is enqueued strictly before its later one.
    let start = Utc::now();
    let mut operations = Vec::with_capacity(pairs.len() * 2);
    for pair in pairs {
        let person = people
            .iter()
            .find(|p| used.insert((pair.connector, uid(p))))
            .ok_or_else(|| EngineError::Demo("no account left for a conflict".into()))?;
        let [earlier, later] = payloads(pair.kind, person);
        for (n, (id, (operation_type, target_uid, payload))) in
            [(pair.ids.0, earlier), (pair.ids.1, later)]
                .into_iter()
                .enumerate()
        {
            operations.push(NewOperation {
                id,
                tenant_id: DEMO_TENANT,
                connector_id: pair.connector,
                user_id: person.id,
                operation_type,
                object_class: "user".into(),
                target_uid,
                payload,
                priority: 0,
                max_retries: 5,
                idempotency_key: IdempotencyKey::Given(format!("demo:{id}")),
                created_at: start + Duration::milliseconds(i64::try_from(n).unwrap_or(0)),
            });
        }
    }
    queue
        .enqueue(&operations)
        .await
        .map_err(|e| failed("enqueue", &e))?;
    drain(queue).await?;

    for pair in pairs {
        let Some((outcome, notes)) = pair.resolution else {
            continue;
        };
        let query = ConflictQuery {
            operation_id: Some(pair.ids.1),
            pending_only: Some(true),
            ..ConflictQuery::default()
        };
        let (found, _) =
            store::list_conflicts(pool, DEMO_TENANT, &query, PageRequest::default()).await?;
        let conflict = found
            .first()
            .ok_or_else(|| EngineError::Demo(format!("pair {:?} made no conflict", pair.kind)))?;
        let done = store::resolve_conflict(
            pool,
            DEMO_TENANT,
            conflict.id,
            &ResolveConflict::new(outcome, notes),
            DEMO_ADMIN,
            ADMIN_EMAIL,
            &fate(outcome),
            Utc::now(),
        )
        .await?;
        if !matches!(done, ConflictResolution::Resolved { .. }) {
            return Err(EngineError::Demo(format!(
                "resolving {}: {done:?}",
                conflict.id
            )));
        }
    }
    drain(queue).await?;

    let spans: Vec<(OperationId, Duration)> = pairs
        .iter()
        .flat_map(|p| [(p.ids.0, p.age), (p.ids.1, p.age)])
        .collect();
    store::backdate_operations(pool, &spans).await?;
    Ok(())
}

async fn drain(queue: &Queue) -> Result<(), EngineError> {
    Worker::new(queue.clone(), "demo-seed-conflicts")
        .with_retry_policy(FAST)
        .drain(std::time::Duration::from_secs(1))
        .await?;
    Ok(())
}
