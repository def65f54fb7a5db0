//! Every enum of the provisioning data model, as spelled on the wire (snake_case).
//!
//! wasm-safe: only `serde` and `thiserror`. Each enum has `as_str`, `Display`, `FromStr` with a typed error,
//! `ALL` (every member, in display order) and `label()` for people.

use std::fmt;

/// A string that is not a member of the named enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}` (expected one of: {expected})")]
pub struct UnknownVariant {
    /// Which enum was being parsed, e.g. `operation status`.
    pub kind: &'static str,
    /// The rejected input.
    pub value: String,
    /// The accepted spellings, comma separated.
    pub expected: String,
}

macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $kind:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal => $label:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $wire)] $variant ),+
        }

        impl $name {
            /// Every member, in display order.
            pub const ALL: [Self; [$($wire),+].len()] = [$(Self::$variant),+];

            /// The wire spelling.
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $wire),+ }
            }

            /// A short label for people.
            pub const fn label(self) -> &'static str {
                match self { $(Self::$variant => $label),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownVariant;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($wire => Ok(Self::$variant),)+
                    _ => Err(UnknownVariant {
                        kind: $kind,
                        value: s.to_owned(),
                        expected: [$($wire),+].join(", "),
                    }),
                }
            }
        }
    };
}

wire_enum! {
    /// What an operation does to the target account.
    OperationType, "operation type" {
        Create = "create" => "Create",
        Update = "update" => "Update",
        Delete = "delete" => "Delete",
    }
}

wire_enum! {
    /// Where an operation is in its lifecycle.
    OperationStatus, "operation status" {
        Pending = "pending" => "Pending",
        InProgress = "in_progress" => "In progress",
        Completed = "completed" => "Completed",
        Failed = "failed" => "Failed",
        DeadLetter = "dead_letter" => "Dead letter",
        AwaitingSystem = "awaiting_system" => "Awaiting system",
        Resolved = "resolved" => "Resolved",
        Cancelled = "cancelled" => "Cancelled",
    }
}

wire_enum! {
    /// What an administrator can do to an operation.
    OperationAction, "operation action" {
        Retry = "retry" => "Retry",
        Cancel = "cancel" => "Cancel",
        Resolve = "resolve" => "Resolve",
    }
}

impl OperationStatus {
    /// Whether an administrator may `action` an operation in this status: the one rule, used by the engine's
    /// lifecycle and by the console to decide which buttons to offer.
    pub const fn allows(self, action: OperationAction) -> bool {
        matches!(
            (action, self),
            (OperationAction::Retry, Self::Failed | Self::DeadLetter)
                | (OperationAction::Cancel, Self::Pending)
                | (OperationAction::Resolve, Self::DeadLetter)
        )
    }

    /// False while the operation moves on its own (queued, running, waiting for its system); true once only
    /// an administrator can change it.
    pub const fn is_settled(self) -> bool {
        !matches!(
            self,
            Self::Pending | Self::InProgress | Self::AwaitingSystem
        )
    }
}

wire_enum! {
    /// How a reconciliation run classified a difference between xavyo and the target.
    DiscrepancyType, "discrepancy type" {
        Missing = "missing" => "Missing",
        Orphan = "orphan" => "Orphan",
        Mismatch = "mismatch" => "Mismatch",
        Collision = "collision" => "Collision",
        Unlinked = "unlinked" => "Unlinked",
        Deleted = "deleted" => "Deleted",
    }
}

wire_enum! {
    /// What a remediation does.
    RemediationAction, "remediation action" {
        Create = "create" => "Create",
        Update = "update" => "Update",
        Delete = "delete" => "Delete",
        Link = "link" => "Link",
        Unlink = "unlink" => "Unlink",
        InactivateIdentity = "inactivate_identity" => "Inactivate identity",
    }
}

wire_enum! {
    /// Which side wins in a remediation.
    RemediationDirection, "remediation direction" {
        XavyoToTarget = "xavyo_to_target" => "xavyo → target",
        TargetToXavyo = "target_to_xavyo" => "target → xavyo",
    }
}

