//! Server-side plumbing shared by the server functions and the `server` crate: state, session, cookies.

use std::sync::Arc;

use client::{ApiClient, Caller};
use cookie::{Cookie, SameSite};
use dto::{Claims, TokenPair};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

use crate::error::AppError;

/// Name of the HttpOnly cookie holding the access token (with `__Host-` in front over https).
pub const ACCESS_COOKIE: &str = "console_access";
/// Name of the HttpOnly cookie holding the refresh token (with `__Host-` in front over https).
pub const REFRESH_COOKIE: &str = "console_refresh";
/// How long the refresh cookie lives (the upstream's refresh tokens last about a week).
pub const REFRESH_MAX_AGE_SECS: i64 = 7 * 24 * 3600;
/// Name of the cookie that keeps a failed sign-in's email and tenant for the login form to refill.
pub const LOGIN_FORM_COOKIE: &str = "console_login_form";
/// How long a failed sign-in's email and tenant are kept for the form.
const LOGIN_FORM_MAX_AGE_SECS: i64 = 600;

/// Everything a request handler or server function needs; built once at start-up.
#[derive(Clone)]
pub struct BffState {
    /// Leptos's own options (site root, addresses).
    pub leptos_options: LeptosOptions,
    /// The typed upstream client.
    pub api: ApiClient,
    /// Where browsers reach the console: the origin mutations must come from, and the cookies' shape.
    pub site: PublicSite,
    /// Demo login hints for the login page (embedded engine with `--demo` only).
    pub demo: Option<Arc<crate::api::LoginHint>>,
}

/// Where browsers reach the console (`PUBLIC_URL`, e.g. behind a TLS-terminating proxy).
///
/// Configured, it is the only origin a mutation may come from (scheme, host and port, whatever `Host` the
/// proxy forwards), and when it is https the session cookies are `Secure` with the `__Host-` prefix (bound to
/// this host, path `/`, never set over plain http) and responses carry HSTS. Not configured (loopback use),
/// a mutation's `Origin` must name the host of the request's `Host` header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublicSite {
    /// `scheme://host[:port]` as browsers send it in `Origin` (lower case, default port left out).
    origin: Option<String>,
}

impl PublicSite {
    /// Reads a public URL: http or https, a host, an optional port, nothing after the authority but `/`.
    pub fn parse(url: &str) -> Result<Self, String> {
        let uri: http::Uri = url
            .trim()
            .parse()
            .map_err(|_| format!("PUBLIC_URL {url:?} is not a URL"))?;
        let scheme = uri.scheme_str().map(str::to_ascii_lowercase);
        let default_port = match scheme.as_deref() {
            Some("https") => 443,
            Some("http") => 80,
            _ => {
                return Err(format!(
                    "PUBLIC_URL {url:?} must start with https:// or http://"
                ))
            }
        };
        let authority = uri
            .authority()
            .filter(|a| !a.host().is_empty() && !a.as_str().contains('@'))
            .ok_or_else(|| format!("PUBLIC_URL {url:?} must name a host (and no user)"))?;
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(format!(
                "PUBLIC_URL {url:?} must be an origin: the console is served at the root of its host"
            ));
        }
        let host = authority.host().to_ascii_lowercase();
        let origin = match authority.port_u16().filter(|p| *p != default_port) {
            Some(port) => format!("{}://{host}:{port}", scheme.unwrap_or_default()),
            None => format!("{}://{host}", scheme.unwrap_or_default()),
        };
        Ok(Self {
            origin: Some(origin),
        })
    }

    /// No public URL configured: loopback or a plain-http deployment.
    pub fn unconfigured() -> Self {
        Self::default()
    }

    /// Served over https: `Secure`, `__Host-` cookies and HSTS.
    pub fn is_https(&self) -> bool {
        self.origin
            .as_deref()
            .is_some_and(|o| o.starts_with("https://"))
    }

    /// Whether a mutation carrying this `Origin` comes from a page of this site (`host` is the request's
    /// `Host` header, used only when no public URL is configured). `Origin: null` never does.
    pub fn allows_origin(&self, origin: &str, host: Option<&str>) -> bool {
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        match &self.origin {
            Some(ours) => origin == *ours,
            None => {
                let named_host = origin
                    .strip_prefix("https://")
                    .or_else(|| origin.strip_prefix("http://"));
                named_host.is_some() && named_host == host.map(str::to_ascii_lowercase).as_deref()
            }
        }
    }

    /// Whether a request naming `host` (its `Host` header) is one for this console. Loopback names
    /// (`localhost`, `127.0.0.1`, `[::1]`, any port) always are: no other site's page can reach them under
    /// its own name. Besides those, only the public URL's host when one is configured, else the address the
    /// console listens on (`site_addr`). Anything else is how DNS rebinding looks: a page of another
    /// site, whose name now points at this machine, calling the console as if it were its own.
    pub fn serves_host(&self, host: &str, site_addr: std::net::SocketAddr) -> bool {
        let host = host.to_ascii_lowercase();
        let Some((name, port)) = split_host(&host) else {
            return false;
        };
        if matches!(name, "localhost" | "127.0.0.1" | "[::1]") {
            return true;
        }
        match &self.origin {
            Some(origin) => {
                let authority = origin.split_once("://").map_or("", |(_, a)| a);
                split_host(authority).is_some_and(|(ours, _)| ours == name)
            }
            None => {
                let ours = match site_addr.ip() {
                    std::net::IpAddr::V4(ip) => ip.to_string(),
                    std::net::IpAddr::V6(ip) => format!("[{ip}]"),
                };
                // Browsers leave the default port out of `Host`.
                let port_matches = port.map_or(site_addr.port() == 80, |p| {
                    p.parse::<u16>() == Ok(site_addr.port())
                });
                name == ours && port_matches
            }
        }
    }

    /// The access cookie's name on this site.
    pub fn access_cookie(&self) -> &'static str {
        if self.is_https() {
            "__Host-console_access"
        } else {
            ACCESS_COOKIE
        }
    }

    /// The refresh cookie's name on this site.
    pub fn refresh_cookie(&self) -> &'static str {
        if self.is_https() {
            "__Host-console_refresh"
        } else {
            REFRESH_COOKIE
        }
    }
}

