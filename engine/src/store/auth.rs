//! Tenants, users and refresh tokens.

use chrono::{DateTime, Utc};
use dto::{TenantId, UserId};
use sqlx::{FromRow, SqliteConnection, SqlitePool};
use uuid::Uuid;

use super::{parse_id, parse_json, ts};

/// A tenant to create.
#[derive(Debug, Clone)]
pub struct NewTenant {
    /// Its id.
    pub id: TenantId,
    /// Display name.
    pub name: String,
    /// Created at.
    pub created_at: DateTime<Utc>,
}

/// Creates a tenant.
pub async fn insert_tenant(
    conn: &mut SqliteConnection,
    tenant: &NewTenant,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)")
        .bind(tenant.id.to_string())
        .bind(&tenant.name)
        .bind(ts(tenant.created_at))
        .execute(conn)
        .await?;
    Ok(())
}

/// How many tenants exist (zero on a fresh database).
pub async fn count_tenants(pool: &SqlitePool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM tenants")
        .fetch_one(pool)
        .await
}

/// Whether the tenant exists.
pub async fn tenant_exists(pool: &SqlitePool, tenant: TenantId) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM tenants WHERE id = ?)")
        .bind(tenant.to_string())
        .fetch_one(pool)
        .await
}

/// A user account to create.
#[derive(Clone)]
pub struct NewUser {
    /// Its id.
    pub id: UserId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Login email (stored lowercased).
    pub email: String,
    /// Shown in the console.
    pub display_name: Option<String>,
    /// argon2 PHC string.
    pub password_hash: String,
    /// Role names, e.g. `admin`.
    pub roles: Vec<String>,
    /// Whether the account may log in.
    pub active: bool,
    /// Created at.
    pub created_at: DateTime<Utc>,
}

/// Creates a user account.
pub async fn insert_user(conn: &mut SqliteConnection, user: &NewUser) -> Result<(), sqlx::Error> {
    let roles = serde_json::to_string(&user.roles).map_err(|e| sqlx::Error::Encode(e.into()))?;
    sqlx::query(
        "INSERT INTO users (id, tenant_id, email, display_name, password_hash, roles, active, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(user.id.to_string())
    .bind(user.tenant_id.to_string())
    .bind(user.email.to_lowercase())
    .bind(&user.display_name)
    .bind(&user.password_hash)
    .bind(roles)
    .bind(user.active)
    .bind(ts(user.created_at))
    .bind(ts(user.created_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// A stored user account, as login and refresh need it.
#[derive(Clone)]
pub struct UserRecord {
    /// Its id.
    pub id: UserId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Login email, lowercased.
    pub email: String,
    /// argon2 PHC string.
    pub password_hash: String,
    /// Role names.
    pub roles: Vec<String>,
    /// Whether the account may log in.
    pub active: bool,
}

#[derive(FromRow)]
struct UserRow {
    id: String,
    tenant_id: String,
    email: String,
    password_hash: String,
    roles: String,
    active: bool,
}

impl TryFrom<UserRow> for UserRecord {
    type Error = sqlx::Error;

    fn try_from(row: UserRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: parse_id(&row.id)?,
            tenant_id: parse_id(&row.tenant_id)?,
            email: row.email,
            password_hash: row.password_hash,
            roles: parse_json(&row.roles)?,
            active: row.active,
        })
    }
}

const USER_COLUMNS: &str = "u.id, u.tenant_id, u.email, u.password_hash, u.roles, u.active";

/// The user of `tenant` with this email (case-insensitive).
pub async fn find_user_by_email(
    pool: &SqlitePool,
    tenant: TenantId,
    email: &str,
) -> Result<Option<UserRecord>, sqlx::Error> {
    sqlx::query_as::<_, UserRow>(&format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.tenant_id = ? AND u.email = ?"
    ))
    .bind(tenant.to_string())
    .bind(email.trim().to_lowercase())
    .fetch_optional(pool)
    .await?
    .map(UserRecord::try_from)
    .transpose()
}

/// Notes a successful login.
pub async fn record_login(
    pool: &SqlitePool,
    user: UserId,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET last_login_at = ? WHERE id = ?")
        .bind(ts(at))
        .bind(user.to_string())
        .execute(pool)
        .await?;
    Ok(())
}

/// A refresh token to store (only its hash is kept).
#[derive(Clone)]
pub struct NewRefreshToken {
    /// Row id.
    pub id: Uuid,
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    /// The login this rotation chain started from.
    pub family_id: Uuid,
    /// Issued at.
    pub issued_at: DateTime<Utc>,
    /// Dead after.
    pub expires_at: DateTime<Utc>,
}

/// Stores a refresh token issued to `user` at login.
pub async fn insert_refresh_token(
    pool: &SqlitePool,
    user: &UserRecord,
    token: &NewRefreshToken,
) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    insert_token_row(&mut conn, user.tenant_id, user.id, token).await
}

