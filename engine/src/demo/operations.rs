//! The demo's provisioning history as a script: which operations an operator's systems enqueued, how the
//! connectors behaved meanwhile (error rates, Cloud CRM going offline, Legacy HR being disabled), and what
//! admins did (cancel, resolve). [`super::seed`] plays it through the real queue, worker and directory
//! connector, so every status, attempt and log line is what the engine itself produced; only the times are
//! moved back afterwards, each operation by its [`Planned::age`].
//!
//! What it leaves, in Demo Corp (300 operations): Corporate Directory's history mostly completed (transient
//! errors retried on the way), dead letters from bad data (permanent: retrying fails again) and from an outage
//! six days ago (transient: retrying now succeeds), a few of both resolved by the admin, cancelled ones, 24
//! `failed` from an outage minutes ago whose next try is a quarter of an hour away, and one `in_progress` held
//! by a worker that stopped (its lease runs out ten minutes after seeding, then the reaper requeues it); Legacy
//! HR's older history, then `pending` work it will not get while disabled; Cloud CRM's history, then
//! `awaiting_system` work since it went offline.

use std::time::Duration;

use chrono::Duration as Age;
use dto::{ConnectorId, OperationId, TenantId, UserId};
use enums::{ConnectorStatus, OperationType};
use rand::{rngs::StdRng, Rng};
use serde_json::{json, Value};

use super::setup::drift;
use super::{
    new_id, Setup, CLOUD_CRM, CORPORATE_DIRECTORY, DEMO_ADMIN, DEMO_TENANT, LEGACY_HR, OTHER_ADMIN,
    OTHER_DIRECTORY, OTHER_TENANT,
};
use crate::{
    connector::ConnectorSettings,
    queue::RetryPolicy,
    store::{IdempotencyKey, NewIdentity, NewOperation},
};

/// Failed attempts before the dead-letter queue, as the engine's default.
const MAX_RETRIES: i32 = 5;

/// An operation of the script, and how long ago it is made to look enqueued.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// The operation (its `created_at` is set when it is enqueued).
    pub operation: NewOperation,
    /// Its age once the history is moved back in time.
    pub age: Age,
}

/// One step of the script.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// An admin sets a connector's fault settings (`PUT /connectors/{id}/settings`).
    Settings {
        /// The connector's tenant.
        tenant: TenantId,
        /// The connector.
        connector: ConnectorId,
        /// The faults to inject.
        settings: ConnectorSettings,
    },
    /// An operator changes a connector's status.
    Status {
        /// The connector.
        connector: ConnectorId,
        /// Its new status.
        status: ConnectorStatus,
    },
    /// Operations are enqueued (`POST /operations`).
    Enqueue(Vec<Planned>),
    /// An admin cancels pending operations (`POST /operations/{id}/cancel`).
    Cancel(Vec<(TenantId, OperationId)>),
    /// An admin resolves dead letters (`POST /operations/{id}/resolve`).
    Resolve(Vec<(TenantId, UserId, OperationId, &'static str)>),
    /// A worker runs until nothing is due, with this retry policy.
    Drain(RetryPolicy),
    /// A worker claims the next due operation under a lease of this length, and stops.
    Stall(Duration),
}

/// The whole script.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// In order.
    pub steps: Vec<Step>,
}

impl Plan {
    /// Every operation it enqueues.
    pub fn operations(&self) -> impl Iterator<Item = &Planned> {
        self.steps.iter().flat_map(|step| match step {
            Step::Enqueue(ops) => ops.as_slice(),
            _ => &[],
        })
    }
}

/// Retries within milliseconds: the history settles at once (its attempts end up milliseconds apart).
const FAST: RetryPolicy = RetryPolicy {
    base: Duration::from_millis(1),
    max: Duration::from_millis(8),
    jitter: 0.2,
};

/// The outage of the last hour: the next try is 12 to 15 minutes away.
const SLOW: RetryPolicy = RetryPolicy {
    base: Duration::from_secs(15 * 60),
    max: Duration::from_secs(3600),
    jitter: 0.2,
};

struct Builder<'a> {
    rng: &'a mut StdRng,
}

