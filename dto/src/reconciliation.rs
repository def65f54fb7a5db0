//! Reconciliation: runs, their reports, the discrepancies they find, remediation, the audit log, schedules and
//! the discrepancy trend.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use enums::{
    DiscrepancyType, ReconciliationMode, ReconciliationRunStatus, RemediationAction,
    RemediationDirection, ResolutionStatus, ScheduleFrequency,
};
use serde::{Deserialize, Deserializer, Serialize};

use crate::{
    ActionId, ConnectorId, DiscrepancyId, ErrorBody, PageRequest, RunId, ScheduleId, UserId,
    DEFAULT_LIMIT, MAX_BULK_ITEMS,
};

/// Reads `null` as the type's default (xavyo-idp sends `null` for empty maps and lists).
pub(crate) fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// The checked page of a list query.
pub(crate) fn checked_page(
    limit: Option<u32>,
    offset: Option<u64>,
) -> Result<PageRequest, ErrorBody> {
    PageRequest {
        limit: limit.unwrap_or(DEFAULT_LIMIT),
        offset: offset.unwrap_or(0),
    }
    .validate()
}

fn is_false(value: &bool) -> bool {
    !*value
}

// ---------------------------------------------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------------------------------------------

/// One comparison of xavyo's identities with a connector's accounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "RawRun")]
pub struct ReconciliationRun {
    /// Its id.
    pub id: RunId,
    /// The connector compared.
    pub connector_id: ConnectorId,
    /// Full or delta.
    pub mode: ReconciliationMode,
    /// Whether it only reports; none when the upstream does not say (xavyo-idp never does).
    pub dry_run: Option<bool>,
    /// Lifecycle state.
    pub status: ReconciliationRunStatus,
    /// Started at (none while pending).
    pub started_at: Option<DateTime<Utc>>,
    /// Finished at.
    pub completed_at: Option<DateTime<Utc>>,
    /// Accounts the target holds.
    pub accounts_total: u64,
    /// Accounts compared so far.
    pub accounts_processed: u64,
    /// Discrepancies found so far.
    pub discrepancies_found: u64,
    /// How long it ran.
    pub duration_seconds: Option<f64>,
    /// Who triggered it; none for a schedule.
    pub created_by: Option<UserId>,
    /// Why it failed.
    pub error_message: Option<String>,
}

impl ReconciliationRun {
    /// True when the upstream says the run only reports.
    pub fn is_dry_run(&self) -> bool {
        self.dry_run == Some(true)
    }

    /// How long the run has taken, in seconds: from its start to its end once finished (the upstream's own
    /// figure when it gives no end), to `now` while it is active; none before it started. xavyo-idp reports
    /// `duration_seconds: 0` for a run that is still going: that figure is never shown as a duration.
    pub fn elapsed_seconds(&self, now: DateTime<Utc>) -> Option<f64> {
        let started = self.started_at;
        let span = |from: DateTime<Utc>, to: DateTime<Utc>| {
            ((to - from).num_milliseconds().max(0) as f64) / 1000.0
        };
        if self.status.is_active() {
            return started.map(|from| span(from, now));
        }
        match (started, self.completed_at) {
            (Some(from), Some(to)) => Some(span(from, to)),
            _ => self.duration_seconds,
        }
    }
}

/// A run in either shape: ours (flat counts, `created_by`, `dry_run`) or xavyo-idp's (counts under
/// `statistics`, `triggered_by`, no `dry_run`).
#[derive(Deserialize)]
struct RawRun {
    id: RunId,
    connector_id: ConnectorId,
    mode: ReconciliationMode,
    dry_run: Option<bool>,
    status: ReconciliationRunStatus,
    started_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    accounts_total: Option<u64>,
    accounts_processed: Option<u64>,
    discrepancies_found: Option<u64>,
    duration_seconds: Option<f64>,
    #[serde(default, deserialize_with = "nullable")]
    statistics: RawRunStatistics,
    #[serde(alias = "triggered_by")]
    created_by: Option<UserId>,
    error_message: Option<String>,
}

#[derive(Default, Deserialize)]
struct RawRunStatistics {
    accounts_total: Option<u64>,
    accounts_processed: Option<u64>,
    discrepancies_found: Option<u64>,
    duration_seconds: Option<f64>,
}

impl From<RawRun> for ReconciliationRun {
    fn from(raw: RawRun) -> Self {
        let stats = raw.statistics;
        Self {
            id: raw.id,
            connector_id: raw.connector_id,
            mode: raw.mode,
            dry_run: raw.dry_run,
            status: raw.status,
            started_at: raw.started_at,
            completed_at: raw.completed_at,
            accounts_total: raw.accounts_total.or(stats.accounts_total).unwrap_or(0),
            accounts_processed: raw
                .accounts_processed
                .or(stats.accounts_processed)
                .unwrap_or(0),
            discrepancies_found: raw
                .discrepancies_found
                .or(stats.discrepancies_found)
                .unwrap_or(0),
            duration_seconds: raw.duration_seconds.or(stats.duration_seconds),
            created_by: raw.created_by,
            error_message: raw.error_message,
        }
    }
}

