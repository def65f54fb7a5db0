//! The HTTP API: routes, handlers and the request log.

mod auth;
mod body;
mod conflicts;
mod connectors;
mod operations;
mod params;
mod reconciliation;
mod schedules;

use std::time::Instant;

use axum::{
    extract::{DefaultBodyLimit, Request, State},
    http::StatusCode,
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use dto::ErrorBody;

use crate::{ApiError, AppState};

/// Every route of the engine over `state`; serve it, or drive it with `tower::ServiceExt::oneshot` in tests.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/auth/login", post(auth::login).layer(auth_body_limit()))
        .route(
            "/auth/refresh",
            post(auth::refresh).layer(auth_body_limit()),
        )
        .route("/auth/logout", post(auth::logout).layer(auth_body_limit()))
        .route("/features", get(features))
        .route("/connectors", get(connectors::list))
        .route("/connectors/{id}", get(connectors::get))
        .route(
            "/connectors/{id}/settings",
            get(connectors::settings).put(connectors::put_settings),
        )
        .route(
            "/connectors/{id}/reconciliation/runs",
            get(reconciliation::list).post(reconciliation::start),
        )
        .route(
            "/connectors/{id}/reconciliation/runs/{run_id}",
            get(reconciliation::get),
        )
        .route(
            "/connectors/{id}/reconciliation/runs/{run_id}/report",
            get(reconciliation::report),
        )
        .route(
            "/connectors/{id}/reconciliation/runs/{run_id}/cancel",
            post(reconciliation::cancel),
        )
        .route(
            "/connectors/{id}/reconciliation/runs/{run_id}/pause",
            post(reconciliation::pause),
        )
        .route(
            "/connectors/{id}/reconciliation/runs/{run_id}/resume",
            post(reconciliation::resume),
        )
        .route(
            "/connectors/{id}/reconciliation/discrepancies",
            get(reconciliation::discrepancies),
        )
        .route(
            "/connectors/{id}/reconciliation/discrepancies/bulk-remediate",
            post(reconciliation::bulk_remediate),
        )
        .route(
            "/connectors/{id}/reconciliation/discrepancies/preview",
            post(reconciliation::preview),
        )
        .route(
            "/connectors/{id}/reconciliation/discrepancies/{discrepancy_id}",
            get(reconciliation::discrepancy),
        )
        .route(
            "/connectors/{id}/reconciliation/discrepancies/{discrepancy_id}/remediate",
            post(reconciliation::remediate),
        )
        .route(
            "/connectors/{id}/reconciliation/discrepancies/{discrepancy_id}/ignore",
            post(reconciliation::ignore),
        )
        .route(
            "/connectors/{id}/reconciliation/actions",
            get(reconciliation::actions),
        )
        .route(
            "/connectors/{id}/reconciliation/schedule",
            get(schedules::get)
                .put(schedules::put)
                .delete(schedules::delete),
        )
        .route(
            "/connectors/{id}/reconciliation/schedule/enable",
            post(schedules::enable),
        )
        .route(
            "/connectors/{id}/reconciliation/schedule/disable",
            post(schedules::disable),
        )
        .route("/reconciliation/schedules", get(schedules::list))
        .route("/reconciliation/trend", get(schedules::trend))
        .route(
            "/operations",
            get(operations::list).post(operations::create),
        )
        // Static segments win over `{id}` in axum's router, whatever the order here.
        .route("/operations/stats", get(operations::stats))
        .route("/operations/dlq", get(operations::dead_letters))
        .route("/operations/conflicts", get(conflicts::list))
        .route("/operations/conflicts/{id}", get(conflicts::get))
        .route(
            "/operations/conflicts/{id}/resolve",
            post(conflicts::resolve),
        )
        .route("/operations/{id}", get(operations::get))
        .route("/operations/{id}/logs", get(operations::logs))
        .route("/operations/{id}/attempts", get(operations::attempts))
        .route("/operations/{id}/retry", post(operations::retry))
        .route("/operations/{id}/cancel", post(operations::cancel))
        .route("/operations/{id}/resolve", post(operations::resolve))
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(log_request))
        .layer(middleware::from_fn(to_the_end))
        .with_state(state)
}

fn auth_body_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(auth::AUTH_BODY_LIMIT)
}

/// Liveness and database reachability; needs no token.
async fn healthz(State(state): State<AppState>) -> Response {
    match sqlx::query("SELECT 1").execute(state.pool()).await {
        Ok(_) => Json(serde_json::json!({ "status": "ok" })).into_response(),
        Err(err) => {
            tracing::error!(%err, "health check: database unreachable");
            let body = ErrorBody::new("unavailable", "the engine's database is unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
        }
    }
}

/// What this engine does beyond xavyo-idp's API: all of the features the console knows.
async fn features(_admin: crate::auth::AdminContext) -> Json<dto::UpstreamFeatures> {
    Json(dto::UpstreamFeatures::all())
}

async fn no_route() -> ApiError {
    ApiError::NotFound("no such endpoint".into())
}

async fn method_not_allowed() -> Response {
    let body = ErrorBody::new(
        "method_not_allowed",
        "this endpoint does not take that method",
    );
    (StatusCode::METHOD_NOT_ALLOWED, Json(body)).into_response()
}

/// Runs a request that may change state (any method but the safe ones: GET, HEAD, OPTIONS) in a task of its
/// own, which the request only waits for. axum drops a handler's future when its caller goes away (a client
/// timeout, a closed tab): without the task, a remediation could claim its discrepancy and never apply, settle
/// or audit it, and the connector would stay held. A read just stops.
async fn to_the_end(request: Request, next: Next) -> Response {
    if request.method().is_safe() {
        return next.run(request).await;
    }
    match tokio::spawn(next.run(request)).await {
        Ok(response) => response,
        Err(err) => ApiError::Internal(format!("the request's task failed: {err}")).into_response(),
    }
}

/// Logs method, path (never the query or headers: no tokens in logs), status and time taken.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    tracing::info!(%method, %path, status = response.status().as_u16(), elapsed_ms, "request");
    response
}
