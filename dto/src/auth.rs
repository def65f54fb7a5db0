//! Login, refresh and the claims the console reads from an access token.

use serde::{Deserialize, Serialize};

use crate::{TenantId, UserId};

/// Longest email address a sign-in takes (RFC 5321's path limit), in characters.
pub const MAX_EMAIL_CHARS: usize = 254;
/// Longest password a sign-in takes, in bytes (checked before any hashing or throttling).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// `POST /auth/login` body (the tenant goes in the `X-Tenant-ID` header).
#[derive(Clone, Serialize, Deserialize)]
pub struct LoginRequest {
    /// Account email.
    pub email: String,
    /// Account password.
    pub password: String,
}

impl LoginRequest {
    /// The one rule for sign-in input (console and engine alike, before the throttle sees it): an email of at
    /// most [`MAX_EMAIL_CHARS`] characters and a password of at most [`MAX_PASSWORD_BYTES`] bytes.
    pub fn validate(&self) -> Result<(), crate::ErrorBody> {
        if self.email.chars().count() > MAX_EMAIL_CHARS {
            return Err(crate::ErrorBody::validation(
                "email",
                format!("An email address is at most {MAX_EMAIL_CHARS} characters."),
            ));
        }
        if self.password.len() > MAX_PASSWORD_BYTES {
            return Err(crate::ErrorBody::validation(
                "password",
                format!("A password is at most {MAX_PASSWORD_BYTES} bytes."),
            ));
        }
        Ok(())
    }
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
    /// Whom it is for: one audience or several (RFC 7519 allows a string or a list; xavyo-idp sends a list).
    #[serde(default, skip_serializing_if = "Audience::is_empty")]
    pub aud: Audience,
}

/// A token's `aud` claim: read from a string or a list of strings, written as a string when it holds one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audience(pub Vec<String>);

impl Audience {
    /// An audience of one.
    pub fn one(aud: impl Into<String>) -> Self {
        Self(vec![aud.into()])
    }

    /// True when the token names no audience.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when `aud` is one of the token's audiences.
    pub fn contains(&self, aud: &str) -> bool {
        self.0.iter().any(|a| a == aud)
    }
}

impl Serialize for Audience {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => serializer.serialize_str(one),
            many => many.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        Ok(match OneOrMany::deserialize(deserializer)? {
            OneOrMany::One(one) => Self(vec![one]),
            OneOrMany::Many(many) => Self(many),
        })
    }
}

impl Claims {
    /// True when the roles let the holder use the console.
    pub fn is_admin(&self) -> bool {
        enums::Role::grants_admin(&self.roles)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The payload of an access token as xavyo-idp signs it: `aud` is a list, the admin role is `super_admin`.
    const XAVYO_PAYLOAD: &str = r#"{
        "sub": "5f0c2d8e-8a3b-4c1d-9e7f-1a2b3c4d5e6f",
        "iss": "xavyo",
        "aud": ["xavyo"],
        "exp": 1764000900,
        "iat": 1764000000,
        "jti": "0b8e4c9a-3f2d-4e1b-8a7c-6d5e4f3a2b1c",
        "tid": "11111111-2222-4333-8444-555555555555",
        "roles": ["super_admin"],
        "email": "admin@example.com"
    }"#;

    #[test]
    fn a_xavyo_token_with_a_list_audience_is_read() {
        let claims: Claims = serde_json::from_str(XAVYO_PAYLOAD).expect("xavyo claims parse");
        assert_eq!(claims.aud, Audience(vec!["xavyo".to_owned()]));
        assert!(claims.aud.contains("xavyo"));
        assert!(claims.is_admin());
        assert_eq!(claims.email, "admin@example.com");
    }

    #[test]
    fn an_audience_is_read_from_a_string_a_list_or_nothing_and_written_back_the_same() {
        let cases = [
            (r#""provisioning""#, vec!["provisioning"]),
            (r#"["a","b"]"#, vec!["a", "b"]),
            (r#"[]"#, vec![]),
        ];
        for (json, want) in cases {
            let aud: Audience = serde_json::from_str(json).expect(json);
            assert_eq!(aud.0, want, "{json}");
            assert_eq!(serde_json::to_string(&aud).expect("writes"), json, "{json}");
        }
        let without: Claims =
            serde_json::from_str(&XAVYO_PAYLOAD.replace(r#""aud": ["xavyo"],"#, ""))
                .expect("no aud parses");
        assert!(without.aud.is_empty());
        assert!(!serde_json::to_string(&without)
            .expect("writes")
            .contains("aud"));
        assert!(serde_json::from_str::<Audience>("42").is_err());
    }

    #[test]
    fn sign_in_input_is_bounded_and_names_the_field() {
        let ok = LoginRequest {
            email: "a".repeat(MAX_EMAIL_CHARS),
            password: "p".repeat(MAX_PASSWORD_BYTES),
        };
        assert!(ok.validate().is_ok());
        let long_email = LoginRequest {
            email: "a".repeat(MAX_EMAIL_CHARS + 1),
            ..ok.clone()
        };
        assert_eq!(
            long_email.validate().unwrap_err().field.as_deref(),
            Some("email")
        );
        // Bytes, not characters: 513 two-byte characters are over a 1,024-byte limit.
        let long_password = LoginRequest {
            password: "é".repeat(MAX_PASSWORD_BYTES / 2 + 1),
            ..ok
        };
        assert_eq!(
            long_password.validate().unwrap_err().field.as_deref(),
            Some("password")
        );
    }
}
