//! The `--demo` data: two tenants with their accounts, connectors and identities ([`Setup`]), and a month of
//! provisioning and reconciliation history ([`History`]).
//!
//! Everything comes from one seeded RNG, so ids and shapes are the same on every seed; times are relative to
//! the moment of seeding. [`History`] stands in for what the worker and the reconciler would have produced:
//! when they exist, seeding can run them over [`Setup`] instead, and only [`history`] goes.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, DurationRound, Utc};
use dto::{
    ActionId, ConflictId, ConnectorId, DiscrepancyId, EntryId, ExecutionAttempt, OperationId, OperationLog,
    ProvisioningOperation, RunId, ScheduleId, TenantId, UserId,
};
use enums::{
    ConflictOutcome, ConnectorStatus, DiscrepancyType, OperationStatus, OperationType, ReconciliationMode,
    ReconciliationRunStatus, RemediationAction, RemediationDirection, ResolutionStatus, ScheduleFrequency,
};
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::json;
use sqlx::SqlitePool;
use uuid::Uuid;

use crate::{
    auth,
    store::{
        self, AttributeDiff, Lease, NewAction, NewConflict, NewConnector, NewDiscrepancy, NewIdentity, NewRun,
        NewSchedule, NewTargetAccount, NewTenant, NewUser, TrendCount,
    },
    EngineError,
};

/// "Demo Corp", the tenant the console logs in to.
pub const DEMO_TENANT: TenantId = TenantId(Uuid::from_u128(0x00000000_0000_4000_8000_00000000d001));
/// "Other Corp", a second tenant whose rows Demo Corp must never see.
pub const OTHER_TENANT: TenantId = TenantId(Uuid::from_u128(0x00000000_0000_4000_8000_00000000d002));
/// Demo Corp's admin.
pub const DEMO_ADMIN: UserId = UserId(Uuid::from_u128(0x00000000_0000_4000_8000_00000000a001));
/// Demo Corp's non-admin account.
pub const DEMO_VIEWER: UserId = UserId(Uuid::from_u128(0x00000000_0000_4000_8000_00000000a002));
/// Other Corp's admin.
pub const OTHER_ADMIN: UserId = UserId(Uuid::from_u128(0x00000000_0000_4000_8000_00000000a003));
/// "Corporate Directory": Demo Corp's active built-in directory connector.
pub const CORPORATE_DIRECTORY: ConnectorId = ConnectorId(Uuid::from_u128(0x00000000_0000_4000_8000_00000000c001));
/// "Legacy HR": disabled.
pub const LEGACY_HR: ConnectorId = ConnectorId(Uuid::from_u128(0x00000000_0000_4000_8000_00000000c002));
/// "Cloud CRM": offline.
pub const CLOUD_CRM: ConnectorId = ConnectorId(Uuid::from_u128(0x00000000_0000_4000_8000_00000000c003));
/// "Other Directory": Other Corp's connector.
pub const OTHER_DIRECTORY: ConnectorId = ConnectorId(Uuid::from_u128(0x00000000_0000_4000_8000_00000000c004));

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
        store::insert_operation(&mut tx, op, &seeded.idempotency_key, seeded.lease.as_ref()).await?;
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
    let setup = setup(&mut rng, now, hashes);
    let history = history(&mut rng, now, &setup);
    DemoData { setup, history }
}

fn new_id(rng: &mut StdRng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.gen()).into_uuid()
}

fn ago(now: DateTime<Utc>, seconds: i64) -> DateTime<Utc> {
    now - Duration::seconds(seconds)
}

const FIRST_NAMES: [&str; 25] = [
    "Alice", "Bruno", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Keiko", "Liam", "Maya",
    "Nadia", "Oscar", "Priya", "Quentin", "Rosa", "Samir", "Tessa", "Umar", "Vera", "Wei", "Ximena", "Yusuf",
];
const LAST_NAMES: [&str; 25] = [
    "Anders", "Becker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hansen", "Ivanova", "Jensen", "Kowalski",
    "Laurent", "Moreau", "Novak", "Okafor", "Petrov", "Quinn", "Rossi", "Schmidt", "Tanaka", "Ueda", "Varga",
    "Weber", "Young", "Zhang",
];
const DEPARTMENTS: [&str; 6] = ["Engineering", "Sales", "Finance", "People", "Support", "Marketing"];
const TITLES: [&str; 6] = ["Engineer", "Account Executive", "Analyst", "HR Partner", "Support Specialist", "Manager"];

/// Identities of Demo Corp whose Corporate Directory account drifts, by identity index.
mod drift {
    /// No account: pending `missing` discrepancies.
    pub const MISSING: [usize; 4] = [45, 46, 47, 48];
    /// Was missing; the account was created by a remediation.
    pub const MISSING_FIXED: usize = 49;
    /// Account attributes differ: pending `mismatch`.
    pub const MISMATCH: [usize; 3] = [5, 10, 15];
    /// Differed; updated by a remediation.
    pub const MISMATCH_FIXED: [usize; 2] = [20, 25];
    /// Account exists but is not linked: pending `unlinked`.
    pub const UNLINKED: [usize; 2] = [36, 37];
    /// Was unlinked; linked by a remediation.
    pub const UNLINKED_FIXED: usize = 35;
    /// Linked account deleted in the target: `deleted` (the second one ignored).
    pub const DELETED: [usize; 2] = [40, 41];
    /// A second account claims the identity's email: `collision`.
    pub const COLLISION: [usize; 2] = [30, 31];
    /// Accounts no identity owns: `orphan` (the first one ignored: a service account).
    pub const ORPHANS: [&str; 3] = ["svc.backup", "svc.reporting", "temp.contractor01"];
}

