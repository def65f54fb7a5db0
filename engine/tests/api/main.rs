//! HTTP tests of the engine: `router(..)` over a temporary, demo-seeded SQLite file driven with `oneshot`,
//! and `start(..)` over real TCP.

mod actions;
mod auth;
mod binary;
mod common;
mod conflicts;
mod connectors;
mod demo;
mod gate;
mod interrupted;
mod operations;
mod queue;
mod reconciliation;
mod schedules;
mod start;
