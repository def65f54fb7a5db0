//! Remediation: what an administrator does about a discrepancy, really done through the connector or the
//! identity store. Planning reads the current state and says exactly what would change ([`Plan`]); a preview
//! and a dry run stop there, a real remediation claims the discrepancy, applies the plan and gives the claim
//! back if the change fails. Every remediation, dry or not, and every ignore is written to the audit log, in
//! the transaction that settles it. An engine that stops between a claim and its settle gives the claim back
//! at its next start ([`Reconciler::give_back_interrupted`]).
//!
//! A connector takes a few remediations at once ([`super::ReconcilerConfig::remediations_per_connector`]):
//! the items of a bulk run side by side, each in a task of its own, so that a bulk finishes whatever its
//! caller does.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use dto::{
    BulkItem, BulkRemediateRequest, BulkRemediateResponse, ConnectorId, Discrepancy, DiscrepancyId,
    PreviewResponse, RemediationPreview, RemediationResult, TenantId, UserId,
};
use enums::{DiscrepancyType, RemediationAction, RemediationDirection, ResolutionStatus};
use serde_json::{json, Map, Value};
use sqlx::SqliteConnection;
use tokio::sync::Semaphore;

use super::{classify, Reconciler};
use crate::{
    connector::{
        uid_from_email, Account, Attributes, Call, Connector, ConnectorError, ConnectorTarget,
        NewAccount,
    },
    gate,
    store::{self, Identity, Mapping},
};

/// Why a remediation was refused before anything was tried.
#[derive(Debug)]
pub enum Refusal {
    /// No such discrepancy (or connector) in this tenant.
    NotFound(String),
    /// The request does not fit the discrepancy: the field at fault and why.
    Invalid {
        /// `action`, `direction`, `identity_id`, `discrepancy_ids`, `items`.
        field: &'static str,
        /// For people.
        message: String,
    },
    /// Already resolved or ignored: its status and who settled it when.
    Settled {
        /// Its status now.
        current: ResolutionStatus,
        /// For people.
        message: String,
    },
    /// The start gate did not admit it (the connector is blocked, or a run holds it); nothing changed.
    NotStarted(crate::gate::StartRefusal),
    /// The database failed.
    Database(sqlx::Error),
}

impl From<sqlx::Error> for Refusal {
    fn from(err: sqlx::Error) -> Self {
        Self::Database(err)
    }
}

/// What an administrator asks for one discrepancy.
#[derive(Debug, Clone, Copy)]
pub struct Ask {
    /// What to do.
    pub action: RemediationAction,
    /// Which side wins.
    pub direction: RemediationDirection,
    /// The identity to link (orphans and collisions).
    pub identity_id: Option<UserId>,
}

/// Checks that `ask` fits the discrepancy (the rules of `enums`), and answers the identity a link would use.
pub fn check(d: &Discrepancy, ask: &Ask) -> Result<Option<UserId>, Refusal> {
    let kind = d.discrepancy_type;
    if !kind.allows(ask.action) {
        let fits: Vec<&str> = kind.remediations().iter().map(|a| a.as_str()).collect();
        return Err(Refusal::Invalid {
            field: "action",
            message: format!(
                "a {kind} discrepancy cannot be remediated with {}; it takes: {}",
                ask.action,
                fits.join(", ")
            ),
        });
    }
    if !ask.action.allows(ask.direction) {
        let ways: Vec<&str> = ask.action.directions().iter().map(|d| d.as_str()).collect();
        return Err(Refusal::Invalid {
            field: "direction",
            message: format!(
                "{} cannot go {}; it goes: {}",
                ask.action,
                ask.direction,
                ways.join(", ")
            ),
        });
    }
    if ask.action != RemediationAction::Link {
        return Ok(d.identity_id);
    }
    match (ask.identity_id, kind.link_needs_identity()) {
        (None, true) => Err(Refusal::Invalid {
            field: "identity_id",
            message: format!("linking a {kind} account needs the identity to link it to"),
        }),
        (Some(chosen), _)
            if kind == DiscrepancyType::Collision
                && !d.candidate_identity_ids.contains(&chosen) =>
        {
            Err(Refusal::Invalid {
                field: "identity_id",
                message: "the identity must be one of the collision's candidates".into(),
            })
        }
        (chosen, _) => Ok(chosen.or(d.identity_id)),
    }
}

/// One change a remediation makes.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    CreateAccount(NewAccount),
    UpdateAccount {
        uid: String,
        changes: Attributes,
    },
    DeleteAccount {
        uid: String,
    },
    UpdateIdentity {
        id: UserId,
        changes: Map<String, Value>,
    },
    InactivateIdentity {
        id: UserId,
    },
    Link {
        identity: UserId,
        uid: String,
    },
    Unlink {
        uid: String,
    },
}