struct Person {
    id: UserId,
    uid: String,
    email: String,
    display_name: String,
    attributes: serde_json::Value,
}

fn person(rng: &mut StdRng, index: usize, domain: &str) -> Person {
    let first = FIRST_NAMES[index % FIRST_NAMES.len()];
    let last = LAST_NAMES[(index / LAST_NAMES.len() + index) % LAST_NAMES.len()];
    let uid = format!("{}.{}", first.to_lowercase(), last.to_lowercase());
    let email = format!("{uid}@{domain}");
    let department = DEPARTMENTS[rng.gen_range(0..DEPARTMENTS.len())];
    let title = TITLES[rng.gen_range(0..TITLES.len())];
    let attributes = json!({
        "first_name": first,
        "last_name": last,
        "email": email,
        "department": department,
        "title": title,
        "employee_id": format!("E{:05}", 1000 + index),
    });
    Person { id: UserId(new_id(rng)), uid, email, display_name: format!("{first} {last}"), attributes }
}

fn setup(rng: &mut StdRng, now: DateTime<Utc>, hashes: &PasswordHashes) -> Setup {
    let founded = ago(now, 90 * 86_400);
    let tenants = vec![
        NewTenant { id: DEMO_TENANT, name: "Demo Corp".into(), created_at: founded },
        NewTenant { id: OTHER_TENANT, name: "Other Corp".into(), created_at: founded },
    ];
    let user = |id, tenant_id, email: &str, name: &str, hash: &str, role: &str| NewUser {
        id,
        tenant_id,
        email: email.into(),
        display_name: Some(name.into()),
        password_hash: hash.into(),
        roles: vec![role.into()],
        active: true,
        created_at: founded,
    };
    let users = vec![
        user(DEMO_ADMIN, DEMO_TENANT, ADMIN_EMAIL, "Demo Admin", &hashes.admin, "admin"),
        user(DEMO_VIEWER, DEMO_TENANT, VIEWER_EMAIL, "Demo Viewer", &hashes.viewer, "user"),
        user(OTHER_ADMIN, OTHER_TENANT, OTHER_ADMIN_EMAIL, "Other Admin", &hashes.other_admin, "admin"),
    ];
    let connector = |id, tenant_id, name: &str, status, settings| NewConnector {
        id,
        tenant_id,
        name: name.into(),
        connector_type: "directory".into(),
        status,
        credentials_valid: true,
        settings,
        created_at: founded,
    };
    let connectors = vec![
        connector(
            CORPORATE_DIRECTORY,
            DEMO_TENANT,
            "Corporate Directory",
            ConnectorStatus::Active,
            json!({"offline": false, "error_rate": 0.05, "latency_ms": 40}),
        ),
        connector(LEGACY_HR, DEMO_TENANT, "Legacy HR", ConnectorStatus::Disabled, json!({})),
        connector(CLOUD_CRM, DEMO_TENANT, "Cloud CRM", ConnectorStatus::Offline, json!({"offline": true})),
        connector(OTHER_DIRECTORY, OTHER_TENANT, "Other Directory", ConnectorStatus::Active, json!({})),
    ];

    let demo_people: Vec<Person> = (0..IDENTITIES).map(|i| person(rng, i, "demo.local")).collect();
    let other_people: Vec<Person> = (0..5).map(|i| person(rng, i + 7, "other.local")).collect();
    let identity = |p: &Person, tenant_id| NewIdentity {
        id: p.id,
        tenant_id,
        email: p.email.clone(),
        display_name: p.display_name.clone(),
        attributes: p.attributes.clone(),
        active: true,
        created_at: founded,
    };
    let mut identities: Vec<NewIdentity> = demo_people.iter().map(|p| identity(p, DEMO_TENANT)).collect();
    identities.extend(other_people.iter().map(|p| identity(p, OTHER_TENANT)));

    let account = |uid: &str, identity_id: Option<UserId>, attributes: serde_json::Value| NewTargetAccount {
        connector_id: CORPORATE_DIRECTORY,
        uid: uid.into(),
        tenant_id: DEMO_TENANT,
        object_class: "user".into(),
        identity_id,
        attributes,
        created_at: founded,
    };
    let mut accounts = Vec::new();
    for (i, p) in demo_people.iter().enumerate() {
        if drift::MISSING.contains(&i) || drift::DELETED.contains(&i) {
            continue;
        }
        let mut attributes = p.attributes.clone();
        if drift::MISMATCH.contains(&i) {
            attributes["department"] = json!("Unassigned");
            attributes["title"] = json!("Contractor");
        }
        let linked = !drift::UNLINKED.contains(&i);
        accounts.push(account(&p.uid, linked.then_some(p.id), attributes));
        if drift::COLLISION.contains(&i) {
            accounts.push(account(&format!("{}2", p.uid), None, json!({ "email": p.email, "title": "Duplicate" })));
        }
    }
    for uid in drift::ORPHANS {
        accounts.push(account(uid, None, json!({ "email": format!("{uid}@demo.local"), "title": "Service" })));
    }

    let schedules = vec![NewSchedule {
        id: ScheduleId(new_id(rng)),
        tenant_id: DEMO_TENANT,
        connector_id: CORPORATE_DIRECTORY,
        mode: ReconciliationMode::Full,
        frequency: ScheduleFrequency::Daily,
        day_of_week: None,
        day_of_month: None,
        hour_of_day: 2,
        cron_expression: None,
        enabled: true,
        last_run_at: Some(scheduled_run_start(now)),
        next_run_at: Some(last_2am(now) + Duration::days(1)),
        created_at: ago(now, 60 * 86_400),
    }];

    Setup { tenants, users, connectors, identities, accounts, schedules }
}

