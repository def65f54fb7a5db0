//! HTTP tests of the engine: `router(..)` over a temporary, demo-seeded SQLite file, driven with `oneshot`.

mod auth;
mod common;
mod connectors;
mod operations;
