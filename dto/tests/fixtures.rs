//! xavyo-idp's bodies read into our DTOs, its error bodies are recognisable, and every canonical DTO round-trips.
//!
//! The fixtures are a copy of the team's reference set (`../shared/fixtures/xavyo-idp/`) kept in
//! `dto/tests/fixtures/xavyo-idp/`, so the tests run from any clone: the top-level files are sample bodies
//! written from xavyo-idp's source (file name = endpoint), `captured/` holds real responses of a running
//! instance as `{request, status, body}`.

use std::{
    any::type_name,
    collections::{BTreeMap, BTreeSet},
    fmt::Debug,
    fs,
    path::{Path, PathBuf},
};

use chrono::{DateTime, NaiveDate, Utc};
use dto::enums::{
    ConflictOutcome, ConnectorStatus, DiscrepancyType, OperationStatus, OperationType,
    ReconciliationMode, ReconciliationRunStatus, RemediationAction, RemediationDirection,
    ResolutionStatus, ScheduleFrequency,
};
use dto::*;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------------------------

fn fixtures_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xavyo-idp");
    assert!(
        dir.is_dir(),
        "fixture folder {} is missing: these tests must read xavyo-idp's real bodies, so they fail without it",
        dir.display()
    );
    dir
}

/// Every regular file of `dir` with one of `extensions`, sorted by name.
fn files(dir: &Path, extensions: &[&str]) -> Vec<(String, PathBuf)> {
    let mut found: Vec<(String, PathBuf)> = fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("cannot list {}: {err}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_file())
        .filter(|path| {
            path.extension()
                .and_then(|ext| ext.to_str())
                .is_some_and(|ext| extensions.contains(&ext))
        })
        .map(|path| {
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                path,
            )
        })
        .collect();
    found.sort();
    found
}

fn read_json(path: &Path) -> Value {
    let text = fs::read_to_string(path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|err| panic!("{} is not JSON: {err}", path.display()))
}

/// A top-level sample body; a `.txt` file is a plain-text body.
fn sample_body(path: &Path) -> Value {
    if path.extension().is_some_and(|ext| ext == "txt") {
        Value::String(
            fs::read_to_string(path)
                .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display())),
        )
    } else {
        read_json(path)
    }
}

/// A top-level sample, read as `T`.
fn sample<T: DeserializeOwned>(name: &str) -> T {
    let body = sample_body(&fixtures_dir().join(name));
    serde_json::from_value(body)
        .unwrap_or_else(|err| panic!("{name} does not read as {}: {err}", type_name::<T>()))
}

/// A captured exchange: `{request, status, body, request_body?, note?}`.
fn capture(name: &str) -> Value {
    read_json(&fixtures_dir().join("captured").join(format!("{name}.json")))
}

/// A captured body, read as `T`.
fn captured<T: DeserializeOwned>(name: &str) -> T {
    serde_json::from_value(capture(name)["body"].clone()).unwrap_or_else(|err| {
        panic!(
            "captured {name} does not read as {}: {err}",
            type_name::<T>()
        )
    })
}

// ---------------------------------------------------------------------------------------------------------------
// What a body must be
// ---------------------------------------------------------------------------------------------------------------

type Check = fn(&Value) -> Result<(), String>;

/// What a 2xx body must read as.
#[derive(Clone, Copy)]
enum Expect {
    /// This DTO, whose canonical form then reads back equal.
    Dto(Check),
    /// A JSON object: an endpoint of the connector admin API, which the console does not call.
    AdminApiObject,
    /// No body (204).
    NoContent,
}

impl Expect {
    fn check(self, body: &Value) -> Result<(), String> {
        match self {
            Self::Dto(check) => check(body),
            Self::AdminApiObject if body.is_object() => Ok(()),
            Self::AdminApiObject => Err(format!("expected a JSON object, got {body}")),
            Self::NoContent if body.is_null() => Ok(()),
            Self::NoContent => Err(format!("expected no body, got {body}")),
        }
    }
}

/// Reads `body` as `T`, then checks `T`'s canonical serialisation reads back equal.
fn reads<T: DeserializeOwned + Serialize + PartialEq + Debug>(body: &Value) -> Result<(), String> {
    let value: T = serde_json::from_value(body.clone())
        .map_err(|err| format!("does not read as {}: {err}", type_name::<T>()))?;
    let canonical =
        serde_json::to_value(&value).map_err(|err| format!("does not serialise: {err}"))?;
    let again: T = serde_json::from_value(canonical.clone())
        .map_err(|err| format!("canonical form {canonical} does not read back: {err}"))?;
    if again != value {
        return Err(format!(
            "canonical form reads back different: {again:?} != {value:?}"
        ));
    }
    Ok(())
}

/// The message a person would see for a non-2xx body, or why the body is not recognisable as an error.
fn error_message(body: &Value) -> Result<String, String> {
    match body {
        Value::Null => Ok("(empty reply)".to_owned()),
        Value::String(text) if text.trim().is_empty() => Ok("(empty reply)".to_owned()),
        Value::String(text) => Ok(text.trim().to_owned()),
        Value::Object(_) => {
            if let Ok(err) = serde_json::from_value::<ErrorBody>(body.clone()) {
                if err.error.is_empty() {
                    return Err(format!("error body with an empty code: {body}"));
                }
                return Ok(if err.message.is_empty() {
                    err.error
                } else {
                    err.message
                });
            }
            if let Ok(problem) = serde_json::from_value::<ProblemDetails>(body.clone()) {
                if problem.title.is_empty() {
                    return Err(format!("problem details without a title: {body}"));
                }
                return Ok(problem.detail.unwrap_or(problem.title));
            }
            Err(format!("neither an error body nor problem details: {body}"))
        }
        other => Err(format!("not an error body: {other}")),
    }
}

