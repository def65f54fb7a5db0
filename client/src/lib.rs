//! Typed client of the provisioning API: one method per endpoint, every failure one [`ClientError`].
//!
//! The same client talks to xavyo-idp in production and to the embedded engine out of the box. It reads
//! every error shape the upstream answers (our JSON body, RFC 7807, plain text, an empty body, a closed
//! connection) into [`ClientError`], so callers never see a panic or an empty list standing in for an error.

mod error;

use std::time::Duration;

use dto::{
    AttemptList, Connector, ConnectorFilter, ConnectorId, ConnectorList, CreateOperation,
    ErrorBody, LogList, LoginRequest, LoginResponse, OperationId, OperationList, OperationQuery,
    ProvisioningOperation, QueueStatistics, RefreshRequest, ResolveOperation, TenantId, TokenPair,
};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;

pub use error::ClientError;

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
    pub async fn login(
        &self,
        tenant: TenantId,
        body: &LoginRequest,
    ) -> Result<LoginResponse, ClientError> {
        let req = self
            .request(Method::POST, "/auth/login", None)
            .header("X-Tenant-ID", tenant.to_string())
            .json(body);
        Self::json(req).await
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
}

/// Turns an upstream body that failed into our error body, whatever its shape.
pub fn error_body_from(status: u16, content_type: &str, body: &[u8]) -> ErrorBody {
    error::normalise(status, content_type, body)
}
