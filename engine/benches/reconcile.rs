//! Reconciliation figures, printed plainly: `cargo bench -p engine --bench reconcile` (release).
//!
//! (a) A full run over N accounts of the directory connector (100,000 and 1,000,000 by default; the
//!     `BENCH_ACCOUNTS` list changes them, `BENCH_BATCH` the batch size), with N identities and their links,
//!     1 % of each kind of drift: seconds, accounts per second, discrepancies, and the process's peak
//!     resident memory during the run (reset before it), which must not grow with N.
//! (b) A full run over 100,000 accounts that all differ (100,000 discrepancies), then through the engine's
//!     router: its discrepancy list (50 rows a page), p50 / p99, and a bulk remediation of 100 mismatches.
//! (c) A bulk remediation of 100 mismatches through the router with 40 ms injected into each directory call,
//!     dry and real, with the default share of the connector (8 at once) and with 1 (one after another):
//!     `cargo bench -p engine --bench reconcile -- bulk`. Parts: `full`, `differ`, `bulk`.

mod common;

use std::time::{Duration, Instant};

use dto::ConnectorId;
use engine::{
    store::{self, Mapping, RunRequest},
    DirectoryStore, Engine, EngineConfig, QueueConfig, ReconcilerConfig,
};
use enums::ReconciliationMode;
use serde_json::json;
use sqlx::sqlite::SqlitePoolOptions;

use common::{percentile, send, token, world, CONNECTORS, SECRET, TENANT};

fn main() {
    common::run(|wants| async move {
        if wants("full") {
            let sizes: Vec<u64> = std::env::var("BENCH_ACCOUNTS")
                .ok()
                .map(|list| {
                    list.split(',')
                        .filter_map(|n| n.trim().parse().ok())
                        .collect()
                })
                .unwrap_or_else(|| vec![100_000, 1_000_000]);
            for size in sizes {
                full_run(size, false).await;
            }
        }
        if wants("differ") {
            full_run(100_000, true).await;
        }
        if wants("bulk") {
            for per_connector in [ReconcilerConfig::default().remediations_per_connector, 1] {
                bulk_at_latency(per_connector, 40).await;
            }
        }
    });
}

/// Kilobytes of a `/proc/self/status` line, e.g. `VmHWM`.
fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse().ok())
        })
        .unwrap_or(0)
}