/// The top-level sample bodies (written from xavyo-idp's source), by file name: what each reads as.
const SAMPLES: &[(&str, Check)] = &[
    ("actions_list.json", reads::<ActionList>),
    ("bulk_remediate.json", reads::<BulkRemediateResponse>),
    ("conflicts_list.json", reads::<ConflictList>),
    ("discrepancies_list.json", reads::<DiscrepancyList>),
    ("discrepancy.json", reads::<Discrepancy>),
    ("login.json", reads::<LoginResponse>),
    ("login_mfa.json", reads::<LoginResponse>),
    ("operation.json", reads::<ProvisioningOperation>),
    ("operation_attempts.json", reads::<AttemptList>),
    ("operation_logs.json", reads::<LogList>),
    ("operations_dlq.json", reads::<OperationList>),
    ("operations_list.json", reads::<OperationList>),
    ("operations_stats.json", reads::<QueueStatistics>),
    ("preview.json", reads::<PreviewResponse>),
    ("reconciliation_report.json", reads::<ReconciliationReport>),
    ("reconciliation_run.json", reads::<ReconciliationRun>),
    ("reconciliation_runs_list.json", reads::<RunList>),
    ("remediation_result.json", reads::<RemediationResult>),
    ("schedule.json", reads::<ReconciliationSchedule>),
    ("schedules_list.json", reads::<ScheduleList>),
    ("trend.json", reads::<Trend>),
];

/// The top-level sample error bodies.
const SAMPLE_ERRORS: &[&str] = &[
    "error_auth_problem.json",
    "error_connectors_api.json",
    "error_jwt_plain.txt",
];

/// What a 2xx answer to `request` ("METHOD /path?query") must read as; `None` when no endpoint claims it.
fn route(request: &str) -> Option<Expect> {
    let (method, target) = request.split_once(' ')?;
    let path = target.split('?').next()?;
    let shape: Vec<&str> = path
        .trim_start_matches('/')
        .split('/')
        .map(|segment| {
            if Uuid::parse_str(segment).is_ok() {
                "{id}"
            } else {
                segment
            }
        })
        .collect();
    let shape = shape.join("/");
    let expect = match (method, shape.as_str()) {
        ("POST", "auth/login" | "auth/refresh") => Expect::Dto(reads::<LoginResponse>),
        ("GET", "connectors") => Expect::Dto(reads::<ConnectorList>),
        ("GET", "connectors/{id}") | ("POST", "connectors" | "connectors/{id}/activate") => {
            Expect::Dto(reads::<Connector>)
        }
        // The connector admin API (health, test, jobs, dead letters): the console never calls it, so its bodies
        // are only checked to be JSON objects.
        ("GET", "connectors/{id}/health" | "connectors/jobs" | "connectors/dlq")
        | ("POST", "connectors/{id}/test") => Expect::AdminApiObject,
        ("GET", "operations" | "operations/dlq") => Expect::Dto(reads::<OperationList>),
        ("GET", "operations/stats") => Expect::Dto(reads::<QueueStatistics>),
        ("GET", "operations/conflicts") => Expect::Dto(reads::<ConflictList>),
        ("GET", "operations/conflicts/{id}") | ("POST", "operations/conflicts/{id}/resolve") => {
            Expect::Dto(reads::<ProvisioningConflict>)
        }
        ("POST", "operations")
        | ("GET", "operations/{id}")
        | (
            "POST",
            "operations/{id}/retry" | "operations/{id}/cancel" | "operations/{id}/resolve",
        ) => Expect::Dto(reads::<ProvisioningOperation>),
        ("GET", "operations/{id}/logs") => Expect::Dto(reads::<LogList>),
        ("GET", "operations/{id}/attempts") => Expect::Dto(reads::<AttemptList>),
        ("GET", "reconciliation/schedules") => Expect::Dto(reads::<ScheduleList>),
        ("GET", "reconciliation/trend") => Expect::Dto(reads::<Trend>),
        (method, shape) => match (
            method,
            shape.strip_prefix("connectors/{id}/reconciliation/")?,
        ) {
            ("GET", "runs") => Expect::Dto(reads::<RunList>),
            ("POST", "runs") | ("GET", "runs/{id}") | ("POST", "runs/{id}/resume") => {
                Expect::Dto(reads::<ReconciliationRun>)
            }
            ("POST", "runs/{id}/cancel") => Expect::NoContent,
            ("GET", "runs/{id}/report") => Expect::Dto(reads::<ReconciliationReport>),
            ("GET", "discrepancies") => Expect::Dto(reads::<DiscrepancyList>),
            ("GET", "discrepancies/{id}") => Expect::Dto(reads::<Discrepancy>),
            ("POST", "discrepancies/{id}/remediate") => Expect::Dto(reads::<RemediationResult>),
            ("POST", "discrepancies/bulk-remediate") => Expect::Dto(reads::<BulkRemediateResponse>),
            ("POST", "discrepancies/preview") => Expect::Dto(reads::<PreviewResponse>),
            ("POST", "discrepancies/{id}/ignore") => Expect::NoContent,
            ("GET", "actions") => Expect::Dto(reads::<ActionList>),
            ("GET" | "PUT", "schedule") => Expect::Dto(reads::<ReconciliationSchedule>),
            ("DELETE", "schedule") | ("POST", "schedule/enable" | "schedule/disable") => {
                Expect::NoContent
            }
            _ => return None,
        },
    };
    Some(expect)
}

// ---------------------------------------------------------------------------------------------------------------
// Every fixture
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn every_sample_body_reads_into_our_dtos_or_is_a_recognisable_error() {
    let dir = fixtures_dir();
    let parsers: BTreeMap<&str, Check> = SAMPLES.iter().copied().collect();
    let mut failures = Vec::new();
    let mut checked = 0;
    for (name, path) in files(&dir, &["json", "txt"]) {
        let body = sample_body(&path);
        let outcome = match parsers.get(name.as_str()) {
            Some(check) => check(&body),
            None if SAMPLE_ERRORS.contains(&name.as_str()) => error_message(&body).map(drop),
            None => {
                Err("no parser claims this file: add it to SAMPLES or SAMPLE_ERRORS".to_owned())
            }
        };
        if let Err(err) = outcome {
            failures.push(format!("{name}: {err}"));
        }
        checked += 1;
    }
    assert!(
        failures.is_empty(),
        "samples that do not fit:\n{}",
        failures.join("\n")
    );
    assert_eq!(
        checked,
        SAMPLES.len() + SAMPLE_ERRORS.len(),
        "every listed sample exists"
    );
}

