//! `GET /operations` (filters, pages, validation) and `GET /operations/stats`.

use axum::http::StatusCode;
use chrono::{DateTime, Duration, SecondsFormat, SubsecRound, Utc};
use dto::{OperationList, ProvisioningOperation, QueueStatistics};
use engine::demo::{CLOUD_CRM, CORPORATE_DIRECTORY, OTHER_DIRECTORY};
use enums::{OperationStatus, OperationType};

use crate::common::{assert_error, engine, TestEngine};

async fn list(e: &TestEngine, token: &str, query: &str) -> OperationList {
    let (status, body) = e.admin_get(token, &format!("/operations?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    serde_json::from_value(body).expect("an operation list")
}

async fn stats(e: &TestEngine, token: &str, query: &str) -> QueueStatistics {
    let (status, body) = e
        .admin_get(token, &format!("/operations/stats?{query}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    serde_json::from_value(body).expect("queue statistics")
}

fn z(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[tokio::test]
async fn every_bad_query_value_is_400_naming_the_parameter() {
    let e = engine().await;
    let token = e.admin_token().await;
    let cases = [
        ("status=bogus", "status"),
        ("operation_type=bogus", "operation_type"),
        ("connector_id=not-a-uuid", "connector_id"),
        ("user_id=x", "user_id"),
        ("limit=0", "limit"),
        ("limit=10000", "limit"),
        ("limit=abc", "limit"),
        ("offset=-1", "offset"),
        ("from_date=yesterday", "from_date"),
        ("to_date=2026-13-01T00:00:00Z", "to_date"),
        (
            "from_date=2026-11-02T00:00:00Z&to_date=2026-11-01T00:00:00Z",
            "from_date",
        ),
        ("status=failed&status=pending", "status"),
    ];
    for (query, field) in cases {
        let (status, body) = e.admin_get(&token, &format!("/operations?{query}")).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "validation_error");
        assert_eq!(body["field"], field, "{query}: {body}");
    }
    let (status, body) = e
        .admin_get(&token, "/operations/stats?connector_id=nope")
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "validation_error");
    assert_eq!(body["field"], "connector_id");
}

#[tokio::test]
async fn defaults_newest_first_with_connector_names_and_own_tenant_only() {
    let e = engine().await;
    let token = e.admin_token().await;
    let page = list(&e, &token, "").await;
    assert_eq!(
        (page.limit, page.offset, page.operations.len()),
        (Some(20), Some(0), 20)
    );
    assert_eq!(page.total, Some(310));
    assert!(
        page.operations
            .windows(2)
            .all(|w| w[0].created_at >= w[1].created_at),
        "newest first"
    );
    let all = list(&e, &token, "limit=100&offset=200").await;
    assert_eq!(all.operations.len(), 100);
    for op in page.operations.iter().chain(&all.operations) {
        assert_eq!(op.tenant_id, e.demo.tenant_id);
        assert_ne!(op.connector_id, OTHER_DIRECTORY);
        assert!(op.connector_name.as_deref().is_some_and(|n| !n.is_empty()));
    }
}

#[tokio::test]
async fn filters_really_filter() {
    let e = engine().await;
    let token = e.admin_token().await;

    let failed = list(&e, &token, "status=failed&limit=100").await;
    assert!(!failed.operations.is_empty());
    assert!(failed
        .operations
        .iter()
        .all(|o| o.status == OperationStatus::Failed));
    assert_eq!(failed.total, Some(failed.operations.len() as u64));
    assert!(failed.operations.iter().all(|o| o.error_message.is_some()));

    let crm = list(&e, &token, &format!("connector_id={CLOUD_CRM}&limit=100")).await;
    assert!(!crm.operations.is_empty());
    assert!(crm
        .operations
        .iter()
        .all(|o| o.connector_id == CLOUD_CRM && o.connector_name.as_deref() == Some("Cloud CRM")));

    let deletes = list(&e, &token, "operation_type=delete&limit=100").await;
    assert!(deletes
        .operations
        .iter()
        .all(|o| o.operation_type == OperationType::Delete));

    let combined = list(
        &e,
        &token,
        &format!("connector_id={CORPORATE_DIRECTORY}&status=completed&operation_type=update"),
    )
    .await;
    assert!(combined
        .operations
        .iter()
        .all(|o| o.connector_id == CORPORATE_DIRECTORY
            && o.status == OperationStatus::Completed
            && o.operation_type == OperationType::Update));
    assert!(combined.total < Some(310));

    let someone = failed.operations[0].user_id;
    let theirs = list(&e, &token, &format!("user_id={someone}&limit=100")).await;
    assert!(!theirs.operations.is_empty());
    assert!(theirs.operations.iter().all(|o| o.user_id == someone));

    // Every status and type is present, and the per-value totals add up to the whole.
    let mut sum = 0;
    for status in OperationStatus::ALL {
        let page = list(&e, &token, &format!("status={status}&limit=1")).await;
        assert!(page.total.is_some_and(|t| t > 0), "no {status} operation");
        sum += page.total.unwrap_or(0);
    }
    assert_eq!(sum, 310);

    let other_tenants = list(&e, &token, &format!("connector_id={OTHER_DIRECTORY}")).await;
    assert_eq!(other_tenants.total, Some(0));
    assert!(other_tenants.operations.is_empty());

    let empty_values = list(&e, &token, "status=&operation_type=&connector_id=").await;
    assert_eq!(
        empty_values.total,
        Some(310),
        "empty form fields are no filter"
    );
}

#[tokio::test]
async fn filters_by_creation_date() {
    let e = engine().await;
    let token = e.admin_token().await;
    let now = Utc::now();
    let (from, to) = (now - Duration::days(7), now - Duration::days(2));
    let window = list(
        &e,
        &token,
        &format!("from_date={}&to_date={}&limit=100", z(from), z(to)),
    )
    .await;
    assert!(window.total.is_some_and(|t| t > 0 && t < 310));
    assert!(window
        .operations
        .iter()
        .all(|o| o.created_at >= from && o.created_at <= to));
    let since = list(&e, &token, &format!("from_date={}", z(from))).await;
    let until = list(&e, &token, &format!("to_date={}", z(from))).await;
    assert_eq!(since.total.unwrap_or(0) + until.total.unwrap_or(0), 310);
    // An offset written with `+`, percent-encoded as a client should.
    let encoded = list(
        &e,
        &token,
        &format!("from_date={}", from.to_rfc3339().replace('+', "%2B")),
    )
    .await;
    assert_eq!(encoded.total, since.total);
}

#[tokio::test]
async fn pages_follow_each_other() {
    let e = engine().await;
    let token = e.admin_token().await;
    let ten = list(&e, &token, "limit=10").await;
    let first = list(&e, &token, "limit=5").await;
    let second = list(&e, &token, "limit=5&offset=5").await;
    let ids = |ops: &[ProvisioningOperation]| ops.iter().map(|o| o.id).collect::<Vec<_>>();
    assert_eq!((second.limit, second.offset), (Some(5), Some(5)));
    assert_eq!(second.total, ten.total);
    assert_eq!(first.total, ten.total);
    assert_eq!(
        [ids(&first.operations), ids(&second.operations)].concat(),
        ids(&ten.operations)
    );
    let beyond = list(&e, &token, "limit=5&offset=1000").await;
    assert!(beyond.operations.is_empty());
    assert_eq!(beyond.total, Some(310));
}

#[tokio::test]
async fn stats_count_what_the_list_counts() {
    let e = engine().await;
    let token = e.admin_token().await;
    for scope in [
        String::new(),
        format!("connector_id={CORPORATE_DIRECTORY}&"),
        format!("connector_id={CLOUD_CRM}&"),
    ] {
        let s = stats(&e, &token, &scope).await;
        let mut counted = Vec::new();
        for status in [
            "pending",
            "in_progress",
            "completed",
            "failed",
            "dead_letter",
            "awaiting_system",
        ] {
            counted.push(
                list(&e, &token, &format!("{scope}status={status}&limit=1"))
                    .await
                    .total
                    .unwrap_or(u64::MAX),
            );
        }
        let answered = vec![
            s.pending,
            s.in_progress,
            s.completed,
            s.failed,
            s.dead_letter,
            s.awaiting_system,
        ];
        assert_eq!(answered, counted, "{scope}");
        let settled = (s.completed + s.failed + s.dead_letter) as f64;
        let rate = s.success_rate.expect("a success rate");
        assert!((rate - s.completed as f64 * 100.0 / settled).abs() < 1e-9);
        let avg = s.avg_processing_time_secs.expect("an average");
        assert!(avg > 0.0 && avg < 60.0, "avg {avg}");
    }
}

#[tokio::test]
async fn stats_of_an_idle_scope_have_no_average() {
    let e = engine().await;
    let token = e.admin_token().await;
    let s = stats(&e, &token, &format!("connector_id={OTHER_DIRECTORY}")).await;
    assert_eq!(
        s,
        QueueStatistics::default(),
        "another tenant's connector counts nothing here"
    );
}

#[tokio::test]
async fn totals_from_the_kept_counts_match_the_rows() {
    let e = engine().await;
    let token = e.admin_token().await;
    // Some churn first: settle, cancel, delete (cascading from a connector), and move times.
    let (status, body) = e
        .admin_put(
            &token,
            &format!("/connectors/{CLOUD_CRM}/settings"),
            serde_json::json!({"offline": false, "error_rate": 0.0, "latency_ms": 0}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    sqlx::query("DELETE FROM operations WHERE id IN (SELECT id FROM operations WHERE status = 'cancelled' LIMIT 3)")
        .execute(&e.pool)
        .await
        .expect("deleted");
    let now = Utc::now();
    let ranges = [
        (None, None),
        (Some(now - Duration::days(7)), Some(now - Duration::days(2))),
        (Some(now - Duration::hours(30)), None),
        (None, Some(now - Duration::days(20))),
        (
            Some(now - Duration::hours(3)),
            Some(now - Duration::hours(1)),
        ),
    ];
    let filters = [
        String::new(),
        "status=completed".into(),
        format!("connector_id={CORPORATE_DIRECTORY}"),
        format!("connector_id={CLOUD_CRM}&status=completed&operation_type=update"),
        "status=dead_letter&operation_type=create".into(),
    ];
    for (from, to) in ranges {
        for filter in &filters {
            let mut query = filter.clone();
            let mut sql = String::from("SELECT COUNT(*) FROM operations WHERE tenant_id = ?");
            for part in filter.split('&').filter(|p| !p.is_empty()) {
                let (name, value) = part.split_once('=').expect("name=value");
                sql.push_str(&format!(" AND {name} = '{value}'"));
            }
            if let Some(from) = from {
                query.push_str(&format!("&from_date={}", z(from)));
                sql.push_str(&format!(
                    " AND created_at >= '{}'",
                    engine::store::ts(from.trunc_subsecs(0))
                ));
            }
            if let Some(to) = to {
                query.push_str(&format!("&to_date={}", z(to)));
                sql.push_str(&format!(
                    " AND created_at <= '{}'",
                    engine::store::ts(to.trunc_subsecs(0))
                ));
            }
            let rows: i64 = sqlx::query_scalar(&sql)
                .bind(e.demo.tenant_id.to_string())
                .fetch_one(&e.pool)
                .await
                .expect("counts");
            let page = list(&e, &token, query.trim_start_matches('&')).await;
            assert_eq!(page.total, Some(rows as u64), "{query}");
        }
    }
    let s = stats(&e, &token, "").await;
    let completed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM operations WHERE tenant_id = ? AND status = 'completed'",
    )
    .bind(e.demo.tenant_id.to_string())
    .fetch_one(&e.pool)
    .await
    .expect("counts");
    assert_eq!(s.completed, completed as u64);
    let avg: f64 = sqlx::query_scalar(
        "SELECT AVG((julianday(completed_at) - julianday(started_at)) * 86400.0) FROM operations
         WHERE tenant_id = ? AND status = 'completed'",
    )
    .bind(e.demo.tenant_id.to_string())
    .fetch_one(&e.pool)
    .await
    .expect("average");
    let kept = s.avg_processing_time_secs.expect("an average");
    assert!((kept - avg).abs() < 1e-6, "{kept} vs {avg}");
}
