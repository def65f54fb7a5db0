//! `engine::start` over real TCP: serving, restarts, the kept signing secret, and the demo seed's guard.

use std::{
    io::{Read, Write},
    net::SocketAddr,
    os::unix::fs::PermissionsExt,
    path::Path,
};

use chrono::Utc;
use engine::{store, EngineConfig, EngineError, QueueConfig};

/// One HTTP/1.1 exchange on a fresh connection; answers the status and the body.
async fn http(addr: SocketAddr, request: String) -> (u16, String) {
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).expect("connects");
        stream.write_all(request.as_bytes()).expect("writes");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("reads");
        let status = answer
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .expect("a status line");
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    })
    .await
    .expect("the exchange ran")
}

fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> String {
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: engine\r\nConnection: close\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str(&format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    text
}

#[tokio::test]
async fn serves_restarts_on_the_same_file_and_keeps_tokens_valid() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = EngineConfig {
        database_path: dir.path().join("nested/engine.db"),
        demo: true,
        ..EngineConfig::default()
    };

    let first = engine::start(config.clone()).await.expect("starts");
    assert_eq!(first.addr.ip().to_string(), "127.0.0.1");
    assert_ne!(first.addr.port(), 0);
    assert_eq!(first.base_url(), format!("http://{}", first.addr));
    let demo = first.demo.clone().expect("demo credentials");
    assert_eq!(
        demo.tenant_id.to_string(),
        "00000000-0000-4000-8000-00000000d001"
    );
    assert_eq!(
        demo.other_tenant_id.to_string(),
        "00000000-0000-4000-8000-00000000d002"
    );
    assert_eq!(
        (demo.email.as_str(), demo.password.as_str()),
        ("admin@demo.local", "demo-admin-pass")
    );
    assert_eq!(
        (demo.viewer_email.as_str(), demo.viewer_password.as_str()),
        ("viewer@demo.local", "demo-viewer-pass")
    );
    assert!(
        !format!("{demo:?}").contains("demo-admin-pass"),
        "Debug hides passwords"
    );

    let (status, body) = http(first.addr, request("GET", "/healthz", &[], "")).await;
    assert_eq!(status, 200, "{body}");
    let tenant = demo.tenant_id.to_string();
    let login = format!(
        r#"{{"email":"{}","password":"{}"}}"#,
        demo.email, demo.password
    );
    let (status, body) = http(
        first.addr,
        request("POST", "/auth/login", &[("X-Tenant-ID", &tenant)], &login),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let pair: dto::TokenPair = serde_json::from_str(&body).expect("a token pair");
    let bearer = format!("Bearer {}", pair.access_token);
    let list_request = request(
        "GET",
        "/operations?limit=1",
        &[("Authorization", &bearer), ("X-Tenant-ID", &tenant)],
        "",
    );
    let (status, body) = http(first.addr, list_request.clone()).await;
    assert_eq!(status, 200, "{body}");
    let before: dto::OperationList = serde_json::from_str(&body).expect("an operation list");
    first.shutdown().await;

    // Same file again: not seeded twice, same credentials, and the token signed before still holds.
    let second = engine::start(config).await.expect("restarts");
    assert_eq!(second.demo.as_ref(), Some(&demo));
    let (status, body) = http(second.addr, list_request).await;
    assert_eq!(status, 200, "the generated secret was kept: {body}");
    let after: dto::OperationList = serde_json::from_str(&body).expect("an operation list");
    assert_eq!(after.total, before.total);
    second.shutdown().await;
}

#[tokio::test]
async fn a_configured_secret_must_be_long_enough() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = EngineConfig {
        database_path: dir.path().join("engine.db"),
        jwt_secret: Some("short".into()),
        ..EngineConfig::default()
    };
    assert!(
        !format!("{config:?}").contains("short"),
        "Debug hides the secret"
    );
    assert!(matches!(
        engine::start(config).await,
        Err(EngineError::Config(_))
    ));
}