wire_enum! {
    /// Where a discrepancy is in its resolution.
    ResolutionStatus, "resolution status" {
        Pending = "pending" => "Pending",
        Resolved = "resolved" => "Resolved",
        Ignored = "ignored" => "Ignored",
    }
}

wire_enum! {
    /// How an admin settled a provisioning conflict.
    ConflictOutcome, "conflict outcome" {
        Applied = "applied" => "Applied",
        Superseded = "superseded" => "Superseded",
        Merged = "merged" => "Merged",
        Rejected = "rejected" => "Rejected",
    }
}

impl ConflictOutcome {
    /// Whether the operation a conflict held goes on to run (applied, merged) rather than being cancelled
    /// (superseded, rejected): the one rule, applied by the engine and explained by the console.
    pub const fn releases_held(self) -> bool {
        matches!(self, Self::Applied | Self::Merged)
    }
}

wire_enum! {
    /// Why two provisioning operations conflict (xavyo-idp's vocabulary; the engine's worker detects the first
    /// two, the others come from outside the queue).
    ConflictType, "conflict type" {
        ConcurrentUpdate = "concurrent_update" => "Concurrent update",
        MissingTarget = "missing_target" => "Missing target",
        StaleData = "stale_data" => "Stale data",
        ExternalChange = "external_change" => "External change",
    }
}

wire_enum! {
    /// How often a reconciliation schedule fires.
    ScheduleFrequency, "schedule frequency" {
        Hourly = "hourly" => "Hourly",
        Daily = "daily" => "Daily",
        Weekly = "weekly" => "Weekly",
        Monthly = "monthly" => "Monthly",
        Cron = "cron" => "Cron expression",
    }
}

wire_enum! {
    /// Whether a reconciliation run compares every account or only recent changes.
    ReconciliationMode, "reconciliation mode" {
        Full = "full" => "Full",
        Delta = "delta" => "Delta",
    }
}

wire_enum! {
    /// Where a reconciliation run is in its lifecycle.
    ReconciliationRunStatus, "reconciliation run status" {
        Pending = "pending" => "Pending",
        Running = "running" => "Running",
        Completed = "completed" => "Completed",
        Failed = "failed" => "Failed",
        Cancelled = "cancelled" => "Cancelled",
        Paused = "paused" => "Paused",
    }
}

wire_enum! {
    /// What an administrator can do to a reconciliation run.
    RunAction, "run action" {
        Cancel = "cancel" => "Cancel",
        Pause = "pause" => "Pause",
        Resume = "resume" => "Resume",
    }
}

impl ReconciliationRunStatus {
    /// Whether an administrator may `action` a run in this status: the one rule, used by the engine and by the
    /// console to decide which buttons to offer.
    pub const fn allows(self, action: RunAction) -> bool {
        matches!(
            (action, self),
            (
                RunAction::Cancel,
                Self::Pending | Self::Running | Self::Paused
            ) | (RunAction::Pause, Self::Running)
                | (RunAction::Resume, Self::Paused)
        )
    }

    /// True while the run holds its connector: queued, walking accounts, or paused with a checkpoint.
    pub const fn is_active(self) -> bool {
        matches!(self, Self::Pending | Self::Running | Self::Paused)
    }
}

impl DiscrepancyType {
    /// The remediations that fit this type, the suggested one first: the one rule that the engine enforces
    /// and the console offers.
    pub const fn remediations(self) -> &'static [RemediationAction] {
        use RemediationAction::*;
        match self {
            Self::Missing => &[Create],
            Self::Orphan => &[Delete, Link],
            Self::Mismatch => &[Update],
            Self::Collision => &[Link],
            Self::Unlinked => &[Link],
            Self::Deleted => &[Create, Unlink, InactivateIdentity],
        }
    }

    /// Whether `action` fits this type.
    pub fn allows(self, action: RemediationAction) -> bool {
        self.remediations().contains(&action)
    }

    /// Whether linking a discrepancy of this type needs the administrator to name the identity (an orphan has
    /// no candidate; a collision has several). An unlinked account already names its one match.
    pub const fn link_needs_identity(self) -> bool {
        matches!(self, Self::Orphan | Self::Collision)
    }
}

