//! Cross-site request forgery protection and security headers.

use axum::{
    extract::Request,
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{header, Method, StatusCode};

/// Refuses state-changing requests that do not come from a page of this site (`Origin` must match `Host`).
pub async fn same_origin_layer(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let headers = req.headers();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|h| h.to_str().ok());
    let allowed = match (origin, host) {
        (Some(origin), Some(host)) => origin_host(origin) == Some(host),
        // Some browsers omit Origin on same-origin requests; Fetch Metadata still tells.
        (None, _) => {
            headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("same-origin")
        }
        _ => false,
    };
    if allowed {
        next.run(req).await
    } else {
        tracing::warn!(path = %req.uri().path(), "cross-origin request refused");
        (StatusCode::FORBIDDEN, "cross-origin request refused").into_response()
    }
}

fn origin_host(origin: &str) -> Option<&str> {
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))?;
    Some(rest.trim_end_matches('/'))
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

/// What a page may load: its own scripts (and the inline ones carrying the nonce), WASM, styles, images.
fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'nonce-{nonce}'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )
}

/// For JSON, assets and redirects: nothing may run or load in their context.
const NON_PAGE_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// Adds the headers every response carries.
pub fn with_headers<S: Clone + Send + Sync + 'static>(router: axum::Router<S>) -> axum::Router<S> {
    use http::HeaderValue;
    use tower_http::set_header::SetResponseHeaderLayer as Set;
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

    #[test]
    fn origin_hosts() {
        assert_eq!(origin_host("http://127.0.0.1:3000"), Some("127.0.0.1:3000"));
        assert_eq!(
            origin_host("https://console.example"),
            Some("console.example")
        );
        assert_eq!(origin_host("null"), None);
    }
}