/// What a remediation would do: its steps, and the same as shown to people.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    steps: Vec<Step>,
    /// `[{side, op, uid?, identity_id?, before, after}]`.
    pub changes: Vec<Value>,
}

impl Plan {
    fn push(&mut self, step: Step, change: Value) {
        self.steps.push(step);
        self.changes.push(change);
    }
}

/// The change a link makes, as shown to people (also used by a run's automatic links).
pub fn link_change(identity: UserId, uid: &str) -> Value {
    json!({
        "side": "link", "op": "link", "identity_id": identity, "uid": uid,
        "before": null, "after": {"identity_id": identity, "uid": uid},
    })
}

/// The mapped attributes of an identity, as an account would hold them (nulls left out).
fn mapped(identity: &Identity, mappings: &[Mapping]) -> Attributes {
    mappings
        .iter()
        .filter_map(|m| {
            let value = identity.value(&m.identity_attribute);
            (!value.is_null()).then(|| (m.target_attribute.clone(), value))
        })
        .collect()
}

/// The connector a remediation goes through, with its mapping.
struct Target {
    target: ConnectorTarget,
    connector: Arc<dyn Connector>,
    mappings: Vec<Mapping>,
    tenant: TenantId,
    /// The accounts a bulk read in one call before its items ran (absent uid: no such account); none to
    /// read each account when it is needed.
    known: Option<std::collections::HashMap<String, Account>>,
}

impl Target {
    fn call<'a>(&'a self, key: &'a str) -> Call<'a> {
        Call {
            target: &self.target,
            key,
        }
    }
}

/// Why a remediation could not be planned or applied.
#[derive(Debug)]
enum Failure {
    /// The connector refused or failed a call.
    Connector(ConnectorError),
    /// What the discrepancy names is not as it was (for people).
    Changed(String),
    /// The engine's database failed while the remediation was doing this (`update the identity`).
    Database {
        doing: &'static str,
        err: sqlx::Error,
    },
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Self::Changed(message)
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Self {
        Self::Changed(message.to_owned())
    }
}

impl From<ConnectorError> for Failure {
    fn from(err: ConnectorError) -> Self {
        Self::Connector(err)
    }
}

impl Failure {
    /// A database failure while `doing` (for `map_err`).
    fn database(doing: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |err| Self::Database { doing, err }
    }

    /// What people read (the result and the audit log). A database failure is logged here with its
    /// detail and said in words: its text names tables and constraints, nothing an admin can act on.
    fn words(&self, discrepancy: DiscrepancyId) -> String {
        match self {
            Self::Connector(err) => format!("{}: {}", err.code, err.message),
            Self::Changed(message) => message.clone(),
            Self::Database { doing, err } => {
                tracing::error!(%err, %discrepancy, doing, "remediation: database error");
                database_words(doing, err)
            }
        }
    }
}

/// A database failure while `doing`, in words.
fn database_words(doing: &str, err: &sqlx::Error) -> String {
    let unique = err
        .as_database_error()
        .is_some_and(|e| e.is_unique_violation());
    if unique {
        format!("could not {doing}: another identity or account already has that value")
    } else {
        format!(
            "could not {doing}: the engine's database failed (the detail is in the engine's log)"
        )
    }
}

/// The audit entry of a claim that an engine stopped in the middle of, given back at its next start.
const INTERRUPTED: &str =
    "the engine stopped before this remediation was settled; it is pending again: \
                           check the account, then remediate it again";

impl Reconciler {
    async fn target(&self, tenant: TenantId, connector: ConnectorId) -> Result<Target, Refusal> {
        let mut conn = self.pool().acquire().await?;
        let state = store::connector_state(&mut conn, tenant, connector).await?;
        drop(conn);
        let Some(state) = state else {
            return Err(Refusal::NotFound(format!(
                "connector {connector} not found"
            )));
        };
        let Some(implementation) = self.connectors().get(&state.target.connector_type) else {
            return Err(Refusal::NotFound(format!(
                "connector {connector} has no implementation here"
            )));
        };
        Ok(Target {
            mappings: store::mappings(self.pool(), connector).await?,
            target: state.target,
            connector: implementation,
            tenant,
            known: None,
        })
    }

    async fn discrepancy(
        &self,
        tenant: TenantId,
        connector: ConnectorId,
        id: DiscrepancyId,
    ) -> Result<Discrepancy, Refusal> {
        store::get_discrepancy(self.pool(), tenant, connector, id)
            .await?
            .ok_or_else(|| Refusal::NotFound(format!("discrepancy {id} not found")))
    }

