//! The conflict methods against a real embedded engine (temporary SQLite, real HTTP on loopback): the demo's
//! conflicts, which its worker detected, listed with filters, read one by one and resolved; a second
//! resolution and bad notes come back as typed errors.

use client::{ApiClient, Caller, ClientError, Timeouts};
use dto::{
    enums::{ConflictOutcome, ConflictType},
    ConflictId, ConflictQuery, ResolveConflict, MAX_CONFLICT_NOTES,
};
use uuid::Uuid;

mod common;

use common::{engine, login};

#[tokio::test]
async fn lists_reads_and_resolves_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let running = engine(&dir).await;
    let demo = running.demo.clone().expect("demo login");
    let api = ApiClient::new(&running.base_url(), Timeouts::default()).unwrap();
    let tokens = login(&api, &demo).await;
    let caller = Caller {
        token: &tokens.access_token,
        tenant: demo.tenant_id,
    };

    let all = api
        .list_conflicts(caller, &ConflictQuery::default())
        .await
        .unwrap();
    assert_eq!(
        (all.total, all.limit, all.offset),
        (Some(5), Some(20), Some(0))
    );
    let pending_query = ConflictQuery {
        pending_only: Some(true),
        ..ConflictQuery::default()
    };
    let pending = api.list_conflicts(caller, &pending_query).await.unwrap();
    assert_eq!(pending.total, Some(2));
    assert!(pending.conflicts.iter().all(|c| c.is_pending()));
    let missing = api
        .list_conflicts(
            caller,
            &ConflictQuery {
                conflict_type: Some(ConflictType::MissingTarget),
                ..ConflictQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(missing.total, Some(1));
    assert_eq!(
        missing.conflicts[0].kind(),
        Some(ConflictType::MissingTarget)
    );
    let page = api
        .list_conflicts(
            caller,
            &ConflictQuery {
                limit: Some(2),
                offset: Some(1),
                ..ConflictQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.conflicts, all.conflicts[1..3]);

    let target = pending.conflicts[0].clone();
    let of_operation = api
        .list_conflicts(
            caller,
            &ConflictQuery {
                operation_id: target.operation_id_b,
                ..ConflictQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(of_operation.conflicts, std::slice::from_ref(&target));
    assert_eq!(api.get_conflict(caller, target.id).await.unwrap(), target);

    // Notes over the limit: a typed validation error naming the field, and nothing changes.
    let long = ResolveConflict {
        outcome: ConflictOutcome::Merged,
        notes: Some("x".repeat(MAX_CONFLICT_NOTES + 1)),
    };
    let err = api
        .resolve_conflict(caller, target.id, &long)
        .await
        .unwrap_err();
    let ClientError::Api { status: 400, body } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(body.field.as_deref(), Some("notes"));
    assert!(api
        .get_conflict(caller, target.id)
        .await
        .unwrap()
        .is_pending());

    let resolution = ResolveConflict::new(ConflictOutcome::Merged, "Both changes kept");
    let resolved = api
        .resolve_conflict(caller, target.id, &resolution)
        .await
        .unwrap();
    assert_eq!(resolved.status, "resolved");
    assert_eq!(resolved.outcome, Some(ConflictOutcome::Merged));
    assert_eq!(resolved.notes.as_deref(), Some("Both changes kept"));
    assert!(resolved.resolved_by.is_some() && resolved.resolved_at.is_some());

    let err = api
        .resolve_conflict(caller, target.id, &resolution)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("invalid_operation_state"));
    let ClientError::Api { status: 409, body } = err else {
        panic!("{err:?}")
    };
    assert_eq!(body.current_status.as_deref(), Some("resolved"));

    let unknown = api
        .get_conflict(caller, ConflictId(Uuid::new_v4()))
        .await
        .unwrap_err();
    assert_eq!(unknown.status(), Some(404));

    running.shutdown().await;
}
