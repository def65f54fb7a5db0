//! One module per page (route).

pub mod connectors;
pub mod errors;
pub mod login;
pub mod logout;
pub mod operations;
