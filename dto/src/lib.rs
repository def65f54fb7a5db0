//! The provisioning API's data: entities, requests, responses, list pages, typed ids and the error body.
//!
//! wasm-safe (serde, uuid, chrono). Reads both our canonical shapes and xavyo-idp's (aliases, defaults and
//! `from` conversions); always writes the canonical shape.

#![allow(
    clippy::result_large_err,
    reason = "ErrorBody is the wire error, returned by value from cold validation paths"
)]

mod auth;
mod conflicts;
mod connectors;
mod error;
mod features;
mod ids;
mod operations;
mod reconciliation;
mod schedule;

pub use auth::*;
pub use conflicts::*;
pub use connectors::*;
pub use enums;
pub use error::*;
pub use features::*;
pub use ids::*;
pub use operations::*;
pub use reconciliation::*;
pub use schedule::*;

/// Canonical default page size.
pub const DEFAULT_LIMIT: u32 = 20;
/// Largest page a list endpoint serves.
pub const MAX_LIMIT: u32 = 100;
/// Most discrepancies one bulk remediation may carry.
pub const MAX_BULK_ITEMS: usize = 100;

/// Where a list page starts and how long it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PageRequest {
    /// Page size, 1..=100.
    pub limit: u32,
    /// Rows to skip.
    pub offset: u64,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            offset: 0,
        }
    }
}

impl PageRequest {
    /// Checks the limit is within 1..=100.
    pub fn validate(self) -> Result<Self, ErrorBody> {
        if self.limit == 0 || self.limit > MAX_LIMIT {
            return Err(ErrorBody::validation(
                "limit",
                format!(
                    "limit must be between 1 and {MAX_LIMIT}, got {}",
                    self.limit
                ),
            ));
        }
        Ok(self)
    }
}
