//! Conflicts over HTTP: detected by the real worker when it claims an operation that collides with an earlier
//! active one on the same account, the later one held (never run) until an admin resolves the conflict, and
//! each outcome's effect on it through the worker and the directory connector; listing, filters, validation,
//! isolation and roles; the demo's conflicts, which the worker made.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use dto::{ConflictList, OperationId, ProvisioningConflict, ProvisioningOperation};
use engine::{
    connector::{Call, ConnectorTarget},
    demo::CORPORATE_DIRECTORY,
    queue::Worker,
};
use enums::{ConflictOutcome, ConflictType, OperationStatus};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{assert_error, engine_with, fast_queue, login, send, with_body, TestEngine};

/// A demo engine whose queue runs only when a test drains it with a worker of its own.
async fn engine() -> TestEngine {
    engine_with(fast_queue(0)).await
}

/// Runs the real worker until nothing is due.
async fn drain(e: &TestEngine) -> usize {
    Worker::new(e.engine.queue().clone(), format!("test-{}", Uuid::new_v4()))
        .drain(Duration::ZERO)
        .await
        .expect("drained")
}

async fn enqueue(e: &TestEngine, token: &str, body: Value) -> ProvisioningOperation {
    let (status, body) = e.admin_post(token, "/operations", body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    serde_json::from_value(body).expect("an operation")
}

async fn update(e: &TestEngine, token: &str, uid: &str, payload: Value) -> ProvisioningOperation {
    enqueue(
        e,
        token,
        json!({
            "connector_id": CORPORATE_DIRECTORY,
            "user_id": Uuid::new_v4(),
            "operation_type": "update",
            "target_uid": uid,
            "payload": payload,
        }),
    )
    .await
}

/// A fresh account in Corporate Directory, made through the queue.
async fn account_made(e: &TestEngine, token: &str, uid: &str) {
    let op = enqueue(
        e,
        token,
        json!({
            "connector_id": CORPORATE_DIRECTORY,
            "user_id": Uuid::new_v4(),
            "operation_type": "create",
            "target_uid": uid,
            "payload": {"email": format!("{uid}@demo.local"), "title": "Start", "department": "Start"},
        }),
    )
    .await;
    drain(e).await;
    assert_eq!(
        e.operation(token, &op.id.to_string()).await.status,
        OperationStatus::Completed
    );
}

/// The account's attribute as the directory holds it.
async fn attribute(e: &TestEngine, uid: &str, name: &str) -> Value {
    let connector = e
        .engine
        .queue()
        .connectors()
        .get("directory")
        .expect("the directory connector");
    let target = ConnectorTarget {
        id: CORPORATE_DIRECTORY,
        tenant_id: e.demo.tenant_id,
        name: "Corporate Directory".into(),
        connector_type: "directory".into(),
        settings: json!({}),
    };
    let call = Call {
        target: &target,
        key: "test",
    };
    let account = connector
        .get(call, uid)
        .await
        .expect("the directory answers")
        .expect("the account exists");
    account.attributes.get(name).cloned().unwrap_or(Value::Null)
}

async fn conflicts(e: &TestEngine, token: &str, query: &str) -> ConflictList {
    let (status, body) = e
        .admin_get(token, &format!("/operations/conflicts?{query}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).expect("a conflict list")
}

async fn conflict_of(e: &TestEngine, token: &str, later: OperationId) -> ProvisioningConflict {
    let list = conflicts(e, token, &format!("operation_id={later}")).await;
    assert_eq!(list.total, Some(1), "{list:?}");
    list.conflicts[0].clone()
}

async fn attempts(e: &TestEngine, token: &str, id: OperationId) -> usize {
    let (_, body) = e
        .admin_get(token, &format!("/operations/{id}/attempts"))
        .await;
    body["attempts"].as_array().map_or(0, Vec::len)
}

async fn logs(e: &TestEngine, token: &str, id: OperationId) -> Vec<String> {
    let (_, body) = e.admin_get(token, &format!("/operations/{id}/logs")).await;
    body["logs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["message"].as_str().map(str::to_owned))
        .collect()
}

/// Two updates of one account, the second changing the title too: answers (earlier, later) after a drain.
async fn colliding_pair(
    e: &TestEngine,
    token: &str,
    uid: &str,
) -> (ProvisioningOperation, ProvisioningOperation) {
    account_made(e, token, uid).await;
    let earlier = update(
        e,
        token,
        uid,
        json!({"title": "Earlier", "department": "Ops"}),
    )
    .await;
    let later = update(e, token, uid, json!({"title": "Later", "manager": "boss"})).await;
    drain(e).await;
    (earlier, later)
}

#[tokio::test]
async fn the_worker_holds_the_later_of_two_overlapping_updates_and_runs_the_rest() {
    let e = engine().await;
    let token = e.admin_token().await;
    let (earlier, later) = colliding_pair(&e, &token, "cf.overlap").await;
    // An update of other attributes of the same account, and one of another account: no conflict.
    let apart = update(&e, &token, "cf.overlap", json!({"phone": "555"})).await;
    drain(&e).await;

    let conflict = conflict_of(&e, &token, later.id).await;
    assert_eq!(
        (conflict.operation_id_a, conflict.operation_id_b),
        (earlier.id, Some(later.id))
    );
    assert_eq!(conflict.kind(), Some(ConflictType::ConcurrentUpdate));
    assert_eq!(conflict.affected_attributes, ["title"]);
    assert!(conflict.is_pending() && conflict.outcome.is_none());
    assert_eq!(conflict.tenant_id, Some(e.demo.tenant_id));

    let ran = e.operation(&token, &earlier.id.to_string()).await;
    assert_eq!(ran.status, OperationStatus::Completed);
    let held = e.operation(&token, &later.id.to_string()).await;
    assert_eq!(held.status, OperationStatus::Pending);
    assert_eq!(attempts(&e, &token, later.id).await, 0, "never executed");
    assert!(
        logs(&e, &token, later.id)
            .await
            .iter()
            .any(|m| m.starts_with("Held: conflicts with the earlier operation")),
        "says why it waits"
    );
    assert_eq!(attribute(&e, "cf.overlap", "title").await, "Earlier");
    assert_eq!(attribute(&e, "cf.overlap", "manager").await, Value::Null);

    // The update of other attributes ran; it is in no conflict.
    assert_eq!(
        e.operation(&token, &apart.id.to_string()).await.status,
        OperationStatus::Completed
    );
    assert_eq!(attribute(&e, "cf.overlap", "phone").await, "555");
    let none = conflicts(&e, &token, &format!("operation_id={}", apart.id)).await;
    assert_eq!(none.total, Some(0));

    // Draining again leaves it held.
    drain(&e).await;
    assert_eq!(
        e.operation(&token, &later.id.to_string()).await.status,
        OperationStatus::Pending
    );
    assert_eq!(attempts(&e, &token, later.id).await, 0);
    assert_eq!(
        conflicts(&e, &token, &format!("operation_id={}", later.id))
            .await
            .total,
        Some(1)
    );
}

#[tokio::test]
async fn a_delete_before_an_update_is_a_missing_target() {
    let e = engine().await;
    let token = e.admin_token().await;
    account_made(&e, &token, "cf.gone").await;
    let delete = enqueue(
        &e,
        &token,
        json!({
            "connector_id": CORPORATE_DIRECTORY,
            "user_id": Uuid::new_v4(),
            "operation_type": "delete",
            "target_uid": "cf.gone",
        }),
    )
    .await;
    let later = update(&e, &token, "cf.gone", json!({"title": "Too late"})).await;
    drain(&e).await;
    let conflict = conflict_of(&e, &token, later.id).await;
    assert_eq!(conflict.operation_id_a, delete.id);
    assert_eq!(conflict.kind(), Some(ConflictType::MissingTarget));
    assert_eq!(conflict.affected_attributes, ["title"]);
    assert_eq!(attempts(&e, &token, later.id).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_never_both_run_colliding_operations() {
    let e = engine().await;
    let token = e.admin_token().await;
    let mut pairs = Vec::new();
    for n in 0..6 {
        let uid = format!("cf.race.{n}");
        account_made(&e, &token, &uid).await;
    }
    for n in 0..6 {
        let uid = format!("cf.race.{n}");
        let a = update(&e, &token, &uid, json!({"title": format!("A{n}")})).await;
        let b = update(&e, &token, &uid, json!({"title": format!("B{n}")})).await;
        pairs.push((a.id, b.id));
    }
    let racers: Vec<_> = (0..2)
        .map(|n| {
            let queue = e.engine.queue().clone();
            tokio::spawn(async move {
                Worker::new(queue, format!("racer-{n}"))
                    .drain(Duration::ZERO)
                    .await
                    .expect("drained")
            })
        })
        .collect();
    for racer in racers {
        racer.await.expect("the worker ran");
    }
    for (a, b) in pairs {
        assert_eq!(
            e.operation(&token, &a.to_string()).await.status,
            OperationStatus::Completed
        );
        assert_eq!(
            e.operation(&token, &b.to_string()).await.status,
            OperationStatus::Pending
        );
        assert_eq!(attempts(&e, &token, b).await, 0);
        assert_eq!(conflict_of(&e, &token, b).await.operation_id_a, a);
    }
}

#[tokio::test]
async fn each_outcome_releases_or_cancels_the_held_operation() {
    let e = engine().await;
    let token = e.admin_token().await;
    for outcome in ConflictOutcome::ALL {
        let uid = format!("cf.outcome.{outcome}");
        let (_, later) = colliding_pair(&e, &token, &uid).await;
        let conflict = conflict_of(&e, &token, later.id).await;
        let notes = format!("Settled as {outcome}");
        let (status, body) = e
            .admin_post(
                &token,
                &format!("/operations/conflicts/{}/resolve", conflict.id),
                json!({"outcome": outcome, "notes": format!("  {notes} ")}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let resolved: ProvisioningConflict = serde_json::from_value(body).expect("a conflict");
        assert_eq!(resolved.status, "resolved");
        assert_eq!(resolved.outcome, Some(outcome));
        assert_eq!(resolved.notes.as_deref(), Some(notes.as_str()));
        assert!(resolved.resolved_at.is_some());
        assert_eq!(resolved.resolved_by, Some(engine::demo::DEMO_ADMIN));

        drain(&e).await;
        let op = e.operation(&token, &later.id.to_string()).await;
        match outcome {
            ConflictOutcome::Applied | ConflictOutcome::Merged => {
                assert_eq!(op.status, OperationStatus::Completed, "{outcome}");
                assert_eq!(attempts(&e, &token, later.id).await, 1);
                assert_eq!(attribute(&e, &uid, "title").await, "Later");
                assert_eq!(attribute(&e, &uid, "manager").await, "boss");
                assert!(logs(&e, &token, later.id)
                    .await
                    .iter()
                    .any(|m| m.starts_with("Released by admin@demo.local")));
            }
            ConflictOutcome::Superseded | ConflictOutcome::Rejected => {
                assert_eq!(op.status, OperationStatus::Cancelled, "{outcome}");
                assert_eq!(attempts(&e, &token, later.id).await, 0);
                assert_eq!(attribute(&e, &uid, "title").await, "Earlier");
                let lines = logs(&e, &token, later.id).await;
                assert!(
                    lines
                        .iter()
                        .any(|m| m.starts_with("Cancelled by admin@demo.local")
                            && m.contains(outcome.as_str())
                            && m.contains(&notes)),
                    "{lines:?}"
                );
            }
        }

        // Resolving again is refused and changes nothing.
        let (status, body) = e
            .admin_post(
                &token,
                &format!("/operations/conflicts/{}/resolve", conflict.id),
                json!({"outcome": "rejected", "notes": "again"}),
            )
            .await;
        assert_error(
            status,
            &body,
            StatusCode::CONFLICT,
            "invalid_operation_state",
        );
        assert_eq!(body["current_status"], "resolved");
        let (_, body) = e
            .admin_get(&token, &format!("/operations/conflicts/{}", conflict.id))
            .await;
        let again: ProvisioningConflict = serde_json::from_value(body).expect("a conflict");
        assert_eq!(again, resolved);
        assert_eq!(
            e.operation(&token, &later.id.to_string()).await.status,
            op.status
        );
    }
}

#[tokio::test]
async fn bad_input_other_tenants_and_viewers_change_nothing() {
    let e = engine().await;
    let token = e.admin_token().await;
    let (_, later) = colliding_pair(&e, &token, "cf.guarded").await;
    let conflict = conflict_of(&e, &token, later.id).await;
    let resolve = format!("/operations/conflicts/{}/resolve", conflict.id);

    for (body, field) in [
        (json!({}), "outcome"),
        (json!({"outcome": "maybe"}), "outcome"),
        (json!({"outcome": 3}), "outcome"),
        (json!({"outcome": "merged", "notes": 5}), "notes"),
        (
            json!({"outcome": "merged", "notes": "x".repeat(dto::MAX_CONFLICT_NOTES + 1)}),
            "notes",
        ),
        (json!({"outcome": "merged", "notes": "bell \u{7}"}), "notes"),
    ] {
        let (status, answer) = e.admin_post(&token, &resolve, body).await;
        assert_error(status, &answer, StatusCode::BAD_REQUEST, "validation_error");
        assert_eq!(answer["field"], field, "{answer}");
    }
    for (query, field) in [
        ("conflict_type=bogus", "conflict_type"),
        ("pending_only=maybe", "pending_only"),
        ("operation_id=x", "operation_id"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("offset=-1", "offset"),
    ] {
        let (status, answer) = e
            .admin_get(&token, &format!("/operations/conflicts?{query}"))
            .await;
        assert_error(status, &answer, StatusCode::BAD_REQUEST, "validation_error");
        assert_eq!(answer["field"], field, "{answer}");
    }
    let (status, answer) = e.admin_get(&token, "/operations/conflicts/nope").await;
    assert_error(status, &answer, StatusCode::BAD_REQUEST, "validation_error");
    let unknown = Uuid::new_v4();
    let (status, answer) = e
        .admin_get(&token, &format!("/operations/conflicts/{unknown}"))
        .await;
    assert_error(status, &answer, StatusCode::NOT_FOUND, "not_found");
    let (status, answer) = e
        .admin_post(
            &token,
            &format!("/operations/conflicts/{unknown}/resolve"),
            json!({"outcome": "merged"}),
        )
        .await;
    assert_error(status, &answer, StatusCode::NOT_FOUND, "not_found");

    // Another tenant's admin sees nothing of it.
    let other = login(
        &e.app,
        e.demo.other_tenant_id,
        "admin@other.local",
        &e.demo.password,
    )
    .await;
    for (method, path, body) in [
        (
            Method::GET,
            format!("/operations/conflicts/{}", conflict.id),
            Value::Null,
        ),
        (
            Method::POST,
            resolve.clone(),
            json!({"outcome": "rejected"}),
        ),
    ] {
        let (status, _, answer) = send(
            &e.app,
            with_body(
                method,
                &path,
                &body,
                &other.access_token,
                e.demo.other_tenant_id,
            ),
        )
        .await;
        assert_error(status, &answer, StatusCode::NOT_FOUND, "not_found");
    }
    let (_, _, answer) = send(
        &e.app,
        with_body(
            Method::GET,
            "/operations/conflicts",
            &Value::Null,
            &other.access_token,
            e.demo.other_tenant_id,
        ),
    )
    .await;
    assert_eq!(answer["total"], 0, "{answer}");

    // A viewer may neither read nor resolve.
    let viewer = login(
        &e.app,
        e.demo.tenant_id,
        &e.demo.viewer_email,
        &e.demo.viewer_password,
    )
    .await;
    for (method, path, body) in [
        (Method::GET, "/operations/conflicts".to_owned(), Value::Null),
        (
            Method::POST,
            resolve.clone(),
            json!({"outcome": "rejected"}),
        ),
    ] {
        let (status, _, answer) = send(
            &e.app,
            with_body(method, &path, &body, &viewer.access_token, e.demo.tenant_id),
        )
        .await;
        assert_error(status, &answer, StatusCode::FORBIDDEN, "forbidden");
    }

    // None of it changed anything.
    let (_, body) = e
        .admin_get(&token, &format!("/operations/conflicts/{}", conflict.id))
        .await;
    let still: ProvisioningConflict = serde_json::from_value(body).expect("a conflict");
    assert_eq!(still, conflict);
    assert_eq!(
        e.operation(&token, &later.id.to_string()).await.status,
        OperationStatus::Pending
    );
}

#[tokio::test]
async fn the_list_filters_pages_and_counts() {
    let e = engine().await;
    let token = e.admin_token().await;
    let before = conflicts(&e, &token, "limit=100").await;
    let pending_before = conflicts(&e, &token, "pending_only=true").await.total;
    let (_, first) = colliding_pair(&e, &token, "cf.list.1").await;
    let (_, second) = colliding_pair(&e, &token, "cf.list.2").await;

    let all = conflicts(&e, &token, "limit=100").await;
    assert_eq!(all.total, before.total.map(|t| t + 2));
    assert_eq!((all.limit, all.offset), (Some(100), Some(0)));
    assert!(all
        .conflicts
        .windows(2)
        .all(|w| w[0].created_at >= w[1].created_at));
    assert_eq!(
        all.conflicts[0].operation_id_b,
        Some(second.id),
        "newest first"
    );

    let page = conflicts(&e, &token, "limit=1&offset=1").await;
    assert_eq!(page.total, all.total);
    assert_eq!(page.conflicts, all.conflicts[1..2]);
    assert_eq!(page.conflicts[0].operation_id_b, Some(first.id));

    let pending = conflicts(&e, &token, "pending_only=true&limit=100").await;
    assert_eq!(pending.total, pending_before.map(|t| t + 2));
    assert!(pending
        .conflicts
        .iter()
        .all(ProvisioningConflict::is_pending));
    let conflict = conflict_of(&e, &token, first.id).await;
    let (status, _) = e
        .admin_post(
            &token,
            &format!("/operations/conflicts/{}/resolve", conflict.id),
            json!({"outcome": "superseded"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let pending = conflicts(&e, &token, "pending_only=true").await;
    assert_eq!(pending.total, pending_before.map(|t| t + 1));
    let everything = conflicts(&e, &token, "pending_only=false").await;
    assert_eq!(everything.total, all.total);

    let missing = conflicts(&e, &token, "conflict_type=missing_target&limit=100").await;
    assert!(missing
        .conflicts
        .iter()
        .all(|c| c.kind() == Some(ConflictType::MissingTarget)));
    let concurrent = conflicts(&e, &token, "conflict_type=concurrent_update&limit=100").await;
    assert_eq!(
        concurrent.total.unwrap_or(0) + missing.total.unwrap_or(0),
        all.total.unwrap_or(0)
    );
    let stale = conflicts(&e, &token, "conflict_type=stale_data").await;
    assert_eq!(stale.total, Some(0));
    // Either side of a conflict finds it.
    let by_earlier = conflicts(
        &e,
        &token,
        &format!("operation_id={}", conflict.operation_id_a),
    )
    .await;
    assert_eq!(
        by_earlier.conflicts,
        [conflict_of(&e, &token, first.id).await]
    );
}

#[tokio::test]
async fn the_demos_conflicts_come_from_the_worker() {
    let e = engine().await;
    let token = e.admin_token().await;
    let list = conflicts(&e, &token, "limit=100").await;
    assert_eq!(list.total, Some(5));
    let pending: Vec<_> = list.conflicts.iter().filter(|c| c.is_pending()).collect();
    assert_eq!(pending.len(), 2);
    for c in &list.conflicts {
        assert!(c.kind().is_some() && !c.affected_attributes.is_empty());
        let earlier = e.operation(&token, &c.operation_id_a.to_string()).await;
        let later_id = c.operation_id_b.expect("the held operation");
        let later = e.operation(&token, &later_id.to_string()).await;
        assert!(earlier.created_at < later.created_at);
        assert!(c.created_at >= later.created_at, "{c:?}");
        assert!(
            logs(&e, &token, later_id)
                .await
                .iter()
                .any(|m| m.starts_with("Held: ")),
            "held by the worker"
        );
        let want = match c.outcome {
            None => OperationStatus::Pending,
            Some(ConflictOutcome::Applied | ConflictOutcome::Merged) => OperationStatus::Completed,
            Some(_) => OperationStatus::Cancelled,
        };
        assert_eq!(later.status, want, "{c:?}");
    }
    assert!(list
        .conflicts
        .iter()
        .any(|c| c.kind() == Some(ConflictType::MissingTarget)));
}

#[tokio::test]
async fn a_held_operation_cancelled_meanwhile_stays_cancelled() {
    let e = engine().await;
    let token = e.admin_token().await;
    let (_, later) = colliding_pair(&e, &token, "cf.cancelled").await;
    let conflict = conflict_of(&e, &token, later.id).await;
    let (status, body) = e
        .admin_post(
            &token,
            &format!("/operations/{}/cancel", later.id),
            Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = e
        .admin_post(
            &token,
            &format!("/operations/conflicts/{}/resolve", conflict.id),
            json!({"outcome": "applied"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    drain(&e).await;
    let op = e.operation(&token, &later.id.to_string()).await;
    assert_eq!(op.status, OperationStatus::Cancelled);
    assert_eq!(attempts(&e, &token, later.id).await, 0);
    assert!(!logs(&e, &token, later.id)
        .await
        .iter()
        .any(|m| m.starts_with("Released")));
}

#[tokio::test]
async fn a_held_candidate_leaves_no_gap_in_the_batch() {
    use engine::queue::lifecycle::{sources, Event};
    let e = engine().await;
    let token = e.admin_token().await;
    account_made(&e, &token, "cf.gap").await;
    let first = update(&e, &token, "cf.gap", json!({"title": "A"})).await;
    let held = update(&e, &token, "cf.gap", json!({"title": "B"})).await;
    let other = update(&e, &token, "cf.elsewhere", json!({"title": "C"})).await;
    let now = chrono::Utc::now();
    let claimed = engine::store::claim_operations(
        &e.pool,
        "gap-test",
        &sources(Event::Claimed),
        now,
        now + chrono::Duration::minutes(1),
        2,
    )
    .await
    .expect("claimed");
    let ids: Vec<OperationId> = claimed.iter().map(|c| c.id).collect();
    assert_eq!(
        ids,
        [first.id, other.id],
        "the batch is filled past the held one"
    );
    assert_eq!(
        conflict_of(&e, &token, held.id).await.operation_id_a,
        first.id
    );
    assert_eq!(
        e.operation(&token, &held.id.to_string()).await.status,
        OperationStatus::Pending
    );
}
