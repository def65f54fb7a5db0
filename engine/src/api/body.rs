//! JSON request bodies, read field by field so that every bad value answers a JSON `validation_error` naming
//! the field (axum's `Json` rejection answers text/plain and names nothing).

use std::str::FromStr;

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
};
use enums::UnknownVariant;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::ApiError;

/// A request body that is a JSON object; an empty body counts as `{}`.
#[derive(Debug, Default)]
pub struct JsonObject(Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|_| ApiError::validation("body", "the request body could not be read"))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(ApiError::validation(
                "body",
                "the body must be a JSON object",
            )),
            Err(_) => Err(ApiError::validation("body", "the body is not valid JSON")),
        }
    }
}

impl JsonObject {
    /// The field's value; null counts as absent.
    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    fn required<T>(name: &str, value: Option<T>) -> Result<T, ApiError> {
        value.ok_or_else(|| ApiError::validation(name, format!("{name} is required")))
    }

    /// A uuid field, as the typed id `T`.
    pub fn id<T: From<Uuid>>(&self, name: &str) -> Result<Option<T>, ApiError> {
        self.get(name)
            .map(|v| {
                v.as_str()
                    .and_then(|s| Uuid::parse_str(s).ok())
                    .map(T::from)
                    .ok_or_else(|| ApiError::validation(name, format!("{name} must be a uuid")))
            })
            .transpose()
    }

    /// A required uuid field.
    pub fn required_id<T: From<Uuid>>(&self, name: &str) -> Result<T, ApiError> {
        Self::required(name, self.id(name)?)
    }

    /// A field that must be a member of the enum `T` (snake_case wire spelling).
    pub fn member<T: FromStr<Err = UnknownVariant>>(
        &self,
        name: &str,
    ) -> Result<Option<T>, ApiError> {
        self.get(name)
            .map(|v| {
                let raw = v.as_str().unwrap_or_default();
                raw.parse::<T>().map_err(|e| {
                    ApiError::validation(
                        name,
                        format!("{name} must be one of: {} (got `{}`)", e.expected, v),
                    )
                })
            })
            .transpose()
    }

    /// A required enum field.
    pub fn required_member<T: FromStr<Err = UnknownVariant>>(
        &self,
        name: &str,
    ) -> Result<T, ApiError> {
        Self::required(name, self.member(name)?)
    }