#[tokio::test]
async fn the_demo_seed_refuses_a_database_with_real_tenants() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_path = dir.path().join("engine.db");
    let pool = engine::open_database(&database_path).await.expect("opens");
    let mut conn = pool.acquire().await.expect("connection");
    let tenant = store::NewTenant {
        id: dto::TenantId(uuid::Uuid::new_v4()),
        name: "Real".into(),
        created_at: Utc::now(),
    };
    store::insert_tenant(&mut conn, &tenant)
        .await
        .expect("inserted");
    drop(conn);
    pool.close().await;
    let config = EngineConfig {
        database_path,
        demo: true,
        ..EngineConfig::default()
    };
    assert!(matches!(
        engine::Engine::open(&config, QueueConfig::default()).await,
        Err(EngineError::Config(_))
    ));
}

#[tokio::test]
async fn the_demo_is_seeded_and_listening_within_seconds() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = EngineConfig {
        database_path: dir.path().join("engine.db"),
        demo: true,
        ..EngineConfig::default()
    };
    let started = std::time::Instant::now();
    let running = engine::start(config).await.expect("starts");
    let elapsed = started.elapsed();
    // Generous for a loaded 2-core debug build; a release build starts in a fraction of this.
    assert!(elapsed.as_secs_f64() < 5.0, "starting took {elapsed:?}");
    let operations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM operations")
        .fetch_one(running.engine().pool())
        .await
        .expect("counts");
    assert_eq!(operations, 334);
    running.shutdown().await;
}

#[tokio::test]
async fn a_fresh_demo_seed_ignores_a_directory_left_from_an_old_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_path = dir.path().join("engine.db");
    let config = EngineConfig {
        database_path: database_path.clone(),
        demo: true,
        ..EngineConfig::default()
    };
    engine::start(config.clone())
        .await
        .expect("starts")
        .shutdown()
        .await;
    for suffix in ["", "-wal", "-shm"] {
        let file = dir.path().join(format!("engine.db{suffix}"));
        if file.exists() {
            std::fs::remove_file(file).expect("removed");
        }
    }
    assert!(dir.path().join("engine.directory.db").exists());
    let again = engine::start(config).await.expect("seeds again");
    let operations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM operations")
        .fetch_one(again.engine().pool())
        .await
        .expect("counts");
    assert_eq!(operations, 334);
    again.shutdown().await;
}

#[tokio::test]
async fn an_address_spraying_passwords_is_locked_out_over_tcp() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = EngineConfig {
        database_path: dir.path().join("engine.db"),
        demo: true,
        ..EngineConfig::default()
    };
    let running = engine::start(config).await.expect("starts");
    let tenant = engine::demo::DEMO_TENANT.to_string();
    let login = |email: &str, password: &str, from: &str| {
        request(
            "POST",
            "/auth/login",
            &[("X-Tenant-ID", &tenant), ("X-Forwarded-For", from)],
            &format!(r#"{{"email":"{email}","password":"{password}"}}"#),
        )
    };
    // One address tries a wrong password on twenty different accounts (none reaches its own limit).
    for n in 0..20 {
        let (status, _) = http(
            running.addr,
            login(&format!("user{n}@demo.local"), "guess", "203.0.113.7"),
        )
        .await;
        assert_eq!(status, 401);
    }
    // Now even the right password from that address is refused, with Retry-After.
    let answer = tokio::task::spawn_blocking({
        let addr = running.addr;
        let text = login("admin@demo.local", "demo-admin-pass", "203.0.113.7");
        move || {
            let mut stream = std::net::TcpStream::connect(addr).expect("connects");
            stream.write_all(text.as_bytes()).expect("writes");
            let mut answer = String::new();
            stream.read_to_string(&mut answer).expect("reads");
            answer
        }
    })
    .await
    .expect("ran");
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    let retry: u64 = answer
        .lines()
        .find_map(|l| {
            l.to_lowercase()
                .strip_prefix("retry-after: ")
                .map(str::to_owned)
        })
        .and_then(|v| v.trim().parse().ok())
        .expect("Retry-After");
    assert!((800..=900).contains(&retry), "{answer}");
    assert!(answer.contains("try again in 15 minutes"), "{answer}");
    // Another address signs in to the same account.
    let (status, body) = http(
        running.addr,
        login("admin@demo.local", "demo-admin-pass", "198.51.100.2"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    running.shutdown().await;
}

/// The permission bits, in octal as `ls` and `chmod` spell them.
fn mode(path: &Path) -> String {
    let metadata = std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    format!("{:o}", metadata.permissions().mode() & 0o777)
}

/// The engine's files as they are while it runs: both databases with their write-ahead logs and indexes.
const FILES: [&str; 6] = [
    "engine.db",
    "engine.db-wal",
    "engine.db-shm",
    "engine.directory.db",
    "engine.directory.db-wal",
    "engine.directory.db-shm",
];

#[tokio::test]
async fn the_data_folder_is_0700_and_every_database_file_0600() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let config = EngineConfig {
        database_path: data.join("engine.db"),
        demo: true,
        ..EngineConfig::default()
    };
    // The demo seed has written both databases by the time the engine serves.
    let running = engine::start(config.clone()).await.expect("starts");
    assert_eq!(mode(&data), "700", "data folder");
    for file in FILES {
        assert_eq!(mode(&data.join(file)), "600", "{file}");
    }
    running.shutdown().await;

    // Found looser (an older engine, a copy): tightened at the next start.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    for file in FILES {
        let path = data.join(file);
        if path.exists() {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        }
    }
    let running = engine::start(config).await.expect("restarts");
    assert_eq!(mode(&data), "700", "data folder");
    for file in FILES {
        assert_eq!(mode(&data.join(file)), "600", "{file}");
    }
    running.shutdown().await;
}

