//! What the client's tests against a real embedded engine share: the engine (temporary SQLite, real HTTP on
//! loopback, demo data) and the demo admin's sign-in.

use client::ApiClient;
use dto::{LoginRequest, LoginResponse, TokenPair};

/// A demo-seeded engine serving on a free loopback port, its files in `dir`.
pub async fn engine(dir: &tempfile::TempDir) -> engine::RunningEngine {
    engine::start(engine::EngineConfig {
        database_path: dir.path().join("engine.db"),
        bind: "127.0.0.1:0".parse().unwrap(),
        jwt_secret: Some("test-secret-test-secret-test-secret".to_owned()),
        demo: true,
        ..engine::EngineConfig::default()
    })
    .await
    .expect("engine starts")
}

/// The demo admin's token pair.
pub async fn login(api: &ApiClient, demo: &engine::DemoLogin) -> TokenPair {
    let body = LoginRequest {
        email: demo.email.clone(),
        password: demo.password.clone(),
    };
    match api.login(demo.tenant_id, &body, None).await.expect("login") {
        LoginResponse::Tokens(tokens) => tokens,
        other => panic!("unexpected {other:?}"),
    }
}
