//! The reconciliation methods over a real socket: the request each one sends (method, path, query, body), the
//! shapes it reads (ours and xavyo-idp's captured ones), and the start gate's refusals as typed errors.

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
};

use client::{ApiClient, Caller, ClientError, StartRefused, Timeouts};
use dto::{
    enums::{
        DiscrepancyType, ReconciliationMode, RemediationAction, RemediationDirection,
        ResolutionStatus,
    },
    ActionQuery, BulkItem, BulkRemediateRequest, ConnectorId, DiscrepancyId, DiscrepancyQuery,
    PreviewRequest, RemediateRequest, RunId, RunQuery, TenantId, TriggerRun, UserId,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};
use uuid::Uuid;

const CONNECTOR: ConnectorId = ConnectorId(Uuid::from_u128(0xc001));
const RUN: RunId = RunId(Uuid::from_u128(0x7001));
const DISCREPANCY: DiscrepancyId = DiscrepancyId(Uuid::from_u128(0xd001));

/// What the server saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    body: String,
}

/// A server answering every request with `status` and the JSON `body` (empty for none), recording what it got.
async fn serve(status: u16, body: &str) -> (ApiClient, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let body = body.to_owned();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut raw = Vec::new();
            let mut buf = [0u8; 4096];
            // Headers, then as many body bytes as Content-Length says.
            let (head, mut rest) = loop {
                let n = socket.read(&mut buf).await.unwrap_or(0);
                if n == 0 {
                    break (String::from_utf8_lossy(&raw).into_owned(), Vec::new());
                }
                raw.extend_from_slice(&buf[..n]);
                if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                    break (
                        String::from_utf8_lossy(&raw[..end]).into_owned(),
                        raw[end + 4..].to_vec(),
                    );
                }
            };
            let length = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())
                        .flatten()
                })
                .unwrap_or(0);
            while rest.len() < length {
                let n = socket.read(&mut buf).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                rest.extend_from_slice(&buf[..n]);
            }
            let mut request_line = head.lines().next().unwrap_or_default().split(' ');
            log.lock().unwrap().push(Seen {
                method: request_line.next().unwrap_or_default().to_owned(),
                target: request_line.next().unwrap_or_default().to_owned(),
                body: String::from_utf8_lossy(&rest).into_owned(),
            });
            let reply = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(reply.as_bytes()).await;
        }
    });
    let api = ApiClient::new(&format!("http://{addr}"), Timeouts::default()).unwrap();
    (api, seen)
}

fn caller() -> Caller<'static> {
    Caller {
        token: "t",
        tenant: TenantId(Uuid::nil()),
    }
}

fn last(seen: &Arc<Mutex<Vec<Seen>>>) -> Seen {
    seen.lock().unwrap().last().cloned().expect("a request")
}

fn captured(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../dto/tests/fixtures/xavyo-idp/captured")
        .join(format!("{name}.json"));
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    file["body"].to_string()
}

const PREFIX: &str = "/connectors/00000000-0000-0000-0000-00000000c001/reconciliation";

fn run_json() -> String {
    serde_json::json!({
        "id": RUN, "connector_id": CONNECTOR, "mode": "full", "dry_run": true, "status": "pending",
        "started_at": null, "completed_at": null, "accounts_total": 0, "accounts_processed": 0,
        "discrepancies_found": 0, "duration_seconds": null, "created_by": null, "error_message": null
    })
    .to_string()
}

#[tokio::test]
async fn run_routes_send_the_contract_requests() {
    let (api, seen) = serve(202, &run_json()).await;
    let body = TriggerRun {
        mode: ReconciliationMode::Full,
        dry_run: true,
    };
    let run = api
        .start_reconciliation_run(caller(), CONNECTOR, &body)
        .await
        .unwrap();
    assert_eq!(run.id, RUN);
    let s = last(&seen);
    assert_eq!(
        (s.method.as_str(), s.target.as_str()),
        ("POST", format!("{PREFIX}/runs").as_str())
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&s.body).unwrap(),
        serde_json::json!({"mode": "full", "dry_run": true})
    );

    api.get_reconciliation_run(caller(), CONNECTOR, RUN)
        .await
        .unwrap();
    assert_eq!(last(&seen).target, format!("{PREFIX}/runs/{RUN}"));
    api.pause_reconciliation_run(caller(), CONNECTOR, RUN)
        .await
        .unwrap();
    let s = last(&seen);
    assert_eq!(
        (s.method.as_str(), s.target),
        ("POST", format!("{PREFIX}/runs/{RUN}/pause"))
    );
    api.resume_reconciliation_run(caller(), CONNECTOR, RUN)
        .await
        .unwrap();
    assert_eq!(last(&seen).target, format!("{PREFIX}/runs/{RUN}/resume"));

    let (api, seen) = serve(204, "").await;
    api.cancel_reconciliation_run(caller(), CONNECTOR, RUN)
        .await
        .unwrap();
    let s = last(&seen);
    assert_eq!(
        (s.method.as_str(), s.target),
        ("POST", format!("{PREFIX}/runs/{RUN}/cancel"))
    );

    let list = serde_json::json!({"runs": [serde_json::from_str::<serde_json::Value>(&run_json()).unwrap()], "total": 1});
    let (api, seen) = serve(200, &list.to_string()).await;
    let query = RunQuery {
        limit: Some(1),
        ..Default::default()
    };
    let runs = api
        .list_reconciliation_runs(caller(), CONNECTOR, &query)
        .await
        .unwrap();
    assert_eq!((runs.total, runs.runs.len()), (1, 1));
    assert_eq!(last(&seen).target, format!("{PREFIX}/runs?limit=1"));

    let (api, seen) = serve(200, &captured("seeded_recon_run_report")).await;
    let report = api
        .reconciliation_report(caller(), CONNECTOR, RUN)
        .await
        .unwrap();
    assert!(report.discrepancy_summary.total > 0);
    assert_eq!(last(&seen).target, format!("{PREFIX}/runs/{RUN}/report"));
}

