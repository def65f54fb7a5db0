//! The `--demo` data: two tenants with their accounts, connectors and identities ([`Setup`]), and a month of
//! provisioning and reconciliation history ([`History`]).
//!
//! Everything comes from one seeded RNG, so ids and shapes are the same on every seed; times are relative to
//! the moment of seeding. [`History`] stands in for what the worker and the reconciler would have produced:
//! when they exist, seeding can run them over [`Setup`] instead, and only the `history` module goes.

mod history;
mod setup;

use chrono::{DateTime, Duration, Utc};
use dto::{
    ConnectorId, EntryId, ExecutionAttempt, OperationLog, ProvisioningOperation, TenantId, UserId,
};
use rand::{rngs::StdRng, Rng, SeedableRng};
use sqlx::SqlitePool;
use uuid::Uuid;

use crate::{
    auth,
    store::{
        self, Lease, NewAction, NewConflict, NewConnector, NewDiscrepancy, NewIdentity, NewRun,
        NewSchedule, NewTargetAccount, NewTenant, NewUser, TrendCount,
    },
    EngineError,
};

/// "Demo Corp", the tenant the console logs in to.
pub const DEMO_TENANT: TenantId = TenantId(Uuid::from_u128(0x00000000_0000_4000_8000_00000000d001));
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
const DEMO_OPERATIONS: usize = 300;
const OTHER_OPERATIONS: usize = 24;
const IDENTITIES: usize = 50;

/// The fixed demo credentials (documented in the crate docs; demo data for loopback use).
#[derive(Clone, PartialEq, Eq)]
pub struct DemoLogin {
    /// Demo Corp.
    pub tenant_id: TenantId,
    /// Demo Corp's admin.
    pub email: String,
    /// Its password.
    pub password: String,
    /// Other Corp, for isolation checks.
    pub other_tenant_id: TenantId,
    /// Demo Corp's non-admin (role `user`).
    pub viewer_email: String,
    /// Its password.
    pub viewer_password: String,
}

impl std::fmt::Debug for DemoLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoLogin")
            .field("tenant_id", &self.tenant_id)
            .field("email", &self.email)
            .field("other_tenant_id", &self.other_tenant_id)
            .field("viewer_email", &self.viewer_email)
            .finish_non_exhaustive()
    }
}

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
pub async fn ensure_seeded(pool: &SqlitePool) -> Result<DemoLogin, EngineError> {
    if store::tenant_exists(pool, DEMO_TENANT).await? {
        return Ok(login());
    }
    if store::count_tenants(pool).await? > 0 {
        return Err(EngineError::Config(
            "--demo needs an empty database (or one seeded by --demo); this one holds other tenants".into(),
        ));
    }
    seed(pool, Utc::now()).await?;
    Ok(login())
}

/// Inserts the whole demo data set, relative to `now`, in one transaction.
pub async fn seed(pool: &SqlitePool, now: DateTime<Utc>) -> Result<(), EngineError> {
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

    let mut tx = pool.begin().await?;
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
    for account in &setup.accounts {
        store::insert_target_account(&mut tx, account).await?;
    }
    for schedule in &setup.schedules {
        store::insert_schedule(&mut tx, schedule).await?;
    }
    let history = &data.history;
    for seeded in &history.operations {
        let op = &seeded.operation;
        store::insert_operation(&mut tx, op, &seeded.idempotency_key, seeded.lease.as_ref())
            .await?;
        for (id, attempt) in &seeded.attempts {
            store::insert_attempt(&mut tx, op.tenant_id, op.id, *id, attempt).await?;
        }
        for log in &seeded.logs {
            store::insert_log(&mut tx, op.tenant_id, log).await?;
        }
    }
    for conflict in &history.conflicts {
        store::insert_conflict(&mut tx, conflict).await?;
    }
    for run in &history.runs {
        store::insert_run(&mut tx, run).await?;
    }
    for discrepancy in &history.discrepancies {
        store::insert_discrepancy(&mut tx, discrepancy).await?;
    }
    for action in &history.actions {
        store::insert_action(&mut tx, action).await?;
    }
    for point in &history.trend {
        store::add_trend_count(&mut tx, point).await?;
    }
    tx.commit().await?;
    tracing::info!(
        operations = history.operations.len(),
        runs = history.runs.len(),
        discrepancies = history.discrepancies.len(),
        "demo data seeded"
    );
    Ok(())
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
    /// Tenants, accounts, connectors, identities, target accounts and schedules.
    pub setup: Setup,
    /// Operations, conflicts, runs, discrepancies, the audit log and the trend.
    pub history: History,
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
    /// Corporate Directory's accounts, drifting from the identities in a few known ways.
    pub accounts: Vec<NewTargetAccount>,
    /// Corporate Directory's daily 02:00 run.
    pub schedules: Vec<NewSchedule>,
}

/// An operation with what its execution left behind.
pub struct SeededOperation {
    /// The operation (its `connector_name` is joined on read, not stored).
    pub operation: ProvisioningOperation,
    /// Its deduplication key.
    pub idempotency_key: String,
    /// The worker lease of an in-progress operation.
    pub lease: Option<Lease>,
    /// Its attempts with their row ids, oldest first.
    pub attempts: Vec<(EntryId, ExecutionAttempt)>,
    /// Its log, oldest first.
    pub logs: Vec<OperationLog>,
}

