//! What every handler shares: the database pool and the token keys.

use std::sync::Arc;

use sqlx::SqlitePool;

use crate::auth::TokenKeys;

/// The shared state of the engine's router. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    pool: SqlitePool,
    tokens: TokenKeys,
}

impl AppState {
    /// State over a migrated pool, signing tokens with `jwt_secret`.
    pub fn new(pool: SqlitePool, jwt_secret: &str) -> Self {
        Self {
            inner: Arc::new(Inner {
                pool,
                tokens: TokenKeys::new(jwt_secret),
            }),
        }
    }

    /// The database pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.inner.pool
    }

    /// The access-token keys.
    pub fn tokens(&self) -> &TokenKeys {
        &self.inner.tokens
    }
}
