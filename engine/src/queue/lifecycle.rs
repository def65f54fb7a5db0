//! The operation state machine, as pure functions: which event moves which status where, and how an attempt's
//! result settles an operation. The SQL of the queue asks [`sources`] which statuses an event may start from,
//! so the database and these rules cannot disagree.
//!
//! ```text
//! pending ──claim──▶ in_progress ──success──▶ completed
//!    ▲                  │  │  └──transient failure──▶ failed ──(due) claim──▶ in_progress
//!    │                  │  └──permanent failure, or retries used up──▶ dead_letter ──resolve──▶ resolved
//!    │                  └──connector offline──▶ awaiting_system ──connector back──▶ pending
//!    ├──lease expired / released── in_progress
//!    └──admin retry── failed, dead_letter          pending ──cancel──▶ cancelled
//! ```

use std::time::Duration;

use enums::{OperationAction, OperationStatus};

use super::RetryPolicy;
use crate::connector::ErrorClass;

/// Something that happens to an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A worker claimed it (a `failed` one only once its retry is due; the SQL checks that).
    Claimed,
    /// The connector did it.
    Succeeded,
    /// A transient failure with retries left: try again after a backoff.
    FailedWillRetry,
    /// A permanent failure, or a transient one with no retry left: the dead-letter queue.
    FailedFinal,
    /// The connector is offline: wait for it without using a retry.
    SystemOffline,
    /// The lease ran out (its worker died) or the worker handed it back unrun.
    Released,
    /// The connector is reachable again.
    SystemBack,
    /// An admin asked for another try.
    Retry,
    /// An admin withdrew it before it ran.
    Cancel,
    /// An admin settled a dead letter by hand.
    Resolve,
}

impl Event {
    /// Every event, for exhaustive checks.
    pub const ALL: [Self; 10] = [
        Self::Claimed,
        Self::Succeeded,
        Self::FailedWillRetry,
        Self::FailedFinal,
        Self::SystemOffline,
        Self::Released,
        Self::SystemBack,
        Self::Retry,
        Self::Cancel,
        Self::Resolve,
    ];
}

/// Where `event` takes an operation in status `from`; none when the event does not apply there.
pub const fn next_status(from: OperationStatus, event: Event) -> Option<OperationStatus> {
    use OperationStatus::*;
    match (event, from) {
        (Event::Claimed, Pending | Failed) => Some(InProgress),
        (Event::Succeeded, InProgress) => Some(Completed),
        (Event::FailedWillRetry, InProgress) => Some(Failed),
        (Event::FailedFinal, InProgress) => Some(DeadLetter),
        (Event::SystemOffline, InProgress) => Some(AwaitingSystem),
        (Event::Released, InProgress) => Some(Pending),
        (Event::SystemBack, AwaitingSystem) => Some(Pending),
        // What an admin may do is the shared enum's rule (the console offers the same buttons).
        (Event::Retry, from) if from.allows(OperationAction::Retry) => Some(Pending),
        (Event::Cancel, from) if from.allows(OperationAction::Cancel) => Some(Cancelled),
        (Event::Resolve, from) if from.allows(OperationAction::Resolve) => Some(Resolved),
        _ => None,
    }
}

/// The statuses `event` applies to.
pub fn sources(event: Event) -> Vec<OperationStatus> {
    OperationStatus::ALL
        .into_iter()
        .filter(|&from| next_status(from, event).is_some())
        .collect()
}

/// How an attempt leaves its operation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settlement {
    /// What happened: succeeded, failed with or without a retry, or found its system offline.
    pub event: Event,
    /// Where that takes the operation from `in_progress`.
    pub status: OperationStatus,
    /// Failed attempts counted after this one.
    pub retry_count: i32,
    /// When to try again (`FailedWillRetry` only).
    pub retry_in: Option<Duration>,
}

