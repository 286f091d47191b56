//! Outbound delivery (issue 15), built in steps: where a message for a domain goes
//! ([`route`]) and the delivery status notifications mailward sends ([`dsn`]) come first; the SMTP client, TLS policy and the queue runner's remote
//! attempts follow and use it.

pub mod dsn;
pub mod route;