/// When the schedule last fired: a 02:00 at least eight hours ago, so everything that followed it is past.
fn scheduled_run_start(now: DateTime<Utc>) -> DateTime<Utc> {
    last_2am(now - Duration::hours(8))
}

/// The latest 02:00 UTC at or before `now`.
fn last_2am(now: DateTime<Utc>) -> DateTime<Utc> {
    let midnight = now.duration_trunc(Duration::days(1)).unwrap_or(now);
    let today = midnight + Duration::hours(2);
    if today <= now {
        today
    } else {
        today - Duration::days(1)
    }
}

fn history(rng: &mut StdRng, now: DateTime<Utc>, setup: &Setup) -> History {
    let demo_people: Vec<&NewIdentity> = setup.identities.iter().filter(|i| i.tenant_id == DEMO_TENANT).collect();
    let other_people: Vec<&NewIdentity> = setup.identities.iter().filter(|i| i.tenant_id == OTHER_TENANT).collect();

    let mut operations = Vec::new();
    let mut ops = OperationFactory { rng, now, tenant: DEMO_TENANT, admin: DEMO_ADMIN, people: &demo_people };
    for n in 0..DEMO_OPERATIONS {
        // The first eight cover every status; the rest follow a realistic mix.
        let status = OperationStatus::ALL.get(n).copied().unwrap_or_else(|| ops.pick_status());
        let connector = ops.pick_connector(status);
        operations.push(ops.build(status, connector));
    }
    let mut others = OperationFactory { rng: ops.rng, now, tenant: OTHER_TENANT, admin: OTHER_ADMIN, people: &other_people };
    for n in 0..OTHER_OPERATIONS {
        let status = OperationStatus::ALL[n % OperationStatus::ALL.len()];
        let status = if status == OperationStatus::AwaitingSystem { OperationStatus::Completed } else { status };
        operations.push(others.build(status, (OTHER_DIRECTORY, "Other Directory")));
    }
    let rng = others.rng;
    operations.sort_by_key(|s| s.operation.created_at);

    let conflicts = conflicts(rng, &operations);
    let (runs, discrepancies, actions) = reconciliation(rng, now, &demo_people, &setup.accounts);
    let trend = trend(rng, now, &runs, &discrepancies);
    History { operations, conflicts, runs, discrepancies, actions, trend }
}

struct OperationFactory<'a> {
    rng: &'a mut StdRng,
    now: DateTime<Utc>,
    tenant: TenantId,
    admin: UserId,
    people: &'a [&'a NewIdentity],
}

struct Failure {
    code: &'static str,
    message: String,
    duration_ms: i64,
}

