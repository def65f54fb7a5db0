//! The `--demo` data: two tenants with their accounts, connectors, identities and directory accounts
//! ([`Setup`]); a month of provisioning produced by the real queue ([`Plan`]: operations enqueued through the
//! same function as `POST /operations`, run by a worker through the directory connector with injected faults,
//! cancelled and resolved through the admin actions); reconciliation schedules saved as the API saves them and
//! fired by the real scheduler, runs by the real reconciler over the drifted directory, with remediations
//! through the real remediation path ([`reconcile`]); and the conflicts
//! between operations ([`History`]).
//!
//! Everything comes from one seeded RNG, and the directory's injected faults are drawn from each attempt's
//! key, so ids and outcomes are the same on every seed; times are relative to the moment of seeding. Seeding
//! runs before the engine's own workers start, and takes well under a second in a release build.

mod history;
mod operations;
mod reconcile;
mod schedules;
mod setup;

use chrono::{DateTime, Duration, Utc};
use dto::{ConnectorId, TenantId, UserId};
use rand::{rngs::StdRng, Rng, SeedableRng};
use uuid::Uuid;

pub use crate::demo_login::DEMO_TENANT;
pub use operations::{Plan, Planned, Step};

use crate::{
    auth,
    connector::{DirectoryStore, NewAccount},
    queue::{lifecycle, Queue, Worker},
    reconcile::Reconciler,
    store::{self, Mapping, NewConnector, NewIdentity, NewTenant, NewUser},
    DemoLogin, EngineError,
};

/// "Other Corp", a second tenant whose rows Demo Corp must never see.
pub const OTHER_TENANT: TenantId =
    TenantId(Uuid::from_u128(0x00000000_0000_4000_8000_00000000d002));
/// Demo Corp's admin.
pub const DEMO_ADMIN: UserId = UserId(Uuid::from_u128(0x00000000_0000_4000_8000_00000000a001));
/// Demo Corp's non-admin account.
pub const DEMO_VIEWER: UserId = UserId(Uuid::from_u128(0x00000000_0000_4000_8000_00000000a002));
/// Other Corp's admin.
pub const OTHER_ADMIN: UserId = UserId(Uuid::from_u128(0x00000000_0000_4000_8000_00000000a003));
/// "Corporate Directory": Demo Corp's active built-in directory connector.
pub const CORPORATE_DIRECTORY: ConnectorId =
    ConnectorId(Uuid::from_u128(0x00000000_0000_4000_8000_00000000c001));
/// "Legacy HR": disabled.
pub const LEGACY_HR: ConnectorId =
    ConnectorId(Uuid::from_u128(0x00000000_0000_4000_8000_00000000c002));
/// "Cloud CRM": offline.
pub const CLOUD_CRM: ConnectorId =
    ConnectorId(Uuid::from_u128(0x00000000_0000_4000_8000_00000000c003));
/// "Other Directory": Other Corp's connector.
pub const OTHER_DIRECTORY: ConnectorId =
    ConnectorId(Uuid::from_u128(0x00000000_0000_4000_8000_00000000c004));

const ADMIN_EMAIL: &str = "admin@demo.local";
const ADMIN_PASSWORD: &str = "demo-admin-pass";
const VIEWER_EMAIL: &str = "viewer@demo.local";
const VIEWER_PASSWORD: &str = "demo-viewer-pass";
const OTHER_ADMIN_EMAIL: &str = "admin@other.local";
const SEED: u64 = 0xD3_30_C0_DE;
const IDENTITIES: usize = 50;
/// Lease owner of the worker that stops mid-run in the demo.
const STALLED_WORKER: &str = "demo-seed-stalled";

/// The demo credentials.
pub fn login() -> DemoLogin {
    DemoLogin {
        tenant_id: DEMO_TENANT,
        email: ADMIN_EMAIL.into(),
        password: ADMIN_PASSWORD.into(),
        other_tenant_id: OTHER_TENANT,
        viewer_email: VIEWER_EMAIL.into(),
        viewer_password: VIEWER_PASSWORD.into(),
    }
}

