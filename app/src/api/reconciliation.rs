//! Server functions of reconciliation: runs, reports, discrepancies, remediation and the audit log.
//!
//! The pages' functions answer the DTOs. The forms' functions (see `components::commands`) take the
//! URL-encoded fields of their forms, typed here like any server function's arguments, and answer text: a
//! sentence for a toast, or HTML that the server's own components render (a start's outcome, a preview, a bulk
//! remediation's plan and results), which the browser puts in place as a live region does. Nothing new is
//! decoded in the browser: every type it decodes is code in the WASM that every page loads. Inputs are checked
//! with the shared rules (`enums`, `dto`) before any upstream call: xavyo-idp does not always refuse bad input
//! itself. Every function checks the session is an administrator's: they are public URLs.

use dto::{
    enums::{
        DiscrepancyType, ReconciliationMode, RemediationAction, RemediationDirection, RunAction,
    },
    ActionList, ActionQuery, ConnectorId, DiscrepancyId, DiscrepancyList, DiscrepancyQuery,
    ReconciliationReport, ReconciliationRun, RunId, RunList, RunQuery, UserId,
};
use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::ssr;

// ---------------------------------------------------------------------------------------------------------------
// What the forms' answers are made of, and the shared rules they apply
// ---------------------------------------------------------------------------------------------------------------

/// One value a remediation changes (or would), as text: the account's attribute (`side` `target`), the
/// identity's (`identity`), or the link between them (`link`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeLine {
    /// `target`, `identity` or `link` (empty when the upstream does not say).
    pub side: String,
    /// What happens to it: `create`, `update`, `delete`, `link`, ... (empty when the upstream does not say).
    pub op: String,
    /// The account uid or identity id it happens to (empty when the upstream does not say).
    pub subject: String,
    /// The attribute (empty for a change with no attributes).
    pub attribute: String,
    /// Its value before (empty when it did not exist).
    pub before: String,
    /// Its value after (empty when it will not exist).
    pub after: String,
}

/// A discrepancy a form acts on: its id and its type (the type decides which remediations fit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Picked {
    /// The discrepancy.
    pub id: DiscrepancyId,
    /// Its type.
    pub kind: DiscrepancyType,
}

/// One discrepancy of a selection as text: `id:type`.
pub fn parse_pick(text: &str) -> Option<Picked> {
    let (id, kind) = text.split_once(':')?;
    Some(Picked {
        id: id.parse().ok()?,
        kind: kind.parse().ok()?,
    })
}

/// A selection as text, `id:type` pairs separated by commas: how the browser keeps it (`sessionStorage`) and
/// sends it (bulk remediation), and how "select all" answers it. The browser handles the pairs as opaque text;
/// only the server reads them.
pub fn selection_text(picks: &[Picked]) -> String {
    let mut text = String::new();
    for p in picks {
        if !text.is_empty() {
            text.push(',');
        }
        text.push_str(&format!("{}:{}", p.id, p.kind));
    }
    text
}

/// What remediating one discrepancy did (or would do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done (or, in a dry run, would be done).
    Succeeded,
    /// Tried and failed; the discrepancy stays pending.
    Failed,
    /// Not tried: already resolved or ignored.
    Skipped,
}

/// One discrepancy's result, as the results table shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemResult {
    /// The discrepancy.
    pub id: DiscrepancyId,
    /// What happened.
    pub outcome: Outcome,
    /// The error (failed) or the reason (skipped).
    pub message: Option<String>,
    /// What changed, or would change; none when the upstream did not say.
    pub changes: Option<Vec<ChangeLine>>,
}

/// The remediation a preview suggests for one discrepancy, and what it would change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// The suggested action.
    pub action: RemediationAction,
    /// Its suggested direction (xavyo-idp does not say).
    pub direction: Option<RemediationDirection>,
    /// What it would change; none when the upstream did not say.
    pub changes: Option<Vec<ChangeLine>>,
}