impl OperationFactory<'_> {
    fn pick_status(&mut self) -> OperationStatus {
        use OperationStatus::*;
        let weighted =
            [(Completed, 50), (Pending, 10), (Failed, 8), (AwaitingSystem, 8), (DeadLetter, 6), (Resolved, 5),
             (Cancelled, 5), (InProgress, 3)];
        let total: u32 = weighted.iter().map(|(_, w)| w).sum();
        let mut roll = self.rng.gen_range(0..total);
        for (status, weight) in weighted {
            if roll < weight {
                return status;
            }
            roll -= weight;
        }
        Completed
    }

    /// Awaiting-system work waits on the offline Cloud CRM; the disabled Legacy HR only has settled history.
    fn pick_connector(&mut self, status: OperationStatus) -> (ConnectorId, &'static str) {
        use OperationStatus::*;
        if status == AwaitingSystem {
            return (CLOUD_CRM, "Cloud CRM");
        }
        let roll = self.rng.gen_range(0..100);
        if roll < 12 && matches!(status, Completed | Cancelled | DeadLetter | Resolved) {
            (LEGACY_HR, "Legacy HR")
        } else if roll < 24 && matches!(status, Completed | Failed | DeadLetter) {
            (CLOUD_CRM, "Cloud CRM")
        } else {
            (CORPORATE_DIRECTORY, "Corporate Directory")
        }
    }

    fn failure(&mut self, connector: &str) -> Failure {
        let (code, message, duration_ms) = match self.rng.gen_range(0..5) {
            0 => ("CONNECTION_FAILED", format!("connection refused by {connector} (ECONNREFUSED)"), 12),
            1 => ("TIMEOUT", format!("{connector} did not answer within 30 s"), 30_000),
            2 => ("TARGET_REJECTED", "target rejected the change: attribute `mail` must be unique".into(), 180),
            3 => ("INVALID_ATTRIBUTE", "attribute `department` is not allowed by the target schema".into(), 95),
            _ => ("RATE_LIMITED", format!("{connector} answered 429 Too Many Requests"), 60),
        };
        Failure { code, message, duration_ms }
    }

    fn log(&mut self, logs: &mut Vec<OperationLog>, op: OperationId, at: DateTime<Utc>, level: &str, msg: String) {
        logs.push(OperationLog {
            id: EntryId(new_id(self.rng)),
            operation_id: op,
            timestamp: at,
            level: level.into(),
            message: msg,
        });
    }

    fn build(&mut self, status: OperationStatus, (connector_id, connector): (ConnectorId, &str)) -> SeededOperation {
        use OperationStatus::*;
        let id = OperationId(new_id(self.rng));
        let person = self.people[self.rng.gen_range(0..self.people.len())];
        let uid = person.email.split('@').next().unwrap_or_default().to_owned();
        let operation_type = [OperationType::Create, OperationType::Update, OperationType::Update, OperationType::Delete]
            [self.rng.gen_range(0..4)];
        let max_age_secs: i64 = match status {
            InProgress => 20 * 60,
            Pending => 36 * 3600,
            Failed => 3 * 86_400,
            AwaitingSystem => 5 * 86_400,
            _ => 30 * 86_400,
        };
        // Legacy HR was disabled ten days ago: its history is older.
        let min_age_secs = if connector_id == LEGACY_HR { 10 * 86_400 } else { 60 };
        let created_at = ago(self.now, self.rng.gen_range(min_age_secs..max_age_secs.max(min_age_secs + 1)));
        let priority = [0, 0, 0, 0, 5, 5, 10][self.rng.gen_range(0..7)];
        let max_retries = 3;
        let payload = match operation_type {
            OperationType::Create => person.attributes.clone(),
            OperationType::Update => json!({
                "department": DEPARTMENTS[self.rng.gen_range(0..DEPARTMENTS.len())],
                "title": TITLES[self.rng.gen_range(0..TITLES.len())],
            }),
            OperationType::Delete => json!({ "reason": "identity deactivated" }),
        };

        let mut attempts = Vec::new();
        let mut logs = Vec::new();
        self.log(&mut logs, id, created_at, "info", format!("Operation queued ({operation_type}, priority {priority})"));

        // How many attempts failed, and whether a last one succeeded.
        let (failures, succeeded) = match status {
            Completed => ([0, 0, 0, 0, 0, 1, 2][self.rng.gen_range(0..7)], true),
            Failed => (self.rng.gen_range(1..max_retries), false),
            DeadLetter | Resolved => (max_retries, false),
            AwaitingSystem => (1, false),
            Pending => (if self.rng.gen_bool(0.2) { 1 } else { 0 }, false),
            InProgress | Cancelled => (0, false),
        };
        let mut clock = created_at + Duration::seconds(self.rng.gen_range(1..30));
        let mut last_error = None;
        let mut started_at = None;
        for n in 1..=failures + i32::from(succeeded) {
            let failure = if n <= failures {
                Some(if status == AwaitingSystem {
                    Failure {
                        code: "CONNECTOR_OFFLINE",
                        message: format!("connector {connector} is offline"),
                        duration_ms: 5,
                    }
                } else {
                    self.failure(connector)
                })
            } else {
                None
            };
            let duration_ms = failure.as_ref().map_or_else(|| self.rng.gen_range(40..2_500), |f| f.duration_ms);
            let end = clock + Duration::milliseconds(duration_ms);
            self.log(&mut logs, id, clock, "info", format!("Attempt {n} started"));
            match &failure {
                Some(f) => {
                    let level = if n == failures && !matches!(status, Pending | Failed) { "error" } else { "warn" };
                    self.log(&mut logs, id, end, level, format!("Attempt {n} failed: {}: {}", f.code, f.message));
                }
                None => self.log(&mut logs, id, end, "info", format!("Attempt {n} succeeded in {duration_ms} ms")),
            }
            attempts.push((
                EntryId(new_id(self.rng)),
                ExecutionAttempt {
                    attempt_number: n,
                    started_at: clock,
                    completed_at: Some(end),
                    success: failure.is_none(),
                    error_code: failure.as_ref().map(|f| f.code.to_owned()),
                    error_message: failure.as_ref().map(|f| f.message.clone()),
                    duration_ms: Some(duration_ms),
                },
            ));
            started_at = Some(clock);
            last_error = failure.map(|f| f.message);
            // Exponential backoff before the next attempt: 30 s, 60 s, 120 s, ...
            clock = end + Duration::seconds(30_i64 << (n - 1));
        }
        let last_end = attempts.last().and_then(|(_, a)| a.completed_at);

        let mut op = ProvisioningOperation {
            id,
            tenant_id: self.tenant,
            connector_id,
            connector_name: Some(connector.to_owned()),
            user_id: person.id,
            operation_type,
            object_class: "user".into(),
            target_uid: (operation_type != OperationType::Create || succeeded).then(|| uid.clone()),
            status,
            priority,
            retry_count: failures,
            max_retries,
            error_message: last_error,
            payload: Some(payload),
            idempotency_key: None,
            next_retry_at: None,
            created_at,
            updated_at: last_end.unwrap_or(created_at),
            started_at,
            completed_at: None,
            resolution_notes: None,
            resolved_by: None,
            resolved_at: None,
        };
        let mut lease = None;
        match status {
            Completed => {
                op.completed_at = last_end;
                self.log(&mut logs, id, op.updated_at, "info", format!("Completed on {connector}"));
            }
            Failed | Pending if failures > 0 => {
                let next = (clock).max(self.now + Duration::seconds(self.rng.gen_range(30..600)));
                op.next_retry_at = Some(next);
                self.log(&mut logs, id, op.updated_at, "info", format!("Retry {failures} of {max_retries} scheduled"));
            }
            DeadLetter | Resolved => {
                self.log(
                    &mut logs,
                    id,
                    op.updated_at,
                    "error",
                    format!("Moved to the dead letter queue after {failures} failed attempts"),
                );
            }
            AwaitingSystem => {
                op.retry_count = 0;
                self.log(&mut logs, id, op.updated_at, "warn", format!("Waiting for {connector} to come back online"));
            }
            InProgress => {
                let start = (created_at + Duration::seconds(5)).min(self.now);
                op.started_at = Some(start);
                op.updated_at = start;
                lease = Some(Lease { owner: "engine-worker-1".into(), expires_at: self.now + Duration::seconds(60) });
                self.log(&mut logs, id, start, "info", "Attempt 1 started".into());
            }
            Cancelled => {
                op.updated_at = (created_at + Duration::minutes(self.rng.gen_range(1..90))).min(self.now);
                self.log(&mut logs, id, op.updated_at, "info", "Cancelled by an admin".into());
            }
            Pending | Failed => {}
        }
        if status == Resolved {
            let at = (op.updated_at + Duration::hours(self.rng.gen_range(1..48))).min(self.now);
            let notes = ["Fixed the account by hand in the target", "Duplicate of a later change", "Target record removed"]
                [self.rng.gen_range(0..3)];
            op.resolution_notes = Some(notes.into());
            op.resolved_by = Some(self.admin);
            op.resolved_at = Some(at);
            op.updated_at = at;
            self.log(&mut logs, id, at, "info", format!("Resolved by an admin: {notes}"));
        }
        SeededOperation { operation: op, idempotency_key: format!("seed:{id}"), lease, attempts, logs }
    }
}

