//! The demo's reconciliation history — Corporate Directory's runs, what they found, the audit log of the
//! remediations since, and 30 days of trend — and the conflicts between the operations of the script in
//! [`super::operations`]. Reconciliation has no engine of its own yet: when it has, seeding runs it over the
//! [`Setup`] instead, as it already runs the operations.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use dto::{ActionId, ConflictId, ConnectorId, DiscrepancyId, OperationId, RunId, UserId};
use enums::{
    ConflictOutcome, DiscrepancyType, ReconciliationMode, ReconciliationRunStatus,
    RemediationAction, RemediationDirection, ResolutionStatus,
};
use rand::{rngs::StdRng, Rng};
use serde_json::json;

use super::operations::{Plan, Planned};
use super::setup::{drift, scheduled_run_start};
use super::{ago, new_id, History, Setup, CORPORATE_DIRECTORY, DEMO_ADMIN, DEMO_TENANT};
use crate::store::{
    AttributeDiff, NewAction, NewConflict, NewDiscrepancy, NewIdentity, NewRun, TrendCount,
};

pub(super) fn history(rng: &mut StdRng, now: DateTime<Utc>, setup: &Setup, plan: &Plan) -> History {
    let demo_people: Vec<&NewIdentity> = setup
        .identities
        .iter()
        .filter(|i| i.tenant_id == DEMO_TENANT)
        .collect();
    let directory_accounts = setup
        .accounts
        .iter()
        .filter(|a| a.connector_id == CORPORATE_DIRECTORY)
        .count();
    let conflicts = conflicts(rng, now, plan);
    let (runs, discrepancies, actions) = reconciliation(rng, now, &demo_people, directory_accounts);
    let trend = trend(rng, now, &runs, &discrepancies);
    History {
        conflicts,
        runs,
        discrepancies,
        actions,
        trend,
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

/// Corporate Directory's three runs, what they found, and the audit log of the remediations since.
fn reconciliation(
    rng: &mut StdRng,
    now: DateTime<Utc>,
    people: &[&NewIdentity],
    accounts: usize,
) -> (Vec<NewRun>, Vec<NewDiscrepancy>, Vec<NewAction>) {
    let total = i64::try_from(accounts).unwrap_or(i64::MAX);
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
