//! What every handler shares: the database pool, the token keys and the queue.

use std::sync::Arc;

use sqlx::SqlitePool;

use crate::{
    auth::TokenKeys,
    queue::Queue,
    reconcile::Reconciler,
    throttle::{LoginThrottle, ThrottleConfig},
};

/// The shared state of the engine's router. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    queue: Queue,
    reconciler: Reconciler,
    tokens: TokenKeys,
    throttle: LoginThrottle,
}

impl AppState {
    /// State over a queue (and its migrated pool) and a reconciler, signing tokens with `jwt_secret`.
    pub fn new(queue: Queue, reconciler: Reconciler, jwt_secret: &str) -> Self {
        Self {
            inner: Arc::new(Inner {
                queue,
                reconciler,
                tokens: TokenKeys::new(jwt_secret),
                throttle: LoginThrottle::new(ThrottleConfig::default()),
            }),
        }
    }

    /// The database pool.
    pub fn pool(&self) -> &SqlitePool {
        self.inner.queue.pool()
    }

    /// The provisioning queue.
    pub fn queue(&self) -> &Queue {
        &self.inner.queue
    }

    /// The reconciliation service.
    pub fn reconciler(&self) -> &Reconciler {
        &self.inner.reconciler
    }

    /// The login throttle.
    pub fn throttle(&self) -> &LoginThrottle {
        &self.inner.throttle
    }

    /// The access-token keys.
    pub fn tokens(&self) -> &TokenKeys {
        &self.inner.tokens
    }
}
