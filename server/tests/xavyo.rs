//! The console in front of xavyo-idp's real answers: every page rendered from the captured responses of a
//! running xavyo-idp (`dto/tests/fixtures/xavyo-idp/captured/`, replayed by method and path on loopback),
//! signed in with a token of xavyo-idp's shape (`aud` a list, `super_admin`).
//!
//! A field of theirs that the console cannot read fails a page here, and so does any page that states the
//! embedded engine's behaviour as theirs (a pause xavyo-idp cannot do, a dry run it never reported, a
//! duration of 0 s for a run that is going on, an audit entry it never writes). The replay stands in only for
//! the shapes: the real engine and the real console are what the other suites drive.

mod common;

use std::{collections::BTreeMap, path::Path, sync::Arc};

use axum::{
    body::Bytes,
    extract::State,
    http::{Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    Json, Router,
};
use base64::Engine as _;
use reqwest::{header, redirect::Policy};
use serde_json::{json, Value};

/// The tenant the captures were taken in (any id: xavyo-idp's answers do not name it).
const TENANT: &str = "11111111-2222-4333-8444-555555555555";
/// Ids that appear in the captures.
const CONNECTOR: &str = "b34b07a1-8b95-4b39-8838-50bb118884d4";
const RUNNING_RUN: &str = "fb33bd08-d16d-4971-8f18-35f7915ab8bf";
const COMPLETED_RUN: &str = "ee565ea8-debc-41c0-a40f-41579aacba1b";
const CONFLICT: &str = "d9297343-422d-4b83-9aed-b7ac9ea5c587";
const FAILED_OPERATION: &str = "b72e07c2-d4b0-4367-83c9-3d3c2ea3735e";

/// One captured answer: `{request: "GET /path?query", status, body}`.
struct Capture {
    name: String,
    method: String,
    path: String,
    query: Option<String>,
    status: u16,
    body: Value,
}

fn captures() -> Vec<Capture> {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../dto/tests/fixtures/xavyo-idp/captured");
    let mut found: Vec<Capture> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the captures must be there ({}): {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let raw: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
            let request = raw["request"].as_str().unwrap_or_default();
            let (method, target) = request.split_once(' ').unwrap_or(("", ""));
            let (path, query) = match target.split_once('?') {
                Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
                None => (target.to_owned(), None),
            };
            Capture {
                name: p.file_stem().unwrap().to_string_lossy().into_owned(),
                method: method.to_owned(),
                path,
                query,
                status: raw["status"].as_u64().unwrap_or(0) as u16,
                body: raw["body"].clone(),
            }
        })
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(found.len() >= 80, "captures: {}", found.len());
    found
}

/// The capture answering a request: a success of the same method and path, the same query first, then the
/// richest (seeded) data, then one taken without a query.
fn pick<'a>(
    all: &'a [Capture],
    method: &str,
    path: &str,
    query: Option<&str>,
) -> Option<&'a Capture> {
    all.iter()
        .filter(|c| c.method == method && c.path == path && (200..300).contains(&c.status))
        .min_by_key(|c| {
            (
                c.query.as_deref() != query,
                !c.name.starts_with("seeded_"),
                c.query.is_some(),
            )
        })
}

/// An access token as xavyo-idp signs it (the console reads it without the signature, which the upstream
/// checks on every call).
fn xavyo_token() -> String {
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({
        "sub": "e3343f33-7042-4ea8-8eec-b6a47b67d325",
        "iss": "xavyo",
        "aud": ["xavyo"],
        "exp": now + 900,
        "iat": now,
        "jti": uuid::Uuid::new_v4().to_string(),
        "tid": TENANT,
        "roles": ["super_admin"],
        "email": "admin@example.com",
    });
    format!(
        "{}.{}.c2lnbmF0dXJl",
        b64(&json!({"alg": "RS256", "typ": "JWT"})),
        b64(&claims)
    )
}

async fn replay(
    State(all): State<Arc<Vec<Capture>>>,
    method: Method,
    uri: Uri,
    _body: Bytes,
) -> Response {
    if method == Method::POST && uri.path() == "/auth/login" {
        return Json(json!({
            "access_token": xavyo_token(),
            "refresh_token": "rt_replayed",
            "token_type": "Bearer",
            "expires_in": 900,
        }))
        .into_response();
    }
    match pick(&all, method.as_str(), uri.path(), uri.query()) {
        Some(c) if c.body.is_null() => StatusCode::from_u16(c.status).unwrap().into_response(),
        Some(c) => (
            StatusCode::from_u16(c.status).unwrap(),
            Json(c.body.clone()),
        )
            .into_response(),
        // What xavyo-idp answers for a route it does not have (e.g. `/features`).
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "not_found", "message": "not found"})),
        )
            .into_response(),
    }
}

/// The replayed upstream and a console in front of it; answers the console's URL.
async fn console() -> String {
    let upstream = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream_url = format!("http://{}", upstream.local_addr().unwrap());
    let all = Arc::new(captures());
    tokio::spawn(async move {
        axum::serve(upstream, Router::new().fallback(replay).with_state(all)).await
    });
    common::serve_console(&upstream_url, app::ssr::PublicSite::unconfigured()).await
}

