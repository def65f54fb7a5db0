//! Server functions: each checks the session, makes one typed upstream call and returns the DTO.

mod conflicts;
mod connectors;
mod operations;
mod reconciliation;
mod schedules;

pub use conflicts::*;
pub use connectors::*;
pub use operations::*;
pub use reconciliation::*;
pub use schedules::*;

use dto::{TenantId, UserId};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::ssr;

/// The signed-in user, as the header shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedInUser {
    /// Their id.
    pub user_id: UserId,
    /// Their email.
    pub email: String,
    /// Their tenant.
    pub tenant_id: TenantId,
    /// Their roles.
    pub roles: Vec<String>,
    /// Whether they may use the console.
    pub is_admin: bool,
}

/// What the login page may prefill: the demo tenant, when the embedded engine runs with demo data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginHint {
    /// The demo tenant's id.
    pub tenant_id: TenantId,
    /// The demo admin's email.
    pub email: String,
}

/// Where a refused or missing `next` sends a user after login.
const HOME: &str = "/connectors/operations";

/// Only same-site paths are followed after login (no open redirects). A path qualifies when it starts with one
/// `/` (not `//`, not `/\`) and holds only the characters of a URL path and query, already percent-encoded:
/// no control character (browsers drop tabs and newlines, so `/\t/evil.example` would become
/// `//evil.example`), no space, no backslash, nothing outside ASCII. Anything else goes to the operations page.
pub fn safe_next(next: Option<&str>) -> String {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@/?%".contains(c);
    match next {
        Some(path)
            if path.starts_with('/')
                && !matches!(path.as_bytes().get(1), Some(b'/' | b'\\'))
                && path.chars().all(allowed) =>
        {
            path.to_owned()
        }
        _ => HOME.to_owned(),
    }
}

/// Signs in against the upstream and stores the tokens in HttpOnly cookies.
/// Every field is optional here so that a missing one is a validation error naming it, not a 500.
#[server(endpoint = "login")]
pub async fn login(
    email: Option<String>,
    password: Option<String>,
    tenant: Option<String>,
    next: Option<String>,
) -> Result<(), AppError> {
    let site = ssr::state()?.site;
    let (email, tenant) = (email.unwrap_or_default(), tenant.unwrap_or_default());
    let outcome = sign_in(&email, password.unwrap_or_default(), &tenant, next).await;
    // A failed plain post comes back to an empty form: the page refills it from this (never the password).
    match &outcome {
        Err(_) => ssr::append_cookies(&[ssr::remembered_login_form(&email, &tenant, &site)]),
        Ok(()) if ssr::remembered_login().is_some() => {
            ssr::append_cookies(&[ssr::forgotten_login_form(&site)])
        }
        Ok(()) => {}
    }
    outcome.inspect_err(ssr::set_status)
}

