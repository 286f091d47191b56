//! Shared mail types for mailward.
//!
//! One grammar for the `Received:` header serves both the MTA that writes it and the
//! tracer that reads it (see `received`).

pub mod datetime;
pub mod dsn;
pub mod ipclass;
pub mod received;

pub use ipclass::IpClass;
pub use received::{Received, ReceivedAuth, ReceivedTls};
