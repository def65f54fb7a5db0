//! The demo data, as the real queue, worker and directory connector left it.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use dto::{AttemptList, OperationList, ProvisioningOperation};
use engine::demo::{CLOUD_CRM, CORPORATE_DIRECTORY, LEGACY_HR, OTHER_TENANT};
use enums::OperationStatus;
use serde_json::Value;

use crate::common::{engine, TestEngine};

async fn counts(e: &TestEngine, tenant: dto::TenantId) -> BTreeMap<String, i64> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, COUNT(*) FROM operations WHERE tenant_id = ? GROUP BY status",
    )
    .bind(tenant.to_string())
    .fetch_all(&e.pool)
    .await
    .expect("counts");
    rows.into_iter().collect()
}

async fn all_operations(e: &TestEngine, token: &str) -> Vec<ProvisioningOperation> {
    let mut all = Vec::new();
    for offset in (0..400).step_by(100) {
        let (status, body) = e
            .admin_get(token, &format!("/operations?limit=100&offset={offset}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page: OperationList = serde_json::from_value(body).expect("a list");
        all.extend(page.operations);
    }
    all
}

#[tokio::test]
async fn every_status_comes_from_the_real_process() {
    let e = engine().await;
    let demo = counts(&e, e.demo.tenant_id).await;
    let want: BTreeMap<String, i64> = [
        ("awaiting_system", 21),
        ("cancelled", 15),
        ("completed", 217),
        ("dead_letter", 14),
        ("failed", 24),
        ("in_progress", 1),
        ("pending", 14),
        ("resolved", 4),
    ]
    .into_iter()
    .map(|(s, n)| (s.to_owned(), n))
    .collect();
    assert_eq!(demo, want, "the same outcomes on every seed");
    let other = counts(&e, OTHER_TENANT).await;
    assert_eq!(other.values().sum::<i64>(), 24, "{other:?}");

    let token = e.admin_token().await;
    let now = Utc::now();
    let ops = all_operations(&e, &token).await;
    assert_eq!(ops.len(), 310);
    assert!(
        ops.iter().any(|o| o.created_at < now - Duration::days(20)),
        "spread over the month"
    );
    for op in &ops {
        let id = op.id;
        assert!(op.created_at > now - Duration::days(31) && op.created_at <= now);
        let (status, body) = e
            .admin_get(&token, &format!("/operations/{id}/attempts"))
            .await;
        assert_eq!(status, StatusCode::OK);
        let attempts: AttemptList = serde_json::from_value(body).expect("attempts");
        let last = attempts.attempts.last();
        for a in &attempts.attempts {
            assert!(
                a.started_at >= op.created_at,
                "{id}: attempt before its enqueue"
            );
            assert!(a.completed_at >= Some(a.started_at));
        }
        let (_, logs) = e.admin_get(&token, &format!("/operations/{id}/logs")).await;
        let first = logs["logs"][0]["message"].as_str().unwrap_or_default();
        assert!(first.starts_with("Queued: "), "{id}: {first}");
        match op.status {
            OperationStatus::Completed => {
                assert!(op.completed_at >= op.started_at && op.started_at.is_some());
                assert!(last.is_some_and(|a| a.success), "{id}");
            }
            OperationStatus::Failed => {
                assert_eq!(op.connector_id, CORPORATE_DIRECTORY);
                assert!(op.error_message.is_some());
                assert!(last.is_some_and(|a| !a.success && a.error_code.is_some()));
                let next = op.next_retry_at.expect("a next retry");
                assert!(next > now + Duration::minutes(10), "{id}: retry at {next}");
            }
            OperationStatus::DeadLetter => {
                assert_eq!(op.connector_id, CORPORATE_DIRECTORY);
                assert!(op.error_message.is_some());
                assert!(last.is_some_and(|a| !a.success && a.error_code.is_some()));
            }
            OperationStatus::AwaitingSystem => {
                assert_eq!(op.connector_id, CLOUD_CRM);
                assert_eq!(op.retry_count, 0);
                assert_eq!(
                    last.and_then(|a| a.error_code.as_deref()),
                    Some("CONNECTOR_OFFLINE")
                );
            }
            OperationStatus::Pending => {
                // Waiting for Legacy HR to be enabled, or held by a conflict the worker detected.
                let held: Option<String> =
                    sqlx::query_scalar("SELECT held_by_conflict FROM operations WHERE id = ?")
                        .bind(id.to_string())
                        .fetch_one(&e.pool)
                        .await
                        .expect("held");
                assert!(op.connector_id == LEGACY_HR || held.is_some(), "{id}");
                assert!(attempts.attempts.is_empty());
            }
            OperationStatus::InProgress => {
                assert_eq!(op.connector_id, CORPORATE_DIRECTORY);
                let (owner, until): (String, String) = sqlx::query_as(
                    "SELECT lease_owner, lease_expires_at FROM operations WHERE id = ?",
                )
                .bind(id.to_string())
                .fetch_one(&e.pool)
                .await
                .expect("lease");
                assert_eq!(owner, "demo-seed-stalled");
                assert!(until > engine::store::ts(now + Duration::minutes(5)));
            }
            OperationStatus::Resolved => {
                assert!(op.resolved_by.is_some() && op.resolution_notes.is_some());
            }
            OperationStatus::Cancelled => assert!(attempts.attempts.is_empty()),
        }
    }
}

#[tokio::test]
async fn dead_letters_of_the_outage_succeed_when_retried() {
    let e = engine().await;
    let token = e.admin_token().await;
    let (_, body) = e.admin_get(&token, "/operations/dlq?limit=100").await;
    let dead: OperationList = serde_json::from_value(body).expect("a list");
    let mut transient = Vec::new();
    for op in &dead.operations {
        let (_, body) = e
            .admin_get(&token, &format!("/operations/{}/attempts", op.id))
            .await;
        let code = body["attempts"]
            .as_array()
            .and_then(|a| a.last())
            .map(|a| a["error_code"].clone())
            .unwrap_or(Value::Null);
        if matches!(
            code.as_str(),
            Some("CONNECTION_RESET" | "TIMEOUT" | "RATE_LIMITED")
        ) {
            transient.push(op.id);
        }
    }
    assert!(transient.len() >= 5, "{transient:?}");
    for id in transient {
        let (status, body) = e
            .admin_post(&token, &format!("/operations/{id}/retry"), Value::Null)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        e.wait_for(&token, &id.to_string(), "completed", |o| {
            o.status == OperationStatus::Completed
        })
        .await;
    }
}