/// The filters of the discrepancies page without its page and resolution status: what "every pending match"
/// repeats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiscrepancyFilter {
    /// Only this run's.
    pub run_id: Option<RunId>,
    /// Only this type.
    pub discrepancy_type: Option<DiscrepancyType>,
    /// Only this identity's.
    pub identity_id: Option<UserId>,
    /// Only this account's.
    pub external_uid: Option<String>,
}

impl From<&DiscrepancyQuery> for DiscrepancyFilter {
    fn from(q: &DiscrepancyQuery) -> Self {
        Self {
            run_id: q.run_id,
            discrepancy_type: q.discrepancy_type,
            identity_id: q.identity_id,
            external_uid: q.external_uid.clone(),
        }
    }
}

impl DiscrepancyFilter {
    /// The list query for the pending discrepancies of this filter, one page of `limit`.
    pub fn pending(&self, limit: u32) -> DiscrepancyQuery {
        DiscrepancyQuery {
            run_id: self.run_id,
            discrepancy_type: self.discrepancy_type,
            resolution_status: Some(dto::enums::ResolutionStatus::Pending),
            identity_id: self.identity_id,
            external_uid: self.external_uid.clone(),
            limit: Some(limit),
            offset: Some(0),
        }
    }
}

/// Checks an action fits a discrepancy type and a direction fits the action: the shared rules, so a bad
/// combination is refused with the field at fault before any upstream call.
pub fn check_remediation(
    kind: DiscrepancyType,
    action: RemediationAction,
    direction: RemediationDirection,
) -> Result<(), AppError> {
    if !kind.allows(action) {
        return Err(AppError::invalid(
            "action",
            format!(
                "{} does not fit a {} discrepancy.",
                action.label(),
                kind.label().to_lowercase()
            ),
        ));
    }
    if !action.allows(direction) {
        return Err(AppError::invalid(
            "direction",
            format!("{} cannot go {}.", action.label(), direction.label()),
        ));
    }
    Ok(())
}

/// A remediation as one form value, `action:direction` (e.g. `update:xavyo_to_target`): the forms offer the
/// pairs the shared rules allow, so no rule has to run in the browser.
pub fn remedy_value(action: RemediationAction, direction: RemediationDirection) -> String {
    format!("{action}:{direction}")
}

/// Reads a [`remedy_value`], naming the field when it is not one.
pub fn parse_remedy(text: &str) -> Result<(RemediationAction, RemediationDirection), AppError> {
    text.split_once(':')
        .and_then(|(a, d)| Some((a.parse().ok()?, d.parse().ok()?)))
        .ok_or_else(|| AppError::invalid("remedy", format!("`{text}` is not a remediation.")))
}

/// Every remediation of `actions` with each direction it takes ([`RemediationAction::directions`]), suggested
/// first: what a form offers.
pub fn remedies(actions: &[RemediationAction]) -> Vec<(RemediationAction, RemediationDirection)> {
    actions
        .iter()
        .flat_map(|a| a.directions().iter().map(move |d| (*a, *d)))
        .collect()
}

/// The actions one bulk remediation can apply to every discrepancy of `kinds`: those that fit every type
/// ([`DiscrepancyType::allows`]), except a link that needs an identity chosen per discrepancy.
pub fn common_actions(kinds: &[DiscrepancyType]) -> Vec<RemediationAction> {
    RemediationAction::ALL
        .into_iter()
        .filter(|a| {
            !kinds.is_empty()
                && kinds.iter().all(|k| {
                    k.allows(*a) && !(*a == RemediationAction::Link && k.link_needs_identity())
                })
        })
        .collect()
}

/// Reads the `picked` field of a bulk form ([`selection_text`]'s pairs), refusing anything unreadable.
pub fn parse_picked(text: &str) -> Result<Vec<Picked>, AppError> {
    text.split(',')
        .filter(|p| !p.is_empty())
        .map(parse_pick)
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| AppError::invalid("items", "The selection could not be read."))
}