impl RemediationAction {
    /// The directions this action can take, the suggested one first. Creating, deleting and re-creating
    /// accounts write the target (xavyo wins); inactivating an identity writes xavyo (the target wins); an
    /// update goes either way; linking and unlinking change only the link, so either spelling is accepted.
    pub const fn directions(self) -> &'static [RemediationDirection] {
        use RemediationDirection::*;
        match self {
            Self::Create | Self::Delete => &[XavyoToTarget],
            Self::InactivateIdentity => &[TargetToXavyo],
            Self::Update | Self::Link | Self::Unlink => &[XavyoToTarget, TargetToXavyo],
        }
    }

    /// Whether this action may go in `direction`.
    pub fn allows(self, direction: RemediationDirection) -> bool {
        self.directions().contains(&direction)
    }
}

wire_enum! {
    /// Whether a connector can take work. xavyo-idp also reports `inactive` and `error`.
    ConnectorStatus, "connector status" {
        Active = "active" => "Active",
        Inactive = "inactive" => "Inactive",
        Disabled = "disabled" => "Disabled",
        Offline = "offline" => "Offline",
        Error = "error" => "Error",
    }
}

wire_enum! {
    /// What an upstream can do beyond the API xavyo-idp serves (as captured in `shared/fixtures/xavyo-idp/`).
    /// The console offers a control that needs one only when its upstream lists it at `GET /features`;
    /// xavyo-idp has no such route, so it gets none of them.
    UpstreamFeature, "upstream feature" {
        /// Runs are executed: operations and reconciliations really progress and finish.
        ExecutesWork = "executes_work" => "Runs operations and reconciliations",
        /// `pause` and `resume` of a reconciliation run.
        PauseRuns = "pause_runs" => "Pause and resume reconciliation runs",
        /// `retry` of a `failed` operation (xavyo-idp retries only dead letters).
        RetryFailed = "retry_failed" => "Retry a failed operation",
        /// The operations list honours `sort` (xavyo-idp always orders by priority).
        SortOperations = "sort_operations" => "Sort the operations list",
        /// Ignoring a discrepancy writes an audit entry, and the audit log filters by it.
        AuditsIgnores = "audits_ignores" => "Audit ignored discrepancies",
    }
}

wire_enum! {
    /// The account roles the console cares about.
    Role, "role" {
        SuperAdmin = "super_admin" => "Super admin",
        Admin = "admin" => "Admin",
        User = "user" => "User",
    }
}