    async fn account(&self, t: &Target, key: &str, uid: &str) -> Result<Option<Account>, Failure> {
        if let Some(known) = &t.known {
            return Ok(known.get(uid).cloned());
        }
        Ok(t.connector.get(t.call(key), uid).await?)
    }

    /// Reads the accounts of a bulk's discrepancies in one connector call, so that each item's plan needs
    /// no read of its own (with 40 ms a call, 100 reads were half of a bulk's time). When that read fails,
    /// each item reads for itself and fails, or not, on its own.
    async fn read_accounts_of(&self, t: &mut Target, items: &[BulkItem]) {
        let mut uids = Vec::with_capacity(items.len());
        for item in items {
            if let Ok(d) = self
                .discrepancy(t.tenant, t.target.id, item.discrepancy_id)
                .await
            {
                uids.extend(d.external_uid);
            }
        }
        uids.sort();
        uids.dedup();
        match t.connector.get_many(t.call("remediate:bulk"), &uids).await {
            Ok(found) => t.known = Some(found),
            Err(err) => tracing::info!(%err, "bulk remediation: accounts read one by one"),
        }
    }

    async fn live_identity(&self, t: &Target, id: Option<UserId>) -> Result<Identity, Failure> {
        let id = id.ok_or("the discrepancy names no identity")?;
        store::identity(self.pool(), t.tenant, id)
            .await
            .map_err(Failure::database("read the identity"))?
            .ok_or_else(|| format!("identity {id} no longer exists").into())
    }

