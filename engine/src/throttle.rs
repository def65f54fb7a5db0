//! Login throttling: failures are counted per account and per client address; past a limit within a window
//! the key is locked out for a while and sign-ins answer 429 with `Retry-After`, before any password is
//! checked. Password checks (argon2id, 19 MiB each) run a few at a time, so a flood queues instead of
//! exhausting memory. Counts live in memory: they protect a running engine, and a restart forgets them.
//!
//! That memory is bounded whatever the callers send: an account key is a fixed-size digest of tenant and
//! email (never the email itself), and at most [`ThrottleConfig::max_keys`] keys are tracked; past that, keys
//! that no longer matter go first, then those that stop mattering soonest.

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
use dto::TenantId;
use sha2::{Digest, Sha256};
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
    /// Most keys tracked at once (about 100 bytes each).
    pub max_keys: usize,
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
            max_keys: 100_000,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    since: Instant,
    /// The latest failure counted: the entry least recently failed is the first to go from a full map.
    last: Instant,
    locked_until: Option<Instant>,
}

impl Entry {
    /// When the entry stops mattering: its window has passed and no lock holds.
    fn expires(&self, window: Duration) -> Instant {
        let counted = self.since + window;
        self.locked_until
            .map_or(counted, |until| until.max(counted))
    }
}

/// Who a sign-in counts against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// SHA-256 of tenant and lower-cased, trimmed email ([`Key::account`]).
    Account([u8; 32]),
    /// The client's address.
    Address(IpAddr),
}

impl Key {
    /// The key of an account: the same for any spelling of the email that signs in to it.
    pub fn account(tenant: TenantId, email: &str) -> Self {
        let mut digest = Sha256::new();
        digest.update(tenant.to_string());
        digest.update(b":");
        digest.update(email.trim().to_lowercase());
        Self::Account(digest.finalize().into())
    }
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