#[test]
fn every_captured_response_reads_into_our_dtos_or_is_a_recognisable_error() {
    let dir = fixtures_dir().join("captured");
    let mut failures = Vec::new();
    let mut unclaimed = Vec::new();
    let (mut successes, mut errors) = (0, 0);
    for (name, path) in files(&dir, &["json"]) {
        let exchange = read_json(&path);
        let request = exchange["request"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: no `request`"));
        let status = exchange["status"]
            .as_u64()
            .unwrap_or_else(|| panic!("{name}: no numeric `status`"));
        let body = &exchange["body"];
        if (200..300).contains(&status) {
            successes += 1;
            match route(request) {
                None => unclaimed.push(format!("{name} ({request})")),
                Some(expect) => {
                    if let Err(err) = expect.check(body) {
                        failures.push(format!("{name} ({request} -> {status}): {err}"));
                    }
                }
            }
        } else {
            // Status 0 is a closed connection with no HTTP response: its body is a description, read as text.
            errors += 1;
            match error_message(body) {
                Ok(message) if message.is_empty() => {
                    failures.push(format!("{name}: empty error message"))
                }
                Ok(_) => {}
                Err(err) => failures.push(format!("{name} ({request} -> {status}): {err}")),
            }
        }
    }
    assert!(
        unclaimed.is_empty() && failures.is_empty(),
        "2xx captures no parser claims (they would be skipped silently):\n{}\ncaptures that do not fit:\n{}",
        unclaimed.join("\n"),
        failures.join("\n")
    );
    assert!(
        successes >= 60 && errors >= 20,
        "too few captures: {successes} 2xx, {errors} others"
    );
}

#[test]
fn the_capture_index_lists_every_capture_as_it_is() {
    let dir = fixtures_dir().join("captured");
    let index = fs::read_to_string(dir.join("INDEX.tsv")).expect("captured/INDEX.tsv");
    let mut listed = BTreeSet::new();
    for line in index.lines().skip(1).filter(|line| !line.trim().is_empty()) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [name, request, status] = fields[..] else {
            panic!("INDEX.tsv line without 3 fields: {line}")
        };
        let exchange = capture(name);
        assert_eq!(exchange["request"], request, "{name}: request");
        assert_eq!(exchange["status"].to_string(), status, "{name}: status");
        listed.insert(format!("{name}.json"));
    }
    let on_disk: BTreeSet<String> = files(&dir, &["json"])
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(listed, on_disk, "INDEX.tsv and the captured files disagree");
}

// ---------------------------------------------------------------------------------------------------------------
// Real values, read from xavyo-idp's shapes
// ---------------------------------------------------------------------------------------------------------------

fn uuid(text: &str) -> Uuid {
    Uuid::parse_str(text).expect("uuid literal")
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("RFC 3339 literal")
}

fn keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn runs_read_their_counts_from_statistics() {
    let run: ReconciliationRun = sample("reconciliation_run.json");
    assert_eq!(run.accounts_total, 1200);
    assert_eq!(run.accounts_processed, 1200);
    assert_eq!(run.discrepancies_found, 37);
    assert_eq!(run.duration_seconds, Some(12.5));
    assert_eq!(
        run.created_by,
        Some(UserId(uuid("9a8b7c6d-5e4f-4a3b-8c2d-0000000000f1")))
    );
    assert_eq!(
        run.dry_run, None,
        "xavyo-idp sends no dry_run: not reported, never read as no"
    );
    assert_eq!(run.status, ReconciliationRunStatus::Completed);

    let json = serde_json::to_value(&run).unwrap();
    let expected = [
        "id",
        "connector_id",
        "mode",
        "dry_run",
        "status",
        "started_at",
        "completed_at",
        "accounts_total",
        "accounts_processed",
        "discrepancies_found",
        "duration_seconds",
        "created_by",
        "error_message",
    ];
    assert_eq!(
        keys(&json),
        expected.into_iter().collect(),
        "canonical run shape"
    );

    let seeded: ReconciliationRun = captured("seeded_recon_run_get");
    assert_eq!(
        (seeded.accounts_processed, seeded.discrepancies_found),
        (120, 4)
    );
    assert_eq!(seeded.duration_seconds, Some(42.0));

    let list: RunList = captured("seeded_recon_runs_list");
    assert_eq!((list.total, list.limit, list.offset), (2, None, None));
    assert_eq!(list.runs[0].status, ReconciliationRunStatus::Cancelled);
    assert_eq!(list.runs[1].accounts_processed, 120);

    let accepted: ReconciliationRun = captured("recon_run_trigger");
    assert_eq!(accepted.status, ReconciliationRunStatus::Running);
    assert_eq!(accepted.completed_at, None);
}

#[test]
fn reports_read_xavyos_nested_run_and_performance() {
    let report: ReconciliationReport = captured("seeded_recon_run_report");
    assert_eq!(
        report.run_id,
        RunId(uuid("ee565ea8-debc-41c0-a40f-41579aacba1b"))
    );
    assert_eq!(report.discrepancy_summary.total, 4);
    assert_eq!(
        report
            .discrepancy_summary
            .by_type
            .get(&DiscrepancyType::Orphan),
        Some(&1)
    );
    assert_eq!(report.discrepancy_summary.by_type.len(), 4);
    assert_eq!(report.action_summary.total, 0);
    assert_eq!(report.performance_metrics.total_duration_ms, 42_000);
    assert!((report.performance_metrics.accounts_per_second - 120.0 / 42.0).abs() < 1e-9);
    assert_eq!(report.performance_metrics.api_calls_made, None);

    let sample: ReconciliationReport = sample("reconciliation_report.json");
    assert_eq!(sample.performance_metrics.total_duration_ms, 12_500);
    assert_eq!(
        sample
            .discrepancy_summary
            .by_type
            .get(&DiscrepancyType::Mismatch),
        Some(&20)
    );

    let json = serde_json::to_value(&sample).unwrap();
    let expected = [
        "run_id",
        "discrepancy_summary",
        "action_summary",
        "top_mismatched_attributes",
        "performance_metrics",
    ];
    assert_eq!(
        keys(&json),
        expected.into_iter().collect(),
        "canonical report shape"
    );
    assert_eq!(
        keys(&json["action_summary"]),
        ["by_action", "total"].into_iter().collect()
    );

    let counted: ReconciliationReport = serde_json::from_value(json!({
        "run": {"id": Uuid::nil()},
        "top_mismatched_attributes": [{"attribute": "mail", "count": 3}],
        "action_summary": {"total": 2, "by_type": {"update": 2}, "by_result": {"success": 2}}
    }))
    .unwrap();
    assert_eq!(counted.top_mismatched_attributes[0].attribute_name, "mail");
    assert_eq!(counted.action_summary.by_action.get("update"), Some(&2));
}

