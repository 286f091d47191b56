//! The result of one check, as RFC 8601 §2.7 names results, with the reason a person reads.

use std::fmt;

/// A check's result keyword (RFC 8601 §2.7.1-2.7.3, RFC 7208 §2.6, RFC 8617 §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// The identity was authenticated.
    Pass,
    /// The check ran and the identity is not authorised or the signature is wrong.
    Fail,
    /// SPF only (RFC 7208 §2.6.5): probably not authorised.
    SoftFail,
    /// The check ran but says nothing either way.
    Neutral,
    /// There was nothing to check (no record, no signature).
    None,
    /// A transient error, usually DNS: the same check may succeed later.
    TempError,
    /// A permanent error: a broken record or signature.
    PermError,
}

impl Status {
    /// The keyword written in `Authentication-Results:` and `Received-SPF:`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::SoftFail => "softfail",
            Status::Neutral => "neutral",
            Status::None => "none",
            Status::TempError => "temperror",
            Status::PermError => "permerror",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status with, unless it is a plain pass or none, the reason behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: Status,
    pub reason: Option<String>,
}

impl Verdict {
    /// A verdict without a reason.
    pub fn new(status: Status) -> Verdict {
        Verdict {
            status,
            reason: None,
        }
    }

    /// A verdict with a reason.
    pub fn because(status: Status, reason: impl Into<String>) -> Verdict {
        Verdict {
            status,
            reason: Some(reason.into()),
        }
    }
}
