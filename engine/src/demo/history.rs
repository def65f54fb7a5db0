//! A month of history: what the worker and the reconciler would have left behind. When they exist, seeding
//! runs them over the [`Setup`] instead and this module goes.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use dto::{
    ActionId, ConflictId, ConnectorId, DiscrepancyId, EntryId, ExecutionAttempt, OperationId,
    OperationLog, ProvisioningOperation, RunId, TenantId, UserId,
};
use enums::{
    ConflictOutcome, DiscrepancyType, OperationStatus, OperationType, ReconciliationMode,
    ReconciliationRunStatus, RemediationAction, RemediationDirection, ResolutionStatus,
};
use rand::{rngs::StdRng, Rng};
use serde_json::json;

use super::setup::{drift, scheduled_run_start, DEPARTMENTS, TITLES};
use super::{
    ago, new_id, History, SeededOperation, Setup, CLOUD_CRM, CORPORATE_DIRECTORY, DEMO_ADMIN,
    DEMO_OPERATIONS, DEMO_TENANT, LEGACY_HR, OTHER_ADMIN, OTHER_DIRECTORY, OTHER_OPERATIONS,
    OTHER_TENANT,
};
use crate::store::{
    AttributeDiff, Lease, NewAction, NewConflict, NewDiscrepancy, NewIdentity, NewRun,
    NewTargetAccount, TrendCount,
};

pub(super) fn history(rng: &mut StdRng, now: DateTime<Utc>, setup: &Setup) -> History {
    let demo_people: Vec<&NewIdentity> = setup
        .identities
        .iter()
        .filter(|i| i.tenant_id == DEMO_TENANT)
        .collect();
    let other_people: Vec<&NewIdentity> = setup
        .identities
        .iter()
        .filter(|i| i.tenant_id == OTHER_TENANT)
        .collect();

    let mut operations = Vec::new();
    let mut ops = OperationFactory {
        rng,
        now,
        tenant: DEMO_TENANT,
        admin: DEMO_ADMIN,
        people: &demo_people,
    };
    for n in 0..DEMO_OPERATIONS {
        // The first eight cover every status; the rest follow a realistic mix.
        let status = OperationStatus::ALL
            .get(n)
            .copied()
            .unwrap_or_else(|| ops.pick_status());
        let connector = ops.pick_connector(status);
        operations.push(ops.build(status, connector));
    }
    let mut others = OperationFactory {
        rng: ops.rng,
        now,
        tenant: OTHER_TENANT,
        admin: OTHER_ADMIN,
        people: &other_people,
    };
    for n in 0..OTHER_OPERATIONS {
        let status = OperationStatus::ALL[n % OperationStatus::ALL.len()];
        let status = if status == OperationStatus::AwaitingSystem {
            OperationStatus::Completed
        } else {
            status
        };
        operations.push(others.build(status, (OTHER_DIRECTORY, "Other Directory")));
    }
    let rng = others.rng;
    operations.sort_by_key(|s| s.operation.created_at);

    let conflicts = conflicts(rng, &operations);
    let (runs, discrepancies, actions) = reconciliation(rng, now, &demo_people, &setup.accounts);
    let trend = trend(rng, now, &runs, &discrepancies);
    History {
        operations,
        conflicts,
        runs,
        discrepancies,
        actions,
        trend,
    }
}

struct OperationFactory<'a> {
    rng: &'a mut StdRng,
    now: DateTime<Utc>,
    tenant: TenantId,
    admin: UserId,
    people: &'a [&'a NewIdentity],
}

struct Failure {
    code: &'static str,
    message: String,
    duration_ms: i64,
}

