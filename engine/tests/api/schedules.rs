//! Schedules and the trend over HTTP: CRUD with the next run computed on every save, validation naming each
//! field and changing nothing, isolation, the scheduler firing a due schedule exactly once (across two
//! engines on one database, and once after a long downtime), refusals and disabled schedules, and the trend
//! equal to the discrepancies the runs found.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use dto::{ReconciliationRun, ReconciliationSchedule, ScheduleList, Trend};
use engine::{
    demo::{CLOUD_CRM, CORPORATE_DIRECTORY, LEGACY_HR, OTHER_DIRECTORY},
    store, Engine, EngineConfig,
};
use enums::{DiscrepancyType, ReconciliationRunStatus, ScheduleFrequency};
use serde_json::{json, Value};

use crate::common::{assert_error, engine, fast_queue, login, send, with_body, TestEngine, SECRET};

fn schedule_path(connector: impl std::fmt::Display) -> String {
    format!("/connectors/{connector}/reconciliation/schedule")
}

async fn schedule(te: &TestEngine, token: &str) -> ReconciliationSchedule {
    let (status, body) = te
        .admin_get(token, &schedule_path(CORPORATE_DIRECTORY))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).expect("a schedule")
}

async fn delete(te: &TestEngine, token: &str, path: &str) -> (StatusCode, Value) {
    let request = with_body(Method::DELETE, path, &Value::Null, token, te.demo.tenant_id);
    let (status, _, body) = send(&te.app, request).await;
    (status, body)
}

/// Runs a schedule started, counted in the database.
async fn scheduled_runs(te: &TestEngine) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM reconciliation_runs WHERE connector_id = ? AND trigger_kind = 'schedule'",
    )
    .bind(CORPORATE_DIRECTORY.to_string())
    .fetch_one(&te.pool)
    .await
    .expect("count")
}

async fn backdate(te: &TestEngine, schedule: &ReconciliationSchedule, to: DateTime<Utc>) {
    store::set_next_run_at(&te.pool, schedule.id, to)
        .await
        .expect("backdated");
}

