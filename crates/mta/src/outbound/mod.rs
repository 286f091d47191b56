//! Outbound delivery (issue 15): where a message for a domain goes ([`route`]), the SMTP
//! client that hands it over, and the transport the queue runner calls for remote
//! recipients. The delivery status notifications mailward sends are built by
//! `mailward_message::dsn`, shared with the queue runner and the tracer.

pub mod route;