/// Four conflicts between operations of one user on one connector: two pending, two resolved.
fn conflicts(rng: &mut StdRng, operations: &[SeededOperation]) -> Vec<NewConflict> {
    let mut by_target: BTreeMap<(ConnectorId, UserId), Vec<&ProvisioningOperation>> = BTreeMap::new();
    for seeded in operations.iter().filter(|s| s.operation.tenant_id == DEMO_TENANT) {
        let op = &seeded.operation;
        by_target.entry((op.connector_id, op.user_id)).or_default().push(op);
    }
    let pairs: Vec<(&ProvisioningOperation, &ProvisioningOperation)> =
        by_target.values().filter(|ops| ops.len() >= 2).map(|ops| (ops[0], ops[1])).take(4).collect();
    let kinds = [
        ("concurrent_update", vec!["department", "title"], None),
        ("stale_data", vec!["email"], None),
        ("missing_target", vec!["uid"], Some((ConflictOutcome::Applied, "Recreated the account"))),
        ("external_change", vec!["title"], Some((ConflictOutcome::Merged, "Kept the target's title"))),
    ];
    pairs
        .into_iter()
        .zip(kinds)
        .map(|((a, b), (kind, attributes, outcome))| {
            let created_at = a.created_at.max(b.created_at) + Duration::seconds(2);
            NewConflict {
                id: ConflictId(new_id(rng)),
                tenant_id: DEMO_TENANT,
                operation_id_a: a.id,
                operation_id_b: b.id,
                conflict_type: kind.into(),
                affected_attributes: attributes.into_iter().map(String::from).collect(),
                outcome: outcome.map(|(o, _)| o),
                notes: outcome.map(|(_, n)| n.to_owned()),
                created_at,
                resolved_at: outcome.map(|_| created_at + Duration::hours(3)),
                resolved_by: outcome.map(|_| DEMO_ADMIN),
            }
        })
        .collect()
}