/// Resets the peak resident size to the current one (Linux: `5` into `clear_refs`).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// N identities (ids `…-4000-8000-<i>`), N accounts less the missing ones, links, 1 % of each drift: mismatch
/// (i % 100 == 1), missing (2), unlinked (3), deleted (4, link without account), and 1 % orphans.
async fn populate(
    engine: &Engine,
    database: &std::path::Path,
    connector: ConnectorId,
    size: u64,
    all_differ: bool,
) {
    let started = Instant::now();
    let pool = engine.pool();
    let n = i64::try_from(size).unwrap_or(i64::MAX);
    sqlx::query(
        "INSERT INTO identities (id, tenant_id, email, display_name, attributes, active, created_at, updated_at)
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1)
         SELECT printf('00000000-0000-4000-8000-%012x', i), ?2, printf('user%08d@bench.local', i),
                printf('User %d', i), json_object('department', 'Dept ' || (i % 7), 'title', 'Engineer'), 1,
                '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z'
         FROM n",
    )
    .bind(n)
    .bind(TENANT.to_string())
    .execute(pool)
    .await
    .expect("identities");
    sqlx::query(
        "INSERT INTO account_links (tenant_id, connector_id, identity_id, external_uid, linked_at)
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1)
         SELECT ?2, ?3, printf('00000000-0000-4000-8000-%012x', i), printf('user%08d', i),
                '2026-01-01T00:00:00.000000Z'
         FROM n WHERE i % 100 NOT IN (2, 3)",
    )
    .bind(n)
    .bind(TENANT.to_string())
    .bind(connector.to_string())
    .execute(pool)
    .await
    .expect("links");
    let mut conn = pool.acquire().await.expect("connection");
    let mapping = |identity: &str, target: &str, correlation_priority| Mapping {
        identity_attribute: identity.into(),
        target_attribute: target.into(),
        correlation_priority,
    };
    store::set_mappings(
        &mut conn,
        connector,
        &[
            mapping("email", "email", Some(0)),
            mapping("department", "department", None),
            mapping("title", "title", None),
        ],
    )
    .await
    .expect("mappings");
    drop(conn);
    // The directory's own file, written directly as the target system would hold it.
    let directory = SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&format!(
            "sqlite://{}",
            DirectoryStore::path_beside(database).display()
        ))
        .await
        .expect("directory");
    sqlx::query(
        "INSERT INTO accounts (connector_id, uid, object_class, owner_id, attributes, created_at, updated_at)
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1)
         SELECT ?2, printf('user%08d', i), 'user', NULL,
                json_object('email', printf('user%08d@bench.local', i),
                            'department', CASE WHEN i % 100 = 1 OR ?3 THEN 'Unassigned' ELSE 'Dept ' || (i % 7) END,
                            'title', 'Engineer'),
                '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z'
         FROM n WHERE i % 100 NOT IN (2, 4)
         UNION ALL
         SELECT ?2, printf('orphan%08d', i), 'user', NULL, json_object('email', printf('orphan%08d@x', i)),
                '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z'
         FROM n WHERE i % 100 = 5",
    )
    .bind(n)
    .bind(connector.to_string())
    .bind(all_differ)
    .execute(&directory)
    .await
    .expect("accounts");
    directory.close().await;
    println!(
        "reconcile: {size} identities, accounts and links written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

async fn full_run(size: u64, all_differ: bool) {
    let batch_size = std::env::var("BENCH_BATCH")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(engine::ReconcilerConfig::default().batch_size);
    let dir = tempfile::tempdir().expect("temp dir");
    let database = dir.path().join("engine.db");
    let config = EngineConfig {
        database_path: database.clone(),
        jwt_secret: Some(SECRET.into()),
        reconciler: engine::ReconcilerConfig {
            batch_size,
            ..engine::ReconcilerConfig::default()
        },
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
    let connector = CONNECTORS[0];
    populate(&engine, &database, connector, size, all_differ).await;

    let reconciler = engine.reconciler();
    let rss_before = status_kb("VmRSS");
    reset_peak();
    let started = Instant::now();
    let run = reconciler
        .admit(RunRequest {
            tenant_id: TENANT,
            connector_id: connector,
            mode: ReconciliationMode::Full,
            dry_run: true,
            created_by: None,
            scheduled: false,
        })
        .await
        .expect("admits")
        .expect("known connector")
        .expect("accepted");
    // The engine's own background task runs it; wait for the end.
    let done = loop {
        let state = store::run_state(engine.pool(), TENANT, connector, run.run.id)
            .await
            .expect("reads")
            .expect("exists");
        if !state.run.status.is_active() {
            break state;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "reconcile: full run over {size} accounts ({}, batches of {batch_size}): {:?} in {elapsed:.2} s, {:.0} accounts/s, {} discrepancies, {} connector calls; RSS {} MiB before, peak {} MiB during",
        if all_differ { "every account differs" } else { "1 % of each drift" },
        done.run.status,
        done.run.accounts_processed as f64 / elapsed,
        done.run.discrepancies_found,
        done.api_calls_made,
        rss_before / 1024,
        status_kb("VmHWM") / 1024,
    );

    if all_differ {
        let app = engine.router();
        let token = token(&app).await;
        let base = format!("/connectors/{connector}/reconciliation/discrepancies");
        for filter in ["", "&discrepancy_type=mismatch&resolution_status=pending"] {
            let mut times: Vec<Duration> = Vec::new();
            for page in 0..200 {
                let path = format!(
                    "{base}?run_id={}{filter}&limit=50&offset={}",
                    run.run.id,
                    (page * 50) % 5000
                );
                times.push(send(&app, &path, &token).await);
            }
            times.sort();
            println!(
                "reconcile: discrepancy list (50 rows{}) of a run with {} discrepancies: p50 {:.2} ms, p99 {:.2} ms",
                if filter.is_empty() { "" } else { ", pending mismatches" },
                done.run.discrepancies_found,
                percentile(&times, 0.5).as_secs_f64() * 1000.0,
                percentile(&times, 0.99).as_secs_f64() * 1000.0,
            );
        }
        let list = store::list_discrepancies(
            engine.pool(),
            TENANT,
            connector,
            &store::DiscrepancyFilter {
                run_id: Some(run.run.id),
                discrepancy_type: Some(enums::DiscrepancyType::Mismatch),
                ..store::DiscrepancyFilter::default()
            },
            dto::PageRequest {
                limit: 100,
                offset: 0,
            },
        )
        .await
        .expect("mismatches")
        .0;
        let items: Vec<_> = list
            .iter()
            .map(|d| json!({"discrepancy_id": d.id, "action": "update", "direction": "xavyo_to_target"}))
            .collect();
        let started = Instant::now();
        let request = axum::http::Request::builder()
            .method("POST")
            .uri(format!("{base}/bulk-remediate"))
            .header("authorization", format!("Bearer {token}"))
            .header("x-tenant-id", TENANT.to_string())
            .header("content-type", "application/json")
            .body(axum::body::Body::from(json!({"items": items}).to_string()))
            .expect("request");
        let response = tower::ServiceExt::oneshot(app.clone(), request)
            .await
            .expect("answers");
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 24)
            .await
            .expect("body");
        let answer: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        println!(
            "reconcile: bulk remediation of {} mismatches through the engine: {status}, {} succeeded, in {:.0} ms",
            items.len(),
            answer["succeeded"],
            started.elapsed().as_secs_f64() * 1000.0
        );
    }
    engine.shutdown().await;
}

/// One request through the router as the bench admin; answers the status, the JSON body and the time taken.
async fn timed(
    app: &axum::Router,
    method: &str,
    path: &str,
    token: &str,
    body: serde_json::Value,
) -> (axum::http::StatusCode, serde_json::Value, Duration) {
    let request = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("x-tenant-id", TENANT.to_string())
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_string()))
        .expect("request");
    let started = Instant::now();
    let response = tower::ServiceExt::oneshot(app.clone(), request)
        .await
        .expect("answers");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .expect("body");
    let elapsed = started.elapsed();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or_default(),
        elapsed,
    )
}