    /// Reads the current state and says what `ask` would change.
    async fn plan(
        &self,
        t: &Target,
        d: &Discrepancy,
        ask: &Ask,
        link_to: Option<UserId>,
    ) -> Result<Plan, Failure> {
        use RemediationAction as A;
        use RemediationDirection as D;
        let key = format!("remediate:{}", d.id);
        let uid = d.external_uid.clone();
        let mut plan = Plan::default();
        match (ask.action, ask.direction) {
            (A::Create, _) => {
                let identity = self.live_identity(t, d.identity_id).await?;
                let uid = match uid {
                    Some(uid) => uid,
                    None => uid_from_email(&identity.email)
                        .ok_or("the identity's email gives no account uid")?,
                };
                if self.account(t, &key, &uid).await?.is_some() {
                    return Err(
                        format!("an account `{uid}` already exists in {}", t.target.name).into(),
                    );
                }
                let attributes = mapped(&identity, &t.mappings);
                plan.push(
                    Step::CreateAccount(NewAccount {
                        uid: uid.clone(),
                        object_class: "user".into(),
                        owner: Some(identity.id),
                        attributes: attributes.clone(),
                    }),
                    json!({"side": "target", "op": "create", "uid": uid, "before": null, "after": attributes}),
                );
                let mut conn = self
                    .pool()
                    .acquire()
                    .await
                    .map_err(Failure::database("read the links"))?;
                let existing =
                    store::link_of(&mut conn, t.target.id, Some(identity.id), Some(&uid))
                        .await
                        .map_err(Failure::database("read the links"))?;
                if existing.is_none() {
                    plan.push(
                        Step::Link {
                            identity: identity.id,
                            uid: uid.clone(),
                        },
                        link_change(identity.id, &uid),
                    );
                }
            }
            (A::Delete, _) => {
                let uid = uid.ok_or("the discrepancy names no account")?;
                let account = self
                    .account(t, &key, &uid)
                    .await?
                    .ok_or_else(|| format!("the account `{uid}` no longer exists"))?;
                plan.push(
                    Step::DeleteAccount { uid: uid.clone() },
                    json!({"side": "target", "op": "delete", "uid": uid, "before": account.attributes, "after": null}),
                );
            }
            (A::Link, _) => {
                let uid = uid.ok_or("the discrepancy names no account")?;
                let identity = self.live_identity(t, link_to).await?;
                let mut conn = self
                    .pool()
                    .acquire()
                    .await
                    .map_err(Failure::database("read the links"))?;
                if let Some(link) =
                    store::link_of(&mut conn, t.target.id, Some(identity.id), Some(&uid))
                        .await
                        .map_err(Failure::database("read the links"))?
                {
                    return Err(format!(
                        "identity {} is already linked to account `{}`",
                        link.identity_id, link.external_uid
                    )
                    .into());
                }
                plan.push(
                    Step::Link {
                        identity: identity.id,
                        uid: uid.clone(),
                    },
                    link_change(identity.id, &uid),
                );
            }
            (A::Update, direction) => {
                let uid = uid.ok_or("the discrepancy names no account")?;
                let attribute = d
                    .attribute_name
                    .clone()
                    .ok_or("the discrepancy names no attribute")?;
                let mapping = t
                    .mappings
                    .iter()
                    .find(|m| m.target_attribute == attribute)
                    .ok_or_else(|| format!("`{attribute}` is no longer mapped"))?;
                let identity = self.live_identity(t, d.identity_id).await?;
                let account = self
                    .account(t, &key, &uid)
                    .await?
                    .ok_or_else(|| format!("the account `{uid}` no longer exists"))?;
                let xavyo = identity.value(&mapping.identity_attribute);
                let target = classify::account_value(&account.attributes, &attribute);
                if direction == D::XavyoToTarget {
                    let changes: Attributes =
                        [(attribute.clone(), xavyo.clone())].into_iter().collect();
                    plan.push(
                        Step::UpdateAccount {
                            uid: uid.clone(),
                            changes,
                        },
                        json!({"side": "target", "op": "update", "uid": uid,
                               "before": {&attribute: target}, "after": {&attribute: xavyo}}),
                    );
                } else {
                    let name = mapping.identity_attribute.clone();
                    let changes: Map<String, Value> =
                        [(name.clone(), target.clone())].into_iter().collect();
                    plan.push(
                        Step::UpdateIdentity {
                            id: identity.id,
                            changes,
                        },
                        json!({"side": "identity", "op": "update", "identity_id": identity.id,
                               "before": {&name: xavyo}, "after": {&name: target}}),
                    );
                }
            }
            (A::Unlink, _) => {
                let uid = uid.ok_or("the discrepancy names no account")?;
                let mut conn = self
                    .pool()
                    .acquire()
                    .await
                    .map_err(Failure::database("read the links"))?;
                let link = store::link_of(&mut conn, t.target.id, None, Some(&uid))
                    .await
                    .map_err(Failure::database("read the links"))?
                    .ok_or_else(|| format!("account `{uid}` is not linked any more"))?;
                plan.push(
                    Step::Unlink { uid: uid.clone() },
                    json!({"side": "link", "op": "unlink", "identity_id": link.identity_id, "uid": uid,
                           "before": {"identity_id": link.identity_id, "uid": uid}, "after": null}),
                );
            }
            (A::InactivateIdentity, _) => {
                let identity = self.live_identity(t, d.identity_id).await?;
                plan.push(
                    Step::InactivateIdentity { id: identity.id },
                    json!({"side": "identity", "op": "inactivate", "identity_id": identity.id,
                           "before": {"active": identity.active}, "after": {"active": false}}),
                );
                if let Some(uid) = uid {
                    plan.push(
                        Step::Unlink { uid: uid.clone() },
                        json!({"side": "link", "op": "unlink", "identity_id": identity.id, "uid": uid,
                               "before": {"identity_id": identity.id, "uid": uid}, "after": null}),
                    );
                }
            }
        }
        Ok(plan)
    }

    /// Applies a plan's steps in order; stops at the first that fails.
    async fn apply(&self, t: &Target, d: &Discrepancy, plan: &Plan) -> Result<(), Failure> {
        let key = format!("remediate:{}", d.id);
        let now = Utc::now();
        for step in &plan.steps {
            match step {
                Step::CreateAccount(account) => {
                    t.connector.create(t.call(&key), account).await?;
                }
                Step::UpdateAccount { uid, changes } => {
                    t.connector.update(t.call(&key), uid, changes).await?;
                }
                Step::DeleteAccount { uid } => {
                    t.connector.delete(t.call(&key), uid).await?;
                    let doing = "remove the deleted account's link";
                    let mut conn = self
                        .pool()
                        .acquire()
                        .await
                        .map_err(Failure::database(doing))?;
                    store::delete_link(&mut conn, t.target.id, uid)
                        .await
                        .map_err(Failure::database(doing))?;
                }
                Step::UpdateIdentity { id, changes } => {
                    let doing = "update the identity";
                    let mut conn = self
                        .pool()
                        .acquire()
                        .await
                        .map_err(Failure::database(doing))?;
                    store::update_identity(&mut conn, t.tenant, *id, changes, now)
                        .await
                        .map_err(Failure::database(doing))?
                        .ok_or_else(|| format!("identity {id} no longer exists"))?;
                }
                Step::InactivateIdentity { id } => {
                    let doing = "inactivate the identity";
                    let mut conn = self
                        .pool()
                        .acquire()
                        .await
                        .map_err(Failure::database(doing))?;
                    if !store::inactivate_identity(&mut conn, t.tenant, *id, now)
                        .await
                        .map_err(Failure::database(doing))?
                    {
                        return Err(format!("identity {id} no longer exists").into());
                    }
                }
                Step::Link { identity, uid } => {
                    let doing = "link the account";
                    let mut conn = self
                        .pool()
                        .acquire()
                        .await
                        .map_err(Failure::database(doing))?;
                    if !store::insert_link(&mut conn, t.tenant, t.target.id, *identity, uid, now)
                        .await
                        .map_err(Failure::database(doing))?
                    {
                        return Err(format!(
                            "account `{uid}` or identity {identity} was linked meanwhile"
                        )
                        .into());
                    }
                }
                Step::Unlink { uid } => {
                    let doing = "unlink the account";
                    let mut conn = self
                        .pool()
                        .acquire()
                        .await
                        .map_err(Failure::database(doing))?;
                    store::delete_link(&mut conn, t.target.id, uid)
                        .await
                        .map_err(Failure::database(doing))?;
                }
            }
        }
        Ok(())
    }

