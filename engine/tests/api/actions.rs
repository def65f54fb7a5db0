//! The queue over HTTP: enqueue with idempotency, one operation with its logs and attempts, the dead-letter
//! queue, the admin actions and their 409s, and the failure paths the directory connector's settings inject.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use dto::{AttemptList, OperationList, ProvisioningOperation};
use engine::demo::{CLOUD_CRM, CORPORATE_DIRECTORY, LEGACY_HR, OTHER_DIRECTORY};
use enums::OperationStatus;
use serde_json::{json, Value};
use uuid::Uuid;

use engine::{QueueConfig, RetryPolicy};

use crate::common::{
    assert_error, engine, engine_with, fast_queue, login, send, with_body, TestEngine,
};

/// Sets a connector's injected faults, failing the test on anything but 200.
async fn faults(e: &TestEngine, token: &str, connector: impl std::fmt::Display, body: Value) {
    let (status, answer) = e
        .admin_put(token, &format!("/connectors/{connector}/settings"), body)
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

async fn healthy(e: &TestEngine, token: &str) {
    faults(
        e,
        token,
        CORPORATE_DIRECTORY,
        json!({"offline": false, "error_rate": 0.0, "latency_ms": 0}),
    )
    .await;
}

/// Enqueues an operation; answers the status and the operation.
async fn enqueue(e: &TestEngine, token: &str, body: Value) -> (StatusCode, ProvisioningOperation) {
    let (status, answer) = e.admin_post(token, "/operations", body).await;
    assert!(
        status == StatusCode::CREATED || status == StatusCode::OK,
        "{status}: {answer}"
    );
    (
        status,
        serde_json::from_value(answer).expect("an operation"),
    )
}

fn new_account(uid: &str) -> Value {
    json!({
        "connector_id": CORPORATE_DIRECTORY,
        "user_id": Uuid::new_v4(),
        "operation_type": "create",
        "target_uid": uid,
        "payload": {"email": format!("{uid}@demo.local"), "title": "Engineer"},
    })
}

async fn attempts(e: &TestEngine, token: &str, id: impl std::fmt::Display) -> AttemptList {
    let (status, body) = e
        .admin_get(token, &format!("/operations/{id}/attempts"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).expect("an attempt list")
}

async fn log_messages(
    e: &TestEngine,
    token: &str,
    id: impl std::fmt::Display,
) -> Vec<(String, String)> {
    let (status, body) = e.admin_get(token, &format!("/operations/{id}/logs")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["operation_id"], id.to_string(), "{body}");
    body["logs"]
        .as_array()
        .expect("a logs array")
        .iter()
        .map(|l| {
            assert_eq!(l["operation_id"], id.to_string());
            assert!(l["id"].is_string() && l["timestamp"].is_string());
            (
                l["level"].as_str().unwrap_or_default().to_owned(),
                l["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

async fn with_status(e: &TestEngine, token: &str, query: &str) -> Vec<ProvisioningOperation> {
    let (status, body) = e
        .admin_get(token, &format!("/operations?limit=100&{query}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value::<OperationList>(body)
        .expect("a list")
        .operations
}

#[tokio::test]
async fn an_enqueued_operation_runs_through_the_worker_and_the_directory() {
    let e = engine().await;
    let token = e.admin_token().await;
    healthy(&e, &token).await;
    let accounts = e
        .engine
        .directory()
        .count_accounts(CORPORATE_DIRECTORY)
        .await
        .expect("counted");

    let (status, op) = enqueue(&e, &token, new_account("new.hire")).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(op.connector_name.as_deref(), Some("Corporate Directory"));
    assert_eq!(
        (op.object_class.as_str(), op.priority, op.max_retries),
        ("user", 0, 3)
    );
    assert!(op
        .idempotency_key
        .as_deref()
        .is_some_and(|k| k.starts_with("content:")));

    let id = op.id.to_string();
    let done = e
        .wait_for(&token, &id, "completed", |o| {
            o.status == OperationStatus::Completed
        })
        .await;
    assert_eq!(done.target_uid.as_deref(), Some("new.hire"));
    assert!(done.error_message.is_none() && done.next_retry_at.is_none());
    assert!(done.started_at.is_some() && done.completed_at >= done.started_at);
    let list = attempts(&e, &token, &id).await;
    assert_eq!(list.operation_id, op.id);
    assert_eq!(list.attempts.len(), 1);
    let attempt = &list.attempts[0];
    assert!(attempt.success && attempt.error_code.is_none() && attempt.duration_ms.is_some());
    let logs = log_messages(&e, &token, &id).await;
    assert!(
        logs[0]
            .1
            .starts_with("Queued: create on Corporate Directory"),
        "{logs:?}"
    );
    assert!(
        logs.last()
            .is_some_and(|(level, m)| level == "info" && m.contains("succeeded")),
        "{logs:?}"
    );
    assert_eq!(
        e.engine
            .directory()
            .count_accounts(CORPORATE_DIRECTORY)
            .await
            .expect("counted"),
        accounts + 1,
        "the account is in the directory"
    );
}

#[tokio::test]
async fn the_same_key_answers_the_same_operation() {
    let e = engine().await;
    let token = e.admin_token().await;
    // Legacy HR is disabled: what is queued for it stays pending, so the dedupe is against work in flight.
    let body = json!({
        "connector_id": LEGACY_HR,
        "user_id": Uuid::new_v4(),
        "operation_type": "update",
        "target_uid": "someone",
        "payload": {"title": "Lead", "department": "Sales"},
        "priority": 5,
    });
    let (first_status, first) = enqueue(&e, &token, body.clone()).await;
    let (second_status, second) = enqueue(&e, &token, body.clone()).await;
    assert_eq!(
        (first_status, second_status),
        (StatusCode::CREATED, StatusCode::OK)
    );
    assert_eq!(first.id, second.id);
    assert_eq!(first.status, OperationStatus::Pending);
    let logs = log_messages(&e, &token, first.id).await;
    assert!(
        logs.iter()
            .any(|(level, m)| level == "warn" && m.contains("disabled")),
        "says once why it waits: {logs:?}"
    );

    // The payload's key order does not matter; its content does.
    let mut reordered = body.clone();
    reordered["payload"] = json!({"department": "Sales", "title": "Lead"});
    assert_eq!(enqueue(&e, &token, reordered).await.1.id, first.id);
    let mut other = body.clone();
    other["payload"]["title"] = json!("Engineer");
    let (status, different) = enqueue(&e, &token, other).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(different.id, first.id);

    // A key of the caller's own: the second call answers the first operation, even once it has settled.
    healthy(&e, &token).await;
    let mut keyed = new_account("keyed.user");
    keyed["idempotency_key"] = json!("hr-event-4711");
    let (status, original) = enqueue(&e, &token, keyed.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    e.wait_for(&token, &original.id.to_string(), "completed", |o| {
        o.status == OperationStatus::Completed
    })
    .await;
    keyed["payload"] = json!({"email": "changed@demo.local"});
    let (status, again) = enqueue(&e, &token, keyed).await;
    assert_eq!((status, again.id), (StatusCode::OK, original.id));

    // A derived key: once the first has completed, the same change may be queued again.
    let same = new_account("repeat.user");
    let (status, repeat) = enqueue(&e, &token, same.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    e.wait_for(&token, &repeat.id.to_string(), "completed", |o| {
        o.status == OperationStatus::Completed
    })
    .await;
    let (status, later) = enqueue(&e, &token, same).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(later.id, repeat.id);
    let done = e
        .wait_for(&token, &later.id.to_string(), "completed", |o| {
            o.status == OperationStatus::Completed
        })
        .await;
    assert_eq!(
        done.target_uid.as_deref(),
        Some("repeat.user"),
        "a repeated create of one owner"
    );
    let first = e.operation(&token, &repeat.id.to_string()).await;
    assert_eq!(
        first.idempotency_key,
        Some(format!(
            "{}:{}",
            later.idempotency_key.unwrap_or_default(),
            repeat.id
        )),
        "the settled one keeps its key, suffixed"
    );
}

#[tokio::test]
async fn a_transient_failure_is_retried_with_backoff_until_it_succeeds() {
    // A backoff long enough to lift the fault between the first attempt and the second.
    let e = engine_with(QueueConfig {
        max_retries: 5,
        retry: RetryPolicy {
            base: Duration::from_millis(300),
            max: Duration::from_secs(1),
            jitter: 0.2,
        },
        ..fast_queue(2)
    })
    .await;
    let token = e.admin_token().await;
    faults(
        &e,
        &token,
        CORPORATE_DIRECTORY,
        json!({"offline": false, "error_rate": 1.0, "latency_ms": 0}),
    )
    .await;
    let (_, op) = enqueue(&e, &token, new_account("flaky.one")).await;
    let id = op.id.to_string();
    let failed = e
        .wait_for(&token, &id, "failed", |o| {
            o.status == OperationStatus::Failed
        })
        .await;
    assert!(failed.retry_count >= 1);
    assert!(failed.error_message.is_some());
    let next = failed.next_retry_at.expect("a next retry");
    assert!(next > failed.updated_at - chrono::Duration::milliseconds(1));
    let first = &attempts(&e, &token, &id).await.attempts[0];
    assert!(!first.success);
    assert!(matches!(
        first.error_code.as_deref(),
        Some("CONNECTION_RESET" | "TIMEOUT" | "RATE_LIMITED")
    ));

    faults(
        &e,
        &token,
        CORPORATE_DIRECTORY,
        json!({"offline": false, "error_rate": 0.0, "latency_ms": 0}),
    )
    .await;
    let done = e
        .wait_for(&token, &id, "completed", |o| {
            o.status == OperationStatus::Completed
        })
        .await;
    let list = attempts(&e, &token, &id).await.attempts;
    assert_eq!(list.len(), 2, "{list:?}");
    assert!(!list[0].success && list[1].success);
    assert!(
        list[1].started_at >= next - chrono::Duration::milliseconds(5),
        "not before its time"
    );
    assert!(done.error_message.is_none() && done.next_retry_at.is_none());
    assert_eq!(done.retry_count, 1, "the failure stays counted");
}

#[tokio::test]
async fn retries_run_out_into_the_dead_letter_queue_and_an_admin_retry_succeeds() {
    let e = engine().await;
    let token = e.admin_token().await;
    faults(
        &e,
        &token,
        CORPORATE_DIRECTORY,
        json!({"offline": false, "error_rate": 1.0, "latency_ms": 0}),
    )
    .await;
    let (_, op) = enqueue(&e, &token, new_account("outage.victim")).await;
    let id = op.id.to_string();
    let dead = e
        .wait_for(&token, &id, "dead_letter", |o| {
            o.status == OperationStatus::DeadLetter
        })
        .await;
    assert_eq!((dead.retry_count, dead.next_retry_at), (3, None));
    assert_eq!(attempts(&e, &token, &id).await.attempts.len(), 3);
    let logs = log_messages(&e, &token, &id).await;
    assert!(logs
        .iter()
        .any(|(l, m)| l == "error" && m.contains("dead-letter queue: 3 failed attempts")));

    // It is in the DLQ listing, scoped by connector.
    let (status, body) = e
        .admin_get(
            &token,
            &format!("/operations/dlq?connector_id={CORPORATE_DIRECTORY}&limit=100"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let dlq: OperationList = serde_json::from_value(body).expect("a list");
    assert!(dlq.operations.iter().any(|o| o.id == op.id));
    assert!(dlq
        .operations
        .iter()
        .all(|o| o.status == OperationStatus::DeadLetter && o.connector_id == CORPORATE_DIRECTORY));
    assert_eq!(dlq.total, Some(dlq.operations.len() as u64));

    healthy(&e, &token).await;
    let (status, body) = e
        .admin_post(&token, &format!("/operations/{id}/retry"), Value::Null)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let retried: ProvisioningOperation = serde_json::from_value(body).expect("an operation");
    assert!(matches!(
        retried.status,
        OperationStatus::Pending | OperationStatus::InProgress | OperationStatus::Completed
    ));
    assert_eq!((retried.retry_count, retried.next_retry_at), (0, None));
    assert!(retried.error_message.is_none(), "the old error is cleared");
    let done = e
        .wait_for(&token, &id, "completed", |o| {
            o.status == OperationStatus::Completed
        })
        .await;
    assert_eq!(done.target_uid.as_deref(), Some("outage.victim"));
    let list = attempts(&e, &token, &id).await.attempts;
    assert_eq!(
        list.iter().map(|a| a.attempt_number).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert!(list[3].success);
    let logs = log_messages(&e, &token, &id).await;
    assert!(
        logs.iter()
            .any(|(_, m)| m == "Retry requested by admin@demo.local"),
        "{logs:?}"
    );
}

#[tokio::test]
async fn a_permanent_failure_goes_straight_to_the_dead_letter_queue_and_can_be_resolved() {
    let e = engine().await;
    let token = e.admin_token().await;
    healthy(&e, &token).await;
    let body = json!({
        "connector_id": CORPORATE_DIRECTORY,
        "user_id": Uuid::new_v4(),
        "operation_type": "update",
        "target_uid": "nobody.here",
        "payload": {"title": "Ghost"},
    });
    let (_, op) = enqueue(&e, &token, body).await;
    let id = op.id.to_string();
    let dead = e
        .wait_for(&token, &id, "dead_letter", |o| {
            o.status == OperationStatus::DeadLetter
        })
        .await;
    assert_eq!(dead.retry_count, 1, "one attempt, no retries");
    let list = attempts(&e, &token, &id).await.attempts;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].error_code.as_deref(), Some("ACCOUNT_NOT_FOUND"));

    let notes = json!({"resolution_notes": "Created by hand in the directory"});
    let (status, body) = e
        .admin_post(&token, &format!("/operations/{id}/resolve"), notes)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let resolved: ProvisioningOperation = serde_json::from_value(body).expect("an operation");
    assert_eq!(resolved.status, OperationStatus::Resolved);
    assert_eq!(
        resolved.resolution_notes.as_deref(),
        Some("Created by hand in the directory")
    );
    assert_eq!(resolved.resolved_by, Some(engine::demo::DEMO_ADMIN));
    assert!(resolved.resolved_at.is_some());

    let (status, body) = e
        .admin_post(&token, &format!("/operations/{id}/resolve"), Value::Null)
        .await;
    assert_error(
        status,
        &body,
        StatusCode::CONFLICT,
        "invalid_operation_state",
    );
    assert_eq!(body["current_status"], "resolved");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("already resolved by admin@demo.local at "),
        "{message}"
    );
}

#[tokio::test]
async fn an_offline_connector_holds_work_without_using_retries_until_it_is_back() {
    let e = engine().await;
    let token = e.admin_token().await;
    let (status, body) = e
        .admin_put(
            &token,
            &format!("/connectors/{CORPORATE_DIRECTORY}/settings"),
            json!({"offline": true, "error_rate": 0.0, "latency_ms": 0}),
        )
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("offline")),
        "{body}"
    );
    let (_, op) = enqueue(&e, &token, new_account("waits.forit")).await;
    let id = op.id.to_string();
    let waiting = e
        .wait_for(&token, &id, "awaiting_system", |o| {
            o.status == OperationStatus::AwaitingSystem
        })
        .await;
    assert_eq!(waiting.retry_count, 0, "no retry used");
    let first = &attempts(&e, &token, &id).await.attempts[0];
    assert_eq!(first.error_code.as_deref(), Some("CONNECTOR_OFFLINE"));

    let (status, body) = e
        .admin_put(
            &token,
            &format!("/connectors/{CORPORATE_DIRECTORY}/settings"),
            json!({"offline": false, "error_rate": 0.0, "latency_ms": 0}),
        )
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("active")),
        "{body}"
    );
    let done = e
        .wait_for(&token, &id, "completed", |o| {
            o.status == OperationStatus::Completed
        })
        .await;
    assert_eq!(done.retry_count, 0);
    let logs = log_messages(&e, &token, &id).await;
    assert!(
        logs.iter().any(|(_, m)| m.contains("back online")),
        "{logs:?}"
    );

    // Cloud CRM's waiting operations are released the same way.
    let crm = with_status(
        &e,
        &token,
        &format!("status=awaiting_system&connector_id={CLOUD_CRM}"),
    )
    .await;
    assert!(!crm.is_empty());
    faults(
        &e,
        &token,
        CLOUD_CRM,
        json!({"offline": false, "error_rate": 0.0, "latency_ms": 0}),
    )
    .await;
    // Two of them change the same account: once back in the queue, the later one is held by a conflict.
    let mut held = 0;
    for op in &crm {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let (_, body) = e
                .admin_get(
                    &token,
                    &format!(
                        "/operations/conflicts?operation_id={}&pending_only=true",
                        op.id
                    ),
                )
                .await;
            if body["conflicts"][0]["operation_id_b"] == json!(op.id) {
                held += 1;
                break;
            }
            if e.operation(&token, &op.id.to_string()).await.status == OperationStatus::Completed {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{} neither ran nor was held",
                op.id
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
    assert!(held < crm.len(), "{held} of {} held", crm.len());
}

#[tokio::test]
async fn the_workers_probe_a_connector_that_failed_offline_and_release_its_work() {
    let e = engine().await;
    let token = e.admin_token().await;
    healthy(&e, &token).await;
    // The connector says active, but its calls fail offline (as a network outage would).
    sqlx::query("UPDATE connectors SET settings = json_set(settings, '$.offline', json('true')) WHERE id = ?")
        .bind(CORPORATE_DIRECTORY.to_string())
        .execute(&e.pool)
        .await
        .expect("updated");
    let (_, op) = enqueue(&e, &token, new_account("probe.me")).await;
    let id = op.id.to_string();
    e.wait_for(&token, &id, "awaiting_system", |o| {
        o.status == OperationStatus::AwaitingSystem
    })
    .await;
    sqlx::query("UPDATE connectors SET settings = json_set(settings, '$.offline', json('false')) WHERE id = ?")
        .bind(CORPORATE_DIRECTORY.to_string())
        .execute(&e.pool)
        .await
        .expect("updated");
    e.wait_for(&token, &id, "completed", |o| {
        o.status == OperationStatus::Completed
    })
    .await;
    let logs = log_messages(&e, &token, &id).await;
    assert!(
        logs.iter().any(|(_, m)| m.contains("answers again")),
        "{logs:?}"
    );
}

#[tokio::test]
async fn every_illegal_transition_is_409_and_changes_nothing() {
    let e = engine().await;
    let token = e.admin_token().await;
    // One operation of each status the demo leaves still (no worker touches these during the test).
    let mut samples = Vec::new();
    for status in OperationStatus::ALL {
        let op = with_status(&e, &token, &format!("status={status}"))
            .await
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no {status} operation in the demo"));
        samples.push(op);
    }
    let refused: [(&str, &[OperationStatus]); 3] = [
        (
            "retry",
            &[
                OperationStatus::Pending,
                OperationStatus::InProgress,
                OperationStatus::Completed,
                OperationStatus::AwaitingSystem,
                OperationStatus::Resolved,
                OperationStatus::Cancelled,
            ],
        ),
        (
            "cancel",
            &[
                OperationStatus::InProgress,
                OperationStatus::Completed,
                OperationStatus::Failed,
                OperationStatus::DeadLetter,
                OperationStatus::AwaitingSystem,
                OperationStatus::Resolved,
                OperationStatus::Cancelled,
            ],
        ),
        (
            "resolve",
            &[
                OperationStatus::Pending,
                OperationStatus::InProgress,
                OperationStatus::Completed,
                OperationStatus::Failed,
                OperationStatus::AwaitingSystem,
                OperationStatus::Resolved,
                OperationStatus::Cancelled,
            ],
        ),
    ];
    for (action, statuses) in refused {
        for &status in statuses {
            let op = samples
                .iter()
                .find(|o| o.status == status)
                .expect("a sample");
            let id = op.id.to_string();
            let logs_before = log_messages(&e, &token, &id).await.len();
            let (code, body) = e
                .admin_post(&token, &format!("/operations/{id}/{action}"), json!({}))
                .await;
            assert_error(code, &body, StatusCode::CONFLICT, "invalid_operation_state");
            assert_eq!(
                body["current_status"],
                status.as_str(),
                "{action} of {status}"
            );
            let message = body["message"].as_str().unwrap_or_default();
            assert!(
                message.contains(status.as_str()),
                "{action} of {status}: {message}"
            );
            if status == OperationStatus::Resolved {
                assert!(message.contains("by admin@demo.local at "), "{message}");
            }
            let after = e.operation(&token, &id).await;
            assert_eq!(&after, op, "{action} of {status} changed the operation");
            assert_eq!(log_messages(&e, &token, &id).await.len(), logs_before);
        }
    }

    // And the legal ones, once each.
    let pending = samples
        .iter()
        .find(|o| o.status == OperationStatus::Pending)
        .expect("pending");
    let (status, body) = e
        .admin_post(
            &token,
            &format!("/operations/{}/cancel", pending.id),
            Value::Null,
        )
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("cancelled")),
        "{body}"
    );
    let (status, body) = e
        .admin_post(
            &token,
            &format!("/operations/{}/cancel", pending.id),
            Value::Null,
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::CONFLICT,
        "invalid_operation_state",
    );
}

#[tokio::test]
async fn another_tenants_operation_is_404_everywhere() {
    let e = engine().await;
    let other = login(
        &e.app,
        e.demo.other_tenant_id,
        "admin@other.local",
        "demo-admin-pass",
    )
    .await;
    let (status, _, body) = send(
        &e.app,
        with_body(
            Method::GET,
            "/operations?limit=1",
            &Value::Null,
            &other.access_token,
            e.demo.other_tenant_id,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let theirs = body["operations"][0]["id"]
        .as_str()
        .expect("an id")
        .to_owned();

    let token = e.admin_token().await;
    for path in ["", "/logs", "/attempts"] {
        let (status, body) = e
            .admin_get(&token, &format!("/operations/{theirs}{path}"))
            .await;
        assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    }
    for action in ["retry", "cancel", "resolve"] {
        let (status, body) = e
            .admin_post(&token, &format!("/operations/{theirs}/{action}"), json!({}))
            .await;
        assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    }
    let unknown = Uuid::new_v4();
    let (status, body) = e.admin_get(&token, &format!("/operations/{unknown}")).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    // Their connector is not ours to enqueue on, nor to configure.
    let mut body = new_account("intruder");
    body["connector_id"] = json!(OTHER_DIRECTORY);
    let (status, answer) = e.admin_post(&token, "/operations", body).await;
    assert_error(status, &answer, StatusCode::NOT_FOUND, "not_found");
    let (status, answer) = e
        .admin_get(&token, &format!("/connectors/{OTHER_DIRECTORY}/settings"))
        .await;
    assert_error(status, &answer, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn bad_requests_are_400_naming_the_field() {
    let e = engine().await;
    let token = e.admin_token().await;
    let valid = new_account("valid.one");
    let with = |field: &str, value: Value| {
        let mut body = valid.clone();
        body[field] = value;
        body
    };
    let without = |field: &str| {
        let mut body = valid.clone();
        body.as_object_mut().map(|o| o.remove(field));
        body
    };
    let cases = [
        (without("connector_id"), "connector_id"),
        (with("connector_id", json!("nope")), "connector_id"),
        (without("user_id"), "user_id"),
        (with("user_id", json!(7)), "user_id"),
        (without("operation_type"), "operation_type"),
        (with("operation_type", json!("rename")), "operation_type"),
        (with("object_class", json!("")), "object_class"),
        (with("object_class", json!("user; drop")), "object_class"),
        (with("target_uid", json!("x".repeat(300))), "target_uid"),
        (with("payload", json!([1, 2])), "payload"),
        (with("priority", json!(5000)), "priority"),
        (with("priority", json!("high")), "priority"),
        (with("idempotency_key", json!("")), "idempotency_key"),
    ];
    for (body, field) in cases {
        let (status, answer) = e.admin_post(&token, "/operations", body).await;
        assert_error(status, &answer, StatusCode::BAD_REQUEST, "validation_error");
        assert_eq!(answer["field"], field, "{answer}");
    }
    let (status, _, answer) = send(
        &e.app,
        with_body(
            Method::POST,
            "/operations",
            &json!("text"),
            &token,
            e.demo.tenant_id,
        ),
    )
    .await;
    assert_error(status, &answer, StatusCode::BAD_REQUEST, "validation_error");
    assert_eq!(answer["field"], "body");

    let mut unknown = valid.clone();
    unknown["connector_id"] = json!(Uuid::new_v4());
    let (status, answer) = e.admin_post(&token, "/operations", unknown).await;
    assert_error(status, &answer, StatusCode::NOT_FOUND, "not_found");

    for path in [
        "/operations/nope",
        "/operations/nope/logs",
        "/operations/nope/attempts",
    ] {
        let (status, answer) = e.admin_get(&token, path).await;
        assert_error(status, &answer, StatusCode::BAD_REQUEST, "validation_error");
        assert_eq!(answer["field"], "id");
    }
    for action in ["retry", "cancel", "resolve"] {
        let (status, answer) = e
            .admin_post(&token, &format!("/operations/12345/{action}"), Value::Null)
            .await;
        assert_error(status, &answer, StatusCode::BAD_REQUEST, "validation_error");
    }
    let dead = with_status(&e, &token, "status=dead_letter").await;
    let (status, answer) = e
        .admin_post(
            &token,
            &format!("/operations/{}/resolve", dead[0].id),
            json!({"resolution_notes": 42}),
        )
        .await;
    assert_error(status, &answer, StatusCode::BAD_REQUEST, "validation_error");
    assert_eq!(answer["field"], "resolution_notes");
    // The shared rule (dto::ResolveOperation::validate): too long or a control character other than a line
    // break or tab is refused and changes nothing; tabs and line breaks are fine.
    for notes in [
        "x".repeat(dto::MAX_RESOLUTION_NOTES + 1),
        "bell \u{7}".to_owned(),
    ] {
        let (status, answer) = e
            .admin_post(
                &token,
                &format!("/operations/{}/resolve", dead[0].id),
                json!({ "resolution_notes": notes }),
            )
            .await;
        assert_error(status, &answer, StatusCode::BAD_REQUEST, "validation_error");
        assert_eq!(answer["field"], "resolution_notes");
    }
    let still = with_status(&e, &token, "status=dead_letter").await;
    assert!(
        still.iter().any(|op| op.id == dead[0].id),
        "nothing changed"
    );
    let (status, _) = e
        .admin_post(
            &token,
            &format!("/operations/{}/resolve", dead[0].id),
            json!({"resolution_notes": "Fixed:\n\tcreated by hand"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    for (query, field) in [
        ("connector_id=x", "connector_id"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("offset=-3", "offset"),
    ] {
        let (status, answer) = e
            .admin_get(&token, &format!("/operations/dlq?{query}"))
            .await;
        assert_error(status, &answer, StatusCode::BAD_REQUEST, "validation_error");
        assert_eq!(answer["field"], field);
    }

    // A non-admin may do none of it.
    let viewer = login(
        &e.app,
        e.demo.tenant_id,
        &e.demo.viewer_email,
        &e.demo.viewer_password,
    )
    .await;
    let (status, _, answer) = send(
        &e.app,
        with_body(
            Method::POST,
            "/operations",
            &valid,
            &viewer.access_token,
            e.demo.tenant_id,
        ),
    )
    .await;
    assert_error(status, &answer, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn the_dead_letter_queue_and_the_statistics_are_not_taken_for_ids() {
    let e = engine().await;
    let token = e.admin_token().await;
    let (status, body) = e.admin_get(&token, "/operations/dlq?limit=5").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let dlq: OperationList = serde_json::from_value(body).expect("a list");
    assert_eq!(
        (dlq.limit, dlq.offset, dlq.total),
        (Some(5), Some(0), Some(14))
    );
    assert!(dlq
        .operations
        .iter()
        .all(|o| o.status == OperationStatus::DeadLetter));
    let (status, body) = e.admin_get(&token, "/operations/stats").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["dead_letter"], 14);
    let (status, body) = e
        .admin_get(&token, &format!("/operations/dlq?connector_id={CLOUD_CRM}"))
        .await;
    assert_eq!(
        (status, body["total"].as_u64()),
        (StatusCode::OK, Some(0)),
        "{body}"
    );
}

#[tokio::test]
async fn one_operation_names_its_connector_until_the_connector_is_gone() {
    let e = engine().await;
    let token = e.admin_token().await;
    let crm = with_status(&e, &token, &format!("connector_id={CLOUD_CRM}")).await;
    let id = crm[0].id.to_string();
    assert_eq!(
        e.operation(&token, &id).await.connector_name.as_deref(),
        Some("Cloud CRM")
    );

    // Deleting a connector cascades to its operations; with the foreign keys off (as an import might), the
    // operation stays and has no connector name.
    let mut conn = e.pool.acquire().await.expect("connection");
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *conn)
        .await
        .expect("pragma");
    sqlx::query("DELETE FROM connectors WHERE id = ?")
        .bind(CLOUD_CRM.to_string())
        .execute(&mut *conn)
        .await
        .expect("deleted");
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut *conn)
        .await
        .expect("pragma");
    drop(conn);
    let orphan = e.operation(&token, &id).await;
    assert_eq!(
        (orphan.connector_id, orphan.connector_name),
        (CLOUD_CRM, None)
    );
}

#[tokio::test]
async fn the_list_sorts_by_age_or_priority() {
    let e = engine().await;
    let token = e.admin_token().await;
    let oldest = with_status(&e, &token, "sort=oldest").await;
    assert!(oldest
        .windows(2)
        .all(|w| w[0].created_at <= w[1].created_at));
    let newest = with_status(&e, &token, "sort=newest").await;
    assert!(newest
        .windows(2)
        .all(|w| w[0].created_at >= w[1].created_at));
    assert_ne!(oldest[0].id, newest[0].id);
    let by_priority = with_status(&e, &token, "sort=priority").await;
    assert!(by_priority.windows(2).all(|w| w[0].priority > w[1].priority
        || (w[0].priority == w[1].priority && w[0].created_at >= w[1].created_at)));
    assert_eq!(by_priority[0].priority, 10);
    let (status, body) = e.admin_get(&token, "/operations?sort=random").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "validation_error");
    assert_eq!(body["field"], "sort");
}