/// `host[:port]` split in two (an IPv6 host keeps its brackets); `None` when it is no such thing.
fn split_host(authority: &str) -> Option<(&str, Option<&str>)> {
    let (name, port) = match authority.strip_prefix('[') {
        Some(rest) => {
            let close = rest.find(']')? + 2;
            let (name, after) = authority.split_at(close);
            match after {
                "" => (name, None),
                _ => (name, Some(after.strip_prefix(':')?)),
            }
        }
        None => match authority.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (authority, None),
        },
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    (!name.is_empty() && port_ok).then_some((name, port))
}

/// The address of the browser a request came from, put in the request's extensions by the server (the TCP
/// peer, or what a trusted proxy in front said); passed upstream on sign-in for per-address throttling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrowserAddress(pub std::net::IpAddr);

/// The browser address of the current request, when the server knows it.
pub fn browser_address() -> Option<std::net::IpAddr> {
    let parts = use_context::<http::request::Parts>()?;
    parts.extensions.get::<BrowserAddress>().map(|a| a.0)
}

/// The signed-in user of this request, put in the request's extensions by the session middleware.
#[derive(Clone)]
pub struct Session {
    /// The bearer token sent upstream. Never rendered, never logged.
    pub access_token: Arc<str>,
    /// The live refresh token (rotated on the way in when the access token had expired), which signing out
    /// revokes. Never rendered, never logged.
    pub refresh_token: Option<Arc<str>>,
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

/// Reads a JWT's claims without checking its signature (the upstream does that on every call). A token it
/// cannot read is logged as a warning, with why and never the token: an upstream whose tokens the console
/// cannot read otherwise only shows as admins bounced back to the login page.
pub fn read_claims(token: &str) -> Option<Claims> {
    use base64::Engine as _;
    let claims = token
        .split('.')
        .nth(1)
        .ok_or_else(|| "it is not a JWT".to_owned())
        .and_then(|payload| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload.trim_end_matches('='))
                .map_err(|_| "its payload is not base64url".to_owned())
        })
        .and_then(|bytes| {
            serde_json::from_slice(&bytes).map_err(|e| format!("its claims do not fit: {e}"))
        });
    claims
        .inspect_err(|why| tracing::warn!(%why, "an access token cannot be read"))
        .ok()
}

