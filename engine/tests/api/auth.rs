//! Login, refresh rotation, logout, and the guard on every other route.

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use dto::{Audience, Claims, TenantId, UserId};
use engine::{
    auth::{hash_password, TokenKeys},
    store::{self, NewUser, UserRecord},
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::json;

use crate::common::{assert_error, engine, get, login, post, send, SECRET};

#[tokio::test]
async fn login_answers_a_bearer_pair_with_the_right_claims() {
    let e = engine().await;
    let pair = login(&e.app, e.demo.tenant_id, &e.demo.email, &e.demo.password).await;
    assert_eq!(pair.token_type, "Bearer");
    assert_eq!(pair.expires_in, 900);
    assert!(!pair.refresh_token.is_empty());

    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<Claims>(
        &pair.access_token,
        &DecodingKey::from_secret(SECRET.as_bytes()),
        &validation,
    )
    .expect("an HS256 token signed with the engine's secret")
    .claims;
    assert_eq!(claims.tid, e.demo.tenant_id);
    assert_eq!(claims.sub, engine::demo::DEMO_ADMIN);
    assert_eq!(claims.email, "admin@demo.local");
    assert_eq!(claims.roles, vec!["admin".to_owned()]);
    assert_eq!(claims.exp - claims.iat, 900);
    assert!((claims.iat - Utc::now().timestamp()).abs() < 60);
    assert!(claims.jti.is_some_and(|j| !j.is_empty()));
}

#[tokio::test]
async fn email_is_case_insensitive() {
    let e = engine().await;
    login(
        &e.app,
        e.demo.tenant_id,
        "Admin@Demo.Local",
        &e.demo.password,
    )
    .await;
}

#[tokio::test]
async fn bad_credentials_are_401_json() {
    let e = engine().await;
    let tenant = Some(e.demo.tenant_id);
    for body in [
        json!({ "email": e.demo.email, "password": "wrong" }),
        json!({ "email": "nobody@demo.local", "password": e.demo.password }),
    ] {
        let (status, content_type, body) = send(&e.app, post("/auth/login", body, tenant)).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
        assert_eq!(content_type.as_deref(), Some("application/json"));
    }
    // The right password, but in a tenant where the account does not exist.
    let body = json!({ "email": e.demo.email, "password": e.demo.password });
    let (status, _, body) = send(
        &e.app,
        post("/auth/login", body, Some(e.demo.other_tenant_id)),
    )
    .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn login_needs_the_tenant_header_and_a_json_body() {
    let e = engine().await;
    let body = json!({ "email": e.demo.email, "password": e.demo.password });
    let (status, _, answer) = send(&e.app, post("/auth/login", body, None)).await;
    assert_error(status, &answer, StatusCode::BAD_REQUEST, "validation_error");
    assert_eq!(answer["field"], "X-Tenant-ID");

    let (status, _, answer) = send(
        &e.app,
        post("/auth/login", json!({ "email": 1 }), Some(e.demo.tenant_id)),
    )
    .await;
    assert_error(status, &answer, StatusCode::BAD_REQUEST, "validation_error");
    assert_eq!(answer["field"], "body");
}

#[tokio::test]
async fn input_past_the_sign_in_limits_is_400_before_the_throttle_counts_it() {
    let e = engine().await;
    let throttle = e.engine.state().throttle();
    let attempt = |email: String, password: String| {
        post(
            "/auth/login",
            json!({ "email": email, "password": password }),
            Some(e.demo.tenant_id),
        )
    };
    // 1.5 MB of email: refused by the route's body limit before anything is parsed.
    let huge = format!("{}@demo.local", "a".repeat(1_500_000));
    let (status, _, body) = send(&e.app, attempt(huge, "wrong".into())).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "validation_error");
    assert_eq!(body["field"], "body");
    // Past the limits but within the body limit: the field is named.
    let long_email = format!("{}@demo.local", "a".repeat(250));
    let (status, _, body) = send(&e.app, attempt(long_email, "wrong".into())).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "validation_error");
    assert_eq!(body["field"], "email");
    let (status, _, body) = send(&e.app, attempt(e.demo.email.clone(), "p".repeat(1025))).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "validation_error");
    assert_eq!(body["field"], "password");
    assert_eq!(throttle.tracked(), 0, "nothing was counted");
    // At the limits, a wrong password is a counted failure like any other.
    let (status, _, body) = send(&e.app, attempt(e.demo.email.clone(), "p".repeat(1024))).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(throttle.tracked(), 1);
}

