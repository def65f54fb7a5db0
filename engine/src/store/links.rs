//! What reconciliation reads and writes on the xavyo side: identities as it compares them, the links (shadows)
//! between identities and accounts, and each connector's attribute mapping.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use dto::{ConnectorId, RunId, TenantId, UserId};
use serde_json::{Map, Value};
use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use super::{parse_id, parse_json, parse_time, ts};

/// An identity as reconciliation compares it.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// Its id.
    pub id: UserId,
    /// Email, unique in the tenant.
    pub email: String,
    /// Full name.
    pub display_name: String,
    /// The other attributes.
    pub attributes: Map<String, Value>,
    /// In scope of reconciliation only while active.
    pub active: bool,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl Identity {
    /// The value of an identity attribute as a mapping names it: `email`, `display_name`, or a key of
    /// `attributes` (null when absent).
    pub fn value(&self, attribute: &str) -> Value {
        match attribute {
            "email" => Value::String(self.email.clone()),
            "display_name" => Value::String(self.display_name.clone()),
            other => self.attributes.get(other).cloned().unwrap_or(Value::Null),
        }
    }
}

#[derive(FromRow)]
struct IdentityRow {
    id: String,
    email: String,
    display_name: String,
    attributes: String,
    active: bool,
    updated_at: String,
}

impl TryFrom<IdentityRow> for Identity {
    type Error = sqlx::Error;

    fn try_from(row: IdentityRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: parse_id(&row.id)?,
            email: row.email,
            display_name: row.display_name,
            attributes: parse_json(&row.attributes)?,
            active: row.active,
            updated_at: parse_time(&row.updated_at)?,
        })
    }
}

const IDENTITY_COLUMNS: &str = "id, email, display_name, attributes, active, updated_at";

/// The tenant's identities with these ids, by id.
pub async fn identities_by_id(
    pool: &SqlitePool,
    tenant: TenantId,
    ids: &[UserId],
) -> Result<HashMap<UserId, Identity>, sqlx::Error> {
    let mut found = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        // `+tenant_id`: look the ids up by primary key, never by walking one of the tenant's indexes.
        let mut sql = QueryBuilder::new(format!(
            "SELECT {IDENTITY_COLUMNS} FROM identities WHERE +tenant_id = "
        ));
        sql.push_bind(tenant.to_string()).push(" AND id IN (");
        let mut list = sql.separated(", ");
        for id in chunk {
            list.push_bind(id.to_string());
        }
        sql.push(")");
        let rows: Vec<IdentityRow> = sql.build_query_as().fetch_all(pool).await?;
        for row in rows {
            let identity = Identity::try_from(row)?;
            found.insert(identity.id, identity);
        }
    }
    Ok(found)
}

/// One identity of the tenant.
pub async fn identity(
    pool: &SqlitePool,
    tenant: TenantId,
    id: UserId,
) -> Result<Option<Identity>, sqlx::Error> {
    Ok(identities_by_id(pool, tenant, &[id]).await?.remove(&id))
}

/// Writes `changes` into an identity (`email` and `display_name` into their columns, the rest into
/// `attributes`; a null removes an attribute) and answers it as it is now. Fails with a database error when
/// the new email belongs to another identity of the tenant.
pub async fn update_identity(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    id: UserId,
    changes: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Option<Identity>, sqlx::Error> {
    let mut attributes = Map::new();
    let mut email = None;
    let mut display_name = None;
    for (name, value) in changes {
        match (name.as_str(), value) {
            ("email", Value::String(v)) => email = Some(v.clone()),
            ("display_name", Value::String(v)) => display_name = Some(v.clone()),
            _ => {
                attributes.insert(name.clone(), value.clone());
            }
        }
    }
    sqlx::query_as::<_, IdentityRow>(&format!(
        "UPDATE identities SET email = COALESCE(?, email), display_name = COALESCE(?, display_name),
                attributes = json_patch(attributes, ?), updated_at = ?
         WHERE tenant_id = ? AND id = ? RETURNING {IDENTITY_COLUMNS}"
    ))
    .bind(email)
    .bind(display_name)
    .bind(Value::Object(attributes).to_string())
    .bind(ts(now))
    .bind(tenant.to_string())
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?
    .map(Identity::try_from)
    .transpose()
}

/// Marks an identity inactive; answers whether it exists.
pub async fn inactivate_identity(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    id: UserId,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE identities SET active = 0, updated_at = ? WHERE tenant_id = ? AND id = ?",
    )
    .bind(ts(now))
    .bind(tenant.to_string())
    .bind(id.to_string())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The active identities of the tenant whose `attribute` equals one of `values`: `(value, identity)` pairs.
/// `attribute` is `email`, `display_name` (both indexed) or a key of `attributes` (bound, never spliced).
pub async fn correlate(
    pool: &SqlitePool,
    tenant: TenantId,
    attribute: &str,
    values: &[String],
) -> Result<Vec<(String, UserId)>, sqlx::Error> {
    let mut pairs = Vec::new();
    for chunk in values.chunks(500) {
        let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new("SELECT ");
        match attribute {
            "email" | "display_name" => {
                // A fixed column name from the match arm, never input.
                sql.push(attribute);
            }
            other => {
                sql.push("json_extract(attributes, '$.' || json_quote(")
                    .push_bind(other.to_owned())
                    .push("))");
            }
        }
        sql.push(" AS v, id FROM identities WHERE active = 1 AND tenant_id = ")
            .push_bind(tenant.to_string())
            .push(" AND v IN (");
        let mut list = sql.separated(", ");
        for value in chunk {
            list.push_bind(value.clone());
        }
        sql.push(")");
        let rows: Vec<(String, String)> = sql.build_query_as().fetch_all(pool).await?;
        for (value, id) in rows {
            pairs.push((value, parse_id(&id)?));
        }
    }
    Ok(pairs)
}

/// A link between an identity and an account of a connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The identity.
    pub identity_id: UserId,
    /// The account's uid.
    pub external_uid: String,
}

