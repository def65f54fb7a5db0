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
    sign_in(
        email.unwrap_or_default(),
        password.unwrap_or_default(),
        tenant.unwrap_or_default(),
        next,
    )
    .await
    .inspect_err(ssr::set_status)
}

#[cfg(feature = "ssr")]
async fn sign_in(
    email: String,
    password: String,
    tenant: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use dto::{LoginRequest, LoginResponse};

    let state = ssr::state()?;
    let email = email.trim().to_owned();
    if email.is_empty() || !email.contains('@') {
        return Err(AppError::invalid(
            "email",
            "Enter the email address of your account.",
        ));
    }
    if password.is_empty() {
        return Err(AppError::invalid("password", "Enter your password."));
    }
    let tenant: TenantId = tenant.trim().parse().map_err(|_| {
        AppError::invalid(
            "tenant",
            "The tenant id is a UUID, e.g. 3f1e9a2b-5c6d-4e7f-8a9b-0123456789ab.",
        )
    })?;

    let answer = state
        .api
        .login(
            tenant,
            &LoginRequest { email, password },
            ssr::browser_address(),
        )
        .await;
    let tokens =
        match answer {
            Ok(LoginResponse::Tokens(tokens)) => tokens,
            Ok(LoginResponse::MfaRequired { .. }) => return Err(AppError::invalid(
                "password",
                "This account requires multi-factor sign-in, which this console does not support.",
            )),
            Err(client::ClientError::Api {
                status: 401 | 400 | 404,
                body,
            }) => {
                return Err(AppError::invalid("password", body.message));
            }
            Err(client::ClientError::Api { status: 403, body }) => {
                return Err(AppError::invalid("email", body.message))
            }
            Err(client::ClientError::Api { status: 429, body }) => {
                // The upstream says when to come back ("… try again in 15 minutes"); say it as it does.
                let message = match body.message.trim() {
                    "" => "Too many attempts: this account is locked for a while.".to_owned(),
                    said => {
                        let mut chars = said.chars();
                        chars
                            .next()
                            .map(|first| first.to_uppercase().chain(chars).collect())
                            .unwrap_or_default()
                    }
                };
                return Err(AppError::invalid("email", message));
            }
            Err(e) => return Err(e.into()),
        };
    ssr::append_cookies(&ssr::session_cookies(&tokens, &state.site));
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

/// Revokes the refresh token upstream and clears the session cookies.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let state = ssr::state()?;
    if let Some(session) = ssr::session().await {
        let refresh = leptos_axum::extract::<http::HeaderMap>()
            .await
            .ok()
            .and_then(|headers| {
                headers.get_all(http::header::COOKIE).iter().find_map(|v| {
                    let text = v.to_str().ok()?;
                    cookie::Cookie::split_parse_encoded(text.to_owned())
                        .flatten()
                        .find(|c| c.name() == state.site.refresh_cookie())
                        .map(|c| c.value().to_owned())
                })
            });
        if let Some(refresh) = refresh {
            // Best effort: the cookies go whatever the upstream says.
            if let Err(e) = state.api.logout(session.caller(), &refresh).await {
                tracing::info!(error = %e, "upstream logout failed");
            }
        }
    }
    ssr::append_cookies(&ssr::cleared_cookies(&state.site));
    leptos_axum::redirect("/login");
    Ok(())
}

/// The signed-in user (any role), or `Unauthorized`.
#[server]
pub async fn current_user() -> Result<SignedInUser, AppError> {
    let session = ssr::session()
        .await
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

/// The demo hint for the login page, when there is one.
#[server]
pub async fn demo_hint() -> Result<Option<LoginHint>, AppError> {
    Ok(ssr::state()?.demo.map(|d| (*d).clone()))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

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