/// A signed-in browser of the console at `base`.
async fn signed_in(base: &str) -> reqwest::Client {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap();
    let res = http
        .post(format!("{base}/api/login"))
        .header(header::ORIGIN, base)
        .form(&[
            ("email", "admin@example.com"),
            ("password", "Console-Admin-2026"),
            ("tenant", TENANT),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        res.status().is_success() || res.status().is_redirection(),
        "{}",
        res.status()
    );
    http
}

/// Every page a signed-in admin opens, rendered from xavyo-idp's answers, by path.
async fn pages() -> BTreeMap<String, String> {
    let base = console().await;
    let http = signed_in(&base).await;
    let mut pages = BTreeMap::new();
    let fixed = [
        "/connectors",
        "/connectors/operations",
        "/connectors/operations?operation_type=create",
        "/connectors/operations/dlq",
        "/connectors/conflicts",
        "/connectors/reconciliation",
        "/connectors/reconciliation/schedules",
        "/connectors/reconciliation/trend",
    ];
    let owned = [
        format!("/connectors/operations/{FAILED_OPERATION}"),
        format!("/connectors/conflicts/{CONFLICT}"),
        format!("/connectors/{CONNECTOR}/reconciliation"),
        format!("/connectors/{CONNECTOR}/reconciliation/runs/{RUNNING_RUN}"),
        format!("/connectors/{CONNECTOR}/reconciliation/runs/{COMPLETED_RUN}"),
        format!("/connectors/{CONNECTOR}/reconciliation/discrepancies"),
        format!("/connectors/{CONNECTOR}/reconciliation/actions"),
        format!("/connectors/{CONNECTOR}/reconciliation/schedule"),
    ];
    for path in fixed.into_iter().map(str::to_owned).chain(owned) {
        let res = http.get(format!("{base}{path}")).send().await.unwrap();
        let status = res.status();
        let html = res.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{path}: {}", visible(&html));
        for broken in [
            "unexpected answer from the provisioning service",
            "Something went wrong",
            "provisioning service unavailable",
        ] {
            assert!(!html.contains(broken), "{path} shows `{broken}`: {html}");
        }
        pages.insert(path, html);
    }
    pages
}

fn page<'a>(pages: &'a BTreeMap<String, String>, path: &str) -> &'a str {
    pages
        .get(path)
        .map(String::as_str)
        .unwrap_or_else(|| panic!("no page {path}"))
}

#[tokio::test]
async fn every_page_reads_xavyo_and_states_only_what_it_did() {
    let pages = pages().await;

    // Connectors are named, never shown as ids or "unknown" / "deleted connector".
    for path in [
        "/connectors/operations".to_owned(),
        "/connectors/reconciliation/schedules".to_owned(),
        format!("/connectors/conflicts/{CONFLICT}"),
        format!("/connectors/operations/{FAILED_OPERATION}"),
    ] {
        let html = page(&pages, &path);
        assert!(
            html.contains("HR REST (demo)"),
            "{path} names the connector: {html}"
        );
        assert!(
            !html.contains("deleted connector") && !html.contains(">unknown<"),
            "{path}: {html}"
        );
    }

    // What xavyo-idp cannot do is not offered: sorting, retrying a failed operation, pausing a run,
    // filtering the audit log by ignores (it audits none).
    let operations = page(&pages, "/connectors/operations");
    assert!(!operations.contains(r#"name="sort""#), "{operations}");
    let failed = page(
        &pages,
        &format!("/connectors/operations/{FAILED_OPERATION}"),
    );
    assert!(!failed.contains(">Retry</button>"), "{failed}");
    let running = page(
        &pages,
        &format!("/connectors/{CONNECTOR}/reconciliation/runs/{RUNNING_RUN}"),
    );
    assert!(!running.contains(r#"value="pause""#), "{running}");
    assert!(
        running.contains(r#"value="cancel""#),
        "cancel is xavyo's: {running}"
    );
    let audit = page(
        &pages,
        &format!("/connectors/{CONNECTOR}/reconciliation/actions"),
    );
    assert!(!audit.contains(r#"value="ignore""#), "{audit}");
    let discrepancies = page(
        &pages,
        &format!("/connectors/{CONNECTOR}/reconciliation/discrepancies"),
    );
    assert!(
        !discrepancies.contains("The audit log records who ignored it"),
        "{discrepancies}"
    );

    // A filter it ignored is said, and its rows are not shown under it.
    let by_type = page(&pages, "/connectors/operations?operation_type=create");
    assert!(
        by_type.contains("The upstream did not apply these filters: Type."),
        "{by_type}"
    );

    // Runs: nothing reported is not stated as "no", a running run is not "0.0 s" nor "counting".
    assert!(
        running.contains("Not reported"),
        "dry run unsaid: {running}"
    );
    assert!(running.contains("No progress reported yet."), "{running}");
    assert!(
        !running.contains("Counting the accounts") && !running.contains("0.0 s"),
        "{running}"
    );
    let completed = page(
        &pages,
        &format!("/connectors/{CONNECTOR}/reconciliation/runs/{COMPLETED_RUN}"),
    );
    assert!(
        completed.contains("42 s"),
        "duration from its start and end: {completed}"
    );

    // The trend shows every day of its range, the last one included.
    let trend = page(&pages, "/connectors/reconciliation/trend");
    for day in ["2026-10-25", "2026-11-23", "2026-11-24"] {
        assert!(trend.contains(day), "{day}: {}", visible(trend));
    }
}

/// A page's text without its scripts and tags, for failure messages.
fn visible(html: &str) -> String {
    let body = html.split("<body").nth(1).unwrap_or(html);
    let mut out = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}
