//! Components shared by pages.

pub mod commands;
pub mod common;
pub mod conflicts;
pub mod connector_settings;
pub mod dialog;
pub mod json_tree;
pub mod layout;
pub mod live;
pub mod operation_actions;
pub mod operations;
pub mod reconciliation;
pub mod schedules;
pub mod start_outcome;
pub mod toasts;
