//! Queue throughput and list latency, printed as plain figures: `cargo bench -p engine` (release).
//!
//! (a) Workers against the directory connector without injected faults: 20,000 creates enqueued in one
//!     transaction, then the workers start; operations per second until every one is completed.
//! (b) `GET /operations` through `router(..).oneshot` against 1,000,000 operations: p50 / p99 of a few hundred
//!     requests per filter, and the cost of the `total` count on its own.
//!
//! `cargo bench -p engine -- throughput` or `-- list` runs one half; `BENCH_OPERATIONS` changes (b)'s size.

use std::time::{Duration, Instant};

use chrono::Utc;
use dto::{OperationId, UserId};
use engine::{queue::OperationRequest, store, Engine, EngineConfig, Queue, QueueConfig, Workers};
use enums::OperationType;
use serde_json::json;
use uuid::Uuid;

mod common;

use common::{percentile, send, token, world, CONNECTORS, SECRET, TENANT};

fn main() {
    common::run(|wants| async move {
        if wants("throughput") {
            for (workers, batch) in [(2, 64), (1, 64), (4, 64), (2, 1)] {
                throughput(20_000, workers, batch).await;
            }
        }
        if wants("list") {
            let size = std::env::var("BENCH_OPERATIONS")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(1_000_000);
            list(size).await;
        }
    });
}

