//! The queue below HTTP: concurrent claims, crash recovery through expired leases, graceful shutdown, and
//! statistics after real runs.

use std::{collections::BTreeMap, time::Duration};

use chrono::Utc;
use dto::{OperationId, QueueStatistics, UserId};
use engine::{
    demo::{CORPORATE_DIRECTORY, DEMO_TENANT},
    queue::{
        lifecycle::{sources, Event},
        OperationRequest, Worker,
    },
    store::{self, ClaimedOperation, Settled},
    Queue,
};
use enums::{OperationStatus, OperationType};
use serde_json::json;
use uuid::Uuid;

use crate::common::{engine_with, fast_queue, TestEngine};

/// Makes Corporate Directory fault-free and fast.
async fn healthy(queue: &Queue) {
    queue
        .set_connector_settings(
            DEMO_TENANT,
            CORPORATE_DIRECTORY,
            engine::connector::ConnectorSettings::default(),
        )
        .await
        .expect("settings")
        .expect("the connector");
}

/// Enqueues `n` creates of fresh accounts on Corporate Directory, in one transaction.
async fn enqueue_creates(queue: &Queue, n: usize, tag: &str) -> Vec<OperationId> {
    let now = Utc::now();
    let operations: Vec<_> = (0..n)
        .map(|i| {
            let uid = format!("{tag}.{i:05}");
            queue.new_operation(
                OperationId(Uuid::new_v4()),
                OperationRequest {
                    tenant_id: DEMO_TENANT,
                    connector_id: CORPORATE_DIRECTORY,
                    user_id: UserId(Uuid::new_v4()),
                    operation_type: OperationType::Create,
                    object_class: "user".into(),
                    target_uid: Some(uid.clone()),
                    payload: json!({"email": format!("{uid}@demo.local")}),
                    priority: None,
                    max_retries: None,
                    idempotency_key: None,
                },
                now,
            )
        })
        .collect();
    queue
        .enqueue(&operations)
        .await
        .expect("enqueued")
        .into_iter()
        .map(|e| e.id())
        .collect()
}

async fn status_of(e: &TestEngine, id: OperationId) -> OperationStatus {
    let status: String = sqlx::query_scalar("SELECT status FROM operations WHERE id = ?")
        .bind(id.to_string())
        .fetch_one(&e.pool)
        .await
        .expect("status");
    status.parse().expect("a status")
}

async fn attempts_per_operation(e: &TestEngine, ids: &[OperationId]) -> BTreeMap<String, i64> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT operation_id, COUNT(*) FROM operation_attempts GROUP BY operation_id",
    )
    .fetch_all(&e.pool)
    .await
    .expect("attempts");
    let wanted: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    rows.into_iter()
        .filter(|(id, _)| wanted.contains(id))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_never_take_one_operation_twice() {
    let e = engine_with(fast_queue(0)).await;
    let queue = e.engine.queue().clone();
    healthy(&queue).await;
    let ids = enqueue_creates(&queue, 300, "claim").await;

    // Four raw claimers racing on one database, small batches, released together.
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(4));
    let mut tasks = Vec::new();
    for n in 0..4 {
        let pool = e.pool.clone();
        let start = start.clone();
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let mut mine = Vec::new();
            loop {
                let now = Utc::now();
                let claimed = store::claim_operations(
                    &pool,
                    &format!("claimer-{n}"),
                    &sources(Event::Claimed),
                    now,
                    now + chrono::Duration::minutes(1),
                    7,
                )
                .await
                .expect("claims");
                if claimed.is_empty() {
                    break mine;
                }
                mine.extend(claimed.into_iter().map(|c: ClaimedOperation| c.id));
            }
        }));
    }
    let mut all = Vec::new();
    let mut busy = 0;
    for task in tasks {
        let mine = task.await.expect("claimer ran");
        busy += usize::from(!mine.is_empty());
        all.extend(mine);
    }
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), total, "an operation was claimed twice");
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(
        all, expected,
        "every operation claimed once (nothing else was due)"
    );
    assert!(busy >= 2, "the claimers did race");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_run_every_operation_exactly_once() {
    let e = engine_with(fast_queue(0)).await;
    let queue = e.engine.queue().clone();
    healthy(&queue).await;
    let before = e
        .engine
        .directory()
        .count_accounts(CORPORATE_DIRECTORY)
        .await
        .expect("counted");
    let ids = enqueue_creates(&queue, 400, "twice").await;
    let mut runs = Vec::new();
    for n in 0..2 {
        let mut worker = Worker::new(queue.clone(), format!("racer-{n}"));
        runs.push(tokio::spawn(async move {
            worker.drain(Duration::ZERO).await.expect("drained")
        }));
    }
    let mut claimed = 0;
    for run in runs {
        claimed += run.await.expect("worker ran");
    }
    assert_eq!(claimed, 400);
    let attempts = attempts_per_operation(&e, &ids).await;
    assert_eq!(attempts.len(), 400);
    assert!(attempts.values().all(|&n| n == 1), "one attempt each");
    for id in &ids {
        assert_eq!(status_of(&e, *id).await, OperationStatus::Completed);
    }
    assert_eq!(
        e.engine
            .directory()
            .count_accounts(CORPORATE_DIRECTORY)
            .await
            .expect("counted"),
        before + 400
    );
}

