//! The catalogue: one variant per event, one struct per event's own fields.
//!
//! Names are a contract with `mailward logs` and with whoever greps the log: a name or a
//! field is never renamed without an `alias` that keeps older logs readable.

use crate::sink::Level;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Text in an event: borrowed when emitted, owned when read back.
pub type Text<'a> = Cow<'a, str>;

/// Declares [`Event`] with, for each variant, its name on the wire, the names older
/// versions wrote (read back as the same variant) and its level.
macro_rules! catalogue {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident($payload:ty) = $name:literal $(| $alias:literal)*, $level:ident;
    )*) => {
        /// Every event mailward writes. See `docs/log-format.md` for each one's meaning.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "event")]
        pub enum Event<'a> {
            $(
                $(#[doc = $doc])*
                #[serde(rename = $name $(, alias = $alias)*)]
                $variant($payload),
            )*
            /// An event this version does not know (written by a newer version): read back
            /// as a line that is understood but carries nothing this reader uses.
            #[serde(other)]
            Unknown,
        }

        impl Event<'_> {
            /// Every event name, in catalogue order.
            pub const NAMES: &'static [&'static str] = &[$($name),*];

            /// The event's name, as written in the `event` field.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Event::$variant(_) => $name,)*
                    Event::Unknown => "unknown",
                }
            }

            /// One event of each kind with empty fields, in catalogue order (for tests and
            /// documentation checks).
            pub fn each_kind() -> Vec<Event<'static>> {
                vec![$(Event::$variant(Default::default())),*]
            }

            /// The level the event is written at (a library line carries its own).
            pub fn level(&self) -> Level {
                if let Event::Library(l) = self {
                    return l.level;
                }
                match self {
                    $(Event::$variant(_) => Level::$level,)*
                    Event::Unknown => Level::Info,
                }
            }
        }
    };
}

