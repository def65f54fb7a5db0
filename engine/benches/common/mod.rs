//! What the engine's benchmarks share: a tenant with an admin and three directory connectors, an admin token,
//! timed requests through the router, percentiles.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use axum::{
    body::{to_bytes, Body},
    http::{header, Request, StatusCode},
    Router,
};
use chrono::Utc;
use dto::{ConnectorId, TenantId, UserId};
use engine::{
    auth,
    store::{self, NewConnector, NewTenant, NewUser},
};
use enums::ConnectorStatus;
use serde_json::json;
use sqlx::SqlitePool;
use tower::ServiceExt;
use uuid::Uuid;

pub const TENANT: TenantId = TenantId(Uuid::from_u128(0xbe11c4));
pub const CONNECTORS: [ConnectorId; 3] = [
    ConnectorId(Uuid::from_u128(0xc1)),
    ConnectorId(Uuid::from_u128(0xc2)),
    ConnectorId(Uuid::from_u128(0xc3)),
];
pub const EMAIL: &str = "bench@bench.local";
pub const PASSWORD: &str = "bench-password";
pub const SECRET: &str = "bench-secret-bench-secret-bench-secret";

/// A tenant with an admin and three directory connectors.
pub async fn world(pool: &SqlitePool) {
    let now = Utc::now();
    let hash = auth::hash_password(PASSWORD).expect("hashes");
    let mut conn = pool.acquire().await.expect("connection");
    store::insert_tenant(
        &mut conn,
        &NewTenant {
            id: TENANT,
            name: "Bench".into(),
            created_at: now,
        },
    )
    .await
    .expect("tenant");
    store::insert_user(
        &mut conn,
        &NewUser {
            id: UserId(Uuid::new_v4()),
            tenant_id: TENANT,
            email: EMAIL.into(),
            display_name: None,
            password_hash: hash,
            roles: vec!["admin".into()],
            active: true,
            created_at: now,
        },
    )
    .await
    .expect("user");
    for (n, id) in CONNECTORS.into_iter().enumerate() {
        store::insert_connector(
            &mut conn,
            &NewConnector {
                id,
                tenant_id: TENANT,
                name: format!("Directory {n}"),
                connector_type: "directory".into(),
                status: ConnectorStatus::Active,
                credentials_valid: true,
                settings: json!({}),
                created_at: now,
            },
        )
        .await
        .expect("connector");
    }
}

/// The bench admin's access token.
pub async fn token(app: &Router) -> String {
    let login = Request::builder()
        .method("POST")
        .uri("/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .header("X-Tenant-ID", TENANT.to_string())
        .body(Body::from(
            json!({"email": EMAIL, "password": PASSWORD}).to_string(),
        ))
        .expect("request");
    let response = app.clone().oneshot(login).await.expect("answers");
    let body = to_bytes(response.into_body(), 1 << 20).await.expect("body");
    let pair: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    pair["access_token"].as_str().expect("a token").to_owned()
}

pub async fn send(app: &Router, path: &str, token: &str) -> Duration {
    let request = Request::builder()
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header("X-Tenant-ID", TENANT.to_string())
        .body(Body::empty())
        .expect("request");
    let started = Instant::now();
    let response = app.clone().oneshot(request).await.expect("answers");
    let status = response.status();
    let body = to_bytes(response.into_body(), 1 << 24).await.expect("body");
    let elapsed = started.elapsed();
    assert_eq!(
        status,
        StatusCode::OK,
        "{path}: {}",
        String::from_utf8_lossy(&body)
    );
    elapsed
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Runs a bench's `main`: `body` gets a test of whether the command line asked for a part by name
/// (`cargo bench -p engine --bench queue -- list`; no name: every part).
pub fn run<F: std::future::Future<Output = ()>>(body: impl FnOnce(Box<dyn Fn(&str) -> bool>) -> F) {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wants =
        move |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(body(Box::new(wants))),
        Err(err) => eprintln!("no runtime: {err}"),
    }
}
