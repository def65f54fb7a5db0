//! `GET /connectors`, `GET /connectors/{id}` and the fault settings, tenant by tenant.

use axum::http::{Method, StatusCode};
use dto::{Connector, ConnectorId, ConnectorList};
use engine::demo::{CLOUD_CRM, CORPORATE_DIRECTORY, LEGACY_HR, OTHER_DIRECTORY};
use enums::ConnectorStatus;
use serde_json::json;

use crate::common::{assert_error, engine, get, login, send, with_body, SECRET};

#[tokio::test]
async fn lists_the_tenants_connectors_only() {
    let e = engine().await;
    let token = e.admin_token().await;
    let (status, body) = e.admin_get(&token, "/connectors").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let list: ConnectorList = serde_json::from_value(body).expect("a connector list");
    assert_eq!(
        (list.total, list.limit, list.offset),
        (Some(3), Some(20), Some(0))
    );
    let names: Vec<_> = list.connectors.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Cloud CRM", "Corporate Directory", "Legacy HR"]);
    let status_of = |id| {
        list.connectors
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.status)
    };
    assert_eq!(
        status_of(CORPORATE_DIRECTORY),
        Some(ConnectorStatus::Active)
    );
    assert_eq!(status_of(LEGACY_HR), Some(ConnectorStatus::Disabled));
    assert_eq!(status_of(CLOUD_CRM), Some(ConnectorStatus::Offline));

    let other = login(
        &e.app,
        e.demo.other_tenant_id,
        "admin@other.local",
        "demo-admin-pass",
    )
    .await;
    let (status, _, body) = send(
        &e.app,
        get(
            "/connectors",
            Some(&other.access_token),
            Some(e.demo.other_tenant_id),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let list: ConnectorList = serde_json::from_value(body).expect("a connector list");
    assert_eq!(
        list.connectors.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![OTHER_DIRECTORY]
    );
}

#[tokio::test]
async fn pages_connectors() {
    let e = engine().await;
    let token = e.admin_token().await;
    let (status, body) = e.admin_get(&token, "/connectors?limit=1&offset=1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let list: ConnectorList = serde_json::from_value(body).expect("a connector list");
    assert_eq!(list.total, Some(3));
    assert_eq!(
        list.connectors
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["Corporate Directory"]
    );
    for bad in ["limit=0", "limit=101", "offset=-3"] {
        let (status, body) = e.admin_get(&token, &format!("/connectors?{bad}")).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "validation_error");
    }
}

#[tokio::test]
async fn gets_one_connector() {
    let e = engine().await;
    let token = e.admin_token().await;
    let (status, body) = e
        .admin_get(&token, &format!("/connectors/{CORPORATE_DIRECTORY}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let connector: Connector = serde_json::from_value(body).expect("a connector");
    assert_eq!(
        (connector.name.as_str(), connector.status),
        ("Corporate Directory", ConnectorStatus::Active)
    );
    assert!(connector.credentials_valid);
}

#[tokio::test]
async fn another_tenants_connector_is_404_like_an_unknown_one() {
    let e = engine().await;
    let token = e.admin_token().await;
    let (status, other) = e
        .admin_get(&token, &format!("/connectors/{OTHER_DIRECTORY}"))
        .await;
    assert_error(status, &other, StatusCode::NOT_FOUND, "not_found");
    let unknown = uuid::Uuid::new_v4();
    let (status, missing) = e.admin_get(&token, &format!("/connectors/{unknown}")).await;
    assert_error(status, &missing, StatusCode::NOT_FOUND, "not_found");
    let shape = |v: &serde_json::Value| {
        let mut keys: Vec<_> = v
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        keys.sort();
        keys
    };
    assert_eq!(shape(&other), shape(&missing));
    assert_eq!(
        other["message"]
            .as_str()
            .map(|m| m.replace(&OTHER_DIRECTORY.to_string(), "ID")),
        missing["message"]
            .as_str()
            .map(|m| m.replace(&unknown.to_string(), "ID"))
    );
}

#[tokio::test]
async fn a_malformed_id_is_400_json() {
    let e = engine().await;
    let token = e.admin_token().await;
    let (status, body) = e.admin_get(&token, "/connectors/not-a-uuid").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "validation_error");
    assert_eq!(body["field"], "id");
}

#[tokio::test]
async fn fault_settings_read_and_write_with_the_status() {
    let e = engine().await;
    let token = e.admin_token().await;
    let settings = |id| format!("/connectors/{id}/settings");
    let (status, body) = e.admin_get(&token, &settings(CORPORATE_DIRECTORY)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"connector_id": CORPORATE_DIRECTORY, "status": "active", "offline": false,
               "error_rate": 0.0, "latency_ms": 40})
    );
    let (_, body) = e.admin_get(&token, &settings(CLOUD_CRM)).await;
    assert_eq!(
        (body["status"].as_str(), body["offline"].as_bool()),
        (Some("offline"), Some(true))
    );
    let (_, body) = e.admin_get(&token, &settings(LEGACY_HR)).await;
    assert_eq!(body["status"], "disabled");

    // Other keys of the stored settings stay; a disabled connector stays disabled either way.
    sqlx::query(
        "UPDATE connectors SET settings = json_set(settings, '$.host', 'hr.internal') WHERE id = ?",
    )
    .bind(LEGACY_HR.to_string())
    .execute(&e.pool)
    .await
    .expect("updated");
    for offline in [true, false] {
        let (status, body) = e
            .admin_put(
                &token,
                &settings(LEGACY_HR),
                json!({"offline": offline, "error_rate": 0.25, "latency_ms": 5}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            (
                body["status"].as_str(),
                body["offline"].as_bool(),
                body["error_rate"].as_f64()
            ),
            (Some("disabled"), Some(offline), Some(0.25))
        );
    }
    let stored: String = sqlx::query_scalar("SELECT settings FROM connectors WHERE id = ?")
        .bind(LEGACY_HR.to_string())
        .fetch_one(&e.pool)
        .await
        .expect("settings");
    let stored: serde_json::Value = serde_json::from_str(&stored).expect("JSON");
    assert_eq!(
        stored,
        json!({"host": "hr.internal", "offline": false, "error_rate": 0.25, "latency_ms": 5})
    );
    let (_, body) = e
        .admin_put(
            &token,
            &settings(CORPORATE_DIRECTORY),
            json!({"offline": true, "error_rate": 0, "latency_ms": 0}),
        )
        .await;
    assert_eq!(body["status"], "offline");
    let (_, connector) = e
        .admin_get(&token, &format!("/connectors/{CORPORATE_DIRECTORY}"))
        .await;
    assert_eq!(connector["status"], "offline", "the connector says so too");
}

#[tokio::test]
async fn fault_settings_are_validated_field_by_field() {
    let e = engine().await;
    let token = e.admin_token().await;
    let path = format!("/connectors/{CORPORATE_DIRECTORY}/settings");
    let valid = json!({"offline": false, "error_rate": 0.5, "latency_ms": 100});
    let with = |field: &str, value: serde_json::Value| {
        let mut body = valid.clone();
        body[field] = value;
        body
    };
    let without = |field: &str| {
        let mut body = valid.clone();
        body.as_object_mut().map(|o| o.remove(field));
        body
    };
    let cases = [
        (with("offline", json!("yes")), "offline"),
        (without("offline"), "offline"),
        (with("error_rate", json!(1.5)), "error_rate"),
        (with("error_rate", json!(-0.1)), "error_rate"),
        (with("error_rate", json!("half")), "error_rate"),
        (without("error_rate"), "error_rate"),
        (with("latency_ms", json!(-1)), "latency_ms"),
        (with("latency_ms", json!(20_000)), "latency_ms"),
        (with("latency_ms", json!(1.5)), "latency_ms"),
        (without("latency_ms"), "latency_ms"),
        (json!([1]), "body"),
    ];
    for (body, field) in cases {
        let (status, answer) = e.admin_put(&token, &path, body.clone()).await;
        assert_error(status, &answer, StatusCode::BAD_REQUEST, "validation_error");
        assert_eq!(answer["field"], field, "{body}: {answer}");
    }
    let (_, unchanged) = e.admin_get(&token, &path).await;
    assert_eq!(unchanged["latency_ms"], 40, "nothing was stored");

    for id in [OTHER_DIRECTORY, ConnectorId(uuid::Uuid::new_v4())] {
        let (status, answer) = e
            .admin_put(&token, &format!("/connectors/{id}/settings"), valid.clone())
            .await;
        assert_error(status, &answer, StatusCode::NOT_FOUND, "not_found");
    }
    let (status, answer) = e
        .admin_put(&token, "/connectors/nope/settings", valid.clone())
        .await;
    assert_error(status, &answer, StatusCode::BAD_REQUEST, "validation_error");
    assert_eq!(answer["field"], "id");
    let viewer = login(
        &e.app,
        e.demo.tenant_id,
        &e.demo.viewer_email,
        &e.demo.viewer_password,
    )
    .await;
    let (status, _, answer) = send(
        &e.app,
        with_body(
            Method::PUT,
            &path,
            &valid,
            &viewer.access_token,
            e.demo.tenant_id,
        ),
    )
    .await;
    assert_error(status, &answer, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn each_connector_says_what_it_supports_and_only_those_take_faults() {
    let te = engine().await;
    let token = te.admin_token().await;
    let (status, body) = te
        .admin_get(&token, &format!("/connectors/{CORPORATE_DIRECTORY}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let directory: Connector = serde_json::from_value(body).expect("a connector");
    assert!(directory.supports(Connector::FAULT_INJECTION));
    // A connector of a type this engine has no implementation for (as xavyo-idp's LDAP ones would be).
    let ldap = ConnectorId(uuid::Uuid::new_v4());
    sqlx::query(
        "INSERT INTO connectors (id, tenant_id, name, connector_type, status, credentials_valid, settings,
                                 created_at, updated_at)
         VALUES (?, ?, 'Remote LDAP', 'ldap', 'active', 1, '{}', '2026-01-01T00:00:00.000000Z',
                 '2026-01-01T00:00:00.000000Z')",
    )
    .bind(ldap.to_string())
    .bind(te.demo.tenant_id.to_string())
    .execute(&te.pool)
    .await
    .expect("inserted");
    let (_, body) = te.admin_get(&token, "/connectors?limit=100").await;
    let list: ConnectorList = serde_json::from_value(body).expect("a list");
    let remote = list
        .connectors
        .iter()
        .find(|c| c.id == ldap)
        .expect("listed");
    assert!(remote.capabilities.is_empty(), "{remote:?}");
    let path = format!("/connectors/{ldap}/settings");
    let (status, body) = te.admin_get(&token, &path).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let request = with_body(
        Method::PUT,
        &path,
        &json!({"offline": true, "error_rate": 0.0, "latency_ms": 0}),
        &token,
        te.demo.tenant_id,
    );
    let (status, _, body) = send(&te.app, request).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

/// An engine without demo mode over a tenant with one admin and one directory connector; answers the
/// engine, the admin's token, the tenant, the connector and the folder holding the files.
async fn plain_engine(
    fault_injection: bool,
) -> (
    engine::Engine,
    String,
    dto::TenantId,
    ConnectorId,
    tempfile::TempDir,
) {
    use chrono::Utc;
    use engine::store::{self, NewConnector, NewTenant, NewUser};

    let dir = tempfile::tempdir().expect("temp dir");
    let database_path = dir.path().join("engine.db");
    let tenant = dto::TenantId(uuid::Uuid::new_v4());
    let connector = ConnectorId(uuid::Uuid::new_v4());
    let pool = engine::open_database(&database_path).await.expect("opens");
    let mut conn = pool.acquire().await.expect("connection");
    let now = Utc::now();
    store::insert_tenant(
        &mut conn,
        &NewTenant {
            id: tenant,
            name: "Acme".into(),
            created_at: now,
        },
    )
    .await
    .expect("tenant");
    store::insert_user(
        &mut conn,
        &NewUser {
            id: dto::UserId(uuid::Uuid::new_v4()),
            tenant_id: tenant,
            email: "ops@acme.test".into(),
            display_name: None,
            password_hash: engine::auth::hash_password("a long operator password").expect("hash"),
            roles: vec!["admin".into()],
            active: true,
            created_at: now,
        },
    )
    .await
    .expect("admin");
    store::insert_connector(
        &mut conn,
        &NewConnector {
            id: connector,
            tenant_id: tenant,
            name: "HR Directory".into(),
            connector_type: "directory".into(),
            status: ConnectorStatus::Active,
            credentials_valid: true,
            settings: json!({}),
            created_at: now,
        },
    )
    .await
    .expect("connector");
    drop(conn);
    pool.close().await;
    let config = engine::EngineConfig {
        database_path,
        jwt_secret: Some(SECRET.to_owned()),
        fault_injection,
        ..engine::EngineConfig::default()
    };
    let engine = engine::Engine::open(&config, engine::QueueConfig::default())
        .await
        .expect("engine opens");
    let token = login(
        &engine.router(),
        tenant,
        "ops@acme.test",
        "a long operator password",
    )
    .await
    .access_token;
    (engine, token, tenant, connector, dir)
}

#[tokio::test]
async fn fault_injection_is_neither_offered_nor_open_without_demo_mode_or_the_setting() {
    let faults = json!({"offline": true, "error_rate": 0.5, "latency_ms": 100});
    let (engine, token, tenant, id, _dir) = plain_engine(false).await;
    let app = engine.router();
    let (status, _, body) = send(
        &app,
        get(&format!("/connectors/{id}"), Some(&token), Some(tenant)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let connector: Connector = serde_json::from_value(body).expect("a connector");
    assert!(
        !connector.supports(Connector::FAULT_INJECTION),
        "{connector:?}"
    );
    let path = format!("/connectors/{id}/settings");
    let (status, _, body) = send(&app, get(&path, Some(&token), Some(tenant))).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("ENGINE_FAULT_INJECTION")),
        "{body}"
    );
    let (status, _, body) =
        send(&app, with_body(Method::PUT, &path, &faults, &token, tenant)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let stored: String = sqlx::query_scalar("SELECT settings FROM connectors WHERE id = ?")
        .bind(id.to_string())
        .fetch_one(engine.pool())
        .await
        .expect("settings");
    assert_eq!(stored, "{}", "nothing changed");
    engine.shutdown().await;

    // Asked for explicitly, without demo mode: offered and open.
    let (engine, token, tenant, id, _dir) = plain_engine(true).await;
    let app = engine.router();
    let (_, _, body) = send(
        &app,
        get(&format!("/connectors/{id}"), Some(&token), Some(tenant)),
    )
    .await;
    let connector: Connector = serde_json::from_value(body).expect("a connector");
    assert!(
        connector.supports(Connector::FAULT_INJECTION),
        "{connector:?}"
    );
    let path = format!("/connectors/{id}/settings");
    let (status, _, body) =
        send(&app, with_body(Method::PUT, &path, &faults, &token, tenant)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "offline");
    engine.shutdown().await;
}