/// Seeds an empty database and returns the credentials; a database seeded before is left as it is. Refuses a
/// database holding other tenants: demo accounts with published passwords do not belong in real data.
pub async fn ensure_seeded(
    queue: &Queue,
    reconciler: &Reconciler,
    directory: &DirectoryStore,
) -> Result<DemoLogin, EngineError> {
    let pool = queue.pool();
    if store::tenant_exists(pool, DEMO_TENANT).await? {
        // Seeded before the seed marked its databases: mark it now.
        store::mark_demo_data(&mut *pool.acquire().await?, Utc::now()).await?;
        return Ok(login());
    }
    if store::count_tenants(pool).await? > 0 {
        return Err(EngineError::Config(
            "--demo needs an empty database (or one seeded by --demo); this one holds other tenants".into(),
        ));
    }
    seed(queue, reconciler, directory, Utc::now()).await?;
    Ok(login())
}

/// Seeds the whole demo data set, relative to `now`: the world, then the operations through the queue, then
/// reconciliation through the reconciler, then the conflicts.
pub async fn seed(
    queue: &Queue,
    reconciler: &Reconciler,
    directory: &DirectoryStore,
    now: DateTime<Utc>,
) -> Result<(), EngineError> {
    let hashes = tokio::task::spawn_blocking(|| {
        Ok::<_, EngineError>(PasswordHashes {
            admin: auth::hash_password(ADMIN_PASSWORD)?,
            viewer: auth::hash_password(VIEWER_PASSWORD)?,
            other_admin: auth::hash_password(ADMIN_PASSWORD)?,
        })
    })
    .await
    .map_err(|e| EngineError::PasswordHash(e.to_string()))??;
    let data = build(now, &hashes);
    let pool = queue.pool();

    let mut tx = pool.begin().await?;
    // With the accounts it marks: a database holding them is never opened without demo mode.
    store::mark_demo_data(&mut tx, now).await?;
    let setup = &data.setup;
    for tenant in &setup.tenants {
        store::insert_tenant(&mut tx, tenant).await?;
    }
    for user in &setup.users {
        store::insert_user(&mut tx, user).await?;
    }
    for connector in &setup.connectors {
        store::insert_connector(&mut tx, connector).await?;
    }
    for identity in &setup.identities {
        store::insert_identity(&mut tx, identity).await?;
    }
    for connector in &setup.connectors {
        store::set_mappings(&mut tx, connector.id, &setup.mappings).await?;
    }
    for (tenant, connector, identity, uid) in &setup.links {
        store::insert_link(&mut tx, *tenant, *connector, *identity, uid, now).await?;
    }
    tx.commit().await?;
    let accounts: Vec<_> = setup
        .accounts
        .iter()
        .map(|a| (a.connector_id, a.account.clone()))
        .collect();
    let connectors: Vec<_> = setup.connectors.iter().map(|c| c.id).collect();
    directory.remove_accounts(&connectors).await?;
    directory.insert_accounts(&accounts).await?;

    play(queue, &data.plan).await?;
    let spans: Vec<_> = data
        .plan
        .operations()
        .map(|p| (p.operation.id, p.age))
        .collect();
    store::backdate_operations(pool, &spans).await?;

    let runs = reconcile::play(reconciler, directory, setup, now).await?;

    history::play(queue, setup, &data.history.conflicts).await?;
    tracing::info!(operations = spans.len(), runs, "demo data seeded");
    Ok(())
}