    /// The connector's share of remediations at once, taken for as long as one remediation lasts.
    fn slots(&self, connector: ConnectorId) -> Arc<Semaphore> {
        let mut slots = self
            .inner
            .remediation_slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let per_connector = self.inner.config.remediations_per_connector.max(1);
        Arc::clone(
            slots
                .entry(connector)
                .or_insert_with(|| Arc::new(Semaphore::new(per_connector))),
        )
    }

    /// Remediates one discrepancy as `by`. A refusal changes nothing; a failure while changing is answered
    /// as `success: false` with the error, the discrepancy pending again.
    pub async fn remediate(
        &self,
        tenant: TenantId,
        connector: ConnectorId,
        id: DiscrepancyId,
        ask: Ask,
        dry_run: bool,
        by: UserId,
    ) -> Result<RemediationResult, Refusal> {
        let t = self.target(tenant, connector).await?;
        let d = self.discrepancy(tenant, connector, id).await?;
        self.remediate_one(&t, &d, ask, dry_run, by).await
    }

    async fn remediate_one(
        &self,
        t: &Target,
        d: &Discrepancy,
        ask: Ask,
        dry_run: bool,
        by: UserId,
    ) -> Result<RemediationResult, Refusal> {
        let link_to = check(d, &ask)?;
        if d.resolution_status != ResolutionStatus::Pending {
            return Err(settled(d));
        }
        let result =
            |success: bool, error: Option<String>, changes: Option<Vec<Value>>| RemediationResult {
                discrepancy_id: d.id,
                action: ask.action,
                direction: Some(ask.direction),
                success,
                error,
                changes: changes.map(Value::from),
                dry_run,
                skipped: false,
                reason: None,
            };
        let entry = |outcome, dry_run| Entry {
            action: ask.action.as_str(),
            direction: Some(ask.direction),
            outcome,
            dry_run,
            by,
        };
        if !dry_run {
            // Answer a refused start at once, before planning calls the connector (the claim below checks
            // again, in its transaction: this one only spares the wait).
            let mut conn = self.pool().acquire().await?;
            if let Some(state) = store::connector_state(&mut conn, t.tenant, t.target.id).await? {
                if let Err(refusal) = gate::remediation(&mut conn, &state).await? {
                    return Err(Refusal::NotStarted(refusal));
                }
            }
        }
        let slots = self.slots(t.target.id);
        // Never closed, so always a permit.
        let _slot = slots.acquire().await;
        let now = Utc::now();
        let plan = match self.plan(t, d, &ask, link_to).await {
            Ok(plan) => plan,
            Err(failure) => {
                let words = failure.words(d.id);
                let mut conn = self.pool().acquire().await?;
                audit(&mut conn, t, d, &entry(Err(&words), dry_run), now).await?;
                return Ok(result(false, Some(words), None));
            }
        };
        if dry_run {
            let mut conn = self.pool().acquire().await?;
            audit(&mut conn, t, d, &entry(Ok(&plan.changes), true), now).await?;
            return Ok(result(true, None, Some(plan.changes)));
        }
        // The gate and the claim in one write transaction: a run cannot start between them, and none can
        // start until the remediation is settled (it is in flight).
        let mut tx = store::begin_write(self.pool()).await?;
        let Some(state) = store::connector_state(&mut tx, t.tenant, t.target.id).await? else {
            return Err(Refusal::NotFound(format!(
                "connector {} not found",
                t.target.id
            )));
        };
        if let Err(refusal) = gate::remediation(&mut tx, &state).await? {
            return Err(Refusal::NotStarted(refusal));
        }
        let claimed = store::settle_discrepancy(
            &mut tx,
            d.id,
            ResolutionStatus::Resolved,
            Some(ask.action),
            Some(by),
            now,
        )
        .await?;
        if claimed {
            gate::remediation_started(&mut tx, t.target.id, d.id, ask.direction, now).await?;
        }
        tx.commit().await?;
        if !claimed {
            let now_settled = store::get_discrepancy(self.pool(), t.tenant, t.target.id, d.id)
                .await?
                .unwrap_or_else(|| d.clone());
            return Err(settled(&now_settled));
        }
        let applied = self.apply(t, d, &plan).await;
        // The settle (kept, or given back), its audit entry and the end of the hold: one transaction.
        let mut tx = store::begin_write(self.pool()).await?;
        gate::remediation_done(&mut tx, d.id).await?;
        let answer = match applied {
            Ok(()) => {
                audit(&mut tx, t, d, &entry(Ok(&plan.changes), false), now).await?;
                result(true, None, Some(plan.changes))
            }
            Err(failure) => {
                let words = failure.words(d.id);
                store::unsettle_discrepancy(&mut tx, d.id, Some(by), now).await?;
                audit(&mut tx, t, d, &entry(Err(&words), false), now).await?;
                result(false, Some(words), Some(plan.changes))
            }
        };
        tx.commit().await?;
        Ok(answer)
    }