    /// A string field, as sent (its rules are checked by whoever asks for it).
    pub fn string(&self, name: &str) -> Result<Option<String>, ApiError> {
        self.get(name)
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| ApiError::validation(name, format!("{name} must be a text")))
            })
            .transpose()
    }

    /// A string field of 1 to `max` characters, trimmed, without control characters.
    pub fn text(&self, name: &str, max: usize) -> Result<Option<String>, ApiError> {
        self.get(name)
            .map(|v| {
                let invalid = || {
                    ApiError::validation(
                        name,
                        format!("{name} must be a text of 1 to {max} characters"),
                    )
                };
                let text = v.as_str().map(str::trim).ok_or_else(invalid)?;
                if text.is_empty()
                    || text.chars().count() > max
                    || text.chars().any(|c| c.is_control() && c != '\n')
                {
                    return Err(invalid());
                }
                Ok(text.to_owned())
            })
            .transpose()
    }

    /// A whole-number field within `range`.
    pub fn integer(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Result<Option<i64>, ApiError> {
        self.get(name)
            .map(|v| {
                v.as_i64().filter(|n| range.contains(n)).ok_or_else(|| {
                    ApiError::validation(
                        name,
                        format!(
                            "{name} must be a whole number from {} to {}",
                            range.start(),
                            range.end()
                        ),
                    )
                })
            })
            .transpose()
    }

    /// A required whole-number field within `range`.
    pub fn required_integer(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Result<i64, ApiError> {
        Self::required(name, self.integer(name, range)?)
    }

    /// A required number field from `min` to `max`.
    pub fn required_number(&self, name: &str, min: f64, max: f64) -> Result<f64, ApiError> {
        let value = self.get(name).map(|v| {
            v.as_f64()
                .filter(|n| n.is_finite() && (min..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::validation(
                        name,
                        format!("{name} must be a number from {min} to {max}"),
                    )
                })
        });
        Self::required(name, value.transpose()?)
    }

    /// A required boolean field.
    pub fn required_bool(&self, name: &str) -> Result<bool, ApiError> {
        let value = self.get(name).map(|v| {
            v.as_bool()
                .ok_or_else(|| ApiError::validation(name, format!("{name} must be true or false")))
        });
        Self::required(name, value.transpose()?)
    }

    /// An array field.
    pub fn array(&self, name: &str) -> Result<Option<&Vec<Value>>, ApiError> {
        self.get(name)
            .map(|v| {
                v.as_array()
                    .ok_or_else(|| ApiError::validation(name, format!("{name} must be a list")))
            })
            .transpose()
    }

    /// An element of a list read as an object of its own; `None` when it is not an object.
    pub fn from_value(value: &Value) -> Option<Self> {
        value.as_object().map(|map| Self(map.clone()))
    }

    /// An optional boolean field.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        self.get(name)
            .map(|v| {
                v.as_bool().ok_or_else(|| {
                    ApiError::validation(name, format!("{name} must be true or false"))
                })
            })
            .transpose()
    }

    /// An object field of at most `max_bytes` once serialised.
    pub fn object(
        &self,
        name: &str,
        max_bytes: usize,
    ) -> Result<Option<Map<String, Value>>, ApiError> {
        self.get(name)
            .map(|v| match v {
                Value::Object(map) if v.to_string().len() <= max_bytes => Ok(map.clone()),
                Value::Object(_) => Err(ApiError::validation(
                    name,
                    format!("{name} must be at most {} KiB", max_bytes / 1024),
                )),
                _ => Err(ApiError::validation(
                    name,
                    format!("{name} must be a JSON object"),
                )),
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use enums::OperationType;
    use serde_json::json;

    use super::*;

    fn body(value: Value) -> JsonObject {
        match value {
            Value::Object(map) => JsonObject(map),
            _ => JsonObject::default(),
        }
    }

    fn field(err: ApiError) -> String {
        match err {
            ApiError::Validation { field, .. } => field,
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn each_bad_field_is_named() {
        let b = body(json!({
            "id": "nope", "kind": "bogus", "name": "", "n": 1.5, "rate": 2, "flag": "yes", "obj": [1],
        }));
        assert_eq!(field(b.id::<dto::UserId>("id").unwrap_err()), "id");
        assert_eq!(
            field(b.member::<OperationType>("kind").unwrap_err()),
            "kind"
        );
        assert_eq!(field(b.text("name", 10).unwrap_err()), "name");
        assert_eq!(field(b.integer("n", 0..=5).unwrap_err()), "n");
        assert_eq!(
            field(b.required_number("rate", 0.0, 1.0).unwrap_err()),
            "rate"
        );
        assert_eq!(field(b.required_bool("flag").unwrap_err()), "flag");
        assert_eq!(field(b.object("obj", 100).unwrap_err()), "obj");
        assert_eq!(field(b.required_bool("absent").unwrap_err()), "absent");
    }

    #[test]
    fn good_values_and_nulls() {
        let b = body(
            json!({"kind": "delete", "name": "  ada ", "n": 3, "none": null, "obj": {"a": 1}}),
        );
        assert_eq!(
            b.member::<OperationType>("kind").ok(),
            Some(Some(OperationType::Delete))
        );
        assert_eq!(b.text("name", 10).ok(), Some(Some("ada".to_owned())));
        assert_eq!(b.integer("n", 0..=5).ok(), Some(Some(3)));
        assert_eq!(b.text("none", 10).ok(), Some(None));
        assert!(b.object("obj", 100).is_ok_and(|o| o.is_some()));
        assert_eq!(field(b.object("obj", 4).unwrap_err()), "obj");
    }
}
