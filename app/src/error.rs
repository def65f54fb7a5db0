//! The one error type that crosses the server-function boundary.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

/// What went wrong, in terms the UI can act on. Never carries tokens, SQL or stack traces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// No valid session: sign in again.
    #[error("Your session has ended. Please sign in again.")]
    Unauthorized,
    /// Signed in, but not an administrator of this tenant.
    #[error("This console is for administrators only.")]
    Forbidden,
    /// The thing asked for does not exist (or belongs to another tenant).
    #[error("{0}")]
    NotFound(String),
    /// The request was refused as invalid; `field` names the input at fault.
    #[error("{message}")]
    Validation {
        /// The input at fault.
        field: Option<String>,
        /// What is wrong with it.
        message: String,
    },
    /// The request clashed with the current state (already resolved, already running, ...).
    #[error("{message}")]
    Conflict {
        /// Machine code, e.g. `invalid_operation_state`, `deduped`.
        code: String,
        /// What happened, for people.
        message: String,
    },
    /// The start gate did not admit a start: its answer (`deduped`, `scope_busy`, `blocked`) and the
    /// sentence every start surface uses ([`Outcome::sentence`](crate::components::start_outcome::Outcome)).
    #[error("{message}")]
    NotStarted {
        /// The gate's answer, as the API spells it.
        outcome: String,
        /// What happened and what to do, for people.
        message: String,
    },
    /// The provisioning service answered with an error we pass on.
    #[error("The provisioning service answered: {message}")]
    Upstream {
        /// Its HTTP status.
        status: u16,
        /// Its message.
        message: String,
    },
    /// A sign-in did not happen, for one of the reasons the login page knows (and words itself).
    #[error("{0}")]
    SignIn(SignInProblem),
    /// The provisioning service could not be reached or did not answer in time.
    #[error("The provisioning service is unavailable ({0}).")]
    Unavailable(String),
    /// A fault on our side; details are in the server log, not here.
    #[error("Something went wrong in the console: {0}")]
    Internal(String),
}

impl AppError {
    /// The HTTP status this error stands for.
    pub fn status(&self) -> u16 {
        match self {
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::NotFound(_) => 404,
            Self::Validation { .. } => 400,
            Self::Conflict { .. } => 409,
            Self::NotStarted { outcome, .. } if outcome == "blocked" => 422,
            Self::NotStarted { .. } => 409,
            Self::SignIn(problem) => problem.status(),
            Self::Upstream { status, .. } => *status,
            Self::Unavailable(_) => 503,
            Self::Internal(_) => 500,
        }
    }

    /// A validation error naming `field`.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Validation {
            field: Some(field.to_owned()),
            message: message.into(),
        }
    }
}

/// Why a sign-in did not happen. A failed plain form post comes back to the login page with its error in
/// the URL, where anyone can write one: so the page shows a sentence of its own for each of these codes
/// (and a generic one for anything else), never a message from its URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInProblem {
    /// No email, or not an address.
    EmailMissing,
    /// Longer than [`dto::MAX_EMAIL_CHARS`].
    EmailTooLong,
    /// No password.
    PasswordMissing,
    /// Longer than [`dto::MAX_PASSWORD_BYTES`].
    PasswordTooLong,
    /// The tenant is not a UUID.
    TenantInvalid,
    /// The upstream refused the email, password or tenant.
    Refused,
    /// The account is disabled.
    AccountDisabled,
    /// Too many failed sign-ins; `minutes` when the upstream said how long to wait.
    LockedOut {
        /// Minutes until the next try, as the upstream said.
        minutes: Option<u32>,
    },
    /// The account needs a second factor, which this console does not support.
    MfaRequired,
    /// The upstream issued an access token the console cannot read (logged), so there is no session.
    TokenUnreadable,
}

impl SignInProblem {
    /// The form field the problem is shown beside; `None` for the form as a whole.
    pub fn field(self) -> Option<&'static str> {
        match self {
            Self::EmailMissing
            | Self::EmailTooLong
            | Self::AccountDisabled
            | Self::LockedOut { .. } => Some("email"),
            Self::PasswordMissing | Self::PasswordTooLong | Self::Refused | Self::MfaRequired => {
                Some("password")
            }
            Self::TenantInvalid => Some("tenant"),
            Self::TokenUnreadable => None,
        }
    }

    /// The HTTP status of the refusal.
    pub fn status(self) -> u16 {
        match self {
            Self::LockedOut { .. } => 429,
            Self::TokenUnreadable => 502,
            _ => 400,
        }
    }
}