/// Corporate Directory's three runs, what they found, and the audit log of the remediations since.
fn reconciliation(
    rng: &mut StdRng,
    now: DateTime<Utc>,
    people: &[&NewIdentity],
    accounts: &[NewTargetAccount],
) -> (Vec<NewRun>, Vec<NewDiscrepancy>, Vec<NewAction>) {
    let total = i64::try_from(accounts.len()).unwrap_or(i64::MAX);
    let admin = Some(DEMO_ADMIN);
    let (full_mode, delta) = (ReconciliationMode::Full, ReconciliationMode::Delta);
    let (completed, failed_status) = (ReconciliationRunStatus::Completed, ReconciliationRunStatus::Failed);
    let mut failed = new_run(rng, total, ago(now, 6 * 86_400), failed_status, false, full_mode, admin);
    failed.accounts_processed = 12;
    failed.api_calls_made = 13;
    failed.error_message = Some("connection reset by Corporate Directory after 12 accounts (CONNECTION_FAILED)".into());
    let mut dry = new_run(rng, total, ago(now, 3 * 86_400), completed, true, delta, admin);
    let mut full = new_run(rng, total, scheduled_run_start(now), completed, false, full_mode, None);

    let mut discrepancies = Vec::new();
    let uid_of = |p: &NewIdentity| p.email.split('@').next().unwrap_or_default().to_owned();
    let mismatch = |d: &mut NewDiscrepancy, p: &NewIdentity| {
        let xavyo_dept = p.attributes["department"].as_str().unwrap_or_default().to_owned();
        let xavyo_title = p.attributes["title"].as_str().unwrap_or_default().to_owned();
        d.attribute_name = Some("department".into());
        d.expected_value = Some(xavyo_dept.clone());
        d.actual_value = Some("Unassigned".into());
        d.mismatched_attributes = Some(BTreeMap::from([
            ("department".to_owned(), AttributeDiff { xavyo: json!(xavyo_dept), target: json!("Unassigned") }),
            ("title".to_owned(), AttributeDiff { xavyo: json!(xavyo_title), target: json!("Contractor") }),
        ]));
    };

    // The dry run three days ago saw part of today's drift.
    for &i in &drift::MISMATCH[..2] {
        let k = push(&mut discrepancies, rng, &dry, DiscrepancyType::Mismatch, Some(people[i]), Some(uid_of(people[i])));
        mismatch(&mut discrepancies[k], people[i]);
    }
    push(&mut discrepancies, rng, &dry, DiscrepancyType::Missing, Some(people[drift::MISSING[0]]), None);
    push(&mut discrepancies, rng, &dry, DiscrepancyType::Orphan, None, Some(drift::ORPHANS[2].into()));
    let dry_found = discrepancies.len();

    // Yesterday's scheduled full run: every kind of drift, some remediated or ignored since.
    let mut remediated = Vec::new();
    for &i in drift::MISSING.iter().chain([&drift::MISSING_FIXED]) {
        let k = push(&mut discrepancies, rng, &full, DiscrepancyType::Missing, Some(people[i]), None);
        if i == drift::MISSING_FIXED {
            remediated.push((k, RemediationAction::Create));
        }
    }
    for uid in drift::ORPHANS {
        let k = push(&mut discrepancies, rng, &full, DiscrepancyType::Orphan, None, Some(uid.into()));
        if uid == drift::ORPHANS[0] {
            discrepancies[k].resolution_status = ResolutionStatus::Ignored;
        }
    }
    for &i in drift::MISMATCH.iter().chain(&drift::MISMATCH_FIXED) {
        let k = push(&mut discrepancies, rng, &full, DiscrepancyType::Mismatch, Some(people[i]), Some(uid_of(people[i])));
        mismatch(&mut discrepancies[k], people[i]);
        if drift::MISMATCH_FIXED.contains(&i) {
            remediated.push((k, RemediationAction::Update));
        }
    }
    for &i in &drift::COLLISION {
        push(&mut discrepancies, rng, &full, DiscrepancyType::Collision, Some(people[i]), Some(format!("{}2", uid_of(people[i]))));
    }
    for &i in drift::UNLINKED.iter().chain([&drift::UNLINKED_FIXED]) {
        let k = push(&mut discrepancies, rng, &full, DiscrepancyType::Unlinked, Some(people[i]), Some(uid_of(people[i])));
        if i == drift::UNLINKED_FIXED {
            remediated.push((k, RemediationAction::Link));
        }
    }
    for &i in &drift::DELETED {
        let k = push(&mut discrepancies, rng, &full, DiscrepancyType::Deleted, Some(people[i]), Some(uid_of(people[i])));
        if i == drift::DELETED[1] {
            discrepancies[k].resolution_status = ResolutionStatus::Ignored;
        }
    }

    let settle = full.started_at + Duration::hours(7);
    let mut actions = Vec::new();
    for d in discrepancies.iter_mut().filter(|d| d.resolution_status == ResolutionStatus::Ignored) {
        d.resolved_at = Some(settle);
        d.resolved_by = Some(DEMO_ADMIN);
    }
    for (n, (k, action)) in remediated.into_iter().enumerate() {
        let d = &mut discrepancies[k];
        let at = settle + Duration::minutes(i64::try_from(n).unwrap_or(0) * 3);
        d.resolution_status = ResolutionStatus::Resolved;
        d.resolved_at = Some(at);
        d.resolved_by = Some(DEMO_ADMIN);
        actions.push(NewAction {
            id: ActionId(new_id(rng)),
            tenant_id: DEMO_TENANT,
            connector_id: CORPORATE_DIRECTORY,
            discrepancy_id: Some(d.id),
            action_type: action,
            direction: Some(RemediationDirection::XavyoToTarget),
            result: "success".into(),
            dry_run: false,
            performed_by: Some(DEMO_ADMIN),
            performed_at: at,
            details: Some(json!({ "external_uid": d.external_uid, "identity_id": d.identity_id })),
        });
    }
    // A preview before the fixes, and one remediation the target refused.
    let first_mismatch = &discrepancies[0];
    actions.push(NewAction {
        id: ActionId(new_id(rng)),
        tenant_id: DEMO_TENANT,
        connector_id: CORPORATE_DIRECTORY,
        discrepancy_id: Some(first_mismatch.id),
        action_type: RemediationAction::Update,
        direction: Some(RemediationDirection::XavyoToTarget),
        result: "success".into(),
        dry_run: true,
        performed_by: Some(DEMO_ADMIN),
        performed_at: dry.started_at + Duration::hours(1),
        details: Some(json!({ "would_change": { "department": first_mismatch.expected_value } })),
    });
    let refused = discrepancies
        .iter()
        .skip(dry_found)
        .find(|d| d.discrepancy_type == DiscrepancyType::Missing && d.resolution_status == ResolutionStatus::Pending);
    if let Some(d) = refused {
        actions.push(NewAction {
            id: ActionId(new_id(rng)),
            tenant_id: DEMO_TENANT,
            connector_id: CORPORATE_DIRECTORY,
            discrepancy_id: Some(d.id),
            action_type: RemediationAction::Create,
            direction: Some(RemediationDirection::XavyoToTarget),
            result: "failure".into(),
            dry_run: false,
            performed_by: Some(DEMO_ADMIN),
            performed_at: settle - Duration::minutes(20),
            details: Some(json!({ "error": "target rejected the account: mailbox quota exceeded" })),
        });
    }
    actions.sort_by_key(|a| a.performed_at);

    let finish = |run: &mut NewRun, found: usize, seconds: f64| {
        run.discrepancies_found = i64::try_from(found).unwrap_or(0);
        run.duration_seconds = Some(seconds);
        run.completed_at = Some(run.started_at + Duration::milliseconds((seconds * 1000.0) as i64));
    };
    finish(&mut failed, 0, 7.4);
    finish(&mut dry, dry_found, 18.2);
    finish(&mut full, discrepancies.len() - dry_found, 41.6);
    (vec![failed, dry, full], discrepancies, actions)
}

