//! Remediations whose caller goes away, or whose engine dies, half-way: each still ends settled and audited
//! exactly once, and its connector is free at once. Also: the database's own words never reach a result or
//! the audit log.

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use engine::demo::{CORPORATE_DIRECTORY, DEMO_ADMIN};
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::common::{engine_with, fast_queue, with_body, TestEngine};

const RUNS: &str = "/connectors/00000000-0000-4000-8000-00000000c001/reconciliation/runs";

fn discrepancies() -> String {
    format!("/connectors/{CORPORATE_DIRECTORY}/reconciliation/discrepancies")
}

async fn latency(te: &TestEngine, token: &str, latency_ms: u64) {
    let (status, body) = te
        .admin_put(
            token,
            &format!("/connectors/{CORPORATE_DIRECTORY}/settings"),
            json!({"offline": false, "error_rate": 0.0, "latency_ms": latency_ms}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Pending mismatches of Corporate Directory (the demo's drift), at most `n`.
async fn pending_mismatches(te: &TestEngine, token: &str, n: usize) -> Vec<Value> {
    let (status, body) = te
        .admin_get(
            token,
            &format!(
                "{}?discrepancy_type=mismatch&resolution_status=pending&limit={n}",
                discrepancies()
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let found = body["discrepancies"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        found.len(),
        n,
        "the demo has {n} pending mismatches: {body}"
    );
    found
}

/// The audit log's entries for one discrepancy.
async fn audit_of(te: &TestEngine, token: &str, discrepancy: &str) -> Vec<Value> {
    let (status, body) = te
        .admin_get(
            token,
            &format!(
                "/connectors/{CORPORATE_DIRECTORY}/reconciliation/actions?discrepancy_id={discrepancy}"
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["actions"].as_array().cloned().unwrap_or_default()
}

/// Sends `body` to `path` as the admin and gives up after `patience`, as a client with a timeout does:
/// the request's future is dropped unanswered.
async fn give_up_after(te: &TestEngine, token: &str, path: &str, body: Value, patience: Duration) {
    let request = with_body(Method::POST, path, &body, token, te.demo.tenant_id);
    let answered = tokio::time::timeout(patience, te.app.clone().oneshot(request)).await;
    assert!(
        answered.is_err(),
        "the request was meant to be cut off: {answered:?}"
    );
}

/// Waits (at most 20 s) until every discrepancy has an audit entry, then answers each one's entries.
async fn audited(te: &TestEngine, token: &str, ids: &[&str]) -> Vec<Vec<Value>> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut all = Vec::new();
        for id in ids {
            all.push(audit_of(te, token, id).await);
        }
        if all.iter().all(|entries| !entries.is_empty()) {
            return all;
        }
        assert!(Instant::now() < deadline, "never audited: {all:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn status_of(te: &TestEngine, token: &str, discrepancy: &str) -> Value {
    let (status, body) = te
        .admin_get(token, &format!("{}/{discrepancy}", discrepancies()))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["resolution_status"].clone()
}

/// After the remediations: the connector takes a run at once.
async fn run_starts(te: &TestEngine, token: &str) {
    latency(te, token, 0).await;
    let (status, body) = te
        .admin_post(token, RUNS, json!({"mode": "full", "dry_run": true}))
        .await;
    assert_eq!(
        status,
        StatusCode::ACCEPTED,
        "a run start right after: {body}"
    );
}

#[tokio::test]
async fn a_remediation_whose_caller_gives_up_still_finishes_and_is_audited_once() {
    let te = engine_with(fast_queue(0)).await;
    let token = te.admin_token().await;
    let mismatch = pending_mismatches(&te, &token, 1).await.remove(0);
    let id = mismatch["id"].as_str().expect("id");
    // Planning reads the account (4 s), then the claim, then the update (4 s): the caller leaves in the middle
    // of the update, after the claim.
    latency(&te, &token, 4_000).await;
    give_up_after(
        &te,
        &token,
        &format!("{}/{id}/remediate", discrepancies()),
        json!({"action": "update", "direction": "xavyo_to_target"}),
        Duration::from_secs(6),
    )
    .await;

    let entries = audited(&te, &token, &[id]).await.remove(0);
    assert_eq!(entries.len(), 1, "exactly one audit entry: {entries:?}");
    assert_eq!(entries[0]["result"], "success", "{entries:?}");
    assert_eq!(entries[0]["action_type"], "update");
    assert_eq!(status_of(&te, &token, id).await, "resolved");
    run_starts(&te, &token).await;
    // Nothing more was written meanwhile.
    assert_eq!(audit_of(&te, &token, id).await.len(), 1);
}

#[tokio::test]
async fn a_bulk_remediation_whose_caller_gives_up_still_finishes_every_item() {
    let te = engine_with(fast_queue(0)).await;
    let token = te.admin_token().await;
    let mismatches = pending_mismatches(&te, &token, 3).await;
    let ids: Vec<&str> = mismatches
        .iter()
        .map(|d| d["id"].as_str().expect("id"))
        .collect();
    let items: Vec<Value> = ids
        .iter()
        .map(|id| json!({"discrepancy_id": id, "action": "update", "direction": "xavyo_to_target"}))
        .collect();
    latency(&te, &token, 4_000).await;
    give_up_after(
        &te,
        &token,
        &format!("{}/bulk-remediate", discrepancies()),
        json!({ "items": items }),
        Duration::from_secs(6),
    )
    .await;

    for (id, entries) in ids.iter().zip(audited(&te, &token, &ids).await) {
        assert_eq!(
            entries.len(),
            1,
            "exactly one audit entry for {id}: {entries:?}"
        );
        assert_eq!(entries[0]["result"], "success", "{entries:?}");
        assert_eq!(status_of(&te, &token, id).await, "resolved");
    }
    run_starts(&te, &token).await;
}

#[tokio::test]
async fn a_remediation_its_engine_died_in_is_given_back_and_audited_at_the_next_start() {
    let te = engine_with(fast_queue(0)).await;
    let token = te.admin_token().await;
    let mismatch = pending_mismatches(&te, &token, 1).await.remove(0);
    let id = mismatch["id"].as_str().expect("id").to_owned();
    // What a kill -9 between the claim and the settle leaves: the discrepancy claimed (resolved by the admin)
    // and in flight, holding the connector; no audit entry.
    let claimed_at = "2026-12-04T10:00:00.000000Z";
    let now = chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    sqlx::query(
        "UPDATE discrepancies SET resolution_status = 'resolved', resolved_action = 'update',
                resolved_by = ?, resolved_at = ? WHERE id = ?",
    )
    .bind(DEMO_ADMIN.to_string())
    .bind(claimed_at)
    .bind(&id)
    .execute(&te.pool)
    .await
    .expect("claimed");
    sqlx::query(
        "INSERT INTO remediations_in_flight (discrepancy_id, connector_id, direction, started_at)
         VALUES (?, ?, 'xavyo_to_target', ?)",
    )
    .bind(&id)
    .bind(CORPORATE_DIRECTORY.to_string())
    .bind(&now)
    .execute(&te.pool)
    .await
    .expect("in flight");
    let (status, body) = te.admin_post(&token, RUNS, json!({"mode": "full"})).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "held before the restart: {body}"
    );

    let te = te.restart(fast_queue(0)).await;
    let token = te.admin_token().await;
    assert_eq!(status_of(&te, &token, &id).await, "pending", "given back");
    let entries = audit_of(&te, &token, &id).await;
    assert_eq!(entries.len(), 1, "audited once: {entries:?}");
    assert_eq!(entries[0]["result"], "failure");
    assert_eq!(entries[0]["action_type"], "update");
    assert_eq!(entries[0]["direction"], "xavyo_to_target");
    assert_eq!(entries[0]["performed_by"], DEMO_ADMIN.to_string());
    assert_eq!(entries[0]["details"]["interrupted"], true, "{entries:?}");
    run_starts(&te, &token).await;
    let in_flight: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM remediations_in_flight")
        .fetch_one(&te.pool)
        .await
        .expect("counts");
    assert_eq!(in_flight, 0);
}

#[tokio::test]
async fn a_database_failure_is_said_in_words_in_the_result_and_the_audit_log() {
    let te = engine_with(fast_queue(0)).await;
    let token = te.admin_token().await;
    let mismatch = pending_mismatches(&te, &token, 1).await.remove(0);
    let id = mismatch["id"].as_str().expect("id");
    let uid = mismatch["external_uid"].as_str().expect("uid");
    // The account now carries another identity's email, and the discrepancy is about the email: taking the
    // account's value into xavyo breaks the identities' unique email.
    let taken: String = sqlx::query_scalar(
        "SELECT email FROM identities WHERE tenant_id = ? AND id IS NOT ? ORDER BY email LIMIT 1",
    )
    .bind(te.demo.tenant_id.to_string())
    .bind(mismatch["identity_id"].as_str())
    .fetch_one(&te.pool)
    .await
    .expect("another identity");
    let directory = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        engine::DirectoryStore::path_beside(&te.database_path()).display()
    ))
    .await
    .expect("directory");
    let changed = sqlx::query(
        "UPDATE accounts SET attributes = json_set(attributes, '$.email', ?) WHERE connector_id = ? AND uid = ?",
    )
    .bind(&taken)
    .bind(CORPORATE_DIRECTORY.to_string())
    .bind(uid)
    .execute(&directory)
    .await
    .expect("account changed");
    assert_eq!(changed.rows_affected(), 1);
    directory.close().await;
    sqlx::query("UPDATE discrepancies SET attribute_name = 'email' WHERE id = ?")
        .bind(id)
        .execute(&te.pool)
        .await
        .expect("about the email");

    let (status, result) = te
        .admin_post(
            &token,
            &format!("{}/{id}/remediate", discrepancies()),
            json!({"action": "update", "direction": "target_to_xavyo"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["success"], false, "{result}");
    let entries = audit_of(&te, &token, id).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    for said in [&result["error"], &entries[0]["details"]["error"]] {
        let said = said.as_str().expect("an error in words");
        for leak in ["UNIQUE", "constraint", "identities.", "sqlite", "code:"] {
            assert!(!said.contains(leak), "database text `{leak}` shown: {said}");
        }
        assert!(said.contains("another identity"), "{said}");
    }
    assert_eq!(status_of(&te, &token, id).await, "pending", "given back");
}