#[tokio::test]
async fn a_dead_workers_operations_come_back_when_its_lease_runs_out() {
    let e = engine_with(fast_queue(0)).await;
    let queue = e.engine.queue().clone();
    healthy(&queue).await;
    let ids = enqueue_creates(&queue, 3, "crash").await;

    // A worker claims them and dies without a word.
    let now = Utc::now();
    let claimed = store::claim_operations(
        &e.pool,
        "doomed-worker",
        &sources(Event::Claimed),
        now,
        now + chrono::Duration::milliseconds(30),
        10,
    )
    .await
    .expect("claimed");
    assert_eq!(claimed.len(), 3);
    for id in &ids {
        assert_eq!(status_of(&e, *id).await, OperationStatus::InProgress);
    }
    let mut survivor = Worker::new(queue.clone(), "survivor");
    assert_eq!(
        survivor.run_once().await.expect("ran"),
        0,
        "leased work is not taken"
    );
    assert_eq!(
        survivor.reap().await.expect("reaped"),
        0,
        "the lease still holds"
    );

    tokio::time::sleep(Duration::from_millis(40)).await;
    assert_eq!(survivor.reap().await.expect("reaped"), 3);
    for id in &ids {
        assert_eq!(status_of(&e, *id).await, OperationStatus::Pending);
    }
    assert_eq!(survivor.drain(Duration::ZERO).await.expect("drained"), 3);
    for id in &ids {
        assert_eq!(status_of(&e, *id).await, OperationStatus::Completed);
    }
    let attempts = attempts_per_operation(&e, &ids).await;
    assert!(
        attempts.values().all(|&n| n == 1),
        "run once, by the survivor"
    );
    let log: Vec<String> = sqlx::query_scalar(
        "SELECT message FROM operation_logs WHERE operation_id = ? ORDER BY timestamp, rowid",
    )
    .bind(ids[0].to_string())
    .fetch_all(&e.pool)
    .await
    .expect("logs");
    assert!(log.iter().any(|m| m.contains("lease ran out")), "{log:?}");

    // Had the dead worker come back, its late result would be refused.
    let late = Settled {
        operation_id: ids[0],
        tenant_id: DEMO_TENANT,
        status: OperationStatus::DeadLetter,
        retry_count: 1,
        next_retry_at: None,
        error_message: Some("late".into()),
        target_uid: None,
        started_at: None,
        completed_at: None,
        attempt: None,
        logs: Vec::new(),
        at: Utc::now(),
    };
    let lost = store::settle_operations(&e.pool, "doomed-worker", &[late])
        .await
        .expect("settled");
    assert_eq!(lost, vec![ids[0]]);
    assert_eq!(status_of(&e, ids[0]).await, OperationStatus::Completed);
}