fn new_run(
    rng: &mut StdRng,
    accounts: i64,
    started_at: DateTime<Utc>,
    status: ReconciliationRunStatus,
    dry_run: bool,
    mode: ReconciliationMode,
    created_by: Option<UserId>,
) -> NewRun {
    NewRun {
        id: RunId(new_id(rng)),
        tenant_id: DEMO_TENANT,
        connector_id: CORPORATE_DIRECTORY,
        mode,
        dry_run,
        status,
        scheduled: created_by.is_none(),
        started_at,
        completed_at: None,
        accounts_total: accounts,
        accounts_processed: accounts,
        discrepancies_found: 0,
        api_calls_made: accounts + 2,
        duration_seconds: None,
        created_by,
        error_message: None,
    }
}

/// Records that `run` found a discrepancy of `kind`; returns its index in `list`.
fn push(
    list: &mut Vec<NewDiscrepancy>,
    rng: &mut StdRng,
    run: &NewRun,
    kind: DiscrepancyType,
    person: Option<&NewIdentity>,
    external_uid: Option<String>,
) -> usize {
    let suggested_actions = match kind {
        DiscrepancyType::Missing => vec![RemediationAction::Create],
        DiscrepancyType::Orphan => vec![RemediationAction::Delete, RemediationAction::Link],
        DiscrepancyType::Mismatch => vec![RemediationAction::Update],
        DiscrepancyType::Collision | DiscrepancyType::Unlinked => vec![RemediationAction::Link],
        DiscrepancyType::Deleted => {
            vec![RemediationAction::Create, RemediationAction::Unlink, RemediationAction::InactivateIdentity]
        }
    };
    let n = i64::try_from(list.len()).unwrap_or(0);
    list.push(NewDiscrepancy {
        id: DiscrepancyId(new_id(rng)),
        tenant_id: DEMO_TENANT,
        connector_id: CORPORATE_DIRECTORY,
        run_id: run.id,
        discrepancy_type: kind,
        identity_id: person.map(|p| p.id),
        external_uid,
        attribute_name: None,
        expected_value: None,
        actual_value: None,
        mismatched_attributes: None,
        suggested_actions,
        resolution_status: ResolutionStatus::Pending,
        resolved_at: None,
        resolved_by: None,
        created_at: run.started_at + Duration::seconds(5 + n),
    });
    list.len() - 1
}

