//! Page state kept in the URL: parsing query strings into typed filters, and building links back.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use dto::{
    enums::RemediationAction, ActionQuery, ConnectorFilter, DiscrepancyQuery, OperationQuery,
    RunQuery, DEFAULT_LIMIT, MAX_LIMIT,
};
use leptos_router::params::ParamsMap;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::error::AppError;

fn non_empty<'a>(params: &'a ParamsMap, key: &str) -> Option<&'a str> {
    params.get_str(key).map(str::trim).filter(|v| !v.is_empty())
}

fn parse<T: std::str::FromStr>(
    params: &ParamsMap,
    key: &str,
    what: &str,
) -> Result<Option<T>, AppError> {
    non_empty(params, key)
        .map(|raw| {
            raw.parse::<T>()
                .map_err(|_| AppError::invalid(key, format!("`{raw}` is not a valid {what}.")))
        })
        .transpose()
}

/// A date filter: a day from a date input (`2026-11-24`, the whole day counts) or a full RFC 3339 time.
fn date(
    params: &ParamsMap,
    key: &str,
    end_of_day: bool,
) -> Result<Option<DateTime<Utc>>, AppError> {
    let Some(raw) = non_empty(params, key) else {
        return Ok(None);
    };
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(Some(at.with_timezone(&Utc)));
    }
    let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| AppError::invalid(key, format!("`{raw}` is not a date (YYYY-MM-DD).")))?;
    let time = if end_of_day {
        NaiveTime::from_hms_milli_opt(23, 59, 59, 999)
    } else {
        Some(NaiveTime::MIN)
    };
    Ok(time.map(|t| day.and_time(t).and_utc()))
}