/// The bulk remediation of `picked` with one action and direction (no identity: a bulk remediation names none).
fn bulk_request(
    picked: &[Picked],
    action: RemediationAction,
    direction: RemediationDirection,
    dry_run: bool,
) -> dto::BulkRemediateRequest {
    dto::BulkRemediateRequest {
        items: picked
            .iter()
            .map(|p| dto::BulkItem {
                discrepancy_id: p.id,
                action,
                direction,
                identity_id: None,
            })
            .collect(),
        dry_run,
    }
}

/// Checks one bulk remediation: 1..=100 discrepancies (the shared cap), the action fits each one's type, and no
/// link needs an identity chosen per discrepancy (a bulk remediation names none).
pub fn check_bulk(
    picked: &[Picked],
    action: RemediationAction,
    direction: RemediationDirection,
    dry_run: bool,
) -> Result<dto::BulkRemediateRequest, AppError> {
    let request = bulk_request(picked, action, direction, dry_run);
    request.validate()?;
    for p in picked {
        check_remediation(p.kind, action, direction)?;
        if action == RemediationAction::Link && p.kind.link_needs_identity() {
            return Err(AppError::invalid(
                "action",
                format!(
                    "Linking a {} discrepancy needs an identity chosen for it: remediate it on its own.",
                    p.kind.label().to_lowercase()
                ),
            ));
        }
    }
    Ok(request)
}

/// Flattens a remediation's `changes` into lines: our list of `{side, op, uid?, identity_id?, before, after}`
/// (one line per attribute that changes), xavyo-idp's `{before, after}` pair, or any other object (one line
/// per key, as the value after). None when the upstream reported nothing: no `changes`, or a pair whose
/// both sides are empty (xavyo-idp's `before_state`/`after_state` are null): never read as "no changes".
pub fn change_lines(changes: Option<&serde_json::Value>) -> Option<Vec<ChangeLine>> {
    use serde_json::Value;
    fn text(v: Option<&Value>) -> String {
        match v {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        }
    }
    fn one(change: &Value, out: &mut Vec<ChangeLine>) {
        let field = |k: &str| text(change.get(k));
        let subject = [field("uid"), field("identity_id")]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ↔ ");
        let (before, after) = (change.get("before"), change.get("after"));
        let keys: std::collections::BTreeSet<&String> = [before, after]
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .flat_map(|m| m.keys())
            .collect();
        let line = |attribute: String, before: String, after: String| ChangeLine {
            side: field("side"),
            op: field("op"),
            subject: subject.clone(),
            attribute,
            before,
            after,
        };
        if keys.is_empty() {
            out.push(line(String::new(), text(before), text(after)));
        }
        for key in keys {
            let pick = |side: Option<&Value>| text(side.and_then(|v| v.get(key)));
            out.push(line(key.clone(), pick(before), pick(after)));
        }
    }
    let mut out = Vec::new();
    let unset = |v: Option<&Value>| v.is_none_or(Value::is_null);
    match changes {
        None | Some(Value::Null) => return None,
        Some(Value::Object(m))
            if unset(m.get("before"))
                && unset(m.get("after"))
                && m.len() <= 2
                && (m.contains_key("before") || m.contains_key("after")) =>
        {
            return None
        }
        Some(Value::Array(items)) => items.iter().for_each(|c| one(c, &mut out)),
        Some(v @ Value::Object(m)) if m.contains_key("before") || m.contains_key("after") => {
            one(v, &mut out)
        }
        Some(Value::Object(m)) => out.extend(m.iter().map(|(k, v)| ChangeLine {
            side: String::new(),
            op: String::new(),
            subject: String::new(),
            attribute: k.clone(),
            before: String::new(),
            after: text(Some(v)),
        })),
        Some(other) => out.push(ChangeLine {
            side: String::new(),
            op: String::new(),
            subject: String::new(),
            attribute: String::new(),
            before: String::new(),
            after: text(Some(other)),
        }),
    }
    Some(out)
}