#[tokio::test]
async fn start_gate_refusals_keep_what_the_page_links_to() {
    let existing = Uuid::from_u128(0x7002);
    let deduped = serde_json::json!({"error": "deduped", "message": "a full run is already active", "existing_run_id": existing});
    let (api, _) = serve(409, &deduped.to_string()).await;
    let body = TriggerRun {
        mode: ReconciliationMode::Full,
        dry_run: false,
    };
    match api
        .start_reconciliation_run(caller(), CONNECTOR, &body)
        .await
    {
        Err(e) => assert_eq!(
            e.start_refused(),
            Some(StartRefused::Deduped {
                message: "a full run is already active".to_owned(),
                run: Some(RunId(existing)),
                operation: None,
            })
        ),
        other => panic!("{other:?}"),
    }

    let busy = serde_json::json!({"error": "scope_busy", "message": "a delta run holds the connector", "active": {"kind": "reconciliation_run", "id": existing}});
    let (api, _) = serve(409, &busy.to_string()).await;
    let err = api
        .start_reconciliation_run(caller(), CONNECTOR, &body)
        .await
        .unwrap_err();
    assert_eq!(
        err.start_refused(),
        Some(StartRefused::ScopeBusy {
            message: "a delta run holds the connector".to_owned(),
            run: Some(RunId(existing)),
            operation: None,
        })
    );
    let ClientError::Api { body: wire, .. } = err else {
        panic!("{err:?}")
    };
    assert_eq!(wire.error, "scope_busy");

    let blocked = serde_json::json!({"error": "blocked", "reason_code": "connector_offline", "message": "Corporate Directory is offline", "next_step": "Bring it back online, then start again."});
    let (api, _) = serve(422, &blocked.to_string()).await;
    let err = api
        .start_reconciliation_run(caller(), CONNECTOR, &body)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
    assert_eq!(
        err.start_refused(),
        Some(StartRefused::Blocked {
            message: "Corporate Directory is offline".to_owned(),
            reason_code: Some("connector_offline".to_owned()),
            next_step: Some("Bring it back online, then start again.".to_owned()),
        })
    );

    // xavyo-idp: a bare `conflict` while a run is going; it reads as scope_busy, its message kept.
    let (api, _) = serve(409, &captured("recon_run_trigger_again")).await;
    let err = api
        .start_reconciliation_run(caller(), CONNECTOR, &body)
        .await
        .unwrap_err();
    match err.start_refused() {
        Some(StartRefused::ScopeBusy {
            message,
            run: None,
            operation: None,
        }) => assert!(message.contains("already running"), "{message}"),
        other => panic!("{other:?}"),
    }
    // Other failures are not refusals.
    let (api, _) = serve(500, "").await;
    let err = api
        .start_reconciliation_run(caller(), CONNECTOR, &body)
        .await
        .unwrap_err();
    assert_eq!(err.start_refused(), None);
}