/// 30 days of daily counts per type for Corporate Directory; the days of the runs count what they found.
fn trend(rng: &mut StdRng, now: DateTime<Utc>, runs: &[NewRun], discrepancies: &[NewDiscrepancy]) -> Vec<TrendCount> {
    let mut counts: BTreeMap<(chrono::NaiveDate, DiscrepancyType), i64> = BTreeMap::new();
    for days_ago in 0..30 {
        let day = (now - Duration::days(days_ago)).date_naive();
        for kind in DiscrepancyType::ALL {
            // Older days drifted more: the trend slopes down towards today.
            let ceiling = 1 + days_ago / 10;
            counts.insert((day, kind), rng.gen_range(0..=ceiling));
        }
    }
    for run in runs {
        let day = run.started_at.date_naive();
        for kind in DiscrepancyType::ALL {
            let found = discrepancies.iter().filter(|d| d.run_id == run.id && d.discrepancy_type == kind).count();
            counts.insert((day, kind), i64::try_from(found).unwrap_or(0));
        }
    }
    counts
        .into_iter()
        .map(|((day, discrepancy_type), count)| TrendCount {
            tenant_id: DEMO_TENANT,
            connector_id: CORPORATE_DIRECTORY,
            day,
            discrepancy_type,
            count,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::store::ts;

    fn data() -> DemoData {
        let hashes = PasswordHashes { admin: "a".into(), viewer: "v".into(), other_admin: "o".into() };
        build(Utc::now(), &hashes)
    }

    #[test]
    fn covers_every_operation_status_and_discrepancy_type() {
        let data = data();
        let demo_ops: Vec<_> =
            data.history.operations.iter().map(|s| &s.operation).filter(|o| o.tenant_id == DEMO_TENANT).collect();
        assert_eq!(demo_ops.len(), DEMO_OPERATIONS);
        let statuses: BTreeSet<_> = demo_ops.iter().map(|o| o.status).collect();
        assert_eq!(statuses.len(), OperationStatus::ALL.len(), "statuses: {statuses:?}");
        let types: BTreeSet<_> = demo_ops.iter().map(|o| o.operation_type).collect();
        assert_eq!(types.len(), OperationType::ALL.len());
        let kinds: BTreeSet<_> = data.history.discrepancies.iter().map(|d| d.discrepancy_type).collect();
        assert_eq!(kinds.len(), DiscrepancyType::ALL.len(), "discrepancy types: {kinds:?}");
        let resolutions: BTreeSet<_> = data.history.discrepancies.iter().map(|d| d.resolution_status).collect();
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
            if matches!(op.status, OperationStatus::Failed | OperationStatus::DeadLetter) {
                assert!(op.error_message.is_some(), "{:?} without error", op.status);
                assert!(seeded.attempts.iter().all(|(_, a)| !a.success && a.error_code.is_some()));
            }
            if op.status == OperationStatus::Completed {
                assert!(op.completed_at >= op.started_at && op.started_at.is_some());
                assert!(seeded.attempts.last().is_some_and(|(_, a)| a.success));
            }
            if op.status == OperationStatus::AwaitingSystem {
                assert_eq!(op.connector_id, CLOUD_CRM);
            }
            let numbers: Vec<_> = seeded.attempts.iter().map(|(_, a)| a.attempt_number).collect();
            assert_eq!(numbers, (1..=numbers.len() as i32).collect::<Vec<_>>());
            assert!(!seeded.logs.is_empty());
        }
        let keys: BTreeSet<_> = data.history.operations.iter().map(|s| &s.idempotency_key).collect();
        assert_eq!(keys.len(), data.history.operations.len());
        assert_eq!(data.history.conflicts.len(), 4);
        assert_eq!(data.history.conflicts.iter().filter(|c| c.outcome.is_some()).count(), 2);
        let runs = &data.history.runs;
        assert_eq!(runs.len(), 3);
        assert!(runs.iter().any(|r| r.dry_run) && runs.iter().any(|r| r.status == ReconciliationRunStatus::Failed));
        for run in runs {
            let found = data.history.discrepancies.iter().filter(|d| d.run_id == run.id).count();
            assert_eq!(run.discrepancies_found, found as i64);
        }
        let mismatches = data.history.discrepancies.iter().filter(|d| d.discrepancy_type == DiscrepancyType::Mismatch);
        for d in mismatches {
            assert!(d.attribute_name.is_some() && d.expected_value.is_some() && d.mismatched_attributes.is_some());
        }
        assert_eq!(data.history.trend.len(), 30 * DiscrepancyType::ALL.len());
    }

    #[test]
    fn ids_are_deterministic() {
        let (a, b) = (data(), data());
        let ids = |d: &DemoData| d.history.operations.iter().map(|s| s.operation.id).collect::<BTreeSet<_>>();
        assert_eq!(ids(&a), ids(&b));
    }

    #[test]
    fn the_schedule_fires_at_two() {
        let now = DateTime::parse_from_rfc3339("2026-11-24T01:30:00Z").expect("time").with_timezone(&Utc);
        assert_eq!(ts(last_2am(now)), "2026-11-23T02:00:00.000000Z");
        let now = DateTime::parse_from_rfc3339("2026-11-24T02:00:00Z").expect("time").with_timezone(&Utc);
        assert_eq!(ts(last_2am(now)), "2026-11-24T02:00:00.000000Z");
    }
}