#[cfg(feature = "ssr")]
async fn sign_in(
    email: &str,
    password: String,
    tenant: &str,
    next: Option<String>,
) -> Result<(), AppError> {
    use crate::error::SignInProblem as Problem;
    use dto::{LoginRequest, LoginResponse};

    let state = ssr::state()?;
    let email = email.trim().to_owned();
    if email.is_empty() || !email.contains('@') {
        return Err(AppError::SignIn(Problem::EmailMissing));
    }
    if password.is_empty() {
        return Err(AppError::SignIn(Problem::PasswordMissing));
    }
    let request = LoginRequest { email, password };
    // Bounded before anything is sent: the upstream's throttle keeps what it is given.
    request.validate().map_err(|e| {
        AppError::SignIn(match e.field.as_deref() {
            Some("password") => Problem::PasswordTooLong,
            _ => Problem::EmailTooLong,
        })
    })?;
    let tenant: TenantId = tenant
        .trim()
        .parse()
        .map_err(|_| AppError::SignIn(Problem::TenantInvalid))?;

    let answer = state
        .api
        .login(tenant, &request, ssr::browser_address())
        .await;
    let tokens = match answer {
        Ok(LoginResponse::Tokens(tokens)) => tokens,
        Ok(LoginResponse::MfaRequired { .. }) => {
            return Err(AppError::SignIn(Problem::MfaRequired))
        }
        Err(client::ClientError::Api {
            status: 401 | 400 | 404,
            ..
        }) => return Err(AppError::SignIn(Problem::Refused)),
        Err(client::ClientError::Api { status: 403, .. }) => {
            return Err(AppError::SignIn(Problem::AccountDisabled))
        }
        Err(client::ClientError::Api { status: 429, body }) => {
            return Err(AppError::SignIn(Problem::LockedOut {
                minutes: minutes_to_wait(&body.message),
            }))
        }
        Err(e) => return Err(e.into()),
    };
    // A token the console cannot read would bounce every page back here: say so now, and end it upstream.
    if ssr::read_claims(&tokens.access_token).is_none() {
        let caller = client::Caller {
            token: &tokens.access_token,
            tenant,
        };
        if let Err(e) = state.api.logout(caller, &tokens.refresh_token).await {
            tracing::info!(error = %e, "upstream logout of an unreadable session failed");
        }
        return Err(AppError::SignIn(Problem::TokenUnreadable));
    }
    ssr::append_cookies(&ssr::session_cookies(&tokens, &state.site));
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

/// The wait a lockout names ("… try again in 15 minutes"), when it names one in minutes.
#[cfg(feature = "ssr")]
fn minutes_to_wait(message: &str) -> Option<u32> {
    let (_, after) = message.split_once("try again in ")?;
    let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    after[digits..]
        .trim_start()
        .starts_with("minute")
        .then(|| after[..digits].parse().ok())
        .flatten()
}

/// Revokes the live refresh token upstream (the one the session layer may just have rotated, which ends the
/// session's whole token family) and clears the session cookies.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let state = ssr::state()?;
    if let Some(session) = ssr::session().await {
        if let Some(refresh) = &session.refresh_token {
            // Best effort: the cookies go whatever the upstream says.
            if let Err(e) = state.api.logout(session.caller(), refresh).await {
                tracing::info!(error = %e, "upstream logout failed");
            }
        }
    }
    ssr::append_cookies(&ssr::cleared_cookies(&state.site));
    if ssr::remembered_login().is_some() {
        ssr::append_cookies(&[ssr::forgotten_login_form(&state.site)]);
    }
    leptos_axum::redirect("/login");
    Ok(())
}

/// The signed-in user (any role), or `Unauthorized`.
#[server]
pub async fn current_user() -> Result<SignedInUser, AppError> {
    signed_in_user()
}

/// The signed-in user of the request being rendered, read at once from the session the server put in it (no
/// upstream call, nothing to wait for), or `Unauthorized`. Only the server renders pages; in the browser
/// there is no session to read.
pub fn signed_in_user() -> Result<SignedInUser, AppError> {
    #[cfg(feature = "ssr")]
    {
        let session = use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<ssr::Session>().cloned())
            .ok_or(AppError::Unauthorized)
            .inspect_err(ssr::set_status)?;
        let claims = session.claims;
        Ok(SignedInUser {
            is_admin: claims.is_admin(),
            user_id: claims.sub,
            email: claims.email,
            tenant_id: claims.tid,
            roles: claims.roles,
        })
    }
    #[cfg(not(feature = "ssr"))]
    {
        Err(AppError::Unauthorized)
    }
}

/// The demo hint for the login page, when there is one.
#[server]
pub async fn demo_hint() -> Result<Option<LoginHint>, AppError> {
    Ok(ssr::state()?.demo.map(|d| (*d).clone()))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[cfg(feature = "ssr")]
    #[test]
    fn a_lockout_names_its_wait_in_minutes_or_nothing() {
        use super::minutes_to_wait;
        assert_eq!(
            minutes_to_wait("too many failed sign-ins; try again in 15 minutes"),
            Some(15)
        );
        assert_eq!(
            minutes_to_wait("too many failed sign-ins; try again in 1 minute"),
            Some(1)
        );
        assert_eq!(
            minutes_to_wait("too many sign-ins at once; try again in a moment"),
            None
        );
        assert_eq!(minutes_to_wait("try again in 30 seconds"), None);
        assert_eq!(minutes_to_wait("locked"), None);
    }

    #[test]
    fn next_accepts_only_same_site_paths() {
        for ok in [
            "/connectors",
            "/connectors/operations?status=failed&connector_id=0b1c",
            "/connectors/operations/dlq?connector_id=a%20b",
        ] {
            assert_eq!(safe_next(Some(ok)), ok, "{ok}");
        }
        for hostile in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/%09/evil.example\u{7f}",
            "https://evil.example",
            "javascript:alert(1)",
            "evil.example",
            " /connectors",
            "/connectors operations",
            "/connectors\u{2028}",
            "/caf\u{e9}",
            "",
        ] {
            assert_eq!(
                safe_next(Some(hostile)),
                "/connectors/operations",
                "{hostile:?}"
            );
        }
        assert_eq!(safe_next(None), "/connectors/operations");
    }
}
