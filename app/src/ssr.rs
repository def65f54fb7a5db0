//! Server-side plumbing shared by the server functions and the `server` crate: state, session, cookies.

use std::sync::Arc;

use client::{ApiClient, Caller};
use cookie::{Cookie, SameSite};
use dto::{Claims, TokenPair};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

use crate::error::AppError;

/// Name of the HttpOnly cookie holding the access token.
pub const ACCESS_COOKIE: &str = "console_access";
/// Name of the HttpOnly cookie holding the refresh token.
pub const REFRESH_COOKIE: &str = "console_refresh";
/// How long the refresh cookie lives (the upstream's refresh tokens last about a week).
pub const REFRESH_MAX_AGE_SECS: i64 = 7 * 24 * 3600;

/// Everything a request handler or server function needs; built once at start-up.
#[derive(Clone)]
pub struct BffState {
    /// Leptos's own options (site root, addresses).
    pub leptos_options: LeptosOptions,
    /// The typed upstream client.
    pub api: ApiClient,
    /// Whether cookies get the `Secure` attribute (served over https).
    pub secure_cookies: bool,
    /// Demo login hints for the login page (embedded engine with `--demo` only).
    pub demo: Option<Arc<crate::api::LoginHint>>,
}

/// The signed-in user of this request, put in the request's extensions by the session middleware.
#[derive(Clone)]
pub struct Session {
    /// The bearer token sent upstream. Never rendered, never logged.
    pub access_token: Arc<str>,
    /// The token's claims (read, not verified: the upstream verifies the signature on every call).
    pub claims: Claims,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("sub", &self.claims.sub)
            .field("tid", &self.claims.tid)
            .finish()
    }
}

impl Session {
    /// The caller identity for upstream calls.
    pub fn caller(&self) -> Caller<'_> {
        Caller {
            token: &self.access_token,
            tenant: self.claims.tid,
        }
    }
}

/// Reads a JWT's claims without checking its signature (the upstream does that on every call).
pub fn read_claims(token: &str) -> Option<Claims> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The BFF state, from the server function's context.
pub fn state() -> Result<BffState, AppError> {
    use_context::<BffState>().ok_or_else(|| AppError::Internal("server state missing".to_owned()))
}

/// The request's session, if any.
pub async fn session() -> Option<Session> {
    let parts = use_context::<http::request::Parts>()?;
    parts.extensions.get::<Session>().cloned()
}

/// The session of an administrator, or the error to show (and its HTTP status during SSR).
pub async fn require_admin() -> Result<(Session, ApiClient), AppError> {
    let state = state()?;
    let session = session()
        .await
        .ok_or(AppError::Unauthorized)
        .inspect_err(set_status)?;
    if !session.claims.is_admin() {
        let e = AppError::Forbidden;
        set_status(&e);
        return Err(e);
    }
    Ok((session, state.api))
}

/// Maps an upstream failure, setting the HTTP status of the response for the errors that replace a page.
pub fn upstream(e: client::ClientError) -> AppError {
    fail(AppError::from(e))
}

/// Sets the response status for `e` (see [`set_status`]) and hands it back.
pub fn fail(e: AppError) -> AppError {
    set_status(&e);
    e
}

/// Sets the response status for an error: always for a server-function call (so the browser, logs and
/// proxies see a 400/409/503 rather than a generic 500), and during page rendering only for the errors that
/// stand for the whole page (401, 403, 404).
///
/// A plain form post (sent before the WASM arrived, `Accept: text/html`) is left alone: leptos answers it
/// with a redirect back to the form's page, the error in the URL, and a status here would turn that into a
/// page of raw JSON.
pub fn set_status(e: &AppError) {
    let Some(parts) = use_context::<http::request::Parts>() else {
        return;
    };
    let server_fn_call = parts.uri.path().starts_with("/api/");
    let plain_form_post = server_fn_call
        && parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"));
    if plain_form_post {
        return;
    }
    let whole_page = matches!(
        e,
        AppError::Unauthorized | AppError::Forbidden | AppError::NotFound(_)
    );
    if server_fn_call || whole_page {
        if let Some(response) = use_context::<ResponseOptions>() {
            response.set_status(
                http::StatusCode::from_u16(e.status()).unwrap_or(http::StatusCode::BAD_GATEWAY),
            );
        }
    }
}

/// The two session cookies for a fresh token pair.
pub fn session_cookies(tokens: &TokenPair, secure: bool) -> [Cookie<'static>; 2] {
    let access = build_cookie(
        ACCESS_COOKIE,
        tokens.access_token.clone(),
        tokens.expires_in.max(1),
        secure,
    );
    let refresh = build_cookie(
        REFRESH_COOKIE,
        tokens.refresh_token.clone(),
        REFRESH_MAX_AGE_SECS,
        secure,
    );
    [access, refresh]
}

/// Cookies that delete the session.
pub fn cleared_cookies(secure: bool) -> [Cookie<'static>; 2] {
    [
        build_cookie(ACCESS_COOKIE, String::new(), 0, secure),
        build_cookie(REFRESH_COOKIE, String::new(), 0, secure),
    ]
}

fn build_cookie(
    name: &'static str,
    value: String,
    max_age_secs: i64,
    secure: bool,
) -> Cookie<'static> {
    Cookie::build((name, value))
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .path("/")
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build()
}

/// Adds `Set-Cookie` headers to the current response.
pub fn append_cookies(cookies: &[Cookie<'static>]) {
    if let Some(response) = use_context::<ResponseOptions>() {
        for c in cookies {
            if let Ok(value) = http::HeaderValue::from_str(&c.encoded().to_string()) {
                response.append_header(http::header::SET_COOKIE, value);
            }
        }
    }
}