impl std::fmt::Display for SignInProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::EmailMissing => f.write_str("Enter the email address of your account."),
            Self::EmailTooLong => write!(
                f,
                "An email address is at most {} characters.",
                dto::MAX_EMAIL_CHARS
            ),
            Self::PasswordMissing => f.write_str("Enter your password."),
            Self::PasswordTooLong => {
                write!(f, "A password is at most {} bytes.", dto::MAX_PASSWORD_BYTES)
            }
            Self::TenantInvalid => f.write_str(
                "The tenant id is a UUID, e.g. 3f1e9a2b-5c6d-4e7f-8a9b-0123456789ab.",
            ),
            Self::Refused => f.write_str("The email, password or tenant is incorrect."),
            Self::AccountDisabled => f.write_str("This account is disabled."),
            Self::LockedOut { minutes: Some(1) } => {
                f.write_str("Too many failed sign-ins; try again in 1 minute.")
            }
            Self::LockedOut { minutes: Some(m) } => {
                write!(f, "Too many failed sign-ins; try again in {m} minutes.")
            }
            Self::LockedOut { minutes: None } => {
                f.write_str("Too many sign-in attempts; try again later.")
            }
            Self::MfaRequired => f.write_str(
                "This account requires multi-factor sign-in, which this console does not support.",
            ),
            Self::TokenUnreadable => f.write_str(
                "The console cannot read the session token the provisioning service issued, so you \
                 are not signed in. Tell the console's operator: the details are in its log.",
            ),
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::MissingArg(m) => Self::Validation {
                field: None,
                message: format!("Invalid request: {m}"),
            },
            ServerFnErrorErr::Request(_) => {
                Self::Unavailable("the console's server could not be reached".to_owned())
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<dto::ErrorBody> for AppError {
    /// A validation refusal from the shared DTO checks (`validate()`), naming its field.
    fn from(e: dto::ErrorBody) -> Self {
        Self::Validation {
            field: e.field,
            message: e.message,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<client::ClientError> for AppError {
    fn from(e: client::ClientError) -> Self {
        use client::ClientError as E;
        // The start gate's refusal says what came of the start and what to do: not an "invalid request".
        if let Some(refused) = e.start_refused() {
            return crate::components::start_outcome::Outcome::refused(refused, None).into();
        }
        match e {
            E::Api { status, body } => match status {
                401 => Self::Unauthorized,
                403 => Self::Forbidden,
                404 => Self::NotFound(body.message),
                400 | 422 => Self::Validation {
                    field: body.field,
                    message: body.message,
                },
                409 => Self::Conflict {
                    code: body.error,
                    message: body.message,
                },
                _ => Self::Upstream {
                    status,
                    message: body.message,
                },
            },
            E::Unavailable(why) => Self::Unavailable(why),
            E::Timeout => Self::Unavailable("it did not answer in time".to_owned()),
            E::Decode(why) => {
                tracing::warn!(%why, "upstream answer could not be read");
                Self::Upstream {
                    status: 502,
                    message: "its answer could not be read".to_owned(),
                }
            }
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::AppError;
    use client::ClientError;
    use dto::ErrorBody;

    #[test]
    fn a_blocked_start_says_what_to_do_and_is_no_invalid_request() {
        let body = ErrorBody {
            reason_code: Some("connector_disabled".into()),
            next_step: Some("Enable Legacy HR, then try again.".into()),
            ..ErrorBody::new("blocked", "Legacy HR is disabled.")
        };
        let e = AppError::from(ClientError::Api {
            status: 422,
            body: Box::new(body),
        });
        assert_eq!(e.status(), 422);
        assert_eq!(
            e.to_string(),
            "Blocked: Legacy HR is disabled. Next step: Enable Legacy HR, then try again."
        );
        // Any other 422 is still a validation error naming its field.
        let e = AppError::from(ClientError::Api {
            status: 422,
            body: Box::new(ErrorBody::validation("mode", "bad mode")),
        });
        assert!(matches!(e, AppError::Validation { field: Some(f), .. } if f == "mode"));
    }
}