#[tokio::test]
async fn stopping_hands_unrun_work_back_to_the_queue() {
    let e = engine_with(fast_queue(2)).await;
    let queue = e.engine.queue().clone();
    queue
        .set_connector_settings(
            DEMO_TENANT,
            CORPORATE_DIRECTORY,
            engine::connector::ConnectorSettings {
                latency_ms: 25,
                ..Default::default()
            },
        )
        .await
        .expect("settings");
    let ids = enqueue_creates(&queue, 40, "stop").await;
    tokio::time::sleep(Duration::from_millis(120)).await;
    let path = e.database_path();
    e.engine.shutdown().await;

    let pool = engine::open_database(&path).await.expect("reopens");
    let mut counts = BTreeMap::new();
    for id in &ids {
        let status: String = sqlx::query_scalar("SELECT status FROM operations WHERE id = ?")
            .bind(id.to_string())
            .fetch_one(&pool)
            .await
            .expect("status");
        *counts.entry(status).or_insert(0) += 1;
    }
    assert!(
        counts.get("completed").is_some_and(|&n| n > 0 && n < 40),
        "{counts:?}"
    );
    assert!(counts.get("pending").is_some_and(|&n| n > 0), "{counts:?}");
    assert_eq!(
        counts.get("in_progress"),
        None,
        "nothing left leased: {counts:?}"
    );
}

#[tokio::test]
async fn statistics_follow_real_runs() {
    let e = engine_with(fast_queue(2)).await;
    let queue = e.engine.queue().clone();
    queue
        .set_connector_settings(
            DEMO_TENANT,
            CORPORATE_DIRECTORY,
            engine::connector::ConnectorSettings {
                latency_ms: 30,
                ..Default::default()
            },
        )
        .await
        .expect("settings");
    let ids = enqueue_creates(&queue, 10, "stats").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    for id in &ids {
        while status_of(&e, *id).await != OperationStatus::Completed {
            assert!(std::time::Instant::now() < deadline, "{id} never completed");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let stats: QueueStatistics =
        store::queue_statistics(&e.pool, DEMO_TENANT, Some(CORPORATE_DIRECTORY))
            .await
            .expect("stats");
    // The mean of completed_at − started_at over the connector's completed operations, recomputed here.
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT started_at, completed_at FROM operations
         WHERE tenant_id = ? AND connector_id = ? AND status = 'completed'",
    )
    .bind(DEMO_TENANT.to_string())
    .bind(CORPORATE_DIRECTORY.to_string())
    .fetch_all(&e.pool)
    .await
    .expect("rows");
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).expect("a time");
    let mean = rows
        .iter()
        .map(|(s, c)| (parse(c) - parse(s)).num_microseconds().unwrap_or(0) as f64 / 1e6)
        .sum::<f64>()
        / rows.len() as f64;
    let avg = stats.avg_processing_time_secs.expect("an average");
    assert!((avg - mean).abs() < 1e-3, "{avg} vs {mean}");
    // The ten just run each took the injected 30 ms.
    for id in &ids {
        let (s, c): (String, String) =
            sqlx::query_as("SELECT started_at, completed_at FROM operations WHERE id = ?")
                .bind(id.to_string())
                .fetch_one(&e.pool)
                .await
                .expect("times");
        let ms = (parse(&c) - parse(&s)).num_milliseconds();
        assert!((30..1000).contains(&ms), "{ms} ms");
    }
    assert_eq!(stats.completed as usize, rows.len());
    let settled = (stats.completed + stats.failed + stats.dead_letter) as f64;
    let rate = stats.success_rate.expect("a rate");
    assert!((rate - stats.completed as f64 * 100.0 / settled).abs() < 1e-9);
}