impl Builder<'_> {
    fn days(&mut self, from: i64, to: i64) -> Age {
        Age::seconds(self.rng.gen_range(from * 86_400..to * 86_400))
    }

    fn minutes(&mut self, from: i64, to: i64) -> Age {
        Age::seconds(self.rng.gen_range(from * 60..to * 60))
    }

    fn priority(&mut self) -> i32 {
        [0, 0, 0, 0, 5, 5, 10][self.rng.gen_range(0..7)]
    }

    fn op(
        &mut self,
        (tenant, connector): (TenantId, ConnectorId),
        person: &NewIdentity,
        operation_type: OperationType,
        target_uid: Option<String>,
        payload: Value,
        age: Age,
    ) -> Planned {
        let id = OperationId(new_id(self.rng));
        Planned {
            operation: NewOperation {
                id,
                tenant_id: tenant,
                connector_id: connector,
                user_id: person.id,
                operation_type,
                object_class: "user".into(),
                target_uid,
                payload,
                priority: self.priority(),
                max_retries: MAX_RETRIES,
                idempotency_key: IdempotencyKey::Given(format!("demo:{id}")),
                created_at: chrono::DateTime::UNIX_EPOCH,
            },
            age,
        }
    }

    /// Pushes the person's attributes as they are (a create of an account that exists updates it).
    fn sync_create(
        &mut self,
        tenant: TenantId,
        connector: ConnectorId,
        p: &NewIdentity,
        age: Age,
    ) -> Planned {
        self.op(
            (tenant, connector),
            p,
            OperationType::Create,
            None,
            p.attributes.clone(),
            age,
        )
    }

    /// Pushes the person's department and title.
    fn sync_update(
        &mut self,
        tenant: TenantId,
        connector: ConnectorId,
        p: &NewIdentity,
        age: Age,
    ) -> Planned {
        let payload = json!({
            "department": p.attributes["department"],
            "title": p.attributes["title"],
        });
        self.op(
            (tenant, connector),
            p,
            OperationType::Update,
            Some(uid(p)),
            payload,
            age,
        )
    }

    /// Either of the two.
    fn sync(
        &mut self,
        tenant: TenantId,
        connector: ConnectorId,
        p: &NewIdentity,
        age: Age,
    ) -> Planned {
        if self.rng.gen_bool(0.4) {
            self.sync_create(tenant, connector, p, age)
        } else {
            self.sync_update(tenant, connector, p, age)
        }
    }
}

fn uid(p: &NewIdentity) -> String {
    p.email.split('@').next().unwrap_or_default().to_owned()
}

fn pick<'a>(rng: &mut StdRng, people: &[&'a NewIdentity]) -> &'a NewIdentity {
    people[rng.gen_range(0..people.len())]
}

fn settings(
    tenant: TenantId,
    connector: ConnectorId,
    offline: bool,
    error_rate: f64,
    latency_ms: u64,
) -> Step {
    Step::Settings {
        tenant,
        connector,
        settings: ConnectorSettings {
            offline,
            error_rate,
            latency_ms,
        },
    }
}

