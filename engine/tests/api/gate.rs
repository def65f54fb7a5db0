//! The start gate over the HTTP API: each outcome for each kind of start, the race (many concurrent starts,
//! one accepted), and authorization over the whole router (other tenants 404 and learn nothing, non-admins 403).

use axum::http::{Method, StatusCode};
use engine::{
    demo::{CORPORATE_DIRECTORY, LEGACY_HR},
    ReconcilerConfig,
};
use enums::ConnectorStatus;
use serde_json::{json, Value};

use crate::common::{
    assert_error, engine, engine_with_reconciler, fast_queue, login, send, with_body, TestEngine,
};

const DIRECTORY_RUNS: &str = "/connectors/00000000-0000-4000-8000-00000000c001/reconciliation/runs";

/// No queue workers; the reconciler in batches of five, so that a slowed run stays active while a test acts.
async fn reconciling_engine() -> TestEngine {
    engine_with_reconciler(
        fast_queue(0),
        ReconcilerConfig {
            batch_size: 5,
            ..ReconcilerConfig::default()
        },
    )
    .await
}

/// `POST .../runs/{run_id}/{action}` on Corporate Directory as the admin.
async fn run_action(
    te: &TestEngine,
    token: &str,
    run_id: &str,
    action: &str,
) -> (StatusCode, Value) {
    te.admin_post(
        token,
        &format!("{DIRECTORY_RUNS}/{run_id}/{action}"),
        Value::Null,
    )
    .await
}

/// Sends `n` copies of the same request at once; answers each status and body.
async fn concurrently(
    te: &TestEngine,
    n: usize,
    method: Method,
    path: &str,
    body: &Value,
    token: &str,
) -> Vec<(StatusCode, Value)> {
    let sent: Vec<_> = (0..n)
        .map(|_| {
            let request = with_body(method.clone(), path, body, token, te.demo.tenant_id);
            let app = te.app.clone();
            tokio::spawn(async move { send(&app, request).await })
        })
        .collect();
    let mut answers = Vec::with_capacity(n);
    for one in sent {
        let (status, _, body) = one.await.expect("the request ran");
        answers.push((status, body));
    }
    answers
}

fn discrepancies_path() -> String {
    format!("/connectors/{CORPORATE_DIRECTORY}/reconciliation/discrepancies")
}

