//! Reconciliation over HTTP: runs executed by the background reconciler over the demo's drifted directory,
//! their lifecycle (pause, resume, cancel, crash recovery, delta), remediation that really changes the target
//! or the identity, bulk remediation and its cap, and the validation of every parameter.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use axum::http::StatusCode;
use dto::{
    BulkRemediateResponse, Discrepancy, DiscrepancyList, PreviewResponse, ReconciliationReport,
    ReconciliationRun, RemediationResult, RunList,
};
use engine::{
    connector::{Call, Connector, ConnectorTarget},
    demo::{CORPORATE_DIRECTORY, OTHER_DIRECTORY},
    ReconcilerConfig,
};
use enums::{DiscrepancyType, ReconciliationRunStatus, ResolutionStatus};
use serde_json::{json, Value};

use crate::common::{
    assert_error, engine, engine_with_reconciler, fast_queue, login, send, with_body, TestEngine,
};

fn runs_path() -> String {
    format!("/connectors/{CORPORATE_DIRECTORY}/reconciliation/runs")
}

fn recon(path: &str) -> String {
    format!("/connectors/{CORPORATE_DIRECTORY}/reconciliation/{path}")
}

/// The directory connector as a test calls it directly (no injected faults): the target system itself.
fn directory(te: &TestEngine) -> (Arc<dyn Connector>, ConnectorTarget) {
    let connector = te
        .engine
        .queue()
        .connectors()
        .get("directory")
        .expect("the directory connector");
    let target = ConnectorTarget {
        id: CORPORATE_DIRECTORY,
        tenant_id: te.demo.tenant_id,
        name: "Corporate Directory".into(),
        connector_type: "directory".into(),
        settings: json!({}),
    };
    (connector, target)
}

async fn account(te: &TestEngine, uid: &str) -> Option<engine::connector::Account> {
    let (connector, target) = directory(te);
    connector
        .get(
            Call {
                target: &target,
                key: "test",
            },
            uid,
        )
        .await
        .expect("the directory answers")
}

async fn start(te: &TestEngine, token: &str, body: Value) -> ReconciliationRun {
    let (status, body) = te.admin_post(token, &runs_path(), body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let run: ReconciliationRun = serde_json::from_value(body).expect("a run");
    assert_eq!(run.status, ReconciliationRunStatus::Pending);
    run
}

async fn run(te: &TestEngine, token: &str, id: dto::RunId) -> ReconciliationRun {
    let (status, body) = te.admin_get(token, &format!("{}/{id}", runs_path())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).expect("a run")
}

/// Polls the run until `done` holds (at most ten seconds).
async fn wait_run(
    te: &TestEngine,
    token: &str,
    id: dto::RunId,
    what: &str,
    done: impl Fn(&ReconciliationRun) -> bool,
) -> ReconciliationRun {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let r = run(te, token, id).await;
        if done(&r) {
            return r;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "run {id} never became {what}: {r:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn completed(te: &TestEngine, token: &str, id: dto::RunId) -> ReconciliationRun {
    wait_run(te, token, id, "completed", |r| {
        r.status == ReconciliationRunStatus::Completed
    })
    .await
}

async fn discrepancies(te: &TestEngine, token: &str, query: &str) -> DiscrepancyList {
    let (status, body) = te
        .admin_get(token, &format!("{}?{query}", recon("discrepancies")))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).expect("a discrepancy list")
}

async fn report(te: &TestEngine, token: &str, id: dto::RunId) -> ReconciliationReport {
    let (status, body) = te
        .admin_get(token, &format!("{}/{id}/report", runs_path()))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).expect("a report")
}

fn by_type(report: &ReconciliationReport) -> BTreeMap<DiscrepancyType, u64> {
    report.discrepancy_summary.by_type.clone()
}