#[test]
fn discrepancies_read_detected_at_and_null_attributes() {
    let one: Discrepancy = captured("seeded_recon_discrepancy_get");
    assert_eq!(one.connector_id, None, "xavyo-idp sends no connector_id");
    assert_eq!(one.created_at, at("2026-11-23T04:30:40.813791Z"));
    assert_eq!(one.mismatched_attributes["title"].xavyo, "Engineer");
    assert_eq!(one.mismatched_attributes["title"].target, "Intern");
    assert_eq!(one.suggested_actions, [RemediationAction::Update]);

    let after: DiscrepancyList = captured("seeded_recon_discrepancies_after");
    assert_eq!(after.total, 4);
    let missing = &after.discrepancies[0];
    assert_eq!(missing.resolution_status, ResolutionStatus::Resolved);
    assert_eq!(missing.resolved_action, Some(RemediationAction::Create));
    assert!(
        missing.mismatched_attributes.is_empty(),
        "null reads as no attributes"
    );
    assert_eq!(
        after.discrepancies[1].suggested_actions,
        [RemediationAction::Link, RemediationAction::Delete]
    );
    assert_eq!(
        after.discrepancies[3].resolution_status,
        ResolutionStatus::Ignored
    );
}

#[test]
fn remediation_results_read_xavyos_result_strings() {
    let dry: RemediationResult = captured("seeded_recon_discrepancy_remediate_dry");
    assert!(dry.success && dry.dry_run && !dry.skipped);
    assert_eq!(
        (dry.direction, dry.error.as_deref(), dry.changes.as_ref()),
        (None, None, None)
    );

    let sample: RemediationResult = sample("remediation_result.json");
    assert_eq!(
        sample.changes,
        Some(
            json!({"before": {"mail": "jdoe@old.example.com"}, "after": {"mail": "john.doe@example.com"}})
        )
    );

    let failed: RemediationResult = serde_json::from_value(json!({
        "discrepancy_id": Uuid::nil(), "action": "delete", "result": "failure",
        "error_message": "HTTP 403 from target", "dry_run": false
    }))
    .unwrap();
    assert!(!failed.success);
    assert_eq!(failed.error.as_deref(), Some("HTTP 403 from target"));
}

#[test]
fn bulk_results_read_xavyos_summary() {
    let bulk: BulkRemediateResponse = captured("seeded_recon_discrepancies_bulk_remediate");
    assert_eq!(
        (bulk.total, bulk.succeeded, bulk.failed, bulk.skipped),
        (1, 1, 0, 0)
    );
    assert_eq!(bulk.results[0].action, RemediationAction::Delete);
    assert!(bulk.results[0].success && bulk.results[0].dry_run);

    let sample: BulkRemediateResponse = sample("bulk_remediate.json");
    assert_eq!((sample.total, sample.succeeded, sample.failed), (1, 1, 0));

    // Without counts, they are taken from the results.
    let uncounted: BulkRemediateResponse = serde_json::from_value(json!({"results": [
        {"discrepancy_id": Uuid::nil(), "action": "update", "direction": "xavyo_to_target", "success": true,
         "dry_run": false},
        {"discrepancy_id": Uuid::nil(), "action": "link", "success": false, "error": "boom"},
        {"discrepancy_id": Uuid::nil(), "action": "update", "success": false, "skipped": true,
         "reason": "already resolved"}
    ]}))
    .unwrap();
    assert_eq!(
        (
            uncounted.total,
            uncounted.succeeded,
            uncounted.failed,
            uncounted.skipped
        ),
        (3, 1, 1, 1)
    );
    assert_eq!(
        uncounted.results[2].reason.as_deref(),
        Some("already resolved")
    );
}

#[test]
fn previews_read_xavyos_items() {
    let preview: PreviewResponse = captured("seeded_recon_discrepancy_preview");
    assert_eq!(preview.previews.len(), 3);
    let orphan = &preview.previews[1];
    assert_eq!(orphan.discrepancy_type, Some(DiscrepancyType::Orphan));
    assert_eq!(orphan.suggested_action, RemediationAction::Link);
    assert_eq!(orphan.suggested_direction, None);
    assert_eq!(
        orphan.changes,
        Some(json!({"external_uid": "uid=ghost,ou=people", "identity_id": null}))
    );
}

#[test]
fn actions_read_executed_by_and_states() {
    let seeded: ActionList = captured("seeded_recon_actions");
    assert_eq!((seeded.total, seeded.actions.len()), (3, 3));
    let first = &seeded.actions[0];
    assert_eq!(
        first.performed_by,
        Some(UserId(uuid("e3343f33-7042-4ea8-8eec-b6a47b67d325")))
    );
    assert_eq!(first.performed_at, at("2026-11-24T04:30:44.128134Z"));
    assert_eq!(
        (
            first.action_type.as_str(),
            first.result.as_str(),
            first.dry_run
        ),
        ("delete", "success", true)
    );
    assert_eq!(first.details, None, "all-null states leave no details");

    let sample: ActionList = sample("actions_list.json");
    assert_eq!(
        sample.actions[0].details.as_ref().unwrap()["after_state"]["mail"],
        "john.doe@example.com"
    );
}

