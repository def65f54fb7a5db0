//! `GET /connectors` and `GET /connectors/{id}`, tenant by tenant.

use axum::http::StatusCode;
use dto::{Connector, ConnectorList};
use engine::demo::{CLOUD_CRM, CORPORATE_DIRECTORY, LEGACY_HR, OTHER_DIRECTORY};
use enums::ConnectorStatus;

use crate::common::{assert_error, engine, get, login, send};

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
