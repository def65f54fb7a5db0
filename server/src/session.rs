//! The session middleware: reads the HttpOnly cookies, refreshes an expired access token once (single
//! flight, so concurrent requests never race the rotating refresh token), and sends signed-out page
//! requests to the login page with their path kept.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use app::{
    error::SignInProblem,
    ssr::{self, Session},
};
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
/// A slot whose refresh was abandoned half-way (every request carrying the token went away) is dropped after
/// this long; a finished refresh is dropped at once.
const ABANDONED_AFTER: Duration = Duration::from_secs(60);

type RefreshSlot = Arc<OnceCell<Result<TokenPair, ClientError>>>;

/// Makes sure a refresh token is exchanged upstream at most once at a time: the requests that carry it while
/// its exchange is in flight share the answer. A finished exchange is forgotten at once, so a rotated token
/// presented again goes upstream, which refuses it (and ends its session): it never gets the live pair.
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
            let mut map = self.slots();
            map.retain(|_, (at, _)| at.elapsed() < ABANDONED_AFTER);
            map.entry(refresh_token.to_owned())
                .or_insert_with(|| (Instant::now(), Arc::new(OnceCell::new())))
                .1
                .clone()
        };
        let result = slot
            .get_or_init(|| api.refresh(refresh_token))
            .await
            .clone();
        let mut map = self.slots();
        if map
            .get(refresh_token)
            .is_some_and(|(_, s)| Arc::ptr_eq(s, &slot))
        {
            map.remove(refresh_token);
        }
        result
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, RefreshSlot)>> {
        self.inflight
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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

/// The session of an access token; `None` when the token cannot be read (logged by [`ssr::read_claims`]).
fn session_from(token: &str, refresh_token: Option<&str>) -> Option<Session> {
    let claims = ssr::read_claims(token)?;
    Some(Session {
        access_token: Arc::from(token),
        refresh_token: refresh_token.map(Arc::from),
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
    let site = &state.bff.site;
    let headers = req.headers();
    let refresh_token = cookie_value(headers, site.refresh_cookie());
    let access = cookie_value(headers, site.access_cookie())
        .map(|token| session_from(&token, refresh_token.as_deref()));
    // A token the console cannot read is said on the login page, not a silent bounce to it.
    let mut unreadable = matches!(access, Some(None));
    let mut session = access.flatten().filter(fresh);
    let mut set_cookies: Vec<Cookie<'static>> = Vec::new();

    if session.is_none() {
        match &refresh_token {
            Some(refresh_token) => {
                match state.refresher.refresh(&state.bff.api, refresh_token).await {
                    Ok(pair) => {
                        session = session_from(&pair.access_token, Some(&pair.refresh_token));
                        unreadable = session.is_none();
                        set_cookies.extend(match session {
                            Some(_) => ssr::session_cookies(&pair, site),
                            None => ssr::cleared_cookies(site),
                        });
                    }
                    Err(ClientError::Api { status, .. }) if status < 500 => {
                        tracing::info!(status, "refresh refused; signing out");
                        set_cookies.extend(ssr::cleared_cookies(site));
                    }
                    Err(e) => tracing::warn!(error = %e, "refresh failed"),
                }
            }
            None if unreadable => set_cookies.extend(ssr::cleared_cookies(site)),
            None => {}
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
            let problem = unreadable.then_some(SignInProblem::TokenUnreadable);
            Redirect::to(&ssr::login_href(target, problem)).into_response()
        }
        None => next.run(req).await,
    };
    // A handler that sets the session cookies itself (sign-in, sign-out) has the last word: the pair
    // refreshed on the way in must not follow its cookies, or signing out would sign straight back in.
    let handler_set_session = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| names_cookie(v, site.access_cookie()) || names_cookie(v, site.refresh_cookie()));
    if !handler_set_session {
        for c in set_cookies {
            if let Ok(value) = HeaderValue::from_str(&c.encoded().to_string()) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
        }
    }
    response
}

/// True when a `Set-Cookie` value sets the cookie called `name`.
fn names_cookie(set_cookie: &str, name: &str) -> bool {
    set_cookie
        .split_once('=')
        .is_some_and(|(n, _)| n.trim() == name)
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
    fn a_set_cookie_names_its_cookie() {
        assert!(names_cookie("console_access=; Max-Age=0", "console_access"));
        assert!(!names_cookie("console_access_x=1", "console_access"));
        assert!(!names_cookie(
            "console_login_form=1; Path=/login",
            "console_access"
        ));
    }

    #[test]
    fn encodes_the_return_path() {
        assert_eq!(
            app::params::url_encode("/connectors/operations?status=failed&x=1"),
            "/connectors/operations%3Fstatus%3Dfailed%26x%3D1"
        );
    }
}