#[tokio::test]
async fn discrepancy_routes_send_the_contract_requests() {
    // xavyo-idp's captured list has no connector_id: the client fills it from the path.
    let (api, seen) = serve(200, &captured("seeded_recon_discrepancies")).await;
    let query = DiscrepancyQuery {
        run_id: Some(RUN),
        discrepancy_type: Some(DiscrepancyType::Mismatch),
        resolution_status: Some(ResolutionStatus::Pending),
        identity_id: Some(UserId(Uuid::from_u128(0xa1))),
        external_uid: Some("uid=jdoe,ou=people".to_owned()),
        limit: Some(100),
        offset: Some(0),
    };
    let list = api
        .list_discrepancies(caller(), CONNECTOR, &query)
        .await
        .unwrap();
    assert!(!list.discrepancies.is_empty());
    assert!(list
        .discrepancies
        .iter()
        .all(|d| d.connector_id == Some(CONNECTOR)));
    assert_eq!(
        last(&seen).target,
        format!(
            "{PREFIX}/discrepancies?run_id={RUN}&discrepancy_type=mismatch&resolution_status=pending\
             &identity_id=00000000-0000-0000-0000-0000000000a1&external_uid=uid%3Djdoe%2Cou%3Dpeople&limit=100&offset=0"
        )
    );

    let (api, seen) = serve(200, &captured("seeded_recon_discrepancy_get")).await;
    let one = api
        .get_discrepancy(caller(), CONNECTOR, DISCREPANCY)
        .await
        .unwrap();
    assert_eq!(one.connector_id, Some(CONNECTOR));
    assert_eq!(
        last(&seen).target,
        format!("{PREFIX}/discrepancies/{DISCREPANCY}")
    );

    let (api, seen) = serve(200, &captured("seeded_recon_discrepancy_remediate")).await;
    let body = RemediateRequest {
        action: RemediationAction::Update,
        direction: RemediationDirection::XavyoToTarget,
        identity_id: None,
        dry_run: false,
    };
    let result = api
        .remediate_discrepancy(caller(), CONNECTOR, DISCREPANCY, &body)
        .await
        .unwrap();
    assert!(result.success);
    let s = last(&seen);
    assert_eq!(
        (s.method.as_str(), s.target),
        (
            "POST",
            format!("{PREFIX}/discrepancies/{DISCREPANCY}/remediate")
        )
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&s.body).unwrap(),
        serde_json::json!({"action": "update", "direction": "xavyo_to_target", "dry_run": false})
    );

    let (api, seen) = serve(200, &captured("seeded_recon_discrepancies_bulk_remediate")).await;
    let body = BulkRemediateRequest {
        items: vec![BulkItem {
            discrepancy_id: DISCREPANCY,
            action: RemediationAction::Link,
            direction: RemediationDirection::XavyoToTarget,
            identity_id: Some(UserId(Uuid::from_u128(0xa1))),
        }],
        dry_run: true,
    };
    let bulk = api
        .bulk_remediate(caller(), CONNECTOR, &body)
        .await
        .unwrap();
    assert_eq!(bulk.total, bulk.results.len() as u64);
    let s = last(&seen);
    assert_eq!(s.target, format!("{PREFIX}/discrepancies/bulk-remediate"));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&s.body).unwrap()["items"][0]["identity_id"],
        "00000000-0000-0000-0000-0000000000a1"
    );

    let (api, seen) = serve(200, &captured("seeded_recon_discrepancy_preview")).await;
    let preview = api
        .preview_remediation(
            caller(),
            CONNECTOR,
            &PreviewRequest {
                discrepancy_ids: vec![DISCREPANCY],
            },
        )
        .await
        .unwrap();
    assert!(!preview.previews.is_empty());
    assert_eq!(
        last(&seen).target,
        format!("{PREFIX}/discrepancies/preview")
    );

    let (api, seen) = serve(204, "").await;
    api.ignore_discrepancy(caller(), CONNECTOR, DISCREPANCY)
        .await
        .unwrap();
    let s = last(&seen);
    assert_eq!(
        (s.method.as_str(), s.target),
        (
            "POST",
            format!("{PREFIX}/discrepancies/{DISCREPANCY}/ignore")
        )
    );
}

#[tokio::test]
async fn an_already_resolved_discrepancy_is_a_conflict_with_its_status() {
    let body = serde_json::json!({"error": "invalid_operation_state", "message": "the discrepancy is already resolved", "current_status": "resolved"});
    let (api, _) = serve(409, &body.to_string()).await;
    let request = RemediateRequest {
        action: RemediationAction::Update,
        direction: RemediationDirection::XavyoToTarget,
        identity_id: None,
        dry_run: false,
    };
    let err = api
        .remediate_discrepancy(caller(), CONNECTOR, DISCREPANCY, &request)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("invalid_operation_state"));
    let ClientError::Api { status: 409, body } = err else {
        panic!("{err:?}")
    };
    assert_eq!(body.current_status.as_deref(), Some("resolved"));
}

#[tokio::test]
async fn the_audit_log_reads_xavyo_entries_and_sends_its_filters() {
    let (api, seen) = serve(200, &captured("seeded_recon_actions")).await;
    let query = ActionQuery {
        discrepancy_id: Some(DISCREPANCY),
        action_type: Some("update".to_owned()),
        result: Some("success".to_owned()),
        dry_run: Some(false),
        limit: Some(20),
        offset: Some(40),
    };
    let list = api
        .list_reconciliation_actions(caller(), CONNECTOR, &query)
        .await
        .unwrap();
    assert!(!list.actions.is_empty());
    assert!(list
        .actions
        .iter()
        .all(|a| a.connector_id == Some(CONNECTOR)));
    assert_eq!(
        last(&seen).target,
        format!(
            "{PREFIX}/actions?discrepancy_id={DISCREPANCY}&action_type=update&result=success&dry_run=false&limit=20&offset=40"
        )
    );
}