#[tokio::test]
async fn a_schedule_is_saved_with_its_next_run_toggled_and_deleted() {
    let te = engine().await;
    let token = te.admin_token().await;
    let path = schedule_path(CORPORATE_DIRECTORY);

    // The demo's nightly schedule, due at the next 02:00.
    let nightly = schedule(&te, &token).await;
    assert_eq!(nightly.frequency, ScheduleFrequency::Daily);
    let next = nightly.next_run_at.expect("a next run");
    assert!(next > Utc::now() && next.hour() == 2 && next.minute() == 0);
    assert!(nightly.last_run_id.is_some() && nightly.last_run_at.is_some());
    assert_eq!(nightly.last_outcome.as_deref(), Some("accepted"));

    // The global view: every schedule of the tenant, with connector names.
    let (status, body) = te.admin_get(&token, "/reconciliation/schedules").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let list: ScheduleList = serde_json::from_value(body).expect("schedules");
    let names: Vec<_> = list
        .schedules
        .iter()
        .map(|s| (s.connector_name.clone().unwrap_or_default(), s.enabled))
        .collect();
    assert_eq!(
        names,
        [
            ("Cloud CRM".to_owned(), true),
            ("Corporate Directory".to_owned(), true),
            ("Legacy HR".to_owned(), false),
        ]
    );
    let crm = &list.schedules[0];
    assert_eq!(crm.connector_id, CLOUD_CRM);
    assert_eq!(
        crm.last_outcome.as_deref(),
        Some("blocked:connector_offline")
    );
    assert!(list.schedules[2].next_run_at.is_none());

    // Weekly on Sunday at 14:00: the next Sunday 14:00 after now. Unused fields are not kept.
    let (status, body) = te
        .admin_put(
            &token,
            &path,
            json!({"mode": "delta", "frequency": "weekly", "day_of_week": 0, "hour_of_day": 14,
                   "day_of_month": 9, "cron_expression": "0 1 * * *"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let weekly: ReconciliationSchedule = serde_json::from_value(body).expect("a schedule");
    assert_eq!(weekly.id, nightly.id, "replaced in place");
    assert_eq!(
        (weekly.day_of_month, weekly.cron_expression.as_deref()),
        (None, None)
    );
    let next = weekly.next_run_at.expect("a next run");
    assert_eq!(
        (next.weekday(), next.hour(), next.minute()),
        (chrono::Weekday::Sun, 14, 0)
    );
    assert!(next > Utc::now() && next - Utc::now() <= chrono::Duration::days(7));
    assert_eq!(weekly.last_run_id, nightly.last_run_id, "history kept");
    assert_eq!(schedule(&te, &token).await, weekly);

    // Disabled: no next run; enabled: computed again.
    let (status, _) = te
        .admin_post(&token, &format!("{path}/disable"), Value::Null)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let off = schedule(&te, &token).await;
    assert!(!off.enabled && off.next_run_at.is_none());
    let (status, _) = te
        .admin_post(&token, &format!("{path}/enable"), Value::Null)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let on = schedule(&te, &token).await;
    assert!(on.enabled);
    assert_eq!(on.next_run_at, weekly.next_run_at);

    // Cron: the expression decides.
    let (status, body) = te
        .admin_put(
            &token,
            &path,
            json!({"mode": "full", "frequency": "cron", "hour_of_day": 0, "cron_expression": " 30 4 * * 1-5 "}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cron: ReconciliationSchedule = serde_json::from_value(body).expect("a schedule");
    assert_eq!(cron.cron_expression.as_deref(), Some("30 4 * * 1-5"));
    let next = cron.next_run_at.expect("a next run");
    assert_eq!((next.hour(), next.minute()), (4, 30));
    assert!(next.weekday().number_from_monday() <= 5);

    // Deleted: gone, and a second delete, a get or a toggle answers 404.
    let (status, _) = delete(&te, &token, &path).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = te.admin_get(&token, &path).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = delete(&te, &token, &path).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = te
        .admin_post(&token, &format!("{path}/enable"), Value::Null)
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");

    // Monthly on the 31st, created anew.
    let (status, body) = te
        .admin_put(
            &token,
            &path,
            json!({"mode": "full", "frequency": "monthly", "day_of_month": 31, "hour_of_day": 2, "enabled": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let monthly: ReconciliationSchedule = serde_json::from_value(body).expect("a schedule");
    assert_ne!(monthly.id, nightly.id);
    assert!(!monthly.enabled && monthly.next_run_at.is_none());
}

#[tokio::test]
async fn bad_schedules_name_the_field_and_change_nothing() {
    let te = engine().await;
    let token = te.admin_token().await;
    let path = schedule_path(CORPORATE_DIRECTORY);
    let before = schedule(&te, &token).await;
    let cases = [
        (json!({"frequency": "daily", "hour_of_day": 2}), "mode"),
        (
            json!({"mode": "full", "frequency": "fortnightly", "hour_of_day": 2}),
            "frequency",
        ),
        (json!({"mode": "full", "frequency": "daily"}), "hour_of_day"),
        (
            json!({"mode": "full", "frequency": "daily", "hour_of_day": 24}),
            "hour_of_day",
        ),
        (
            json!({"mode": "full", "frequency": "daily", "hour_of_day": -1}),
            "hour_of_day",
        ),
        (
            json!({"mode": "full", "frequency": "daily", "hour_of_day": "2"}),
            "hour_of_day",
        ),
        (
            json!({"mode": "full", "frequency": "weekly", "hour_of_day": 2}),
            "day_of_week",
        ),
        (
            json!({"mode": "full", "frequency": "weekly", "day_of_week": 7, "hour_of_day": 2}),
            "day_of_week",
        ),
        (
            json!({"mode": "full", "frequency": "monthly", "hour_of_day": 2}),
            "day_of_month",
        ),
        (
            json!({"mode": "full", "frequency": "monthly", "day_of_month": 0, "hour_of_day": 2}),
            "day_of_month",
        ),
        (
            json!({"mode": "full", "frequency": "monthly", "day_of_month": 32, "hour_of_day": 2}),
            "day_of_month",
        ),
        (
            json!({"mode": "full", "frequency": "cron", "hour_of_day": 2}),
            "cron_expression",
        ),
        (
            json!({"mode": "full", "frequency": "cron", "hour_of_day": 2, "cron_expression": "0 2 * *"}),
            "cron_expression",
        ),
        (
            json!({"mode": "full", "frequency": "cron", "hour_of_day": 2, "cron_expression": "0 25 * * *"}),
            "cron_expression",
        ),
        (
            json!({"mode": "full", "frequency": "cron", "hour_of_day": 2, "cron_expression": "0 0 30 2 *"}),
            "cron_expression",
        ),
        (
            json!({"mode": "full", "frequency": "daily", "hour_of_day": 2, "enabled": "yes"}),
            "enabled",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = te.admin_put(&token, &path, body.clone()).await;
        assert_error(status, &answer, StatusCode::BAD_REQUEST, "validation_error");
        assert_eq!(answer["field"], field, "{body} → {answer}");
    }
    assert_eq!(schedule(&te, &token).await, before, "nothing changed");
}

#[tokio::test]
async fn other_tenants_and_non_admins_are_refused() {
    let te = engine().await;
    let token = te.admin_token().await;
    let other = schedule_path(OTHER_DIRECTORY);
    let body = json!({"mode": "full", "frequency": "daily", "hour_of_day": 2});
    let (status, answer) = te.admin_get(&token, &other).await;
    assert_error(status, &answer, StatusCode::NOT_FOUND, "not_found");
    let (status, answer) = te.admin_put(&token, &other, body.clone()).await;
    assert_error(status, &answer, StatusCode::NOT_FOUND, "not_found");
    let (status, answer) = delete(&te, &token, &other).await;
    assert_error(status, &answer, StatusCode::NOT_FOUND, "not_found");
    let (status, answer) = te
        .admin_post(&token, &format!("{other}/disable"), Value::Null)
        .await;
    assert_error(status, &answer, StatusCode::NOT_FOUND, "not_found");
    let (status, answer) = te
        .admin_get(
            &token,
            &format!("/reconciliation/trend?connector_id={OTHER_DIRECTORY}"),
        )
        .await;
    assert_error(status, &answer, StatusCode::NOT_FOUND, "not_found");
    // Other Corp's list holds none of Demo Corp's schedules.
    let other_admin = login(
        &te.app,
        te.demo.other_tenant_id,
        "admin@other.local",
        &te.demo.password,
    )
    .await;
    let request = with_body(
        Method::GET,
        "/reconciliation/schedules",
        &Value::Null,
        &other_admin.access_token,
        te.demo.other_tenant_id,
    );
    let (status, _, answer) = send(&te.app, request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["schedules"], json!([]));

    let viewer = login(
        &te.app,
        te.demo.tenant_id,
        &te.demo.viewer_email,
        &te.demo.viewer_password,
    )
    .await;
    let path = schedule_path(CORPORATE_DIRECTORY);
    for (method, path, body) in [
        (Method::GET, path.clone(), Value::Null),
        (Method::PUT, path.clone(), body),
        (Method::DELETE, path.clone(), Value::Null),
        (Method::POST, format!("{path}/disable"), Value::Null),
        (
            Method::GET,
            "/reconciliation/schedules".to_owned(),
            Value::Null,
        ),
        (Method::GET, "/reconciliation/trend".to_owned(), Value::Null),
    ] {
        let request = with_body(
            method,
            &path,
            &body,
            &viewer.access_token,
            te.demo.tenant_id,
        );
        let (status, _, answer) = send(&te.app, request).await;
        assert_error(status, &answer, StatusCode::FORBIDDEN, "forbidden");
    }
    assert!(schedule(&te, &token).await.enabled, "nothing changed");
}

/// Polls the run until it is completed (at most ten seconds).
async fn completed(te: &TestEngine, token: &str, id: dto::RunId) -> ReconciliationRun {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = te
            .admin_get(
                token,
                &format!("/connectors/{CORPORATE_DIRECTORY}/reconciliation/runs/{id}"),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let run: ReconciliationRun = serde_json::from_value(body).expect("a run");
        if run.status == ReconciliationRunStatus::Completed {
            return run;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never completed: {run:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn after_a_long_downtime_a_due_schedule_fires_once_even_with_two_engines() {
    let te = engine().await;
    let token = te.admin_token().await;
    let nightly = schedule(&te, &token).await;
    let runs_before = scheduled_runs(&te).await;
    assert_eq!(runs_before, 1, "the demo's nightly run");

    // The engine was down for four days: four 02:00 slots missed.
    backdate(&te, &nightly, Utc::now() - chrono::Duration::days(4)).await;
    // A second engine on the same database file (a restart while the first still runs), and both ticking.
    let config = EngineConfig {
        database_path: te.database_path(),
        jwt_secret: Some(SECRET.to_owned()),
        demo: true,
        ..EngineConfig::default()
    };
    let second = Engine::open(&config, fast_queue(1))
        .await
        .expect("second engine");
    let now = Utc::now();
    let (a, b) = tokio::join!(
        te.engine.scheduler().tick(now),
        second.scheduler().tick(now)
    );
    let (a, b) = (a.expect("tick"), b.expect("tick"));
    assert!(a.len() + b.len() <= 1, "{a:?} {b:?}");
    // Ticking again changes nothing: the next slot is after now.
    let again = te.engine.scheduler().tick(Utc::now()).await.expect("tick");
    assert!(again.is_empty(), "{again:?}");
    second.shutdown().await;

    assert_eq!(
        scheduled_runs(&te).await,
        runs_before + 1,
        "one catch-up run"
    );
    let after = schedule(&te, &token).await;
    let next = after.next_run_at.expect("next run");
    assert!(
        next > now && next - now <= chrono::Duration::days(1),
        "{next}"
    );
    assert_eq!(next.hour(), 2);
    assert_eq!(after.last_outcome.as_deref(), Some("accepted"));
    let run_id = after.last_run_id.expect("the run it started");
    assert_ne!(Some(run_id), nightly.last_run_id);
    assert!(after.last_run_at.expect("last run") >= now - chrono::Duration::seconds(60));
    // A real run: executed by the reconciler, started by nobody.
    let run = completed(&te, &token, run_id).await;
    assert!(run.created_by.is_none() && !run.is_dry_run() && run.accounts_processed > 40);
}

#[tokio::test]
async fn refused_and_disabled_schedules_start_nothing() {
    let te = engine().await;
    let token = te.admin_token().await;
    let (status, body) = te.admin_get(&token, &schedule_path(CLOUD_CRM)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let crm: ReconciliationSchedule = serde_json::from_value(body).expect("schedule");
    let runs = |pool: sqlx::SqlitePool| async move {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM reconciliation_runs")
            .fetch_one(&pool)
            .await
            .expect("count")
    };
    let before = runs(te.pool.clone()).await;

    // Cloud CRM is offline: the firing is refused by the gate, its slot is used, and nothing is queued.
    backdate(&te, &crm, Utc::now() - chrono::Duration::hours(1)).await;
    let now = Utc::now();
    // (The engine's own background tick may be the one that fires it.)
    te.engine.scheduler().tick(now).await.expect("tick");
    let (_, body) = te.admin_get(&token, &schedule_path(CLOUD_CRM)).await;
    let after: ReconciliationSchedule = serde_json::from_value(body).expect("schedule");
    assert_eq!(
        after.last_outcome.as_deref(),
        Some("blocked:connector_offline")
    );
    assert!(after.next_run_at.expect("next") > now);
    assert_eq!(after.last_run_id, None);

    // Legacy HR's schedule is disabled: even with a past slot written under it, it never fires.
    sqlx::query(
        "UPDATE schedules SET next_run_at = '2020-01-01T00:00:00.000000Z' WHERE connector_id = ?",
    )
    .bind(LEGACY_HR.to_string())
    .execute(&te.pool)
    .await
    .expect("backdated");
    let fired = te.engine.scheduler().tick(Utc::now()).await.expect("tick");
    assert!(fired.is_empty(), "{fired:?}");
    assert_eq!(runs(te.pool.clone()).await, before);
}

/// The tenant's discrepancies found per day and type, counted from the discrepancies themselves.
async fn counted(te: &TestEngine, from: NaiveDate) -> Vec<(String, String, i64)> {
    sqlx::query_as(
        "SELECT substr(created_at, 1, 10) AS day, discrepancy_type, COUNT(*) FROM discrepancies
         WHERE tenant_id = ? AND substr(created_at, 1, 10) >= ? GROUP BY day, discrepancy_type ORDER BY day, discrepancy_type",
    )
    .bind(te.demo.tenant_id.to_string())
    .bind(from.format("%Y-%m-%d").to_string())
    .fetch_all(&te.pool)
    .await
    .expect("counts")
}

fn flatten(trend: &Trend) -> Vec<(String, String, i64)> {
    let mut rows = Vec::new();
    for point in &trend.data_points {
        for (kind, count) in &point.by_type {
            if *count > 0 {
                rows.push((
                    point.date.format("%Y-%m-%d").to_string(),
                    kind.as_str().to_owned(),
                    *count as i64,
                ));
            }
        }
        assert_eq!(point.total, point.by_type.values().sum::<u64>());
    }
    rows.sort();
    rows
}

#[tokio::test]
async fn the_trend_is_what_the_runs_found_one_point_a_day() {
    let te = engine().await;
    let token = te.admin_token().await;
    let (status, body) = te.admin_get(&token, "/reconciliation/trend").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let trend: Trend = serde_json::from_value(body).expect("a trend");
    // The last 30 days, one point each, zero-filled, every type present.
    assert_eq!(trend.data_points.len(), 30);
    let today = Utc::now().date_naive();
    assert_eq!(trend.data_points.last().map(|p| p.date), Some(today));
    for pair in trend.data_points.windows(2) {
        assert_eq!(pair[0].date.succ_opt(), Some(pair[1].date));
    }
    assert!(trend
        .data_points
        .iter()
        .all(|p| p.by_type.len() == DiscrepancyType::ALL.len()));
    let first = trend.data_points[0].date;
    assert!(trend.data_points.iter().any(|p| p.total == 0));
    assert!(trend.data_points.iter().any(|p| p.total > 0));
    assert_eq!(flatten(&trend), counted(&te, first).await);

    // A new run's discrepancies count today.
    let today_before = trend.data_points.last().map(|p| p.total).unwrap_or(0);
    let (status, body) = te
        .admin_post(
            &token,
            &format!("/connectors/{CORPORATE_DIRECTORY}/reconciliation/runs"),
            json!({"mode": "full", "dry_run": true}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let run: ReconciliationRun = serde_json::from_value(body).expect("a run");
    let run = completed(&te, &token, run.id).await;
    assert!(run.discrepancies_found > 0);
    let path = format!(
        "/reconciliation/trend?connector_id={CORPORATE_DIRECTORY}&from={today}&to={}",
        Utc::now().to_rfc3339()
    );
    let (status, body) = te.admin_get(&token, &path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let one: Trend = serde_json::from_value(body).expect("a trend");
    assert_eq!(one.connector_id, Some(CORPORATE_DIRECTORY));
    assert_eq!(one.data_points.len(), 1);
    assert!(one.data_points[0].total >= today_before + run.discrepancies_found);
    assert_eq!(flatten(&one), counted(&te, today).await);

    // Bad ranges name the parameter.
    for (query, field) in [
        ("from=yesterday", "from"),
        ("to=2026-13-01", "to"),
        ("from=2026-03-02&to=2026-03-01", "from"),
        ("from=2024-01-01&to=2026-01-01", "from"),
        ("connector_id=nope", "connector_id"),
    ] {
        let (status, body) = te
            .admin_get(&token, &format!("/reconciliation/trend?{query}"))
            .await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "validation_error");
        assert_eq!(body["field"], field, "{query}: {body}");
    }
    // A whole year is fine; a day is a day.
    let (status, body) = te
        .admin_get(
            &token,
            "/reconciliation/trend?from=2025-01-01&to=2025-12-31",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data_points"].as_array().map(Vec::len), Some(365));
}
