//! One error type for every way an upstream call can fail.

use dto::{ErrorBody, OperationId, ProblemDetails, RunId};

/// Why an upstream call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClientError {
    /// The upstream answered with an error status; its body, whatever its shape, normalised.
    #[error("upstream answered {status}: {}", body.message)]
    Api {
        /// HTTP status.
        status: u16,
        /// The error body (codes derived from the status when the upstream sent none).
        body: Box<ErrorBody>,
    },
    /// The upstream could not be reached, or closed the connection without answering.
    #[error("provisioning service unavailable: {0}")]
    Unavailable(String),
    /// The upstream did not answer in time.
    #[error("provisioning service did not answer in time")]
    Timeout,
    /// The upstream answered success with a body we cannot read.
    #[error("unexpected answer from the provisioning service: {0}")]
    Decode(String),
}

impl ClientError {
    pub(crate) fn from_transport(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            Self::Timeout
        } else if e.is_decode() || e.is_body() {
            Self::Unavailable("the connection closed before the answer was complete".to_owned())
        } else if e.is_connect() {
            Self::Unavailable("connection refused".to_owned())
        } else {
            // Without the URL: it is ours, and the error chain may be long.
            Self::Unavailable("the connection closed with no HTTP response".to_owned())
        }
    }

    pub(crate) async fn from_response(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        match response.bytes().await {
            Ok(bytes) => Self::Api {
                status,
                body: Box::new(normalise(status, &content_type, &bytes)),
            },
            Err(e) => Self::from_transport(e),
        }
    }

    /// The HTTP status, when the upstream answered one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The error code (`not_found`, `deduped`, ...), when the upstream answered one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { body, .. } => Some(&body.error),
            _ => None,
        }
    }
}

/// Why the start gate refused to start work (a run, a resume, a retry, a remediation): read from a 409 or 422
/// answer by [`ClientError::start_refused`]. Each names what the console links to or tells the admin to do.
#[derive(Debug, Clone, PartialEq)]
pub enum StartRefused {
    /// `409 deduped`: the same work is already active; nothing new was queued.
    Deduped {
        /// The upstream's explanation.
        message: String,
        /// The run already doing it, when the upstream names one.
        run: Option<RunId>,
        /// The operation already doing it, when the upstream names one.
        operation: Option<OperationId>,
    },
    /// `409 scope_busy`: other work holds the connector (xavyo-idp's bare `409 conflict` on a start reads as
    /// this, without the work).
    ScopeBusy {
        /// The upstream's explanation.
        message: String,
        /// The run holding the connector, when the upstream names one.
        run: Option<RunId>,
        /// The operation holding the connector, when the upstream names one.
        operation: Option<OperationId>,
    },
    /// `422 blocked`: the connector cannot take work (disabled, offline, invalid credentials).
    Blocked {
        /// The upstream's explanation.
        message: String,
        /// Why, e.g. `connector_offline`.
        reason_code: Option<String>,
        /// What the admin should do next.
        next_step: Option<String>,
    },
}

impl ClientError {
    /// The start gate's refusal this error is, if it is one.
    pub fn start_refused(&self) -> Option<StartRefused> {
        let Self::Api { status, body } = self else {
            return None;
        };
        let active = |kind: &str| {
            body.active
                .as_ref()
                .filter(|a| a.kind == kind)
                .map(|a| a.id)
        };
        let message = body.message.clone();
        match (status, body.error.as_str()) {
            (409, "deduped") => Some(StartRefused::Deduped {
                message,
                run: body.existing_run_id.map(RunId),
                operation: body.existing_operation_id.map(OperationId),
            }),
            (409, "scope_busy") => Some(StartRefused::ScopeBusy {
                message,
                run: active("reconciliation_run").map(RunId),
                operation: active("operation").map(OperationId),
            }),
            (422, "blocked") => Some(StartRefused::Blocked {
                message,
                reason_code: body.reason_code.clone(),
                next_step: body.next_step.clone(),
            }),
            _ => None,
        }
    }
}

/// The code our contract uses for a status, for bodies that carry none.
fn code_for(status: u16) -> &'static str {
    match status {
        400 | 422 => "validation_error",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        409 => "conflict",
        429 => "too_many_requests",
        500..=599 => "internal_error",
        _ => "upstream_error",
    }
}

fn default_message(status: u16) -> String {
    match status {
        401 => "Your session is not valid any more.".to_owned(),
        403 => "You are not allowed to do this.".to_owned(),
        404 => "Not found.".to_owned(),
        500..=599 => "The provisioning service failed to answer this request.".to_owned(),
        _ => format!("The provisioning service refused the request (HTTP {status})."),
    }
}

/// Reads an error body in any of the upstream's shapes: our JSON, RFC 7807, plain text or nothing.
pub(crate) fn normalise(status: u16, content_type: &str, body: &[u8]) -> ErrorBody {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return ErrorBody::new(code_for(status), default_message(status));
    }
    if let Ok(mut parsed) = serde_json::from_str::<ErrorBody>(text) {
        if parsed.message.is_empty() {
            parsed.message = default_message(status);
        }
        return parsed;
    }
    if content_type.contains("problem+json") || text.starts_with('{') {
        if let Ok(problem) = serde_json::from_str::<ProblemDetails>(text) {
            let message = problem.detail.unwrap_or(problem.title);
            return ErrorBody::new(code_for(status), message);
        }
        return ErrorBody::new(code_for(status), default_message(status));
    }
    // Plain text (axum extractor rejections, JWT layer). Keep it short: it is shown to people.
    let mut message: String = text.chars().take(300).collect();
    if message.len() < text.len() {
        message.push('…');
    }
    ErrorBody::new(code_for(status), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_error_shape() {
        let ours = normalise(
            409,
            "application/json",
            br#"{"error":"invalid_operation_state","message":"is completed"}"#,
        );
        assert_eq!(ours.error, "invalid_operation_state");
        assert_eq!(ours.message, "is completed");

        let problem = normalise(
            401,
            "application/problem+json",
            br#"{"type":"x","title":"Invalid credentials","status":401,"detail":"The email or password is incorrect."}"#,
        );
        assert_eq!(problem.error, "unauthorized");
        assert_eq!(problem.message, "The email or password is incorrect.");

        let plain = normalise(400, "text/plain", b"Invalid URL: UUID parsing failed");
        assert_eq!(plain.error, "validation_error");
        assert_eq!(plain.message, "Invalid URL: UUID parsing failed");

        let empty = normalise(401, "", b"");
        assert_eq!(empty.error, "unauthorized");
        assert!(!empty.message.is_empty());

        let html = normalise(502, "text/html", b"{not json");
        assert_eq!(html.error, "internal_error");
    }
}