/// Settles an attempt of an operation that had failed `retry_count` times, allowed `max_retries` failures,
/// and ended with `error` (none: success). Offline does not count as a failure; a permanent error, or the
/// failure that brings the count to `max_retries`, sends it to the dead-letter queue. `roll` (0.0–1.0) draws the
/// backoff's jitter.
pub fn settle(
    error: Option<ErrorClass>,
    retry_count: i32,
    max_retries: i32,
    policy: &RetryPolicy,
    roll: f64,
) -> Settlement {
    let failed = retry_count.saturating_add(1);
    let (event, retry_count, retry_in) = match error {
        None => (Event::Succeeded, retry_count, None),
        Some(ErrorClass::Offline) => (Event::SystemOffline, retry_count, None),
        Some(ErrorClass::Permanent) => (Event::FailedFinal, failed, None),
        Some(ErrorClass::Transient) if failed >= max_retries => (Event::FailedFinal, failed, None),
        Some(ErrorClass::Transient) => (
            Event::FailedWillRetry,
            failed,
            Some(policy.jittered(u32::try_from(failed).unwrap_or(1), roll)),
        ),
    };
    Settlement {
        event,
        // Every event above leaves from in_progress (a test holds this).
        status: next_status(OperationStatus::InProgress, event)
            .unwrap_or(OperationStatus::InProgress),
        retry_count,
        retry_in,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OperationStatus::*;

    #[test]
    fn every_event_from_every_status() {
        // (event, the only statuses it applies to, where it takes them)
        let table: [(Event, &[OperationStatus], OperationStatus); 10] = [
            (Event::Claimed, &[Pending, Failed], InProgress),
            (Event::Succeeded, &[InProgress], Completed),
            (Event::FailedWillRetry, &[InProgress], Failed),
            (Event::FailedFinal, &[InProgress], DeadLetter),
            (Event::SystemOffline, &[InProgress], AwaitingSystem),
            (Event::Released, &[InProgress], Pending),
            (Event::SystemBack, &[AwaitingSystem], Pending),
            (Event::Retry, &[Failed, DeadLetter], Pending),
            (Event::Cancel, &[Pending], Cancelled),
            (Event::Resolve, &[DeadLetter], Resolved),
        ];
        assert_eq!(table.len(), Event::ALL.len());
        for (event, from, to) in table {
            for status in OperationStatus::ALL {
                let want = from.contains(&status).then_some(to);
                assert_eq!(next_status(status, event), want, "{event:?} from {status}");
            }
            assert_eq!(sources(event), from.to_vec(), "{event:?}");
        }
    }

    #[test]
    fn settled_statuses_only_leave_by_an_admin() {
        for status in [Completed, Cancelled, Resolved] {
            let leaving: Vec<_> = Event::ALL
                .into_iter()
                .filter(|&e| next_status(status, e).is_some())
                .collect();
            assert!(leaving.is_empty(), "{status} left by {leaving:?}");
        }
        let from_dead: Vec<_> = Event::ALL
            .into_iter()
            .filter(|&e| next_status(DeadLetter, e).is_some())
            .collect();
        assert_eq!(from_dead, [Event::Retry, Event::Resolve]);
    }

    #[test]
    fn attempts_settle_by_error_class_and_retries_left() {
        let policy = RetryPolicy {
            base: Duration::from_secs(30),
            max: Duration::from_secs(3600),
            jitter: 0.0,
        };
        let ok = settle(None, 2, 5, &policy, 0.5);
        assert_eq!(
            (ok.event, ok.retry_count, ok.retry_in),
            (Event::Succeeded, 2, None)
        );

        let first = settle(Some(ErrorClass::Transient), 0, 5, &policy, 0.5);
        assert_eq!(
            (first.event, first.retry_count, first.retry_in),
            (Event::FailedWillRetry, 1, Some(Duration::from_secs(30)))
        );
        let fourth = settle(Some(ErrorClass::Transient), 3, 5, &policy, 0.5);
        assert_eq!(fourth.retry_in, Some(Duration::from_secs(240)));
        let fifth = settle(Some(ErrorClass::Transient), 4, 5, &policy, 0.5);
        assert_eq!(
            (fifth.event, fifth.retry_count, fifth.retry_in),
            (Event::FailedFinal, 5, None),
            "the failure that reaches max_retries dead-letters"
        );

        let permanent = settle(Some(ErrorClass::Permanent), 0, 5, &policy, 0.5);
        assert_eq!(
            (permanent.event, permanent.retry_count),
            (Event::FailedFinal, 1)
        );

        let offline = settle(Some(ErrorClass::Offline), 3, 5, &policy, 0.5);
        assert_eq!(
            (offline.event, offline.retry_count, offline.retry_in),
            (Event::SystemOffline, 3, None),
            "offline burns no retry"
        );

        let no_retries = settle(Some(ErrorClass::Transient), 0, 0, &policy, 0.5);
        assert_eq!(no_retries.event, Event::FailedFinal);
    }

    #[test]
    fn every_settlement_is_a_legal_move_from_in_progress() {
        let policy = RetryPolicy::default();
        for error in [
            None,
            Some(ErrorClass::Transient),
            Some(ErrorClass::Permanent),
            Some(ErrorClass::Offline),
        ] {
            for retry_count in 0..6 {
                let s = settle(error, retry_count, 5, &policy, 0.3);
                assert_eq!(
                    next_status(InProgress, s.event),
                    Some(s.status),
                    "{error:?} after {retry_count}: {:?}",
                    s.event
                );
                assert_ne!(s.status, InProgress);
            }
        }
    }
}