async fn faults(te: &TestEngine, token: &str, offline: bool, latency_ms: u64) {
    let (status, body) = te
        .admin_put(
            token,
            &format!("/connectors/{CORPORATE_DIRECTORY}/settings"),
            json!({"offline": offline, "error_rate": 0.0, "latency_ms": latency_ms}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// The first operation of Corporate Directory in `status`.
async fn operation_in(te: &TestEngine, token: &str, status: &str) -> Value {
    let (code, body) = te
        .admin_get(
            token,
            &format!("/operations?connector_id={CORPORATE_DIRECTORY}&status={status}&limit=1"),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    body["operations"][0].clone()
}

/// A pending mismatch of Corporate Directory (the demo's drift).
async fn pending_mismatch(te: &TestEngine, token: &str) -> String {
    let (status, body) = te
        .admin_get(
            token,
            &format!(
                "{}?discrepancy_type=mismatch&resolution_status=pending&limit=1",
                discrepancies_path()
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["discrepancies"][0]["id"]
        .as_str()
        .expect("a pending mismatch in the demo")
        .to_owned()
}

#[tokio::test]
async fn a_retry_is_blocked_on_a_connector_that_cannot_take_work_and_nothing_is_queued() {
    let te = engine().await;
    let token = te.admin_token().await;
    let dead = operation_in(&te, &token, "dead_letter").await;
    let id = dead["id"].as_str().expect("a dead letter in the demo");

    let set_status = |status| {
        engine::store::set_connector_status(
            &te.pool,
            CORPORATE_DIRECTORY,
            status,
            chrono::Utc::now(),
        )
    };
    // Offline (by fault injection), then disabled: (offline, reason, next step).
    let cases = [
        (true, "connector_offline", "bring the connector back online"),
        (false, "connector_disabled", "enable the connector"),
    ];
    for (offline, reason, next_step) in cases {
        faults(&te, &token, offline, 0).await;
        if !offline {
            set_status(ConnectorStatus::Disabled)
                .await
                .expect("disables");
        }
        let (code, body) = te
            .admin_post(&token, &format!("/operations/{id}/retry"), Value::Null)
            .await;
        assert_error(code, &body, StatusCode::UNPROCESSABLE_ENTITY, "blocked");
        assert_eq!(body["reason_code"], reason);
        assert_eq!(body["next_step"], next_step);
        let op = te.operation(&token, id).await;
        assert_eq!(op.status.as_str(), "dead_letter", "nothing was queued");
    }

    // Online and enabled again: the same retry is accepted.
    faults(&te, &token, false, 0).await;
    set_status(ConnectorStatus::Active).await.expect("enables");
    let (status, body) = te
        .admin_post(&token, &format!("/operations/{id}/retry"), Value::Null)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_retry_is_deduped_while_an_equivalent_operation_is_queued() {
    let te = engine_with_reconciler(fast_queue(1), ReconcilerConfig::default()).await;
    let token = te.admin_token().await;
    let dead = operation_in(&te, &token, "dead_letter").await;
    let id = dead["id"].as_str().expect("a dead letter in the demo");
    // The same change queued again by the integration, held in the connector by a slow call.
    faults(&te, &token, false, 3_000).await;
    let (status, twin) = te
        .admin_post(
            &token,
            "/operations",
            json!({
                "connector_id": CORPORATE_DIRECTORY,
                "user_id": dead["user_id"],
                "operation_type": dead["operation_type"],
                "target_uid": dead["target_uid"],
                "payload": dead["payload"],
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{twin}");

    let (status, body) = te
        .admin_post(&token, &format!("/operations/{id}/retry"), Value::Null)
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, "deduped");
    assert_eq!(body["existing_operation_id"], twin["id"]);
    assert_eq!(
        te.operation(&token, id).await.status.as_str(),
        "dead_letter"
    );
    faults(&te, &token, false, 0).await;
}

#[tokio::test]
async fn many_concurrent_starts_on_one_connector_admit_exactly_one() {
    let te = reconciling_engine().await;
    let token = te.admin_token().await;
    faults(&te, &token, false, 200).await;
    let starts = concurrently(
        &te,
        16,
        Method::POST,
        DIRECTORY_RUNS,
        &json!({"mode": "full"}),
        &token,
    )
    .await;
    let mut accepted = Vec::new();
    let mut deduped = Vec::new();
    for (status, body) in starts {
        match status {
            StatusCode::ACCEPTED => accepted.push(body["id"].clone()),
            StatusCode::CONFLICT if body["error"] == "deduped" => {
                deduped.push(body["existing_run_id"].clone())
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(accepted.len(), 1, "exactly one start is accepted");
    assert_eq!(deduped.len(), 15);
    assert!(deduped.iter().all(|id| *id == accepted[0]), "{deduped:?}");

    // The same for retries of one dead letter: one goes back to the queue, the others change nothing.
    let dead = operation_in(&te, &token, "dead_letter").await;
    let id = dead["id"].as_str().expect("a dead letter").to_owned();
    let statuses: Vec<StatusCode> = concurrently(
        &te,
        8,
        Method::POST,
        &format!("/operations/{id}/retry"),
        &Value::Null,
        &token,
    )
    .await
    .into_iter()
    .map(|(status, _)| status)
    .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert!(statuses
        .iter()
        .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT));
    faults(&te, &token, false, 0).await;
}

#[tokio::test]
async fn remediation_waits_for_an_active_run_and_a_run_waits_for_a_remediation_in_flight() {
    let te = reconciling_engine().await;
    let token = te.admin_token().await;
    let mismatch = pending_mismatch(&te, &token).await;
    let remediate = format!("{}/{mismatch}/remediate", discrepancies_path());
    let update = json!({"action": "update", "direction": "xavyo_to_target"});

    // A slow run holds the connector: remediations answer scope_busy naming it, and change nothing.
    faults(&te, &token, false, 200).await;
    let (status, run) = te
        .admin_post(&token, DIRECTORY_RUNS, json!({"mode": "full"}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{run}");
    let (status, body) = te.admin_post(&token, &remediate, update.clone()).await;
    assert_error(status, &body, StatusCode::CONFLICT, "scope_busy");
    assert_eq!(body["active"]["kind"], "reconciliation_run");
    assert_eq!(body["active"]["id"], run["id"]);
    let (status, body) = te
        .admin_post(
            &token,
            &format!("{}/bulk-remediate", discrepancies_path()),
            json!({"items": [{"discrepancy_id": mismatch, "action": "update", "direction": "xavyo_to_target"}]}),
        )
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, "scope_busy");
    let (_, now) = te
        .admin_get(&token, &format!("{}/{mismatch}", discrepancies_path()))
        .await;
    assert_eq!(now["resolution_status"], "pending", "{now}");
    // A dry run changes nothing and is no start: it is answered.
    let (status, body) = te
        .admin_post(
            &token,
            &remediate,
            json!({"action": "update", "direction": "xavyo_to_target", "dry_run": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let run_id = run["id"].as_str().expect("run id");
    let (status, body) = run_action(&te, &token, run_id, "cancel").await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    // Now a slow remediation is in flight: a run started meanwhile answers scope_busy naming it.
    faults(&te, &token, false, 1_500).await;
    let request = with_body(Method::POST, &remediate, &update, &token, te.demo.tenant_id);
    let app = te.app.clone();
    let in_flight = tokio::spawn(async move { send(&app, request).await });
    // Planning reads the account (1.5 s), then the claim, then the update (1.5 s): start in the middle.
    tokio::time::sleep(std::time::Duration::from_millis(2_200)).await;
    let (status, body) = te
        .admin_post(&token, DIRECTORY_RUNS, json!({"mode": "full"}))
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, "scope_busy");
    assert_eq!(body["active"]["kind"], "remediation");
    assert_eq!(body["active"]["id"], mismatch.as_str());
    let (status, _, body) = in_flight.await.expect("the remediation ran");
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true, "{body}");
    // Over: the connector is free again.
    faults(&te, &token, false, 0).await;
    let (status, body) = te
        .admin_post(&token, DIRECTORY_RUNS, json!({"mode": "full"}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}

#[tokio::test]
async fn a_resume_is_gated_like_a_start() {
    let te = reconciling_engine().await;
    let token = te.admin_token().await;
    faults(&te, &token, false, 200).await;
    let (status, run) = te
        .admin_post(&token, DIRECTORY_RUNS, json!({"mode": "full"}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{run}");
    let run_id = run["id"].as_str().expect("run id");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while te
        .admin_get(&token, &format!("{DIRECTORY_RUNS}/{run_id}"))
        .await
        .1["status"]
        != "running"
    {
        assert!(std::time::Instant::now() < deadline, "the run never ran");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (status, body) = run_action(&te, &token, run_id, "pause").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    faults(&te, &token, true, 0).await;
    let (status, body) = run_action(&te, &token, run_id, "resume").await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "blocked");
    assert_eq!(body["reason_code"], "connector_offline");
    let (_, now) = te
        .admin_get(&token, &format!("{DIRECTORY_RUNS}/{run_id}"))
        .await;
    assert_eq!(now["status"], "paused", "{now}");

    faults(&te, &token, false, 0).await;
    let (status, body) = run_action(&te, &token, run_id, "resume").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A disabled connector blocks a new start too.
    let (status, body) = te
        .admin_post(
            &token,
            &format!("/connectors/{LEGACY_HR}/reconciliation/runs"),
            json!({"mode": "full"}),
        )
        .await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "blocked");
    assert_eq!(body["reason_code"], "connector_disabled");
}

/// Every route of the router, read from its source, so that a route added later is covered or this fails.
fn routes_in_source() -> Vec<(String, String)> {
    let source = include_str!("../../src/api/mod.rs");
    let mut routes = Vec::new();
    for chunk in source.split(".route(").skip(1) {
        let chunk = chunk.split(".fallback(").next().unwrap_or(chunk);
        let path = chunk.split('"').nth(1).expect("a path").to_owned();
        for method in ["get", "post", "put", "delete"] {
            let called = chunk.contains(&format!(" {method}("))
                || chunk.contains(&format!(".{method}("))
                || chunk.contains(&format!("({method}("));
            if called {
                routes.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

#[tokio::test]
async fn every_route_hides_other_tenants_and_refuses_non_admins() {
    let te = engine().await;
    let token = te.admin_token().await;
    // Real ids of Demo Corp.
    let (_, runs) = te.admin_get(&token, DIRECTORY_RUNS).await;
    let run = runs["runs"][0]["id"]
        .as_str()
        .expect("a demo run")
        .to_owned();
    let discrepancy = pending_mismatch(&te, &token).await;
    let operation = operation_in(&te, &token, "dead_letter").await["id"]
        .as_str()
        .expect("an operation")
        .to_owned();
    let (_, conflicts) = te.admin_get(&token, "/operations/conflicts").await;
    let conflict = conflicts["conflicts"][0]["id"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let fill = |path: &str, connector: &str, run: &str, d: &str, op: &str| {
        let path = path
            .replace(
                "/operations/conflicts/{id}",
                &format!("/operations/conflicts/{conflict}"),
            )
            .replace("/connectors/{id}", &format!("/connectors/{connector}"))
            .replace("{run_id}", run)
            .replace("{discrepancy_id}", d)
            .replace("/operations/{id}", &format!("/operations/{op}"));
        assert!(!path.contains('{'), "unfilled {path}");
        path
    };
    let body_for = |method: &str, path: &str| -> Value {
        match (method, path.rsplit('/').next().unwrap_or_default()) {
            ("POST", "runs") => json!({"mode": "full"}),
            ("POST", "remediate") => json!({"action": "update", "direction": "xavyo_to_target"}),
            ("POST", "bulk-remediate") => {
                json!({"items": [{"discrepancy_id": discrepancy, "action": "update", "direction": "xavyo_to_target"}]})
            }
            ("POST", "preview") => json!({"discrepancy_ids": [discrepancy]}),
            ("PUT", "schedule") => json!({"mode": "full", "frequency": "daily", "hour_of_day": 2}),
            ("PUT", "settings") => json!({"offline": false, "error_rate": 0.0, "latency_ms": 0}),
            ("POST", "resolve") if path.contains("conflicts") => json!({"outcome": "rejected"}),
            ("POST", "resolve") => json!({"resolution_notes": "x"}),
            ("POST", "operations") => {
                json!({"connector_id": CORPORATE_DIRECTORY, "user_id": uuid::Uuid::new_v4(), "operation_type": "create", "target_uid": "x"})
            }
            _ => Value::Null,
        }
    };

    let other = login(
        &te.app,
        te.demo.other_tenant_id,
        "admin@other.local",
        &te.demo.password,
    )
    .await
    .access_token;
    let viewer = login(
        &te.app,
        te.demo.tenant_id,
        &te.demo.viewer_email,
        &te.demo.viewer_password,
    )
    .await
    .access_token;

    let schedule_path = format!("/connectors/{CORPORATE_DIRECTORY}/reconciliation/schedule");
    let schedule_before = te.admin_get(&token, &schedule_path).await;
    let routes = routes_in_source();
    assert!(routes.len() >= 30, "{routes:?}");
    let mut checked = 0;
    for (method, template) in &routes {
        if template == "/healthz" || template.starts_with("/auth/") {
            continue;
        }
        let method_of = Method::from_bytes(method.as_bytes()).expect("a method");
        let path = fill(
            template,
            &CORPORATE_DIRECTORY.to_string(),
            &run,
            &discrepancy,
            &operation,
        );
        let body = body_for(method, &path);

        // A non-admin: 403 on every route, whatever it is.
        let (status, _, answer) = send(
            &te.app,
            with_body(method_of.clone(), &path, &body, &viewer, te.demo.tenant_id),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "viewer {method} {path}: {answer}"
        );

        // Another tenant's admin, with Demo Corp's ids: exactly what an id that does not exist gets.
        let names_ids = template.contains('{') || method == "POST" && template == "/operations";
        if names_ids {
            let (status, _, answer) = send(
                &te.app,
                with_body(
                    method_of.clone(),
                    &path,
                    &body,
                    &other,
                    te.demo.other_tenant_id,
                ),
            )
            .await;
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "other tenant {method} {path}: {answer}"
            );
            let random = || uuid::Uuid::new_v4().to_string();
            let (r_connector, r_run, r_d, r_op) = (random(), random(), random(), random());
            let unknown = if template == "/operations" {
                path.clone()
            } else {
                fill(template, &r_connector, &r_run, &r_d, &r_op)
            };
            let unknown_body = if template == "/operations" {
                json!({"connector_id": r_connector, "user_id": uuid::Uuid::new_v4(), "operation_type": "create", "target_uid": "x"})
            } else {
                body.clone()
            };
            let (status, _, unknown_answer) = send(
                &te.app,
                with_body(
                    method_of,
                    &unknown,
                    &unknown_body,
                    &other,
                    te.demo.other_tenant_id,
                ),
            )
            .await;
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "{method} {unknown}: {unknown_answer}"
            );
            let strip = |v: &Value, ids: &[&str]| {
                let mut text = v.to_string();
                for id in ids {
                    text = text.replace(id, "<id>");
                }
                text
            };
            assert_eq!(
                strip(
                    &answer,
                    &[
                        &CORPORATE_DIRECTORY.to_string(),
                        &run,
                        &discrepancy,
                        &operation,
                        &conflict
                    ]
                ),
                strip(
                    &unknown_answer,
                    &[&r_connector, &r_run, &r_d, &r_op, &conflict]
                ),
                "{method} {template}: another tenant's id must read like an unknown one"
            );
        }
        checked += 1;
    }
    assert!(checked >= 30, "{checked} routes checked");
    // Nothing the viewer or the other tenant sent changed Demo Corp's data.
    let (_, now) = te
        .admin_get(&token, &format!("{}/{discrepancy}", discrepancies_path()))
        .await;
    assert_eq!(now["resolution_status"], "pending", "{now}");
    assert_eq!(
        te.admin_get(&token, &schedule_path).await,
        schedule_before,
        "Demo Corp's schedule is as it was"
    );
}
