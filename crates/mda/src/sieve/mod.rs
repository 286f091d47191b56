//! Sieve in local delivery (RFC 5228 and its extensions, issue 18): each account's active
//! script, with the administrator's global scripts before and after it, decides where a
//! copy goes, what is sent on its behalf (redirects, vacation replies, notifications) and
//! which programs run.

pub mod backend;
pub mod cache;
pub mod engine;
pub mod host;
pub mod plan;
pub mod program;
pub mod run;
pub mod settings;
pub mod spam;

pub use backend::SieveBackend;
pub use engine::{Engine, Evaluation, Interpreter, Unavailable};
pub use run::{Copy, Decision, Job, SendKind, Sending, SieveDelivery};
pub use settings::SieveSettings;
