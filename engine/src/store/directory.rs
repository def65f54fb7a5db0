//! Both sides reconciliation compares: xavyo identities and the built-in directory connector's accounts.

use chrono::{DateTime, Utc};
use dto::{ConnectorId, TenantId, UserId};
use sqlx::SqliteConnection;

use super::ts;

/// An identity (the xavyo side) to create.
#[derive(Debug, Clone)]
pub struct NewIdentity {
    /// Its id (operations name it as `user_id`).
    pub id: UserId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Email, unique in the tenant.
    pub email: String,
    /// Full name.
    pub display_name: String,
    /// The attributes reconciliation compares, e.g. `{"department": "Sales"}`.
    pub attributes: serde_json::Value,
    /// Whether the identity is active.
    pub active: bool,
    /// Created at.
    pub created_at: DateTime<Utc>,
}

/// Creates an identity.
pub async fn insert_identity(
    conn: &mut SqliteConnection,
    identity: &NewIdentity,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO identities (id, tenant_id, email, display_name, attributes, active, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(identity.id.to_string())
    .bind(identity.tenant_id.to_string())
    .bind(&identity.email)
    .bind(&identity.display_name)
    .bind(identity.attributes.to_string())
    .bind(identity.active)
    .bind(ts(identity.created_at))
    .bind(ts(identity.created_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// An account in the built-in directory connector to create.
#[derive(Debug, Clone)]
pub struct NewTargetAccount {
    /// The connector holding it.
    pub connector_id: ConnectorId,
    /// Its id in the target system, unique per connector.
    pub uid: String,
    /// Owning tenant (the connector's).
    pub tenant_id: TenantId,
    /// Target object class, e.g. `user`.
    pub object_class: String,
    /// The identity it is linked to, if any.
    pub identity_id: Option<UserId>,
    /// Its attributes in the target.
    pub attributes: serde_json::Value,
    /// Created at.
    pub created_at: DateTime<Utc>,
}

/// Creates a target account.
pub async fn insert_target_account(
    conn: &mut SqliteConnection,
    account: &NewTargetAccount,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO target_accounts (connector_id, uid, tenant_id, object_class, identity_id, attributes,
                                      created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(account.connector_id.to_string())
    .bind(&account.uid)
    .bind(account.tenant_id.to_string())
    .bind(&account.object_class)
    .bind(account.identity_id.map(|id| id.to_string()))
    .bind(account.attributes.to_string())
    .bind(ts(account.created_at))
    .bind(ts(account.created_at))
    .execute(conn)
    .await?;
    Ok(())
}