#[test]
fn schedules_and_trends_read() {
    let schedule: ReconciliationSchedule = captured("recon_schedule_get");
    assert_eq!(schedule.frequency, ScheduleFrequency::Daily);
    assert_eq!((schedule.hour_of_day, schedule.enabled), (2, true));
    assert_eq!(
        (
            schedule.connector_name.as_deref(),
            schedule.updated_at,
            schedule.last_run_at
        ),
        (None, None, None)
    );

    let list: ScheduleList = captured("recon_schedules_list");
    assert_eq!(list.schedules, [schedule]);

    let trend: Trend = captured("seeded_recon_trend");
    assert_eq!(trend.connector_id, None);
    assert_eq!(
        trend.data_points[0].date,
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    );
    assert_eq!(trend.data_points[0].total, 4);
    assert_eq!(
        trend.data_points[0].by_type.get(&DiscrepancyType::Unlinked),
        Some(&1)
    );
    let by_connector: Trend = captured("seeded_recon_trend_by_connector");
    assert_eq!(
        by_connector.connector_id,
        Some(ConnectorId(uuid("b34b07a1-8b95-4b39-8838-50bb118884d4")))
    );
    let empty: Trend = captured("recon_trend");
    assert!(empty.data_points.is_empty() && empty.from < empty.to);
}

#[test]
fn conflicts_read_xavyos_names() {
    let list: ConflictList = sample("conflicts_list.json");
    assert_eq!(
        (list.total, list.pending_count, list.limit),
        (None, Some(1), Some(50))
    );
    let conflict = &list.conflicts[0];
    assert_eq!(
        conflict.operation_id_a,
        OperationId(uuid("0b5c2d3e-4f50-4a61-8b72-000000000001"))
    );
    assert_eq!(
        conflict.operation_id_b,
        Some(OperationId(uuid("0b5c2d3e-4f50-4a61-8b72-000000000002")))
    );
    assert_eq!(conflict.tenant_id, None);
    assert!(conflict.is_pending());
    assert_eq!(conflict.created_at, at("2026-11-20T10:05:00Z"));
    assert_eq!(conflict.affected_attributes, ["email", "displayName"]);

    let resolved: ProvisioningConflict = captured("seeded_operation_conflict_resolve");
    assert_eq!(resolved.status, "resolved");
    assert_eq!(resolved.outcome, Some(ConflictOutcome::Applied));
    assert_eq!(resolved.notes.as_deref(), Some("keep xavyo value"));
    assert!(resolved.resolved_by.is_some() && resolved.resolved_at.is_some());

    let json = serde_json::to_value(&resolved).unwrap();
    for canonical in [
        "operation_id_a",
        "operation_id_b",
        "status",
        "outcome",
        "created_at",
        "tenant_id",
    ] {
        assert!(
            json.get(canonical).is_some(),
            "canonical conflict has {canonical}"
        );
    }
    for xavyo in [
        "operation_id",
        "is_pending",
        "resolution_outcome",
        "detected_at",
    ] {
        assert!(
            json.get(xavyo).is_none(),
            "canonical conflict has no {xavyo}"
        );
    }

    // xavyo-idp's outcome enum also has `pending`; it reads as no outcome.
    let mut pending = capture("seeded_operation_conflict_get")["body"].clone();
    pending["resolution_outcome"] = "pending".into();
    pending["conflicting_operation_id"] = Value::Null;
    let pending: ProvisioningConflict = serde_json::from_value(pending).unwrap();
    assert_eq!((pending.outcome, pending.operation_id_b), (None, None));
}

#[test]
fn operation_shapes_xavyo_answers() {
    let logs: LogList = sample("operation_logs.json");
    assert_eq!(logs.logs.len(), 1, "the bare array reads");
    assert_eq!(logs.logs[0].level, "error");
    assert!(logs.logs[0].message.contains("connection refused"));
    assert!(captured::<LogList>("operation_logs").logs.is_empty());

    let dlq: OperationList = captured("seeded_operations_dlq");
    assert_eq!(
        (dlq.total, dlq.limit, dlq.operations.len()),
        (None, Some(50), 2)
    );
    assert!(dlq
        .operations
        .iter()
        .all(|op| op.status == OperationStatus::DeadLetter));

    let failed: ProvisioningOperation = captured("seeded_operation_failed_get");
    assert_eq!(
        (failed.status, failed.retry_count, failed.priority),
        (OperationStatus::Failed, 3, 5)
    );
    assert_eq!(failed.connector_name, None);
}

#[test]
fn connectors_read_xavyos_items() {
    let list: ConnectorList = captured("connectors_list");
    assert_eq!((list.total, list.connectors.len()), (Some(1), 1));
    assert_eq!(list.connectors[0].status, ConnectorStatus::Inactive);
    assert!(
        list.connectors[0].credentials_valid,
        "xavyo-idp does not say; assumed valid"
    );
    let one: Connector = captured("connector_get");
    assert_eq!(
        (one.name.as_str(), one.connector_type.as_str()),
        ("HR REST (demo)", "rest")
    );
    assert_eq!(
        captured::<Connector>("connector_activate").status,
        ConnectorStatus::Active
    );
}

#[test]
fn error_bodies_give_a_message_a_person_can_read() {
    let message = |name: &str| error_message(&capture(name)["body"]).unwrap();
    assert_eq!(
        message("recon_run_trigger_again"),
        "conflict: A reconciliation is already running for this connector"
    );
    assert_eq!(
        message("err_login_wrong_password"),
        "The provided credentials are invalid."
    );
    assert_eq!(
        message("err_no_token_operations"),
        "Missing Authorization header"
    );
    assert_eq!(message("err_missing_tenant_header"), "(empty reply)");
    assert!(message("err_operation_bad_id").starts_with("Invalid URL"));
    assert!(message("seeded_bug_operations_stats_with_completed_op").contains("no HTTP response"));

    let conflict: ErrorBody = captured("recon_run_trigger_again");
    assert_eq!(conflict.error, "conflict");
    let problem: ProblemDetails = sample("error_auth_problem.json");
    assert_eq!(problem.status, Some(401));
    assert!(error_message(&json!([1, 2])).is_err());
    assert!(error_message(&json!({"unexpected": true})).is_err());
}