impl OperationFactory<'_> {
    fn pick_status(&mut self) -> OperationStatus {
        use OperationStatus::*;
        let weighted = [
            (Completed, 50),
            (Pending, 10),
            (Failed, 8),
            (AwaitingSystem, 8),
            (DeadLetter, 6),
            (Resolved, 5),
            (Cancelled, 5),
            (InProgress, 3),
        ];
        let total: u32 = weighted.iter().map(|(_, w)| w).sum();
        let mut roll = self.rng.gen_range(0..total);
        for (status, weight) in weighted {
            if roll < weight {
                return status;
            }
            roll -= weight;
        }
        Completed
    }

    /// Awaiting-system work waits on the offline Cloud CRM; the disabled Legacy HR only has settled history.
    fn pick_connector(&mut self, status: OperationStatus) -> (ConnectorId, &'static str) {
        use OperationStatus::*;
        if status == AwaitingSystem {
            return (CLOUD_CRM, "Cloud CRM");
        }
        let roll = self.rng.gen_range(0..100);
        if roll < 12 && matches!(status, Completed | Cancelled | DeadLetter | Resolved) {
            (LEGACY_HR, "Legacy HR")
        } else if roll < 24 && matches!(status, Completed | Failed | DeadLetter) {
            (CLOUD_CRM, "Cloud CRM")
        } else {
            (CORPORATE_DIRECTORY, "Corporate Directory")
        }
    }

    fn failure(&mut self, connector: &str) -> Failure {
        let (code, message, duration_ms) = match self.rng.gen_range(0..5) {
            0 => (
                "CONNECTION_FAILED",
                format!("connection refused by {connector} (ECONNREFUSED)"),
                12,
            ),
            1 => (
                "TIMEOUT",
                format!("{connector} did not answer within 30 s"),
                30_000,
            ),
            2 => (
                "TARGET_REJECTED",
                "target rejected the change: attribute `mail` must be unique".into(),
                180,
            ),
            3 => (
                "INVALID_ATTRIBUTE",
                "attribute `department` is not allowed by the target schema".into(),
                95,
            ),
            _ => (
                "RATE_LIMITED",
                format!("{connector} answered 429 Too Many Requests"),
                60,
            ),
        };
        Failure {
            code,
            message,
            duration_ms,
        }
    }

    fn log(
        &mut self,
        logs: &mut Vec<OperationLog>,
        op: OperationId,
        at: DateTime<Utc>,
        level: &str,
        msg: String,
    ) {
        logs.push(OperationLog {
            id: EntryId(new_id(self.rng)),
            operation_id: op,
            timestamp: at,
            level: level.into(),
            message: msg,
        });
    }

    fn build(
        &mut self,
        status: OperationStatus,
        (connector_id, connector): (ConnectorId, &str),
    ) -> SeededOperation {
        use OperationStatus::*;
        let id = OperationId(new_id(self.rng));
        let person = self.people[self.rng.gen_range(0..self.people.len())];
        let uid = person
            .email
            .split('@')
            .next()
            .unwrap_or_default()
            .to_owned();
        let operation_type = [
            OperationType::Create,
            OperationType::Update,
            OperationType::Update,
            OperationType::Delete,
        ][self.rng.gen_range(0..4)];
        let max_age_secs: i64 = match status {
            InProgress => 20 * 60,
            Pending => 36 * 3600,
            Failed => 3 * 86_400,
            AwaitingSystem => 5 * 86_400,
            _ => 30 * 86_400,
        };
        // Legacy HR was disabled ten days ago: its history is older.
        let min_age_secs = if connector_id == LEGACY_HR {
            10 * 86_400
        } else {
            60
        };
        let created_at = ago(
            self.now,
            self.rng
                .gen_range(min_age_secs..max_age_secs.max(min_age_secs + 1)),
        );
        let priority = [0, 0, 0, 0, 5, 5, 10][self.rng.gen_range(0..7)];
        let max_retries = 3;
        let payload = match operation_type {
            OperationType::Create => person.attributes.clone(),
            OperationType::Update => json!({
                "department": DEPARTMENTS[self.rng.gen_range(0..DEPARTMENTS.len())],
                "title": TITLES[self.rng.gen_range(0..TITLES.len())],
            }),
            OperationType::Delete => json!({ "reason": "identity deactivated" }),
        };

        let mut attempts = Vec::new();
        let mut logs = Vec::new();
        self.log(
            &mut logs,
            id,
            created_at,
            "info",
            format!("Operation queued ({operation_type}, priority {priority})"),
        );

        // How many attempts failed, and whether a last one succeeded.
        let (failures, succeeded) = match status {
            Completed => ([0, 0, 0, 0, 0, 1, 2][self.rng.gen_range(0..7)], true),
            Failed => (self.rng.gen_range(1..max_retries), false),
            DeadLetter | Resolved => (max_retries, false),
            AwaitingSystem => (1, false),
            Pending => (if self.rng.gen_bool(0.2) { 1 } else { 0 }, false),
            InProgress | Cancelled => (0, false),
        };
        let mut clock = created_at + Duration::seconds(self.rng.gen_range(1..30));
        let mut last_error = None;
        let mut started_at = None;
        for n in 1..=failures + i32::from(succeeded) {
            let failure = if n <= failures {
                Some(if status == AwaitingSystem {
                    Failure {
                        code: "CONNECTOR_OFFLINE",
                        message: format!("connector {connector} is offline"),
                        duration_ms: 5,
                    }
                } else {
                    self.failure(connector)
                })
            } else {
                None
            };
            let duration_ms = failure
                .as_ref()
                .map_or_else(|| self.rng.gen_range(40..2_500), |f| f.duration_ms);
            let end = clock + Duration::milliseconds(duration_ms);
            self.log(&mut logs, id, clock, "info", format!("Attempt {n} started"));
            match &failure {
                Some(f) => {
                    let level = if n == failures && !matches!(status, Pending | Failed) {
                        "error"
                    } else {
                        "warn"
                    };
                    self.log(
                        &mut logs,
                        id,
                        end,
                        level,
                        format!("Attempt {n} failed: {}: {}", f.code, f.message),
                    );
                }
                None => self.log(
                    &mut logs,
                    id,
                    end,
                    "info",
                    format!("Attempt {n} succeeded in {duration_ms} ms"),
                ),
            }
            attempts.push((
                EntryId(new_id(self.rng)),
                ExecutionAttempt {
                    attempt_number: n,
                    started_at: clock,
                    completed_at: Some(end),
                    success: failure.is_none(),
                    error_code: failure.as_ref().map(|f| f.code.to_owned()),
                    error_message: failure.as_ref().map(|f| f.message.clone()),
                    duration_ms: Some(duration_ms),
                },
            ));
            started_at = Some(clock);
            last_error = failure.map(|f| f.message);
            // Exponential backoff before the next attempt: 30 s, 60 s, 120 s, ...
            clock = end + Duration::seconds(30_i64 << (n - 1));
        }
        let last_end = attempts.last().and_then(|(_, a)| a.completed_at);

        let mut op = ProvisioningOperation {
            id,
            tenant_id: self.tenant,
            connector_id,
            connector_name: Some(connector.to_owned()),
            user_id: person.id,
            operation_type,
            object_class: "user".into(),
            target_uid: (operation_type != OperationType::Create || succeeded).then(|| uid.clone()),
            status,
            priority,
            retry_count: failures,
            max_retries,
            error_message: last_error,
            payload: Some(payload),
            idempotency_key: None,
            next_retry_at: None,
            created_at,
            updated_at: last_end.unwrap_or(created_at),
            started_at,
            completed_at: None,
            resolution_notes: None,
            resolved_by: None,
            resolved_at: None,
        };
        let mut lease = None;
        match status {
            Completed => {
                op.completed_at = last_end;
                self.log(
                    &mut logs,
                    id,
                    op.updated_at,
                    "info",
                    format!("Completed on {connector}"),
                );
            }
            Failed | Pending if failures > 0 => {
                let next = (clock).max(self.now + Duration::seconds(self.rng.gen_range(30..600)));
                op.next_retry_at = Some(next);
                self.log(
                    &mut logs,
                    id,
                    op.updated_at,
                    "info",
                    format!("Retry {failures} of {max_retries} scheduled"),
                );
            }
            DeadLetter | Resolved => {
                self.log(
                    &mut logs,
                    id,
                    op.updated_at,
                    "error",
                    format!("Moved to the dead letter queue after {failures} failed attempts"),
                );
            }
            AwaitingSystem => {
                op.retry_count = 0;
                self.log(
                    &mut logs,
                    id,
                    op.updated_at,
                    "warn",
                    format!("Waiting for {connector} to come back online"),
                );
            }
            InProgress => {
                let start = (created_at + Duration::seconds(5)).min(self.now);
                op.started_at = Some(start);
                op.updated_at = start;
                lease = Some(Lease {
                    owner: "engine-worker-1".into(),
                    expires_at: self.now + Duration::seconds(60),
                });
                self.log(&mut logs, id, start, "info", "Attempt 1 started".into());
            }
            Cancelled => {
                op.updated_at =
                    (created_at + Duration::minutes(self.rng.gen_range(1..90))).min(self.now);
                self.log(
                    &mut logs,
                    id,
                    op.updated_at,
                    "info",
                    "Cancelled by an admin".into(),
                );
            }
            Pending | Failed => {}
        }
        if status == Resolved {
            let at = (op.updated_at + Duration::hours(self.rng.gen_range(1..48))).min(self.now);
            let notes = [
                "Fixed the account by hand in the target",
                "Duplicate of a later change",
                "Target record removed",
            ][self.rng.gen_range(0..3)];
            op.resolution_notes = Some(notes.into());
            op.resolved_by = Some(self.admin);
            op.resolved_at = Some(at);
            op.updated_at = at;
            self.log(
                &mut logs,
                id,
                at,
                "info",
                format!("Resolved by an admin: {notes}"),
            );
        }
        SeededOperation {
            operation: op,
            idempotency_key: format!("seed:{id}"),
            lease,
            attempts,
            logs,
        }
    }
}