#[tokio::test]
async fn a_disabled_account_is_403_after_a_right_password_only() {
    let e = engine().await;
    let mut conn = e.pool.acquire().await.expect("connection");
    store::insert_user(
        &mut conn,
        &NewUser {
            id: UserId(uuid::Uuid::new_v4()),
            tenant_id: e.demo.tenant_id,
            email: "gone@demo.local".into(),
            display_name: None,
            password_hash: hash_password("old-pass").expect("hashes"),
            roles: vec!["admin".into()],
            active: false,
            created_at: Utc::now(),
        },
    )
    .await
    .expect("user inserted");
    let tenant = Some(e.demo.tenant_id);
    let (status, _, body) = send(
        &e.app,
        post(
            "/auth/login",
            json!({ "email": "gone@demo.local", "password": "old-pass" }),
            tenant,
        ),
    )
    .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, _, body) = send(
        &e.app,
        post(
            "/auth/login",
            json!({ "email": "gone@demo.local", "password": "guess" }),
            tenant,
        ),
    )
    .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token() {
    let e = engine().await;
    let first = login(&e.app, e.demo.tenant_id, &e.demo.email, &e.demo.password).await;

    let (status, _, body) = send(
        &e.app,
        post(
            "/auth/refresh",
            json!({ "refresh_token": first.refresh_token }),
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second: dto::TokenPair = serde_json::from_value(body).expect("a token pair");
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_ne!(second.access_token, first.access_token);
    assert_eq!(second.expires_in, 900);

    let (status, body) = e.admin_get(&second.access_token, "/connectors").await;
    assert_eq!(status, StatusCode::OK, "the new access token works: {body}");

    let (status, _, body) = send(
        &e.app,
        post(
            "/auth/refresh",
            json!({ "refresh_token": second.refresh_token }),
            None,
        ),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the new refresh token works once: {body}"
    );

    let (status, _, body) = send(
        &e.app,
        post("/auth/refresh", json!({ "refresh_token": "made-up" }), None),
    )
    .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
}

async fn refresh(e: &crate::common::TestEngine, token: &str) -> (StatusCode, serde_json::Value) {
    let (status, _, body) = send(
        &e.app,
        post("/auth/refresh", json!({ "refresh_token": token }), None),
    )
    .await;
    (status, body)
}

#[tokio::test]
async fn a_reused_refresh_token_ends_its_whole_session() {
    let e = engine().await;
    let first = login(&e.app, e.demo.tenant_id, &e.demo.email, &e.demo.password).await;
    let (status, body) = refresh(&e, &first.refresh_token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second: dto::TokenPair = serde_json::from_value(body).expect("a pair");
    // Someone presents the rotated token again (a thief, or a replay): 401, and the legitimate successor dies
    // with it.
    let (status, body) = refresh(&e, &first.refresh_token).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    let (status, body) = refresh(&e, &second.refresh_token).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    // Another session of the same user is untouched.
    let other = login(&e.app, e.demo.tenant_id, &e.demo.email, &e.demo.password).await;
    let (status, body) = refresh(&e, &other.refresh_token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_session_ends_twelve_hours_after_sign_in_however_often_refreshed() {
    let e = engine().await;
    let first = login(&e.app, e.demo.tenant_id, &e.demo.email, &e.demo.password).await;
    let (status, body) = refresh(&e, &first.refresh_token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second: dto::TokenPair = serde_json::from_value(body).expect("a pair");
    // The login was 13 hours ago; the live token was issued a minute ago and has not expired.
    let long_ago = engine::store::ts(Utc::now() - Duration::hours(13));
    sqlx::query("UPDATE refresh_tokens SET issued_at = ? WHERE replaced_by IS NOT NULL")
        .bind(&long_ago)
        .execute(&e.pool)
        .await
        .expect("backdated");
    let (status, body) = refresh(&e, &second.refresh_token).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("session is over")),
        "{body}"
    );
}

#[tokio::test]
async fn a_disabled_users_refresh_is_refused() {
    let e = engine().await;
    let pair = login(&e.app, e.demo.tenant_id, &e.demo.email, &e.demo.password).await;
    sqlx::query("UPDATE users SET active = 0 WHERE id = ?")
        .bind(engine::demo::DEMO_ADMIN.to_string())
        .execute(&e.pool)
        .await
        .expect("disabled");
    let (status, body) = refresh(&e, &pair.refresh_token).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn logout_kills_the_refresh_token() {
    let e = engine().await;
    let pair = login(&e.app, e.demo.tenant_id, &e.demo.email, &e.demo.password).await;
    let token = json!({ "refresh_token": pair.refresh_token });
    let (status, _, body) = send(&e.app, post("/auth/logout", token.clone(), None)).await;
    assert_eq!(
        (status, body),
        (StatusCode::NO_CONTENT, serde_json::Value::Null)
    );
    let (status, _, body) = send(&e.app, post("/auth/refresh", token.clone(), None)).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    let (status, _, _) = send(&e.app, post("/auth/logout", token, None)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "logging out twice is fine");
}

#[tokio::test]
async fn no_or_bad_token_is_401_json() {
    let e = engine().await;
    let tenant = Some(e.demo.tenant_id);
    for path in [
        "/operations",
        "/operations/stats",
        "/connectors",
        "/connectors/00000000-0000-4000-8000-00000000c001",
    ] {
        let (status, content_type, body) = send(&e.app, get(path, None, tenant)).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
        assert_eq!(content_type.as_deref(), Some("application/json"), "{path}");
        let (status, _, body) = send(&e.app, get(path, Some("not.a.jwt"), tenant)).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    }
    // Auth comes before validation: a bad query without a token is still 401.
    let (status, _, body) = send(&e.app, get("/operations?status=bogus", None, tenant)).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn forged_and_expired_tokens_are_401() {
    let e = engine().await;
    let admin = UserRecord {
        id: engine::demo::DEMO_ADMIN,
        tenant_id: e.demo.tenant_id,
        email: e.demo.email.clone(),
        password_hash: String::new(),
        roles: vec!["admin".into()],
        active: true,
    };
    let forged = TokenKeys::new("someone-else's-secret-of-32-chars!!")
        .issue(&admin, Utc::now())
        .expect("signs");
    let expired = TokenKeys::new(SECRET)
        .issue(&admin, Utc::now() - Duration::hours(2))
        .expect("signs");
    for token in [forged, expired] {
        let (status, body) = e.admin_get(&token, "/connectors").await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    }
}

#[tokio::test]
async fn a_token_for_another_audience_or_from_another_issuer_is_401() {
    let e = engine().await;
    let now = Utc::now().timestamp();
    let claims = |iss: Option<&str>, aud: Option<&str>| Claims {
        sub: engine::demo::DEMO_ADMIN,
        tid: e.demo.tenant_id,
        roles: vec!["admin".into()],
        email: e.demo.email.clone(),
        exp: now + 600,
        iat: now,
        jti: None,
        iss: iss.map(str::to_owned),
        aud: aud.map(Audience::one).unwrap_or_default(),
    };
    let sign = |c: &Claims| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(Algorithm::HS256),
            c,
            &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .expect("signs")
    };
    let (iss, aud) = (engine::auth::TOKEN_ISSUER, engine::auth::TOKEN_AUDIENCE);
    // The same secret, the right claims: accepted (so the refusals below are about iss and aud alone).
    let (status, body) = e
        .admin_get(&sign(&claims(Some(iss), Some(aud))), "/connectors")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for wrong in [
        claims(Some(iss), Some("another-api")),
        claims(Some("https://evil.example"), Some(aud)),
        claims(None, Some(aud)),
        claims(Some(iss), None),
    ] {
        let (status, body) = e.admin_get(&sign(&wrong), "/connectors").await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    }
}

#[tokio::test]
async fn the_tenant_header_must_match_the_token() {
    let e = engine().await;
    let token = e.admin_token().await;
    for path in ["/operations", "/operations/stats", "/connectors"] {
        let (status, _, body) = send(
            &e.app,
            get(path, Some(&token), Some(e.demo.other_tenant_id)),
        )
        .await;
        assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
        assert!(body.get("operations").is_none() && body.get("connectors").is_none());

        let (status, _, body) = send(&e.app, get(path, Some(&token), None)).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");

        let (status, _, body) = send(
            &e.app,
            get(path, Some(&token), Some(TenantId(uuid::Uuid::new_v4()))),
        )
        .await;
        assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    }
}

#[tokio::test]
async fn a_non_admin_is_403_everywhere() {
    let e = engine().await;
    let viewer = login(
        &e.app,
        e.demo.tenant_id,
        &e.demo.viewer_email,
        &e.demo.viewer_password,
    )
    .await;
    for path in [
        "/operations",
        "/operations/stats",
        "/connectors",
        "/connectors/00000000-0000-4000-8000-00000000c001",
    ] {
        let (status, body) = e.admin_get(&viewer.access_token, path).await;
        assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    }
}

#[tokio::test]
async fn health_needs_no_token_and_unknown_routes_are_json_404() {
    let e = engine().await;
    let (status, _, body) = send(&e.app, get("/healthz", None, None)).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    let (status, _, body) = send(&e.app, get("/no/such/route", None, None)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, _, body) = send(&e.app, post("/operations/stats", json!({}), None)).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account_even_for_the_right_one() {
    let e = engine().await;
    let attempt = |password: &str| {
        post(
            "/auth/login",
            json!({"email": e.demo.email.to_uppercase(), "password": password}),
            Some(e.demo.tenant_id),
        )
    };
    for _ in 0..5 {
        let (status, _, body) = send(&e.app, attempt("wrong")).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    }
    let response = tower::ServiceExt::oneshot(e.app.clone(), attempt(&e.demo.password))
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((800..=900).contains(&retry), "{retry}");
    // Another account of the tenant is not locked.
    let (status, _, body) = send(
        &e.app,
        post(
            "/auth/login",
            json!({"email": e.demo.viewer_email, "password": e.demo.viewer_password}),
            Some(e.demo.tenant_id),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
