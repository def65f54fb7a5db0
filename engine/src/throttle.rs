//! Login throttling: failures are counted per account and per client address; past a limit within a window
//! the key is locked out for a while and sign-ins answer 429 with `Retry-After`, before any password is
//! checked. Password checks (argon2id, 19 MiB each) run a few at a time, so a flood queues instead of
//! exhausting memory. Counts live in memory: they protect a running engine, and a restart forgets them.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::Mutex,
    time::{Duration, Instant},
};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::request::Parts,
};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::ApiError;

/// The limits.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleConfig {
    /// Failures of one account within `window` that lock it.
    pub account_failures: u32,
    /// Failures from one address within `window` that lock it.
    pub address_failures: u32,
    /// How far back failures count.
    pub window: Duration,
    /// How long a lock lasts.
    pub lockout: Duration,
    /// Password checks running at once.
    pub concurrent_checks: usize,
    /// How long a sign-in waits for its turn before it is told to come back.
    pub queue_wait: Duration,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            account_failures: 5,
            address_failures: 20,
            window: Duration::from_secs(15 * 60),
            lockout: Duration::from_secs(15 * 60),
            concurrent_checks: 4,
            queue_wait: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    since: Instant,
    locked_until: Option<Instant>,
}

/// Who a sign-in counts against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// Tenant and lower-cased email.
    Account(String),
    /// The client's address.
    Address(IpAddr),
}

/// The login throttle of an engine.
#[derive(Debug)]
pub struct LoginThrottle {
    config: ThrottleConfig,
    entries: Mutex<HashMap<Key, Entry>>,
    checks: Semaphore,
}

impl LoginThrottle {
    /// A throttle with these limits.
    pub fn new(config: ThrottleConfig) -> Self {
        Self {
            config,
            entries: Mutex::new(HashMap::new()),
            checks: Semaphore::new(config.concurrent_checks.max(1)),
        }
    }

    fn limit(&self, key: &Key) -> u32 {
        match key {
            Key::Account(_) => self.config.account_failures,
            Key::Address(_) => self.config.address_failures,
        }
    }

    /// How long until the longest lock among `keys` ends; none when no key is locked.
    pub fn locked(&self, keys: &[Key], now: Instant) -> Option<Duration> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        keys.iter()
            .filter_map(|k| entries.get(k)?.locked_until)
            .filter(|&until| until > now)
            .map(|until| until - now)
            .max()
    }

    /// Counts a failed sign-in against every key; a key reaching its limit within the window is locked.
    pub fn failed(&self, keys: &[Key], now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        // Forget what is older than a window and not locked, so the map does not grow without end.
        if entries.len() > 10_000 {
            let window = self.config.window;
            entries.retain(|_, e| {
                now.duration_since(e.since) < window || e.locked_until.is_some_and(|u| u > now)
            });
        }
        for key in keys {
            let limit = self.limit(key);
            let entry = entries.entry(key.clone()).or_insert(Entry {
                failures: 0,
                since: now,
                locked_until: None,
            });
            if now.duration_since(entry.since) >= self.config.window {
                *entry = Entry {
                    failures: 0,
                    since: now,
                    locked_until: entry.locked_until.filter(|&u| u > now),
                };
            }
            entry.failures += 1;
            if entry.failures >= limit {
                entry.locked_until = Some(now + self.config.lockout);
                entry.failures = 0;
                entry.since = now;
            }
        }
    }

    /// A successful sign-in clears its account's failures (not its address's: one good password does not
    /// excuse a spray from the same address).
    pub fn succeeded(&self, account: &Key) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(account);
    }

    /// Waits for a turn to check a password; refuses after `queue_wait`.
    pub async fn turn(&self) -> Result<SemaphorePermit<'_>, ApiError> {
        match tokio::time::timeout(self.config.queue_wait, self.checks.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(ApiError::TooManyRequests {
                retry_after: Duration::from_secs(1),
                message: "too many sign-ins at once; try again in a moment".into(),
            }),
        }
    }
}

/// The refusal for a locked key.
pub fn locked_out(retry_after: Duration) -> ApiError {
    let minutes = retry_after.as_secs().div_ceil(60).max(1);
    ApiError::TooManyRequests {
        retry_after,
        message: format!(
            "too many failed sign-ins; try again in {minutes} minute{}",
            if minutes == 1 { "" } else { "s" }
        ),
    }
}

/// The address a request came from: the peer, or, when the peer is on loopback (the console's server in
/// front of the engine), the first `X-Forwarded-For` entry it passed on. None when unknown: a loopback peer
/// that forwards nothing is the console's server speaking for every user at once, and locking it out would
/// lock everyone out (its sign-ins still count per account).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let forwarded = || {
            parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(|v| v.trim().parse::<IpAddr>().ok())
        };
        Ok(Self(match peer {
            Some(ip) if ip.is_loopback() => forwarded(),
            other => other,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> LoginThrottle {
        LoginThrottle::new(ThrottleConfig {
            account_failures: 3,
            address_failures: 5,
            window: Duration::from_secs(60),
            lockout: Duration::from_secs(120),
            ..ThrottleConfig::default()
        })
    }

    #[test]
    fn failures_lock_an_account_for_the_lockout_then_release_it() {
        let t = throttle();
        let start = Instant::now();
        let ada = Key::Account("t:ada@x".into());
        let keys = [ada.clone()];
        t.failed(&keys, start);
        t.failed(&keys, start + Duration::from_secs(1));
        assert_eq!(t.locked(&keys, start + Duration::from_secs(2)), None);
        t.failed(&keys, start + Duration::from_secs(2));
        let left = t.locked(&keys, start + Duration::from_secs(2));
        assert_eq!(left, Some(Duration::from_secs(120)));
        assert_eq!(
            t.locked(&keys, start + Duration::from_secs(62)),
            Some(Duration::from_secs(60))
        );
        assert_eq!(t.locked(&keys, start + Duration::from_secs(122)), None);
        // Another account is not affected.
        assert_eq!(
            t.locked(
                &[Key::Account("t:bob@x".into())],
                start + Duration::from_secs(2)
            ),
            None
        );
    }

    #[test]
    fn failures_older_than_the_window_do_not_count_and_success_clears_them() {
        let t = throttle();
        let start = Instant::now();
        let keys = [Key::Account("t:ada@x".into())];
        t.failed(&keys, start);
        t.failed(&keys, start + Duration::from_secs(1));
        // Past the window: counting starts again.
        t.failed(&keys, start + Duration::from_secs(70));
        t.failed(&keys, start + Duration::from_secs(71));
        assert_eq!(t.locked(&keys, start + Duration::from_secs(71)), None);
        t.succeeded(&keys[0]);
        t.failed(&keys, start + Duration::from_secs(72));
        t.failed(&keys, start + Duration::from_secs(73));
        assert_eq!(t.locked(&keys, start + Duration::from_secs(73)), None);
    }

    #[test]
    fn an_address_spraying_many_accounts_is_locked() {
        let t = throttle();
        let start = Instant::now();
        let address = Key::Address("10.0.0.9".parse().expect("ip"));
        for n in 0..5 {
            t.failed(
                &[Key::Account(format!("t:user{n}@x")), address.clone()],
                start,
            );
        }
        assert!(t.locked(std::slice::from_ref(&address), start).is_some());
        assert_eq!(
            locked_out(Duration::from_secs(61)).body().message,
            "too many failed sign-ins; try again in 2 minutes"
        );
    }
}