/// `GET /connectors/{id}/reconciliation/runs` (xavyo-idp omits `limit`/`offset`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunList {
    /// This page's runs, newest first.
    pub runs: Vec<ReconciliationRun>,
    /// All matching runs.
    pub total: u64,
    /// Page size.
    #[serde(default)]
    pub limit: Option<u32>,
    /// Rows skipped.
    #[serde(default)]
    pub offset: Option<u64>,
}

/// `POST /connectors/{id}/reconciliation/runs` body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerRun {
    /// Full or delta.
    pub mode: ReconciliationMode,
    /// Only report, change nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// The filters of `GET /connectors/{id}/reconciliation/runs`. Serialises to its query string.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunQuery {
    /// Only this mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<ReconciliationMode>,
    /// Only this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ReconciliationRunStatus>,
    /// Page size (1..=100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Rows skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

impl RunQuery {
    /// The page this query asks for, checked.
    pub fn page(&self) -> Result<PageRequest, ErrorBody> {
        checked_page(self.limit, self.offset)
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------------------------

/// `GET .../runs/{run_id}/report`: what a run found and did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawReport")]
pub struct ReconciliationReport {
    /// The run reported on.
    pub run_id: RunId,
    /// Discrepancies by type.
    pub discrepancy_summary: DiscrepancySummary,
    /// Remediations by action.
    pub action_summary: ActionSummary,
    /// The attributes that differ most often, most frequent first.
    pub top_mismatched_attributes: Vec<MismatchedAttribute>,
    /// Timing and throughput.
    pub performance_metrics: PerformanceMetrics,
}

/// Discrepancy counts of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiscrepancySummary {
    /// All discrepancies.
    #[serde(default)]
    pub total: u64,
    /// Per type; types with none may be absent.
    #[serde(default, deserialize_with = "nullable")]
    pub by_type: BTreeMap<DiscrepancyType, u64>,
}

/// Remediation counts of a run (xavyo-idp names the map `by_type`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActionSummary {
    /// All actions.
    #[serde(default)]
    pub total: u64,
    /// Per action type.
    #[serde(default, alias = "by_type", deserialize_with = "nullable")]
    pub by_action: BTreeMap<String, u64>,
}

/// How often one attribute differed (xavyo-idp names it `attribute`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MismatchedAttribute {
    /// Attribute name.
    #[serde(alias = "attribute")]
    pub attribute_name: String,
    /// Discrepancies on it.
    pub count: u64,
}

/// Timing and throughput of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PerformanceMetrics {
    /// Wall time.
    pub total_duration_ms: u64,
    /// Throughput.
    pub accounts_per_second: f64,
    /// Calls made to the target (xavyo-idp does not count them).
    #[serde(default)]
    pub api_calls_made: Option<u64>,
}

/// A report in either shape: ours (`run_id`, `performance_metrics`) or xavyo-idp's (a nested `run`,
/// `performance{accounts_per_second, total_duration_seconds}`).
#[derive(Deserialize)]
struct RawReport {
    run_id: Option<RunId>,
    run: Option<RunRef>,
    #[serde(default, deserialize_with = "nullable")]
    discrepancy_summary: DiscrepancySummary,
    #[serde(default, deserialize_with = "nullable")]
    action_summary: ActionSummary,
    #[serde(default, deserialize_with = "nullable")]
    top_mismatched_attributes: Vec<MismatchedAttribute>,
    performance_metrics: Option<PerformanceMetrics>,
    performance: Option<RawPerformance>,
}

#[derive(Deserialize)]
struct RunRef {
    id: RunId,
}

#[derive(Deserialize)]
struct RawPerformance {
    #[serde(default)]
    accounts_per_second: f64,
    #[serde(default)]
    total_duration_seconds: f64,
}

impl TryFrom<RawReport> for ReconciliationReport {
    type Error = String;