impl From<dto::RemediationResult> for ItemResult {
    fn from(r: dto::RemediationResult) -> Self {
        let (outcome, message) = if r.skipped {
            (Outcome::Skipped, r.reason.or(r.error))
        } else if r.success {
            (Outcome::Succeeded, None)
        } else {
            (
                Outcome::Failed,
                Some(r.error.unwrap_or_else(|| "no error given".to_owned())),
            )
        };
        Self {
            id: r.discrepancy_id,
            outcome,
            message,
            changes: change_lines(r.changes.as_ref()),
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------------------------------------------

/// `GET /connectors/{id}/reconciliation/runs`.
#[server]
pub async fn list_reconciliation_runs(
    connector_id: ConnectorId,
    query: RunQuery,
) -> Result<RunList, AppError> {
    let (session, api) = ssr::require_admin().await?;
    query.page().map_err(|e| ssr::fail(e.into()))?;
    api.list_reconciliation_runs(session.caller(), connector_id, &query)
        .await
        .map_err(ssr::upstream)
}

/// `GET .../runs/{run_id}`.
#[server]
pub async fn get_reconciliation_run(
    connector_id: ConnectorId,
    run_id: RunId,
) -> Result<ReconciliationRun, AppError> {
    let (session, api) = ssr::require_admin().await?;
    let run = api
        .get_reconciliation_run(session.caller(), connector_id, run_id)
        .await
        .map_err(ssr::upstream)?;
    // A run of another connector is not found under this one.
    if run.connector_id != connector_id {
        return Err(ssr::fail(AppError::NotFound(
            "This run belongs to another connector.".to_owned(),
        )));
    }
    Ok(run)
}

/// `GET .../runs/{run_id}/report`.
#[server]
pub async fn get_reconciliation_report(
    connector_id: ConnectorId,
    run_id: RunId,
) -> Result<ReconciliationReport, AppError> {
    let (session, api) = ssr::require_admin().await?;
    api.reconciliation_report(session.caller(), connector_id, run_id)
        .await
        .map_err(ssr::upstream)
}

/// `GET /connectors/{id}/reconciliation/discrepancies`.
#[server]
pub async fn list_discrepancies(
    connector_id: ConnectorId,
    query: DiscrepancyQuery,
) -> Result<DiscrepancyList, AppError> {
    let (session, api) = ssr::require_admin().await?;
    query.page().map_err(|e| ssr::fail(e.into()))?;
    api.list_discrepancies(session.caller(), connector_id, &query)
        .await
        .map_err(ssr::upstream)
}

/// `GET /connectors/{id}/reconciliation/actions`.
#[server]
pub async fn list_reconciliation_actions(
    connector_id: ConnectorId,
    query: ActionQuery,
) -> Result<ActionList, AppError> {
    let (session, api) = ssr::require_admin().await?;
    query.page().map_err(|e| ssr::fail(e.into()))?;
    api.list_reconciliation_actions(session.caller(), connector_id, &query)
        .await
        .map_err(ssr::upstream)
}

// ---------------------------------------------------------------------------------------------------------------
// The reconciliation forms (see `components::commands`): URL-encoded fields in, text out
// ---------------------------------------------------------------------------------------------------------------

/// `POST /connectors/{id}/reconciliation/runs`. Answers what came of it as the server-rendered
/// [`StartOutcome`](crate::components::start_outcome::StartOutcome): the new run, or the start gate's refusal
/// with the run already doing it or what blocks the connector. Other failures are errors.
/// `dry_run` is a checkbox: absent means no.
#[server]
pub async fn start_reconciliation_run(
    connector_id: ConnectorId,
    mode: ReconciliationMode,
    dry_run: Option<bool>,
) -> Result<String, AppError> {
    use crate::components::start_outcome::{Outcome, StartOutcome};
    let (session, api) = ssr::require_admin().await?;
    let body = dto::TriggerRun {
        mode,
        dry_run: dry_run.unwrap_or(false),
    };
    let outcome = match api
        .start_reconciliation_run(session.caller(), connector_id, &body)
        .await
    {
        Ok(run) => Outcome::accepted(
            "Run started.",
            Some((
                format!("/connectors/{connector_id}/reconciliation/runs/{}", run.id),
                "Follow the new run".to_owned(),
            )),
        ),
        Err(e) => match e.start_refused() {
            Some(refused) => Outcome::refused(refused, Some(connector_id)),
            None => return Err(ssr::upstream(e)),
        },
    };
    Ok(view! { <StartOutcome outcome/> }.to_html())
}

/// Cancels, pauses or resumes a run; answers its new status in a sentence. The run's current status is
/// checked upstream (409 when it does not allow the action).
#[server]
pub async fn act_on_run(
    connector_id: ConnectorId,
    run_id: RunId,
    action: RunAction,
) -> Result<String, AppError> {
    let (session, api) = ssr::require_admin().await?;
    let caller = session.caller();
    let status = match action {
        RunAction::Cancel => api
            .cancel_reconciliation_run(caller, connector_id, run_id)
            .await
            .map(|()| dto::enums::ReconciliationRunStatus::Cancelled),
        RunAction::Pause => api
            .pause_reconciliation_run(caller, connector_id, run_id)
            .await
            .map(|run| run.status),
        RunAction::Resume => api
            .resume_reconciliation_run(caller, connector_id, run_id)
            .await
            .map(|run| run.status),
    }
    .map_err(|e| ssr::start_error(e, connector_id))?;
    Ok(format!("The run is now {}.", status.label().to_lowercase()))
}

/// `POST .../discrepancies/preview` for one discrepancy (`subject` says which, in words): the remediation
/// suggested and what it would change, as the server-rendered
/// [`SuggestionView`](crate::components::reconciliation::SuggestionView).
#[server]
pub async fn preview_remediation(
    connector_id: ConnectorId,
    id: DiscrepancyId,
    subject: String,
) -> Result<String, AppError> {
    use crate::components::reconciliation::SuggestionView;
    let (session, api) = ssr::require_admin().await?;
    let body = dto::PreviewRequest {
        discrepancy_ids: vec![id],
    };
    let answer = api
        .preview_remediation(session.caller(), connector_id, &body)
        .await
        .map_err(ssr::upstream)?;
    let preview = answer
        .previews
        .into_iter()
        .find(|p| p.discrepancy_id == id)
        .ok_or_else(|| {
            ssr::fail(AppError::NotFound(
                "The provisioning service has no preview for this discrepancy.".to_owned(),
            ))
        })?;
    let suggestion = Suggestion {
        action: preview.suggested_action,
        direction: preview.suggested_direction,
        changes: change_lines(preview.changes.as_ref()),
    };
    Ok(view! { <SuggestionView subject suggestion/> }.to_html())
}

/// `POST .../discrepancies/{did}/remediate`. The `remedy` (a [`remedy_value`]) must fit the discrepancy's type
/// (`kind`); a link of an orphan or a collision names the identity (a collision's must be one of its
/// candidates: the engine checks that, it holds them). Answers a sentence for the toast; a remediation that
/// was tried and failed is an error saying why (the discrepancy stays pending).
#[server]
pub async fn remediate_discrepancy(
    connector_id: ConnectorId,
    id: DiscrepancyId,
    kind: DiscrepancyType,
    remedy: String,
    identity_id: Option<String>,
    subject: String,
) -> Result<String, AppError> {
    let (session, api) = ssr::require_admin().await?;
    let (action, direction) = parse_remedy(&remedy).map_err(ssr::fail)?;
    check_remediation(kind, action, direction).map_err(ssr::fail)?;
    let identity_id = if action == RemediationAction::Link && kind.link_needs_identity() {
        let raw = identity_id.unwrap_or_default();
        let id = raw.trim().parse::<UserId>().map_err(|_| {
            ssr::fail(AppError::invalid(
                "identity_id",
                "Choose the identity to link this account to (its id is a UUID).",
            ))
        })?;
        Some(id)
    } else {
        None
    };
    let body = dto::RemediateRequest {
        action,
        direction,
        identity_id,
        dry_run: false,
    };
    let result = api
        .remediate_discrepancy(session.caller(), connector_id, id, &body)
        .await
        .map_err(|e| ssr::start_error(e, connector_id))?;
    match ItemResult::from(result) {
        ItemResult {
            outcome: Outcome::Succeeded,
            ..
        } => Ok(format!("Remediated: {subject}.")),
        ItemResult { message, .. } => Err(ssr::fail(AppError::Upstream {
            status: 502,
            message: format!(
                "the remediation failed: {}",
                message.unwrap_or_else(|| "no reason given".to_owned())
            ),
        })),
    }
}

/// What the bulk dialog offers for the `picked` discrepancies (checked like a bulk remediation: 1..=100):
/// the remediations that fit them all, as the server-rendered
/// [`BulkPlan`](crate::components::reconciliation::BulkPlan). Calls nothing upstream.
#[server]
pub async fn plan_bulk_remediation(
    connector_id: ConnectorId,
    picked: String,
) -> Result<String, AppError> {
    use crate::components::reconciliation::BulkPlan;
    ssr::require_admin().await?;
    let picked = parse_picked(&picked).map_err(ssr::fail)?;
    let kinds: Vec<DiscrepancyType> = picked.iter().map(|p| p.kind).collect();
    let offered = remedies(&common_actions(&kinds));
    // The shared cap, as the remediation itself will check it (whichever remediation is chosen).
    let (action, direction) = offered.first().copied().unwrap_or((
        RemediationAction::Update,
        RemediationDirection::XavyoToTarget,
    ));
    bulk_request(&picked, action, direction, true)
        .validate()
        .map_err(|e| ssr::fail(e.into()))?;
    Ok(view! { <BulkPlan connector_id picked offered/> }.to_html())
}

/// `POST .../discrepancies/bulk-remediate`: one remediation (a [`remedy_value`]) for the `picked`
/// discrepancies (as [`selection_text`] writes them; checked as [`check_bulk`] says), a dry run first, then
/// the real one. Answers one row per discrepancy, in order, as the server-rendered
/// [`BulkResults`](crate::components::reconciliation::BulkResults); a dry run's answer carries the form that
/// confirms exactly what it showed.
#[server]
pub async fn bulk_remediate(
    connector_id: ConnectorId,
    picked: String,
    remedy: String,
    dry_run: bool,
) -> Result<String, AppError> {
    use crate::components::reconciliation::BulkResults;
    let (session, api) = ssr::require_admin().await?;
    let items = parse_picked(&picked).map_err(ssr::fail)?;
    let (action, direction) = parse_remedy(&remedy).map_err(ssr::fail)?;
    let body = check_bulk(&items, action, direction, dry_run).map_err(ssr::fail)?;
    let answer = match api
        .bulk_remediate(session.caller(), connector_id, &body)
        .await
    {
        Ok(answer) => answer,
        // Not started as a whole (a run holds the connector, or it is blocked): said in the dialog.
        Err(e) => match e.start_refused() {
            Some(refused) => {
                use crate::components::start_outcome::{Outcome, StartOutcome};
                let outcome = Outcome::refused(refused, Some(connector_id));
                return Ok(view! { <StartOutcome outcome/> }.to_html());
            }
            None => return Err(ssr::upstream(e)),
        },
    };
    let results: Vec<ItemResult> = answer.results.into_iter().map(ItemResult::from).collect();
    Ok(view! { <BulkResults connector_id results dry_run picked remedy/> }.to_html())
}

/// `POST .../discrepancies/{did}/ignore` (pending only); answers a sentence for the toast.
#[server]
pub async fn ignore_discrepancy(
    connector_id: ConnectorId,
    id: DiscrepancyId,
) -> Result<String, AppError> {
    let (session, api) = ssr::require_admin().await?;
    api.ignore_discrepancy(session.caller(), connector_id, id)
        .await
        .map_err(ssr::upstream)?;
    Ok("Discrepancy ignored.".to_owned())
}

/// The pending discrepancies matching the discrepancies page's filters (its URL `query`, checked as the page
/// checks it): the first [`dto::MAX_BULK_ITEMS`] of them from one list call, as [`selection_text`] writes
/// them.
#[server]
pub async fn matching_discrepancies(
    connector_id: ConnectorId,
    query: String,
) -> Result<String, AppError> {
    let (session, api) = ssr::require_admin().await?;
    let query =
        crate::params::discrepancy_query(&crate::params::from_query(&query)).map_err(ssr::fail)?;
    let limit = u32::try_from(dto::MAX_BULK_ITEMS).unwrap_or(dto::MAX_LIMIT);
    let list = api
        .list_discrepancies(
            session.caller(),
            connector_id,
            &DiscrepancyFilter::from(&query).pending(limit),
        )
        .await
        .map_err(ssr::upstream)?;
    let picks: Vec<Picked> = list
        .discrepancies
        .into_iter()
        .map(|d| Picked {
            id: d.id,
            kind: d.discrepancy_type,
        })
        .collect();
    Ok(selection_text(&picks))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pick(kind: DiscrepancyType, n: u128) -> Picked {
        Picked {
            id: format!("00000000-0000-4000-8000-{n:012}").parse().unwrap(),
            kind,
        }
    }

    #[test]
    fn only_the_shared_rules_pass() {
        use DiscrepancyType::*;
        use RemediationAction::*;
        use RemediationDirection::*;
        assert!(check_remediation(Mismatch, Update, XavyoToTarget).is_ok());
        assert!(check_remediation(Mismatch, Update, TargetToXavyo).is_ok());
        let field = |r: Result<(), AppError>| match r {
            Err(AppError::Validation { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(check_remediation(Mismatch, Delete, XavyoToTarget)).as_deref(),
            Some("action")
        );
        assert_eq!(
            field(check_remediation(Missing, Create, TargetToXavyo)).as_deref(),
            Some("direction")
        );
    }

    #[test]
    fn bulk_holds_the_cap_and_refuses_links_that_need_an_identity() {
        use DiscrepancyType::*;
        use RemediationAction::*;
        use RemediationDirection::*;
        let many: Vec<Picked> = (0..=dto::MAX_BULK_ITEMS as u128)
            .map(|n| pick(Missing, n))
            .collect();
        assert!(check_bulk(&many[..dto::MAX_BULK_ITEMS], Create, XavyoToTarget, true).is_ok());
        for bad in [&many[..], &many[..0]] {
            match check_bulk(bad, Create, XavyoToTarget, true) {
                Err(AppError::Validation { field, .. }) => {
                    assert_eq!(field.as_deref(), Some("items"))
                }
                other => panic!("{other:?}"),
            }
        }
        let unlinked = [pick(Unlinked, 1), pick(Unlinked, 2)];
        let request = check_bulk(&unlinked, Link, XavyoToTarget, false).unwrap();
        assert_eq!(request.items.len(), 2);
        assert!(!request.dry_run);
        assert!(check_bulk(
            &[pick(Unlinked, 1), pick(Orphan, 2)],
            Link,
            XavyoToTarget,
            true
        )
        .is_err());
        assert!(check_bulk(
            &[pick(Mismatch, 1), pick(Missing, 2)],
            Update,
            XavyoToTarget,
            true
        )
        .is_err());
    }

    #[test]
    fn bulk_offers_only_what_fits_every_selected_type() {
        use DiscrepancyType::*;
        use RemediationAction::*;
        assert_eq!(common_actions(&[Mismatch, Mismatch]), vec![Update]);
        assert_eq!(
            common_actions(&[Deleted]),
            vec![Create, Unlink, InactivateIdentity]
        );
        assert_eq!(common_actions(&[Missing, Deleted]), vec![Create]);
        assert_eq!(common_actions(&[Unlinked]), vec![Link]);
        // Orphans are deleted in bulk, but linked one by one (each needs its identity).
        assert_eq!(common_actions(&[Orphan]), vec![Delete]);
        assert!(common_actions(&[Mismatch, Missing]).is_empty());
        assert!(common_actions(&[]).is_empty());
    }

    #[test]
    fn remedies_are_the_allowed_pairs_and_read_back() {
        use RemediationAction::*;
        use RemediationDirection::*;
        assert_eq!(
            remedies(DiscrepancyType::Orphan.remediations()),
            vec![
                (Delete, XavyoToTarget),
                (Link, XavyoToTarget),
                (Link, TargetToXavyo)
            ]
        );
        assert_eq!(
            remedy_value(Update, XavyoToTarget),
            "update:xavyo_to_target"
        );
        assert_eq!(
            parse_remedy("update:target_to_xavyo").unwrap(),
            (Update, TargetToXavyo)
        );
        for bad in ["update", "update:sideways", "fix:xavyo_to_target", ""] {
            match parse_remedy(bad) {
                Err(AppError::Validation { field, .. }) => {
                    assert_eq!(field.as_deref(), Some("remedy"))
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert!(parse_picked("x:mismatch").is_err());
        assert_eq!(parse_picked("").unwrap(), Vec::new());
    }

    #[test]
    fn selections_read_back_as_written() {
        let picks = vec![
            pick(DiscrepancyType::Mismatch, 1),
            pick(DiscrepancyType::Orphan, 2),
        ];
        let text = selection_text(&picks);
        assert_eq!(
            text,
            "00000000-0000-4000-8000-000000000001:mismatch,00000000-0000-4000-8000-000000000002:orphan"
        );
        let back: Vec<Picked> = text.split(',').filter_map(parse_pick).collect();
        assert_eq!(back, picks);
        assert_eq!(selection_text(&[]), "");
        assert!(parse_pick("x:mismatch").is_none());
        assert!(parse_pick("00000000-0000-4000-8000-000000000001:bogus").is_none());
        assert!(parse_pick("no-colon").is_none());
    }

    #[test]
    fn changes_flatten_to_one_line_per_attribute() {
        let ours = json!([
            {"side": "target", "op": "update", "uid": "maya.novak",
             "before": {"department": "Unassigned", "title": "Contractor"},
             "after": {"department": "Sales", "title": "Analyst"}},
            {"side": "link", "op": "link", "uid": "maya.novak", "identity_id": "1234", "before": null, "after": null},
            {"side": "target", "op": "create", "uid": "new.person", "before": null, "after": {"email": "n@demo.local", "level": 3}}
        ]);
        let lines = change_lines(Some(&ours)).unwrap();
        assert_eq!(lines.len(), 5);
        assert_eq!(
            (
                lines[0].side.as_str(),
                lines[0].op.as_str(),
                lines[0].subject.as_str()
            ),
            ("target", "update", "maya.novak")
        );
        assert_eq!(
            (
                lines[0].attribute.as_str(),
                lines[0].before.as_str(),
                lines[0].after.as_str()
            ),
            ("department", "Unassigned", "Sales")
        );
        assert_eq!(lines[2].subject, "maya.novak ↔ 1234");
        assert_eq!(lines[2].attribute, "");
        assert_eq!(
            (
                lines[4].attribute.as_str(),
                lines[4].before.as_str(),
                lines[4].after.as_str()
            ),
            ("level", "", "3")
        );

        // xavyo-idp: a before/after pair, or a bare object of what would change.
        let pair = change_lines(Some(
            &json!({"before": {"title": "Intern"}, "after": {"title": "Engineer"}}),
        ))
        .unwrap();
        assert_eq!(
            (pair[0].before.as_str(), pair[0].after.as_str()),
            ("Intern", "Engineer")
        );
        let bare = change_lines(Some(&json!({"external_uid": "uid=admin"}))).unwrap();
        assert_eq!(
            (bare[0].attribute.as_str(), bare[0].after.as_str()),
            ("external_uid", "uid=admin")
        );
        // Nothing reported is not "no changes": xavyo-idp's null pair, or no changes at all.
        assert_eq!(change_lines(None), None);
        assert_eq!(
            change_lines(Some(&json!({"before": null, "after": null}))),
            None
        );
        assert_eq!(change_lines(Some(&json!([]))), Some(Vec::new()));
    }
}
