//! `POST /auth/login`, `/auth/refresh` and `/auth/logout`.

use axum::{
    extract::{rejection::JsonRejection, State},
    http::{HeaderMap, StatusCode},
    Json,
};
use chrono::Utc;
use dto::{LoginRequest, RefreshRequest, TokenPair};

use crate::{
    auth::{self, ACCESS_TOKEN_TTL_SECS},
    store::{self, Rotation, UserRecord},
    throttle::{self, ClientAddress, Key},
    ApiError, AppState,
};

/// Largest body the auth routes read: a sign-in at its limits (see `dto::LoginRequest::validate`), every
/// character escaped, fits several times over. They answer anyone, so nobody makes them buffer megabytes.
pub const AUTH_BODY_LIMIT: usize = 16 * 1024;

fn bad_body(expected: &'static str) -> impl Fn(JsonRejection) -> ApiError {
    move |rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::validation(
                "body",
                format!("the body must be at most {} KiB", AUTH_BODY_LIMIT / 1024),
            );
        }
        ApiError::validation(
            "body",
            format!("the body must be a JSON object with {expected}"),
        )
    }
}

fn pair(access_token: String, refresh_token: String) -> TokenPair {
    TokenPair {
        access_token,
        refresh_token,
        token_type: "Bearer".into(),
        expires_in: ACCESS_TOKEN_TTL_SECS,
    }
}

/// Issues a refresh token of a new family and an access token for `user`.
async fn login_pair(state: &AppState, user: &UserRecord) -> Result<TokenPair, ApiError> {
    let now = Utc::now();
    let (refresh, row) = auth::new_refresh_token(now);
    store::insert_refresh_token(state.pool(), user, &row).await?;
    store::record_login(state.pool(), user.id, now).await?;
    Ok(pair(state.tokens().issue(user, now)?, refresh))
}

/// Email and password for the tenant in `X-Tenant-ID` → a token pair; 400 naming the field for input past the
/// sign-in limits (before the throttle counts anything), 401 on bad credentials, 403 when the account is
/// disabled.
pub async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<Json<TokenPair>, ApiError> {
    let tenant = auth::tenant_header(&headers)?.ok_or_else(|| {
        ApiError::validation(
            "X-Tenant-ID",
            "an X-Tenant-ID header naming the tenant is required",
        )
    })?;
    let Json(request) = body.map_err(bad_body("`email` and `password`"))?;
    request.validate()?;
    let account = Key::account(tenant, &request.email);
    let mut keys = vec![account.clone()];
    keys.extend(address.map(Key::Address));
    let throttle = state.throttle();
    if let Some(wait) = throttle.locked(&keys, std::time::Instant::now()) {
        tracing::warn!(%tenant, "login refused: locked out after failed attempts");
        return Err(throttle::locked_out(wait));
    }
    let user = store::find_user_by_email(state.pool(), tenant, &request.email).await?;
    let invalid = || ApiError::Unauthorized("invalid email or password".into());
    let turn = throttle.turn().await?;
    let matches = auth::check_password(request.password, user.as_ref()).await?;
    drop(turn);
    if !matches {
        throttle.failed(&keys, std::time::Instant::now());
        tracing::info!(%tenant, "login refused: bad credentials");
        return Err(invalid());
    }
    throttle.succeeded(&account);
    let user = user.ok_or_else(invalid)?;
    if !user.active {
        tracing::info!(%tenant, user = %user.id, "login refused: account disabled");
        return Err(ApiError::Forbidden("this account is disabled".into()));
    }
    let tokens = login_pair(&state, &user).await?;
    tracing::info!(%tenant, user = %user.id, "login");
    Ok(Json(tokens))
}

/// A live refresh token → a new pair; the presented token dies (rotation), so presenting it again is a 401.
pub async fn refresh(
    State(state): State<AppState>,
    body: Result<Json<RefreshRequest>, JsonRejection>,
) -> Result<Json<TokenPair>, ApiError> {
    let Json(request) = body.map_err(bad_body("`refresh_token`"))?;
    let now = Utc::now();
    let (refresh, row) = auth::new_refresh_token(now);
    let old_hash = auth::refresh_token_hash(&request.refresh_token);
    match store::rotate_refresh_token(state.pool(), &old_hash, &row).await? {
        Rotation::Rotated(user) => {
            tracing::info!(tenant = %user.tenant_id, user = %user.id, "token refreshed");
            Ok(Json(pair(state.tokens().issue(&user, now)?, refresh)))
        }
        Rotation::Invalid => Err(ApiError::Unauthorized(
            "the refresh token is invalid, expired or already used".into(),
        )),
        Rotation::Reused => {
            tracing::warn!("a rotated refresh token was presented again: its session is ended");
            Err(ApiError::Unauthorized(
                "the refresh token was already used; the session is ended, sign in again".into(),
            ))
        }
        Rotation::SessionOver => Err(ApiError::Unauthorized(format!(
            "the session is over ({} hours after sign-in); sign in again",
            auth::SESSION_LIFETIME_HOURS
        ))),
        Rotation::Inactive => Err(ApiError::Forbidden("this account is disabled".into())),
    }
}

/// Kills the refresh token; 204 whether or not it was live, so the answer says nothing about tokens.
pub async fn logout(
    State(state): State<AppState>,
    body: Result<Json<RefreshRequest>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(request) = body.map_err(bad_body("`refresh_token`"))?;
    store::revoke_refresh_token(
        state.pool(),
        &auth::refresh_token_hash(&request.refresh_token),
        Utc::now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
