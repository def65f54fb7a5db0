//! Remediations whose caller goes away, or whose engine dies, half-way: each still ends settled and audited
//! exactly once, and its connector is free at once. Also: the database's own words never reach a result or
//! the audit log.

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use engine::demo::{CORPORATE_DIRECTORY, DEMO_ADMIN};
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::common::{engine_with, fast_queue, with_body, TestEngine};

const RUNS: &str = "/connectors/00000000-0000-4000-8000-00000000c001/reconciliation/runs";

fn discrepancies() -> String {
    format!("/connectors/{CORPORATE_DIRECTORY}/reconciliation/discrepancies")
}

/// Pending mismatches of Corporate Directory (the demo's drift), at most `n`.
async fn pending_mismatches(te: &TestEngine, token: &str, n: usize) -> Vec<Value> {
    let (status, body) = te
        .admin_get(
            token,
            &format!(
                "{}?discrepancy_type=mismatch&resolution_status=pending&limit={n}",
                discrepancies()
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let found = body["discrepancies"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        found.len(),
        n,
        "the demo has {n} pending mismatches: {body}"
    );
    found
}

/// The audit log's entries for one discrepancy.
async fn audit_of(te: &TestEngine, token: &str, discrepancy: &str) -> Vec<Value> {
    let (status, body) = te
        .admin_get(
            token,
            &format!(
                "/connectors/{CORPORATE_DIRECTORY}/reconciliation/actions?discrepancy_id={discrepancy}"
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["actions"].as_array().cloned().unwrap_or_default()
}

/// Sends `body` to `path` as the admin and gives up after `patience`, as a client with a timeout does:
/// the request's future is dropped unanswered.
async fn give_up_after(te: &TestEngine, token: &str, path: &str, body: Value, patience: Duration) {
    let request = with_body(Method::POST, path, &body, token, te.demo.tenant_id);
    let answered = tokio::time::timeout(patience, te.app.clone().oneshot(request)).await;
    assert!(
        answered.is_err(),
        "the request was meant to be cut off: {answered:?}"
    );
}

/// Waits (at most 20 s) until every discrepancy has an audit entry, then answers each one's entries.
async fn audited(te: &TestEngine, token: &str, ids: &[&str]) -> Vec<Vec<Value>> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut all = Vec::new();
        for id in ids {
            all.push(audit_of(te, token, id).await);
        }
        if all.iter().all(|entries| !entries.is_empty()) {
            return all;
        }
        assert!(Instant::now() < deadline, "never audited: {all:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn status_of(te: &TestEngine, token: &str, discrepancy: &str) -> Value {
    let (status, body) = te
        .admin_get(token, &format!("{}/{discrepancy}", discrepancies()))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["resolution_status"].clone()
}

/// After the remediations: the connector takes a run at once.
async fn run_starts(te: &TestEngine, token: &str) {
    te.directory_latency(token, 0).await;
    let (status, body) = te
        .admin_post(token, RUNS, json!({"mode": "full", "dry_run": true}))
        .await;
    assert_eq!(
        status,
        StatusCode::ACCEPTED,
        "a run start right after: {body}"
    );
}

#[tokio::test]
async fn a_remediation_whose_caller_gives_up_still_finishes_and_is_audited_once() {
    let te = engine_with(fast_queue(0)).await;
    let token = te.admin_token().await;
    let mismatch = pending_mismatches(&te, &token, 1).await.remove(0);
    let id = mismatch["id"].as_str().expect("id");
    // Planning reads the account (4 s), then the claim, then the update (4 s): the caller leaves in the middle
    // of the update, after the claim.
    te.directory_latency(&token, 4_000).await;
    give_up_after(
        &te,
        &token,
        &format!("{}/{id}/remediate", discrepancies()),
        json!({"action": "update", "direction": "xavyo_to_target"}),
        Duration::from_secs(6),
    )
    .await;

    let entries = audited(&te, &token, &[id]).await.remove(0);
    assert_eq!(entries.len(), 1, "exactly one audit entry: {entries:?}");
    assert_eq!(entries[0]["result"], "success", "{entries:?}");
    assert_eq!(entries[0]["action_type"], "update");
    assert_eq!(status_of(&te, &token, id).await, "resolved");
    run_starts(&te, &token).await;
    // Nothing more was written meanwhile.
    assert_eq!(audit_of(&te, &token, id).await.len(), 1);
}

#[tokio::test]
async fn a_bulk_remediation_whose_caller_gives_up_still_finishes_every_item() {
    let te = engine_with(fast_queue(0)).await;
    let token = te.admin_token().await;
    let mismatches = pending_mismatches(&te, &token, 3).await;
    let ids: Vec<&str> = mismatches
        .iter()
        .map(|d| d["id"].as_str().expect("id"))
        .collect();
    let items: Vec<Value> = ids
        .iter()
        .map(|id| json!({"discrepancy_id": id, "action": "update", "direction": "xavyo_to_target"}))
        .collect();
    te.directory_latency(&token, 4_000).await;
    give_up_after(
        &te,
        &token,
        &format!("{}/bulk-remediate", discrepancies()),
        json!({ "items": items }),
        Duration::from_secs(6),
    )
    .await;

    for (id, entries) in ids.iter().zip(audited(&te, &token, &ids).await) {
        assert_eq!(
            entries.len(),
            1,
            "exactly one audit entry for {id}: {entries:?}"
        );
        assert_eq!(entries[0]["result"], "success", "{entries:?}");
        assert_eq!(status_of(&te, &token, id).await, "resolved");
    }
    run_starts(&te, &token).await;
}

#[tokio::test]
async fn a_database_failure_is_said_in_words_in_the_result_and_the_audit_log() {
    let te = engine_with(fast_queue(0)).await;
    let token = te.admin_token().await;
    let mismatch = pending_mismatches(&te, &token, 1).await.remove(0);
    let id = mismatch["id"].as_str().expect("id");
    let uid = mismatch["external_uid"].as_str().expect("uid");
    // The account now carries another identity's email, and the discrepancy is about the email: taking the
    // account's value into xavyo breaks the identities' unique email.
    let taken: String = sqlx::query_scalar(
        "SELECT email FROM identities WHERE tenant_id = ? AND id IS NOT ? ORDER BY email LIMIT 1",
    )
    .bind(te.demo.tenant_id.to_string())
    .bind(mismatch["identity_id"].as_str())
    .fetch_one(&te.pool)
    .await
    .expect("another identity");
    let directory = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        engine::DirectoryStore::path_beside(&te.database_path()).display()
    ))
    .await
    .expect("directory");
    let changed = sqlx::query(
        "UPDATE accounts SET attributes = json_set(attributes, '$.email', ?) WHERE connector_id = ? AND uid = ?",
    )
    .bind(&taken)
    .bind(CORPORATE_DIRECTORY.to_string())
    .bind(uid)
    .execute(&directory)
    .await
    .expect("account changed");
    assert_eq!(changed.rows_affected(), 1);
    directory.close().await;
    sqlx::query("UPDATE discrepancies SET attribute_name = 'email' WHERE id = ?")
        .bind(id)
        .execute(&te.pool)
        .await
        .expect("about the email");

    let (status, result) = te
        .admin_post(
            &token,
            &format!("{}/{id}/remediate", discrepancies()),
            json!({"action": "update", "direction": "target_to_xavyo"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["success"], false, "{result}");
    let entries = audit_of(&te, &token, id).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    for said in [&result["error"], &entries[0]["details"]["error"]] {
        let said = said.as_str().expect("an error in words");
        for leak in ["UNIQUE", "constraint", "identities.", "sqlite", "code:"] {
            assert!(!said.contains(leak), "database text `{leak}` shown: {said}");
        }
        assert!(said.contains("another identity"), "{said}");
    }
    assert_eq!(status_of(&te, &token, id).await, "pending", "given back");
}

/// The `engine` binary on `database`, and its base address (it prints it once listening).
fn spawn_binary(database: &std::path::Path) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_engine"))
        .arg("--database")
        .arg(database)
        .args(["--bind", "127.0.0.1:0", "--demo", "--workers", "0"])
        .args(["--jwt-secret", crate::common::SECRET])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the engine binary starts");
    let stdout = child.stdout.take().expect("its output");
    let mut lines = std::io::BufReader::new(stdout).lines();
    let addr = lines
        .find_map(|line| {
            line.ok()?
                .strip_prefix("engine listening on http://")
                .map(str::to_owned)
        })
        .expect("the engine says where it listens");
    // Its log goes to the same pipe: keep reading it, or its writes fail.
    std::thread::spawn(move || lines.for_each(drop));
    (child, addr)
}

/// One HTTP/1.1 request over a fresh connection; answers the status and the JSON body (Null when empty).
async fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = request(addr, method, path, token, body).await;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("reads");
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer.split_once("\r\n\r\n").expect("a response");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    let body = serde_json::from_str(body).unwrap_or(Value::Null);
    let _ = stream.shutdown().await;
    (status, body)
}

/// Sends a request and leaves its answer unread.
async fn request(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let demo = engine::demo::login();
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let text = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nX-Tenant-ID: {}\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        demo.tenant_id,
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    stream.write_all(text.as_bytes()).await.expect("sends");
    stream
}

async fn binary_token(addr: &str) -> String {
    let demo = engine::demo::login();
    let (status, body) = http(
        addr,
        "POST",
        "/auth/login",
        None,
        &json!({"email": demo.email, "password": demo.password}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().expect("a token").to_owned()
}

#[tokio::test]
async fn an_engine_killed_mid_remediation_gives_the_claim_back_when_it_starts_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = dir.path().join("engine.db");
    let (mut engine, addr) = spawn_binary(&database);
    let token = binary_token(&addr).await;
    let (status, body) = http(
        &addr,
        "GET",
        &format!(
            "{}?discrepancy_type=mismatch&resolution_status=pending&limit=1",
            discrepancies()
        ),
        Some(&token),
        &Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let id = body["discrepancies"][0]["id"]
        .as_str()
        .expect("a pending mismatch")
        .to_owned();
    let (status, body) = http(
        &addr,
        "PUT",
        &format!("/connectors/{CORPORATE_DIRECTORY}/settings"),
        Some(&token),
        &json!({"offline": false, "error_rate": 0.0, "latency_ms": 4_000}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // Planning reads the account (4 s), then the claim, then the update (4 s): kill -9 during the update.
    let _left_unread = request(
        &addr,
        "POST",
        &format!("{}/{id}/remediate", discrepancies()),
        Some(&token),
        &json!({"action": "update", "direction": "xavyo_to_target"}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(6_000)).await;
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", database.display()))
        .await
        .expect("the database");
    let in_flight: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM remediations_in_flight")
        .fetch_one(&pool)
        .await
        .expect("counts");
    assert_eq!(in_flight, 1, "killed with the claim in flight");
    pool.close().await;
    engine.kill().expect("kill -9");
    engine.wait().expect("it died");

    let (mut engine, addr) = spawn_binary(&database);
    let token = binary_token(&addr).await;
    let (status, body) = http(
        &addr,
        "GET",
        &format!("{}/{id}", discrepancies()),
        Some(&token),
        &Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["resolution_status"], "pending", "given back: {body}");
    let (_, body) = http(
        &addr,
        "GET",
        &format!("/connectors/{CORPORATE_DIRECTORY}/reconciliation/actions?discrepancy_id={id}"),
        Some(&token),
        &Value::Null,
    )
    .await;
    let entries = body["actions"].as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 1, "audited once: {body}");
    assert_eq!(entries[0]["result"], "failure");
    assert_eq!(entries[0]["action_type"], "update");
    assert_eq!(entries[0]["direction"], "xavyo_to_target");
    assert_eq!(entries[0]["performed_by"], DEMO_ADMIN.to_string());
    assert_eq!(entries[0]["details"]["interrupted"], true, "{body}");
    let (status, body) = http(&addr, "POST", RUNS, Some(&token), &json!({"mode": "full"})).await;
    assert_eq!(status, 202, "the connector is free at once: {body}");
    engine.kill().expect("stops");
    engine.wait().expect("stopped");
}

#[tokio::test]
async fn any_change_runs_to_its_end_when_the_caller_leaves_at_once() {
    let te = engine_with(fast_queue(0)).await;
    let token = te.admin_token().await;
    let (_, before) = te.admin_get(&token, RUNS).await;
    // Another writer holds the database, so the run start cannot finish before its caller leaves: it waits
    // for the lock (SQLite's busy timeout), the request is dropped, then the lock goes.
    let mut writer = te.pool.acquire().await.expect("a connection");
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *writer)
        .await
        .expect("locks");
    let request = with_body(
        Method::POST,
        RUNS,
        &json!({"mode": "full", "dry_run": true}),
        &token,
        te.demo.tenant_id,
    );
    let answered =
        tokio::time::timeout(Duration::from_millis(100), te.app.clone().oneshot(request)).await;
    assert!(answered.is_err(), "meant to be cut off: {answered:?}");
    sqlx::query("ROLLBACK")
        .execute(&mut *writer)
        .await
        .expect("unlocks");
    drop(writer);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (_, after) = te.admin_get(&token, RUNS).await;
        if after["total"].as_u64() > before["total"].as_u64() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the run start never happened: {after}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
