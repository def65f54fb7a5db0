//! Server functions: each checks the session, makes one typed upstream call and returns the DTO.

mod connectors;
mod operations;

pub use connectors::*;
pub use operations::*;

use dto::TenantId;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::ssr;

/// The signed-in user, as the header shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedInUser {
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

/// Only same-site paths are followed after login (no open redirects).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/connectors/operations".to_owned(),
    }
}

/// Signs in against the upstream and stores the tokens in HttpOnly cookies.
#[server(endpoint = "login")]
pub async fn login(
    email: String,
    password: String,
    tenant: String,
    next: Option<String>,
) -> Result<(), AppError> {
    sign_in(email, password, tenant, next)
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
        .login(tenant, &LoginRequest { email, password })
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
            Err(client::ClientError::Api { status: 429, .. }) => {
                return Err(AppError::invalid(
                    "email",
                    "Too many attempts: this account is locked for a while.",
                ))
            }
            Err(e) => return Err(e.into()),
        };
    ssr::append_cookies(&ssr::session_cookies(&tokens, state.secure_cookies));
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
                        .find(|c| c.name() == ssr::REFRESH_COOKIE)
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
    ssr::append_cookies(&ssr::cleared_cookies(state.secure_cookies));
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
