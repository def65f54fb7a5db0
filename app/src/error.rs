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
