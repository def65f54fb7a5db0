//! The session middleware: reads the HttpOnly cookies, refreshes an expired access token once (single
//! flight, so concurrent requests never race the rotating refresh token), and sends signed-out page
//! requests to the login page with their path kept.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use app::ssr::{self, Session};
use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use client::{ApiClient, ClientError};
use cookie::Cookie;
use dto::TokenPair;
use http::{header, HeaderValue, Method};
use tokio::sync::OnceCell;

use crate::AppState;

/// Seconds before expiry at which an access token counts as expired (clock skew, request time).
const EXPIRY_MARGIN_SECS: i64 = 15;
/// How long a successful refresh is kept for requests that still carry the old refresh token (a failure is
/// never kept: one upstream blip must not sign every open tab out).
const REFRESH_RESULT_TTL: Duration = Duration::from_secs(30);

type RefreshSlot = Arc<OnceCell<Result<TokenPair, ClientError>>>;

/// Makes sure each refresh token is exchanged upstream at most once, however many requests carry it.
#[derive(Default)]
pub struct RefreshCoordinator {
    inflight: Mutex<HashMap<String, (Instant, RefreshSlot)>>,
}

impl RefreshCoordinator {
    /// The new token pair for `refresh_token`: the first caller asks upstream, the others share its answer.
    pub async fn refresh(
        &self,
        api: &ApiClient,
        refresh_token: &str,
    ) -> Result<TokenPair, ClientError> {
        let slot = {
            let mut map = self
                .inflight
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            map.retain(|_, (at, _)| at.elapsed() < REFRESH_RESULT_TTL);
            map.entry(refresh_token.to_owned())
                .or_insert_with(|| (Instant::now(), Arc::new(OnceCell::new())))
                .1
                .clone()
        };
        let result = slot
            .get_or_init(|| api.refresh(refresh_token))
            .await
            .clone();
        if result.is_err() {
            let mut map = self
                .inflight
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if map
                .get(refresh_token)
                .is_some_and(|(_, s)| Arc::ptr_eq(s, &slot))
            {
                map.remove(refresh_token);
            }
        }
        result
    }
}

fn cookie_value(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().find_map(|v| {
        let text = v.to_str().ok()?;
        Cookie::split_parse_encoded(text.to_owned())
            .flatten()
            .find(|c| c.name() == name && !c.value().is_empty())
            .map(|c| c.value().to_owned())
    })
}

fn session_from(token: &str) -> Option<Session> {
    let claims = ssr::read_claims(token)?;
    Some(Session {
        access_token: Arc::from(token),
        claims,
    })
}

fn fresh(session: &Session) -> bool {
    session.claims.exp - EXPIRY_MARGIN_SECS > now_secs()
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// True for paths served without a session: the login page, assets, health checks, server functions
/// (each of those checks the session itself and answers 401).
fn is_public(path: &str) -> bool {
    path == "/login"
        || path == "/healthz"
        || path == "/readyz"
        || path == "/favicon.ico"
        || path.starts_with("/pkg/")
        || path.starts_with("/api/")
}

/// Attaches the [`Session`] to the request, refreshing it when needed.
pub async fn session_layer(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let headers = req.headers();
    let mut session = cookie_value(headers, state.bff.site.access_cookie())
        .and_then(|t| session_from(&t))
        .filter(fresh);
    let mut set_cookies: Vec<Cookie<'static>> = Vec::new();

    if session.is_none() {
        if let Some(refresh_token) = cookie_value(headers, state.bff.site.refresh_cookie()) {
            match state
                .refresher
                .refresh(&state.bff.api, &refresh_token)
                .await
            {
                Ok(pair) => {
                    session = session_from(&pair.access_token);
                    set_cookies.extend(ssr::session_cookies(&pair, &state.bff.site));
                }
                Err(ClientError::Api { status, .. }) if status < 500 => {
                    tracing::info!(status, "refresh refused; signing out");
                    set_cookies.extend(ssr::cleared_cookies(&state.bff.site));
                }
                Err(e) => tracing::warn!(error = %e, "refresh failed"),
            }
        }
    }

    let path = req.uri().path().to_owned();
    let mut response = match session {
        Some(session) => {
            req.extensions_mut().insert(session);
            next.run(req).await
        }
        None if req.method() == Method::GET && !is_public(&path) => {
            let target = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let next_param = app::params::url_encode(target);
            Redirect::to(&format!("/login?next={next_param}")).into_response()
        }
        None => next.run(req).await,
    };
    for c in set_cookies {
        if let Ok(value) = HeaderValue::from_str(&c.encoded().to_string()) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_paths() {
        assert!(is_public("/login"));
        assert!(is_public("/pkg/console.wasm"));
        assert!(!is_public("/connectors/operations"));
        assert!(!is_public("/"));
    }

    #[test]
    fn encodes_the_return_path() {
        assert_eq!(
            app::params::url_encode("/connectors/operations?status=failed&x=1"),
            "/connectors/operations%3Fstatus%3Dfailed%26x%3D1"
        );
    }
}