async fn insert_token_row(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    user: UserId,
    token: &NewRefreshToken,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO refresh_tokens (id, tenant_id, user_id, token_hash, family_id, issued_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(token.id.to_string())
    .bind(tenant.to_string())
    .bind(user.to_string())
    .bind(&token.token_hash)
    .bind(token.family_id.to_string())
    .bind(ts(token.issued_at))
    .bind(ts(token.expires_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// What presenting a refresh token led to.
pub enum Rotation {
    /// The token was live: it is now dead and `UserRecord` holds the account for the new pair.
    Rotated(UserRecord),
    /// Unknown, expired or revoked.
    Invalid,
    /// Already rotated: presented a second time, so stolen or replayed. Every token of its family is now dead
    /// (the thief's session and the user's end together).
    Reused,
    /// Its session (token family) is older than the absolute lifetime; the family is now dead.
    SessionOver,
    /// The token was live but its account is disabled; the token is now dead.
    Inactive,
}

#[derive(FromRow)]
struct LiveToken {
    id: String,
    user_id: String,
    family_id: String,
}

/// Kills the live refresh token with hash `old_hash` and stores `new` as its successor, in one transaction.
///
/// The first statement writes, so the transaction holds SQLite's write lock from the start and two refreshes
/// racing with the same token cannot both succeed.
pub async fn rotate_refresh_token(
    pool: &SqlitePool,
    old_hash: &str,
    new: &NewRefreshToken,
) -> Result<Rotation, sqlx::Error> {
    let now = ts(new.issued_at);
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let old = sqlx::query_as::<_, LiveToken>(
        "UPDATE refresh_tokens SET revoked_at = ?
         WHERE token_hash = ? AND revoked_at IS NULL AND expires_at > ?
         RETURNING id, user_id, family_id",
    )
    .bind(&now)
    .bind(old_hash)
    .bind(&now)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(old) = old else {
        // A token that was rotated before, presented again: end its whole family.
        let family: Option<String> = sqlx::query_scalar(
            "SELECT family_id FROM refresh_tokens WHERE token_hash = ? AND replaced_by IS NOT NULL",
        )
        .bind(old_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(family) = family else {
            return Ok(Rotation::Invalid);
        };
        revoke_family(&mut tx, &family, &now).await?;
        tx.commit().await?;
        return Ok(Rotation::Reused);
    };
    let started: String =
        sqlx::query_scalar("SELECT MIN(issued_at) FROM refresh_tokens WHERE family_id = ?")
            .bind(&old.family_id)
            .fetch_one(&mut *tx)
            .await?;
    let session_end =
        super::parse_time(&started)? + chrono::Duration::hours(crate::auth::SESSION_LIFETIME_HOURS);
    if session_end <= new.issued_at {
        revoke_family(&mut tx, &old.family_id, &now).await?;
        tx.commit().await?;
        return Ok(Rotation::SessionOver);
    }
    let user = sqlx::query_as::<_, UserRow>(&format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?"
    ))
    .bind(&old.user_id)
    .fetch_one(&mut *tx)
    .await
    .and_then(UserRecord::try_from)?;
    if !user.active {
        tx.commit().await?;
        return Ok(Rotation::Inactive);
    }
    let successor = NewRefreshToken {
        family_id: parse_id(&old.family_id)?,
        expires_at: new.expires_at.min(session_end),
        ..new.clone()
    };
    insert_token_row(&mut tx, user.tenant_id, user.id, &successor).await?;
    sqlx::query("UPDATE refresh_tokens SET replaced_by = ? WHERE id = ?")
        .bind(successor.id.to_string())
        .bind(&old.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Rotation::Rotated(user))
}

async fn revoke_family(
    conn: &mut SqliteConnection,
    family: &str,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(family)
    .execute(conn)
    .await?;
    Ok(())
}

/// Kills the refresh token with this hash; true if it was live.
pub async fn revoke_refresh_token(
    pool: &SqlitePool,
    hash: &str,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL",
    )
    .bind(ts(at))
    .bind(hash)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}