/// What the worker and the reconciler would have produced over the last 30 days.
pub struct History {
    /// Operations in every status, with attempts and logs.
    pub operations: Vec<SeededOperation>,
    /// Conflicts between operations, pending and resolved.
    pub conflicts: Vec<NewConflict>,
    /// Corporate Directory's runs: completed, dry run, failed.
    pub runs: Vec<NewRun>,
    /// What the runs found, in all six types.
    pub discrepancies: Vec<NewDiscrepancy>,
    /// The reconciliation audit log.
    pub actions: Vec<NewAction>,
    /// 30 days of discrepancy counts per type.
    pub trend: Vec<TrendCount>,
}

/// Builds the demo data set for `now` without touching a database.
pub fn build(now: DateTime<Utc>, hashes: &PasswordHashes) -> DemoData {
    let mut rng = StdRng::seed_from_u64(SEED);
    let setup = setup::setup(&mut rng, now, hashes);
    let history = history::history(&mut rng, now, &setup);
    DemoData { setup, history }
}

fn new_id(rng: &mut StdRng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.gen()).into_uuid()
}

fn ago(now: DateTime<Utc>, seconds: i64) -> DateTime<Utc> {
    now - Duration::seconds(seconds)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use enums::{
        DiscrepancyType, OperationStatus, OperationType, ReconciliationRunStatus, ResolutionStatus,
    };

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
    fn covers_every_operation_status_and_discrepancy_type() {
        let data = data();
        let demo_ops: Vec<_> = data
            .history
            .operations
            .iter()
            .map(|s| &s.operation)
            .filter(|o| o.tenant_id == DEMO_TENANT)
            .collect();
        assert_eq!(demo_ops.len(), DEMO_OPERATIONS);
        let statuses: BTreeSet<_> = demo_ops.iter().map(|o| o.status).collect();
        assert_eq!(
            statuses.len(),
            OperationStatus::ALL.len(),
            "statuses: {statuses:?}"
        );
        let types: BTreeSet<_> = demo_ops.iter().map(|o| o.operation_type).collect();
        assert_eq!(types.len(), OperationType::ALL.len());
        let kinds: BTreeSet<_> = data
            .history
            .discrepancies
            .iter()
            .map(|d| d.discrepancy_type)
            .collect();
        assert_eq!(
            kinds.len(),
            DiscrepancyType::ALL.len(),
            "discrepancy types: {kinds:?}"
        );
        let resolutions: BTreeSet<_> = data
            .history
            .discrepancies
            .iter()
            .map(|d| d.resolution_status)
            .collect();
        assert_eq!(resolutions.len(), ResolutionStatus::ALL.len());
    }

    #[test]
    fn history_is_consistent() {
        let now = Utc::now();
        let data = data();
        for seeded in &data.history.operations {
            let op = &seeded.operation;
            assert!(op.created_at <= now && op.created_at > now - Duration::days(31));
            assert!(op.updated_at >= op.created_at);
            if matches!(
                op.status,
                OperationStatus::Failed | OperationStatus::DeadLetter
            ) {
                assert!(op.error_message.is_some(), "{:?} without error", op.status);
                assert!(seeded
                    .attempts
                    .iter()
                    .all(|(_, a)| !a.success && a.error_code.is_some()));
            }
            if op.status == OperationStatus::Completed {
                assert!(op.completed_at >= op.started_at && op.started_at.is_some());
                assert!(seeded.attempts.last().is_some_and(|(_, a)| a.success));
            }
            if op.status == OperationStatus::AwaitingSystem {
                assert_eq!(op.connector_id, CLOUD_CRM);
            }
            let numbers: Vec<_> = seeded
                .attempts
                .iter()
                .map(|(_, a)| a.attempt_number)
                .collect();
            assert_eq!(numbers, (1..=numbers.len() as i32).collect::<Vec<_>>());
            assert!(!seeded.logs.is_empty());
        }
        let keys: BTreeSet<_> = data
            .history
            .operations
            .iter()
            .map(|s| &s.idempotency_key)
            .collect();
        assert_eq!(keys.len(), data.history.operations.len());
        assert_eq!(data.history.conflicts.len(), 4);
        assert_eq!(
            data.history
                .conflicts
                .iter()
                .filter(|c| c.outcome.is_some())
                .count(),
            2
        );
        let runs = &data.history.runs;
        assert_eq!(runs.len(), 3);
        assert!(
            runs.iter().any(|r| r.dry_run)
                && runs
                    .iter()
                    .any(|r| r.status == ReconciliationRunStatus::Failed)
        );
        for run in runs {
            let found = data
                .history
                .discrepancies
                .iter()
                .filter(|d| d.run_id == run.id)
                .count();
            assert_eq!(run.discrepancies_found, found as i64);
        }
        let mismatches = data
            .history
            .discrepancies
            .iter()
            .filter(|d| d.discrepancy_type == DiscrepancyType::Mismatch);
        for d in mismatches {
            assert!(
                d.attribute_name.is_some()
                    && d.expected_value.is_some()
                    && d.mismatched_attributes.is_some()
            );
        }
        assert_eq!(data.history.trend.len(), 30 * DiscrepancyType::ALL.len());
    }

    #[test]
    fn ids_are_deterministic() {
        let (a, b) = (data(), data());
        let ids = |d: &DemoData| {
            d.history
                .operations
                .iter()
                .map(|s| s.operation.id)
                .collect::<BTreeSet<_>>()
        };
        assert_eq!(ids(&a), ids(&b));
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