#[test]
fn our_requests_match_what_xavyo_accepted() {
    let sent = |name: &str| capture(name)["request_body"].clone();
    let trigger = TriggerRun {
        mode: ReconciliationMode::Full,
        dry_run: true,
    };
    assert_eq!(
        serde_json::to_value(trigger).unwrap(),
        sent("recon_run_trigger")
    );

    let resolve = ResolveConflict {
        outcome: ConflictOutcome::Applied,
        notes: Some("keep xavyo value".into()),
    };
    assert_eq!(
        serde_json::to_value(&resolve).unwrap(),
        sent("seeded_operation_conflict_resolve")
    );

    let schedule = UpsertSchedule {
        mode: ReconciliationMode::Full,
        frequency: ScheduleFrequency::Daily,
        day_of_week: None,
        day_of_month: None,
        hour_of_day: 2,
        cron_expression: None,
        enabled: true,
    };
    assert_eq!(
        serde_json::to_value(&schedule).unwrap(),
        sent("recon_schedule_put")
    );

    let preview: PreviewRequest =
        serde_json::from_value(sent("seeded_recon_discrepancy_preview")).unwrap();
    assert_eq!(
        serde_json::to_value(&preview).unwrap(),
        sent("seeded_recon_discrepancy_preview")
    );
}

// ---------------------------------------------------------------------------------------------------------------
// Canonical round trips
// ---------------------------------------------------------------------------------------------------------------

/// Serialises `value`, checks it reads back equal, and returns the JSON.
fn round_trips<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T) -> Value {
    let json = serde_json::to_value(value)
        .unwrap_or_else(|err| panic!("{} does not serialise: {err}", type_name::<T>()));
    let back: T = serde_json::from_value(json.clone())
        .unwrap_or_else(|err| panic!("{} does not read its own {json}: {err}", type_name::<T>()));
    assert_eq!(
        &back,
        value,
        "{} round trip through {json}",
        type_name::<T>()
    );
    json
}

/// A query serialises to a flat object of scalars, without its unset filters.
fn query_string_shaped<T: Serialize + DeserializeOwned + PartialEq + Debug + Default>(set: &T) {
    assert_eq!(
        round_trips(&T::default()),
        json!({}),
        "{}: unset filters are left out",
        type_name::<T>()
    );
    let json = round_trips(set);
    assert!(
        json.as_object()
            .unwrap()
            .values()
            .all(|v| !v.is_object() && !v.is_array() && !v.is_null()),
        "{}: a query string holds scalars only: {json}",
        type_name::<T>()
    );
}

fn id<T: From<Uuid>>(n: u128) -> T {
    Uuid::from_u128(n).into()
}

fn run() -> ReconciliationRun {
    ReconciliationRun {
        id: id(1),
        connector_id: id(2),
        mode: ReconciliationMode::Delta,
        dry_run: Some(true),
        status: ReconciliationRunStatus::Failed,
        started_at: Some(at("2026-11-20T02:00:00Z")),
        completed_at: Some(at("2026-11-20T02:00:12.5Z")),
        accounts_total: 1200,
        accounts_processed: 600,
        discrepancies_found: 7,
        duration_seconds: Some(12.5),
        created_by: Some(id(3)),
        error_message: Some("target unreachable".into()),
    }
}

fn discrepancy() -> Discrepancy {
    Discrepancy {
        id: id(10),
        connector_id: Some(id(2)),
        run_id: id(1),
        discrepancy_type: DiscrepancyType::Mismatch,
        identity_id: Some(id(3)),
        external_uid: Some("uid=jdoe,ou=people".into()),
        attribute_name: Some("mail".into()),
        expected_value: Some("john.doe@example.com".into()),
        actual_value: Some("jdoe@old.example.com".into()),
        mismatched_attributes: BTreeMap::from([(
            "mail".to_owned(),
            AttributeValues {
                xavyo: json!("john.doe@example.com"),
                target: json!("jdoe@old.example.com"),
            },
        )]),
        suggested_actions: vec![RemediationAction::Update],
        candidate_identity_ids: vec![id(7), id(8)],
        resolution_status: ResolutionStatus::Resolved,
        resolved_action: Some(RemediationAction::Update),
        resolved_at: Some(at("2026-11-21T09:00:00Z")),
        resolved_by: Some(id(3)),
        created_at: at("2026-11-20T02:00:05Z"),
    }
}

fn remediation(skipped: bool) -> RemediationResult {
    RemediationResult {
        discrepancy_id: id(10),
        action: RemediationAction::Update,
        direction: Some(RemediationDirection::TargetToXavyo),
        success: !skipped,
        error: None,
        changes: (!skipped).then(|| json!({"mail": {"from": "a", "to": "b"}})),
        dry_run: false,
        skipped,
        reason: skipped.then(|| "already resolved".to_owned()),
    }
}

fn schedule(frequency: ScheduleFrequency) -> ReconciliationSchedule {
    ReconciliationSchedule {
        id: id(20),
        connector_id: id(2),
        connector_name: Some("HR".into()),
        mode: ReconciliationMode::Full,
        frequency,
        day_of_week: Some(1),
        day_of_month: None,
        hour_of_day: 2,
        cron_expression: (frequency == ScheduleFrequency::Cron).then(|| "0 2 * * 1".to_owned()),
        enabled: true,
        last_run_at: Some(at("2026-11-17T02:00:00Z")),
        last_run_id: Some(id(1)),
        last_outcome: Some("accepted".into()),
        next_run_at: Some(at("2026-11-24T02:00:00Z")),
        created_at: at("2026-11-01T00:00:00Z"),
        updated_at: Some(at("2026-11-02T00:00:00Z")),
    }
}