    /// Remediates each item on its own (one failing does not stop the rest), up to the connector's share at
    /// once: 1..=100 items, else refused with nothing done.
    pub async fn bulk_remediate(
        &self,
        tenant: TenantId,
        connector: ConnectorId,
        request: &BulkRemediateRequest,
        by: UserId,
    ) -> Result<BulkRemediateResponse, Refusal> {
        request.validate().map_err(|body| Refusal::Invalid {
            field: "items",
            message: body.message,
        })?;
        let mut t = self.target(tenant, connector).await?;
        if !request.dry_run {
            // Refused as a whole when the connector cannot take work now (each item is gated again when it
            // is claimed: a run started half-way skips the rest).
            let mut tx = store::begin_write(self.pool()).await?;
            if let Some(state) = store::connector_state(&mut tx, tenant, connector).await? {
                if let Err(refusal) = gate::remediation(&mut tx, &state).await? {
                    return Err(Refusal::NotStarted(refusal));
                }
            }
            tx.rollback().await?;
        }
        self.read_accounts_of(&mut t, &request.items).await;
        let t = Arc::new(t);
        // A task per item: each runs to its settle even if this future is dropped.
        let items: Vec<_> = request
            .items
            .iter()
            .map(|item| {
                let (this, t, item, dry_run) =
                    (self.clone(), Arc::clone(&t), *item, request.dry_run);
                tokio::spawn(async move { this.bulk_item(&t, &item, dry_run, by).await })
            })
            .collect();
        let mut results = Vec::with_capacity(items.len());
        for item in items {
            match item.await {
                Ok(result) => results.push(result),
                Err(err) => std::panic::resume_unwind(err.into_panic()),
            }
        }
        let count = |keep: fn(&RemediationResult) -> bool| {
            results.iter().filter(|r| keep(r)).count() as u64
        };
        Ok(BulkRemediateResponse {
            total: results.len() as u64,
            succeeded: count(|r| r.success && !r.skipped),
            failed: count(|r| !r.success && !r.skipped),
            skipped: count(|r| r.skipped),
            results,
        })
    }

    async fn bulk_item(
        &self,
        t: &Target,
        item: &BulkItem,
        dry_run: bool,
        by: UserId,
    ) -> RemediationResult {
        let ask = Ask {
            action: item.action,
            direction: item.direction,
            identity_id: item.identity_id,
        };
        let outcome = match self
            .discrepancy(t.tenant, t.target.id, item.discrepancy_id)
            .await
        {
            Ok(d) => self.remediate_one(t, &d, ask, dry_run, by).await,
            Err(refusal) => Err(refusal),
        };
        let answer =
            |success, error: Option<String>, skipped, reason: Option<String>| RemediationResult {
                discrepancy_id: item.discrepancy_id,
                action: item.action,
                direction: Some(item.direction),
                success,
                error,
                changes: None,
                dry_run,
                skipped,
                reason,
            };
        match outcome {
            Ok(result) => result,
            Err(Refusal::Settled { message, .. }) => answer(false, None, true, Some(message)),
            Err(Refusal::NotStarted(refusal)) => {
                answer(false, None, true, Some(gate::describe(&refusal)))
            }
            Err(Refusal::NotFound(message) | Refusal::Invalid { message, .. }) => {
                answer(false, Some(message), false, None)
            }
            // The other items went on: this one fails on its own, in words.
            Err(Refusal::Database(err)) => {
                let failure = Failure::Database {
                    doing: "remediate the discrepancy",
                    err,
                };
                answer(false, Some(failure.words(item.discrepancy_id)), false, None)
            }
        }
    }

