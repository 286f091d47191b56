//! mailward's security gateway: every message is inspected before it is queued.
//!
//! The [`Gateway`] runs a pipeline of checks over one parsed view of the message
//! ([`mime::walk`]) and reaches one [`Verdict`]:
//! - [`attachments`]: the file block list, by name and by real type, inside archives too;
//! - [`antivirus`]: a ClamAV daemon over its INSTREAM protocol;
//! - [`sandbox`]: an external command or HTTP endpoint for the attachment types configured;
//! - [`cdr`]: content disarm and reconstruction (Office macros, PDF actions, HTML scripts);
//! - [`spam`]: header and body rules, DNS block lists, links and the mail-authentication
//!   verdicts, or a real rspamd;
//! - [`quarantine`]: what is held, with its reason, until an administrator releases it.
//!
//! The checks are pure or do their I/O through the handles the gateway is built with, so
//! each is unit-tested without sockets; the verdict is written into `X-Mailward-*` fields
//! ([`headers`]), and the ones an incoming message carries are removed first.

pub mod antivirus;
pub mod attachments;
pub mod cdr;
pub mod context;
pub mod error;
pub mod gateway;
pub mod headers;
pub mod http;
pub mod mime;
pub mod quarantine;
pub mod rspamd;
pub mod sandbox;
pub mod spam;
pub mod verdict;

pub use context::Context;
pub use error::FilterError;
pub use gateway::{Gateway, GatewaySettings, Inspection};
pub use verdict::{Action, Check, Finding, Verdict};
