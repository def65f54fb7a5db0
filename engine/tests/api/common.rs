//! A demo-seeded engine on a temporary database, and request helpers.

use axum::{
    body::{to_bytes, Body},
    http::{header, Method, Request, StatusCode},
    Router,
};
use dto::{TenantId, TokenPair};
use engine::{AppState, DemoLogin};
use serde_json::Value;
use sqlx::SqlitePool;
use tempfile::TempDir;
use tower::ServiceExt;

/// The signing secret of test engines.
pub const SECRET: &str = "test-secret-test-secret-test-secret!";

/// A router over a fresh demo database, kept alive with its folder.
pub struct TestEngine {
    pub app: Router,
    pub pool: SqlitePool,
    pub demo: DemoLogin,
    _dir: TempDir,
}

pub async fn engine() -> TestEngine {
    let dir = tempfile::tempdir().expect("temp dir");
    let pool = engine::open_database(&dir.path().join("engine.db"))
        .await
        .expect("database opens");
    let demo = engine::demo::ensure_seeded(&pool)
        .await
        .expect("demo seeds");
    let app = engine::router(AppState::new(pool.clone(), SECRET));
    TestEngine {
        app,
        pool,
        demo,
        _dir: dir,
    }
}

/// Sends a request; answers the status, the content type and the body as JSON (Null when empty).
pub async fn send(app: &Router, request: Request<Body>) -> (StatusCode, Option<String>, Value) {
    let response = app.clone().oneshot(request).await.expect("router answers");
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = to_bytes(response.into_body(), 10 * 1024 * 1024)
        .await
        .expect("body reads");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)))
    };
    (status, content_type, body)
}

/// A GET with optional bearer token and tenant header.
pub fn get(path: &str, token: Option<&str>, tenant: Option<TenantId>) -> Request<Body> {
    let mut request = Request::builder().method(Method::GET).uri(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(tenant) = tenant {
        request = request.header("X-Tenant-ID", tenant.to_string());
    }
    request.body(Body::empty()).expect("request builds")
}

/// A JSON POST with an optional tenant header.
pub fn post(path: &str, body: Value, tenant: Option<TenantId>) -> Request<Body> {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(tenant) = tenant {
        request = request.header("X-Tenant-ID", tenant.to_string());
    }
    request
        .body(Body::from(body.to_string()))
        .expect("request builds")
}

/// Logs in and returns the pair, failing the test on anything but 200.
pub async fn login(app: &Router, tenant: TenantId, email: &str, password: &str) -> TokenPair {
    let (status, _, body) = send(
        app,
        post(
            "/auth/login",
            serde_json::json!({ "email": email, "password": password }),
            Some(tenant),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "login of {email}: {body}");
    serde_json::from_value(body).expect("a token pair")
}

impl TestEngine {
    /// The demo admin's access token.
    pub async fn admin_token(&self) -> String {
        login(
            &self.app,
            self.demo.tenant_id,
            &self.demo.email,
            &self.demo.password,
        )
        .await
        .access_token
    }

    /// GET as the demo admin; answers status and body.
    pub async fn admin_get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let (status, _, body) =
            send(&self.app, get(path, Some(token), Some(self.demo.tenant_id))).await;
        (status, body)
    }
}

/// Asserts a JSON error body with this status and code.
pub fn assert_error(status: StatusCode, body: &Value, want_status: StatusCode, want_code: &str) {
    assert_eq!(status, want_status, "body: {body}");
    assert_eq!(body["error"], want_code, "body: {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "no message: {body}"
    );
}
