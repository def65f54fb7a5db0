//! `/connectors/{id}/reconciliation/...`: runs, their reports, discrepancies, remediation and the audit log.
//! The behaviour is specified in `specs/reconciliation.md`; every id of another tenant answers 404.

use axum::{extract::State, http::StatusCode, Json};
use dto::{
    ActionList, BulkItem, BulkRemediateRequest, BulkRemediateResponse, ConnectorId, Discrepancy,
    DiscrepancyId, DiscrepancyList, PreviewResponse, ReconciliationReport, ReconciliationRun,
    RemediationResult, RunId, RunList,
};
use enums::{
    DiscrepancyType, ReconciliationMode, ReconciliationRunStatus, RemediationAction,
    RemediationDirection, ResolutionStatus, RunAction,
};

use super::{
    body::JsonObject,
    params::{PathId, PathIds, QueryParams},
};
use crate::{
    auth::AdminContext,
    reconcile::remedy::Ask,
    store::{self, ActionFilter, DiscrepancyFilter, RunChange, RunRequest},
    ApiError, AppState,
};

/// Longest external uid accepted in a filter.
const MAX_UID_FILTER: usize = 256;

async fn known_connector(
    state: &AppState,
    admin: &AdminContext,
    id: ConnectorId,
) -> Result<(), ApiError> {
    store::get_connector(state.pool(), admin.tenant_id, id)
        .await?
        .map(|_| ())
        .ok_or_else(|| ApiError::NotFound(format!("connector {id} not found")))
}

/// `POST /connectors/{id}/reconciliation/runs {mode, dry_run?}`: 202 with the pending run, or the gate's
/// refusal.
pub async fn start(
    admin: AdminContext,
    State(state): State<AppState>,
    PathId(id): PathId<ConnectorId>,
    body: JsonObject,
) -> Result<(StatusCode, Json<ReconciliationRun>), ApiError> {
    let request = RunRequest {
        tenant_id: admin.tenant_id,
        connector_id: id,
        mode: body.required_member::<ReconciliationMode>("mode")?,
        dry_run: body.bool("dry_run")?.unwrap_or(false),
        created_by: Some(admin.user_id),
        scheduled: false,
    };
    match state.reconciler().admit(request).await? {
        None => Err(ApiError::NotFound(format!("connector {id} not found"))),
        Some(Err(refusal)) => Err(refusal.into()),
        Some(Ok(run)) => Ok((StatusCode::ACCEPTED, Json(run.run))),
    }
}

/// `GET /connectors/{id}/reconciliation/runs?mode&status&limit&offset`: newest first.
pub async fn list(
    admin: AdminContext,
    State(state): State<AppState>,
    PathId(id): PathId<ConnectorId>,
    params: QueryParams,
) -> Result<Json<RunList>, ApiError> {
    let mode = params.member::<ReconciliationMode>("mode")?;
    let status = params.member::<ReconciliationRunStatus>("status")?;
    let page = params.page()?;
    known_connector(&state, &admin, id).await?;
    let (runs, total) =
        store::list_runs(state.pool(), admin.tenant_id, id, mode, status, page).await?;
    Ok(Json(RunList {
        runs,
        total,
        limit: Some(page.limit),
        offset: Some(page.offset),
    }))
}

async fn run_state(
    state: &AppState,
    admin: &AdminContext,
    id: ConnectorId,
    run: RunId,
) -> Result<store::RunState, ApiError> {
    store::run_state(state.pool(), admin.tenant_id, id, run)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("run {run} not found")))
}

/// `GET .../runs/{run_id}`.
pub async fn get(
    admin: AdminContext,
    State(state): State<AppState>,
    PathIds(id, run): PathIds<ConnectorId, RunId>,
) -> Result<Json<ReconciliationRun>, ApiError> {
    Ok(Json(run_state(&state, &admin, id, run).await?.run))
}

/// `GET .../runs/{run_id}/report`.
pub async fn report(
    admin: AdminContext,
    State(state): State<AppState>,
    PathIds(id, run): PathIds<ConnectorId, RunId>,
) -> Result<Json<ReconciliationReport>, ApiError> {
    let run = run_state(&state, &admin, id, run).await?;
    Ok(Json(store::run_report(state.pool(), &run).await?))
}