/// Opens the engine on `database_path` without demo mode; answers the refusal's message, if refused.
async fn refusal_without_demo(database_path: &Path) -> Option<String> {
    let config = EngineConfig {
        database_path: database_path.to_owned(),
        ..EngineConfig::default()
    };
    match engine::Engine::open(&config, QueueConfig::default()).await {
        Ok(engine) => {
            engine.shutdown().await;
            None
        }
        Err(EngineError::Config(message)) => Some(message),
        Err(other) => panic!("unexpected error: {other}"),
    }
}

#[tokio::test]
async fn a_database_holding_the_demo_data_is_refused_without_demo_mode_even_copied() {
    let dir = tempfile::tempdir().expect("temp dir");
    let seeded = dir.path().join("engine.db");
    let config = EngineConfig {
        database_path: seeded.clone(),
        demo: true,
        ..EngineConfig::default()
    };
    engine::start(config.clone())
        .await
        .expect("seeds")
        .shutdown()
        .await;

    let message = refusal_without_demo(&seeded).await.expect("refused");
    assert!(
        message.contains("holds the demo data") && message.contains("--demo"),
        "{message}"
    );
    // Copied elsewhere under another name, it is still the demo data.
    let copy = dir.path().join("elsewhere/prod.db");
    std::fs::create_dir_all(copy.parent().expect("folder")).expect("folder");
    std::fs::copy(&seeded, &copy).expect("copied");
    assert!(refusal_without_demo(&copy).await.is_some(), "the copy");
    // Seeded before the seed marked it (no mark, the demo tenant): refused too.
    let pool = engine::open_database(&copy).await.expect("opens");
    sqlx::query("DELETE FROM settings WHERE key = 'demo_data'")
        .execute(&pool)
        .await
        .expect("unmarked");
    pool.close().await;
    assert!(
        refusal_without_demo(&copy).await.is_some(),
        "an unmarked seed"
    );
    // Demo mode still opens it, and marks it again.
    engine::start(EngineConfig {
        database_path: copy.clone(),
        demo: true,
        ..EngineConfig::default()
    })
    .await
    .expect("demo mode opens it")
    .shutdown()
    .await;
    let pool = engine::open_database(&copy).await.expect("opens");
    assert!(store::holds_demo_data(&pool).await.expect("reads"));
    pool.close().await;

    // A database without demo data starts without demo mode, again and again.
    let plain = dir.path().join("plain/engine.db");
    assert_eq!(refusal_without_demo(&plain).await, None);
    assert_eq!(refusal_without_demo(&plain).await, None);
}