/// Builds the script from the demo world.
pub(super) fn plan(rng: &mut StdRng, setup: &Setup) -> Plan {
    let people: Vec<&NewIdentity> = setup
        .identities
        .iter()
        .filter(|i| i.tenant_id == DEMO_TENANT)
        .collect();
    let others: Vec<&NewIdentity> = setup
        .identities
        .iter()
        .filter(|i| i.tenant_id == OTHER_TENANT)
        .collect();
    // People whose Corporate Directory account is as it should be: syncing them changes nothing there.
    let drifting: Vec<usize> = drift::MISSING
        .iter()
        .chain(&drift::MISMATCH)
        .chain(&drift::UNLINKED)
        .chain(&drift::DELETED)
        .chain(&drift::COLLISION)
        .copied()
        .collect();
    let in_step: Vec<&NewIdentity> = people
        .iter()
        .enumerate()
        .filter(|(i, _)| !drifting.contains(i))
        .map(|(_, p)| *p)
        .collect();
    let (demo, other) = (DEMO_TENANT, OTHER_TENANT);
    let cd = CORPORATE_DIRECTORY;
    let mut b = Builder { rng };
    let mut steps = vec![
        settings(demo, cd, false, 0.2, 0),
        settings(demo, LEGACY_HR, false, 0.1, 0),
        settings(demo, CLOUD_CRM, false, 0.1, 0),
        settings(other, OTHER_DIRECTORY, false, 0.1, 0),
    ];

    // A month of everyday work, with a fifth of Corporate Directory's calls failing transiently on the way.
    let mut everyday = Vec::new();
    for _ in 0..96 {
        let p = pick(b.rng, &in_step);
        let age = b.days(1, 30);
        everyday.push(b.sync(demo, cd, p, age));
    }
    let mut temporary = Vec::new();
    for n in 0..20 {
        let p = pick(b.rng, &in_step);
        let temp_uid = format!("tmp.{}.{n:02}", uid(p));
        let age = b.days(6, 30);
        let payload = json!({
            "email": format!("{temp_uid}@demo.local"),
            "title": "Temporary access",
            "department": p.attributes["department"],
        });
        everyday.push(b.op(
            (demo, cd),
            p,
            OperationType::Create,
            Some(temp_uid.clone()),
            payload,
            age,
        ));
        let removed = age - b.days(1, 5);
        temporary.push(b.op(
            (demo, cd),
            p,
            OperationType::Delete,
            Some(temp_uid),
            json!({"reason": "temporary access expired"}),
            removed,
        ));
    }
    // Bad data: these fail permanently, and would again if retried.
    let mut permanent = Vec::new();
    for &i in &drift::DELETED {
        let age = b.days(2, 20);
        permanent.push(b.sync_update(demo, cd, people[i], age));
    }
    for &i in &drift::COLLISION {
        let p = people[i];
        let age = b.days(2, 20);
        permanent.push(b.op(
            (demo, cd),
            p,
            OperationType::Create,
            Some(format!("{}2", uid(p))),
            p.attributes.clone(),
            age,
        ));
    }
    for _ in 0..2 {
        let p = pick(b.rng, &in_step);
        let age = b.days(2, 20);
        let payload =
            json!({"title": p.attributes["title"], "manager": {"uid": "ceo", "since": 2019}});
        permanent.push(b.op(
            (demo, cd),
            p,
            OperationType::Update,
            Some(uid(p)),
            payload,
            age,
        ));
    }
    for &i in &drift::MISSING[..2] {
        let p = people[i];
        let age = b.days(2, 20);
        permanent.push(b.op(
            (demo, cd),
            p,
            OperationType::Delete,
            Some(uid(p)),
            json!({"reason": "identity deactivated"}),
            age,
        ));
    }
    everyday.extend(permanent.iter().cloned());
    let mut cancelled = Vec::new();
    for _ in 0..10 {
        let p = pick(b.rng, &in_step);
        let age = b.days(1, 25);
        cancelled.push(b.sync(demo, cd, p, age));
    }
    for _ in 0..4 {
        let p = pick(b.rng, &people);
        let age = b.days(11, 30);
        cancelled.push(b.sync(demo, LEGACY_HR, p, age));
    }
    // Legacy HR before it was disabled ten days ago, Cloud CRM before it went offline five days ago.
    for _ in 0..40 {
        let p = pick(b.rng, &people);
        let age = b.days(11, 30);
        everyday.push(b.sync(demo, LEGACY_HR, p, age));
    }
    for _ in 0..35 {
        let p = pick(b.rng, &people);
        let age = b.days(6, 30);
        everyday.push(b.sync(demo, CLOUD_CRM, p, age));
    }
    // Other Corp: its own connector and history, which Demo Corp never sees.
    let mut other_cancelled = Vec::new();
    for _ in 0..16 {
        let p = pick(b.rng, &others);
        let age = b.days(1, 30);
        everyday.push(b.sync(other, OTHER_DIRECTORY, p, age));
    }
    let mut other_permanent = Vec::new();
    for _ in 0..2 {
        let p = pick(b.rng, &others);
        let age = b.days(2, 20);
        other_permanent.push(b.op(
            (other, OTHER_DIRECTORY),
            p,
            OperationType::Update,
            Some("former.employee".into()),
            json!({"title": "Alumni"}),
            age,
        ));
    }
    everyday.extend(other_permanent.iter().cloned());
    for _ in 0..3 {
        let p = pick(b.rng, &others);
        let age = b.days(1, 20);
        other_cancelled.push(b.sync(other, OTHER_DIRECTORY, p, age));
    }
    let cancel: Vec<_> = cancelled
        .iter()
        .chain(&other_cancelled)
        .map(|p| (p.operation.tenant_id, p.operation.id))
        .collect();
    everyday.extend(cancelled);
    everyday.extend(other_cancelled);
    steps.push(Step::Enqueue(everyday));
    steps.push(Step::Cancel(cancel));
    steps.push(Step::Drain(FAST));
    steps.push(Step::Enqueue(temporary));
    steps.push(Step::Drain(FAST));

    // Six days ago Corporate Directory failed every call until these ran out of retries: the cause was
    // transient, so retrying them now succeeds.
    steps.push(settings(demo, cd, false, 1.0, 0));
    let mut outage = Vec::new();
    for _ in 0..10 {
        let p = pick(b.rng, &in_step);
        let age = Age::days(6) + b.minutes(0, 120);
        outage.push(b.sync(demo, cd, p, age));
    }
    let resolve = vec![
        (
            demo,
            DEMO_ADMIN,
            permanent[0].operation.id,
            "Account removed from the directory on purpose",
        ),
        (
            demo,
            DEMO_ADMIN,
            permanent[2].operation.id,
            "Linked the existing account by hand",
        ),
        (
            demo,
            DEMO_ADMIN,
            outage[0].operation.id,
            "Applied by hand during the outage",
        ),
        (
            demo,
            DEMO_ADMIN,
            outage[1].operation.id,
            "Duplicate of a later change",
        ),
        (
            other,
            OTHER_ADMIN,
            other_permanent[0].operation.id,
            "Former employee: nothing to update",
        ),
    ];
    steps.push(Step::Enqueue(outage));
    steps.push(Step::Drain(FAST));
    steps.push(Step::Resolve(resolve));

    // Legacy HR is disabled: what is queued for it since waits.
    steps.push(Step::Status {
        connector: LEGACY_HR,
        status: ConnectorStatus::Disabled,
    });
    let mut waiting = Vec::new();
    for _ in 0..12 {
        let p = pick(b.rng, &people);
        let age = b.days(0, 9) + b.minutes(5, 60);
        waiting.push(b.sync(demo, LEGACY_HR, p, age));
    }
    steps.push(Step::Enqueue(waiting));

    // Cloud CRM went offline: its work awaits it, without using retries.
    steps.push(settings(demo, CLOUD_CRM, true, 0.1, 0));
    let mut awaiting = Vec::new();
    for _ in 0..20 {
        let p = pick(b.rng, &people);
        let age = b.days(0, 5) + b.minutes(5, 60);
        awaiting.push(b.sync(demo, CLOUD_CRM, p, age));
    }
    steps.push(Step::Enqueue(awaiting));
    steps.push(Step::Drain(FAST));

    // The last hour: Corporate Directory (and Other Directory) fail again; each operation failed once and
    // waits for its next try with the engine's real backoff.
    steps.push(settings(other, OTHER_DIRECTORY, false, 1.0, 0));
    let mut recent = Vec::new();
    for _ in 0..24 {
        let p = pick(b.rng, &in_step);
        let age = b.minutes(2, 55);
        recent.push(b.sync(demo, cd, p, age));
    }
    for _ in 0..3 {
        let p = pick(b.rng, &others);
        let age = b.minutes(2, 55);
        recent.push(b.sync(other, OTHER_DIRECTORY, p, age));
    }
    steps.push(Step::Enqueue(recent));
    steps.push(Step::Drain(SLOW));

    // Both directories recover; one last change is picked up by a worker that then stops.
    steps.push(settings(demo, cd, false, 0.0, 40));
    steps.push(settings(other, OTHER_DIRECTORY, false, 0.0, 0));
    let p = pick(b.rng, &in_step);
    let stalled = b.sync_update(demo, cd, p, Age::seconds(90));
    steps.push(Step::Enqueue(vec![stalled]));
    steps.push(Step::Stall(Duration::from_secs(10 * 60)));
    Plan { steps }
}
