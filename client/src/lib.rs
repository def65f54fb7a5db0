//! Typed client of the provisioning API: one method per endpoint, every failure one [`ClientError`].
//!
//! The same client talks to xavyo-idp in production and to the embedded engine out of the box. It reads
//! every error shape the upstream answers (our JSON body, RFC 7807, plain text, an empty body, a closed
//! connection) into [`ClientError`], so callers never see a panic or an empty list standing in for an error.

mod error;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use dto::{
    ActionList, ActionQuery, AttemptList, BulkRemediateRequest, BulkRemediateResponse, Connector,
    ConnectorFilter, ConnectorId, ConnectorList, CreateOperation, Discrepancy, DiscrepancyId,
    DiscrepancyList, DiscrepancyQuery, ErrorBody, LogList, LoginRequest, LoginResponse,
    OperationId, OperationList, OperationQuery, PreviewRequest, PreviewResponse,
    ProvisioningOperation, QueueStatistics, ReconciliationReport, ReconciliationRun,
    RefreshRequest, RemediateRequest, RemediationResult, ResolveOperation, RunId, RunList,
    RunQuery, TenantId, TokenPair, TriggerRun, UpstreamFeatures,
};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;

pub use error::{ClientError, StartRefused};

/// Who is calling: the session's access token and tenant, sent on every call but login and refresh.
#[derive(Clone, Copy)]
pub struct Caller<'a> {
    /// The bearer access token.
    pub token: &'a str,
    /// The tenant, sent as `X-Tenant-ID`.
    pub tenant: TenantId,
}

impl std::fmt::Debug for Caller<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

/// Timeouts of every upstream call.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// To open the TCP connection.
    pub connect: Duration,
    /// For the whole request, body included.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(3),
            request: Duration::from_secs(10),
        }
    }
}

/// The typed upstream client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: String,
    /// The upstream's features once known (they do not change while it runs).
    features: Arc<OnceLock<UpstreamFeatures>>,
}