/// Plays the script through the queue: its enqueue, its admin actions, a worker of its own.
async fn play(queue: &Queue, plan: &Plan) -> Result<(), EngineError> {
    let failed =
        |what: &str, err: &dyn std::fmt::Display| EngineError::Demo(format!("{what}: {err}"));
    for step in &plan.steps {
        match step {
            Step::Settings {
                tenant,
                connector,
                settings,
            } => {
                queue
                    .set_connector_settings(*tenant, *connector, *settings)
                    .await?;
            }
            Step::Status { connector, status } => {
                store::set_connector_status(queue.pool(), *connector, *status, Utc::now()).await?;
            }
            Step::Enqueue(planned) => {
                let now = Utc::now();
                let operations: Vec<_> = planned
                    .iter()
                    .map(|p| store::NewOperation {
                        created_at: now,
                        ..p.operation.clone()
                    })
                    .collect();
                queue
                    .enqueue(&operations)
                    .await
                    .map_err(|e| failed("enqueue", &e))?;
            }
            Step::Cancel(ids) => {
                for (tenant, id) in ids {
                    queue
                        .cancel(*tenant, *id, admin_email(*tenant))
                        .await
                        .map_err(|e| failed("cancel", &e))?;
                }
            }
            Step::Resolve(list) => {
                for (tenant, by, id, notes) in list {
                    queue
                        .resolve(
                            *tenant,
                            *id,
                            *by,
                            admin_email(*tenant),
                            Some((*notes).to_owned()),
                        )
                        .await
                        .map_err(|e| failed("resolve", &e))?;
                }
            }
            Step::Drain(policy) => {
                Worker::new(queue.clone(), "demo-seed")
                    .with_retry_policy(*policy)
                    .with_seed(SEED)
                    .drain(std::time::Duration::from_secs(1))
                    .await?;
            }
            Step::Stall(lease) => {
                let now = Utc::now();
                let until = now + Duration::from_std(*lease).unwrap_or(Duration::minutes(10));
                store::claim_operations(
                    queue.pool(),
                    STALLED_WORKER,
                    &lifecycle::sources(lifecycle::Event::Claimed),
                    now,
                    until,
                    1,
                )
                .await?;
            }
        }
    }
    Ok(())
}

fn admin_email(tenant: TenantId) -> &'static str {
    if tenant == OTHER_TENANT {
        OTHER_ADMIN_EMAIL
    } else {
        ADMIN_EMAIL
    }
}

/// The argon2 hashes of the demo passwords (hashing is the slow part, so it is done once, apart).
pub struct PasswordHashes {
    /// Of `demo-admin-pass`, for Demo Corp's admin.
    pub admin: String,
    /// Of `demo-viewer-pass`.
    pub viewer: String,
    /// Of `demo-admin-pass`, salted apart, for Other Corp's admin.
    pub other_admin: String,
}

/// The whole demo data set, before it is stored.
pub struct DemoData {
    /// Tenants, accounts, connectors, identities and directory accounts.
    pub setup: Setup,
    /// The operations and what happens to them, to play through the queue.
    pub plan: Plan,
    /// The conflicts.
    pub history: History,
}

/// An account the directory connector holds from the start.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedAccount {
    /// The connector holding it.
    pub connector_id: ConnectorId,
    /// The account.
    pub account: NewAccount,
}

/// What an operator would have configured: the world the engine works on.
pub struct Setup {
    /// Demo Corp and Other Corp.
    pub tenants: Vec<NewTenant>,
    /// The two admins and the viewer.
    pub users: Vec<NewUser>,
    /// Three connectors in Demo Corp, one in Other Corp.
    pub connectors: Vec<NewConnector>,
    /// The xavyo side of both tenants.
    pub identities: Vec<NewIdentity>,
    /// The directory accounts of every connector; Corporate Directory's drift from the identities in a few
    /// known ways.
    pub accounts: Vec<SeedAccount>,
    /// Accounts that appear in Corporate Directory after its first run.
    pub late_accounts: Vec<SeedAccount>,
    /// The links (shadows) the engine starts with: tenant, connector, identity, uid.
    pub links: Vec<(TenantId, ConnectorId, UserId, String)>,
    /// Every connector's attribute mapping.
    pub mappings: Vec<Mapping>,
}

/// The conflicts between operations.
pub struct History {
    /// Pairs of operations the worker finds in conflict, some resolved by the admin.
    pub conflicts: Vec<history::ConflictPair>,
}

/// Builds the demo data set for `now` without touching a database.
pub fn build(now: DateTime<Utc>, hashes: &PasswordHashes) -> DemoData {
    let mut rng = StdRng::seed_from_u64(SEED);
    let setup = setup::setup(&mut rng, now, hashes);
    let plan = operations::plan(&mut rng, &setup);
    let history = History {
        conflicts: history::pairs(&mut rng),
    };
    DemoData {
        setup,
        plan,
        history,
    }
}