/// 1,000 accounts that all differ, a run to find their mismatches, then `latency_ms` on every directory
/// call: a dry and a real bulk remediation of 100 of them, `per_connector` at once.
async fn bulk_at_latency(per_connector: usize, latency_ms: u64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = dir.path().join("engine.db");
    let config = EngineConfig {
        database_path: database.clone(),
        jwt_secret: Some(SECRET.into()),
        reconciler: ReconcilerConfig {
            remediations_per_connector: per_connector,
            ..ReconcilerConfig::default()
        },
        // The bench injects the directory's latency.
        fault_injection: true,
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
    let connector = CONNECTORS[0];
    populate(&engine, &database, connector, 1_000, true).await;
    let run = engine
        .reconciler()
        .admit(RunRequest {
            tenant_id: TENANT,
            connector_id: connector,
            mode: ReconciliationMode::Full,
            dry_run: true,
            created_by: None,
            scheduled: false,
        })
        .await
        .expect("admits")
        .expect("known connector")
        .expect("accepted");
    while store::run_state(engine.pool(), TENANT, connector, run.run.id)
        .await
        .expect("reads")
        .is_some_and(|state| state.run.status.is_active())
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let app = engine.router();
    let token = token(&app).await;
    let (status, _, _) = timed(
        &app,
        "PUT",
        &format!("/connectors/{connector}/settings"),
        &token,
        json!({"offline": false, "error_rate": 0.0, "latency_ms": latency_ms}),
    )
    .await;
    assert!(status.is_success(), "latency set: {status}");
    let base = format!("/connectors/{connector}/reconciliation/discrepancies");
    let (_, list, _) = timed(
        &app,
        "GET",
        &format!(
            "{base}?run_id={}&discrepancy_type=mismatch&limit=100",
            run.run.id
        ),
        &token,
        serde_json::Value::Null,
    )
    .await;
    let items: Vec<_> = list["discrepancies"]
        .as_array()
        .expect("mismatches")
        .iter()
        .map(|d| json!({"discrepancy_id": d["id"], "action": "update", "direction": "xavyo_to_target"}))
        .collect();
    let mut said = Vec::new();
    for dry_run in [true, false] {
        let (status, answer, took) = timed(
            &app,
            "POST",
            &format!("{base}/bulk-remediate"),
            &token,
            json!({"items": items, "dry_run": dry_run}),
        )
        .await;
        assert!(status.is_success(), "{status}: {answer}");
        said.push(format!(
            "{} {:.0} ms ({} succeeded)",
            if dry_run { "dry run" } else { "real" },
            took.as_secs_f64() * 1000.0,
            answer["succeeded"]
        ));
    }
    println!(
        "reconcile: bulk remediation of {} mismatches at {latency_ms} ms a directory call, {per_connector} at once: {}",
        items.len(),
        said.join(", ")
    );
    engine.shutdown().await;
}