    /// What remediating each discrepancy with its suggested action would change (nothing is changed).
    pub async fn preview(
        &self,
        tenant: TenantId,
        connector: ConnectorId,
        ids: &[DiscrepancyId],
    ) -> Result<PreviewResponse, Refusal> {
        if ids.is_empty() || ids.len() > dto::MAX_BULK_ITEMS {
            return Err(Refusal::Invalid {
                field: "discrepancy_ids",
                message: format!(
                    "preview 1 to {} discrepancies at once, got {}",
                    dto::MAX_BULK_ITEMS,
                    ids.len()
                ),
            });
        }
        let t = self.target(tenant, connector).await?;
        let mut previews = Vec::with_capacity(ids.len());
        for id in ids {
            let d = self.discrepancy(tenant, connector, *id).await?;
            let action = d.discrepancy_type.remediations()[0];
            let direction = action.directions()[0];
            let link_to = d.identity_id.or(d.candidate_identity_ids.first().copied());
            let ask = Ask {
                action,
                direction,
                identity_id: link_to,
            };
            let changes = match self.plan(&t, &d, &ask, link_to).await {
                Ok(plan) => Value::from(plan.changes),
                Err(failure) => json!({ "error": failure.words(d.id) }),
            };
            previews.push(RemediationPreview {
                discrepancy_id: d.id,
                discrepancy_type: Some(d.discrepancy_type),
                suggested_action: action,
                suggested_direction: Some(direction),
                changes: Some(changes),
            });
        }
        Ok(PreviewResponse { previews })
    }