async fn throughput(count: usize, workers: usize, batch: u32) {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = EngineConfig {
        database_path: dir.path().join("engine.db"),
        jwt_secret: Some(SECRET.into()),
        ..EngineConfig::default()
    };
    let engine = Engine::open(
        &config,
        QueueConfig {
            workers: 0,
            ..QueueConfig::default()
        },
    )
    .await
    .expect("opens");
    world(engine.pool()).await;
    let queue_config = QueueConfig {
        workers,
        batch_size: batch,
        ..QueueConfig::default()
    };
    let queue = Queue::new(
        engine.pool().clone(),
        queue_config,
        engine.queue().connectors().clone(),
    );
    let now = Utc::now();
    let operations: Vec<_> = (0..count)
        .map(|i| {
            let uid = format!("user.{i:06}");
            queue.new_operation(
                OperationId(Uuid::new_v4()),
                OperationRequest {
                    tenant_id: TENANT,
                    connector_id: CONNECTORS[i % 3],
                    user_id: UserId(Uuid::new_v4()),
                    operation_type: OperationType::Create,
                    object_class: "user".into(),
                    target_uid: Some(uid.clone()),
                    payload: json!({"email": format!("{uid}@bench.local"), "title": "Engineer"}),
                    priority: Some(i32::try_from(i % 3).unwrap_or(0)),
                    max_retries: None,
                    idempotency_key: None,
                },
                now,
            )
        })
        .collect();
    let started = Instant::now();
    queue.enqueue(&operations).await.expect("enqueued");
    let enqueue = started.elapsed();

    let started = Instant::now();
    let running = Workers::start(&queue);
    loop {
        let done: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM operations WHERE status = 'completed'")
                .fetch_one(engine.pool())
                .await
                .expect("counts");
        if done as usize >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    running.stop().await;
    let attempts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM operation_attempts")
        .fetch_one(engine.pool())
        .await
        .expect("counts");
    println!(
        "throughput: {count} creates, {workers} worker(s), batch {batch}: {:.0} ops/s ({:.2} s; enqueue in one transaction {:.2} s; {attempts} attempts)",
        count as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        enqueue.as_secs_f64(),
    );
    engine.shutdown().await;
}

async fn list(size: u64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = EngineConfig {
        database_path: dir.path().join("engine.db"),
        jwt_secret: Some(SECRET.into()),
        ..EngineConfig::default()
    };
    let engine = Engine::open(
        &config,
        QueueConfig {
            workers: 0,
            ..QueueConfig::default()
        },
    )
    .await
    .expect("opens");
    world(engine.pool()).await;

    let started = Instant::now();
    // 1,000,000 operations over the last 30 days, one every ~2.6 s: 70 % completed, the rest in every other
    // status; three connectors, 5,000 users, the three types, priorities 0/5/10.
    let span = 30.0 * 86_400.0 / size as f64;
    sqlx::query(
        "INSERT INTO operations (id, tenant_id, connector_id, user_id, operation_type, object_class, status,
                                 priority, retry_count, max_retries, error_message, payload, idempotency_key,
                                 created_at, updated_at, started_at, completed_at)
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1),
              t(i, at) AS (SELECT i, strftime('%Y-%m-%dT%H:%M:%f', 'now', printf('-%.3f seconds', i * ?2)) || '000Z'
                           FROM n)
         SELECT printf('%08x-0000-4000-8000-%012x', i, i), ?3,
                CASE i % 3 WHEN 0 THEN ?4 WHEN 1 THEN ?5 ELSE ?6 END,
                printf('00000000-0000-4000-9000-%012x', i % 5000),
                CASE i % 4 WHEN 0 THEN 'create' WHEN 1 THEN 'delete' ELSE 'update' END, 'user',
                CASE WHEN i % 100 < 70 THEN 'completed' WHEN i % 100 < 78 THEN 'failed'
                     WHEN i % 100 < 83 THEN 'dead_letter' WHEN i % 100 < 88 THEN 'pending'
                     WHEN i % 100 < 92 THEN 'awaiting_system' WHEN i % 100 < 96 THEN 'cancelled'
                     WHEN i % 100 < 99 THEN 'resolved' ELSE 'in_progress' END,
                (i % 3) * 5, 0, 5,
                CASE WHEN i % 100 BETWEEN 70 AND 82 THEN 'TIMEOUT: the target did not answer' END,
                '{\"title\":\"Engineer\"}', 'bench:' || i, at, at, at,
                CASE WHEN i % 100 < 70 THEN at END
         FROM t",
    )
    .bind(i64::try_from(size).unwrap_or(i64::MAX))
    .bind(span)
    .bind(TENANT.to_string())
    .bind(CONNECTORS[0].to_string())
    .bind(CONNECTORS[1].to_string())
    .bind(CONNECTORS[2].to_string())
    .execute(engine.pool())
    .await
    .expect("bulk insert");
    println!(
        "list: {size} operations inserted in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let app = engine.router();
    let token = token(&app).await;

    let now = Utc::now();
    let z = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let c = CONNECTORS[1];
    let cases = [
        ("no filter".to_owned(), "/operations".to_owned()),
        ("status=failed".into(), "/operations?status=failed".into()),
        (
            "connector_id".into(),
            format!("/operations?connector_id={c}"),
        ),
        (
            "status+connector".into(),
            format!("/operations?status=failed&connector_id={c}"),
        ),
        (
            "date range (7 days)".into(),
            format!(
                "/operations?from_date={}&to_date={}",
                z(now - chrono::Duration::days(14)),
                z(now - chrono::Duration::days(7))
            ),
        ),
        ("offset 5000".into(), "/operations?offset=5000".into()),
        ("sort=priority".into(), "/operations?sort=priority".into()),
        ("stats".into(), "/operations/stats".into()),
        ("dlq".into(), "/operations/dlq".into()),
    ];
    // What a plain COUNT(*) of the same filters costs: the total before operation_counts.
    let counts = [
        ("no filter", String::new()),
        ("status=failed", " AND status = 'failed'".to_owned()),
        ("connector_id", format!(" AND connector_id = '{c}'")),
        (
            "status+connector",
            format!(" AND status = 'failed' AND connector_id = '{c}'"),
        ),
        (
            "date range (7 days)",
            format!(
                " AND created_at >= '{}' AND created_at <= '{}'",
                store::ts(now - chrono::Duration::days(14)),
                store::ts(now - chrono::Duration::days(7))
            ),
        ),
    ];
    for (name, filter) in &counts {
        let sql = format!("SELECT COUNT(*) FROM operations WHERE tenant_id = ?{filter}");
        let mut times = Vec::with_capacity(20);
        for _ in 0..20 {
            let started = Instant::now();
            let _: i64 = sqlx::query_scalar(&sql)
                .bind(TENANT.to_string())
                .fetch_one(engine.pool())
                .await
                .expect("counts");
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "list: COUNT(*) alone, {name:<20} p50 {:>7.2} ms",
            percentile(&times, 0.50).as_secs_f64() * 1e3
        );
    }
    for (name, path) in &cases {
        for _ in 0..10 {
            send(&app, path, &token).await;
        }
        let mut times = Vec::with_capacity(300);
        for _ in 0..300 {
            times.push(send(&app, path, &token).await);
        }
        times.sort();
        println!(
            "list: {name:<20} p50 {:>7.2} ms  p99 {:>7.2} ms",
            percentile(&times, 0.50).as_secs_f64() * 1e3,
            percentile(&times, 0.99).as_secs_f64() * 1e3,
        );
    }
    engine.shutdown().await;
}
