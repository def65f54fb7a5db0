//! The client against a real embedded engine (temporary SQLite, real HTTP on loopback).

use client::{ApiClient, Caller, ClientError, Timeouts};
use dto::{enums::OperationStatus, ConnectorFilter, LoginRequest, LoginResponse, OperationQuery};

mod common;

use common::{engine, login};

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
    let err = api.login(demo.tenant_id, &bad, None).await.unwrap_err();
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
    let LoginResponse::Tokens(viewer) = api.login(demo.tenant_id, &viewer, None).await.unwrap()
    else {
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

#[tokio::test]
async fn a_reconciliation_round_trip() {
    use dto::{
        enums::{
            DiscrepancyType, ReconciliationMode, RemediationAction, RemediationDirection,
            ResolutionStatus,
        },
        ActionQuery, DiscrepancyQuery, PreviewRequest, RemediateRequest, TriggerRun,
    };

    let dir = tempfile::tempdir().unwrap();
    let running = engine(&dir).await;
    let demo = running.demo.clone().unwrap();
    let api = ApiClient::new(&running.base_url(), Timeouts::default()).unwrap();
    let tokens = login(&api, &demo).await;
    let caller = Caller {
        token: &tokens.access_token,
        tenant: demo.tenant_id,
    };
    let directory = api
        .list_connectors(caller)
        .await
        .unwrap()
        .connectors
        .into_iter()
        .find(|c| c.name == "Corporate Directory")
        .expect("the demo directory")
        .id;

    // A dry run, followed until the reconciler has finished it.
    let body = TriggerRun {
        mode: ReconciliationMode::Full,
        dry_run: true,
    };
    let started = api
        .start_reconciliation_run(caller, directory, &body)
        .await
        .unwrap();
    assert!(started.status.is_active() && started.is_dry_run());
    let mut run = started.clone();
    for _ in 0..200 {
        run = api
            .get_reconciliation_run(caller, directory, started.id)
            .await
            .unwrap();
        if !run.status.is_active() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(run.status.as_str(), "completed", "{run:?}");
    assert!(run.accounts_total > 0 && run.accounts_processed == run.accounts_total);
    let report = api
        .reconciliation_report(caller, directory, run.id)
        .await
        .unwrap();
    assert_eq!(report.run_id, run.id);
    assert_eq!(report.discrepancy_summary.total, run.discrepancies_found);

    // Its pending mismatches, a preview, and a dry-run remediation that changes nothing.
    let query = DiscrepancyQuery {
        run_id: Some(run.id),
        discrepancy_type: Some(DiscrepancyType::Mismatch),
        resolution_status: Some(ResolutionStatus::Pending),
        ..Default::default()
    };
    let mismatches = api
        .list_discrepancies(caller, directory, &query)
        .await
        .unwrap();
    let first = mismatches.discrepancies.first().expect("the demo's drift");
    assert!(mismatches
        .discrepancies
        .iter()
        .all(|d| d.run_id == run.id && d.connector_id == Some(directory)));
    let preview = api
        .preview_remediation(
            caller,
            directory,
            &PreviewRequest {
                discrepancy_ids: vec![first.id],
            },
        )
        .await
        .unwrap();
    assert_eq!(
        preview.previews[0].suggested_action,
        RemediationAction::Update
    );
    assert!(preview.previews[0].changes.is_some());
    let dry = RemediateRequest {
        action: RemediationAction::Update,
        direction: RemediationDirection::XavyoToTarget,
        identity_id: None,
        dry_run: true,
    };
    let result = api
        .remediate_discrepancy(caller, directory, first.id, &dry)
        .await
        .unwrap();
    assert!(result.success && result.dry_run, "{result:?}");
    let still = api
        .get_discrepancy(caller, directory, first.id)
        .await
        .unwrap();
    assert_eq!(still.resolution_status, ResolutionStatus::Pending);

    // The audit log has the dry run.
    let log = api
        .list_reconciliation_actions(
            caller,
            directory,
            &ActionQuery {
                discrepancy_id: Some(first.id),
                dry_run: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(log.actions.len(), 1);
    assert_eq!(log.actions[0].action_type, "update");

    running.shutdown().await;
}
