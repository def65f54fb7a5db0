//! Query strings and path ids, read by hand so that every bad value answers a JSON `validation_error` naming
//! the parameter (axum's own `Query`/`Path` rejections answer text/plain).

use std::{collections::HashMap, str::FromStr};

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use dto::{PageRequest, DEFAULT_LIMIT};
use enums::UnknownVariant;
use uuid::Uuid;

use crate::ApiError;

/// The query string as distinct name/value pairs. An empty value counts as absent (an unset form field).
#[derive(Debug, Default)]
pub struct QueryParams(HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(pairs) = Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::validation("query", "the query string is malformed"))?;
        let mut params = HashMap::with_capacity(pairs.len());
        for (name, value) in pairs {
            if params.contains_key(&name) {
                return Err(ApiError::validation(
                    name.as_str(),
                    format!("{name} is given more than once"),
                ));
            }
            params.insert(name, value);
        }
        Ok(Self(params))
    }
}

impl QueryParams {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    /// A uuid parameter, as the typed id `T`.
    pub fn id<T: From<Uuid>>(&self, name: &str) -> Result<Option<T>, ApiError> {
        self.get(name)
            .map(|raw| {
                Uuid::parse_str(raw)
                    .map(T::from)
                    .map_err(|_| ApiError::validation(name, format!("{name} must be a uuid")))
            })
            .transpose()
    }

    /// A parameter that must be a member of the enum `T` (snake_case wire spelling).
    pub fn member<T: FromStr<Err = UnknownVariant>>(
        &self,
        name: &str,
    ) -> Result<Option<T>, ApiError> {
        self.get(name)
            .map(|raw| {
                raw.parse::<T>().map_err(|e| {
                    ApiError::validation(
                        name,
                        format!("{name} must be one of: {} (got `{}`)", e.expected, e.value),
                    )
                })
            })
            .transpose()
    }

    /// An RFC 3339 time. A `+` that the query encoding turned into a space is read back as `+`.
    pub fn time(&self, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        self.get(name)
            .map(|raw| {
                DateTime::parse_from_rfc3339(raw)
                    .or_else(|e| {
                        if raw.contains(' ') {
                            DateTime::parse_from_rfc3339(&raw.replace(' ', "+"))
                        } else {
                            Err(e)
                        }
                    })
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| {
                        ApiError::validation(
                            name,
                            format!("{name} must be an RFC 3339 time, e.g. 2026-11-24T00:00:00Z"),
                        )
                    })
            })
            .transpose()
    }

    /// `true` or `false`.
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        self.get(name)
            .map(|raw| match raw {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(ApiError::validation(
                    name,
                    format!("{name} must be true or false"),
                )),
            })
            .transpose()
    }

    /// A parameter that must be one of `allowed`.
    pub fn one_of(&self, name: &str, allowed: &[&str]) -> Result<Option<String>, ApiError> {
        self.get(name)
            .map(|raw| {
                if allowed.contains(&raw) {
                    Ok(raw.to_owned())
                } else {
                    Err(ApiError::validation(
                        name,
                        format!(
                            "{name} must be one of: {} (got `{raw}`)",
                            allowed.join(", ")
                        ),
                    ))
                }
            })
            .transpose()
    }

    /// A free-text parameter of at most `max` characters.
    pub fn text(&self, name: &str, max: usize) -> Result<Option<String>, ApiError> {
        self.get(name)
            .map(|raw| {
                if raw.chars().count() > max || raw.chars().any(char::is_control) {
                    Err(ApiError::validation(
                        name,
                        format!("{name} must be at most {max} printable characters"),
                    ))
                } else {
                    Ok(raw.to_owned())
                }
            })
            .transpose()
    }

    /// `limit`, unchecked against the maximum (see [`PageRequest::validate`]).
    pub fn limit(&self) -> Result<Option<u32>, ApiError> {
        self.get("limit")
            .map(|raw| {
                raw.parse::<u32>().map_err(|_| {
                    ApiError::validation(
                        "limit",
                        format!("limit must be a whole number from 1 to {}", dto::MAX_LIMIT),
                    )
                })
            })
            .transpose()
    }

    /// `offset`: a whole number of rows to skip.
    pub fn offset(&self) -> Result<Option<u64>, ApiError> {
        self.get("offset")
            .map(|raw| {
                raw.parse::<u64>()
                    .ok()
                    .filter(|&n| i64::try_from(n).is_ok())
                    .ok_or_else(|| {
                        ApiError::validation("offset", "offset must be a whole number, 0 or more")
                    })
            })
            .transpose()
    }

    /// `limit` (default 20, 1..=100) and `offset` (default 0), checked.
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        let page = PageRequest {
            limit: self.limit()?.unwrap_or(DEFAULT_LIMIT),
            offset: self.offset()?.unwrap_or(0),
        };
        Ok(page.validate()?)
    }
}

