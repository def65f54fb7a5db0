//! The BFF against a running embedded engine, over real HTTP: cookies, redirects, CSRF, 403, no token in HTML.

use std::sync::Arc;

use app::ssr::BffState;
use client::{ApiClient, Timeouts};
use leptos::prelude::LeptosOptions;
use reqwest::{header, redirect::Policy, StatusCode};
use server::{AppState, RefreshCoordinator};

struct Console {
    base: String,
    demo: engine::DemoLogin,
    _engine: engine::RunningEngine,
    _dir: tempfile::TempDir,
}

async fn console() -> Console {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine::start(engine::EngineConfig {
        database_path: dir.path().join("engine.db"),
        bind: "127.0.0.1:0".parse().unwrap(),
        jwt_secret: Some("bff-test-secret-bff-test-secret-0123456789".to_owned()),
        demo: true,
    })
    .await
    .unwrap();
    let options = LeptosOptions::builder()
        .output_name("console")
        .site_root("target/site")
        .build();
    let state = AppState {
        bff: BffState {
            leptos_options: options,
            api: ApiClient::new(&engine.base_url(), Timeouts::default()).unwrap(),
            secure_cookies: false,
            demo: None,
        },
        refresher: Arc::new(RefreshCoordinator::default()),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, server::router(state)).await });
    Console {
        base: format!("http://{addr}"),
        demo: engine.demo.clone().unwrap(),
        _engine: engine,
        _dir: dir,
    }
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

async fn sign_in(
    c: &Console,
    http: &reqwest::Client,
    email: &str,
    password: &str,
) -> reqwest::Response {
    http.post(format!("{}/api/login", c.base))
        .header(header::ORIGIN, &c.base)
        .form(&[
            ("email", email),
            ("password", password),
            ("tenant", &c.demo.tenant_id.to_string()),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn login_sets_httponly_cookies_and_pages_hold_no_token() {
    let c = console().await;
    let http = browser();

    // Signed out: a page sends us to login, keeping where we were going.
    let res = http
        .get(format!("{}/connectors/operations?status=failed", c.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res.headers()[header::LOCATION].to_str().unwrap();
    assert!(
        location.starts_with("/login?next=/connectors/operations"),
        "{location}"
    );

    let res = sign_in(&c, &http, &c.demo.email, &c.demo.password).await;
    assert!(
        res.status().is_success() || res.status().is_redirection(),
        "{}",
        res.status()
    );
    let cookies: Vec<String> = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    for cookie in &cookies {
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    }
    let access = cookies
        .iter()
        .find(|c| c.starts_with("console_access="))
        .unwrap();
    let token = access
        .trim_start_matches("console_access=")
        .split(';')
        .next()
        .unwrap()
        .to_owned();

    let res = http
        .get(format!("{}/connectors/operations?status=failed", c.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("'nonce-"),
        "{csp}"
    );
    assert_eq!(res.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let html = res.text().await.unwrap();
    assert!(html.contains("Queue statistics"));
    assert!(html.contains(r#"data-status="failed""#));
    assert!(!html.contains(r#"data-status="completed""#));
    assert!(
        !html.contains(&token),
        "the access token leaked into the page"
    );
    assert!(!html.contains(&c.demo.password));
}

#[tokio::test]
async fn mutations_need_our_origin() {
    let c = console().await;
    let http = browser();
    let res = http
        .post(format!("{}/api/login", c.base))
        .header(header::ORIGIN, "http://evil.example")
        .form(&[("email", "a@b.c"), ("password", "x"), ("tenant", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = http
        .post(format!("{}/api/login", c.base))
        .form(&[("email", "a@b.c")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn non_admin_gets_403_and_no_data() {
    let c = console().await;
    let http = browser();
    sign_in(&c, &http, &c.demo.viewer_email, &c.demo.viewer_password).await;
    let res = http
        .get(format!("{}/connectors/operations", c.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let html = res.text().await.unwrap();
    assert!(html.contains("administrators only"));
    assert!(!html.contains("data-status"));
}

#[tokio::test]
async fn upstream_down_is_a_clear_state() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = listener.local_addr().unwrap();
    drop(listener);
    let options = LeptosOptions::builder()
        .output_name("console")
        .site_root("target/site")
        .build();
    let state = AppState {
        bff: BffState {
            leptos_options: options,
            api: ApiClient::new(&format!("http://{dead}"), Timeouts::default()).unwrap(),
            secure_cookies: false,
            demo: None,
        },
        refresher: Arc::new(RefreshCoordinator::default()),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, server::router(state)).await });
    let http = browser();
    let res = http
        .get(format!("http://{addr}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let res = http
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = http
        .post(format!("http://{addr}/api/login"))
        .header(header::ORIGIN, format!("http://{addr}"))
        .header(header::ACCEPT, "application/json")
        .form(&[
            ("email", "admin@demo.local"),
            ("password", "x"),
            ("tenant", "00000000-0000-4000-8000-00000000d001"),
        ])
        .send()
        .await
        .unwrap();
    let body = res.text().await.unwrap();
    assert!(body.contains("Unavailable"), "{body}");
}