fn conflict(outcome: Option<ConflictOutcome>) -> ProvisioningConflict {
    ProvisioningConflict {
        id: id(30),
        tenant_id: Some(id(31)),
        operation_id_a: id(32),
        operation_id_b: Some(id(33)),
        conflict_type: "concurrent_update".into(),
        affected_attributes: vec!["title".into()],
        status: if outcome.is_some() {
            "resolved"
        } else {
            "pending"
        }
        .into(),
        outcome,
        notes: outcome.map(|_| "kept xavyo".to_owned()),
        created_at: at("2026-11-20T10:05:00Z"),
        resolved_at: outcome.map(|_| at("2026-11-20T11:00:00Z")),
        resolved_by: outcome.map(|_| id(3)),
    }
}

#[test]
fn reconciliation_dtos_round_trip() {
    let json = round_trips(&run());
    assert_eq!(json["accounts_processed"], 600);
    assert!(json.get("statistics").is_none() && json.get("triggered_by").is_none());
    round_trips(&ReconciliationRun {
        started_at: None,
        duration_seconds: None,
        created_by: None,
        ..run()
    });
    round_trips(&RunList {
        runs: vec![run()],
        total: 1,
        limit: Some(20),
        offset: Some(0),
    });
    round_trips(&TriggerRun {
        mode: ReconciliationMode::Full,
        dry_run: false,
    });

    round_trips(&ReconciliationReport {
        run_id: id(1),
        discrepancy_summary: DiscrepancySummary {
            total: 7,
            by_type: BTreeMap::from([(DiscrepancyType::Missing, 4), (DiscrepancyType::Deleted, 3)]),
        },
        action_summary: ActionSummary {
            total: 2,
            by_action: BTreeMap::from([("update".to_owned(), 2)]),
        },
        top_mismatched_attributes: vec![MismatchedAttribute {
            attribute_name: "mail".into(),
            count: 3,
        }],
        performance_metrics: PerformanceMetrics {
            total_duration_ms: 12_500,
            accounts_per_second: 96.0,
            api_calls_made: Some(40),
        },
    });

    round_trips(&discrepancy());
    let bare = round_trips(&Discrepancy {
        mismatched_attributes: BTreeMap::new(),
        resolved_action: None,
        ..discrepancy()
    });
    assert!(
        bare.get("resolved_action").is_none(),
        "xavyo-only extras are left out when unset"
    );
    round_trips(&DiscrepancyList {
        discrepancies: vec![discrepancy()],
        total: 1,
        limit: None,
        offset: None,
    });

    round_trips(&RemediateRequest {
        action: RemediationAction::Link,
        direction: RemediationDirection::XavyoToTarget,
        identity_id: Some(id(3)),
        dry_run: true,
    });
    let done = round_trips(&remediation(false));
    assert!(
        done.get("skipped").is_none() && done.get("reason").is_none(),
        "skip fields only when skipped"
    );
    assert_eq!(round_trips(&remediation(true))["skipped"], true);
    round_trips(&BulkRemediateRequest {
        items: vec![BulkItem {
            discrepancy_id: id(10),
            action: RemediationAction::Delete,
            direction: RemediationDirection::XavyoToTarget,
            identity_id: None,
        }],
        dry_run: true,
    });
    let bulk = round_trips(&BulkRemediateResponse {
        results: vec![remediation(false), remediation(true)],
        total: 2,
        succeeded: 1,
        failed: 0,
        skipped: 1,
    });
    assert!(bulk.get("summary").is_none());
    round_trips(&PreviewRequest {
        discrepancy_ids: vec![id(10), id(11)],
    });
    round_trips(&PreviewResponse {
        previews: vec![RemediationPreview {
            discrepancy_id: id(10),
            discrepancy_type: Some(DiscrepancyType::Missing),
            suggested_action: RemediationAction::Create,
            suggested_direction: Some(RemediationDirection::XavyoToTarget),
            changes: Some(json!({"mail": "john.doe@example.com"})),
        }],
    });

    let action = ReconciliationAction {
        id: id(40),
        connector_id: Some(id(2)),
        discrepancy_id: Some(id(10)),
        action_type: "update".into(),
        direction: Some(RemediationDirection::XavyoToTarget),
        result: "success".into(),
        dry_run: false,
        performed_by: Some(id(3)),
        performed_at: at("2026-11-21T09:00:00Z"),
        details: Some(json!({"before_state": {"mail": "a"}})),
    };
    round_trips(&action);
    round_trips(&ActionList {
        actions: vec![action],
        total: 1,
        limit: Some(20),
        offset: Some(0),
    });

    for frequency in ScheduleFrequency::ALL {
        round_trips(&schedule(frequency));
    }
    round_trips(&ScheduleList {
        schedules: vec![schedule(ScheduleFrequency::Weekly)],
    });
    round_trips(&UpsertSchedule {
        mode: ReconciliationMode::Delta,
        frequency: ScheduleFrequency::Cron,
        day_of_week: None,
        day_of_month: Some(31),
        hour_of_day: 23,
        cron_expression: Some("*/15 * * * *".into()),
        enabled: false,
    });

    let trend = round_trips(&Trend {
        data_points: vec![TrendPoint {
            date: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
            total: 4,
            by_type: BTreeMap::from([(DiscrepancyType::Collision, 4)]),
        }],
        connector_id: Some(id(2)),
        from: at("2026-10-25T00:00:00Z"),
        to: at("2026-11-24T00:00:00Z"),
    });
    assert_eq!(trend["data_points"][0]["date"], "2026-11-23");
}

#[test]
fn conflict_dtos_round_trip() {
    round_trips(&conflict(None));
    round_trips(&ProvisioningConflict {
        operation_id_b: None,
        tenant_id: None,
        ..conflict(None)
    });
    for outcome in ConflictOutcome::ALL {
        round_trips(&conflict(Some(outcome)));
    }
    round_trips(&ConflictList {
        conflicts: vec![conflict(None)],
        total: Some(1),
        pending_count: None,
        limit: Some(20),
        offset: Some(0),
    });
    round_trips(&ResolveConflict {
        outcome: ConflictOutcome::Merged,
        notes: None,
    });
}