    fn try_from(raw: RawReport) -> Result<Self, Self::Error> {
        let run_id = raw
            .run_id
            .or(raw.run.map(|run| run.id))
            .ok_or_else(|| "reconciliation report without `run_id` or `run.id`".to_owned())?;
        let performance_metrics = match (raw.performance_metrics, raw.performance) {
            (Some(metrics), _) => metrics,
            (None, Some(perf)) => PerformanceMetrics {
                // Saturating float-to-int cast: a negative or absurd duration reads as 0 or u64::MAX.
                total_duration_ms: (perf.total_duration_seconds * 1000.0).round() as u64,
                accounts_per_second: perf.accounts_per_second,
                api_calls_made: None,
            },
            (None, None) => PerformanceMetrics::default(),
        };
        Ok(Self {
            run_id,
            discrepancy_summary: raw.discrepancy_summary,
            action_summary: raw.action_summary,
            top_mismatched_attributes: raw.top_mismatched_attributes,
            performance_metrics,
        })
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Discrepancies
// ---------------------------------------------------------------------------------------------------------------

/// A difference a run found between xavyo and the target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Discrepancy {
    /// Its id.
    pub id: DiscrepancyId,
    /// The connector (xavyo-idp does not send it; the client fills it from the path).
    #[serde(default)]
    pub connector_id: Option<ConnectorId>,
    /// The run that found it.
    pub run_id: RunId,
    /// How it was classified.
    pub discrepancy_type: DiscrepancyType,
    /// The xavyo identity, when known.
    #[serde(default)]
    pub identity_id: Option<UserId>,
    /// The account id in the target, when known.
    #[serde(default)]
    pub external_uid: Option<String>,
    /// The attribute that differs (single-attribute mismatches).
    #[serde(default)]
    pub attribute_name: Option<String>,
    /// xavyo's value of that attribute.
    #[serde(default)]
    pub expected_value: Option<String>,
    /// The target's value of that attribute.
    #[serde(default)]
    pub actual_value: Option<String>,
    /// Every differing attribute with both values (mismatches).
    #[serde(default, deserialize_with = "nullable")]
    pub mismatched_attributes: BTreeMap<String, AttributeValues>,
    /// Remediations that fit its type, best first.
    #[serde(default, deserialize_with = "nullable")]
    pub suggested_actions: Vec<RemediationAction>,
    /// The identities an account matched equally well (collisions): the administrator links it to one.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub candidate_identity_ids: Vec<UserId>,
    /// Where it is in its resolution.
    pub resolution_status: ResolutionStatus,
    /// The remediation that resolved it (xavyo-idp).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_action: Option<RemediationAction>,
    /// Resolved or ignored at.
    #[serde(default)]
    pub resolved_at: Option<DateTime<Utc>>,
    /// Who resolved or ignored it.
    #[serde(default)]
    pub resolved_by: Option<UserId>,
    /// Detected at (xavyo-idp: `detected_at`).
    #[serde(alias = "detected_at")]
    pub created_at: DateTime<Utc>,
}

/// Both sides of one mismatched attribute (any JSON: strings, lists for multi-valued attributes, null).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AttributeValues {
    /// xavyo's value.
    #[serde(default)]
    pub xavyo: serde_json::Value,
    /// The target's value.
    #[serde(default)]
    pub target: serde_json::Value,
}

/// `GET /connectors/{id}/reconciliation/discrepancies` (xavyo-idp omits `limit`/`offset`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiscrepancyList {
    /// This page's discrepancies.
    pub discrepancies: Vec<Discrepancy>,
    /// All matching discrepancies.
    pub total: u64,
    /// Page size.
    #[serde(default)]
    pub limit: Option<u32>,
    /// Rows skipped.
    #[serde(default)]
    pub offset: Option<u64>,
}

/// The filters of `GET /connectors/{id}/reconciliation/discrepancies`. Serialises to its query string.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiscrepancyQuery {
    /// Only this run's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<RunId>,
    /// Only this type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discrepancy_type: Option<DiscrepancyType>,
    /// Only this resolution state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution_status: Option<ResolutionStatus>,
    /// Only this identity's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_id: Option<UserId>,
    /// Only this target account's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_uid: Option<String>,
    /// Page size (1..=100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Rows skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

impl DiscrepancyQuery {
    /// The page this query asks for, checked.
    pub fn page(&self) -> Result<PageRequest, ErrorBody> {
        checked_page(self.limit, self.offset)
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Remediation
// ---------------------------------------------------------------------------------------------------------------

/// `POST .../discrepancies/{did}/remediate` body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemediateRequest {
    /// What to do.
    pub action: RemediationAction,
    /// Which side wins.
    pub direction: RemediationDirection,
    /// The identity to link to (link actions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_id: Option<UserId>,
    /// Only say what would change.
    #[serde(default)]
    pub dry_run: bool,
}

/// The outcome of one remediation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "RawRemediationResult")]
pub struct RemediationResult {
    /// The discrepancy remediated.
    pub discrepancy_id: DiscrepancyId,
    /// What was done.
    pub action: RemediationAction,
    /// Which side won (xavyo-idp does not echo it).
    pub direction: Option<RemediationDirection>,
    /// Whether it worked.
    pub success: bool,
    /// What went wrong.
    pub error: Option<String>,
    /// What changed (xavyo-idp: `{"before": before_state, "after": after_state}`).
    pub changes: Option<serde_json::Value>,
    /// Whether nothing was really changed.
    pub dry_run: bool,
    /// Not attempted (bulk only: the discrepancy was already resolved or ignored).
    #[serde(skip_serializing_if = "is_false")]
    pub skipped: bool,
    /// Why it was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A result in either shape: ours (`success`, `error`, `changes`) or xavyo-idp's (`result: "success" |
/// "failure"`, `error_message`, `before_state`, `after_state`).
#[derive(Deserialize)]
struct RawRemediationResult {
    discrepancy_id: DiscrepancyId,
    action: RemediationAction,
    direction: Option<RemediationDirection>,
    success: Option<bool>,
    result: Option<String>,
    #[serde(alias = "error_message")]
    error: Option<String>,
    changes: Option<serde_json::Value>,
    before_state: Option<serde_json::Value>,
    after_state: Option<serde_json::Value>,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    skipped: bool,
    reason: Option<String>,
}

impl From<RawRemediationResult> for RemediationResult {
    fn from(raw: RawRemediationResult) -> Self {
        let result = raw.result.as_deref();
        let skipped = raw.skipped || result == Some("skipped");
        let success = raw.success.unwrap_or(result == Some("success"));
        let changes = raw
            .changes
            .or_else(|| match (raw.before_state, raw.after_state) {
                (None, None) => None,
                (before, after) => Some(serde_json::json!({ "before": before, "after": after })),
            });
        Self {
            discrepancy_id: raw.discrepancy_id,
            action: raw.action,
            direction: raw.direction,
            success,
            error: raw.error,
            changes,
            dry_run: raw.dry_run,
            skipped,
            reason: raw.reason,
        }
    }
}

/// One discrepancy of a bulk remediation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkItem {
    /// The discrepancy.
    pub discrepancy_id: DiscrepancyId,
    /// What to do.
    pub action: RemediationAction,
    /// Which side wins.
    pub direction: RemediationDirection,
    /// The identity to link to (link actions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_id: Option<UserId>,
}

/// `POST .../discrepancies/bulk-remediate` body: 1..=100 items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkRemediateRequest {
    /// The discrepancies and what to do with each.
    pub items: Vec<BulkItem>,
    /// Only say what would change.
    #[serde(default)]
    pub dry_run: bool,
}

