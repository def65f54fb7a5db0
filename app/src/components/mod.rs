//! Components shared by pages.

pub mod common;
pub mod layout;
pub mod operations;
pub mod toasts;