    /// Marks a pending discrepancy ignored, as `by` (the settle and its audit entry in one transaction).
    pub async fn ignore(
        &self,
        tenant: TenantId,
        connector: ConnectorId,
        id: DiscrepancyId,
        by: UserId,
    ) -> Result<(), Refusal> {
        let t = self.target(tenant, connector).await?;
        let d = self.discrepancy(tenant, connector, id).await?;
        let now = Utc::now();
        let mut tx = store::begin_write(self.pool()).await?;
        let done =
            store::settle_discrepancy(&mut tx, id, ResolutionStatus::Ignored, None, Some(by), now)
                .await?;
        if !done {
            tx.rollback().await?;
            let current = store::get_discrepancy(self.pool(), tenant, connector, id)
                .await?
                .unwrap_or(d);
            return Err(settled(&current));
        }
        let entry = Entry {
            action: "ignore",
            direction: None,
            outcome: Ok(&[]),
            dry_run: false,
            by,
        };
        audit(&mut tx, &t, &d, &entry, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Gives back every remediation that an engine stopped in the middle of (killed between the claim and the
    /// settle, so nobody knows how far its connector calls got): each is pending again, audited as a failure
    /// that says so, and no longer holds its connector. Called once at start, before anything is served; one
    /// transaction. Answers how many.
    pub async fn give_back_interrupted(&self) -> Result<usize, sqlx::Error> {
        let now = Utc::now();
        let mut tx = store::begin_write(self.pool()).await?;
        let interrupted = gate::take_interrupted(&mut tx).await?;
        for claim in &interrupted {
            store::unsettle_discrepancy(&mut tx, claim.discrepancy_id, claim.by, claim.claimed_at)
                .await?;
            store::insert_action(
                &mut tx,
                &store::NewAction {
                    id: dto::ActionId(uuid::Uuid::new_v4()),
                    tenant_id: claim.tenant_id,
                    connector_id: claim.connector_id,
                    discrepancy_id: Some(claim.discrepancy_id),
                    action_type: claim.action.as_str().to_owned(),
                    direction: claim.direction,
                    result: "failure".into(),
                    dry_run: false,
                    performed_by: claim.by,
                    performed_at: now,
                    details: Some(json!({ "error": INTERRUPTED, "interrupted": true })),
                },
            )
            .await?;
        }
        tx.commit().await?;
        if !interrupted.is_empty() {
            tracing::warn!(
                count = interrupted.len(),
                "remediations interrupted by the engine's stop were given back (pending again, audited)"
            );
        }
        Ok(interrupted.len())
    }
}

/// One audit log entry of a remediation or an ignore.
struct Entry<'a> {
    action: &'a str,
    direction: Option<RemediationDirection>,
    /// The changes made (or that a dry run would make), or why it failed, in words.
    outcome: Result<&'a [Value], &'a str>,
    dry_run: bool,
    by: UserId,
}

/// Writes `entry` in `conn` (the transaction of the settle it records, when there is one).
async fn audit(
    conn: &mut SqliteConnection,
    t: &Target,
    d: &Discrepancy,
    entry: &Entry<'_>,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let (result, details) = match entry.outcome {
        Ok(changes) => ("success", json!({ "changes": changes })),
        Err(error) => ("failure", json!({ "error": error })),
    };
    store::insert_action(
        conn,
        &store::NewAction {
            id: dto::ActionId(uuid::Uuid::new_v4()),
            tenant_id: t.tenant,
            connector_id: t.target.id,
            discrepancy_id: Some(d.id),
            action_type: entry.action.to_owned(),
            direction: entry.direction,
            result: result.into(),
            dry_run: entry.dry_run,
            performed_by: Some(entry.by),
            performed_at: at,
            details: Some(details),
        },
    )
    .await
}

/// The refusal for a discrepancy that is no longer pending, naming who settled it and when.
fn settled(d: &Discrepancy) -> Refusal {
    let how = match d.resolution_status {
        ResolutionStatus::Ignored => "ignored",
        _ => "resolved",
    };
    let who = d
        .resolved_by
        .map(|u| format!(" by user {u}"))
        .unwrap_or_default();
    let when = d
        .resolved_at
        .map(|t| format!(" at {}", store::ts(t)))
        .unwrap_or_default();
    Refusal::Settled {
        current: d.resolution_status,
        message: format!("the discrepancy was already {how}{who}{when}"),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use uuid::Uuid;

    use super::*;

    fn discrepancy(kind: DiscrepancyType) -> Discrepancy {
        Discrepancy {
            id: DiscrepancyId(Uuid::from_u128(1)),
            connector_id: None,
            run_id: dto::RunId(Uuid::from_u128(2)),
            discrepancy_type: kind,
            identity_id: Some(UserId(Uuid::from_u128(3))),
            external_uid: Some("ada".into()),
            attribute_name: None,
            expected_value: None,
            actual_value: None,
            mismatched_attributes: Default::default(),
            suggested_actions: kind.remediations().to_vec(),
            candidate_identity_ids: vec![UserId(Uuid::from_u128(5)), UserId(Uuid::from_u128(6))],
            resolution_status: ResolutionStatus::Pending,
            resolved_action: None,
            resolved_at: None,
            resolved_by: None,
            created_at: Utc::now(),
        }
    }

    fn field(r: Result<Option<UserId>, Refusal>) -> &'static str {
        match r {
            Err(Refusal::Invalid { field, .. }) => field,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn only_fitting_actions_and_directions_pass() {
        use DiscrepancyType::*;
        use RemediationAction as A;
        use RemediationDirection as D;
        let ask = |action, direction, identity_id| Ask {
            action,
            direction,
            identity_id,
        };
        let someone = Some(UserId(Uuid::from_u128(9)));
        assert_eq!(
            field(check(
                &discrepancy(Mismatch),
                &ask(A::Delete, D::XavyoToTarget, None)
            )),
            "action"
        );
        assert_eq!(
            field(check(
                &discrepancy(Missing),
                &ask(A::Create, D::TargetToXavyo, None)
            )),
            "direction"
        );
        assert_eq!(
            field(check(
                &discrepancy(Orphan),
                &ask(A::Link, D::XavyoToTarget, None)
            )),
            "identity_id"
        );
        assert_eq!(
            field(check(
                &discrepancy(Collision),
                &ask(A::Link, D::XavyoToTarget, someone)
            )),
            "identity_id",
            "a collision links to one of its candidates"
        );
        let five = Some(UserId(Uuid::from_u128(5)));
        assert_eq!(
            check(
                &discrepancy(Collision),
                &ask(A::Link, D::XavyoToTarget, five)
            )
            .ok(),
            Some(five)
        );
        // An unlinked account links to its match unless told otherwise.
        assert_eq!(
            check(
                &discrepancy(Unlinked),
                &ask(A::Link, D::TargetToXavyo, None)
            )
            .ok(),
            Some(Some(UserId(Uuid::from_u128(3))))
        );
        assert!(check(
            &discrepancy(Deleted),
            &ask(A::InactivateIdentity, D::TargetToXavyo, None)
        )
        .is_ok());
        assert!(check(
            &discrepancy(Mismatch),
            &ask(A::Update, D::TargetToXavyo, None)
        )
        .is_ok());
    }
}
