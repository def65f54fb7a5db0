//! HTTP tests of the engine: `router(..)` over a temporary, demo-seeded SQLite file driven with `oneshot`,
//! and `start(..)` over real TCP.

mod actions;
mod auth;
mod common;
mod connectors;
mod demo;
mod operations;
mod queue;
mod reconciliation;
mod start;