impl BulkRemediateRequest {
    /// Checks there is at least one item and at most 100.
    pub fn validate(&self) -> Result<(), ErrorBody> {
        Self::check_count(self.items.len())
    }

    /// The one bulk-size rule: 1 to [`MAX_BULK_ITEMS`] items (a selection, a request, an engine's body).
    pub fn check_count(count: usize) -> Result<(), ErrorBody> {
        match count {
            0 => Err(ErrorBody::validation(
                "items",
                "select at least one discrepancy",
            )),
            n if n > MAX_BULK_ITEMS => Err(ErrorBody::validation(
                "items",
                format!(
                    "at most {MAX_BULK_ITEMS} discrepancies can be remediated at once, got {n}"
                ),
            )),
            _ => Ok(()),
        }
    }
}

/// The answer to a bulk remediation (xavyo-idp nests the counts under `summary` and has no `skipped`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "RawBulkRemediateResponse")]
pub struct BulkRemediateResponse {
    /// One result per item, in request order.
    pub results: Vec<RemediationResult>,
    /// Items received.
    pub total: u64,
    /// Items remediated.
    pub succeeded: u64,
    /// Items that failed.
    pub failed: u64,
    /// Items not attempted (already resolved or ignored).
    pub skipped: u64,
}

#[derive(Deserialize)]
struct RawBulkRemediateResponse {
    #[serde(default, deserialize_with = "nullable")]
    results: Vec<RemediationResult>,
    total: Option<u64>,
    succeeded: Option<u64>,
    failed: Option<u64>,
    skipped: Option<u64>,
    summary: Option<RawBulkSummary>,
}

#[derive(Default, Deserialize)]
struct RawBulkSummary {
    total: Option<u64>,
    succeeded: Option<u64>,
    failed: Option<u64>,
    skipped: Option<u64>,
}

impl From<RawBulkRemediateResponse> for BulkRemediateResponse {
    fn from(raw: RawBulkRemediateResponse) -> Self {
        let count = |keep: fn(&RemediationResult) -> bool| {
            raw.results.iter().filter(|r| keep(r)).count() as u64
        };
        let summary = raw.summary.unwrap_or_default();
        let total = raw
            .total
            .or(summary.total)
            .unwrap_or(raw.results.len() as u64);
        let succeeded = raw
            .succeeded
            .or(summary.succeeded)
            .unwrap_or_else(|| count(|r| r.success && !r.skipped));
        let failed = raw
            .failed
            .or(summary.failed)
            .unwrap_or_else(|| count(|r| !r.success && !r.skipped));
        let skipped = raw
            .skipped
            .or(summary.skipped)
            .unwrap_or_else(|| count(|r| r.skipped));
        Self {
            results: raw.results,
            total,
            succeeded,
            failed,
            skipped,
        }
    }
}

/// `POST .../discrepancies/preview` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewRequest {
    /// The discrepancies to preview.
    pub discrepancy_ids: Vec<DiscrepancyId>,
}

/// What remediating some discrepancies would do (xavyo-idp: `items`, and a `summary` the console recomputes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreviewResponse {
    /// One per discrepancy.
    #[serde(alias = "items")]
    pub previews: Vec<RemediationPreview>,
}

/// What remediating one discrepancy would do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemediationPreview {
    /// The discrepancy.
    pub discrepancy_id: DiscrepancyId,
    /// Its type (xavyo-idp).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discrepancy_type: Option<DiscrepancyType>,
    /// The remediation that fits it.
    pub suggested_action: RemediationAction,
    /// Which side should win (xavyo-idp does not say).
    #[serde(default)]
    pub suggested_direction: Option<RemediationDirection>,
    /// What would change (xavyo-idp: `would_change`).
    #[serde(default, alias = "would_change")]
    pub changes: Option<serde_json::Value>,
}

// ---------------------------------------------------------------------------------------------------------------
// Audit log
// ---------------------------------------------------------------------------------------------------------------