#[tokio::test]
async fn the_demo_history_comes_from_real_runs() {
    let te = engine().await;
    let token = te.admin_token().await;
    let (status, body) = te.admin_get(&token, &runs_path()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let list: RunList = serde_json::from_value(body).expect("runs");
    assert_eq!(list.total, 2, "{list:?}");
    let (dry, nightly) = (&list.runs[0], &list.runs[1]);
    assert!(
        dry.is_dry_run() && !nightly.is_dry_run(),
        "newest first: {list:?}"
    );
    for r in &list.runs {
        assert_eq!(r.status, ReconciliationRunStatus::Completed);
        assert!(r.accounts_processed > 40 && r.accounts_processed == r.accounts_total);
    }
    let first = by_type(&report(&te, &token, nightly.id).await);
    for kind in DiscrepancyType::ALL {
        assert!(
            first.get(&kind).copied().unwrap_or(0) > 0,
            "{kind} in {first:?}"
        );
    }
    let second = report(&te, &token, dry.id).await;
    assert_eq!(second.discrepancy_summary.total, dry.discrepancies_found);
    // What the admin fixed after the nightly run is not found again: one mismatched identity (two
    // attributes) and one missing account fewer; the one unlinked account the nightly run linked stays
    // linked; the two people whose accounts appeared since are no longer missing but unlinked.
    let second = by_type(&second);
    assert_eq!(
        second[&DiscrepancyType::Mismatch] + 2,
        first[&DiscrepancyType::Mismatch]
    );
    assert_eq!(
        second[&DiscrepancyType::Missing] + 3,
        first[&DiscrepancyType::Missing]
    );
    assert_eq!(
        (
            first[&DiscrepancyType::Unlinked],
            second[&DiscrepancyType::Unlinked]
        ),
        (1, 2)
    );
    // The dry run linked nothing: its unlinked accounts are pending.
    let pending = discrepancies(
        &te,
        &token,
        &format!(
            "run_id={}&discrepancy_type=unlinked&resolution_status=pending",
            dry.id
        ),
    )
    .await;
    assert_eq!(pending.total, 2);
    // The audit log holds the admin's remediations and the nightly run's automatic link.
    let (status, body) = te.admin_get(&token, &recon("actions?dry_run=false")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let kinds: Vec<&str> = body["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter_map(|a| a["action_type"].as_str())
        .collect();
    for kind in ["update", "create", "ignore", "link"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
}

#[tokio::test]
async fn a_run_executes_in_the_background_and_reports() {
    let te = engine().await;
    let token = te.admin_token().await;
    let started = start(&te, &token, json!({"mode": "full", "dry_run": true})).await;
    assert!(started.is_dry_run());
    let done = completed(&te, &token, started.id).await;
    assert!(done.accounts_total > 0 && done.accounts_processed == done.accounts_total);
    assert!(done.duration_seconds.is_some() && done.completed_at.is_some());
    assert_eq!(done.created_by, Some(engine::demo::DEMO_ADMIN));
    let report = report(&te, &token, done.id).await;
    assert_eq!(report.discrepancy_summary.total, done.discrepancies_found);
    assert!(report.performance_metrics.api_calls_made.unwrap_or(0) >= 2);
    assert!(!report.top_mismatched_attributes.is_empty());
}

#[tokio::test]
async fn a_second_start_is_deduped_or_scope_busy_and_cancel_stops_the_first() {
    let te = engine_with_reconciler(
        fast_queue(0),
        ReconcilerConfig {
            batch_size: 5,
            ..ReconcilerConfig::default()
        },
    )
    .await;
    let token = te.admin_token().await;
    // Every call takes 200 ms: the run is still active while the test starts the others.
    te.directory_latency(&token, 200).await;
    let first = start(&te, &token, json!({"mode": "full"})).await;
    let (status, body) = te
        .admin_post(
            &token,
            &runs_path(),
            json!({"mode": "full", "dry_run": true}),
        )
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, "deduped");
    assert_eq!(body["existing_run_id"], first.id.to_string());
    let (status, body) = te
        .admin_post(&token, &runs_path(), json!({"mode": "delta"}))
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, "scope_busy");
    assert_eq!(body["active"]["id"], first.id.to_string());
    assert_eq!(body["active"]["kind"], "reconciliation_run");

    let (status, body) = te
        .admin_post(
            &token,
            &format!("{}/{}/cancel", runs_path(), first.id),
            Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let cancelled = run(&te, &token, first.id).await;
    assert_eq!(cancelled.status, ReconciliationRunStatus::Cancelled);
    // It stays cancelled: the batch in flight is thrown away, not written.
    let processed = cancelled.accounts_processed;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let later = run(&te, &token, first.id).await;
    assert_eq!(later.status, ReconciliationRunStatus::Cancelled);
    assert_eq!(later.accounts_processed, processed);
    // Cancelling twice: 409 naming the status; the connector takes a new run again.
    let (status, body) = te
        .admin_post(
            &token,
            &format!("{}/{}/cancel", runs_path(), first.id),
            Value::Null,
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::CONFLICT,
        "invalid_operation_state",
    );
    assert_eq!(body["current_status"], "cancelled");
    te.directory_latency(&token, 0).await;
    let next = start(&te, &token, json!({"mode": "full", "dry_run": true})).await;
    completed(&te, &token, next.id).await;
}

#[tokio::test]
async fn a_disabled_or_offline_connector_is_blocked() {
    let te = engine().await;
    let token = te.admin_token().await;
    let (status, body) = te
        .admin_post(
            &token,
            &format!(
                "/connectors/{}/reconciliation/runs",
                engine::demo::LEGACY_HR
            ),
            json!({"mode": "full"}),
        )
        .await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "blocked");
    assert_eq!(body["reason_code"], "connector_disabled");
    assert_eq!(body["next_step"], "enable the connector");
    let (status, body) = te
        .admin_post(
            &token,
            &format!(
                "/connectors/{}/reconciliation/runs",
                engine::demo::CLOUD_CRM
            ),
            json!({"mode": "full"}),
        )
        .await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "blocked");
    assert_eq!(body["reason_code"], "connector_offline");
    // Nothing was queued.
    let (_, body) = te
        .admin_get(
            &token,
            &format!(
                "/connectors/{}/reconciliation/runs",
                engine::demo::CLOUD_CRM
            ),
        )
        .await;
    assert_eq!(body["total"], 0);
}

#[tokio::test]
async fn pause_and_resume_continue_from_the_checkpoint() {
    let te = engine_with_reconciler(
        fast_queue(0),
        ReconcilerConfig {
            batch_size: 4,
            ..ReconcilerConfig::default()
        },
    )
    .await;
    let token = te.admin_token().await;
    // A reference: the same run, straight through.
    let reference = start(&te, &token, json!({"mode": "full", "dry_run": true})).await;
    let reference = completed(&te, &token, reference.id).await;
    let want = by_type(&report(&te, &token, reference.id).await);

    te.directory_latency(&token, 60).await;
    let paused = start(&te, &token, json!({"mode": "full", "dry_run": true})).await;
    wait_run(&te, &token, paused.id, "under way", |r| {
        r.accounts_processed >= 8
    })
    .await;
    let (status, body) = te
        .admin_post(
            &token,
            &format!("{}/{}/pause", runs_path(), paused.id),
            Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "paused");
    let held = run(&te, &token, paused.id).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let still = run(&te, &token, paused.id).await;
    assert_eq!(still.status, ReconciliationRunStatus::Paused);
    assert_eq!(
        still.accounts_processed, held.accounts_processed,
        "a paused run stands still"
    );
    assert!(still.accounts_processed < reference.accounts_total);
    // Pausing a paused run: 409.
    let (status, body) = te
        .admin_post(
            &token,
            &format!("{}/{}/pause", runs_path(), paused.id),
            Value::Null,
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::CONFLICT,
        "invalid_operation_state",
    );

    te.directory_latency(&token, 0).await;
    let (status, body) = te
        .admin_post(
            &token,
            &format!("{}/{}/resume", runs_path(), paused.id),
            Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let done = completed(&te, &token, paused.id).await;
    assert_eq!(done.accounts_processed, reference.accounts_total);
    assert_eq!(
        done.started_at,
        paused_started(&held),
        "a resumed run keeps its start"
    );
    // Nothing found twice, nothing missed.
    assert_eq!(by_type(&report(&te, &token, paused.id).await), want);
}

fn paused_started(run: &ReconciliationRun) -> Option<chrono::DateTime<chrono::Utc>> {
    run.started_at
}

#[tokio::test]
async fn a_run_left_running_by_a_crash_is_resumed_from_its_checkpoint() {
    let te = engine().await;
    let token = te.admin_token().await;
    let reference = start(&te, &token, json!({"mode": "full", "dry_run": true})).await;
    let reference = completed(&te, &token, reference.id).await;
    // What a crash leaves behind: a run `running` under a lease nobody renews, half way through.
    let crashed = start(&te, &token, json!({"mode": "full", "dry_run": true})).await;
    completed(&te, &token, crashed.id).await;
    sqlx::query(
        "DELETE FROM discrepancies WHERE run_id = ?1 AND external_uid > 'm';
         UPDATE reconciliation_runs
            SET status = 'running', lease_owner = 'dead-engine', completed_at = NULL, duration_seconds = NULL,
                lease_expires_at = '2000-01-01T00:00:00.000000Z',
                resume_cursor = '{\"phase\":\"accounts\",\"after\":\"m\"}',
                accounts_processed = (SELECT COUNT(*) FROM discrepancies WHERE run_id = ?1),
                discrepancies_found = (SELECT COUNT(*) FROM discrepancies WHERE run_id = ?1)
          WHERE id = ?1",
    )
    .bind(crashed.id.to_string())
    .execute(&te.pool)
    .await
    .expect("crash simulated");
    te.engine.reconciler().wake();
    let done = completed(&te, &token, crashed.id).await;
    assert_eq!(done.discrepancies_found, reference.discrepancies_found);
    assert_eq!(
        by_type(&report(&te, &token, done.id).await),
        by_type(&report(&te, &token, reference.id).await)
    );
}

#[tokio::test]
async fn a_delta_run_looks_only_at_what_changed() {
    let te = engine().await;
    let token = te.admin_token().await;
    let full = start(&te, &token, json!({"mode": "full"})).await;
    let full = completed(&te, &token, full.id).await;
    // The target changes: one account's title, one linked account deleted.
    let (connector, target) = directory(&te);
    let call = Call {
        target: &target,
        key: "test",
    };
    let list = discrepancies(&te, &token, &format!("run_id={}&limit=100", full.id)).await;
    let linked_uid = |uid: &str| {
        list.discrepancies
            .iter()
            .all(|d| d.external_uid.as_deref() != Some(uid))
    };
    let page = connector
        .search(
            call,
            &engine::connector::AccountSearch {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .expect("accounts");
    let mut in_step = page.iter().filter(|a| linked_uid(&a.uid));
    let changed = in_step.next().expect("an account in step").uid.clone();
    let removed = in_step.next().expect("another").uid.clone();
    let changes = json!({"title": "Changed in the target"})
        .as_object()
        .cloned()
        .unwrap_or_default();
    connector
        .update(call, &changed, &changes)
        .await
        .expect("updated");
    connector.delete(call, &removed).await.expect("deleted");

    let delta = start(&te, &token, json!({"mode": "delta", "dry_run": true})).await;
    let delta = completed(&te, &token, delta.id).await;
    assert_eq!(
        delta.accounts_total, 1,
        "only the changed account is compared: {delta:?}"
    );
    let found = discrepancies(&te, &token, &format!("run_id={}", delta.id)).await;
    let summary: Vec<(DiscrepancyType, Option<&str>)> = found
        .discrepancies
        .iter()
        .map(|d| (d.discrepancy_type, d.external_uid.as_deref()))
        .collect();
    assert_eq!(found.total, 2, "{summary:?}");
    assert!(
        summary.contains(&(DiscrepancyType::Mismatch, Some(changed.as_str()))),
        "{summary:?}"
    );
    assert!(
        summary.contains(&(DiscrepancyType::Deleted, Some(removed.as_str()))),
        "{summary:?}"
    );
}

async fn pending(te: &TestEngine, token: &str, kind: &str) -> Vec<Discrepancy> {
    discrepancies(
        te,
        token,
        &format!("discrepancy_type={kind}&resolution_status=pending&limit=100"),
    )
    .await
    .discrepancies
}

async fn remediate(
    te: &TestEngine,
    token: &str,
    d: &Discrepancy,
    body: Value,
) -> (StatusCode, Value) {
    te.admin_post(
        token,
        &recon(&format!("discrepancies/{}/remediate", d.id)),
        body,
    )
    .await
}

#[tokio::test]
async fn remediation_changes_the_target_and_the_next_run_sees_it() {
    let te = engine().await;
    let token = te.admin_token().await;
    let mismatch = pending(&te, &token, "mismatch").await.remove(0);
    let uid = mismatch.external_uid.clone().expect("an account");
    let attribute = mismatch.attribute_name.clone().expect("an attribute");
    let before = account(&te, &uid).await.expect("the account");

    // Preview and dry run say what would change and change nothing.
    let (status, body) = te
        .admin_post(
            &token,
            &recon("discrepancies/preview"),
            json!({"discrepancy_ids": [mismatch.id]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let preview: PreviewResponse = serde_json::from_value(body).expect("previews");
    let change = &preview.previews[0].changes.as_ref().expect("changes")[0];
    assert_eq!(change["side"], "target");
    assert_eq!(
        change["after"][&attribute].as_str(),
        mismatch.expected_value.as_deref()
    );
    let (status, body) = remediate(
        &te,
        &token,
        &mismatch,
        json!({"action": "update", "direction": "xavyo_to_target", "dry_run": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let dry: RemediationResult = serde_json::from_value(body).expect("a result");
    assert!(dry.success && dry.dry_run);
    assert_eq!(account(&te, &uid).await.expect("still there"), before);
    let (_, body) = te
        .admin_get(&token, &recon(&format!("discrepancies/{}", mismatch.id)))
        .await;
    assert_eq!(body["resolution_status"], "pending");

    // The real thing changes the target.
    let (status, body) = remediate(
        &te,
        &token,
        &mismatch,
        json!({"action": "update", "direction": "xavyo_to_target"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true, "{body}");
    let after = account(&te, &uid).await.expect("the account");
    assert_eq!(
        after.attributes[&attribute].as_str(),
        mismatch.expected_value.as_deref()
    );
    // Twice: 409 with its state, nothing changed.
    let (status, body) = remediate(
        &te,
        &token,
        &mismatch,
        json!({"action": "update", "direction": "xavyo_to_target"}),
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::CONFLICT,
        "invalid_operation_state",
    );
    assert_eq!(body["current_status"], "resolved");
    // The next run no longer finds that attribute of that account.
    let next = start(&te, &token, json!({"mode": "full", "dry_run": true})).await;
    completed(&te, &token, next.id).await;
    let again = discrepancies(
        &te,
        &token,
        &format!(
            "run_id={}&external_uid={uid}&discrepancy_type=mismatch",
            next.id
        ),
    )
    .await;
    assert!(
        again
            .discrepancies
            .iter()
            .all(|d| d.attribute_name.as_deref() != Some(&attribute)),
        "{again:?}"
    );
    // Every remediation, dry or not, is in the audit log.
    let (_, body) = te
        .admin_get(
            &token,
            &recon(&format!("actions?discrepancy_id={}", mismatch.id)),
        )
        .await;
    assert_eq!(body["total"], 2, "{body}");
}

#[tokio::test]
async fn each_remediation_does_its_real_thing() {
    let te = engine().await;
    let token = te.admin_token().await;
    let ok = |(status, body): (StatusCode, Value)| {
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["success"], true, "{body}");
        body
    };

    // missing → create: the account exists, linked.
    let missing = pending(&te, &token, "missing").await.remove(0);
    ok(remediate(
        &te,
        &token,
        &missing,
        json!({"action": "create", "direction": "xavyo_to_target"}),
    )
    .await);
    let identity = missing.identity_id.expect("an identity");
    let linked: (String,) = sqlx::query_as(
        "SELECT external_uid FROM account_links WHERE identity_id = ? AND connector_id = ?",
    )
    .bind(identity.to_string())
    .bind(CORPORATE_DIRECTORY.to_string())
    .fetch_one(&te.pool)
    .await
    .expect("linked");
    assert!(account(&te, &linked.0).await.is_some());

    // orphan → delete: the account is gone.
    let orphan = pending(&te, &token, "orphan").await.remove(0);
    let uid = orphan.external_uid.clone().expect("uid");
    ok(remediate(
        &te,
        &token,
        &orphan,
        json!({"action": "delete", "direction": "xavyo_to_target"}),
    )
    .await);
    assert!(account(&te, &uid).await.is_none());

    // unlinked → link.
    let unlinked = pending(&te, &token, "unlinked").await.remove(0);
    ok(remediate(
        &te,
        &token,
        &unlinked,
        json!({"action": "link", "direction": "target_to_xavyo"}),
    )
    .await);
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM account_links WHERE connector_id = ? AND external_uid = ? AND identity_id = ?")
        .bind(CORPORATE_DIRECTORY.to_string())
        .bind(unlinked.external_uid.clone())
        .bind(unlinked.identity_id.map(|i| i.to_string()))
        .fetch_one(&te.pool)
        .await
        .expect("count");
    assert_eq!(n, 1);

    // deleted → inactivate the identity: inactive, unlinked.
    let deleted = pending(&te, &token, "deleted").await.remove(0);
    ok(remediate(
        &te,
        &token,
        &deleted,
        json!({"action": "inactivate_identity", "direction": "target_to_xavyo"}),
    )
    .await);
    let active: bool = sqlx::query_scalar("SELECT active FROM identities WHERE id = ?")
        .bind(deleted.identity_id.map(|i| i.to_string()))
        .fetch_one(&te.pool)
        .await
        .expect("identity");
    assert!(!active);

    // mismatch → update target → xavyo: the identity takes the target's value.
    let mismatch = pending(&te, &token, "mismatch").await.remove(0);
    ok(remediate(
        &te,
        &token,
        &mismatch,
        json!({"action": "update", "direction": "target_to_xavyo"}),
    )
    .await);
    let attributes: String = sqlx::query_scalar("SELECT attributes FROM identities WHERE id = ?")
        .bind(mismatch.identity_id.map(|i| i.to_string()))
        .fetch_one(&te.pool)
        .await
        .expect("identity");
    let attributes: Value = serde_json::from_str(&attributes).expect("json");
    let name = mismatch.attribute_name.clone().expect("attribute");
    assert_eq!(attributes[&name].as_str(), mismatch.actual_value.as_deref());

    // Actions that do not fit are refused naming the field, and change nothing.
    let collision = pending(&te, &token, "collision").await.remove(0);
    for (body, field) in [
        (
            json!({"action": "delete", "direction": "xavyo_to_target"}),
            "action",
        ),
        (
            json!({"action": "link", "direction": "xavyo_to_target"}),
            "identity_id",
        ),
        (
            json!({"action": "link", "direction": "sideways"}),
            "direction",
        ),
        (
            json!({"action": "link", "direction": "xavyo_to_target", "identity_id": uuid::Uuid::new_v4()}),
            "identity_id",
        ),
    ] {
        let (status, answer) = remediate(&te, &token, &collision, body).await;
        assert_error(status, &answer, StatusCode::BAD_REQUEST, "validation_error");
        assert_eq!(answer["field"], field, "{answer}");
    }
    let create_on_target = json!({"action": "create", "direction": "target_to_xavyo"});
    let (status, answer) = remediate(&te, &token, &missing, create_on_target).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");

    // Ignore: once; the second time 409.
    let path = recon(&format!("discrepancies/{}/ignore", collision.id));
    let (status, _) = te.admin_post(&token, &path, Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = te.admin_post(&token, &path, Value::Null).await;
    assert_error(
        status,
        &body,
        StatusCode::CONFLICT,
        "invalid_operation_state",
    );
    assert_eq!(body["current_status"], "ignored");
}

#[tokio::test]
async fn bulk_remediation_is_per_item_and_capped() {
    let te = engine().await;
    let token = te.admin_token().await;
    let path = recon("discrepancies/bulk-remediate");
    let mismatches = pending(&te, &token, "mismatch").await;
    assert!(mismatches.len() >= 3, "{}", mismatches.len());
    let item = |d: &Discrepancy, action: &str| json!({"discrepancy_id": d.id, "action": action, "direction": "xavyo_to_target"});

    // Over the cap: 400, nothing applied.
    let over: Vec<Value> = (0..101).map(|_| item(&mismatches[0], "update")).collect();
    let (status, body) = te.admin_post(&token, &path, json!({"items": over})).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "validation_error");
    assert_eq!(body["field"], "items");
    let (status, body) = te.admin_post(&token, &path, json!({"items": []})).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "validation_error");
    let (_, body) = te.admin_get(&token, &recon("actions")).await;
    let audit_before = body["total"].clone();

    // A mix: two good ones, one that does not fit its type, one already resolved.
    let resolved = &mismatches[2];
    let (status, _) = remediate(
        &te,
        &token,
        resolved,
        json!({"action": "update", "direction": "xavyo_to_target"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let items = vec![
        item(&mismatches[0], "update"),
        item(&mismatches[1], "delete"),
        item(resolved, "update"),
    ];
    let (status, body) = te
        .admin_post(&token, &path, json!({"items": items, "dry_run": true}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let dry: BulkRemediateResponse = serde_json::from_value(body).expect("bulk answer");
    assert_eq!(
        (dry.total, dry.succeeded, dry.failed, dry.skipped),
        (3, 1, 1, 1)
    );
    assert!(
        dry.results[0].changes.is_some(),
        "a dry run shows the changes"
    );
    let (status, body) = te.admin_post(&token, &path, json!({"items": items})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let real: BulkRemediateResponse = serde_json::from_value(body).expect("bulk answer");
    assert_eq!(
        (real.total, real.succeeded, real.failed, real.skipped),
        (3, 1, 1, 1)
    );
    assert!(real.results[0].success);
    assert!(real.results[1]
        .error
        .as_deref()
        .is_some_and(|e| e.contains("mismatch")));
    assert!(
        real.results[2].skipped
            && real.results[2]
                .reason
                .as_deref()
                .is_some_and(|r| r.contains("already resolved"))
    );
    let (_, body) = te
        .admin_get(
            &token,
            &recon(&format!("discrepancies/{}", mismatches[0].id)),
        )
        .await;
    assert_eq!(body["resolution_status"], "resolved");
    let (_, body) = te.admin_get(&token, &recon("actions")).await;
    assert!(body["total"].as_u64() > audit_before.as_u64());
    // A malformed item names itself.
    let (status, body) = te
        .admin_post(&token, &path, json!({"items": [{"discrepancy_id": "nope", "action": "update", "direction": "xavyo_to_target"}]}))
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "validation_error");
    assert_eq!(body["field"], "items[0].discrepancy_id");
}

#[tokio::test]
async fn a_bulk_calls_its_connector_side_by_side_up_to_the_connector_limit() {
    let te = engine_with_reconciler(fast_queue(0), ReconcilerConfig::default()).await;
    let token = te.admin_token().await;
    let path = recon("discrepancies/bulk-remediate");
    let mut mismatches = pending(&te, &token, "mismatch").await;
    // Each run found its own copy of an orphan: one delete per account.
    let mut orphans = pending(&te, &token, "orphan").await;
    let mut seen = std::collections::HashSet::new();
    orphans.retain(|d| seen.insert(d.external_uid.clone()));
    let mismatch = mismatches.remove(0);
    let update =
        |id| json!({"discrepancy_id": id, "action": "update", "direction": "xavyo_to_target"});
    let item = update(mismatch.id);
    let limit = ReconcilerConfig::default().remediations_per_connector;
    assert_eq!(limit, 8, "the default share of a connector");
    // A dry bulk reads its accounts in one call (500 ms), however many items: sixteen reads one after
    // another took 8 s, eight at a time 1 s.
    te.directory_latency(&token, 500).await;
    let started = std::time::Instant::now();
    let (status, body) = te
        .admin_post(
            &token,
            &path,
            json!({"items": vec![item.clone(); 2 * limit], "dry_run": true}),
        )
        .await;
    let took = started.elapsed();
    assert_eq!(status, StatusCode::OK, "{body}");
    let dry: BulkRemediateResponse = serde_json::from_value(body).expect("bulk answer");
    assert_eq!(dry.succeeded, 16, "{dry:?}");
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_millis(1_000),
        "one read for the whole bulk: {took:?}"
    );
    // For real, the same discrepancy three times: the items plan side by side, one claim wins and the others
    // are skipped as settled; results stay in the order asked.
    te.directory_latency(&token, 100).await;
    let (status, body) = te
        .admin_post(&token, &path, json!({"items": vec![item; 3]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let real: BulkRemediateResponse = serde_json::from_value(body).expect("bulk answer");
    assert_eq!(
        (real.total, real.succeeded, real.failed, real.skipped),
        (3, 1, 0, 2),
        "{real:?}"
    );
    assert!(real.results.iter().all(|r| r.discrepancy_id == mismatch.id));

    // Real writes to different accounts (500 ms each: updates of mismatches, deletes of orphans) run eight at
    // a time: one read, then two rounds of writes (1.5 s), not one after another (5 s and more) nor all at
    // once (1 s).
    te.directory_latency(&token, 500).await;
    let delete =
        |id| json!({"discrepancy_id": id, "action": "delete", "direction": "xavyo_to_target"});
    let items: Vec<_> = mismatches
        .iter()
        .map(|d| update(d.id))
        .chain(orphans.iter().map(|d| delete(d.id)))
        .take(2 * limit)
        .collect();
    assert!(
        items.len() > limit,
        "the demo has enough to write: {}",
        items.len()
    );
    let started = std::time::Instant::now();
    let (status, body) = te
        .admin_post(&token, &path, json!({ "items": items }))
        .await;
    let took = started.elapsed();
    assert_eq!(status, StatusCode::OK, "{body}");
    let real: BulkRemediateResponse = serde_json::from_value(body).expect("bulk answer");
    assert_eq!(real.succeeded, items.len() as u64, "{real:?}");
    assert!(
        took >= Duration::from_millis(1_250) && took < Duration::from_millis(3_500),
        "eight writes at a time: {took:?}"
    );
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_parameter_and_other_tenants_see_nothing() {
    let te = engine().await;
    let token = te.admin_token().await;
    for (query, field) in [
        ("discrepancies?discrepancy_type=bogus", "discrepancy_type"),
        ("discrepancies?resolution_status=done", "resolution_status"),
        ("discrepancies?run_id=nope", "run_id"),
        ("discrepancies?limit=101", "limit"),
        ("runs?status=bogus", "status"),
        ("runs?mode=partial", "mode"),
        ("actions?dry_run=maybe", "dry_run"),
        ("actions?action_type=explode", "action_type"),
        ("runs/not-a-uuid", "run_id"),
        ("discrepancies/not-a-uuid", "discrepancy_id"),
    ] {
        let (status, body) = te.admin_get(&token, &recon(query)).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "validation_error");
        assert_eq!(body["field"], field, "{query}: {body}");
    }
    let (status, body) = te
        .admin_post(&token, &runs_path(), json!({"mode": "sideways"}))
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "validation_error");
    assert_eq!(body["field"], "mode");

    // Other Corp's connector and runs answer 404 to Demo Corp, exactly like unknown ones.
    let other_runs = format!("/connectors/{OTHER_DIRECTORY}/reconciliation/runs");
    let (status, body) = te.admin_get(&token, &other_runs).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let other = login(
        &te.app,
        te.demo.other_tenant_id,
        "admin@other.local",
        &te.demo.password,
    )
    .await;
    let (_, _, body) = send(
        &te.app,
        crate::common::get(
            &other_runs,
            Some(&other.access_token),
            Some(te.demo.other_tenant_id),
        ),
    )
    .await;
    let other_run = body["runs"][0]["id"]
        .as_str()
        .expect("Other Corp has a run")
        .to_owned();
    let (status, body) = te
        .admin_get(&token, &format!("{}/{other_run}", runs_path()))
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = te
        .admin_post(
            &token,
            &format!("{other_runs}/{other_run}/cancel"),
            Value::Null,
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");

    // A non-admin may not start a run.
    let viewer = login(
        &te.app,
        te.demo.tenant_id,
        &te.demo.viewer_email,
        &te.demo.viewer_password,
    )
    .await;
    let request = with_body(
        axum::http::Method::POST,
        &runs_path(),
        &json!({"mode": "full"}),
        &viewer.access_token,
        te.demo.tenant_id,
    );
    let (status, _, body) = send(&te.app, request).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let _ = ResolutionStatus::Pending;
}
