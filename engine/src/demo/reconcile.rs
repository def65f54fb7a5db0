//! The demo's reconciliation history, produced by the real reconciler and the real remediation path over the
//! drifted directory of [`super::setup`]: Corporate Directory's full run fired by its schedule (see
//! [`super::schedules`]; it links the one unlinked account it finds), the admin's remediations after it (an
//! update, a create, two ignores), new accounts appearing in the target, and a dry run that finds what is
//! left. Other Corp gets a run too (for the isolation checks). Times are moved back afterwards, as for the
//! operations.

use chrono::{DateTime, Duration, Utc};
use dto::{ConnectorId, DiscrepancyId, RunId, TenantId, UserId};
use enums::{DiscrepancyType, ReconciliationMode, RemediationAction, RemediationDirection};

use super::{
    schedules,
    setup::{drift, scheduled_run_start},
    Setup, CORPORATE_DIRECTORY, DEMO_ADMIN, DEMO_TENANT, OTHER_ADMIN, OTHER_DIRECTORY,
    OTHER_TENANT,
};
use crate::{
    connector::DirectoryStore,
    reconcile::{remedy::Ask, Reconciler},
    store::{self, DiscrepancyFilter, RunRequest},
    EngineError,
};

const OWNER: &str = "demo-seed";

fn failed(what: &str, err: impl std::fmt::Debug) -> EngineError {
    EngineError::Demo(format!("{what}: {err:?}"))
}

/// Admits an admin's run and executes it to its end.
async fn run(
    reconciler: &Reconciler,
    tenant: TenantId,
    connector: ConnectorId,
    dry_run: bool,
    by: UserId,
) -> Result<RunId, EngineError> {
    let request = RunRequest {
        tenant_id: tenant,
        connector_id: connector,
        mode: ReconciliationMode::Full,
        dry_run,
        created_by: Some(by),
        scheduled: false,
    };
    let run = reconciler
        .admit(request)
        .await?
        .ok_or_else(|| failed("run", "no such connector"))?
        .map_err(|refusal| failed("run", refusal))?;
    reconciler.drain(OWNER).await?;
    Ok(run.run.id)
}

/// The pending discrepancies of a run of this type about this identity or account.
async fn found(
    reconciler: &Reconciler,
    run: RunId,
    kind: DiscrepancyType,
    identity: Option<UserId>,
    uid: Option<&str>,
) -> Result<Vec<DiscrepancyId>, EngineError> {
    let filter = DiscrepancyFilter {
        run_id: Some(run),
        discrepancy_type: Some(kind),
        identity_id: identity,
        external_uid: uid.map(str::to_owned),
        ..DiscrepancyFilter::default()
    };
    let page = dto::PageRequest {
        limit: dto::MAX_LIMIT,
        offset: 0,
    };
    let (list, _) = store::list_discrepancies(
        reconciler.pool(),
        DEMO_TENANT,
        CORPORATE_DIRECTORY,
        &filter,
        page,
    )
    .await?;
    Ok(list.into_iter().map(|d| d.id).collect())
}

/// Plays the history; answers how many runs it made.
pub(super) async fn play(
    reconciler: &Reconciler,
    directory: &DirectoryStore,
    setup: &Setup,
    now: DateTime<Utc>,
) -> Result<usize, EngineError> {
    let demo = |i: usize| {
        setup
            .identities
            .iter()
            .filter(|p| p.tenant_id == DEMO_TENANT)
            .nth(i)
            .map(|p| p.id)
            .ok_or_else(|| failed("identity", i))
    };
    let cd = CORPORATE_DIRECTORY;

    // The nightly run, started by Corporate Directory's schedule, finds everything the setup drifted.
    let first = schedules::play(reconciler, now).await?;
    reconciler.drain(OWNER).await?;

    // The admin remediates some of it the morning after.
    let remediate = |id, action, direction| {
        reconciler.remediate(
            DEMO_TENANT,
            cd,
            id,
            Ask {
                action,
                direction,
                identity_id: None,
            },
            false,
            DEMO_ADMIN,
        )
    };
    let fixed = demo(drift::MISMATCH[0])?;
    for id in found(
        reconciler,
        first,
        DiscrepancyType::Mismatch,
        Some(fixed),
        None,
    )
    .await?
    {
        remediate(
            id,
            RemediationAction::Update,
            RemediationDirection::XavyoToTarget,
        )
        .await
        .map_err(|e| failed("update", e))?;
    }
    let created = demo(drift::MISSING[3])?;
    for id in found(
        reconciler,
        first,
        DiscrepancyType::Missing,
        Some(created),
        None,
    )
    .await?
    {
        remediate(
            id,
            RemediationAction::Create,
            RemediationDirection::XavyoToTarget,
        )
        .await
        .map_err(|e| failed("create", e))?;
    }
    let ignored_orphan = found(
        reconciler,
        first,
        DiscrepancyType::Orphan,
        None,
        Some(drift::ORPHANS[0]),
    )
    .await?;
    let ignored_deleted = found(
        reconciler,
        first,
        DiscrepancyType::Deleted,
        Some(demo(drift::DELETED[1])?),
        None,
    )
    .await?;
    for id in ignored_orphan.into_iter().chain(ignored_deleted) {
        reconciler
            .ignore(DEMO_TENANT, cd, id, DEMO_ADMIN)
            .await
            .map_err(|e| failed("ignore", e))?;
    }

    // New hires appear in the target without xavyo knowing; the admin rehearses with a dry run.
    let late: Vec<_> = setup
        .late_accounts
        .iter()
        .map(|a| (a.connector_id, a.account.clone()))
        .collect();
    directory.insert_accounts(&late).await?;
    let second = run(reconciler, DEMO_TENANT, cd, true, DEMO_ADMIN).await?;

    let other = run(
        reconciler,
        OTHER_TENANT,
        OTHER_DIRECTORY,
        false,
        OTHER_ADMIN,
    )
    .await?;

    // Back in time: the nightly run at the schedule's last firing, the rest an hour or two ago.
    let pool = reconciler.pool();
    let nightly = now - scheduled_run_start(now);
    store::backdate_run(pool, first, nightly, nightly - Duration::hours(6)).await?;
    store::backdate_run(pool, second, Duration::minutes(90), Duration::minutes(90)).await?;
    store::backdate_run(pool, other, Duration::hours(5), Duration::hours(5)).await?;
    Ok(3)
}