fn links_from(rows: Vec<(String, String)>) -> Result<Vec<Link>, sqlx::Error> {
    rows.into_iter()
        .map(|(identity, uid)| {
            Ok(Link {
                identity_id: parse_id(&identity)?,
                external_uid: uid,
            })
        })
        .collect()
}

/// The connector's links whose uid is after `after` and at most `upto` (unbounded when none), in uid order,
/// at most `limit`.
pub async fn links_between(
    pool: &SqlitePool,
    connector: ConnectorId,
    after: Option<&str>,
    upto: Option<&str>,
    limit: u32,
) -> Result<Vec<Link>, sqlx::Error> {
    let mut sql = QueryBuilder::new(
        "SELECT identity_id, external_uid FROM account_links WHERE connector_id = ",
    );
    sql.push_bind(connector.to_string());
    if let Some(after) = after {
        sql.push(" AND external_uid > ").push_bind(after.to_owned());
    }
    if let Some(upto) = upto {
        sql.push(" AND external_uid <= ").push_bind(upto.to_owned());
    }
    sql.push(" ORDER BY external_uid LIMIT ")
        .push_bind(i64::from(limit));
    links_from(sql.build_query_as().fetch_all(pool).await?)
}

/// The connector's links of these uids.
pub async fn links_of_uids(
    pool: &SqlitePool,
    connector: ConnectorId,
    uids: &[String],
) -> Result<Vec<Link>, sqlx::Error> {
    let mut links = Vec::new();
    for chunk in uids.chunks(500) {
        let mut sql = QueryBuilder::new(
            "SELECT identity_id, external_uid FROM account_links WHERE connector_id = ",
        );
        sql.push_bind(connector.to_string())
            .push(" AND external_uid IN (");
        let mut list = sql.separated(", ");
        for uid in chunk {
            list.push_bind(uid.clone());
        }
        sql.push(")");
        links.extend(links_from(sql.build_query_as().fetch_all(pool).await?)?);
    }
    Ok(links)
}

/// The connector's link of an identity, or of an account.
pub async fn link_of(
    conn: &mut SqliteConnection,
    connector: ConnectorId,
    identity: Option<UserId>,
    uid: Option<&str>,
) -> Result<Option<Link>, sqlx::Error> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT identity_id, external_uid FROM account_links
         WHERE connector_id = ? AND (identity_id = ? OR external_uid = ?) LIMIT 1",
    )
    .bind(connector.to_string())
    .bind(identity.map(|id| id.to_string()))
    .bind(uid)
    .fetch_optional(conn)
    .await?;
    Ok(links_from(row.into_iter().collect())?.pop())
}

/// Which of `ids` are linked on the connector.
pub async fn linked_identities(
    pool: &SqlitePool,
    connector: ConnectorId,
    ids: &[UserId],
) -> Result<std::collections::HashSet<UserId>, sqlx::Error> {
    let mut linked = std::collections::HashSet::new();
    for chunk in ids.chunks(500) {
        let mut sql =
            QueryBuilder::new("SELECT identity_id FROM account_links WHERE connector_id = ");
        sql.push_bind(connector.to_string())
            .push(" AND identity_id IN (");
        let mut list = sql.separated(", ");
        for id in chunk {
            list.push_bind(id.to_string());
        }
        sql.push(")");
        let rows: Vec<String> = sql.build_query_scalar().fetch_all(pool).await?;
        for id in rows {
            linked.insert(parse_id(&id)?);
        }
    }
    Ok(linked)
}

