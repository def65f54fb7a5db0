//! The xavyo side of reconciliation: identities. (The other side, the directory connector's accounts, lives in
//! that connector's own database: see `connector::directory`.)

use chrono::{DateTime, Utc};
use dto::{TenantId, UserId};
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