impl ApiClient {
    /// A client of the API at `base_url` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base_url: &str, timeouts: Timeouts) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.request)
            .user_agent(concat!("provisioning-console/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Unavailable(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            http,
            base: base_url.trim_end_matches('/').to_owned(),
            features: Arc::default(),
        })
    }

    /// The API's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn request(&self, method: Method, path: &str, caller: Option<Caller<'_>>) -> RequestBuilder {
        let builder = self.http.request(method, format!("{}{}", self.base, path));
        match caller {
            Some(c) => builder
                .bearer_auth(c.token)
                .header("X-Tenant-ID", c.tenant.to_string()),
            None => builder,
        }
    }

    async fn send(builder: RequestBuilder) -> Result<Response, ClientError> {
        let response = builder.send().await.map_err(ClientError::from_transport)?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(ClientError::from_response(response).await)
        }
    }

    async fn json<T: DeserializeOwned>(builder: RequestBuilder) -> Result<T, ClientError> {
        let response = Self::send(builder).await?;
        let bytes = response
            .bytes()
            .await
            .map_err(ClientError::from_transport)?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode(e.to_string()))
    }

    async fn empty(builder: RequestBuilder) -> Result<(), ClientError> {
        Self::send(builder).await.map(drop)
    }

    /// `POST /auth/login` for `tenant`.
    ///
    /// `browser` is the address the sign-in came from, sent as `X-Forwarded-For` so that the upstream counts
    /// failed attempts per person, not per console.
    pub async fn login(
        &self,
        tenant: TenantId,
        body: &LoginRequest,
        browser: Option<std::net::IpAddr>,
    ) -> Result<LoginResponse, ClientError> {
        let mut req = self
            .request(Method::POST, "/auth/login", None)
            .header("X-Tenant-ID", tenant.to_string())
            .json(body);
        if let Some(addr) = browser {
            req = req.header("X-Forwarded-For", addr.to_string());
        }
        Self::json(req).await
    }

    /// `GET /features`: what the upstream does beyond xavyo-idp's API, asked until one answer is had, then
    /// kept. An upstream without the route (xavyo-idp: 404) does none of it; any other failure is returned,
    /// not kept, so the next call asks again.
    pub async fn features(&self, caller: Caller<'_>) -> Result<UpstreamFeatures, ClientError> {
        if let Some(known) = self.features.get() {
            return Ok(known.clone());
        }
        let answer = match Self::json(self.request(Method::GET, "/features", Some(caller))).await {
            Ok(features) => features,
            Err(e) if matches!(e.status(), Some(404 | 405)) => UpstreamFeatures::none(),
            Err(e) => return Err(e),
        };
        Ok(self.features.get_or_init(|| answer).clone())
    }

    /// `POST /auth/refresh`: a new token pair; the old refresh token stops working.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair, ClientError> {
        let body = RefreshRequest {
            refresh_token: refresh_token.to_owned(),
        };
        Self::json(
            self.request(Method::POST, "/auth/refresh", None)
                .json(&body),
        )
        .await
    }

    /// `POST /auth/logout`: revokes the refresh token.
    pub async fn logout(&self, caller: Caller<'_>, refresh_token: &str) -> Result<(), ClientError> {
        let body = RefreshRequest {
            refresh_token: refresh_token.to_owned(),
        };
        Self::empty(
            self.request(Method::POST, "/auth/logout", Some(caller))
                .json(&body),
        )
        .await
    }

    /// Whether the upstream answers HTTP at all (any status counts as reachable).
    pub async fn ping(&self) -> Result<StatusCode, ClientError> {
        let response = self
            .request(Method::GET, "/healthz", None)
            .send()
            .await
            .map_err(ClientError::from_transport)?;
        Ok(response.status())
    }

    /// `GET /connectors`.
    pub async fn list_connectors(&self, caller: Caller<'_>) -> Result<ConnectorList, ClientError> {
        let req = self
            .request(Method::GET, "/connectors", Some(caller))
            .query(&[("limit", dto::MAX_LIMIT)]);
        Self::json(req).await
    }

    /// `GET /connectors/{id}`.
    pub async fn get_connector(
        &self,
        caller: Caller<'_>,
        id: ConnectorId,
    ) -> Result<Connector, ClientError> {
        Self::json(self.request(Method::GET, &format!("/connectors/{id}"), Some(caller))).await
    }

    /// `GET /operations` with filters and a page.
    pub async fn list_operations(
        &self,
        caller: Caller<'_>,
        query: &OperationQuery,
    ) -> Result<OperationList, ClientError> {
        Self::json(
            self.request(Method::GET, "/operations", Some(caller))
                .query(query),
        )
        .await
    }

    /// `GET /operations/stats`, for one connector or all.
    pub async fn operation_stats(
        &self,
        caller: Caller<'_>,
        filter: &ConnectorFilter,
    ) -> Result<QueueStatistics, ClientError> {
        Self::json(
            self.request(Method::GET, "/operations/stats", Some(caller))
                .query(filter),
        )
        .await
    }

    /// `POST /operations`: enqueues; a duplicate idempotency key answers the existing operation.
    pub async fn create_operation(
        &self,
        caller: Caller<'_>,
        body: &CreateOperation,
    ) -> Result<ProvisioningOperation, ClientError> {
        Self::json(
            self.request(Method::POST, "/operations", Some(caller))
                .json(body),
        )
        .await
    }

    /// `GET /operations/{id}`.
    pub async fn get_operation(
        &self,
        caller: Caller<'_>,
        id: OperationId,
    ) -> Result<ProvisioningOperation, ClientError> {
        Self::json(self.request(Method::GET, &format!("/operations/{id}"), Some(caller))).await
    }

    /// `GET /operations/{id}/attempts`.
    pub async fn operation_attempts(
        &self,
        caller: Caller<'_>,
        id: OperationId,
    ) -> Result<AttemptList, ClientError> {
        Self::json(self.request(
            Method::GET,
            &format!("/operations/{id}/attempts"),
            Some(caller),
        ))
        .await
    }

    /// `GET /operations/{id}/logs` (either shape).
    pub async fn operation_logs(
        &self,
        caller: Caller<'_>,
        id: OperationId,
    ) -> Result<LogList, ClientError> {
        Self::json(self.request(Method::GET, &format!("/operations/{id}/logs"), Some(caller))).await
    }

    /// `GET /operations/dlq` with a connector filter and a page.
    pub async fn dead_letters(
        &self,
        caller: Caller<'_>,
        filter: &ConnectorFilter,
    ) -> Result<OperationList, ClientError> {
        Self::json(
            self.request(Method::GET, "/operations/dlq", Some(caller))
                .query(filter),
        )
        .await
    }

    /// `POST /operations/{id}/retry`: back to pending (from failed or dead_letter).
    pub async fn retry_operation(
        &self,
        caller: Caller<'_>,
        id: OperationId,
    ) -> Result<ProvisioningOperation, ClientError> {
        Self::json(self.request(
            Method::POST,
            &format!("/operations/{id}/retry"),
            Some(caller),
        ))
        .await
    }

    /// `POST /operations/{id}/cancel` (pending only).
    pub async fn cancel_operation(
        &self,
        caller: Caller<'_>,
        id: OperationId,
    ) -> Result<ProvisioningOperation, ClientError> {
        Self::json(self.request(
            Method::POST,
            &format!("/operations/{id}/cancel"),
            Some(caller),
        ))
        .await
    }

    /// `POST /operations/{id}/resolve` (dead_letter only), with notes.
    pub async fn resolve_operation(
        &self,
        caller: Caller<'_>,
        id: OperationId,
        body: &ResolveOperation,
    ) -> Result<ProvisioningOperation, ClientError> {
        let req = self
            .request(
                Method::POST,
                &format!("/operations/{id}/resolve"),
                Some(caller),
            )
            .json(body);
        Self::json(req).await
    }

    /// `GET /operations/conflicts` with filters and a page (xavyo-idp answers `pending_count`, no `total`).
    pub async fn list_conflicts(
        &self,
        caller: Caller<'_>,
        query: &dto::ConflictQuery,
    ) -> Result<dto::ConflictList, ClientError> {
        Self::json(
            self.request(Method::GET, "/operations/conflicts", Some(caller))
                .query(query),
        )
        .await
    }

    /// `GET /operations/conflicts/{id}`.
    pub async fn get_conflict(
        &self,
        caller: Caller<'_>,
        id: dto::ConflictId,
    ) -> Result<dto::ProvisioningConflict, ClientError> {
        Self::json(self.request(
            Method::GET,
            &format!("/operations/conflicts/{id}"),
            Some(caller),
        ))
        .await
    }

    /// `POST /operations/conflicts/{id}/resolve`: 409 once resolved.
    pub async fn resolve_conflict(
        &self,
        caller: Caller<'_>,
        id: dto::ConflictId,
        body: &dto::ResolveConflict,
    ) -> Result<dto::ProvisioningConflict, ClientError> {
        Self::json(
            self.request(
                Method::POST,
                &format!("/operations/conflicts/{id}/resolve"),
                Some(caller),
            )
            .json(body),
        )
        .await
    }

    /// `GET /connectors/{id}/settings`: the faults injected into a built-in directory connector.
    pub async fn connector_settings(
        &self,
        caller: Caller<'_>,
        id: ConnectorId,
    ) -> Result<dto::ConnectorSettings, ClientError> {
        Self::json(self.request(
            Method::GET,
            &format!("/connectors/{id}/settings"),
            Some(caller),
        ))
        .await
    }

    /// `PUT /connectors/{id}/settings`.
    pub async fn update_connector_settings(
        &self,
        caller: Caller<'_>,
        id: ConnectorId,
        body: &dto::UpdateConnectorSettings,
    ) -> Result<dto::ConnectorSettings, ClientError> {
        let req = self
            .request(
                Method::PUT,
                &format!("/connectors/{id}/settings"),
                Some(caller),
            )
            .json(body);
        Self::json(req).await
    }

    // -----------------------------------------------------------------------------------------------------------
    // Reconciliation (paths under `/connectors/{id}/reconciliation`)
    // -----------------------------------------------------------------------------------------------------------

    fn reconciliation(
        &self,
        method: Method,
        caller: Caller<'_>,
        connector: ConnectorId,
        rest: &str,
    ) -> RequestBuilder {
        self.request(
            method,
            &format!("/connectors/{connector}/reconciliation{rest}"),
            Some(caller),
        )
    }

    /// `POST /connectors/{id}/reconciliation/runs`: 202 and the pending run. A refusal of the start gate is an
    /// [`ClientError::Api`] whose body says why, read by [`ClientError::start_refused`]: `deduped` (409,
    /// `existing_run_id`), `scope_busy` (409, `active`) or `blocked` (422, `reason_code`, `next_step`).
    /// xavyo-idp's bare 409 `conflict` (a run is already going, it does not say which) reads as `scope_busy`
    /// without `active`.
    pub async fn start_reconciliation_run(
        &self,
        caller: Caller<'_>,
        connector: ConnectorId,
        body: &TriggerRun,
    ) -> Result<ReconciliationRun, ClientError> {
        let req = self
            .reconciliation(Method::POST, caller, connector, "/runs")
            .json(body);
        Self::json(req).await.map_err(|e| match e {
            ClientError::Api {
                status: 409,
                mut body,
            } if body.error == "conflict" => {
                body.error = "scope_busy".to_owned();
                ClientError::Api { status: 409, body }
            }
            other => other,
        })
    }

    /// `GET /connectors/{id}/reconciliation/runs`, newest first.
    pub async fn list_reconciliation_runs(
        &self,
        caller: Caller<'_>,
        connector: ConnectorId,
        query: &RunQuery,
    ) -> Result<RunList, ClientError> {
        Self::json(
            self.reconciliation(Method::GET, caller, connector, "/runs")
                .query(query),
        )
        .await
    }

    /// `GET .../runs/{run_id}`.
    pub async fn get_reconciliation_run(
        &self,
        caller: Caller<'_>,
        connector: ConnectorId,
        run: RunId,
    ) -> Result<ReconciliationRun, ClientError> {
        Self::json(self.reconciliation(Method::GET, caller, connector, &format!("/runs/{run}")))
            .await
    }

    /// `POST .../runs/{run_id}/cancel` (pending, running or paused): 204.
    pub async fn cancel_reconciliation_run(
        &self,
        caller: Caller<'_>,
        connector: ConnectorId,
        run: RunId,
    ) -> Result<(), ClientError> {
        Self::empty(self.reconciliation(
            Method::POST,
            caller,
            connector,
            &format!("/runs/{run}/cancel"),
        ))
        .await
    }

    /// `POST .../runs/{run_id}/pause` (running only; ours, xavyo-idp has no pause).
    pub async fn pause_reconciliation_run(
        &self,
        caller: Caller<'_>,
        connector: ConnectorId,
        run: RunId,
    ) -> Result<ReconciliationRun, ClientError> {
        Self::json(self.reconciliation(
            Method::POST,
            caller,
            connector,
            &format!("/runs/{run}/pause"),
        ))
        .await
    }

    /// `POST .../runs/{run_id}/resume` (paused): back to pending, from its checkpoint.
    pub async fn resume_reconciliation_run(
        &self,
        caller: Caller<'_>,
        connector: ConnectorId,
        run: RunId,
    ) -> Result<ReconciliationRun, ClientError> {
        Self::json(self.reconciliation(
            Method::POST,
            caller,
            connector,
            &format!("/runs/{run}/resume"),
        ))
        .await
    }

    /// `GET .../runs/{run_id}/report` (either shape).
    pub async fn reconciliation_report(
        &self,
        caller: Caller<'_>,
        connector: ConnectorId,
        run: RunId,
    ) -> Result<ReconciliationReport, ClientError> {
        Self::json(self.reconciliation(
            Method::GET,
            caller,
            connector,
            &format!("/runs/{run}/report"),
        ))
        .await
    }

    /// `GET /connectors/{id}/reconciliation/discrepancies` with filters and a page. xavyo-idp leaves out each
    /// discrepancy's `connector_id`: it is filled in from the path.
    pub async fn list_discrepancies(
        &self,
        caller: Caller<'_>,
        connector: ConnectorId,
        query: &DiscrepancyQuery,
    ) -> Result<DiscrepancyList, ClientError> {
        let mut list: DiscrepancyList = Self::json(
            self.reconciliation(Method::GET, caller, connector, "/discrepancies")
                .query(query),
        )
        .await?;
        for d in &mut list.discrepancies {
            d.connector_id.get_or_insert(connector);
        }
        Ok(list)
    }

    /// `GET .../discrepancies/{did}`, its `connector_id` filled in from the path when missing.
    pub async fn get_discrepancy(
        &self,
        caller: Caller<'_>,
        connector: ConnectorId,
        id: DiscrepancyId,
    ) -> Result<Discrepancy, ClientError> {
        let mut d: Discrepancy = Self::json(self.reconciliation(
            Method::GET,
            caller,
            connector,
            &format!("/discrepancies/{id}"),
        ))
        .await?;
        d.connector_id.get_or_insert(connector);
        Ok(d)
    }

    /// `POST .../discrepancies/{did}/remediate`. A discrepancy already resolved or ignored answers 409
    /// `invalid_operation_state` with `current_status`.
    pub async fn remediate_discrepancy(
        &self,
        caller: Caller<'_>,
        connector: ConnectorId,
        id: DiscrepancyId,
        body: &RemediateRequest,
    ) -> Result<RemediationResult, ClientError> {
        let req = self
            .reconciliation(
                Method::POST,
                caller,
                connector,
                &format!("/discrepancies/{id}/remediate"),
            )
            .json(body);
        Self::json(req).await
    }

    /// `POST .../discrepancies/bulk-remediate`: 1..=100 items (check with [`BulkRemediateRequest::validate`]),
    /// one result each, in order.
    pub async fn bulk_remediate(
        &self,
        caller: Caller<'_>,
        connector: ConnectorId,
        body: &BulkRemediateRequest,
    ) -> Result<BulkRemediateResponse, ClientError> {
        let req = self
            .reconciliation(
                Method::POST,
                caller,
                connector,
                "/discrepancies/bulk-remediate",
            )
            .json(body);
        Self::json(req).await
    }

    /// `POST .../discrepancies/preview`: the suggested remediation of each discrepancy and what it would change.
    pub async fn preview_remediation(
        &self,
        caller: Caller<'_>,
        connector: ConnectorId,
        body: &PreviewRequest,
    ) -> Result<PreviewResponse, ClientError> {
        let req = self
            .reconciliation(Method::POST, caller, connector, "/discrepancies/preview")
            .json(body);
        Self::json(req).await
    }

    /// `POST .../discrepancies/{did}/ignore` (pending only): 204.
    pub async fn ignore_discrepancy(
        &self,
        caller: Caller<'_>,
        connector: ConnectorId,
        id: DiscrepancyId,
    ) -> Result<(), ClientError> {
        Self::empty(self.reconciliation(
            Method::POST,
            caller,
            connector,
            &format!("/discrepancies/{id}/ignore"),
        ))
        .await
    }

    /// `GET /connectors/{id}/reconciliation/actions`: the audit log, newest first. xavyo-idp leaves out each
    /// entry's `connector_id`: it is filled in from the path.
    pub async fn list_reconciliation_actions(
        &self,
        caller: Caller<'_>,
        connector: ConnectorId,
        query: &ActionQuery,
    ) -> Result<ActionList, ClientError> {
        let mut list: ActionList = Self::json(
            self.reconciliation(Method::GET, caller, connector, "/actions")
                .query(query),
        )
        .await?;
        for a in &mut list.actions {
            a.connector_id.get_or_insert(connector);
        }
        Ok(list)
    }

    // -----------------------------------------------------------------------------------------------------------
    // Reconciliation schedules and the discrepancy trend
    // -----------------------------------------------------------------------------------------------------------

    /// `GET /connectors/{id}/reconciliation/schedule`: 404 when the connector has none.
    pub async fn get_schedule(
        &self,
        caller: Caller<'_>,
        connector: ConnectorId,
    ) -> Result<dto::ReconciliationSchedule, ClientError> {
        Self::json(self.reconciliation(Method::GET, caller, connector, "/schedule")).await
    }

    /// `PUT /connectors/{id}/reconciliation/schedule`: creates or replaces it; answers it with its next run.
    pub async fn put_schedule(
        &self,
        caller: Caller<'_>,
        connector: ConnectorId,
        body: &dto::UpsertSchedule,
    ) -> Result<dto::ReconciliationSchedule, ClientError> {
        Self::json(
            self.reconciliation(Method::PUT, caller, connector, "/schedule")
                .json(body),
        )
        .await
    }

    /// `DELETE /connectors/{id}/reconciliation/schedule`: 204.
    pub async fn delete_schedule(
        &self,
        caller: Caller<'_>,
        connector: ConnectorId,
    ) -> Result<(), ClientError> {
        Self::empty(self.reconciliation(Method::DELETE, caller, connector, "/schedule")).await
    }

    /// `POST .../schedule/enable` or `.../schedule/disable`: 204.
    pub async fn set_schedule_enabled(
        &self,
        caller: Caller<'_>,
        connector: ConnectorId,
        enabled: bool,
    ) -> Result<(), ClientError> {
        let rest = if enabled {
            "/schedule/enable"
        } else {
            "/schedule/disable"
        };
        Self::empty(self.reconciliation(Method::POST, caller, connector, rest)).await
    }

    /// `GET /reconciliation/schedules`: every connector's schedule.
    pub async fn list_schedules(
        &self,
        caller: Caller<'_>,
    ) -> Result<dto::ScheduleList, ClientError> {
        Self::json(self.request(Method::GET, "/reconciliation/schedules", Some(caller))).await
    }

    /// `GET /reconciliation/trend?connector_id&from&to`: discrepancies found per day, by type.
    pub async fn discrepancy_trend(
        &self,
        caller: Caller<'_>,
        query: &dto::TrendQuery,
    ) -> Result<dto::Trend, ClientError> {
        Self::json(
            self.request(Method::GET, "/reconciliation/trend", Some(caller))
                .query(query),
        )
        .await
    }
}

/// Turns an upstream body that failed into our error body, whatever its shape.
pub fn error_body_from(status: u16, content_type: &str, body: &[u8]) -> ErrorBody {
    error::normalise(status, content_type, body)
}
