//! The engine's two error types: [`ApiError`] answers HTTP requests, [`EngineError`] stops a start.

use std::net::SocketAddr;

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use dto::ErrorBody;

/// Every way a request can fail; each kind maps to one status and one `error` code.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401 `unauthorized`: no credentials, or credentials that do not hold.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// 403 `forbidden`: authenticated, but not allowed.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 404 `not_found`: no such row in this tenant (rows of other tenants included).
    #[error("not found: {0}")]
    NotFound(String),
    /// 400 `validation_error` naming the request field at fault.
    #[error("invalid {field}: {message}")]
    Validation {
        /// The query parameter, path segment, header or body field.
        field: String,
        /// What is wrong with it, for people.
        message: String,
    },
    /// 409 `invalid_operation_state`: the entity's status does not allow the change; nothing changed.
    #[error("invalid state {current_status}: {message}")]
    InvalidState {
        /// Its status now.
        current_status: String,
        /// Why, naming that status.
        message: String,
    },
    /// 429 `too_many_requests` with `Retry-After`: too many failed sign-ins, or too many at once.
    #[error("too many requests: {message}")]
    TooManyRequests {
        /// When to try again.
        retry_after: std::time::Duration,
        /// For people, saying when.
        message: String,
    },
    /// A start the gate did not admit: 409 `deduped` / `scope_busy`, 422 `blocked`, with their fields.
    #[error("refused: {}", .1.message)]
    Refused(StatusCode, Box<ErrorBody>),
    /// 500 `internal_error`; the detail is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A `validation_error` for `field`.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Validation { .. } => StatusCode::BAD_REQUEST,
            Self::InvalidState { .. } => StatusCode::CONFLICT,
            Self::Refused(status, _) => *status,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The JSON body this error answers with.
    pub fn body(&self) -> ErrorBody {
        match self {
            Self::Unauthorized(message) => ErrorBody::new("unauthorized", message.as_str()),
            Self::Forbidden(message) => ErrorBody::new("forbidden", message.as_str()),
            Self::NotFound(message) => ErrorBody::new("not_found", message.as_str()),
            Self::Validation { field, message } => ErrorBody::validation(field, message.as_str()),
            Self::InvalidState {
                current_status,
                message,
            } => ErrorBody {
                current_status: Some(current_status.clone()),
                ..ErrorBody::new("invalid_operation_state", message.as_str())
            },
            Self::Refused(_, body) => (**body).clone(),
            Self::TooManyRequests { message, .. } => {
                ErrorBody::new("too_many_requests", message.as_str())
            }
            Self::Internal(_) => ErrorBody::new(
                "internal_error",
                "the engine could not complete the request",
            ),
        }
    }
}

impl From<ErrorBody> for ApiError {
    /// Validation errors from the `dto` checks (`validate()`), which come as bodies already.
    fn from(body: ErrorBody) -> Self {
        match body.field {
            Some(field) => Self::Validation {
                field,
                message: body.message,
            },
            None => Self::Internal(format!("{}: {}", body.error, body.message)),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        Self::Internal(format!("database: {err}"))
    }
}

impl From<crate::queue::ActionError> for ApiError {
    fn from(err: crate::queue::ActionError) -> Self {
        use crate::queue::ActionError;
        match err {
            ActionError::NotFound => Self::NotFound("operation not found".into()),
            ActionError::InvalidState { current, message } => Self::InvalidState {
                current_status: current.as_str().to_owned(),
                message,
            },
            ActionError::Refused(refusal) => refusal.into(),
            ActionError::Database(err) => err.into(),
        }
    }
}

impl From<crate::store::StartRefusal> for ApiError {
    fn from(refusal: crate::store::StartRefusal) -> Self {
        use crate::gate::{Existing, StartRefusal};
        match refusal {
            StartRefusal::Blocked {
                reason_code,
                message,
                next_step,
            } => Self::Refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                Box::new(ErrorBody {
                    reason_code: Some(reason_code.into()),
                    next_step: Some(next_step.into()),
                    ..ErrorBody::new("blocked", message)
                }),
            ),
            StartRefusal::Deduped(Existing::Run(run)) => Self::Refused(
                StatusCode::CONFLICT,
                Box::new(ErrorBody {
                    existing_run_id: Some(run.0),
                    ..ErrorBody::new(
                        "deduped",
                        "an equivalent run of this connector is already active; nothing new was started",
                    )
                }),
            ),
            StartRefusal::Deduped(Existing::Operation(op)) => Self::Refused(
                StatusCode::CONFLICT,
                Box::new(ErrorBody {
                    existing_operation_id: Some(op.0),
                    ..ErrorBody::new(
                        "deduped",
                        "an equivalent operation (same connector, account and type) is already queued; \
                         nothing new was started",
                    )
                }),
            ),
            StartRefusal::ScopeBusy(active) => {
                let message = match active.kind.as_str() {
                    "remediation" => "a remediation is changing this connector's accounts right now; \
                                      nothing was started",
                    _ => "a reconciliation run holds this connector; nothing was started",
                };
                Self::Refused(
                    StatusCode::CONFLICT,
                    Box::new(ErrorBody {
                        active: Some(active),
                        ..ErrorBody::new("scope_busy", message)
                    }),
                )
            }
        }
    }
}

impl From<crate::reconcile::remedy::Refusal> for ApiError {
    fn from(refusal: crate::reconcile::remedy::Refusal) -> Self {
        use crate::reconcile::remedy::Refusal;
        match refusal {
            Refusal::NotFound(message) => Self::NotFound(message),
            Refusal::Invalid { field, message } => Self::validation(field, message),
            Refusal::Settled { current, message } => Self::InvalidState {
                current_status: current.as_str().to_owned(),
                message,
            },
            Refusal::NotStarted(refusal) => refusal.into(),
            Refusal::Database(err) => err.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(detail) = &self {
            tracing::error!(%detail, "request failed");
        }
        let mut response = (self.status(), Json(self.body())).into_response();
        if let Self::TooManyRequests { retry_after, .. } = &self {
            let seconds = retry_after.as_secs().max(1);
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds),
            );
        }
        response
    }
}

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The SQLite file could not be opened or queried.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why it failed.
        source: std::io::Error,
    },
    /// A file-system error (e.g. creating the database's folder).
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The configuration cannot be used.
    #[error("configuration error: {0}")]
    Config(String),
    /// A password could not be hashed.
    #[error("password hashing failed: {0}")]
    PasswordHash(String),
    /// The demo data could not be played through the queue.
    #[error("the demo data could not be seeded: {0}")]
    Demo(String),
}
