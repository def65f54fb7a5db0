//! Every failure xavyo-idp was seen answering becomes one typed error with a message a person understands,
//! served over a real socket so the client's whole reading path runs.

use std::path::PathBuf;

use client::{ApiClient, Caller, ClientError, Timeouts};
use dto::{OperationQuery, TenantId};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

fn captured_dir() -> PathBuf {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dto/tests/fixtures/xavyo-idp/captured");
    assert!(dir.is_dir(), "fixtures missing at {}", dir.display());
    dir
}

/// A one-shot HTTP server answering every request with `status`, `content_type` and `body`;
/// status 0 closes the connection without answering, as xavyo-idp's stats endpoint does.
async fn serve(status: u16, content_type: &'static str, body: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = vec![0u8; 8192];
            let _ = socket.read(&mut buf).await;
            if status == 0 {
                drop(socket);
                continue;
            }
            let reply = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(reply.as_bytes()).await;
        }
    });
    format!("http://{addr}")
}

fn caller() -> Caller<'static> {
    Caller {
        token: "t",
        tenant: TenantId(uuid::Uuid::nil()),
    }
}

#[tokio::test]
async fn every_captured_failure_reads_as_a_clear_error() {
    let mut checked = 0;
    for entry in std::fs::read_dir(captured_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let file: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let status = file["status"].as_u64().unwrap() as u16;
        if (200..300).contains(&status) {
            continue;
        }
        let (content_type, body) = match &file["body"] {
            serde_json::Value::Null => ("text/plain", String::new()),
            serde_json::Value::String(s) if status != 0 => ("text/plain; charset=utf-8", s.clone()),
            serde_json::Value::String(_) => ("text/plain", String::new()),
            other => {
                let kind = if other.get("title").is_some() {
                    "application/problem+json"
                } else {
                    "application/json"
                };
                (kind, other.to_string())
            }
        };
        let base = serve(status, content_type, body).await;
        let api = ApiClient::new(&base, Timeouts::default()).unwrap();
        let err = api
            .list_operations(caller(), &OperationQuery::default())
            .await
            .unwrap_err();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        match (&err, status) {
            (ClientError::Unavailable(msg), 0) => assert!(!msg.is_empty(), "{name}"),
            (ClientError::Api { status: got, body }, _) => {
                assert_eq!(*got, status, "{name}");
                assert!(!body.error.is_empty(), "{name}: no code");
                assert!(!body.message.trim().is_empty(), "{name}: no message");
                assert!(
                    body.message.len() <= 310,
                    "{name}: message too long for people"
                );
            }
            _ => panic!("{name}: unexpected {err:?}"),
        }
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} failing captures found");
}

#[tokio::test]
async fn connection_refused_and_timeouts_are_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let api = ApiClient::new(&format!("http://{addr}"), Timeouts::default()).unwrap();
    let err = api
        .operation_stats(caller(), &Default::default())
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Unavailable(_)), "{err:?}");

    // Accepts, reads, never answers.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let timeouts = Timeouts {
        connect: std::time::Duration::from_millis(200),
        request: std::time::Duration::from_millis(300),
    };
    let api = ApiClient::new(&format!("http://{addr}"), timeouts).unwrap();
    let err = api
        .operation_stats(caller(), &Default::default())
        .await
        .unwrap_err();
    assert_eq!(err, ClientError::Timeout);
}

#[tokio::test]
async fn a_success_with_an_unreadable_body_is_a_decode_error() {
    let base = serve(
        200,
        "application/json",
        r#"{"operations": "nope"}"#.to_owned(),
    )
    .await;
    let api = ApiClient::new(&base, Timeouts::default()).unwrap();
    let err = api
        .list_operations(caller(), &OperationQuery::default())
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Decode(_)), "{err:?}");
}