catalogue! {
    // ---- the service ----
    /// `mailward serve` is up: every listener is bound.
    Started(Started<'a>) = "started", Info;
    /// A stop signal arrived; sessions get a moment to finish.
    Stopping(NoFields) = "stopping", Info;
    /// Every service has stopped.
    Stopped(NoFields) = "stopped", Info;
    /// Spool files without a queue record (a crash before the commit) were removed.
    Recovered(Recovered) = "recovered", Info;
    /// Stale Maildir `tmp/` files (a crash mid-delivery) were removed.
    MaildirTmpCleaned(MaildirTmpCleaned) = "maildir_tmp_cleaned", Info;
    /// A listener is bound.
    Listening(Listening<'a>) = "listening", Info;
    /// `accept` failed (out of file descriptors, …); the listener retries.
    AcceptError(AcceptError<'a>) = "accept_error", Warn;

    // ---- connections, every protocol ----
    /// A client connected.
    Connect(Connect<'a>) = "connect", Info;
    /// A connection was refused before a session began (limits), or ended because its IP
    /// was blocked for authentication failures.
    Refused(Refused<'a>) = "refused", Info;
    /// TLS is established (STARTTLS/STLS, or at once on an implicit-TLS port).
    Tls(Tls<'a>) = "tls" | "tls_established", Info;
    /// Authentication succeeded (SMTP AUTH, IMAP LOGIN/AUTHENTICATE, POP3 USER/PASS/AUTH).
    Auth(Auth<'a>) = "auth" | "login", Info;
    /// Authentication failed.
    AuthFailed(AuthFailed<'a>) = "auth_failed", Info;
    /// The account store could not answer an authentication.
    AuthUnavailable(Reason<'a>) = "auth_unavailable", Warn;
    /// A command was answered with an error that is not a mail refusal: an IMAP `NO`/`BAD`,
    /// a POP3 `-ERR`, an SMTP protocol error (syntax, sequence, unknown command).
    CommandFailed(CommandFailed<'a>) = "command_failed", Info;
    /// The server closed the session: idle timeout, too many errors, unframeable input.
    Closed(Reason<'a>) = "closed" | "timeout", Info;
    /// The connection failed (reset, TLS error, write error).
    ConnectionError(Reason<'a>) = "connection_error", Info;
    /// Events of one kind that a session repeated past a cap were counted, not written
    /// (a client flooding the log with EHLO).
    Suppressed(Suppressed<'a>) = "suppressed", Info;
    /// The connection ended.
    Disconnect(Disconnect<'a>) = "disconnect", Info;

    // ---- SMTP ----
    /// HELO or EHLO.
    Helo(Helo<'a>) = "helo", Info;
    /// MAIL FROM accepted.
    MailFrom(MailFrom<'a>) = "mail_from", Info;
    /// RCPT TO accepted.
    Rcpt(Rcpt<'a>) = "rcpt", Info;
    /// RCPT TO refused.
    RcptRejected(RcptRejected<'a>) = "rcpt_rejected", Info;
    /// A message or a command carrying mail (MAIL, DATA, BDAT, a connection) refused with a
    /// 4xx/5xx reply.
    Rejected(Rejected<'a>) = "rejected", Info;
    /// A message arriving on port 25 was checked: SPF, DKIM, ARC and DMARC, and what its
    /// DMARC policy led to (`action`: `none`, `quarantine`, `reject`).
    MailAuth(MailAuth<'a>) = "mail_auth", Info;
    /// The security gateway ran one check on a message (`check`: `attachments`,
    /// `antivirus`, `sandbox`, `disarm`, `spam`) and what it asked for (`result`).
    FilterCheck(FilterCheck<'a>) = "filter_check", Info;
    /// The security gateway's verdict on a message (`action`: `accept`, `tag`, `junk`,
    /// `modify`, `quarantine`, `tempfail`, `reject`).
    FilterVerdict(FilterVerdict<'a>) = "filter_verdict", Info;
    /// A message was put in the quarantine (held, or the original of a disarmed message).
    Quarantined(Quarantined<'a>) = "quarantined", Info;
    /// A quarantined message was released to its recipients under a new queue ID.
    QuarantineReleased(QuarantineReleased<'a>) = "quarantine_released", Info;
    /// A message is durable in the queue and was acknowledged with 250.
    Queued(Queued<'a>) = "queued", Info;

    // ---- the queue runner and local delivery ----
    /// A recipient's copy was delivered.
    Delivered(Delivered<'a>) = "delivered", Info;
    /// A recipient's delivery failed temporarily and will be retried.
    Deferred(Deferred<'a>) = "deferred", Info;
    /// A recipient's delivery failed permanently.
    Bounced(Bounced<'a>) = "bounced", Info;
    /// A recipient was given up after the queue's maximum age.
    Expired(Expired<'a>) = "expired", Info;
    /// A delivery status notification about this message was queued for its sender (RFC
    /// 3464); `report_id` is the report's own queue ID.
    ReportQueued(ReportQueued<'a>) = "report_queued", Info;
    /// A Sieve run for one account's copy (issue 18): the scripts run (`script`: global
    /// before scripts, the account's active one, after scripts, comma-separated), the
    /// actions taken, evaluation steps and time.
    SieveRun(SieveRun<'a>) = "sieve_run", Info;
    /// A Sieve script did not compile or stopped with an error; the message was kept in
    /// INBOX (RFC 5228 §2.10.6).
    SieveError(SieveError<'a>) = "sieve_error", Warn;
    /// A Sieve vacation reply (RFC 5230) was queued; `reply_id` is its queue ID.
    VacationSent(VacationSent<'a>) = "vacation_sent", Info;
    /// A Sieve vacation reply was not sent (`reason`: `null_sender`, `auto_submitted`,
    /// `mailing_list`, `precedence`, `automated_sender`, `own_address`, `not_addressed`,
    /// `period`).
    VacationSuppressed(VacationSuppressed<'a>) = "vacation_suppressed", Info;
    /// A Sieve redirect (RFC 5228 §4.2) or notification was queued (`kind`: `redirect`,
    /// `notify`); `sent_id` is its queue ID.
    RedirectSent(RedirectSent<'a>) = "redirect_sent", Info;
    /// A Sieve action was not carried out (`action`, `reason`): a redirect loop, too many
    /// redirects, a refused notification, a missing folder filed into INBOX instead.
    SieveActionRefused(SieveActionRefused<'a>) = "sieve_action_refused", Info;
    /// A triggered program ran (Pigeonhole's extprograms: `kind` `pipe`, `filter` or
    /// `execute`): its exit status (`status`, `timeout` or `error`) and time.
    ProgramRun(ProgramRun<'a>) = "program_run", Info;
    /// Remote retrieval: a poll of a `[[fetch]]` entry began.
    FetchStarted(FetchStarted<'a>) = "fetch_started", Info;
    /// Remote retrieval: a message was queued for the local account (`remote_uid`: the
    /// POP3 UIDL or IMAP `UIDVALIDITY.UID`).
    FetchMessage(FetchMessage<'a>) = "fetch_message", Info;
    /// Remote retrieval: a poll ended; `count` messages taken, `errors` skipped.
    FetchDone(FetchDone<'a>) = "fetch_done", Info;
    /// Remote retrieval: a poll stopped early (connection, TLS, login, protocol).
    FetchFailed(FetchFailed<'a>) = "fetch_failed", Warn;
    /// The queue could not be scanned.
    QueueScanFailed(Reason<'a>) = "queue_scan_failed", Warn;
    /// The system's resolver configuration could not be used; a fallback is (`reason`).
    ResolverFallback(Reason<'a>) = "resolver_fallback", Warn;
    /// A message could not be DKIM-signed (a key or signing error); it was sent unsigned.
    DkimSignFailed(Reason<'a>) = "dkim_sign_failed", Warn;
    /// A queue record could not be updated after a delivery attempt.
    QueueUpdateFailed(Reason<'a>) = "queue_update_failed", Warn;

    // ---- IMAP and POP3 ----
    /// IMAP SELECT or EXAMINE.
    Select(Select<'a>) = "select", Info;
    /// A SELECT/EXAMINE with QRESYNC resynchronized (RFC 7162 §3.2.5).
    Qresync(Qresync<'a>) = "qresync", Info;
    /// The client's RFC 2971 ID.
    ClientId(ClientId<'a>) = "client_id", Info;
    /// A store error answered `NO [SERVERBUG]` or `[UNAVAILABLE]`.
    MailboxError(Reason<'a>) = "mailbox_error", Warn;
    /// The ENVELOPE/BODYSTRUCTURE cache could not be written (answers are unaffected).
    CacheError(Reason<'a>) = "cache_error", Warn;
    /// A POP3 session ended: what it retrieved and removed.
    Logout(Logout<'a>) = "logout", Info;
    /// POP3: `\Seen` could not be set on a retrieved message.
    FlagError(FlagError<'a>) = "flag_error" | "pop3_flag_error", Warn;
    /// POP3: the removals of a QUIT could not be committed.
    CommitFailed(Reason<'a>) = "commit_failed" | "pop3_commit_failed", Warn;

    // ---- ManageSieve (RFC 5804) ----
    /// A Sieve script was stored (PUTSCRIPT, `mailward sieve put`).
    SieveScriptPut(SieveScriptPut<'a>) = "sieve_script_put", Info;
    /// The active Sieve script changed (`name` empty: none is active).
    SieveScriptActivated(SieveScriptName<'a>) = "sieve_script_activated", Info;
    /// A Sieve script was deleted.
    SieveScriptDeleted(SieveScriptName<'a>) = "sieve_script_deleted", Info;
    /// A Sieve script was renamed.
    SieveScriptRenamed(SieveScriptRenamed<'a>) = "sieve_script_renamed", Info;
    /// A script sent with PUTSCRIPT or CHECKSCRIPT did not compile.
    SieveScriptInvalid(SieveScriptInvalid<'a>) = "sieve_script_invalid", Info;

    // ---- lines from libraries ----
    /// A line a library logged (through `tracing` or `log`), in the same shape.
    Library(Library<'a>) = "library", Info;
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SieveScriptPut<'a> {
    /// The account.
    pub user: Text<'a>,
    /// The script's name.
    pub name: Text<'a>,
    pub size: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SieveScriptName<'a> {
    pub user: Text<'a>,
    pub name: Text<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SieveScriptRenamed<'a> {
    pub user: Text<'a>,
    pub name: Text<'a>,
    pub new_name: Text<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SieveScriptInvalid<'a> {
    pub user: Text<'a>,
    /// The script's name (empty for CHECKSCRIPT).
    pub name: Text<'a>,
    /// `LINE:COL: reason`.
    pub reason: Text<'a>,
}

/// An event with no fields of its own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NoFields {}

/// Just a reason.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Reason<'a> {
    pub reason: Text<'a>,
}

impl<'a> Reason<'a> {
    pub fn new(reason: impl Into<Text<'a>>) -> Self {
        Reason {
            reason: reason.into(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Started<'a> {
    pub data_dir: Text<'a>,
    pub hostname: Text<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Recovered {
    pub removed_spool_files: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MaildirTmpCleaned {
    pub removed_tmp_files: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Listening<'a> {
    /// `smtp`, `submission`, `submissions`, `imap`, `imaps`, `pop3`, `pop3s`.
    pub listener: Text<'a>,
    pub address: Text<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AcceptError<'a> {
    pub listener: Text<'a>,
    pub reason: Text<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Connect<'a> {
    pub listener: Text<'a>,
    pub remote_port: u16,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Refused<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listener: Option<Text<'a>>,
    /// What the client was told: `421 4.7.0`, `* BYE`, `-ERR [SYS/TEMP]`.
    pub code: Text<'a>,
    /// `TooManyConnections`, `RateExceeded`, `Blocked`, `too many authentication failures`.
    pub reason: Text<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tls<'a> {
    /// `TLSv1.3`, `TLSv1.2`.
    #[serde(alias = "version")]
    pub tls_version: Text<'a>,
    #[serde(alias = "cipher")]
    pub tls_cipher: Text<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Auth<'a> {
    /// The account logged in to.
    pub user: Text<'a>,
    /// `PLAIN`, `LOGIN`, `USER` (POP3 USER/PASS).
    pub mechanism: Text<'a>,
    /// POP3: messages in the maildrop.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthFailed<'a> {
    /// The user name as given (control characters escaped).
    pub user: Text<'a>,
    pub mechanism: Text<'a>,
    /// `invalid credentials`, `authorization identity differs`, `malformed response`,
    /// `plaintext authentication before TLS`, `maildrop in use`, ….
    pub reason: Text<'a>,
    /// Failures in this session so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failures: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CommandFailed<'a> {
    /// The command's name (`UNSUBSCRIBE`, `RETR`, `MAIL`), upper case; `?` when unparsed.
    pub command: Text<'a>,
    /// The status as the client saw it: `NO [NONEXISTENT]`, `BAD`, `-ERR [AUTH]`,
    /// `501 5.5.4`.
    pub code: Text<'a>,
    /// The text of the answer.
    pub reason: Text<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Suppressed<'a> {
    /// The event not written (`helo`).
    pub suppressed: Text<'a>,
    /// How many were not written.
    pub count: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Disconnect<'a> {
    /// The account, if one logged in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<Text<'a>>,
    pub commands: u64,
    /// Seconds.
    pub duration: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Helo<'a> {
    pub helo: Text<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MailFrom<'a> {
    pub from: Text<'a>,
    /// The declared SIZE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Rcpt<'a> {
    pub to: Text<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RcptRejected<'a> {
    pub to: Text<'a>,
    /// `550 5.1.1`.
    pub code: Text<'a>,
    pub reason: Text<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Rejected<'a> {
    /// `CONNECT`, `MAIL`, `DATA`, `BDAT`, `AUTH`; absent in logs of older versions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Text<'a>>,
    /// `554 5.7.1`.
    pub code: Text<'a>,
    pub reason: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Text<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Queued<'a> {
    pub from: Text<'a>,
    /// Comma-separated.
    pub to: Text<'a>,
    pub nrcpt: u64,
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<Text<'a>>,
    /// The SASL user, if the session authenticated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<Text<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Delivered<'a> {
    pub to: Text<'a>,
    /// Local delivery: `domain/user/Folder`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mailbox: Option<Text<'a>>,
    /// Remote delivery: the host it was handed to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relay: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// Seconds since the message was queued.
    pub delay: f64,
    /// `sent`.
    pub status: Text<'a>,
    /// Remote delivery: TLS as negotiated (`TLSv1_3 TLS13_AES_256_GCM_SHA384 verified`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<Text<'a>>,
    /// Remote delivery: the server's reply to the end of data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<Text<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Deferred<'a> {
    pub to: Text<'a>,
    pub reason: Text<'a>,
    pub attempt: u32,
    pub delay: f64,
    /// Remote delivery: the host that answered (`mx.b.test[192.0.2.1]:25`), if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relay: Option<Text<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Bounced<'a> {
    pub to: Text<'a>,
    pub reason: Text<'a>,
    /// `5.2.2`.
    pub dsn: Text<'a>,
    /// Remote delivery: the host that refused it, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relay: Option<Text<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MailAuth<'a> {
    /// SPF result (RFC 7208 §2.6) for `spf_domain` (MAIL FROM, or HELO for `<>`).
    pub spf: Text<'a>,
    pub spf_domain: Text<'a>,
    /// Each signature as `d=domain:result`, or `none`.
    pub dkim: Text<'a>,
    pub arc: Text<'a>,
    pub dmarc: Text<'a>,
    /// The RFC 5322.From domain DMARC evaluated.
    pub from_domain: Text<'a>,
    /// The policy that applied (`none`, `quarantine`, `reject`; `t=y` applied), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<Text<'a>>,
    /// What was done: `none` (delivered), `quarantine` (into Junk), `reject` (550).
    pub action: Text<'a>,
    /// Why a failing policy was not applied (`trusted_forwarder: ...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_override: Option<Text<'a>>,
    /// Microseconds the checks took, DNS included.
    pub us: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FilterCheck<'a> {
    /// `attachments`, `antivirus`, `sandbox`, `disarm`, `spam`.
    pub check: Text<'a>,
    /// What the check asks for: `accept`, `tag`, `junk`, `modify`, `quarantine`,
    /// `tempfail`, `reject`.
    pub result: Text<'a>,
    /// The deciding finding's code (`blocked_extension`, `virus`, `vba_macro`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<Text<'a>>,
    /// What was found, for a person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Text<'a>>,
    /// The spam score (the `spam` check).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Microseconds the check took.
    pub us: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FilterVerdict<'a> {
    pub action: Text<'a>,
    /// The spam score (0 when the score did not run).
    pub score: f64,
    /// The deciding finding, for a person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Text<'a>>,
    /// Microseconds the whole gateway took.
    pub us: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Quarantined<'a> {
    /// `held` or `disarmed_original`.
    pub kind: Text<'a>,
    pub reason: Text<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QuarantineReleased<'a> {
    /// The queue ID the released message is delivered under.
    pub released_as: Text<'a>,
    pub to: Text<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FetchStarted<'a> {
    /// The `[[fetch]]` entry's name.
    pub account: Text<'a>,
    /// `pop3` or `imap` (not `protocol`: that is the scope's field).
    pub remote_protocol: Text<'a>,
    pub host: Text<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FetchMessage<'a> {
    pub account: Text<'a>,
    pub remote_uid: Text<'a>,
    /// Bytes as fetched (before `Received:`).
    pub size: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FetchDone<'a> {
    pub account: Text<'a>,
    pub count: u64,
    pub errors: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FetchFailed<'a> {
    pub account: Text<'a>,
    pub reason: Text<'a>,
    /// Messages taken before it stopped.
    pub count: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReportQueued<'a> {
    pub report_id: Text<'a>,
    /// The original sender.
    pub to: Text<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SieveRun<'a> {
    pub account: Text<'a>,
    /// The scripts that ran, in order, comma-separated (`before:NAME`, `NAME`, `after:NAME`).
    pub script: Text<'a>,
    /// The actions carried out, comma-separated (`keep`, `fileinto:Lists`, `redirect`, ...).
    pub actions: Text<'a>,
    /// Evaluation steps (0 when the interpreter does not count them).
    pub steps: u64,
    /// Microseconds the run took (compilation from the cache included).
    pub us: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SieveError<'a> {
    pub account: Text<'a>,
    pub script: Text<'a>,
    /// `compile` or `runtime`.
    pub phase: Text<'a>,
    pub reason: Text<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VacationSent<'a> {
    pub account: Text<'a>,
    pub to: Text<'a>,
    pub reply_id: Text<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VacationSuppressed<'a> {
    pub account: Text<'a>,
    pub to: Text<'a>,
    pub reason: Text<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RedirectSent<'a> {
    pub account: Text<'a>,
    /// `redirect` or `notify`.
    pub kind: Text<'a>,
    pub to: Text<'a>,
    pub sent_id: Text<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SieveActionRefused<'a> {
    pub account: Text<'a>,
    pub action: Text<'a>,
    pub reason: Text<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProgramRun<'a> {
    pub account: Text<'a>,
    /// `pipe`, `filter` or `execute`.
    pub kind: Text<'a>,
    pub name: Text<'a>,
    /// The exit code, or `timeout`, `signal`, `refused`, `error`.
    pub status: Text<'a>,
    pub ms: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Expired<'a> {
    pub to: Text<'a>,
    pub reason: Text<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Select<'a> {
    pub mailbox: Text<'a>,
    pub messages: u64,
    pub read_only: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Qresync<'a> {
    pub mailbox: Text<'a>,
    pub vanished: u64,
    pub changed: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientId<'a> {
    pub id: Text<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Logout<'a> {
    pub user: Text<'a>,
    /// `quit`, `closed`, `timeout`, `errors`, `commit failed`.
    pub reason: Text<'a>,
    pub retr: u64,
    pub retr_bytes: u64,
    pub top: u64,
    /// Messages removed at QUIT.
    pub dele: u64,
    /// Messages marked with DELE (removed only when the reason is `quit`).
    pub marked: u64,
    pub left: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FlagError<'a> {
    pub user: Text<'a>,
    pub uid: u32,
    pub reason: Text<'a>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Library<'a> {
    /// The library's module path (`rustls::server::hs`).
    pub target: Text<'a>,
    pub message: Text<'a>,
    #[serde(skip)]
    pub level: Level,
}