/// The day part of a date filter, as a date input shows it.
pub fn date_input_value(at: Option<DateTime<Utc>>) -> String {
    at.map(|at| at.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The page size in the URL (`limit`, 1..=100), or the default.
fn limit(params: &ParamsMap) -> Result<u32, AppError> {
    let limit: Option<u32> = parse(params, "limit", "page size")?;
    match limit {
        Some(limit) if limit == 0 || limit > MAX_LIMIT => Err(AppError::invalid(
            "limit",
            format!("The page size must be between 1 and {MAX_LIMIT}."),
        )),
        other => Ok(other.unwrap_or(DEFAULT_LIMIT)),
    }
}

/// Reads the operations page's filters from the URL. Unknown values are refused here, before any call.
pub fn operation_query(params: &ParamsMap) -> Result<OperationQuery, AppError> {
    let limit = Some(limit(params)?);
    let query = OperationQuery {
        connector_id: parse(params, "connector_id", "connector id")?,
        user_id: parse(params, "user_id", "user id")?,
        status: parse(params, "status", "operation status")?,
        operation_type: parse(params, "operation_type", "operation type")?,
        from_date: date(params, "from_date", false)?,
        to_date: date(params, "to_date", true)?,
        sort: parse(params, "sort", "sort order")?,
        limit,
        offset: Some(parse(params, "offset", "offset")?.unwrap_or(0)),
    };
    query.validate().map_err(AppError::from)?;
    Ok(query)
}

/// Reads the dead-letter page's connector filter and offset from the URL.
pub fn dead_letter_filter(params: &ParamsMap) -> Result<ConnectorFilter, AppError> {
    Ok(ConnectorFilter {
        connector_id: parse(params, "connector_id", "connector id")?,
        limit: Some(DEFAULT_LIMIT),
        offset: Some(parse(params, "offset", "offset")?.unwrap_or(0)),
    })
}

/// Reads the conflicts page's filters and page from the URL. Unknown values are refused here, before any call.
pub fn conflict_query(params: &ParamsMap) -> Result<dto::ConflictQuery, AppError> {
    Ok(dto::ConflictQuery {
        operation_id: parse(params, "operation_id", "operation id (a UUID)")?,
        conflict_type: parse(params, "conflict_type", "conflict type")?,
        pending_only: parse(params, "pending_only", "choice (true or false)")?,
        limit: Some(limit(params)?),
        offset: Some(parse(params, "offset", "offset")?.unwrap_or(0)),
    })
}

/// Reads the reconciliation runs page's filters and page from the URL.
pub fn run_query(params: &ParamsMap) -> Result<RunQuery, AppError> {
    Ok(RunQuery {
        mode: parse(params, "mode", "reconciliation mode")?,
        status: parse(params, "status", "run status")?,
        limit: Some(limit(params)?),
        offset: Some(parse(params, "offset", "offset")?.unwrap_or(0)),
    })
}

/// Reads the discrepancies page's filters and page from the URL. Unknown values are refused here, before any
/// call (xavyo-idp answers an unknown type with an empty list rather than an error).
pub fn discrepancy_query(params: &ParamsMap) -> Result<DiscrepancyQuery, AppError> {
    Ok(DiscrepancyQuery {
        run_id: parse(params, "run_id", "run id (a UUID)")?,
        discrepancy_type: parse(params, "discrepancy_type", "discrepancy type")?,
        resolution_status: parse(params, "resolution_status", "resolution status")?,
        identity_id: parse(params, "identity_id", "identity id (a UUID)")?,
        external_uid: non_empty(params, "external_uid").map(str::to_owned),
        limit: Some(limit(params)?),
        offset: Some(parse(params, "offset", "offset")?.unwrap_or(0)),
    })
}

/// What the audit log's `action_type` holds besides a remediation action: an ignored discrepancy. (The shared
/// crates have no enum for the audit log's action types and results yet; these spell the contract's values.)
pub const IGNORE_ACTION: &str = "ignore";
/// The results an audit log entry can have.
pub const ACTION_RESULTS: [&str; 2] = ["success", "failure"];

/// Reads the audit log page's filters and page from the URL.
pub fn action_query(params: &ParamsMap) -> Result<ActionQuery, AppError> {
    let action_type = non_empty(params, "action_type")
        .map(|raw| {
            if raw == IGNORE_ACTION || raw.parse::<RemediationAction>().is_ok() {
                Ok(raw.to_owned())
            } else {
                Err(AppError::invalid(
                    "action_type",
                    format!("`{raw}` is not a remediation action or `{IGNORE_ACTION}`."),
                ))
            }
        })
        .transpose()?;
    let result = non_empty(params, "result")
        .map(|raw| {
            if ACTION_RESULTS.contains(&raw) {
                Ok(raw.to_owned())
            } else {
                Err(AppError::invalid(
                    "result",
                    format!("`{raw}` is not a result ({}).", ACTION_RESULTS.join(", ")),
                ))
            }
        })
        .transpose()?;
    Ok(ActionQuery {
        discrepancy_id: parse(params, "discrepancy_id", "discrepancy id (a UUID)")?,
        action_type,
        result,
        dry_run: parse(params, "dry_run", "dry-run flag (true or false)")?,
        limit: Some(limit(params)?),
        offset: Some(parse(params, "offset", "offset")?.unwrap_or(0)),
    })
}

/// The parameters of a query string (`?a=1&b=x%20y`, the `?` optional), decoded as a browser encodes a GET
/// form (`+` for a space, percent escapes).
pub fn from_query(query: &str) -> ParamsMap {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    let mut params = ParamsMap::new();
    for pair in query
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        params.insert(decode(key), decode(value));
    }
    params
}

/// The current URL's query with `changes` applied (`None` removes a key); empty values are dropped.
pub fn with_params(params: &ParamsMap, changes: &[(&str, Option<String>)]) -> String {
    let mut pairs: Vec<(String, String)> = params
        .clone()
        .into_iter()
        .filter(|(k, v)| !v.is_empty() && !changes.iter().any(|(c, _)| c == k))
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    for (key, value) in changes {
        if let Some(value) = value {
            pairs.push(((*key).to_owned(), value.clone()));
        }
    }
    pairs.sort();
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
        .collect();
    if query.is_empty() {
        String::new()
    } else {
        format!("?{}", query.join("&"))
    }
}

/// Characters kept as they are in a query value: RFC 3986 unreserved, plus `/` so paths stay readable.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// Percent-encodes `s` for use as a query-string key or value.
pub fn url_encode(s: &str) -> String {
    utf8_percent_encode(s, QUERY_VALUE).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dto::enums::OperationStatus;

    fn map(pairs: &[(&str, &str)]) -> ParamsMap {
        let mut m = ParamsMap::new();
        for (k, v) in pairs {
            m.insert((*k).to_owned(), (*v).to_owned());
        }
        m
    }

    #[test]
    fn reads_filters_and_refuses_bad_values() {
        let q = operation_query(&map(&[("status", "failed"), ("offset", "40")])).unwrap();
        assert_eq!(q.status, Some(OperationStatus::Failed));
        assert_eq!(q.offset, Some(40));
        assert_eq!(q.limit, Some(DEFAULT_LIMIT));
        assert!(operation_query(&map(&[("status", "")]))
            .unwrap()
            .status
            .is_none());

        for (key, bad) in [
            ("status", "bogus"),
            ("connector_id", "x"),
            ("limit", "0"),
            ("limit", "1000"),
            ("from_date", "yesterday"),
        ] {
            match operation_query(&map(&[(key, bad)])) {
                Err(AppError::Validation { field, .. }) => assert_eq!(field.as_deref(), Some(key)),
                other => panic!("{key}={bad} gave {other:?}"),
            }
        }
    }

    #[test]
    fn date_inputs_become_whole_days_in_rfc_3339() {
        let q = operation_query(&map(&[
            ("from_date", "2026-11-01"),
            ("to_date", "2026-11-02"),
        ]))
        .unwrap();
        assert_eq!(
            q.from_date.unwrap().to_rfc3339(),
            "2026-11-01T00:00:00+00:00"
        );
        assert_eq!(
            q.to_date.unwrap().to_rfc3339(),
            "2026-11-02T23:59:59.999+00:00"
        );
        assert_eq!(date_input_value(q.from_date), "2026-11-01");
        let err = operation_query(&map(&[
            ("from_date", "2026-11-03"),
            ("to_date", "2026-11-02"),
        ]))
        .unwrap_err();
        assert!(matches!(err, AppError::Validation { field: Some(f), .. } if f == "from_date"));
    }

    #[test]
    fn dead_letter_filter_refuses_bad_values() {
        let f = dead_letter_filter(&map(&[("offset", "20")])).unwrap();
        assert_eq!(
            (f.connector_id, f.offset, f.limit),
            (None, Some(20), Some(DEFAULT_LIMIT))
        );
        for (key, bad) in [("connector_id", "x"), ("offset", "-1")] {
            match dead_letter_filter(&map(&[(key, bad)])) {
                Err(AppError::Validation { field, .. }) => assert_eq!(field.as_deref(), Some(key)),
                other => panic!("{key}={bad} gave {other:?}"),
            }
        }
    }

    #[test]
    fn reconciliation_filters_refuse_bad_values_before_any_call() {
        use dto::enums::{DiscrepancyType, ResolutionStatus};
        let q = discrepancy_query(&map(&[
            ("discrepancy_type", "mismatch"),
            ("resolution_status", "pending"),
            ("external_uid", "  alice.anders "),
            ("limit", "5"),
        ]))
        .unwrap();
        assert_eq!(q.discrepancy_type, Some(DiscrepancyType::Mismatch));
        assert_eq!(q.resolution_status, Some(ResolutionStatus::Pending));
        assert_eq!(q.external_uid.as_deref(), Some("alice.anders"));
        assert_eq!((q.limit, q.offset), (Some(5), Some(0)));
        for (key, bad) in [
            ("discrepancy_type", "bogus"),
            ("resolution_status", "done"),
            ("run_id", "42"),
            ("identity_id", "alice"),
            ("limit", "101"),
            ("offset", "x"),
        ] {
            match discrepancy_query(&map(&[(key, bad)])) {
                Err(AppError::Validation { field, .. }) => assert_eq!(field.as_deref(), Some(key)),
                other => panic!("{key}={bad} gave {other:?}"),
            }
        }

        let a = action_query(&map(&[
            ("action_type", "ignore"),
            ("result", "failure"),
            ("dry_run", "true"),
        ]))
        .unwrap();
        assert_eq!(
            (a.action_type.as_deref(), a.result.as_deref(), a.dry_run),
            (Some("ignore"), Some("failure"), Some(true))
        );
        assert_eq!(
            action_query(&map(&[("action_type", "inactivate_identity")]))
                .unwrap()
                .action_type
                .as_deref(),
            Some("inactivate_identity")
        );
        for (key, bad) in [
            ("action_type", "drop"),
            ("result", "ok"),
            ("dry_run", "yes"),
            ("discrepancy_id", "1"),
        ] {
            match action_query(&map(&[(key, bad)])) {
                Err(AppError::Validation { field, .. }) => assert_eq!(field.as_deref(), Some(key)),
                other => panic!("{key}={bad} gave {other:?}"),
            }
        }

        assert!(run_query(&map(&[("status", "running")])).is_ok());
        assert!(matches!(
            run_query(&map(&[("status", "sleeping")])),
            Err(AppError::Validation { field: Some(f), .. }) if f == "status"
        ));
    }

    #[test]
    fn query_strings_read_like_the_url_they_came_from() {
        let m = from_query("?discrepancy_type=mismatch&external_uid=alice+anders%2Fx&run_id=");
        assert_eq!(m.get_str("discrepancy_type"), Some("mismatch"));
        assert_eq!(m.get_str("external_uid"), Some("alice anders/x"));
        assert_eq!(m.get_str("run_id"), Some(""));
        let q = discrepancy_query(&from_query(&with_params(&m, &[]))).unwrap();
        assert_eq!(q.external_uid.as_deref(), Some("alice anders/x"));
        assert!(from_query("").get_str("x").is_none());
    }

    #[test]
    fn links_keep_other_params() {
        let m = map(&[("status", "failed"), ("offset", "20")]);
        assert_eq!(
            with_params(&m, &[("offset", Some("40".into()))]),
            "?offset=40&status=failed"
        );
        assert_eq!(with_params(&m, &[("offset", None)]), "?status=failed");
        assert_eq!(with_params(&ParamsMap::new(), &[]), "");
    }
}