/// An entry of the reconciliation audit log: one remediation or ignore, real or dry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "RawAction")]
pub struct ReconciliationAction {
    /// Its id.
    pub id: ActionId,
    /// The connector (xavyo-idp does not send it; the client fills it from the path).
    pub connector_id: Option<ConnectorId>,
    /// The discrepancy acted on.
    pub discrepancy_id: Option<DiscrepancyId>,
    /// What was done, e.g. `update`, `ignore`.
    pub action_type: String,
    /// Which side won (remediations; none for an ignore, and xavyo-idp does not say).
    pub direction: Option<RemediationDirection>,
    /// `success` or `failure`.
    pub result: String,
    /// Whether nothing was really changed.
    pub dry_run: bool,
    /// Who did it (xavyo-idp: `executed_by`).
    pub performed_by: Option<UserId>,
    /// When (xavyo-idp: `executed_at`).
    pub performed_at: DateTime<Utc>,
    /// Anything else (xavyo-idp: its non-null `before_state`, `after_state` and `error_message`).
    pub details: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawAction {
    id: ActionId,
    connector_id: Option<ConnectorId>,
    discrepancy_id: Option<DiscrepancyId>,
    action_type: String,
    #[serde(default)]
    direction: Option<RemediationDirection>,
    result: String,
    #[serde(default)]
    dry_run: bool,
    #[serde(alias = "executed_by")]
    performed_by: Option<UserId>,
    #[serde(alias = "executed_at")]
    performed_at: DateTime<Utc>,
    details: Option<serde_json::Value>,
    before_state: Option<serde_json::Value>,
    after_state: Option<serde_json::Value>,
    error_message: Option<String>,
}

impl From<RawAction> for ReconciliationAction {
    fn from(raw: RawAction) -> Self {
        let details = raw.details.or_else(|| {
            let mut map = serde_json::Map::new();
            if let Some(before) = raw.before_state {
                map.insert("before_state".to_owned(), before);
            }
            if let Some(after) = raw.after_state {
                map.insert("after_state".to_owned(), after);
            }
            if let Some(error) = raw.error_message {
                map.insert("error_message".to_owned(), error.into());
            }
            (!map.is_empty()).then_some(serde_json::Value::Object(map))
        });
        Self {
            id: raw.id,
            connector_id: raw.connector_id,
            discrepancy_id: raw.discrepancy_id,
            action_type: raw.action_type,
            direction: raw.direction,
            result: raw.result,
            dry_run: raw.dry_run,
            performed_by: raw.performed_by,
            performed_at: raw.performed_at,
            details,
        }
    }
}

/// `GET /connectors/{id}/reconciliation/actions` (xavyo-idp omits `limit`/`offset`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionList {
    /// This page's entries, newest first.
    pub actions: Vec<ReconciliationAction>,
    /// All matching entries.
    pub total: u64,
    /// Page size.
    #[serde(default)]
    pub limit: Option<u32>,
    /// Rows skipped.
    #[serde(default)]
    pub offset: Option<u64>,
}

/// The filters of `GET /connectors/{id}/reconciliation/actions`. Serialises to its query string.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActionQuery {
    /// Only this discrepancy's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discrepancy_id: Option<DiscrepancyId>,
    /// Only this action type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_type: Option<String>,
    /// Only this result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Only dry (true) or real (false) ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    /// Page size (1..=100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Rows skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

