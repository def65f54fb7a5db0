//! Login, refresh and the claims the console reads from an access token.

use serde::{Deserialize, Serialize};

use crate::{TenantId, UserId};

/// `POST /auth/login` body (the tenant goes in the `X-Tenant-ID` header).
#[derive(Clone, Serialize, Deserialize)]
pub struct LoginRequest {
    /// Account email.
    pub email: String,
    /// Account password.
    pub password: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// `POST /auth/refresh` and `/auth/logout` body.
#[derive(Clone, Serialize, Deserialize)]
pub struct RefreshRequest {
    /// The current refresh token (it rotates on refresh).
    pub refresh_token: String,
}

/// A successful login or refresh.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenPair {
    /// Short-lived JWT for API calls.
    pub access_token: String,
    /// Long-lived, single-use token to get a new pair.
    pub refresh_token: String,
    /// Always `Bearer`.
    #[serde(default = "bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

fn bearer() -> String {
    "Bearer".to_owned()
}

impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenPair")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// What `POST /auth/login` answers: tokens, or a request for a second factor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LoginResponse {
    /// Logged in.
    Tokens(TokenPair),
    /// xavyo-idp wants a second factor; the console does not support MFA.
    MfaRequired {
        /// Always true.
        mfa_required: bool,
        /// Methods the account could use.
        #[serde(default)]
        available_methods: Vec<String>,
    },
}

/// The access-token claims the console and the engine use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: UserId,
    /// The tenant the token is for.
    pub tid: TenantId,
    /// Role names, e.g. `admin`.
    #[serde(default)]
    pub roles: Vec<String>,
    /// The user's email.
    #[serde(default)]
    pub email: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at, seconds since the epoch.
    #[serde(default)]
    pub iat: i64,
    /// Unique token id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Who issued it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Whom it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

impl Claims {
    /// True when the roles let the holder use the console.
    pub fn is_admin(&self) -> bool {
        enums::Role::grants_admin(&self.roles)
    }
}
