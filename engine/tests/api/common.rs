//! A demo-seeded engine (databases in a temporary folder, fast workers running), and request helpers.

use std::time::Duration;

use axum::{
    body::{to_bytes, Body},
    http::{header, Method, Request, StatusCode},
    Router,
};
use dto::{ProvisioningOperation, TenantId, TokenPair};
use engine::{DemoLogin, Engine, EngineConfig, QueueConfig, ReconcilerConfig, RetryPolicy};
use serde_json::Value;
use sqlx::SqlitePool;
use tempfile::TempDir;
use tower::ServiceExt;

/// The signing secret of test engines.
pub const SECRET: &str = "test-secret-test-secret-test-secret!";

/// Queue settings for tests: everything in milliseconds, so retries and recoveries happen while a test waits.
pub fn fast_queue(workers: usize) -> QueueConfig {
    QueueConfig {
        workers,
        batch_size: 16,
        poll_interval: Duration::from_millis(10),
        lease: Duration::from_secs(5),
        max_retries: 3,
        retry: RetryPolicy {
            base: Duration::from_millis(20),
            max: Duration::from_millis(200),
            jitter: 0.2,
        },
        reap_interval: Duration::from_millis(20),
        recheck_interval: Duration::from_millis(50),
    }
}

/// A router over a fresh engine (databases in a temporary folder, workers running), kept alive with its
/// folder.
pub struct TestEngine {
    pub app: Router,
    pub pool: SqlitePool,
    pub demo: DemoLogin,
    pub engine: Engine,
    _dir: TempDir,
}

/// A demo-seeded engine with two fast workers.
pub async fn engine() -> TestEngine {
    engine_with(fast_queue(2)).await
}

/// A demo-seeded engine with these queue settings.
pub async fn engine_with(queue: QueueConfig) -> TestEngine {
    engine_with_reconciler(queue, ReconcilerConfig::default()).await
}

/// A demo-seeded engine with these queue and reconciler settings.
pub async fn engine_with_reconciler(
    queue: QueueConfig,
    reconciler: ReconcilerConfig,
) -> TestEngine {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = EngineConfig {
        database_path: dir.path().join("engine.db"),
        jwt_secret: Some(SECRET.to_owned()),
        demo: true,
        reconciler,
        ..EngineConfig::default()
    };
    let engine = Engine::open(&config, queue).await.expect("engine opens");
    let demo = engine.demo().cloned().expect("demo seeded");
    TestEngine {
        app: engine.router(),
        pool: engine.pool().clone(),
        demo,
        engine,
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

/// A request with a JSON body (none when `body` is Null), bearer token and tenant header.
pub fn with_body(
    method: Method,
    path: &str,
    body: &Value,
    token: &str,
    tenant: TenantId,
) -> Request<Body> {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header("X-Tenant-ID", tenant.to_string());
    let request = if body.is_null() {
        request.body(Body::empty())
    } else {
        request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
    };
    request.expect("request builds")
}

impl TestEngine {
    /// The engine's database file.
    pub fn database_path(&self) -> std::path::PathBuf {
        self._dir.path().join("engine.db")
    }

    /// POST as the demo admin; answers status and body.
    pub async fn admin_post(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let request = with_body(Method::POST, path, &body, token, self.demo.tenant_id);
        let (status, _, body) = send(&self.app, request).await;
        (status, body)
    }

    /// PUT as the demo admin; answers status and body.
    /// Sets the latency injected into every call of the demo's Corporate Directory (no other fault).
    pub async fn directory_latency(&self, token: &str, latency_ms: u64) {
        let path = format!("/connectors/{}/settings", engine::demo::CORPORATE_DIRECTORY);
        let body =
            serde_json::json!({"offline": false, "error_rate": 0.0, "latency_ms": latency_ms});
        let (status, body) = self.admin_put(token, &path, body).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    pub async fn admin_put(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let request = with_body(Method::PUT, path, &body, token, self.demo.tenant_id);
        let (status, _, body) = send(&self.app, request).await;
        (status, body)
    }

    /// The operation as the API answers it, failing the test on anything but 200.
    pub async fn operation(&self, token: &str, id: &str) -> ProvisioningOperation {
        let (status, body) = self.admin_get(token, &format!("/operations/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_value(body).expect("an operation")
    }

    /// Polls the operation until `done` holds (at most five seconds), and answers it.
    pub async fn wait_for(
        &self,
        token: &str,
        id: &str,
        what: &str,
        done: impl Fn(&ProvisioningOperation) -> bool,
    ) -> ProvisioningOperation {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let op = self.operation(token, id).await;
            if done(&op) {
                return op;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "operation {id} never became {what}: {op:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
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
