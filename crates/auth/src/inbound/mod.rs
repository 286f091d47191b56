//! Checking a message that arrives on port 25 (issue 16): SPF, DKIM, ARC and DMARC
//! through [`crate::verify`] ([`assess`]), what the sender domain's DMARC policy asks for
//! and what we do about it ([`decide`]: deliver, deliver into Junk, refuse), and the header
//! fields that record it ([`Assessment::header_fields`]: `Received-SPF:` and
//! `Authentication-Results:`).
//!
//! The SMTP server calls this at the end of DATA, before the message is queued, so a
//! `p=reject` failure is answered with `550` rather than bounced later (RFC 9989 §5.8
//! prefers rejection during the SMTP transaction). Messages from authenticated clients
//! (submission) are not checked here: they are ours, not inbound.

mod assess;
mod decision;
mod settings;

pub use assess::{Assessment, Client, assess};
pub use decision::{Decision, PolicyOverride, decide};
pub use settings::{InboundSettings, RejectAs};