/// The login page's URL that returns to `next` after signing in, showing `problem` when there is one (in
/// the place a failed sign-in's own error travels, so that the page has one way to read it).
pub fn login_href(next: &str, problem: Option<crate::error::SignInProblem>) -> String {
    use base64::Engine as _;
    use leptos::server_fn::{error::FromServerFnError, ServerFn};
    let mut href = format!("/login?next={}", crate::params::url_encode(next));
    if let Some(problem) = problem {
        let error = AppError::SignIn(problem).ser();
        href.push_str(&format!(
            "&__path={}&__err={}",
            crate::params::url_encode(<crate::api::Login as ServerFn>::PATH),
            crate::params::url_encode(&base64::engine::general_purpose::URL_SAFE.encode(error))
        ));
    }
    href
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

/// Maps an upstream failure of a start (run, resume, retry, remediation): the start gate's refusal as the
/// outcome every start surface shows (with links into `connector`), anything else as [`upstream`].
pub fn start_error(e: client::ClientError, connector: dto::ConnectorId) -> AppError {
    match e.start_refused() {
        Some(refused) => fail(
            crate::components::start_outcome::Outcome::refused(refused, Some(connector)).into(),
        ),
        None => upstream(e),
    }
}

/// Sets the response status for `e` (see [`set_status`]) and hands it back.
pub fn fail(e: AppError) -> AppError {
    set_status(&e);
    e
}

/// Sets the response status for an error: always for a server-function call (so the browser, logs and
/// proxies see a 400/409/503 rather than a generic 500), and during page rendering only for the errors that
/// stand for the whole page (401, 403, 404, and 400 for a URL whose filters the page refuses).
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
        AppError::Unauthorized
            | AppError::Forbidden
            | AppError::NotFound(_)
            | AppError::Validation { .. }
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
pub fn session_cookies(tokens: &TokenPair, site: &PublicSite) -> [Cookie<'static>; 2] {
    let access = build_cookie(
        site.access_cookie(),
        tokens.access_token.clone(),
        tokens.expires_in.max(1),
        site.is_https(),
    );
    let refresh = build_cookie(
        site.refresh_cookie(),
        tokens.refresh_token.clone(),
        REFRESH_MAX_AGE_SECS,
        site.is_https(),
    );
    [access, refresh]
}

/// Cookies that delete the session.
pub fn cleared_cookies(site: &PublicSite) -> [Cookie<'static>; 2] {
    [
        build_cookie(site.access_cookie(), String::new(), 0, site.is_https()),
        build_cookie(site.refresh_cookie(), String::new(), 0, site.is_https()),
    ]
}

/// A cookie keeping a failed sign-in's email and tenant for the form (nothing when either is too long to
/// be one: that input is refused anyway).
pub fn remembered_login_form(email: &str, tenant: &str, site: &PublicSite) -> Cookie<'static> {
    let fits = email.chars().count() <= dto::MAX_EMAIL_CHARS && tenant.len() <= 64;
    if !fits {
        return forgotten_login_form(site);
    }
    let value = serde_json::json!([email.trim(), tenant.trim()]).to_string();
    login_form_cookie(value, LOGIN_FORM_MAX_AGE_SECS, site)
}

/// The cookie that forgets the form's email and tenant (after a sign-in, or a sign-out).
pub fn forgotten_login_form(site: &PublicSite) -> Cookie<'static> {
    login_form_cookie(String::new(), 0, site)
}

fn login_form_cookie(value: String, max_age_secs: i64, site: &PublicSite) -> Cookie<'static> {
    Cookie::build((LOGIN_FORM_COOKIE, value))
        .http_only(true)
        .secure(site.is_https())
        .same_site(SameSite::Strict)
        .path("/login")
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build()
}