/// Four conflicts between operations of one user on one connector: two pending, two resolved.
fn conflicts(rng: &mut StdRng, operations: &[SeededOperation]) -> Vec<NewConflict> {
    let mut by_target: BTreeMap<(ConnectorId, UserId), Vec<&ProvisioningOperation>> =
        BTreeMap::new();
    for seeded in operations
        .iter()
        .filter(|s| s.operation.tenant_id == DEMO_TENANT)
    {
        let op = &seeded.operation;
        by_target
            .entry((op.connector_id, op.user_id))
            .or_default()
            .push(op);
    }
    let pairs: Vec<(&ProvisioningOperation, &ProvisioningOperation)> = by_target
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
    pairs
        .into_iter()
        .zip(kinds)
        .map(|((a, b), (kind, attributes, outcome))| {
            let created_at = a.created_at.max(b.created_at) + Duration::seconds(2);
            NewConflict {
                id: ConflictId(new_id(rng)),
                tenant_id: DEMO_TENANT,
                operation_id_a: a.id,
                operation_id_b: b.id,
                conflict_type: kind.into(),
                affected_attributes: attributes.into_iter().map(String::from).collect(),
                outcome: outcome.map(|(o, _)| o),
                notes: outcome.map(|(_, n)| n.to_owned()),
                created_at,
                resolved_at: outcome.map(|_| created_at + Duration::hours(3)),
                resolved_by: outcome.map(|_| DEMO_ADMIN),
            }
        })
        .collect()
}