impl Role {
    /// True for the roles that may use the console (`admin`, `super_admin`).
    pub fn grants_admin<S: AsRef<str>>(roles: &[S]) -> bool {
        roles
            .iter()
            .any(|r| matches!(r.as_ref().parse(), Ok(Role::Admin | Role::SuperAdmin)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn round_trips<T>(all: &[T])
    where
        T: Copy + PartialEq + fmt::Debug + fmt::Display + FromStr<Err = UnknownVariant>,
        T: serde::Serialize + serde::de::DeserializeOwned,
    {
        for &member in all {
            let text = member.to_string();
            assert_eq!(T::from_str(&text), Ok(member), "FromStr of {text}");
            let json = serde_json::to_string(&member).unwrap();
            assert_eq!(json, format!("\"{text}\""), "serde spelling of {member:?}");
            assert_eq!(serde_json::from_str::<T>(&json).unwrap(), member);
        }
        let err = T::from_str("bogus").unwrap_err();
        assert_eq!(err.value, "bogus");
        assert!(err.to_string().contains(all[0].to_string().as_str()));
        assert!(serde_json::from_str::<T>("\"bogus\"").is_err());
    }

    #[test]
    fn every_enum_round_trips_every_member() {
        round_trips(&OperationType::ALL);
        round_trips(&OperationStatus::ALL);
        round_trips(&OperationAction::ALL);
        round_trips(&DiscrepancyType::ALL);
        round_trips(&RemediationAction::ALL);
        round_trips(&RemediationDirection::ALL);
        round_trips(&ResolutionStatus::ALL);
        round_trips(&ConflictOutcome::ALL);
        round_trips(&ConflictType::ALL);
        round_trips(&ScheduleFrequency::ALL);
        round_trips(&ReconciliationMode::ALL);
        round_trips(&ReconciliationRunStatus::ALL);
        round_trips(&RunAction::ALL);
        round_trips(&ConnectorStatus::ALL);
        round_trips(&Role::ALL);
        round_trips(&UpstreamFeature::ALL);
    }

    #[test]
    fn wire_spellings_match_the_data_model() {
        assert_eq!(OperationStatus::DeadLetter.as_str(), "dead_letter");
        assert_eq!(OperationStatus::AwaitingSystem.as_str(), "awaiting_system");
        assert_eq!(
            RemediationDirection::XavyoToTarget.as_str(),
            "xavyo_to_target"
        );
        assert_eq!(
            RemediationAction::InactivateIdentity.as_str(),
            "inactivate_identity"
        );
        assert_eq!(OperationStatus::ALL.len(), 8);
        assert_eq!(DiscrepancyType::ALL.len(), 6);
    }

    #[test]
    fn which_actions_each_status_allows() {
        use OperationAction::*;
        use OperationStatus::*;
        let table: [(OperationStatus, &[OperationAction], bool); 8] = [
            (Pending, &[Cancel], false),
            (InProgress, &[], false),
            (AwaitingSystem, &[], false),
            (Failed, &[Retry], true),
            (DeadLetter, &[Retry, Resolve], true),
            (Completed, &[], true),
            (Resolved, &[], true),
            (Cancelled, &[], true),
        ];
        for (status, allowed, settled) in table {
            for action in OperationAction::ALL {
                assert_eq!(
                    status.allows(action),
                    allowed.contains(&action),
                    "{status} {action}"
                );
            }
            assert_eq!(status.is_settled(), settled, "{status}");
        }
    }

    #[test]
    fn which_actions_each_run_status_allows() {
        use ReconciliationRunStatus::*;
        use RunAction::*;
        let table: [(ReconciliationRunStatus, &[RunAction], bool); 6] = [
            (Pending, &[Cancel], true),
            (Running, &[Cancel, Pause], true),
            (Paused, &[Cancel, Resume], true),
            (Completed, &[], false),
            (Failed, &[], false),
            (Cancelled, &[], false),
        ];
        for (status, allowed, active) in table {
            for action in RunAction::ALL {
                assert_eq!(
                    status.allows(action),
                    allowed.contains(&action),
                    "{status} {action}"
                );
            }
            assert_eq!(status.is_active(), active, "{status}");
        }
    }

    #[test]
    fn which_remediations_fit_each_discrepancy_type() {
        use DiscrepancyType::*;
        use RemediationAction::*;
        let table: [(DiscrepancyType, &[RemediationAction]); 6] = [
            (Missing, &[Create]),
            (Orphan, &[Delete, Link]),
            (Mismatch, &[Update]),
            (Collision, &[Link]),
            (Unlinked, &[Link]),
            (Deleted, &[Create, Unlink, InactivateIdentity]),
        ];
        for (kind, fits) in table {
            assert_eq!(kind.remediations(), fits, "{kind}");
            for action in RemediationAction::ALL {
                assert_eq!(
                    kind.allows(action),
                    fits.contains(&action),
                    "{kind} {action}"
                );
            }
        }
        assert!(Orphan.link_needs_identity() && Collision.link_needs_identity());
        assert!(!Unlinked.link_needs_identity());
        // Every action has a direction, and the first is its suggestion.
        for action in RemediationAction::ALL {
            assert!(!action.directions().is_empty(), "{action}");
        }
        assert!(!Create.allows(RemediationDirection::TargetToXavyo));
        assert!(InactivateIdentity.allows(RemediationDirection::TargetToXavyo));
        assert!(Update.allows(RemediationDirection::TargetToXavyo));
    }

    #[test]
    fn admin_roles() {
        assert!(Role::grants_admin(&["user", "super_admin"]));
        assert!(Role::grants_admin(&["admin"]));
        assert!(!Role::grants_admin(&["user", "auditor"]));
        assert!(!Role::grants_admin::<&str>(&[]));
    }
}