/// The email and tenant of this browser's last failed sign-in, if it is recent.
pub fn remembered_login() -> Option<(String, String)> {
    let parts = use_context::<http::request::Parts>()?;
    let value = parts
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|text| Cookie::split_parse_encoded(text.to_owned()).flatten())
        .find(|c| c.name() == LOGIN_FORM_COOKIE)?
        .value()
        .to_owned();
    serde_json::from_str(&value).ok()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_are_origins() {
        let ok = [
            ("https://console.example.com", "https://console.example.com"),
            (
                "https://Console.Example.com/",
                "https://console.example.com",
            ),
            (
                "https://console.example.com:443",
                "https://console.example.com",
            ),
            (
                "https://console.example.com:8443",
                "https://console.example.com:8443",
            ),
            ("http://10.0.0.5:3000", "http://10.0.0.5:3000"),
        ];
        for (url, origin) in ok {
            let site = PublicSite::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(site.origin.as_deref(), Some(origin), "{url}");
        }
        let refused = [
            "console.example.com",
            "ftp://console.example.com",
            "https://",
            "https://user@console.example.com",
            "https://console.example.com/console",
            "https://console.example.com/?a=1",
            "",
        ];
        for url in refused {
            assert!(PublicSite::parse(url).is_err(), "{url:?} accepted");
        }
    }

    #[test]
    fn origins_a_mutation_may_come_from() {
        let proxied = PublicSite::parse("https://console.example.com").unwrap();
        let plain = PublicSite::unconfigured();
        // (site, Origin, Host, allowed)
        let cases = [
            // Behind a TLS proxy the Host is the proxy's upstream address: the configured origin decides.
            (
                &proxied,
                "https://console.example.com",
                Some("127.0.0.1:3000"),
                true,
            ),
            (
                &proxied,
                "https://CONSOLE.example.com/",
                Some("127.0.0.1:3000"),
                true,
            ),
            (
                &proxied,
                "http://console.example.com",
                Some("console.example.com"),
                false,
            ),
            (
                &proxied,
                "https://console.example.com:8443",
                Some("127.0.0.1:3000"),
                false,
            ),
            (
                &proxied,
                "https://evil.example",
                Some("console.example.com"),
                false,
            ),
            (&proxied, "null", Some("console.example.com"), false),
            // Without one, Origin must name the Host.
            (
                &plain,
                "http://127.0.0.1:3000",
                Some("127.0.0.1:3000"),
                true,
            ),
            (
                &plain,
                "http://127.0.0.1:3000",
                Some("127.0.0.1:3001"),
                false,
            ),
            (
                &plain,
                "https://console.example.com",
                Some("127.0.0.1:3000"),
                false,
            ),
            (&plain, "null", Some("null"), false),
            (&plain, "http://127.0.0.1:3000", None, false),
        ];
        for (site, origin, host, allowed) in cases {
            assert_eq!(
                site.allows_origin(origin, host),
                allowed,
                "{site:?} Origin {origin} Host {host:?}"
            );
        }
    }

    #[test]
    fn hosts_the_console_is_served_at() {
        let listening: std::net::SocketAddr = "192.168.1.5:3000".parse().unwrap();
        let public = PublicSite::parse("https://console.example.com").unwrap();
        let plain = PublicSite::unconfigured();
        // (site, Host, served)
        let cases = [
            (&plain, "localhost:3000", true),
            (&plain, "LOCALHOST", true),
            (&plain, "127.0.0.1:8123", true),
            (&plain, "[::1]:3000", true),
            (&plain, "192.168.1.5:3000", true),
            (&plain, "192.168.1.5:3001", false),
            (&plain, "192.168.1.5", false),
            // DNS rebinding: another site's name pointed at this machine.
            (&plain, "rebind.evil.example:3000", false),
            (&plain, "localhost.evil.example", false),
            (&plain, "127.0.0.1.evil.example", false),
            (&plain, "localhost:", false),
            (&plain, "localhost:x", false),
            (&plain, "[::1", false),
            (&plain, "", false),
            (&public, "console.example.com", true),
            (&public, "Console.Example.com:443", true),
            (&public, "127.0.0.1:3000", true),
            (&public, "192.168.1.5:3000", false),
            (&public, "evil.example", false),
            (&public, "console.example.com.evil.example", false),
        ];
        for (site, host, served) in cases {
            assert_eq!(
                site.serves_host(host, listening),
                served,
                "{site:?} Host {host:?}"
            );
        }
        // Browsers leave port 80 out of `Host`.
        let on_80: std::net::SocketAddr = "10.0.0.5:80".parse().unwrap();
        assert!(plain.serves_host("10.0.0.5", on_80));
        let v6: std::net::SocketAddr = "[fd00::5]:3000".parse().unwrap();
        assert!(plain.serves_host("[fd00::5]:3000", v6));
    }

    #[test]
    fn https_sites_get_host_prefixed_secure_cookies() {
        let tokens = TokenPair {
            access_token: "a".into(),
            refresh_token: "r".into(),
            token_type: "Bearer".into(),
            expires_in: 900,
        };
        let https = PublicSite::parse("https://console.example.com").unwrap();
        for c in session_cookies(&tokens, &https)
            .iter()
            .chain(&cleared_cookies(&https))
        {
            assert!(c.name().starts_with("__Host-"), "{c}");
            assert_eq!(c.secure(), Some(true), "{c}");
            assert_eq!(c.path(), Some("/"));
            assert!(c.domain().is_none());
            assert_eq!(c.http_only(), Some(true));
        }
        for site in [
            PublicSite::unconfigured(),
            PublicSite::parse("http://10.0.0.5:3000").unwrap(),
        ] {
            for c in session_cookies(&tokens, &site) {
                assert!(!c.name().starts_with("__Host-"), "{c}");
                assert_ne!(c.secure(), Some(true), "{c}");
            }
        }
    }
}
