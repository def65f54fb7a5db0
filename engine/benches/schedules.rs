//! The discrepancy trend and the scheduler's due-check, printed as plain figures:
//! `cargo bench -p engine --bench schedules` (release).
//!
//! (a) `GET /reconciliation/trend` over 90 days, all connectors and one, through `router(..).oneshot`, with
//!     1,000,000 discrepancies found by 270 runs (three connectors, one run a day each): p50 / p99.
//! (b) The scheduler's tick with 10,000 enabled schedules, none due (the every-5-seconds case), and the
//!     due-query on its own: p50 / p99.
//!
//! `-- trend` or `-- due` runs one half; `BENCH_DISCREPANCIES` changes (a)'s size.

use std::time::{Duration, Instant};

use chrono::Utc;
use engine::{store, Engine, EngineConfig, QueueConfig};

mod common;

use common::{percentile, send, token, world, CONNECTORS, SECRET, TENANT};

fn main() {
    common::run(|wants| async move {
        if wants("trend") {
            let size = std::env::var("BENCH_DISCREPANCIES")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(1_000_000);
            trend(size).await;
        }
        if wants("due") {
            due(10_000).await;
        }
    });
}

async fn engine(dir: &tempfile::TempDir) -> Engine {
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
    engine
}

fn report(what: &str, mut times: Vec<Duration>) {
    times.sort();
    println!(
        "{what}: p50 {:.2} ms, p99 {:.2} ms ({} requests)",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        times.len()
    );
}

async fn trend(size: u64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = engine(&dir).await;
    let pool = engine.pool();
    let started = Instant::now();
    // One completed run a day per connector over the last 90 days; run r is connector r % 3 on day r / 3.
    sqlx::query(
        "INSERT INTO reconciliation_runs (id, tenant_id, connector_id, mode, dry_run, status, trigger_kind,
                                          started_at, completed_at, created_at, updated_at)
         WITH RECURSIVE n(r) AS (SELECT 0 UNION ALL SELECT r + 1 FROM n WHERE r + 1 < 270),
              t(r, at) AS (SELECT r, strftime('%Y-%m-%dT02:00:00.000000Z', 'now', printf('-%d days', r / 3)) FROM n)
         SELECT printf('%08x-0000-4000-8000-000000000000', r), ?1,
                CASE r % 3 WHEN 0 THEN ?2 WHEN 1 THEN ?3 ELSE ?4 END,
                'full', 0, 'completed', 'schedule', at, at, at, at
         FROM t",
    )
    .bind(TENANT.to_string())
    .bind(CONNECTORS[0].to_string())
    .bind(CONNECTORS[1].to_string())
    .bind(CONNECTORS[2].to_string())
    .execute(pool)
    .await
    .expect("runs");
    // The discrepancies, spread over the runs and the six types; each found when its run ran (the triggers
    // keep the per-day tally as they are inserted).
    sqlx::query(
        "INSERT INTO discrepancies (id, tenant_id, connector_id, run_id, discrepancy_type, external_uid,
                                    suggested_actions, resolution_status, created_at)
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1)
         SELECT printf('%08x-0000-4000-9000-%012x', i, i), ?2,
                CASE (i % 270) % 3 WHEN 0 THEN ?3 WHEN 1 THEN ?4 ELSE ?5 END,
                printf('%08x-0000-4000-8000-000000000000', i % 270),
                CASE i % 6 WHEN 0 THEN 'missing' WHEN 1 THEN 'orphan' WHEN 2 THEN 'mismatch'
                           WHEN 3 THEN 'collision' WHEN 4 THEN 'unlinked' ELSE 'deleted' END,
                'uid-' || i, '[]', 'pending',
                strftime('%Y-%m-%dT02:30:00.000000Z', 'now', printf('-%d days', (i % 270) / 3))
         FROM n",
    )
    .bind(i64::try_from(size).unwrap_or(i64::MAX))
    .bind(TENANT.to_string())
    .bind(CONNECTORS[0].to_string())
    .bind(CONNECTORS[1].to_string())
    .bind(CONNECTORS[2].to_string())
    .execute(pool)
    .await
    .expect("discrepancies");
    println!(
        "trend: {size} discrepancies inserted (with the trend's triggers) in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let app = engine.router();
    let token = token(&app).await;
    let today = Utc::now().date_naive();
    let from = today - chrono::Duration::days(89);
    for (what, path) in [
        (
            "trend 90 days, all connectors",
            format!("/reconciliation/trend?from={from}&to={today}"),
        ),
        (
            "trend 90 days, one connector",
            format!(
                "/reconciliation/trend?connector_id={}&from={from}&to={today}",
                CONNECTORS[1]
            ),
        ),
        (
            "trend default (30 days)",
            "/reconciliation/trend".to_owned(),
        ),
    ] {
        let mut times = Vec::with_capacity(300);
        for _ in 0..300 {
            times.push(send(&app, &path, &token).await);
        }
        report(what, times);
    }
    engine.shutdown().await;
}

async fn due(count: u64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = engine(&dir).await;
    let pool = engine.pool();
    // One connector per schedule (a connector has at most one), every schedule enabled and due in the next
    // hours, so none is due now.
    sqlx::query(
        "INSERT INTO connectors (id, tenant_id, name, connector_type, status, credentials_valid, settings,
                                 created_at, updated_at)
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1)
         SELECT printf('%08x-0000-4000-a000-000000000000', i), ?2, 'Connector ' || i, 'directory', 'active', 1,
                '{}', strftime('%Y-%m-%dT%H:%M:%f000Z', 'now'), strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')
         FROM n",
    )
    .bind(i64::try_from(count).unwrap_or(i64::MAX))
    .bind(TENANT.to_string())
    .execute(pool)
    .await
    .expect("connectors");
    sqlx::query(
        "INSERT INTO schedules (id, tenant_id, connector_id, mode, frequency, hour_of_day, enabled, next_run_at,
                                created_at, updated_at)
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1)
         SELECT printf('%08x-0000-4000-b000-000000000000', i), ?2, printf('%08x-0000-4000-a000-000000000000', i),
                'full', 'daily', i % 24, 1,
                strftime('%Y-%m-%dT%H:00:00.000000Z', 'now', printf('+%d hours', 1 + i % 24)),
                strftime('%Y-%m-%dT%H:%M:%f000Z', 'now'), strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')
         FROM n",
    )
    .bind(i64::try_from(count).unwrap_or(i64::MAX))
    .bind(TENANT.to_string())
    .execute(pool)
    .await
    .expect("schedules");
    println!("due: {count} enabled schedules, none due now");

    let mut query = Vec::with_capacity(1000);
    let mut tick = Vec::with_capacity(1000);
    for _ in 0..1000 {
        let started = Instant::now();
        let due = store::due_schedules(pool, Utc::now(), 100)
            .await
            .expect("due");
        query.push(started.elapsed());
        assert!(due.is_empty());
        let started = Instant::now();
        let fired = engine.scheduler().tick(Utc::now()).await.expect("tick");
        tick.push(started.elapsed());
        assert!(fired.is_empty());
    }
    report("due-check query, 10,000 schedules", query);
    report("scheduler tick, 10,000 schedules", tick);
    engine.shutdown().await;
}
