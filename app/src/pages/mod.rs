//! One module per page (route).

pub mod conflict_detail;
pub mod conflicts;
pub mod connectors;
pub mod dead_letters;
pub mod errors;
pub mod login;
pub mod logout;
pub mod operation_detail;
pub mod operations;
pub mod reconciliation;
