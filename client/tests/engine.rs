//! The client against a real embedded engine (temporary SQLite, real HTTP on loopback).

use client::{ApiClient, Caller, ClientError, Timeouts};
use dto::{
    enums::OperationStatus, ConnectorFilter, LoginRequest, LoginResponse, OperationQuery, TokenPair,
};

async fn engine(dir: &tempfile::TempDir) -> engine::RunningEngine {
    engine::start(engine::EngineConfig {
        database_path: dir.path().join("engine.db"),
        bind: "127.0.0.1:0".parse().unwrap(),
        jwt_secret: Some("test-secret-test-secret-test-secret".to_owned()),
        demo: true,
    })
    .await
    .expect("engine starts")
}

async fn login(api: &ApiClient, demo: &engine::DemoLogin) -> TokenPair {
    let body = LoginRequest {
        email: demo.email.clone(),
        password: demo.password.clone(),
    };
    match api.login(demo.tenant_id, &body).await.expect("login") {
        LoginResponse::Tokens(tokens) => tokens,
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn reads_connectors_operations_and_stats() {
    let dir = tempfile::tempdir().unwrap();
    let running = engine(&dir).await;
    let demo = running.demo.clone().expect("demo login");
    let api = ApiClient::new(&running.base_url(), Timeouts::default()).unwrap();
    let tokens = login(&api, &demo).await;
    let caller = Caller {
        token: &tokens.access_token,
        tenant: demo.tenant_id,
    };

    let connectors = api.list_connectors(caller).await.unwrap();
    assert_eq!(connectors.connectors.len(), 3);

    let query = OperationQuery {
        status: Some(OperationStatus::Failed),
        limit: Some(100),
        ..Default::default()
    };
    let failed = api.list_operations(caller, &query).await.unwrap();
    assert!(!failed.operations.is_empty());
    assert!(failed
        .operations
        .iter()
        .all(|op| op.status == OperationStatus::Failed));
    assert!(failed
        .operations
        .iter()
        .all(|op| op.connector_name.is_some()));

    let stats = api
        .operation_stats(caller, &ConnectorFilter::default())
        .await
        .unwrap();
    assert_eq!(stats.failed, failed.total.unwrap());

    let one = api
        .get_connector(caller, connectors.connectors[0].id)
        .await
        .unwrap();
    assert_eq!(one, connectors.connectors[0]);

    running.shutdown().await;
}

#[tokio::test]
async fn auth_failures_are_typed() {
    let dir = tempfile::tempdir().unwrap();
    let running = engine(&dir).await;
    let demo = running.demo.clone().unwrap();
    let api = ApiClient::new(&running.base_url(), Timeouts::default()).unwrap();

    let bad = LoginRequest {
        email: demo.email.clone(),
        password: "wrong".to_owned(),
    };
    let err = api.login(demo.tenant_id, &bad).await.unwrap_err();
    assert_eq!(err.status(), Some(401));

    let tokens = login(&api, &demo).await;
    // Refresh rotates: the new pair works, the old refresh token is dead.
    let rotated = api.refresh(&tokens.refresh_token).await.unwrap();
    assert_ne!(rotated.refresh_token, tokens.refresh_token);
    let reused = api.refresh(&tokens.refresh_token).await.unwrap_err();
    assert_eq!(reused.status(), Some(401));

    // A token of the demo tenant with another tenant's header gets nothing.
    let wrong = Caller {
        token: &rotated.access_token,
        tenant: demo.other_tenant_id,
    };
    let err = api.list_connectors(wrong).await.unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Api {
                status: 401 | 403 | 404,
                ..
            }
        ),
        "{err:?}"
    );

    // Non-admin: forbidden.
    let viewer = LoginRequest {
        email: demo.viewer_email.clone(),
        password: demo.viewer_password.clone(),
    };
    let LoginResponse::Tokens(viewer) = api.login(demo.tenant_id, &viewer).await.unwrap() else {
        panic!()
    };
    let err = api
        .list_operations(
            Caller {
                token: &viewer.access_token,
                tenant: demo.tenant_id,
            },
            &OperationQuery::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));

    running.shutdown().await;
}
