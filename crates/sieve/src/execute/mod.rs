//! Result execution, the pure part: given the message, its envelope, the environment and
//! one final [`crate::Action`], build what must be sent (a vacation reply, a redirected
//! copy, a notification) or say why nothing may be sent. No I/O: the delivery agent
//! enqueues the [`Outgoing`] messages and keeps the state (vacation periods, duplicates).

pub mod compose;
pub mod header;
pub mod notify;
pub mod redirect;
pub mod vacation;

pub use notify::{NotifyRefused, notify_message};
pub use redirect::{LOOP_FIELD, RedirectRefused, redirect_message};
pub use vacation::{
    VacationPolicy, VacationRequest, VacationSuppressed, check_vacation, vacation_reply,
};

/// A message to hand to the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The envelope sender (MAIL FROM); empty for the null sender `<>`.
    pub from: String,
    /// The envelope recipients (RCPT TO).
    pub to: Vec<String>,
    /// The whole message, header and body, CRLF line ends.
    pub message: Vec<u8>,
}
