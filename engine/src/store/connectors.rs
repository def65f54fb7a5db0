//! Connectors: the target systems of a tenant.

use chrono::{DateTime, Utc};
use dto::{Connector, ConnectorId, PageRequest, TenantId};
use enums::ConnectorStatus;
use sqlx::{FromRow, SqliteConnection, SqlitePool};

use super::{count, page_binds, parse_enum, parse_id, parse_time, ts};

/// A connector to create.
#[derive(Debug, Clone)]
pub struct NewConnector {
    /// Its id.
    pub id: ConnectorId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Display name, unique in the tenant.
    pub name: String,
    /// Kind of system, e.g. `directory`.
    pub connector_type: String,
    /// `active`, `disabled` or `offline`.
    pub status: ConnectorStatus,
    /// Whether its credentials work.
    pub credentials_valid: bool,
    /// Injected failures: `{"offline": bool, "error_rate": f64, "latency_ms": int}`.
    pub settings: serde_json::Value,
    /// Created at.
    pub created_at: DateTime<Utc>,
}

/// Creates a connector.
pub async fn insert_connector(
    conn: &mut SqliteConnection,
    connector: &NewConnector,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO connectors (id, tenant_id, name, connector_type, status, credentials_valid, settings,
                                 created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(connector.id.to_string())
    .bind(connector.tenant_id.to_string())
    .bind(&connector.name)
    .bind(&connector.connector_type)
    .bind(connector.status.as_str())
    .bind(connector.credentials_valid)
    .bind(connector.settings.to_string())
    .bind(ts(connector.created_at))
    .bind(ts(connector.created_at))
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(FromRow)]
struct ConnectorRow {
    id: String,
    name: String,
    connector_type: String,
    status: String,
    credentials_valid: bool,
    created_at: String,
}

impl TryFrom<ConnectorRow> for Connector {
    type Error = sqlx::Error;

    fn try_from(row: ConnectorRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: parse_id(&row.id)?,
            name: row.name,
            connector_type: row.connector_type,
            status: parse_enum(&row.status)?,
            credentials_valid: row.credentials_valid,
            created_at: Some(parse_time(&row.created_at)?),
            capabilities: Vec::new(),
        })
    }
}

const CONNECTOR_COLUMNS: &str = "id, name, connector_type, status, credentials_valid, created_at";

/// A page of the tenant's connectors by name, and how many it has in all.
pub async fn list_connectors(
    pool: &SqlitePool,
    tenant: TenantId,
    page: PageRequest,
) -> Result<(Vec<Connector>, u64), sqlx::Error> {
    let (limit, offset) = page_binds(page);
    let mut tx = pool.begin().await?;
    let rows = sqlx::query_as::<_, ConnectorRow>(&format!(
        "SELECT {CONNECTOR_COLUMNS} FROM connectors WHERE tenant_id = ? ORDER BY name, id LIMIT ? OFFSET ?"
    ))
    .bind(tenant.to_string())
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *tx)
    .await?;
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM connectors WHERE tenant_id = ?")
        .bind(tenant.to_string())
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    let connectors = rows
        .into_iter()
        .map(Connector::try_from)
        .collect::<Result<_, _>>()?;
    Ok((connectors, count(total)))
}

/// The tenant's connector with this id; none for an unknown id or another tenant's connector.
pub async fn get_connector(
    pool: &SqlitePool,
    tenant: TenantId,
    id: ConnectorId,
) -> Result<Option<Connector>, sqlx::Error> {
    sqlx::query_as::<_, ConnectorRow>(&format!(
        "SELECT {CONNECTOR_COLUMNS} FROM connectors WHERE tenant_id = ? AND id = ?"
    ))
    .bind(tenant.to_string())
    .bind(id.to_string())
    .fetch_optional(pool)
    .await?
    .map(Connector::try_from)
    .transpose()
}