    /// How many keys are tracked.
    pub fn tracked(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Counts a failed sign-in against every key; a key reaching its limit within the window is locked.
    pub fn failed(&self, keys: &[Key], now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        for key in keys {
            if !entries.contains_key(key) {
                self.make_room(&mut entries, now);
            }
            let limit = self.limit(key);
            let entry = entries.entry(key.clone()).or_insert(Entry {
                failures: 0,
                since: now,
                last: now,
                locked_until: None,
            });
            if now.duration_since(entry.since) >= self.config.window {
                *entry = Entry {
                    failures: 0,
                    since: now,
                    last: now,
                    locked_until: entry.locked_until.filter(|&u| u > now),
                };
            }
            entry.failures += 1;
            entry.last = now;
            if entry.failures >= limit {
                entry.locked_until = Some(now + self.config.lockout);
                entry.failures = 0;
                entry.since = now;
            }
        }
    }

    /// Frees a place when the map is full: first every entry that no longer matters, then, if none did, the
    /// unlocked entry failed least recently (a full map is a flood: a count below its limit that the flood
    /// does not feed is the cheapest to lose, a lock the dearest), and a lock only when nothing else is left.
    fn make_room(&self, entries: &mut HashMap<Key, Entry>, now: Instant) {
        let max = self.config.max_keys.max(1);
        if entries.len() < max {
            return;
        }
        let window = self.config.window;
        entries.retain(|_, e| e.expires(window) > now);
        if entries.len() < max {
            return;
        }
        let soonest = entries
            .iter()
            .min_by_key(|(_, e)| {
                let locked = e.locked_until.is_some_and(|until| until > now);
                (locked, e.last)
            })
            .map(|(k, _)| k.clone());
        if let Some(key) = soonest {
            entries.remove(&key);
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
/// front of the engine), the last `X-Forwarded-For` entry: the one the console appended (entries before it
/// are whatever the browser sent, so anyone could pick them). None when unknown: a loopback peer
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
                .and_then(|v| v.rsplit(',').next())
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

    fn ada() -> Key {
        Key::account(TenantId(uuid::Uuid::nil()), "ada@x")
    }

    #[test]
    fn failures_lock_an_account_for_the_lockout_then_release_it() {
        let t = throttle();
        let start = Instant::now();
        let ada = ada();
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
                &[Key::account(TenantId(uuid::Uuid::nil()), "bob@x")],
                start + Duration::from_secs(2)
            ),
            None
        );
    }

    #[test]
    fn failures_older_than_the_window_do_not_count_and_success_clears_them() {
        let t = throttle();
        let start = Instant::now();
        let keys = [ada()];
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
                &[
                    Key::account(TenantId(uuid::Uuid::nil()), &format!("user{n}@x")),
                    address.clone(),
                ],
                start,
            );
        }
        assert!(t.locked(std::slice::from_ref(&address), start).is_some());
        assert_eq!(
            locked_out(Duration::from_secs(61)).body().message,
            "too many failed sign-ins; try again in 2 minutes"
        );
    }

    #[test]
    fn an_account_key_is_a_digest_of_any_spelling_of_the_email() {
        let tenant = TenantId(uuid::Uuid::nil());
        assert_eq!(Key::account(tenant, " ADA@x "), ada());
        assert_ne!(Key::account(TenantId(uuid::Uuid::max()), "ada@x"), ada());
        // A megabyte of email is still 32 bytes of key.
        let huge = Key::account(tenant, &"a".repeat(1 << 20));
        assert!(matches!(huge, Key::Account(digest) if digest.len() == 32));
    }

    #[test]
    fn the_throttle_never_tracks_more_than_its_cap() {
        let t = LoginThrottle::new(ThrottleConfig {
            max_keys: 8,
            ..ThrottleConfig::default()
        });
        let start = Instant::now();
        let tenant = TenantId(uuid::Uuid::nil());
        let address = Key::Address("10.0.0.9".parse().expect("ip"));
        for n in 0..1_000_u64 {
            let now = start + Duration::from_millis(n);
            t.failed(
                &[Key::account(tenant, &format!("user{n}@x")), address.clone()],
                now,
            );
            assert!(t.tracked() <= 8, "{} keys after {n}", t.tracked());
        }
        // The address, locked by the spray, outlives the accounts that only counted once.
        assert!(t.locked(std::slice::from_ref(&address), start).is_some());
    }

    #[test]
    fn a_full_throttle_forgets_what_no_longer_matters_first() {
        let t = LoginThrottle::new(ThrottleConfig {
            max_keys: 2,
            window: Duration::from_secs(60),
            ..ThrottleConfig::default()
        });
        let start = Instant::now();
        let tenant = TenantId(uuid::Uuid::nil());
        t.failed(&[Key::account(tenant, "a@x")], start);
        t.failed(&[Key::account(tenant, "b@x")], start);
        assert_eq!(t.tracked(), 2);
        t.failed(
            &[Key::account(tenant, "c@x")],
            start + Duration::from_secs(61),
        );
        assert_eq!(t.tracked(), 1, "both expired entries went");
    }

    async fn address_of(peer: &str, forwarded: Option<&str>) -> Option<IpAddr> {
        let mut request = axum::http::Request::builder().extension(ConnectInfo(
            peer.parse::<SocketAddr>().expect("socket address"),
        ));
        if let Some(value) = forwarded {
            request = request.header("x-forwarded-for", value);
        }
        let (mut parts, ()) = request.body(()).expect("request builds").into_parts();
        let ClientAddress(address) = ClientAddress::from_request_parts(&mut parts, &())
            .await
            .expect("always extracts");
        address
    }

    #[tokio::test]
    async fn a_loopback_peer_is_trusted_for_the_entry_it_appended_only() {
        let ip = |s: &str| Some(s.parse::<IpAddr>().expect("ip"));
        // The browser wrote the first entries; the console appended the last.
        assert_eq!(
            address_of(
                "127.0.0.1:5000",
                Some("198.51.100.1, 10.9.9.9, 203.0.113.7")
            )
            .await,
            ip("203.0.113.7")
        );
        assert_eq!(
            address_of("[::1]:5000", Some("203.0.113.8")).await,
            ip("203.0.113.8")
        );
        assert_eq!(address_of("127.0.0.1:5000", None).await, None);
        assert_eq!(
            address_of("127.0.0.1:5000", Some("203.0.113.7, junk")).await,
            None
        );
        // Anyone else is counted as who they are, whatever they forward.
        assert_eq!(
            address_of("192.0.2.4:5000", Some("203.0.113.7")).await,
            ip("192.0.2.4")
        );
    }
}