async fn change(
    state: &AppState,
    admin: &AdminContext,
    id: ConnectorId,
    run: RunId,
    action: RunAction,
) -> Result<store::RunState, ApiError> {
    match store::change_run(
        state.pool(),
        admin.tenant_id,
        id,
        run,
        action,
        chrono::Utc::now(),
    )
    .await?
    {
        RunChange::Applied(run) => {
            if action == RunAction::Resume {
                state.reconciler().wake();
            }
            Ok(*run)
        }
        RunChange::NotFound => Err(ApiError::NotFound(format!("run {run} not found"))),
        RunChange::Gated(refusal) => Err(refusal.into()),
        RunChange::Refused(current) => {
            let allowed: Vec<&str> = ReconciliationRunStatus::ALL
                .iter()
                .filter(|s| s.allows(action))
                .map(|s| s.as_str())
                .collect();
            Err(ApiError::InvalidState {
                current_status: current.as_str().to_owned(),
                message: format!(
                    "the run is {current}; only {} runs can be {}",
                    allowed.join(" or "),
                    match action {
                        RunAction::Cancel => "cancelled",
                        RunAction::Pause => "paused",
                        RunAction::Resume => "resumed",
                    }
                ),
            })
        }
    }
}

/// `POST .../runs/{run_id}/cancel`: 204.
pub async fn cancel(
    admin: AdminContext,
    State(state): State<AppState>,
    PathIds(id, run): PathIds<ConnectorId, RunId>,
) -> Result<StatusCode, ApiError> {
    change(&state, &admin, id, run, RunAction::Cancel).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST .../runs/{run_id}/pause`: the paused run.
pub async fn pause(
    admin: AdminContext,
    State(state): State<AppState>,
    PathIds(id, run): PathIds<ConnectorId, RunId>,
) -> Result<Json<ReconciliationRun>, ApiError> {
    Ok(Json(
        change(&state, &admin, id, run, RunAction::Pause).await?.run,
    ))
}

/// `POST .../runs/{run_id}/resume`: the run, pending again (it continues from its checkpoint).
pub async fn resume(
    admin: AdminContext,
    State(state): State<AppState>,
    PathIds(id, run): PathIds<ConnectorId, RunId>,
) -> Result<Json<ReconciliationRun>, ApiError> {
    Ok(Json(
        change(&state, &admin, id, run, RunAction::Resume)
            .await?
            .run,
    ))
}

/// `GET /connectors/{id}/reconciliation/discrepancies?run_id&discrepancy_type&resolution_status&identity_id&external_uid&limit&offset`.
pub async fn discrepancies(
    admin: AdminContext,
    State(state): State<AppState>,
    PathId(id): PathId<ConnectorId>,
    params: QueryParams,
) -> Result<Json<DiscrepancyList>, ApiError> {
    let filter = DiscrepancyFilter {
        run_id: params.id("run_id")?,
        discrepancy_type: params.member::<DiscrepancyType>("discrepancy_type")?,
        resolution_status: params.member::<ResolutionStatus>("resolution_status")?,
        identity_id: params.id("identity_id")?,
        external_uid: params.text("external_uid", MAX_UID_FILTER)?,
    };
    let page = params.page()?;
    known_connector(&state, &admin, id).await?;
    let (discrepancies, total) =
        store::list_discrepancies(state.pool(), admin.tenant_id, id, &filter, page).await?;
    Ok(Json(DiscrepancyList {
        discrepancies,
        total,
        limit: Some(page.limit),
        offset: Some(page.offset),
    }))
}

/// `GET .../discrepancies/{discrepancy_id}`.
pub async fn discrepancy(
    admin: AdminContext,
    State(state): State<AppState>,
    PathIds(id, did): PathIds<ConnectorId, DiscrepancyId>,
) -> Result<Json<Discrepancy>, ApiError> {
    store::get_discrepancy(state.pool(), admin.tenant_id, id, did)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("discrepancy {did} not found")))
}

fn ask(body: &JsonObject) -> Result<Ask, ApiError> {
    Ok(Ask {
        action: body.required_member::<RemediationAction>("action")?,
        direction: body.required_member::<RemediationDirection>("direction")?,
        identity_id: body.id("identity_id")?,
    })
}

/// `POST .../discrepancies/{discrepancy_id}/remediate {action, direction, identity_id?, dry_run?}`.
pub async fn remediate(
    admin: AdminContext,
    State(state): State<AppState>,
    PathIds(id, did): PathIds<ConnectorId, DiscrepancyId>,
    body: JsonObject,
) -> Result<Json<RemediationResult>, ApiError> {
    let ask = ask(&body)?;
    let dry_run = body.bool("dry_run")?.unwrap_or(false);
    let result = state
        .reconciler()
        .remediate(admin.tenant_id, id, did, ask, dry_run, admin.user_id)
        .await?;
    Ok(Json(result))
}

/// `POST .../discrepancies/bulk-remediate {items: [{discrepancy_id, action, direction, identity_id?}], dry_run?}`:
/// 1..=100 items, each on its own.
pub async fn bulk_remediate(
    admin: AdminContext,
    State(state): State<AppState>,
    PathId(id): PathId<ConnectorId>,
    body: JsonObject,
) -> Result<Json<BulkRemediateResponse>, ApiError> {
    let raw = body
        .array("items")?
        .ok_or_else(|| ApiError::validation("items", "items is required"))?;
    // The cap first: an over-cap request is refused before any item is read.
    BulkRemediateRequest::check_count(raw.len())?;
    let mut items = Vec::with_capacity(raw.len());
    for (i, value) in raw.iter().enumerate() {
        let named = |err: ApiError| match err {
            ApiError::Validation { field, message } => {
                ApiError::validation(format!("items[{i}].{field}"), message)
            }
            other => other,
        };
        let item = JsonObject::from_value(value).ok_or_else(|| {
            ApiError::validation(format!("items[{i}]"), "each item must be an object")
        })?;
        let ask = ask(&item).map_err(named)?;
        items.push(BulkItem {
            discrepancy_id: item.required_id("discrepancy_id").map_err(named)?,
            action: ask.action,
            direction: ask.direction,
            identity_id: ask.identity_id,
        });
    }
    let request = BulkRemediateRequest {
        items,
        dry_run: body.bool("dry_run")?.unwrap_or(false),
    };
    let answer = state
        .reconciler()
        .bulk_remediate(admin.tenant_id, id, &request, admin.user_id)
        .await?;
    Ok(Json(answer))
}

/// `POST .../discrepancies/preview {discrepancy_ids}`: what the suggested remediation of each would change.
pub async fn preview(
    admin: AdminContext,
    State(state): State<AppState>,
    PathId(id): PathId<ConnectorId>,
    body: JsonObject,
) -> Result<Json<PreviewResponse>, ApiError> {
    let raw = body
        .array("discrepancy_ids")?
        .ok_or_else(|| ApiError::validation("discrepancy_ids", "discrepancy_ids is required"))?;
    let ids = raw
        .iter()
        .map(|v| {
            v.as_str()
                .and_then(|s| uuid::Uuid::parse_str(s).ok())
                .map(DiscrepancyId)
                .ok_or_else(|| ApiError::validation("discrepancy_ids", "each id must be a uuid"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let answer = state
        .reconciler()
        .preview(admin.tenant_id, id, &ids)
        .await?;
    Ok(Json(answer))
}

/// `POST .../discrepancies/{discrepancy_id}/ignore`: 204.
pub async fn ignore(
    admin: AdminContext,
    State(state): State<AppState>,
    PathIds(id, did): PathIds<ConnectorId, DiscrepancyId>,
) -> Result<StatusCode, ApiError> {
    state
        .reconciler()
        .ignore(admin.tenant_id, id, did, admin.user_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /connectors/{id}/reconciliation/actions?discrepancy_id&action_type&result&dry_run&limit&offset`.
pub async fn actions(
    admin: AdminContext,
    State(state): State<AppState>,
    PathId(id): PathId<ConnectorId>,
    params: QueryParams,
) -> Result<Json<ActionList>, ApiError> {
    let mut action_types: Vec<&str> = RemediationAction::ALL.iter().map(|a| a.as_str()).collect();
    action_types.push("ignore");
    let filter = ActionFilter {
        discrepancy_id: params.id("discrepancy_id")?,
        action_type: params.one_of("action_type", &action_types)?,
        result: params.one_of("result", &["success", "failure"])?,
        dry_run: params.boolean("dry_run")?,
    };
    let page = params.page()?;
    known_connector(&state, &admin, id).await?;
    let (actions, total) =
        store::list_actions(state.pool(), admin.tenant_id, id, &filter, page).await?;
    Ok(Json(ActionList {
        actions,
        total,
        limit: Some(page.limit),
        offset: Some(page.offset),
    }))
}