impl ActionQuery {
    /// The page this query asks for, checked.
    pub fn page(&self) -> Result<PageRequest, ErrorBody> {
        checked_page(self.limit, self.offset)
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Schedules
// ---------------------------------------------------------------------------------------------------------------

/// When a connector is reconciled on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawSchedule")]
pub struct ReconciliationSchedule {
    /// Its id.
    pub id: ScheduleId,
    /// The connector.
    pub connector_id: ConnectorId,
    /// Connector display name (xavyo-idp does not send it; the console fills it in).
    pub connector_name: Option<String>,
    /// Full or delta.
    pub mode: ReconciliationMode,
    /// How often.
    pub frequency: ScheduleFrequency,
    /// 0 = Sunday .. 6 (weekly).
    pub day_of_week: Option<u8>,
    /// 1..=31; a shorter month runs on its last day (monthly).
    pub day_of_month: Option<u8>,
    /// 0..=23, UTC.
    pub hour_of_day: u8,
    /// Five-field cron expression (cron).
    pub cron_expression: Option<String>,
    /// Whether it fires.
    pub enabled: bool,
    /// Last fired at (xavyo-idp does not send it).
    pub last_run_at: Option<DateTime<Utc>>,
    /// The run it last started (xavyo-idp).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_run_id: Option<RunId>,
    /// What the start gate answered when it last fired (ours): `accepted`, `deduped`, `scope_busy` or
    /// `blocked:<reason_code>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_outcome: Option<String>,
    /// Next firing (xavyo-idp leaves it null).
    pub next_run_at: Option<DateTime<Utc>>,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last change (xavyo-idp does not send it).
    pub updated_at: Option<DateTime<Utc>>,
}

/// A schedule in either shape; xavyo-idp may carry a cron expression in `frequency` itself.
#[derive(Deserialize)]
struct RawSchedule {
    id: ScheduleId,
    connector_id: ConnectorId,
    connector_name: Option<String>,
    mode: ReconciliationMode,
    frequency: String,
    day_of_week: Option<u8>,
    day_of_month: Option<u8>,
    hour_of_day: u8,
    cron_expression: Option<String>,
    enabled: bool,
    last_run_at: Option<DateTime<Utc>>,
    last_run_id: Option<RunId>,
    last_outcome: Option<String>,
    next_run_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: Option<DateTime<Utc>>,
}

impl TryFrom<RawSchedule> for ReconciliationSchedule {
    type Error = String;

    fn try_from(raw: RawSchedule) -> Result<Self, Self::Error> {
        let (frequency, cron_expression) =
            read_frequency(&raw.frequency, raw.cron_expression).map_err(|e| e.to_string())?;
        Ok(Self {
            id: raw.id,
            connector_id: raw.connector_id,
            connector_name: raw.connector_name,
            mode: raw.mode,
            frequency,
            day_of_week: raw.day_of_week,
            day_of_month: raw.day_of_month,
            hour_of_day: raw.hour_of_day,
            cron_expression,
            enabled: raw.enabled,
            last_run_at: raw.last_run_at,
            last_run_id: raw.last_run_id,
            last_outcome: raw.last_outcome,
            next_run_at: raw.next_run_at,
            created_at: raw.created_at,
            updated_at: raw.updated_at,
        })
    }
}

/// Reads a schedule's `frequency` (with its `cron_expression`): one of the frequencies, or a five-field cron
/// expression standing for itself, as xavyo-idp stores and reads a cron schedule (it has no `cron` frequency:
/// sent `cron`, it saves `daily`). The one reading of the field, for the console's DTOs and the engine's body.
pub fn read_frequency(
    frequency: &str,
    cron_expression: Option<String>,
) -> Result<(ScheduleFrequency, Option<String>), enums::UnknownVariant> {
    match frequency.parse::<ScheduleFrequency>() {
        Ok(frequency) => Ok((frequency, cron_expression)),
        Err(_) if is_cron_expression(frequency) => {
            Ok((ScheduleFrequency::Cron, Some(frequency.trim().to_owned())))
        }
        Err(unknown) => Err(unknown),
    }
}

/// True for five whitespace-separated fields of digits, names and `* / , - ?`.
fn is_cron_expression(text: &str) -> bool {
    let fields: Vec<&str> = text.split_whitespace().collect();
    fields.len() == 5
        && fields.iter().all(|field| {
            field
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "*/,-?".contains(c))
        })
}

/// `GET /reconciliation/schedules`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleList {
    /// Every connector's schedule.
    pub schedules: Vec<ReconciliationSchedule>,
}

/// `PUT /connectors/{id}/reconciliation/schedule` body. A cron schedule is written with its expression in
/// `frequency` (what xavyo-idp stores) and in `cron_expression` (ours), and read from either.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "WireUpsert", into = "WireUpsert")]
pub struct UpsertSchedule {
    /// Full or delta.
    pub mode: ReconciliationMode,
    /// How often.
    pub frequency: ScheduleFrequency,
    /// 0 = Sunday .. 6; required when weekly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_of_week: Option<u8>,
    /// 1..=31; required when monthly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_of_month: Option<u8>,
    /// 0..=23, UTC.
    pub hour_of_day: u8,
    /// Five-field cron expression; required when cron.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron_expression: Option<String>,
    /// Whether it fires.
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// [`UpsertSchedule`] as it crosses the wire.
#[derive(Serialize, Deserialize)]
struct WireUpsert {
    mode: ReconciliationMode,
    frequency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    day_of_week: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    day_of_month: Option<u8>,
    hour_of_day: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cron_expression: Option<String>,
    #[serde(default = "yes")]
    enabled: bool,
}

impl From<UpsertSchedule> for WireUpsert {
    fn from(s: UpsertSchedule) -> Self {
        let frequency = match (s.frequency, s.cron_expression.as_deref()) {
            (ScheduleFrequency::Cron, Some(expr)) => expr.trim().to_owned(),
            (frequency, _) => frequency.as_str().to_owned(),
        };
        Self {
            mode: s.mode,
            frequency,
            day_of_week: s.day_of_week,
            day_of_month: s.day_of_month,
            hour_of_day: s.hour_of_day,
            cron_expression: s.cron_expression,
            enabled: s.enabled,
        }
    }
}

impl TryFrom<WireUpsert> for UpsertSchedule {
    type Error = enums::UnknownVariant;

    fn try_from(w: WireUpsert) -> Result<Self, Self::Error> {
        let (frequency, cron_expression) = read_frequency(&w.frequency, w.cron_expression)?;
        Ok(Self {
            mode: w.mode,
            frequency,
            day_of_week: w.day_of_week,
            day_of_month: w.day_of_month,
            hour_of_day: w.hour_of_day,
            cron_expression,
            enabled: w.enabled,
        })
    }
}

impl UpsertSchedule {
    /// The fields of `saved` that are not what this request asked for (only those its frequency uses), by
    /// their wire names: what an upstream changed or dropped silently (xavyo-idp saves an unknown frequency
    /// as `daily`). Empty when it stored what was asked.
    pub fn differences(&self, saved: &ReconciliationSchedule) -> Vec<&'static str> {
        let mut differ = Vec::new();
        if saved.mode != self.mode {
            differ.push("mode");
        }
        if saved.frequency != self.frequency {
            differ.push("frequency");
        }
        let uses = |f: ScheduleFrequency| self.frequency == f;
        if uses(ScheduleFrequency::Weekly) && saved.day_of_week != self.day_of_week {
            differ.push("day_of_week");
        }
        if uses(ScheduleFrequency::Monthly) && saved.day_of_month != self.day_of_month {
            differ.push("day_of_month");
        }
        if !uses(ScheduleFrequency::Hourly)
            && !uses(ScheduleFrequency::Cron)
            && saved.hour_of_day != self.hour_of_day
        {
            differ.push("hour_of_day");
        }
        if uses(ScheduleFrequency::Cron)
            && saved.cron_expression.as_deref().map(str::trim)
                != self.cron_expression.as_deref().map(str::trim)
        {
            differ.push("cron_expression");
        }
        if saved.enabled != self.enabled {
            differ.push("enabled");
        }
        differ
    }

