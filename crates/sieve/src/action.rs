//! What a script asks the delivery agent to do: the final actions, in the order the script
//! gave them (RFC 5228 §2.10), the implicit keep included when it applies (§2.10.2).

use serde::Serialize;

/// One final action. Serialised as `mailward sieve test --json` prints it: an object with
/// `"action"` naming the variant and its fields beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum Action {
    /// RFC 5228 §4.3 keep, explicit or implicit (§2.10.2), with the RFC 5232 flags in
    /// effect.
    Keep { flags: Vec<String>, implicit: bool },
    /// RFC 5228 §4.1 fileinto, with RFC 3894 `:copy`, RFC 5232 `:flags`, RFC 5490
    /// `:create` and RFC 8579 `:specialuse`.
    #[serde(rename = "fileinto")]
    FileInto {
        mailbox: String,
        flags: Vec<String>,
        copy: bool,
        create: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        special_use: Option<String>,
    },
    /// RFC 5228 §4.2 redirect, with RFC 3894 `:copy`.
    Redirect { address: String, copy: bool },
    /// RFC 5228 §4.4 discard.
    Discard,
    /// RFC 5429 reject (`extended: false`) and ereject (`extended: true`).
    Reject { reason: String, extended: bool },
    /// RFC 5230 vacation (with RFC 6131 `:seconds`): `to` is the address the reply goes to
    /// (the envelope sender); `seconds` the period, after `:days` was turned into seconds.
    Vacation {
        to: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        subject: Option<String>,
        reason: String,
        mime: bool,
        handle: String,
        seconds: u64,
        addresses: Vec<String>,
    },
    /// RFC 5435 notify.
    Notify {
        method: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        importance: Option<u8>,
        options: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// Pigeonhole's vnd.dovecot.pipe (an action: the message goes to the program after the
    /// script ran). `filter` and `execute` run during evaluation through [`crate::Host`].
    Pipe {
        program: String,
        args: Vec<String>,
        copy: bool,
    },
}

/// The three commands of the extprograms extension (Pigeonhole's vnd.dovecot.pipe,
/// vnd.dovecot.filter, vnd.dovecot.execute).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProgramKind {
    Pipe,
    Filter,
    Execute,
}
