//! Typed ids: a uuid that knows what it names.

use std::{fmt, str::FromStr};
use uuid::Uuid;

macro_rules! typed_id {
    ($($(#[$meta:meta])* $name:ident;)+) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// The underlying uuid.
            pub const fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }
    )+};
}

typed_id! {
    /// A tenant of the identity platform.
    TenantId;
    /// A user (identity) of the platform.
    UserId;
    /// A connected target system.
    ConnectorId;
    /// A provisioning operation.
    OperationId;
    /// A provisioning conflict between two operations.
    ConflictId;
    /// A reconciliation run.
    RunId;
    /// A discrepancy found by a run.
    DiscrepancyId;
    /// A reconciliation schedule.
    ScheduleId;
    /// An entry of the reconciliation audit log.
    ActionId;
    /// An execution attempt or a log entry.
    EntryId;
}
