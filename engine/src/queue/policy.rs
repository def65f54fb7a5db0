//! The queue's knobs: how many workers, how they poll and lease, and the retry backoff.

use std::time::Duration;

/// Exponential backoff between the attempts of a failed operation: `base × 2^(n−1)`, capped at `max`, minus up
/// to `jitter` of itself so that operations failed together do not all come back at the same instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Delay after the first failure.
    pub base: Duration,
    /// No delay is longer than this.
    pub max: Duration,
    /// Fraction (0.0–1.0) of a delay that jitter may take off it.
    pub jitter: f64,
}

impl Default for RetryPolicy {
    /// 30 s, 60 s, 120 s, ... up to one hour, with 20 % jitter.
    fn default() -> Self {
        Self {
            base: Duration::from_secs(30),
            max: Duration::from_secs(3600),
            jitter: 0.2,
        }
    }
}

impl RetryPolicy {
    /// The delay before the retry that follows failure number `failures` (1 for the first failure), without
    /// jitter: `base × 2^(failures−1)`, at most `max`. 0 counts as 1.
    pub fn delay(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1);
        let factor = 1_u32.checked_shl(doublings).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// [`Self::delay`] less a share of it drawn from `roll` (0.0 ≤ roll < 1.0, clamped): always within
    /// `[delay × (1 − jitter), delay]`, so never above the cap.
    pub fn jittered(&self, failures: u32, roll: f64) -> Duration {
        let delay = self.delay(failures);
        let jitter = self.jitter.clamp(0.0, 1.0);
        let roll = if roll.is_finite() {
            roll.clamp(0.0, 1.0)
        } else {
            0.0
        };
        delay.mul_f64(1.0 - jitter * roll)
    }
}

/// How the queue and its workers behave. [`Default`] is what a production start uses.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// Worker tasks [`crate::start`] runs (0: none; operations are still accepted and wait).
    pub workers: usize,
    /// Operations a worker claims in one go; their results are written back in one transaction.
    pub batch_size: u32,
    /// How long an idle worker waits before looking again, unless an enqueue or a retry wakes it first.
    pub poll_interval: Duration,
    /// How long a claim holds an operation; a worker renews it while it works, and the reaper returns the
    /// operations of a worker that stopped renewing (crashed) to `pending` once it has run out.
    pub lease: Duration,
    /// Failed attempts after which an operation goes to the dead-letter queue (for operations enqueued
    /// without a value of their own).
    pub max_retries: i32,
    /// Backoff between the attempts of a failed operation.
    pub retry: RetryPolicy,
    /// How often a worker looks for expired leases.
    pub reap_interval: Duration,
    /// How often a worker asks the connectors that have operations awaiting them whether they are back.
    pub recheck_interval: Duration,
}

impl Default for QueueConfig {
    /// 2 workers claiming up to 64 operations, 200 ms idle poll, 60 s leases, 5 failures before the dead-letter
    /// queue, the default [`RetryPolicy`], leases reaped every second, offline connectors probed every 15 s.
    fn default() -> Self {
        Self {
            workers: 2,
            batch_size: 64,
            poll_interval: Duration::from_millis(200),
            lease: Duration::from_secs(60),
            max_retries: 5,
            retry: RetryPolicy::default(),
            reap_interval: Duration::from_secs(1),
            recheck_interval: Duration::from_secs(15),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_from_the_base_up_to_the_cap() {
        let policy = RetryPolicy::default();
        let secs = |n| policy.delay(n).as_secs();
        assert_eq!(
            [
                secs(0),
                secs(1),
                secs(2),
                secs(3),
                secs(4),
                secs(5),
                secs(6),
                secs(7)
            ],
            [30, 30, 60, 120, 240, 480, 960, 1920]
        );
        assert_eq!(secs(8), 3600, "3840 s is capped at one hour");
        assert_eq!(secs(40), 3600, "no overflow far past the cap");
        assert_eq!(secs(u32::MAX), 3600);
    }

    #[test]
    fn a_short_policy_for_tests() {
        let policy = RetryPolicy {
            base: Duration::from_millis(10),
            max: Duration::from_millis(50),
            jitter: 0.0,
        };
        let ms = |n| policy.delay(n).as_millis();
        assert_eq!([ms(1), ms(2), ms(3), ms(4)], [10, 20, 40, 50]);
        assert_eq!(policy.jittered(3, 0.99), policy.delay(3), "no jitter asked");
    }

    #[test]
    fn jitter_stays_within_its_bounds() {
        let policy = RetryPolicy::default();
        for failures in [1, 2, 5, 8, 30] {
            let delay = policy.delay(failures);
            let floor = delay.mul_f64(1.0 - policy.jitter);
            for step in 0..=100 {
                let roll = f64::from(step) / 100.0;
                let jittered = policy.jittered(failures, roll);
                assert!(
                    jittered >= floor && jittered <= delay,
                    "{failures} failures, roll {roll}: {jittered:?} outside [{floor:?}, {delay:?}]"
                );
                assert!(jittered <= policy.max);
            }
            assert_eq!(policy.jittered(failures, 0.0), delay);
            assert_eq!(policy.jittered(failures, -3.0), delay, "clamped");
            assert_eq!(policy.jittered(failures, f64::NAN), delay, "ignored");
            assert_eq!(policy.jittered(failures, 7.0), floor, "clamped");
        }
    }
}
