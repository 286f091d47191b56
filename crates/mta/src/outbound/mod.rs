//! Outbound delivery (issue 15): where a message for a domain goes ([`route`]), the SMTP
//! client that hands it over, and the transport the queue runner calls for remote
//! recipients. The delivery status notifications mailward sends are built by
//! `mailward_message::dsn`, shared with the queue runner and the tracer.

pub mod config;
pub mod conn;
pub mod error;
pub mod mta_sts;
pub mod pool;
pub mod reply;
pub mod route;
pub mod session;
pub mod tls;
pub mod transport;
mod xtext;

pub use config::{OutboundConfig, Route, Smarthost, Timeouts, TlsPolicy};
pub use mailward_store::queue::RcptOutcome;
pub use tls::ClientTls;
pub use transport::{Job, Outbound};