    /// Checks the fields the frequency needs are present and every given field is in range.
    pub fn validate(&self) -> Result<(), ErrorBody> {
        if self.hour_of_day > 23 {
            return Err(ErrorBody::validation(
                "hour_of_day",
                "hour_of_day must be between 0 and 23",
            ));
        }
        match self.day_of_week {
            Some(day) if day > 6 => {
                return Err(ErrorBody::validation(
                    "day_of_week",
                    "day_of_week must be between 0 (Sunday) and 6",
                ));
            }
            None if self.frequency == ScheduleFrequency::Weekly => {
                return Err(ErrorBody::validation(
                    "day_of_week",
                    "a weekly schedule needs day_of_week",
                ));
            }
            _ => {}
        }
        match self.day_of_month {
            Some(day) if !(1..=31).contains(&day) => {
                return Err(ErrorBody::validation(
                    "day_of_month",
                    "day_of_month must be between 1 and 31",
                ));
            }
            None if self.frequency == ScheduleFrequency::Monthly => {
                return Err(ErrorBody::validation(
                    "day_of_month",
                    "a monthly schedule needs day_of_month",
                ));
            }
            _ => {}
        }
        if self.frequency == ScheduleFrequency::Cron {
            match self.cron_expression.as_deref().map(str::trim) {
                None | Some("") => {
                    return Err(ErrorBody::validation(
                        "cron_expression",
                        "a cron schedule needs cron_expression",
                    ));
                }
                Some(expr) if !is_cron_expression(expr) => {
                    return Err(ErrorBody::validation(
                        "cron_expression",
                        "cron_expression must have five fields: minute hour day-of-month month day-of-week",
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Trend
// ---------------------------------------------------------------------------------------------------------------

/// Discrepancies found on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrendPoint {
    /// The day (UTC).
    pub date: NaiveDate,
    /// All discrepancies that day.
    pub total: u64,
    /// Per type; types with none may be absent.
    #[serde(default, deserialize_with = "nullable")]
    pub by_type: BTreeMap<DiscrepancyType, u64>,
}

/// `GET /reconciliation/trend`: one point per day (xavyo-idp: only days with data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trend {
    /// Oldest first.
    pub data_points: Vec<TrendPoint>,
    /// The connector, or none for all.
    #[serde(default)]
    pub connector_id: Option<ConnectorId>,
    /// Range start.
    pub from: DateTime<Utc>,
    /// Range end.
    pub to: DateTime<Utc>,
}

impl Trend {
    /// One point for every day from `from` to `to` (UTC days, both included), oldest first: the upstream's
    /// points where it sent them, zero where it sent none (xavyo-idp sends only the days with data). A point
    /// outside the range is kept in date order.
    pub fn every_day(&self) -> Vec<TrendPoint> {
        let (first, last) = (self.from.date_naive(), self.to.date_naive());
        let mut sent: BTreeMap<NaiveDate, TrendPoint> = self
            .data_points
            .iter()
            .map(|p| (p.date, p.clone()))
            .collect();
        // At most a few years of days: a range the upstream made absurd is not expanded.
        if first <= last && (last - first).num_days() <= 3660 {
            for date in first.iter_days().take_while(|d| *d <= last) {
                sent.entry(date).or_insert_with(|| TrendPoint {
                    date,
                    total: 0,
                    by_type: BTreeMap::new(),
                });
            }
        }
        sent.into_values().collect()
    }
}

/// The filters of `GET /reconciliation/trend` (default: the last 30 days). Serialises to its query string.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrendQuery {
    /// Only this connector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector_id: Option<ConnectorId>,
    /// Range start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    /// Range end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
}

impl TrendQuery {
    /// Checks the range is the right way round.
    pub fn validate(&self) -> Result<(), ErrorBody> {
        match (self.from, self.to) {
            (Some(from), Some(to)) if from > to => {
                Err(ErrorBody::validation("from", "from must not be after to"))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(frequency: ScheduleFrequency) -> UpsertSchedule {
        UpsertSchedule {
            mode: ReconciliationMode::Full,
            frequency,
            day_of_week: None,
            day_of_month: None,
            hour_of_day: 2,
            cron_expression: None,
            enabled: true,
        }
    }

    fn field_of(result: Result<(), ErrorBody>) -> Option<String> {
        result.err().map(|err| {
            assert_eq!(err.error, "validation_error");
            err.field.unwrap_or_default()
        })
    }

    #[test]
    fn schedule_validation_names_the_field() {
        assert_eq!(
            field_of(schedule(ScheduleFrequency::Daily).validate()),
            None
        );
        assert_eq!(
            field_of(schedule(ScheduleFrequency::Hourly).validate()),
            None
        );
        assert_eq!(
            field_of(
                UpsertSchedule {
                    hour_of_day: 24,
                    ..schedule(ScheduleFrequency::Daily)
                }
                .validate()
            ),
            Some("hour_of_day".into())
        );

        let weekly = schedule(ScheduleFrequency::Weekly);
        assert_eq!(field_of(weekly.validate()), Some("day_of_week".into()));
        assert_eq!(
            field_of(
                UpsertSchedule {
                    day_of_week: Some(7),
                    ..weekly.clone()
                }
                .validate()
            ),
            Some("day_of_week".into())
        );
        assert_eq!(
            field_of(
                UpsertSchedule {
                    day_of_week: Some(0),
                    ..weekly.clone()
                }
                .validate()
            ),
            None
        );
        assert_eq!(
            field_of(
                UpsertSchedule {
                    day_of_week: Some(6),
                    ..weekly
                }
                .validate()
            ),
            None
        );

        let monthly = schedule(ScheduleFrequency::Monthly);
        assert_eq!(field_of(monthly.validate()), Some("day_of_month".into()));
        for bad in [0, 32] {
            let result = UpsertSchedule {
                day_of_month: Some(bad),
                ..monthly.clone()
            }
            .validate();
            assert_eq!(field_of(result), Some("day_of_month".into()));
        }
        assert_eq!(
            field_of(
                UpsertSchedule {
                    day_of_month: Some(31),
                    ..monthly.clone()
                }
                .validate()
            ),
            None
        );
        assert_eq!(
            field_of(
                UpsertSchedule {
                    day_of_month: Some(1),
                    ..monthly
                }
                .validate()
            ),
            None
        );

        let cron = schedule(ScheduleFrequency::Cron);
        for bad in [
            None,
            Some(""),
            Some("   "),
            Some("0 2 * *"),
            Some("0 2 * * * *"),
            Some("0 2 * * ;"),
        ] {
            let result = UpsertSchedule {
                cron_expression: bad.map(str::to_owned),
                ..cron.clone()
            }
            .validate();
            assert_eq!(field_of(result), Some("cron_expression".into()), "{bad:?}");
        }
        for good in ["0 2 * * *", "*/15 * * * MON-FRI", " 30 4 1,15 * ? "] {
            let result = UpsertSchedule {
                cron_expression: Some(good.to_owned()),
                ..cron.clone()
            }
            .validate();
            assert_eq!(field_of(result), None, "{good}");
        }
    }

    #[test]
    fn bulk_requests_carry_one_to_a_hundred_items() {
        let item = BulkItem {
            discrepancy_id: DiscrepancyId(uuid::Uuid::nil()),
            action: RemediationAction::Update,
            direction: RemediationDirection::XavyoToTarget,
            identity_id: None,
        };
        let request = |n: usize| BulkRemediateRequest {
            items: vec![item; n],
            dry_run: false,
        };
        for bad in [0, MAX_BULK_ITEMS + 1] {
            let err = request(bad).validate().unwrap_err();
            assert_eq!(
                (err.error.as_str(), err.field.as_deref()),
                ("validation_error", Some("items"))
            );
        }
        assert!(request(1).validate().is_ok());
        assert!(request(MAX_BULK_ITEMS).validate().is_ok());
    }

    #[test]
    fn trend_and_list_queries_are_checked() {
        let day = |text: &str| text.parse::<DateTime<Utc>>().ok();
        let backwards = TrendQuery {
            from: day("2026-11-24T00:00:00Z"),
            to: day("2026-11-23T00:00:00Z"),
            ..Default::default()
        };
        assert_eq!(
            backwards.validate().unwrap_err().field.as_deref(),
            Some("from")
        );
        assert!(TrendQuery::default().validate().is_ok());
        assert_eq!(RunQuery::default().page().unwrap(), PageRequest::default());
        assert!(DiscrepancyQuery {
            limit: Some(101),
            ..Default::default()
        }
        .page()
        .is_err());
        assert!(ActionQuery {
            limit: Some(0),
            ..Default::default()
        }
        .page()
        .is_err());
    }

    #[test]
    fn a_cron_expression_in_frequency_reads_as_cron() {
        let json = serde_json::json!({
            "id": uuid::Uuid::nil(), "connector_id": uuid::Uuid::nil(), "mode": "delta",
            "frequency": "0 3 * * 1", "hour_of_day": 0, "enabled": true, "created_at": "2026-11-01T00:00:00Z"
        });
        let schedule: ReconciliationSchedule = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(schedule.frequency, ScheduleFrequency::Cron);
        assert_eq!(schedule.cron_expression.as_deref(), Some("0 3 * * 1"));

        let mut bogus = json;
        bogus["frequency"] = "fortnightly".into();
        let err = serde_json::from_value::<ReconciliationSchedule>(bogus).unwrap_err();
        assert!(err.to_string().contains("fortnightly"), "{err}");
    }
}
