//! The BFF against a running embedded engine, over real HTTP: cookies, redirects, CSRF, 403, no token in HTML.

mod common;

use client::{ApiClient, Timeouts};
use common::serve_console;
use reqwest::{header, redirect::Policy, StatusCode};
use server::RefreshCoordinator;

struct Console {
    base: String,
    demo: engine::DemoLogin,
    _engine: engine::RunningEngine,
    _dir: tempfile::TempDir,
}

async fn console() -> Console {
    console_at(app::ssr::PublicSite::unconfigured()).await
}

/// A console that browsers reach at `site` (`PUBLIC_URL`).
async fn console_at(site: app::ssr::PublicSite) -> Console {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine::start(engine::EngineConfig {
        database_path: dir.path().join("engine.db"),
        bind: "127.0.0.1:0".parse().unwrap(),
        jwt_secret: Some("bff-test-secret-bff-test-secret-0123456789".to_owned()),
        demo: true,
        ..engine::EngineConfig::default()
    })
    .await
    .unwrap();
    let base = serve_console(&engine.base_url(), site).await;
    Console {
        base,
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

/// One console at a time in this process. Two tests' consoles alive at once (each on its own test runtime)
/// now and then left a page request unanswered for ever (about one run in four with two test threads, never
/// with one): something process-wide in the web stack outlives the runtime it was first used on. Serving one
/// console at a time is what production does (one runtime), and keeps this suite deterministic.
async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    SERIAL.lock().await
}

#[tokio::test]
async fn login_sets_httponly_cookies_and_pages_hold_no_token() {
    let _serial = serial().await;
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

    // A script's sign-in (no `Accept: text/html`): 200, and the page to go to in `Location`.
    let res = sign_in(&c, &http, &c.demo.email, &c.demo.password).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::LOCATION], "/connectors/operations");
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
    assert_eq!(
        res.headers()[header::CACHE_CONTROL],
        "no-store",
        "pages hold tenant data"
    );
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
    let _serial = serial().await;
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
    // A sandboxed frame or a privacy redirect sends `Origin: null`: not ours either.
    let res = http
        .post(format!("{}/api/login", c.base))
        .header(header::ORIGIN, "null")
        .form(&[("email", "a@b.c"), ("password", "x"), ("tenant", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

/// Behind a TLS-terminating proxy the console sees plain http and the proxy's `Host`: the configured public
/// URL decides which origin may post, and the session cookies are `__Host-`, `Secure`, with HSTS.
#[tokio::test]
async fn behind_a_tls_proxy_the_public_url_decides() {
    let _serial = serial().await;
    let public = "https://console.example.com";
    let c = console_at(app::ssr::PublicSite::parse(public).unwrap()).await;
    let http = browser();
    let form = [
        ("email", c.demo.email.as_str()),
        ("password", c.demo.password.as_str()),
        ("tenant", &c.demo.tenant_id.to_string()),
    ];

    // The browser's origin is the public one, whatever Host the proxy forwards.
    let res = http
        .post(format!("{}/api/login", c.base))
        .header(header::ORIGIN, public)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()[header::STRICT_TRANSPORT_SECURITY],
        "max-age=31536000"
    );
    let cookies: Vec<String> = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    for cookie in &cookies {
        assert!(cookie.starts_with("__Host-console_"), "{cookie}");
        assert!(cookie.contains("; Secure"), "{cookie}");
        assert!(cookie.contains("; Path=/"), "{cookie}");
        assert!(!cookie.contains("Domain"), "{cookie}");
    }
    // The prefixed cookie is the session (sent by hand: the test client keeps no Secure cookie over http).
    let session: Vec<&str> = cookies
        .iter()
        .map(|c| c.split(';').next().unwrap())
        .collect();
    let res = http
        .get(format!("{}/connectors/operations", c.base))
        .header(header::COOKIE, session.join("; "))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // The Host's own origin, the public host over http and `null` are all foreign now.
    for origin in [c.base.as_str(), "http://console.example.com", "null"] {
        let res = http
            .post(format!("{}/api/login", c.base))
            .header(header::ORIGIN, origin)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{origin}");
    }
}

#[tokio::test]
async fn non_admin_gets_403_and_no_data() {
    let _serial = serial().await;
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
    let _serial = serial().await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = listener.local_addr().unwrap();
    drop(listener);
    let addr = serve_console(
        &format!("http://{dead}"),
        app::ssr::PublicSite::unconfigured(),
    )
    .await;
    let http = browser();
    let res = http.get(format!("{addr}/readyz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let res = http.get(format!("{addr}/healthz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = http
        .post(format!("{addr}/api/login"))
        .header(header::ORIGIN, addr.clone())
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

/// An access token whose claims say it expired a minute ago (the BFF reads claims; the upstream checks
/// signatures, and only ever sees the refreshed token here).
fn expired_token(demo: &engine::DemoLogin) -> String {
    use base64::Engine as _;
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 60;
    let header = b64(serde_json::json!({"alg": "HS256", "typ": "JWT"}));
    let claims = b64(serde_json::json!({
        "sub": uuid::Uuid::nil(), "tid": demo.tenant_id, "roles": ["admin"], "email": demo.email, "exp": exp,
    }));
    format!("{header}.{claims}.c2ln")
}

/// The demo admin's token pair, straight from the engine, and a client for it.
async fn demo_tokens(c: &Console) -> (ApiClient, dto::TokenPair) {
    let api = ApiClient::new(&c._engine.base_url(), Timeouts::default()).unwrap();
    let body = dto::LoginRequest {
        email: c.demo.email.clone(),
        password: c.demo.password.clone(),
    };
    let dto::LoginResponse::Tokens(tokens) =
        api.login(c.demo.tenant_id, &body, None).await.unwrap()
    else {
        panic!("the demo admin needs no second factor")
    };
    (api, tokens)
}

#[tokio::test]
async fn an_expired_session_refreshes_once_for_concurrent_requests() {
    let _serial = serial().await;
    let c = console().await;
    let (_, tokens) = demo_tokens(&c).await;
    let cookie = format!(
        "console_access={}; console_refresh={}",
        expired_token(&c.demo),
        tokens.refresh_token
    );

    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let requests: Vec<_> = (0..6)
        .map(|_| {
            let request = http
                .get(format!("{}/connectors/operations", c.base))
                .header(header::COOKIE, cookie.clone());
            tokio::spawn(request.send())
        })
        .collect();
    let mut responses = Vec::new();
    for r in requests {
        responses.push(r.await.unwrap());
    }
    let mut new_refresh_tokens = std::collections::HashSet::new();
    for res in responses {
        let res = res.unwrap();
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "a concurrent request lost the refresh race"
        );
        for v in res.headers().get_all(header::SET_COOKIE) {
            let v = v.to_str().unwrap();
            if let Some(rest) = v.strip_prefix("console_refresh=") {
                new_refresh_tokens.insert(rest.split(';').next().unwrap().to_owned());
            }
        }
    }
    // One exchange upstream: every request got the same rotated refresh token.
    assert_eq!(new_refresh_tokens.len(), 1, "{new_refresh_tokens:?}");
    assert!(!new_refresh_tokens.contains(&tokens.refresh_token));

    // The old refresh token is dead upstream; a session holding only it goes back to login, path kept.
    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    let stale = format!("console_refresh={}", tokens.refresh_token);
    let fresh_console = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    // A second console (a fresh coordinator, so it really asks upstream) in front of the same engine.
    let other = serve_console(&c._engine.base_url(), app::ssr::PublicSite::unconfigured()).await;
    let res = fresh_console
        .get(format!("{other}/connectors/operations?status=failed"))
        .header(header::COOKIE, stale)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(res.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .starts_with("/login?next=/connectors/operations"));
    let cleared = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.to_str().unwrap().contains("Max-Age=0"));
    assert!(cleared, "the dead session's cookies are cleared");
}

#[tokio::test]
async fn missing_things_are_404_pages() {
    let _serial = serial().await;
    let c = console().await;
    let http = browser();
    sign_in(&c, &http, &c.demo.email, &c.demo.password).await;
    for path in [
        "/connectors/operations/not-a-uuid",
        "/connectors/operations/00000000-0000-4000-8000-0000000000ff",
        "/no/such/page",
    ] {
        let res = http.get(format!("{}{path}", c.base)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(
            res.text()
                .await
                .unwrap()
                .to_lowercase()
                .contains("not found"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_page_asked_for_with_bad_filters_is_a_400_naming_them() {
    let _serial = serial().await;
    let c = console().await;
    let http = browser();
    sign_in(&c, &http, &c.demo.email, &c.demo.password).await;
    for (path, named) in [
        ("/connectors/operations?status=bogus", "status"),
        ("/connectors/operations?limit=100000", "limit"),
        ("/connectors/operations/dlq?connector_id=nope", "connector"),
    ] {
        let res = http.get(format!("{}{path}", c.base)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path}");
        let html = res.text().await.unwrap().to_lowercase();
        assert!(
            html.contains("invalid request") && html.contains(named),
            "{path}: {html}"
        );
    }
}

/// The nonce of the page's first `<script nonce="…">`.
fn script_nonce(html: &str) -> Option<&str> {
    let start = html.find("<script")?;
    let rest = &html[start..];
    let value = &rest[rest.find("nonce=\"")? + 7..];
    Some(&value[..value.find('"')?])
}

#[tokio::test]
async fn every_html_answer_carries_the_page_policy_with_its_own_nonce() {
    let _serial = serial().await;
    let c = console().await;
    let http = browser();
    let res = sign_in(&c, &http, &c.demo.email, &c.demo.password).await;
    assert_eq!(res.status(), StatusCode::OK, "{:?}", res.headers());
    let csp = |res: &reqwest::Response| {
        res.headers()
            .get(header::CONTENT_SECURITY_POLICY)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    assert_eq!(
        csp(&res),
        "default-src 'none'; frame-ancestors 'none'",
        "{:?}",
        res.headers()
    );

    // Routes, the fallback's 404 page, an error page: every HTML body, whatever rendered it. Several times,
    // so that two responses sharing a nonce would show.
    let mut nonces = std::collections::HashSet::new();
    for _ in 0..3 {
        for path in [
            "/connectors/operations",
            "/connectors/operations?status=bogus",
            "/connectors/operations/not-a-uuid",
            "/no/such/page",
            "/login",
        ] {
            let res = http.get(format!("{}{path}", c.base)).send().await.unwrap();
            let policy = csp(&res);
            let body = res.text().await.unwrap();
            assert!(body.starts_with("<!DOCTYPE html>"), "{path}");
            let nonce = script_nonce(&body).unwrap_or_else(|| panic!("{path}: no script nonce"));
            assert!(
                policy.contains(&format!(
                    "script-src 'self' 'wasm-unsafe-eval' 'nonce-{nonce}'"
                )),
                "{path}: {policy}"
            );
            assert!(policy.contains("frame-ancestors 'none'"), "{path}");
            // Every style comes from the stylesheet: no inline style is allowed.
            assert!(policy.contains("style-src 'self';"), "{path}: {policy}");
            assert!(!policy.contains("unsafe-inline"), "{path}: {policy}");
            assert!(nonces.insert(nonce.to_owned()), "{path}: nonce reused");
        }
    }

    // Anything that is not a page may load nothing.
    for res in [
        http.get(format!("{}/healthz", c.base))
            .send()
            .await
            .unwrap(),
        http.get(format!("{}/readyz", c.base)).send().await.unwrap(),
        http.post(format!("{}/api/login", c.base))
            .header(header::ORIGIN, &c.base)
            .form(&[("email", "a@b.c"), ("password", "x"), ("tenant", "nope")])
            .send()
            .await
            .unwrap(),
    ] {
        assert_eq!(csp(&res), "default-src 'none'; frame-ancestors 'none'");
    }
}

#[tokio::test]
async fn a_plain_form_post_that_fails_goes_back_to_its_page_not_to_raw_json() {
    let _serial = serial().await;
    let c = console().await;
    let http = browser();
    let login_page = format!("{}/login?next=%2Fconnectors", c.base);
    let res = http
        .post(format!("{}/api/login", c.base))
        .header(header::ORIGIN, &c.base)
        .header(header::ACCEPT, "text/html,application/xhtml+xml")
        .header(header::REFERER, &login_page)
        .form(&[
            ("email", c.demo.email.as_str()),
            ("password", "wrong-password"),
            ("tenant", &c.demo.tenant_id.to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let location = res.headers()[header::LOCATION].to_str().unwrap();
    assert!(location.starts_with(&login_page), "{location}");
    assert!(
        location.len() > login_page.len(),
        "the error travels in the URL: {location}"
    );
    assert!(session_cookies_set(&res).is_empty());

    // Back on the form, the email and the tenant are still there; the password is not.
    let page = http
        .get(location)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!(r#"value="{}""#, c.demo.email)),
        "{page}"
    );
    assert!(page.contains(&format!(r#"value="{}""#, c.demo.tenant_id)));
    assert!(page.contains("The email, password or tenant is incorrect."));
    assert!(!page.contains("wrong-password"));
}

#[tokio::test]
async fn a_failed_refresh_is_not_remembered() {
    let _serial = serial().await;
    let c = console().await;
    let (api, tokens) = demo_tokens(&c).await;
    // The upstream is unreachable for a moment: that refresh fails...
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let down = ApiClient::new(
        &format!("http://{}", closed.local_addr().unwrap()),
        Timeouts::default(),
    )
    .unwrap();
    drop(closed);
    let coordinator = RefreshCoordinator::default();
    assert!(coordinator
        .refresh(&down, &tokens.refresh_token)
        .await
        .is_err());
    // ...and the next request, once it is back, refreshes for real instead of reusing the failure.
    let pair = coordinator
        .refresh(&api, &tokens.refresh_token)
        .await
        .expect("a failure must not be cached");
    assert_ne!(pair.refresh_token, tokens.refresh_token);
}

#[tokio::test]
async fn an_empty_login_form_names_the_missing_field() {
    let _serial = serial().await;
    let c = console().await;
    let res = browser()
        .post(format!("{}/api/login", c.base))
        .header(header::ORIGIN, &c.base)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["SignIn"], "email_missing", "{body}");
}

#[tokio::test]
async fn a_locked_account_is_told_when_to_come_back() {
    let _serial = serial().await;
    let c = console().await;
    let http = browser();
    for _ in 0..5 {
        let res = sign_in(&c, &http, &c.demo.email, "wrong-password").await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    }
    // The right password now: the engine's lockout, with the wait it names.
    let res = sign_in(&c, &http, &c.demo.email, &c.demo.password).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(session_cookies_set(&res).is_empty());
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["SignIn"]["locked_out"]["minutes"], 15, "{body}");
}

/// The engine counts failed sign-ins per address too; through the console, the address is the browser's
/// (here what the trusted proxy forwarded), not the console's own loopback address that every user shares.
#[tokio::test]
async fn failed_sign_ins_count_against_the_browser_address_not_the_console() {
    let _serial = serial().await;
    let c = console().await;
    let http = browser();
    let attempt = |from: &'static str, email: String, password: String| {
        let http = http.clone();
        let base = c.base.clone();
        let tenant = c.demo.tenant_id.to_string();
        async move {
            http.post(format!("{base}/api/login"))
                .header(header::ORIGIN, &base)
                .header("x-forwarded-for", from)
                .form(&[
                    ("email", email.as_str()),
                    ("password", password.as_str()),
                    ("tenant", tenant.as_str()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    // Twenty failures from one address, on twenty accounts (no account reaches its own limit).
    for i in 0..20 {
        let res = attempt("203.0.113.7", format!("nobody{i}@demo.local"), "x".into()).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    }
    let res = attempt("203.0.113.7", c.demo.email.clone(), c.demo.password.clone()).await;
    let body = res.text().await.unwrap();
    assert!(body.contains("locked_out"), "{body}");
    // Another browser behind the same console is not locked out by it.
    let res = attempt(
        "198.51.100.4",
        c.demo.email.clone(),
        c.demo.password.clone(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// The session cookies a response sets, as `name=value` (a clearing one has an empty value).
fn session_cookies_set(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .filter(|c| c.starts_with("console_access=") || c.starts_with("console_refresh="))
        .collect()
}

/// Refresh tokens the engine would still exchange.
async fn live_refresh_tokens(c: &Console) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM refresh_tokens WHERE revoked_at IS NULL")
        .fetch_one(c._engine.engine().pool())
        .await
        .unwrap()
}

/// A tab left open past the access cookie's 15 minutes sends only the refresh cookie. Signing out from it
/// revokes the session upstream and sets no cookie but the clearing ones (the session layer refreshed on
/// the way in; that pair must neither reach the browser nor stay live).
#[tokio::test]
async fn signing_out_of_an_idle_tab_signs_out() {
    let _serial = serial().await;
    let c = console().await;
    let (_, tokens) = demo_tokens(&c).await;
    assert_eq!(live_refresh_tokens(&c).await, 1);
    let res = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/api/logout", c.base))
        .header(header::ORIGIN, &c.base)
        .header(
            header::COOKIE,
            format!("console_refresh={}", tokens.refresh_token),
        )
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let cookies = session_cookies_set(&res);
    assert_eq!(
        cookies,
        ["console_access=", "console_refresh="],
        "only the clearing cookies"
    );
    assert_eq!(
        live_refresh_tokens(&c).await,
        0,
        "the session's live refresh token is revoked upstream"
    );
}

/// A refresh token the console has exchanged, presented again (replayed, or stolen), gets no session: the
/// console asks upstream again rather than handing out the pair it got, and the upstream ends the session.
#[tokio::test]
async fn a_rotated_refresh_token_presented_again_gets_no_session() {
    let _serial = serial().await;
    let c = console().await;
    let (_, tokens) = demo_tokens(&c).await;
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let page = |refresh: String| {
        http.get(format!("{}/connectors/operations", c.base))
            .header(header::COOKIE, format!("console_refresh={refresh}"))
            .send()
    };
    let res = page(tokens.refresh_token.clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let rotated = session_cookies_set(&res)
        .iter()
        .find_map(|c| c.strip_prefix("console_refresh=").map(str::to_owned))
        .expect("the refreshed pair is set");

    let res = page(tokens.refresh_token.clone()).await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "the replay opened a page"
    );
    assert_eq!(
        session_cookies_set(&res),
        ["console_access=", "console_refresh="],
        "the replay got cookies"
    );
    // The upstream saw the replay and ended the session: the rotated token is dead too.
    let res = page(rotated).await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(live_refresh_tokens(&c).await, 0);
}

/// DNS rebinding: a page of `rebind.evil.example`, whose name now points at 127.0.0.1, posts to the console
/// with its own (matching) `Host` and `Origin`. Without a public URL, only loopback names and the listening
/// address are served.
#[tokio::test]
async fn a_host_the_console_is_not_served_at_is_misdirected() {
    let _serial = serial().await;
    let c = console().await;
    let http = browser();
    let tenant = c.demo.tenant_id.to_string();
    let form = [
        ("email", c.demo.email.as_str()),
        ("password", c.demo.password.as_str()),
        ("tenant", tenant.as_str()),
    ];
    let evil = "rebind.evil.example:3000";
    let res = http
        .post(format!("{}/api/login", c.base))
        .header(header::HOST, evil)
        .header(header::ORIGIN, format!("http://{evil}"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::MISDIRECTED_REQUEST);
    assert!(res.headers().get(header::SET_COOKIE).is_none());
    let res = http
        .get(format!("{}/login", c.base))
        .header(header::HOST, evil)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::MISDIRECTED_REQUEST);
    // Probes name the container by its address; a health check answers whatever the Host.
    let res = http
        .get(format!("{}/healthz", c.base))
        .header(header::HOST, evil)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // Loopback names are served, whatever the port.
    let port = c.base.rsplit(':').next().unwrap();
    for host in [format!("localhost:{port}"), format!("[::1]:{port}")] {
        let res = http
            .post(format!("{}/api/login", c.base))
            .header(header::HOST, &host)
            .header(header::ORIGIN, format!("http://{host}"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{host}");
    }

    // With a public URL, its host is served and a rebinding one still is not.
    let public =
        console_at(app::ssr::PublicSite::parse("https://console.example.com").unwrap()).await;
    for (host, status) in [
        ("console.example.com", StatusCode::OK),
        ("rebind.evil.example", StatusCode::MISDIRECTED_REQUEST),
    ] {
        let res = http
            .get(format!("{}/login", public.base))
            .header(header::HOST, host)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{host}");
    }
}

/// `/login?__path=/api/login&__err=…`: anyone can write that URL, so the page shows its own sentence for a
/// code it knows and a generic one for anything else, never the URL's text.
#[tokio::test]
async fn the_login_page_shows_only_its_own_messages() {
    use base64::Engine as _;
    let _serial = serial().await;
    let c = console().await;
    let http = browser();
    let planted = "Your password expired. Reset it at https://evil.example/reset";
    let cases = [
        (
            serde_json::json!({"Validation": {"field": "password", "message": planted}}),
            "Sign-in failed. Try again.",
        ),
        (
            serde_json::json!({"Unavailable": planted}),
            "The provisioning service cannot be reached right now.",
        ),
        (
            serde_json::json!({"SignIn": "reset_at_evil_example"}),
            "Sign-in failed. Try again.",
        ),
        (
            serde_json::json!({"SignIn": "refused"}),
            "The email, password or tenant is incorrect.",
        ),
    ];
    for (error, shown) in cases {
        let err = base64::engine::general_purpose::URL_SAFE.encode(error.to_string());
        let res = http
            .get(format!("{}/login", c.base))
            .query(&[("__path", "/api/login"), ("__err", err.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let html = res.text().await.unwrap();
        assert!(html.contains(shown), "{error}: {html}");
        assert!(!html.contains("evil.example"), "{error}: {html}");
    }
}

/// The sign-in input rule of `dto` holds in the console before anything goes upstream (here there is no
/// upstream at all: an answer other than the field's refusal would say it was asked), and the form's inputs
/// carry the same limits.
#[tokio::test]
async fn oversized_sign_in_input_is_refused_before_the_upstream() {
    let _serial = serial().await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = listener.local_addr().unwrap();
    drop(listener);
    let base = serve_console(
        &format!("http://{dead}"),
        app::ssr::PublicSite::unconfigured(),
    )
    .await;
    let http = browser();
    let long_email = format!("{}@demo.local", "a".repeat(dto::MAX_EMAIL_CHARS));
    let long_password = "p".repeat(dto::MAX_PASSWORD_BYTES + 1);
    for (email, password, code) in [
        (long_email.as_str(), "x", "email_too_long"),
        (
            "admin@demo.local",
            long_password.as_str(),
            "password_too_long",
        ),
    ] {
        let res = http
            .post(format!("{base}/api/login"))
            .header(header::ORIGIN, &base)
            .form(&[
                ("email", email),
                ("password", password),
                ("tenant", "00000000-0000-4000-8000-00000000d001"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{code}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["SignIn"], code, "{body}");
    }
    let html = http
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!(r#"maxlength="{}""#, dto::MAX_EMAIL_CHARS)));
    assert!(html.contains(&format!(r#"maxlength="{}""#, dto::MAX_PASSWORD_BYTES)));
}

/// An access token whose claims the console cannot read (here: no tenant) sends the admin to the login page
/// with a message saying so, its cookies cleared; never a silent bounce to an empty form.
#[tokio::test]
async fn an_unreadable_token_is_said_on_the_login_page() {
    use base64::Engine as _;
    let _serial = serial().await;
    let c = console().await;
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    let token = format!(
        "{}.{}.c2ln",
        b64(serde_json::json!({"alg": "HS256", "typ": "JWT"})),
        b64(serde_json::json!({"sub": uuid::Uuid::nil(), "roles": ["admin"], "exp": exp}))
    );
    let http = browser();
    let res = http
        .get(format!("{}/connectors/operations", c.base))
        .header(header::COOKIE, format!("console_access={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        session_cookies_set(&res),
        ["console_access=", "console_refresh="]
    );
    let location = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("/login?next=/connectors/operations"),
        "{location}"
    );
    let html = http
        .get(format!("{}{location}", c.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("The console cannot read the session token"),
        "{html}"
    );
}