fn new_id(rng: &mut StdRng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.gen()).into_uuid()
}

fn ago(now: DateTime<Utc>, seconds: i64) -> DateTime<Utc> {
    now - Duration::seconds(seconds)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use enums::OperationType;

    use super::*;
    use crate::store::ts;

    fn data() -> DemoData {
        let hashes = PasswordHashes {
            admin: "a".into(),
            viewer: "v".into(),
            other_admin: "o".into(),
        };
        build(Utc::now(), &hashes)
    }

    #[test]
    fn the_plan_covers_every_connector_and_type_over_a_month() {
        let data = data();
        let ops: Vec<_> = data.plan.operations().collect();
        let per_tenant = |t| ops.iter().filter(|p| p.operation.tenant_id == t).count();
        assert_eq!(
            (per_tenant(DEMO_TENANT), per_tenant(OTHER_TENANT)),
            (300, 24)
        );
        let connectors: BTreeSet<_> = ops.iter().map(|p| p.operation.connector_id).collect();
        assert_eq!(connectors.len(), 4);
        let types: BTreeSet<_> = ops.iter().map(|p| p.operation.operation_type).collect();
        assert_eq!(types.len(), OperationType::ALL.len());
        for p in &ops {
            assert!(
                p.age > Duration::zero() && p.age < Duration::days(31),
                "age {:?}",
                p.age
            );
            let connector_tenant = if p.operation.connector_id == OTHER_DIRECTORY {
                OTHER_TENANT
            } else {
                DEMO_TENANT
            };
            assert_eq!(p.operation.tenant_id, connector_tenant);
            assert!(p.operation.payload.is_object());
        }
        let keys: BTreeSet<_> = ops
            .iter()
            .map(|p| p.operation.idempotency_key.as_str())
            .collect();
        assert_eq!(keys.len(), ops.len(), "one key each");
        // Cancels and resolves name operations enqueued before them.
        let mut enqueued = BTreeSet::new();
        for step in &data.plan.steps {
            match step {
                Step::Enqueue(ops) => enqueued.extend(ops.iter().map(|p| p.operation.id)),
                Step::Cancel(ids) => assert!(ids.iter().all(|(_, id)| enqueued.contains(id))),
                Step::Resolve(list) => {
                    assert!(list.iter().all(|(_, _, id, _)| enqueued.contains(id)));
                }
                _ => {}
            }
        }
    }

    #[test]
    fn the_world_is_consistent() {
        let data = data();
        assert_eq!(data.history.conflicts.len(), 5);
        assert_eq!(
            data.history
                .conflicts
                .iter()
                .filter(|c| c.resolution.is_some())
                .count(),
            3
        );
        // The directory holds one account per (connector, uid), late ones included.
        let mut seen = BTreeMap::new();
        for a in data.setup.accounts.iter().chain(&data.setup.late_accounts) {
            assert!(seen
                .insert((a.connector_id, a.account.uid.clone()), ())
                .is_none());
        }
        // One link per account and per identity on a connector.
        let mut uids = BTreeSet::new();
        let mut identities = BTreeSet::new();
        for (_, connector, identity, uid) in &data.setup.links {
            assert!(uids.insert((*connector, uid.clone())));
            assert!(identities.insert((*connector, *identity)));
        }
    }

    #[test]
    fn ids_are_deterministic() {
        let (a, b) = (data(), data());
        let ids = |d: &DemoData| {
            d.plan
                .operations()
                .map(|p| p.operation.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&a), ids(&b));
        assert_eq!(a.setup.links, b.setup.links);
    }

    #[test]
    fn the_schedule_fires_at_two() {
        use setup::last_2am;
        let now = DateTime::parse_from_rfc3339("2026-11-24T01:30:00Z")
            .expect("time")
            .with_timezone(&Utc);
        assert_eq!(ts(last_2am(now)), "2026-11-23T02:00:00.000000Z");
        let now = DateTime::parse_from_rfc3339("2026-11-24T02:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        assert_eq!(ts(last_2am(now)), "2026-11-24T02:00:00.000000Z");
    }
}