#[test]
fn operation_and_connector_dtos_round_trip() {
    let operation = ProvisioningOperation {
        id: id(50),
        tenant_id: id(31),
        connector_id: id(2),
        connector_name: Some("HR".into()),
        user_id: id(3),
        operation_type: OperationType::Update,
        object_class: "user".into(),
        target_uid: Some("uid=jdoe".into()),
        status: OperationStatus::DeadLetter,
        priority: 1,
        retry_count: 10,
        max_retries: 10,
        error_message: Some("HTTP 403".into()),
        payload: Some(json!({"title": "Engineer"})),
        idempotency_key: Some("k".into()),
        next_retry_at: None,
        created_at: at("2026-11-20T10:00:00Z"),
        updated_at: at("2026-11-20T12:00:00Z"),
        started_at: Some(at("2026-11-20T10:00:01Z")),
        completed_at: None,
        resolution_notes: None,
        resolved_by: None,
        resolved_at: None,
    };
    round_trips(&operation);
    round_trips(&OperationList {
        operations: vec![operation],
        total: None,
        limit: Some(50),
        offset: Some(0),
    });
    round_trips(&QueueStatistics {
        pending: 1,
        success_rate: Some(99.0),
        ..Default::default()
    });
    round_trips(&AttemptList {
        attempts: vec![ExecutionAttempt {
            attempt_number: 1,
            started_at: at("2026-11-20T10:00:30Z"),
            completed_at: None,
            success: false,
            error_code: Some("CONNECTION_FAILED".into()),
            error_message: None,
            duration_ms: Some(1003),
        }],
        operation_id: id(50),
    });
    round_trips(&LogList {
        logs: vec![OperationLog {
            id: id(51),
            operation_id: id(50),
            timestamp: at("2026-11-20T10:00:31Z"),
            level: "warn".into(),
            message: "retrying".into(),
        }],
    });
    let connector = Connector {
        id: id(2),
        name: "HR".into(),
        connector_type: "rest".into(),
        status: ConnectorStatus::Offline,
        credentials_valid: false,
        created_at: None,
        capabilities: vec![Connector::FAULT_INJECTION.into()],
    };
    assert!(connector.supports(Connector::FAULT_INJECTION) && !connector.supports("teleport"));
    round_trips(&ConnectorList {
        connectors: vec![connector],
        total: Some(1),
        limit: None,
        offset: None,
    });
}

#[test]
fn queries_serialise_as_query_strings() {
    query_string_shaped(&RunQuery {
        mode: Some(ReconciliationMode::Delta),
        status: Some(ReconciliationRunStatus::Paused),
        limit: Some(20),
        offset: Some(40),
    });
    query_string_shaped(&DiscrepancyQuery {
        run_id: Some(id(1)),
        discrepancy_type: Some(DiscrepancyType::Orphan),
        resolution_status: Some(ResolutionStatus::Pending),
        identity_id: Some(id(3)),
        external_uid: Some("uid=x".into()),
        limit: Some(100),
        offset: Some(0),
    });
    query_string_shaped(&ActionQuery {
        discrepancy_id: Some(id(10)),
        action_type: Some("update".into()),
        result: Some("failure".into()),
        dry_run: Some(false),
        limit: Some(1),
        offset: Some(1),
    });
    query_string_shaped(&TrendQuery {
        connector_id: Some(id(2)),
        from: Some(at("2026-10-25T00:00:00Z")),
        to: Some(at("2026-11-24T00:00:00Z")),
    });
    query_string_shaped(&ConflictQuery {
        operation_id: Some(id(50)),
        conflict_type: Some(dto::enums::ConflictType::StaleData),
        pending_only: Some(true),
        limit: Some(10),
        offset: Some(10),
    });
    let partial = serde_json::to_value(RunQuery {
        status: Some(ReconciliationRunStatus::Running),
        ..Default::default()
    });
    assert_eq!(partial.unwrap(), json!({"status": "running"}));
}

#[test]
fn filters_xavyo_did_not_apply_are_found_from_its_rows() {
    // xavyo-idp answered every row to a list filtered by type, user and date: the rows say which filters it
    // ignored; `status` it did apply (every row here would contradict `pending` but one).
    let rows = captured::<OperationList>("seeded_operations_list").operations;
    let asked = OperationQuery {
        operation_type: Some(OperationType::Create),
        user_id: Some(UserId(uuid("00000000-0000-4000-8000-0000000000aa"))),
        from_date: Some("2026-11-24T00:00:00Z".parse().unwrap()),
        ..OperationQuery::default()
    };
    assert_eq!(
        asked.unapplied(&rows),
        vec!["user_id", "operation_type", "from_date"]
    );
    let kept: Vec<_> = rows.iter().filter(|op| asked.matches(op)).collect();
    assert!(kept.is_empty(), "no row is a create of that user: {kept:?}");

    // Filters the rows all meet were applied (or happen to hold): nothing to say.
    let creates: Vec<_> = rows
        .iter()
        .filter(|op| op.operation_type == OperationType::Create)
        .cloned()
        .collect();
    let by_type = OperationQuery {
        operation_type: Some(OperationType::Create),
        ..OperationQuery::default()
    };
    assert!(by_type.unapplied(&creates).is_empty());
    assert!(OperationQuery::default().unapplied(&rows).is_empty());
}

#[test]
fn xavyo_trend_is_zero_filled_over_its_range() {
    // xavyo-idp sends only the days with data: the console shows every day of the range.
    let trend: Trend = captured("seeded_recon_trend");
    assert_eq!(trend.data_points.len(), 1);
    let days = trend.every_day();
    assert_eq!(days.len(), 31, "2026-10-25 to 2026-11-24, both included");
    assert_eq!(
        days.first().unwrap().date,
        NaiveDate::from_ymd_opt(2026, 10, 25).unwrap()
    );
    assert_eq!(
        days.last().unwrap().date,
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    );
    assert_eq!(days.iter().map(|p| p.total).sum::<u64>(), 4);
    let found = days.iter().find(|p| p.total == 4).unwrap();
    assert_eq!(found.date, NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
    assert!(days.windows(2).all(|w| w[0].date < w[1].date));
}
