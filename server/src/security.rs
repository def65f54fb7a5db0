//! Cross-site request forgery protection and security headers.

use std::net::IpAddr;

use app::ssr::{BrowserAddress, PublicSite};
use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{header, Method, StatusCode};

use crate::AppState;

/// Refuses state-changing requests that do not come from a page of this site: `Origin` must be the
/// configured public origin, or name the request's `Host` when none is configured (see [`PublicSite`]).
pub async fn same_origin_layer(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let headers = req.headers();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let allowed = match headers.get(header::ORIGIN) {
        Some(origin) => origin
            .to_str()
            .is_ok_and(|origin| state.bff.site.allows_origin(origin, host)),
        // Some browsers omit Origin on same-origin requests; Fetch Metadata still tells.
        None => headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("same-origin"),
    };
    if allowed {
        next.run(req).await
    } else {
        tracing::warn!(path = %req.uri().path(), "cross-origin request refused");
        (StatusCode::FORBIDDEN, "cross-origin request refused").into_response()
    }
}

/// Answers 421 Misdirected Request for a `Host` this console is not served at ([`PublicSite::serves_host`]),
/// before any session is read or set. Health checks answer whatever the `Host`: probes address a container
/// by its IP, and the answers hold nothing.
pub async fn served_host_layer(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    if path == "/healthz" || path == "/readyz" {
        return next.run(req).await;
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()));
    let site_addr = state.bff.leptos_options.site_addr;
    if host.is_some_and(|host| state.bff.site.serves_host(host, site_addr)) {
        next.run(req).await
    } else {
        tracing::warn!(
            ?host,
            "request for a host this console is not served at refused"
        );
        (
            StatusCode::MISDIRECTED_REQUEST,
            "this console is not served at that address",
        )
            .into_response()
    }
}

/// Puts the browser's address in the request ([`BrowserAddress`]): the TCP peer, or, when the peer is a
/// trusted proxy, the address the proxies say they received the request from.
pub async fn browser_address_layer(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip());
    if let Some(peer) = peer {
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",");
        let addr = browser_address(peer, &forwarded, &state.trusted_proxies);
        req.extensions_mut().insert(BrowserAddress(addr));
    }
    next.run(req).await
}

/// Walks `X-Forwarded-For` from the right (the entry the nearest proxy appended) past our own proxies; stops
/// at the first address a trusted proxy did not vouch for.
fn browser_address(peer: IpAddr, forwarded: &str, trusted: &[IpAddr]) -> IpAddr {
    let mut addr = peer;
    for entry in forwarded.rsplit(',') {
        if !trusted.contains(&addr) {
            break;
        }
        match entry.trim().parse::<IpAddr>() {
            Ok(hop) => addr = hop,
            Err(_) => break,
        }
    }
    addr
}

/// Caching: pages and server-function answers hold tenant data, so nothing stores them (`no-store`). The
/// WASM, JS and CSS carry a content hash in their names (cargo-leptos `hash-files`): a new release has new
/// names, so a browser may keep them for a year without asking again. Other static files are revalidated.
pub async fn cache_control_layer(req: Request, next: Next) -> Response {
    let value = cache_policy(req.uri().path());
    let mut response = next.run(req).await;
    response
        .headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(http::HeaderValue::from_static(value));
    response
}

fn cache_policy(path: &str) -> &'static str {
    let hashed_asset = path.starts_with("/pkg/") && has_content_hash(path);
    if hashed_asset {
        "public, max-age=31536000, immutable"
    } else if path.starts_with("/pkg/") || path == "/favicon.ico" {
        "no-cache"
    } else {
        "no-store"
    }
}

/// True for cargo-leptos' hashed names: `name.<hash>.ext`, the hash being a long run of URL-safe base64.
fn has_content_hash(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    let mut parts = file.split('.');
    let _name = parts.next();
    let hash = parts.next().unwrap_or_default();
    parts.next().is_some()
        && hash.len() >= 16
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// This request's script nonce, minted by [`csp_layer`]; the page rendered for the request uses it.
#[derive(Clone)]
pub struct CspNonce(pub leptos::nonce::Nonce);

/// Content-Security-Policy for every response, decided here and only here: an HTML body gets the page
/// policy with this response's script nonce (whatever rendered it: a route, the 404 fallback, an error
/// page); anything else gets a policy that allows nothing.
pub async fn csp_layer(mut req: Request, next: Next) -> Response {
    let nonce = leptos::nonce::Nonce::new();
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut response = next.run(req).await;
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|t| t.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    let policy = if html {
        page_policy(&nonce)
    } else {
        NON_PAGE_POLICY.to_owned()
    };
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// What a page may load: its own scripts (and the inline ones carrying the nonce), WASM, its stylesheet (no
/// inline style: every rule lives in the stylesheet), images.
fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'nonce-{nonce}'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; \
         frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )
}

/// For JSON, assets and redirects: nothing may run or load in their context.
const NON_PAGE_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// Adds the headers every response carries; over https, HSTS too (browsers then never try plain http).
pub fn with_headers<S: Clone + Send + Sync + 'static>(
    router: axum::Router<S>,
    site: &PublicSite,
) -> axum::Router<S> {
    use http::HeaderValue;
    use tower_http::set_header::SetResponseHeaderLayer as Set;
    let router = if site.is_https() {
        router.layer(Set::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ))
    } else {
        router
    };
    router
        .layer(axum::middleware::from_fn(csp_layer))
        .layer(Set::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(Set::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(Set::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_addresses_come_from_trusted_proxies_only() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let proxy = ip("10.0.0.2");
        let trusted = [proxy, ip("10.0.0.3")];
        // (peer, X-Forwarded-For, counted as)
        let cases = [
            ("203.0.113.9", "", "203.0.113.9"),
            // Anyone else's header is ignored: a client cannot pick the address it is counted against.
            ("203.0.113.9", "198.51.100.1", "203.0.113.9"),
            ("10.0.0.2", "", "10.0.0.2"),
            ("10.0.0.2", "198.51.100.1", "198.51.100.1"),
            // The client's own prefix before what our proxy appended is not believed.
            ("10.0.0.2", "1.2.3.4, 198.51.100.1", "198.51.100.1"),
            // Two of our proxies in a row.
            (
                "10.0.0.2",
                "1.2.3.4, 198.51.100.1, 10.0.0.3",
                "198.51.100.1",
            ),
            ("10.0.0.2", "garbage", "10.0.0.2"),
        ];
        for (peer, forwarded, expected) in cases {
            assert_eq!(
                browser_address(ip(peer), forwarded, &trusted),
                ip(expected),
                "{peer} {forwarded:?}"
            );
        }
    }

    #[test]
    fn only_hashed_assets_are_cached_for_good() {
        let immutable = "public, max-age=31536000, immutable";
        assert_eq!(
            cache_policy("/pkg/console.Xk3d9_aZq0PLmN2bVc7E-w.wasm"),
            immutable
        );
        assert_eq!(
            cache_policy("/pkg/console.Xk3d9_aZq0PLmN2bVc7E-w.css"),
            immutable
        );
        assert_eq!(cache_policy("/pkg/console.wasm"), "no-cache");
        assert_eq!(cache_policy("/pkg/console_bg.wasm"), "no-cache");
        assert_eq!(cache_policy("/favicon.ico"), "no-cache");
        assert_eq!(cache_policy("/connectors/operations"), "no-store");
        assert_eq!(cache_policy("/api/list_operations"), "no-store");
    }
}