/// Corporate Directory's three runs, what they found, and the audit log of the remediations since.
fn reconciliation(
    rng: &mut StdRng,
    now: DateTime<Utc>,
    people: &[&NewIdentity],
    accounts: &[NewTargetAccount],
) -> (Vec<NewRun>, Vec<NewDiscrepancy>, Vec<NewAction>) {
    let total = i64::try_from(accounts.len()).unwrap_or(i64::MAX);
    let admin = Some(DEMO_ADMIN);
    let (full_mode, delta) = (ReconciliationMode::Full, ReconciliationMode::Delta);
    let (completed, failed_status) = (
        ReconciliationRunStatus::Completed,
        ReconciliationRunStatus::Failed,
    );
    let mut failed = new_run(
        rng,
        total,
        ago(now, 6 * 86_400),
        failed_status,
        false,
        full_mode,
        admin,
    );
    failed.accounts_processed = 12;
    failed.api_calls_made = 13;
    failed.error_message = Some(
        "connection reset by Corporate Directory after 12 accounts (CONNECTION_FAILED)".into(),
    );
    let mut dry = new_run(
        rng,
        total,
        ago(now, 3 * 86_400),
        completed,
        true,
        delta,
        admin,
    );
    let mut full = new_run(
        rng,
        total,
        scheduled_run_start(now),
        completed,
        false,
        full_mode,
        None,
    );

    let mut discrepancies = Vec::new();
    let uid_of = |p: &NewIdentity| p.email.split('@').next().unwrap_or_default().to_owned();
    let mismatch = |d: &mut NewDiscrepancy, p: &NewIdentity| {
        let xavyo_dept = p.attributes["department"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let xavyo_title = p.attributes["title"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        d.attribute_name = Some("department".into());
        d.expected_value = Some(xavyo_dept.clone());
        d.actual_value = Some("Unassigned".into());
        d.mismatched_attributes = Some(BTreeMap::from([
            (
                "department".to_owned(),
                AttributeDiff {
                    xavyo: json!(xavyo_dept),
                    target: json!("Unassigned"),
                },
            ),
            (
                "title".to_owned(),
                AttributeDiff {
                    xavyo: json!(xavyo_title),
                    target: json!("Contractor"),
                },
            ),
        ]));
    };

    // The dry run three days ago saw part of today's drift.
    for &i in &drift::MISMATCH[..2] {
        let k = push(
            &mut discrepancies,
            rng,
            &dry,
            DiscrepancyType::Mismatch,
            Some(people[i]),
            Some(uid_of(people[i])),
        );
        mismatch(&mut discrepancies[k], people[i]);
    }
    push(
        &mut discrepancies,
        rng,
        &dry,
        DiscrepancyType::Missing,
        Some(people[drift::MISSING[0]]),
        None,
    );
    push(
        &mut discrepancies,
        rng,
        &dry,
        DiscrepancyType::Orphan,
        None,
        Some(drift::ORPHANS[2].into()),
    );
    let dry_found = discrepancies.len();

    // Yesterday's scheduled full run: every kind of drift, some remediated or ignored since.
    let mut remediated = Vec::new();
    for &i in drift::MISSING.iter().chain([&drift::MISSING_FIXED]) {
        let k = push(
            &mut discrepancies,
            rng,
            &full,
            DiscrepancyType::Missing,
            Some(people[i]),
            None,
        );
        if i == drift::MISSING_FIXED {
            remediated.push((k, RemediationAction::Create));
        }
    }
    for uid in drift::ORPHANS {
        let k = push(
            &mut discrepancies,
            rng,
            &full,
            DiscrepancyType::Orphan,
            None,
            Some(uid.into()),
        );
        if uid == drift::ORPHANS[0] {
            discrepancies[k].resolution_status = ResolutionStatus::Ignored;
        }
    }
    for &i in drift::MISMATCH.iter().chain(&drift::MISMATCH_FIXED) {
        let k = push(
            &mut discrepancies,
            rng,
            &full,
            DiscrepancyType::Mismatch,
            Some(people[i]),
            Some(uid_of(people[i])),
        );
        mismatch(&mut discrepancies[k], people[i]);
        if drift::MISMATCH_FIXED.contains(&i) {
            remediated.push((k, RemediationAction::Update));
        }
    }
    for &i in &drift::COLLISION {
        push(
            &mut discrepancies,
            rng,
            &full,
            DiscrepancyType::Collision,
            Some(people[i]),
            Some(format!("{}2", uid_of(people[i]))),
        );
    }
    for &i in drift::UNLINKED.iter().chain([&drift::UNLINKED_FIXED]) {
        let k = push(
            &mut discrepancies,
            rng,
            &full,
            DiscrepancyType::Unlinked,
            Some(people[i]),
            Some(uid_of(people[i])),
        );
        if i == drift::UNLINKED_FIXED {
            remediated.push((k, RemediationAction::Link));
        }
    }
    for &i in &drift::DELETED {
        let k = push(
            &mut discrepancies,
            rng,
            &full,
            DiscrepancyType::Deleted,
            Some(people[i]),
            Some(uid_of(people[i])),
        );
        if i == drift::DELETED[1] {
            discrepancies[k].resolution_status = ResolutionStatus::Ignored;
        }
    }

    let settle = full.started_at + Duration::hours(7);
    let mut actions = Vec::new();
    for d in discrepancies
        .iter_mut()
        .filter(|d| d.resolution_status == ResolutionStatus::Ignored)
    {
        d.resolved_at = Some(settle);
        d.resolved_by = Some(DEMO_ADMIN);
    }
    for (n, (k, action)) in remediated.into_iter().enumerate() {
        let d = &mut discrepancies[k];
        let at = settle + Duration::minutes(i64::try_from(n).unwrap_or(0) * 3);
        d.resolution_status = ResolutionStatus::Resolved;
        d.resolved_at = Some(at);
        d.resolved_by = Some(DEMO_ADMIN);
        actions.push(NewAction {
            id: ActionId(new_id(rng)),
            tenant_id: DEMO_TENANT,
            connector_id: CORPORATE_DIRECTORY,
            discrepancy_id: Some(d.id),
            action_type: action,
            direction: Some(RemediationDirection::XavyoToTarget),
            result: "success".into(),
            dry_run: false,
            performed_by: Some(DEMO_ADMIN),
            performed_at: at,
            details: Some(json!({ "external_uid": d.external_uid, "identity_id": d.identity_id })),
        });
    }
    // A preview before the fixes, and one remediation the target refused.
    let first_mismatch = &discrepancies[0];
    actions.push(NewAction {
        id: ActionId(new_id(rng)),
        tenant_id: DEMO_TENANT,
        connector_id: CORPORATE_DIRECTORY,
        discrepancy_id: Some(first_mismatch.id),
        action_type: RemediationAction::Update,
        direction: Some(RemediationDirection::XavyoToTarget),
        result: "success".into(),
        dry_run: true,
        performed_by: Some(DEMO_ADMIN),
        performed_at: dry.started_at + Duration::hours(1),
        details: Some(json!({ "would_change": { "department": first_mismatch.expected_value } })),
    });
    let refused = discrepancies.iter().skip(dry_found).find(|d| {
        d.discrepancy_type == DiscrepancyType::Missing
            && d.resolution_status == ResolutionStatus::Pending
    });
    if let Some(d) = refused {
        actions.push(NewAction {
            id: ActionId(new_id(rng)),
            tenant_id: DEMO_TENANT,
            connector_id: CORPORATE_DIRECTORY,
            discrepancy_id: Some(d.id),
            action_type: RemediationAction::Create,
            direction: Some(RemediationDirection::XavyoToTarget),
            result: "failure".into(),
            dry_run: false,
            performed_by: Some(DEMO_ADMIN),
            performed_at: settle - Duration::minutes(20),
            details: Some(
                json!({ "error": "target rejected the account: mailbox quota exceeded" }),
            ),
        });
    }
    actions.sort_by_key(|a| a.performed_at);

    let finish = |run: &mut NewRun, found: usize, seconds: f64| {
        run.discrepancies_found = i64::try_from(found).unwrap_or(0);
        run.duration_seconds = Some(seconds);
        run.completed_at = Some(run.started_at + Duration::milliseconds((seconds * 1000.0) as i64));
    };
    finish(&mut failed, 0, 7.4);
    finish(&mut dry, dry_found, 18.2);
    finish(&mut full, discrepancies.len() - dry_found, 41.6);
    (vec![failed, dry, full], discrepancies, actions)
}

fn new_run(
    rng: &mut StdRng,
    accounts: i64,
    started_at: DateTime<Utc>,
    status: ReconciliationRunStatus,
    dry_run: bool,
    mode: ReconciliationMode,
    created_by: Option<UserId>,
) -> NewRun {
    NewRun {
        id: RunId(new_id(rng)),
        tenant_id: DEMO_TENANT,
        connector_id: CORPORATE_DIRECTORY,
        mode,
        dry_run,
        status,
        scheduled: created_by.is_none(),
        started_at,
        completed_at: None,
        accounts_total: accounts,
        accounts_processed: accounts,
        discrepancies_found: 0,
        api_calls_made: accounts + 2,
        duration_seconds: None,
        created_by,
        error_message: None,
    }
}

/// Records that `run` found a discrepancy of `kind`; returns its index in `list`.
fn push(
    list: &mut Vec<NewDiscrepancy>,
    rng: &mut StdRng,
    run: &NewRun,
    kind: DiscrepancyType,
    person: Option<&NewIdentity>,
    external_uid: Option<String>,
) -> usize {
    let suggested_actions = match kind {
        DiscrepancyType::Missing => vec![RemediationAction::Create],
        DiscrepancyType::Orphan => vec![RemediationAction::Delete, RemediationAction::Link],
        DiscrepancyType::Mismatch => vec![RemediationAction::Update],
        DiscrepancyType::Collision | DiscrepancyType::Unlinked => vec![RemediationAction::Link],
        DiscrepancyType::Deleted => {
            vec![
                RemediationAction::Create,
                RemediationAction::Unlink,
                RemediationAction::InactivateIdentity,
            ]
        }
    };
    let n = i64::try_from(list.len()).unwrap_or(0);
    list.push(NewDiscrepancy {
        id: DiscrepancyId(new_id(rng)),
        tenant_id: DEMO_TENANT,
        connector_id: CORPORATE_DIRECTORY,
        run_id: run.id,
        discrepancy_type: kind,
        identity_id: person.map(|p| p.id),
        external_uid,
        attribute_name: None,
        expected_value: None,
        actual_value: None,
        mismatched_attributes: None,
        suggested_actions,
        resolution_status: ResolutionStatus::Pending,
        resolved_at: None,
        resolved_by: None,
        created_at: run.started_at + Duration::seconds(5 + n),
    });
    list.len() - 1
}

/// 30 days of daily counts per type for Corporate Directory; the days of the runs count what they found.
fn trend(
    rng: &mut StdRng,
    now: DateTime<Utc>,
    runs: &[NewRun],
    discrepancies: &[NewDiscrepancy],
) -> Vec<TrendCount> {
    let mut counts: BTreeMap<(chrono::NaiveDate, DiscrepancyType), i64> = BTreeMap::new();
    for days_ago in 0..30 {
        let day = (now - Duration::days(days_ago)).date_naive();
        for kind in DiscrepancyType::ALL {
            // Older days drifted more: the trend slopes down towards today.
            let ceiling = 1 + days_ago / 10;
            counts.insert((day, kind), rng.gen_range(0..=ceiling));
        }
    }
    for run in runs {
        let day = run.started_at.date_naive();
        for kind in DiscrepancyType::ALL {
            let found = discrepancies
                .iter()
                .filter(|d| d.run_id == run.id && d.discrepancy_type == kind)
                .count();
            counts.insert((day, kind), i64::try_from(found).unwrap_or(0));
        }
    }
    counts
        .into_iter()
        .map(|((day, discrepancy_type), count)| TrendCount {
            tenant_id: DEMO_TENANT,
            connector_id: CORPORATE_DIRECTORY,
            day,
            discrepancy_type,
            count,
        })
        .collect()
}