/// A uuid path segment as the typed id `T`; anything else answers 400 naming `id`.
#[derive(Debug, Clone, Copy)]
pub struct PathId<T>(pub T);

impl<S: Send + Sync, T: From<Uuid>> FromRequestParts<S> for PathId<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let invalid = || ApiError::validation("id", "the id in the path must be a uuid");
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| invalid())?;
        Uuid::parse_str(&raw)
            .map(|id| Self(T::from(id)))
            .map_err(|_| invalid())
    }
}

/// Two uuid path segments, the connector's id and a child's, as typed ids; anything else answers 400 naming
/// `id` or `child` (the child's parameter name, e.g. `run_id`).
#[derive(Debug, Clone, Copy)]
pub struct PathIds<A, B>(pub A, pub B);

/// Names the second segment of a [`PathIds`] in its errors.
pub trait ChildName {
    /// e.g. `run_id`.
    const NAME: &'static str;
}

impl ChildName for dto::RunId {
    const NAME: &'static str = "run_id";
}

impl ChildName for dto::DiscrepancyId {
    const NAME: &'static str = "discrepancy_id";
}

impl<S: Send + Sync, A: From<Uuid>, B: From<Uuid> + ChildName> FromRequestParts<S>
    for PathIds<A, B>
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path((first, second)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::validation("id", "the ids in the path must be uuids"))?;
        let first = Uuid::parse_str(&first)
            .map_err(|_| ApiError::validation("id", "the id in the path must be a uuid"))?;
        let second = Uuid::parse_str(&second).map_err(|_| {
            ApiError::validation(
                B::NAME,
                format!("the {} in the path must be a uuid", B::NAME),
            )
        })?;
        Ok(Self(A::from(first), B::from(second)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dto::ConnectorId;
    use enums::OperationStatus;

    fn params(pairs: &[(&str, &str)]) -> QueryParams {
        QueryParams(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    fn field(err: ApiError) -> String {
        match err {
            ApiError::Validation { field, .. } => field,
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn empty_values_are_absent() {
        let p = params(&[("status", ""), ("limit", " ")]);
        assert_eq!(p.member::<OperationStatus>("status").ok(), Some(None));
        assert_eq!(p.page().ok(), Some(PageRequest::default()));
    }

    #[test]
    fn bad_values_name_their_parameter() {
        let p = params(&[
            ("status", "bogus"),
            ("connector_id", "x"),
            ("from_date", "yesterday"),
            ("limit", "abc"),
            ("offset", "-1"),
        ]);
        assert_eq!(
            field(p.member::<OperationStatus>("status").unwrap_err()),
            "status"
        );
        assert_eq!(
            field(p.id::<ConnectorId>("connector_id").unwrap_err()),
            "connector_id"
        );
        assert_eq!(field(p.time("from_date").unwrap_err()), "from_date");
        assert_eq!(field(p.limit().unwrap_err()), "limit");
        assert_eq!(field(p.offset().unwrap_err()), "offset");
        assert_eq!(
            field(params(&[("limit", "0")]).page().unwrap_err()),
            "limit"
        );
        assert_eq!(
            field(params(&[("limit", "101")]).page().unwrap_err()),
            "limit"
        );
        assert_eq!(
            field(
                params(&[("offset", "99999999999999999999")])
                    .page()
                    .unwrap_err()
            ),
            "offset"
        );
    }

    #[test]
    fn times_accept_a_plus_turned_into_a_space() {
        let p = params(&[("from_date", "2026-11-01T00:00:00 01:00")]);
        let t = p.time("from_date").expect("parses").expect("present");
        assert_eq!(t.to_rfc3339(), "2026-10-31T23:00:00+00:00");
    }
}