/// Links an identity of the tenant to an account; answers false when the account or the identity is linked
/// already (nothing changed).
pub async fn insert_link(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    connector: ConnectorId,
    identity: UserId,
    uid: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO account_links (tenant_id, connector_id, identity_id, external_uid, linked_at)
         VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(tenant.to_string())
    .bind(connector.to_string())
    .bind(identity.to_string())
    .bind(uid)
    .bind(ts(now))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Removes the link of an account; answers whether there was one.
pub async fn delete_link(
    conn: &mut SqliteConnection,
    connector: ConnectorId,
    uid: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM account_links WHERE connector_id = ? AND external_uid = ?")
        .bind(connector.to_string())
        .bind(uid)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Active identities of the tenant with no link on the connector, none of which an account correlated to in
/// `run` (as its match or a collision candidate), changed after `since` when given; in id order after
/// `after`, at most `limit`.
pub async fn unlinked_identities(
    pool: &SqlitePool,
    tenant: TenantId,
    connector: ConnectorId,
    run: RunId,
    since: Option<DateTime<Utc>>,
    after: Option<UserId>,
    limit: u32,
) -> Result<Vec<Identity>, sqlx::Error> {
    let mut sql = QueryBuilder::new(format!(
        "SELECT {IDENTITY_COLUMNS} FROM identities i WHERE i.tenant_id = "
    ));
    sql.push_bind(tenant.to_string())
        .push(" AND i.active = 1 AND NOT EXISTS (SELECT 1 FROM account_links l WHERE l.connector_id = ")
        .push_bind(connector.to_string())
        .push(" AND l.identity_id = i.id) AND NOT EXISTS (SELECT 1 FROM discrepancies d WHERE d.run_id = ")
        .push_bind(run.to_string())
        .push(" AND d.identity_id = i.id) AND NOT EXISTS (SELECT 1 FROM discrepancies d, json_each(d.candidates) c WHERE d.run_id = ")
        .push_bind(run.to_string())
        .push(" AND d.discrepancy_type = 'collision' AND c.value = i.id)");
    if let Some(since) = since {
        sql.push(" AND i.updated_at > ").push_bind(ts(since));
    }
    if let Some(after) = after {
        sql.push(" AND i.id > ").push_bind(after.to_string());
    }
    sql.push(" ORDER BY i.id LIMIT ")
        .push_bind(i64::from(limit));
    let rows: Vec<IdentityRow> = sql.build_query_as().fetch_all(pool).await?;
    rows.into_iter().map(Identity::try_from).collect()
}

/// Identity attribute → target attribute, with its place in correlation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// `email`, `display_name`, or a key of the identity's attributes.
    pub identity_attribute: String,
    /// The account attribute it is written to and compared with.
    pub target_attribute: String,
    /// Order in correlation (lowest first); none when the attribute does not correlate.
    pub correlation_priority: Option<i64>,
}

/// The connector's mapping, correlating attributes first (by priority), then by target attribute.
pub async fn mappings(
    pool: &SqlitePool,
    connector: ConnectorId,
) -> Result<Vec<Mapping>, sqlx::Error> {
    let rows: Vec<(String, String, Option<i64>)> = sqlx::query_as(
        "SELECT identity_attribute, target_attribute, correlation_priority FROM attribute_mappings
         WHERE connector_id = ? ORDER BY correlation_priority IS NULL, correlation_priority, target_attribute",
    )
    .bind(connector.to_string())
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(identity_attribute, target_attribute, correlation_priority)| Mapping {
                identity_attribute,
                target_attribute,
                correlation_priority,
            },
        )
        .collect())
}

/// Replaces the connector's mapping.
pub async fn set_mappings(
    conn: &mut SqliteConnection,
    connector: ConnectorId,
    mappings: &[Mapping],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM attribute_mappings WHERE connector_id = ?")
        .bind(connector.to_string())
        .execute(&mut *conn)
        .await?;
    for m in mappings {
        sqlx::query(
            "INSERT INTO attribute_mappings (connector_id, identity_attribute, target_attribute, correlation_priority)
             VALUES (?, ?, ?, ?)",
        )
        .bind(connector.to_string())
        .bind(&m.identity_attribute)
        .bind(&m.target_attribute)
        .bind(m.correlation_priority)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
