//! The IMAP session state machine (RFC 9051 §3): Not Authenticated → Authenticated →
//! Selected → Logout. Pure of sockets: the driver feeds received octets with
//! [`Session::feed`], calls [`Session::advance`] and writes what [`Session::take_output`]
//! gives. `advance` processes buffered input until it needs more or an [`Action`] is due
//! (TLS handshake, IDLE wait, close).
//!
//! Authentication and mailbox access go through the [`crate::backend`] traits, which may
//! block: run `advance` where blocking is fine (e.g. `tokio::task::block_in_place` or a
//! blocking thread that owns the session).
//!
//! Driver outline:
//! ```text
//! session.greeting();  write(take_output())
//! loop {
//!     read → session.feed(bytes)
//!     while let Some(action) = session.advance() {
//!         write(take_output())
//!         match action {
//!             StartTls   => handshake; session.tls_established()
//!             Authenticate => admit the check (shared ledger), outcome =
//!                           session.check_credentials() (may block), wait the failure
//!                           delay if it failed, then session.auth_answer(outcome)
//!             AuthFailed => record the IP's failure (nothing was checked), continue
//!             Idle       => sub = session.watch(wake); wait for (input | wake | timeout):
//!                           input → feed + advance (DONE ends IDLE);
//!                           wake → session.poll_changes(); write(take_output())
//!             Close      => write(take_output()); close
//!         }
//!     }
//!     write(take_output())
//! }
//! ```
//! Timeouts: [`Session::read_timeout`] (RFC 9051 §5.4: at least 30 minutes once
//! authenticated; shorter before).
//!
//! Implemented here: CAPABILITY, NOOP, LOGOUT (any state); STARTTLS, LOGIN, AUTHENTICATE
//! PLAIN with SASL-IR (not authenticated); ENABLE, NAMESPACE, ID, IDLE (authenticated).
//! The mailbox commands (SELECT, FETCH, ...) answer `BAD` until they are written over
//! [`crate::backend::MailboxBackend`] (see [`Session::mailbox_command`]).

mod append;
pub mod capability;
mod catenate;
mod context;
mod fetch;
mod light;
mod mailboxes;
pub mod metadata;
mod notify;
mod notify_filter;
mod own_parsed;
pub mod qresync;
pub mod respond;
mod search;
pub mod selected;
mod sort;
mod thread;
mod urlauth;

pub use mailboxes::special_use_from;

use crate::backend::{
    AuthOutcome, Authenticator, Credentials, MailboxBackend, Mechanism, Subscription,
};
use crate::limits::Limits;
use crate::wire::{self, Frame, Framer, LineFrame, Rejection, encode};
use capability::{CapabilityContext, Enabled};
use imap_codec::imap_types::auth::AuthMechanism;
use imap_codec::imap_types::command::{Command, CommandBody};
use imap_codec::imap_types::core::{IString, NString, QuotedChar, Tag, Vec1};
use imap_codec::imap_types::extensions::enable::CapabilityEnable;
use imap_codec::imap_types::extensions::namespace::Namespace;
use imap_codec::imap_types::extensions::utf8::Utf8Kind;
use imap_codec::imap_types::response::{Code, Data, Greeting, GreetingKind, StatusKind};
use mailward_event::{Auth, AuthFailed, ClientId, CommandFailed, Event, Protocol, Reason, Scope};
use mailward_net::sasl;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// Settings shared by the sessions of a listener.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Shown in the greeting.
    pub hostname: String,
    /// A TLS configuration exists, so STARTTLS can be offered.
    pub tls_available: bool,
    /// Allow LOGIN/AUTHENTICATE without TLS from loopback (development, benchmarks;
    /// DESIGN.md: "Authentication only over TLS, except on loopback").
    pub plaintext_auth_on_loopback: bool,
    pub limits: Limits,
    /// Our ID (RFC 2971 §3.3) fields.
    pub server_id: Vec<(String, String)>,
    /// The `/shared/admin` server annotation (RFC 5464 §3.2.1.1): a URI to reach the
    /// administrator, such as `mailto:postmaster@example.com`; none when `None`.
    pub admin: Option<String>,
}

impl SessionConfig {
    pub fn new(hostname: impl Into<String>) -> Self {
        SessionConfig {
            hostname: hostname.into(),
            tls_available: false,
            plaintext_auth_on_loopback: false,
            limits: Limits::default(),
            server_id: vec![
                ("name".into(), "mailward".into()),
                ("version".into(), env!("CARGO_PKG_VERSION").into()),
            ],
            admin: None,
        }
    }
}

/// What the driver must do before the session can go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write the output, run the TLS handshake, then call [`Session::tls_established`]
    /// (input received before the handshake has been dropped, RFC 9051 §6.2.1).
    StartTls,
    /// LOGIN or AUTHENTICATE presented credentials: admit the check (the shared
    /// authentication ledger), run [`Session::check_credentials`] where blocking is fine,
    /// serve a failure's delay, then answer with [`Session::auth_answer`]. Nothing else is
    /// read until then.
    Authenticate,
    /// A LOGIN or AUTHENTICATE failed before any password was checked (malformed or
    /// refused exchange; already answered): count it for the client's IP, then call
    /// `advance` again.
    AuthFailed { user: String, failures: u32 },
    /// The client is in IDLE (RFC 2177): write the output, then wait for input (feed +
    /// advance; DONE ends IDLE), for a change notification ([`Session::watch`] then
    /// [`Session::poll_changes`]) or for [`Limits::idle_command_timeout`]
    /// ([`Session::idle_timed_out`]).
    Idle,
    /// Write the output and close the connection.
    Close,
}

/// RFC 9051 §3 connection states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    NotAuthenticated,
    Authenticated,
    Selected(SelectedMailbox),
    Logout,
}

/// The selected mailbox as the session tracks it (RFC 9051 §2.3.1.2: message sequence
/// number n is `uids[n - 1]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedMailbox {
    /// UTF-8 name.
    pub name: String,
    pub read_only: bool,
    pub uid_validity: u32,
    pub uid_next: u32,
    pub highest_modseq: u64,
    /// Copy-on-write: shared with other sessions of the same mailbox until changed.
    pub uids: std::sync::Arc<Vec<u32>>,
    /// RFC 3501 §2.3.2: UID ranges `[from, to)` of the messages that are `\Recent` to this
    /// session (claimed at SELECT and when new messages arrive).
    pub recent: Vec<(u32, u32)>,
}

impl SelectedMailbox {
    /// The message is `\Recent` to this session.
    pub fn is_recent(&self, uid: u32) -> bool {
        self.recent.iter().any(|&(a, b)| uid >= a && uid < b)
    }

    /// How many of the messages are `\Recent` to this session.
    pub fn recent_count(&self) -> usize {
        self.uids.iter().filter(|&&u| self.is_recent(u)).count()
    }
}

/// What the input is read as.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    Command,
    /// Waiting for the client's SASL response line (RFC 9051 §6.2.2).
    Authenticate {
        tag: Tag<'static>,
    },
    /// In IDLE, waiting for DONE (RFC 2177 §3).
    Idle {
        tag: Tag<'static>,
    },
    /// STARTTLS answered, waiting for the handshake.
    TlsPending,
    /// LOGIN or AUTHENTICATE waiting for the driver's password check.
    Verifying,
    Closed,
}

/// One IMAP session.
pub struct Session {
    cfg: Arc<SessionConfig>,
    auth: Arc<dyn Authenticator>,
    pub id: String,
    pub remote_ip: IpAddr,
    /// The connection's event scope (`protocol`, `session`, `remote_ip`).
    pub scope: Scope<'static>,
    /// The name of the command being answered, for `command_failed`.
    command: &'static str,
    /// When a client that has not authenticated is dropped.
    login_deadline: std::time::Instant,
    tls: bool,
    state: State,
    mode: Mode,
    framer: Framer,
    output: Vec<u8>,
    enabled: Enabled,
    user: Option<String>,
    backend: Option<Box<dyn MailboxBackend>>,
    bad_commands: u32,
    auth_failures: u32,
    /// The tag and credentials of the check in [`Mode::Verifying`].
    pending_auth: Option<(Tag<'static>, Credentials)>,
    /// The client's ID (RFC 2971), for the log.
    client_id: Vec<(String, Option<String>)>,
    /// Commands seen (for the `disconnect` log line).
    pub commands: u64,
    /// Syntax of the command at hand that imap-codec does not parse (see
    /// [`wire::extended`]).
    ext: wire::extended::Extension,
    /// (UID, MODSEQ) of flag changes this session made itself: already reported to the
    /// client (or silenced by .SILENT), so [`Session::poll_changes`] does not echo them.
    own_changes: Vec<(u32, u64)>,
    /// Where a long response goes while it is being produced (see [`OutputStream`]).
    stream: Option<OutputStream>,
    /// The keywords of the FLAGS response the client last had for the selected mailbox
    /// (RFC 3501 §7.2.6: a keyword is announced before a FETCH shows it).
    keywords_announced: Vec<String>,
    /// RFC 5267 §4.3 UPDATE contexts of the selected mailbox.
    contexts: context::Contexts,
    /// RFC 5465 NOTIFY, once set.
    notify: Option<Box<notify::NotifyState>>,
}

/// Takes a finished piece of a long response (FETCH of many messages) while the command is
/// still running, so the client can parse while the server works; `false` once the
/// connection is gone. Without one, the whole response waits in [`Session::take_output`].
pub type OutputStream = Box<dyn FnMut(Vec<u8>) -> bool + Send>;

/// Bytes of response gathered before a piece is handed to the [`OutputStream`].
const STREAM_PIECE: usize = 256 * 1024;

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

fn printable(s: &[u8], max: usize) -> String {
    String::from_utf8_lossy(s)
        .chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect()
}

/// RFC 2971 §3.3: field strings at most 30 octets, values at most 1024, at most 30 pairs.
const ID_MAX_PAIRS: usize = 30;
const ID_MAX_FIELD: usize = 30;
const ID_MAX_VALUE: usize = 1024;

impl Session {
    pub fn new(
        cfg: Arc<SessionConfig>,
        auth: Arc<dyn Authenticator>,
        id: String,
        remote_ip: IpAddr,
    ) -> Self {
        let framer = Framer::new(cfg.limits.clone());
        let login_deadline = std::time::Instant::now() + cfg.limits.login_timeout;
        Session {
            cfg,
            auth,
            scope: Scope::connection(Protocol::Imap, id.as_str(), remote_ip),
            command: "?",
            login_deadline,
            id,
            remote_ip,
            tls: false,
            state: State::NotAuthenticated,
            mode: Mode::Command,
            framer,
            output: Vec::new(),
            enabled: Enabled::default(),
            user: None,
            backend: None,
            bad_commands: 0,
            auth_failures: 0,
            pending_auth: None,
            client_id: Vec::new(),
            commands: 0,
            ext: wire::extended::Extension::None,
            own_changes: Vec::new(),
            stream: None,
            keywords_announced: Vec::new(),
            contexts: context::Contexts::default(),
            notify: None,
        }
    }

    /// Sets where pieces of long responses go (the server's socket writer).
    pub fn set_output_stream(&mut self, stream: Option<OutputStream>) {
        self.stream = stream;
    }

    /// For implicit TLS (port 993, RFC 8314): TLS was up before the greeting.
    pub fn set_tls(&mut self) {
        self.tls = true;
    }

    /// RFC 9051 §7.1.1: the greeting, with the capabilities (§7.2.2 lets a server send them
    /// in a response code so the client need not ask).
    pub fn greeting(&mut self) {
        let text = format!("{} mailward IMAP4rev2 server ready", self.cfg.hostname);
        let g = Greeting {
            kind: GreetingKind::Ok,
            code: Some(Code::Capability(self.capabilities())),
            text: encode::text(&text),
        };
        encode::greeting(&mut self.output, &g);
    }

    /// Appends received octets.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.mode == Mode::TlsPending || self.mode == Mode::Closed {
            // RFC 9051 §6.2.1: nothing sent before the handshake may be used after it.
            return;
        }
        self.framer.push(bytes);
    }

    /// Responses produced so far.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    pub fn has_output(&self) -> bool {
        !self.output.is_empty()
    }

    pub fn is_closed(&self) -> bool {
        self.mode == Mode::Closed
    }

    pub fn is_idling(&self) -> bool {
        matches!(self.mode, Mode::Idle { .. })
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// The authenticated account, if any.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    pub fn enabled(&self) -> Enabled {
        self.enabled
    }

    pub fn auth_failures(&self) -> u32 {
        self.auth_failures
    }

    /// The client's ID fields (RFC 2971), as received.
    pub fn client_id(&self) -> &[(String, Option<String>)] {
        &self.client_id
    }

    /// Octets of input held for the command being read (for limits tests and monitoring).
    pub fn framer_buffered(&self) -> usize {
        self.framer.held()
    }

    /// A CONDSTORE-enabling command (RFC 7162 §3.1) was seen. The first one in a session
    /// with a mailbox selected is followed by `* OK [HIGHESTMODSEQ n]` (§3.1: the client
    /// learns the mailbox's mod-sequence it did not ask SELECT for).
    fn enable_condstore(&mut self) {
        if self.enabled.condstore {
            return;
        }
        self.enabled.condstore = true;
        if let State::Selected(sel) = &self.state {
            let line = format!("* OK [HIGHESTMODSEQ {}] Highest\r\n", sel.highest_modseq);
            self.output.extend_from_slice(line.as_bytes());
        }
    }

    /// How long to wait for the client's next input (RFC 9051 §5.4).
    pub fn read_timeout(&self) -> Duration {
        match (&self.state, &self.mode) {
            (_, Mode::Idle { .. }) => self.cfg.limits.idle_command_timeout,
            // An absolute deadline: a client that sends a byte now and then does not get
            // a fresh minute each time.
            (State::NotAuthenticated, _) => self
                .login_deadline
                .saturating_duration_since(std::time::Instant::now()),
            _ => self.cfg.limits.idle_timeout,
        }
    }

    /// How long one write may wait for a client that does not read: before login, what is
    /// left of the login deadline (a client that stops reading cannot outlast it); after,
    /// [`Limits::write_timeout`].
    pub fn write_timeout(&self) -> Duration {
        match self.state {
            State::NotAuthenticated => self
                .login_deadline
                .saturating_duration_since(std::time::Instant::now())
                .max(Duration::from_secs(1)),
            _ => self.cfg.limits.write_timeout,
        }
    }

    /// Authentication may happen on this connection now.
    fn auth_allowed(&self) -> bool {
        self.tls
            || (self.cfg.plaintext_auth_on_loopback && mailward_net::is_loopback(self.remote_ip))
    }

    fn capabilities(&self) -> Vec1<imap_codec::imap_types::response::Capability<'static>> {
        capability::capabilities(&CapabilityContext {
            starttls: self.cfg.tls_available && !self.tls,
            auth_allowed: self.auth_allowed(),
            authenticated: self.user.is_some(),
            append_limit: self.cfg.limits.max_append,
        })
    }

    // ---- output helpers -------------------------------------------------------------

    fn ok(&mut self, tag: &Tag<'static>, code: Option<Code<'static>>, text: &str) {
        encode::status(
            &mut self.output,
            Some(tag.clone()),
            StatusKind::Ok,
            code,
            text,
        );
    }

    fn no(&mut self, tag: &Tag<'static>, code: Option<Code<'static>>, text: &str) {
        let start = self.output.len();
        encode::status(
            &mut self.output,
            Some(tag.clone()),
            StatusKind::No,
            code,
            text,
        );
        self.log_failure(start);
    }

    /// A tagged status line (`respond::tagged`); a `NO` or `BAD` is logged as
    /// `command_failed`.
    fn tagged(&mut self, tag: &Tag<'_>, kind: &str, code: Option<&str>, text: &str) {
        let start = self.output.len();
        respond::tagged(&mut self.output, tag, kind, code, text);
        if kind == "NO" || kind == "BAD" {
            self.log_failure(start);
        }
    }

    /// The `command_failed` event of the NO or BAD just written from `start` of the
    /// output: the status and response code as the client saw them, and the text.
    fn log_failure(&self, start: usize) {
        let written = self.output.get(start..).unwrap_or_default();
        let line = written.split(|&b| b == b'\r').next().unwrap_or_default();
        let line = String::from_utf8_lossy(line);
        // `tag NO [CODE] text` (or `* BAD text`): skip the tag.
        let status = line.split_once(' ').map_or("", |(_, rest)| rest);
        let code_end = status
            .find(' ')
            .map(|sp| match status.get(sp + 1..) {
                Some(rest) if rest.starts_with('[') => {
                    rest.find(']').map_or(sp, |close| sp + 1 + close + 1)
                }
                _ => sp,
            })
            .unwrap_or(status.len());
        let (code, reason) = status.split_at(code_end.min(status.len()));
        self.scope.emit(Event::CommandFailed(CommandFailed {
            command: self.command.into(),
            code: code.into(),
            reason: reason.trim_start().into(),
        }));
    }

    /// A BAD answer; past the limit of bad commands, says BYE and closes.
    fn bad(
        &mut self,
        tag: Option<Tag<'static>>,
        code: Option<Code<'static>>,
        text: &str,
    ) -> Option<Action> {
        let start = self.output.len();
        encode::status(&mut self.output, tag, StatusKind::Bad, code, text);
        self.log_failure(start);
        self.bad_commands += 1;
        if self.bad_commands >= self.cfg.limits.max_bad_commands {
            self.scope
                .emit(Event::Closed(Reason::new("too many bad commands")));
            return self.close("Too many invalid IMAP commands.");
        }
        None
    }

    fn close(&mut self, text: &str) -> Option<Action> {
        encode::bye(&mut self.output, None, text);
        self.mode = Mode::Closed;
        self.state = State::Logout;
        Some(Action::Close)
    }

    // ---- the input loop -------------------------------------------------------------

    /// Processes buffered input until more is needed (`None`) or an action is due.
    pub fn advance(&mut self) -> Option<Action> {
        loop {
            match self.mode.clone() {
                Mode::Closed | Mode::TlsPending | Mode::Verifying => return None,
                Mode::Authenticate { tag } => match self.framer.next_line()? {
                    LineFrame::Line(line) => {
                        self.mode = Mode::Command;
                        self.command = "AUTHENTICATE";
                        if let Some(a) = self.sasl_response(&tag, &line) {
                            return Some(a);
                        }
                    }
                    LineFrame::TooLong => {
                        self.mode = Mode::Command;
                        self.command = "AUTHENTICATE";
                        if let Some(a) =
                            self.bad(Some(tag), None, "Authentication response too long")
                        {
                            return Some(a);
                        }
                    }
                },
                Mode::Idle { tag } => match self.framer.next_line()? {
                    LineFrame::Line(line) => {
                        self.mode = Mode::Command;
                        self.command = "IDLE";
                        // RFC 2177 §3: the client ends IDLE with "DONE".
                        if line.eq_ignore_ascii_case(b"DONE") {
                            self.ok(&tag, None, "IDLE terminated");
                        } else if let Some(a) = self.bad(Some(tag), None, "Expected DONE") {
                            return Some(a);
                        }
                    }
                    LineFrame::TooLong => {
                        self.mode = Mode::Command;
                        self.command = "IDLE";
                        if let Some(a) = self.bad(Some(tag), None, "Expected DONE") {
                            return Some(a);
                        }
                    }
                },
                Mode::Command => {
                    let frame = self.framer.next_frame()?;
                    if let Some(a) = self.frame(frame) {
                        return Some(a);
                    }
                }
            }
        }
    }

    fn frame(&mut self, frame: Frame) -> Option<Action> {
        match frame {
            Frame::Continue { .. } => {
                // RFC 9051 §7.5: the server is ready for the literal.
                encode::continuation(&mut self.output, "Ready for literal data");
                None
            }
            Frame::Rejected { tag, reason } => {
                self.command = "?";
                let tag = tag.as_deref().and_then(encode::tag);
                match reason {
                    // RFC 7889 §4 / RFC 9051 §7.1: a message over APPENDLIMIT.
                    Rejection::LiteralTooBig { append: true, .. } => {
                        match tag {
                            Some(t) => self.no(
                                &t,
                                Some(Code::TooBig),
                                "Message is larger than APPENDLIMIT",
                            ),
                            None => {
                                let start = self.output.len();
                                encode::status(
                                    &mut self.output,
                                    None,
                                    StatusKind::No,
                                    Some(Code::TooBig),
                                    "Message is larger than APPENDLIMIT",
                                );
                                self.log_failure(start);
                            }
                        }
                        None
                    }
                    Rejection::LiteralTooBig { .. } => {
                        self.bad(tag, Some(Code::TooBig), "Literal too large")
                    }
                    Rejection::LineTooLong => {
                        self.bad(tag, Some(Code::TooBig), "Command line too long")
                    }
                    Rejection::CommandTooBig => {
                        self.bad(tag, Some(Code::TooBig), "Command too large")
                    }
                }
            }
            Frame::Fatal { .. } => {
                self.scope
                    .emit(Event::Closed(Reason::new("unframeable literal")));
                self.close("Literal too large or malformed")
            }
            Frame::Command(bytes) => {
                self.commands += 1;
                // RFC 5464 GETMETADATA / SETMETADATA: read by `wire::metadata`.
                if let Some(parsed) = wire::metadata::parse(&bytes) {
                    return self.metadata_command(parsed);
                }
                // RFC 4467 GENURLAUTH / URLFETCH / RESETKEY: read by `wire::urlauth`.
                if let Some(parsed) = wire::urlauth::parse(&bytes) {
                    return self.urlauth_command(parsed);
                }
                if wire::notify::is_notify(&bytes) {
                    self.command = "NOTIFY";
                    return self.notify_command(&bytes);
                }
                let (bytes, ext) = match wire::extended::preprocess(&bytes) {
                    Some((b, e)) => (b, e),
                    None => (bytes, wire::extended::Extension::None),
                };
                if let wire::extended::Extension::CancelUpdate(tags) = &ext {
                    self.command = "CANCELUPDATE";
                    return self.cancel_update(&bytes, tags);
                }
                self.ext = ext;
                match wire::decode_command(&bytes) {
                    Ok(cmd) => {
                        self.command = cmd.body.name();
                        self.command(cmd)
                    }
                    Err(e) => {
                        self.command = "?";
                        let tag = e.tag.as_deref().and_then(encode::tag);
                        self.bad(tag, None, &e.text)
                    }
                }
            }
        }
    }

    fn command(&mut self, cmd: Command<'static>) -> Option<Action> {
        let Command { tag, body } = cmd;
        let authenticated = self.user.is_some();
        let selected = matches!(self.state, State::Selected(_));
        match body {
            // RFC 9051 §6.1: any state.
            CommandBody::Capability => {
                let caps = self.capabilities();
                encode::data(&mut self.output, Data::Capability(caps));
                self.ok(&tag, None, "CAPABILITY completed");
                None
            }
            CommandBody::Noop => {
                self.poll_changes();
                self.ok(&tag, None, "NOOP completed");
                None
            }
            CommandBody::Logout => {
                // RFC 9051 §6.1.3: BYE, then the tagged OK.
                encode::bye(&mut self.output, None, "Logging out");
                self.ok(&tag, None, "LOGOUT completed");
                self.mode = Mode::Closed;
                self.state = State::Logout;
                Some(Action::Close)
            }
            CommandBody::Id { parameters } => self.id_command(&tag, parameters),
            // RFC 9051 §6.2: not authenticated state.
            CommandBody::StartTLS if authenticated => {
                self.bad(Some(tag), None, "Already authenticated")
            }
            CommandBody::StartTLS => self.starttls(&tag),
            CommandBody::Login { .. } | CommandBody::Authenticate { .. } if authenticated => {
                self.bad(Some(tag), None, "Already authenticated")
            }
            CommandBody::Login { username, password } => {
                if !self.auth_allowed() {
                    // RFC 9051 §6.2.3 LOGINDISABLED; RFC 5530 PRIVACYREQUIRED.
                    self.no(
                        &tag,
                        Some(encode::code("PRIVACYREQUIRED")),
                        "Plaintext authentication disallowed without TLS",
                    );
                    return None;
                }
                let (Ok(user), Ok(pass)) = (
                    String::from_utf8(AsRef::<[u8]>::as_ref(&username).to_vec()),
                    String::from_utf8(AsRef::<[u8]>::as_ref(password.declassify()).to_vec()),
                ) else {
                    return self.auth_failed(
                        &tag,
                        "",
                        Mechanism::Login,
                        "AUTHENTICATIONFAILED",
                        "malformed response",
                    );
                };
                // RFC 4616 §2's limits hold for a clear-text login too.
                if let Err(e) =
                    sasl::check_clear_field(&user).and_then(|()| sasl::check_clear_field(&pass))
                {
                    return self.auth_failed(
                        &tag,
                        &user,
                        Mechanism::Login,
                        "AUTHENTICATIONFAILED",
                        e.reason(),
                    );
                }
                self.authenticate(&tag, Mechanism::Login, user, pass)
            }
            CommandBody::Authenticate {
                mechanism,
                initial_response,
            } => {
                if !self.auth_allowed() {
                    self.no(
                        &tag,
                        Some(encode::code("PRIVACYREQUIRED")),
                        "Authentication disallowed without TLS",
                    );
                    return None;
                }
                if mechanism != AuthMechanism::Plain {
                    self.no(
                        &tag,
                        Some(encode::code("CANNOT")),
                        "Unsupported authentication mechanism",
                    );
                    return None;
                }
                match initial_response {
                    // RFC 4959 §3: SASL-IR; an empty initial response is sent as "=".
                    Some(ir) => {
                        let msg = ir.declassify().to_vec();
                        self.plain(&tag, &msg)
                    }
                    None => {
                        // RFC 9051 §6.2.2: an empty challenge.
                        encode::sasl_challenge(&mut self.output, b"");
                        self.mode = Mode::Authenticate { tag };
                        None
                    }
                }
            }
            _ if !authenticated => {
                let name = body.name();
                self.bad(
                    Some(tag),
                    None,
                    &format!("{name} not allowed now: log in first"),
                )
            }
            // RFC 9051 §6.3: authenticated (and selected) state.
            CommandBody::Enable { capabilities } => {
                if selected {
                    // RFC 5161 §3.1 / RFC 9051 §6.3.1: only before a mailbox is selected.
                    return self.bad(Some(tag), None, "ENABLE is allowed only before SELECT");
                }
                self.enable(&tag, capabilities)
            }
            CommandBody::Namespace => {
                self.namespace();
                self.ok(&tag, None, "NAMESPACE completed");
                None
            }
            CommandBody::Idle => {
                // RFC 2177 §3: continuation, then untagged updates until DONE.
                encode::continuation(&mut self.output, "idling");
                self.mode = Mode::Idle { tag };
                Some(Action::Idle)
            }
            body => self.mailbox_command(tag, body),
        }
    }

    /// The mailbox commands (RFC 9051 §6.3 - §6.4: SELECT, EXAMINE, CREATE, DELETE, RENAME,
    /// SUBSCRIBE, UNSUBSCRIBE, LIST, LSUB, STATUS, APPEND, CHECK, CLOSE, UNSELECT, EXPUNGE,
    /// SEARCH, SORT, THREAD, FETCH, STORE, COPY, MOVE, GETQUOTA, GETQUOTAROOT) over
    /// [`MailboxBackend`].
    ///
    /// RFC 9051 §7.4.1 / §5.5: changes by other sessions are reported after the command,
    /// except after FETCH, STORE, SEARCH, SORT, THREAD and COPY by sequence number (an EXPUNGE then
    /// would shift the numbers the client is using).
    pub fn mailbox_command(
        &mut self,
        tag: Tag<'static>,
        body: CommandBody<'static>,
    ) -> Option<Action> {
        let name = body.name();
        let selected_only = matches!(
            body,
            CommandBody::Close
                | CommandBody::Unselect
                | CommandBody::Check
                | CommandBody::Expunge
                | CommandBody::ExpungeUid { .. }
                | CommandBody::Search { .. }
                | CommandBody::Sort { .. }
                | CommandBody::Thread { .. }
                | CommandBody::Fetch { .. }
                | CommandBody::Store { .. }
                | CommandBody::Copy { .. }
                | CommandBody::Move { .. }
        );
        if selected_only && !matches!(self.state, State::Selected(_)) {
            return self.bad(
                Some(tag),
                None,
                &format!("{name} not allowed now: select a mailbox first"),
            );
        }
        let poll_after = match &body {
            CommandBody::Fetch { uid, .. }
            | CommandBody::Store { uid, .. }
            | CommandBody::Search { uid, .. }
            | CommandBody::Sort { uid, .. }
            | CommandBody::Thread { uid, .. }
            | CommandBody::Copy { uid, .. } => *uid,
            CommandBody::Select { .. }
            | CommandBody::Examine { .. }
            | CommandBody::Close
            | CommandBody::Unselect => false,
            _ => true,
        };
        if matches!(
            body,
            CommandBody::Select { .. }
                | CommandBody::Examine { .. }
                | CommandBody::Close
                | CommandBody::Unselect
        ) {
            // RFC 5267 §4.3: updates cease when the mailbox is no longer selected.
            self.end_contexts();
        }
        let before = self.output.len();
        let action = match body {
            CommandBody::Select {
                mailbox,
                parameters,
            } => self.select(tag.clone(), mailbox, parameters, false),
            CommandBody::Examine {
                mailbox,
                parameters,
            } => self.select(tag.clone(), mailbox, parameters, true),
            CommandBody::Create { mailbox } => self.create(tag.clone(), mailbox),
            CommandBody::Delete { mailbox } => self.delete(tag.clone(), mailbox),
            CommandBody::Rename { from, to } => self.rename(tag.clone(), from, to),
            CommandBody::Subscribe { mailbox } => self.subscribe(tag.clone(), mailbox, true),
            CommandBody::Unsubscribe { mailbox } => self.subscribe(tag.clone(), mailbox, false),
            CommandBody::List {
                reference,
                mailbox_wildcard,
            } => self.list(tag.clone(), reference, mailbox_wildcard, false),
            CommandBody::Lsub {
                reference,
                mailbox_wildcard,
            } => self.list(tag.clone(), reference, mailbox_wildcard, true),
            CommandBody::Status {
                mailbox,
                item_names,
            } => self.status(tag.clone(), mailbox, &item_names),
            CommandBody::Append {
                mailbox,
                flags,
                date,
                message,
            } => self.append(tag.clone(), mailbox, flags, date, message),
            CommandBody::Check => {
                self.ok(&tag, None, "CHECK completed");
                None
            }
            CommandBody::Close => self.close_mailbox(tag.clone(), true),
            CommandBody::Unselect => self.close_mailbox(tag.clone(), false),
            CommandBody::Expunge => self.expunge(tag.clone(), None),
            CommandBody::ExpungeUid { sequence_set } => {
                self.expunge(tag.clone(), Some(sequence_set))
            }
            CommandBody::Search {
                charset,
                criteria,
                uid,
            } => self.search(tag.clone(), charset, criteria, uid),
            CommandBody::Sort {
                sort_criteria,
                charset,
                search_criteria,
                uid,
            } => self.sort(tag.clone(), sort_criteria, charset, search_criteria, uid),
            CommandBody::Thread {
                algorithm,
                charset,
                search_criteria,
                uid,
            } => self.thread(tag.clone(), algorithm, charset, search_criteria, uid),
            CommandBody::Fetch {
                sequence_set,
                macro_or_item_names,
                uid,
                modifiers,
            } => self.fetch(
                tag.clone(),
                sequence_set,
                macro_or_item_names,
                uid,
                modifiers,
            ),
            CommandBody::Store {
                sequence_set,
                kind,
                response,
                flags,
                uid,
                modifiers,
            } => self.store(
                tag.clone(),
                sequence_set,
                kind,
                response,
                flags,
                uid,
                modifiers,
            ),
            CommandBody::Copy {
                sequence_set,
                mailbox,
                uid,
            } => self.copy_or_move(tag.clone(), sequence_set, mailbox, uid, false),
            CommandBody::Move {
                sequence_set,
                mailbox,
                uid,
            } => self.copy_or_move(tag.clone(), sequence_set, mailbox, uid, true),
            CommandBody::GetQuota { root } => {
                let root = AsRef::<[u8]>::as_ref(&root).to_vec();
                self.get_quota(tag.clone(), &root)
            }
            CommandBody::GetQuotaRoot { mailbox } => self.get_quota_root(tag.clone(), mailbox),
            CommandBody::SetQuota { .. } => {
                self.no(
                    &tag,
                    Some(encode::code("NOPERM")),
                    "Quotas are set by the administrator",
                );
                None
            }
            _ => {
                return self.bad(Some(tag), None, &format!("{name} is not supported"));
            }
        };
        self.ext = wire::extended::Extension::None;
        if poll_after
            && action.is_none()
            && (matches!(self.state, State::Selected(_)) || self.notify.is_some())
        {
            // The untagged updates go before the tagged completion (RFC 9051 §7.4).
            let tail = self.output.split_off(before);
            let (body_part, tagged) = split_tagged(&tail, tag.as_ref().as_bytes());
            self.output.extend_from_slice(body_part);
            self.poll_changes();
            self.output.extend_from_slice(tagged);
        }
        action
    }

    // ---- STARTTLS ----------------------------------------------------------------------

    /// RFC 9051 §6.2.1.
    fn starttls(&mut self, tag: &Tag<'static>) -> Option<Action> {
        if self.tls {
            return self.bad(Some(tag.clone()), None, "TLS is already active");
        }
        if !self.cfg.tls_available {
            self.no(tag, Some(encode::code("CANNOT")), "TLS is not available");
            return None;
        }
        self.ok(tag, None, "Begin TLS negotiation now");
        // Anything pipelined after STARTTLS arrived in plaintext: drop it (CVE-2011-0411).
        self.framer.reset();
        self.mode = Mode::TlsPending;
        Some(Action::StartTls)
    }

    /// The TLS handshake finished: the session goes on in the not authenticated state with
    /// fresh input (RFC 9051 §6.2.1: the client must ask for CAPABILITY again).
    pub fn tls_established(&mut self) {
        self.tls = true;
        self.framer.reset();
        self.mode = Mode::Command;
    }

    // ---- authentication ------------------------------------------------------------------

    fn sasl_response(&mut self, tag: &Tag<'static>, line: &[u8]) -> Option<Action> {
        // RFC 9051 §6.2.2: "*" cancels; bad BASE64 is a BAD.
        if line == b"*" {
            return self.bad(Some(tag.clone()), None, "Authentication cancelled");
        }
        match sasl::decode_base64(line) {
            Ok(msg) => self.plain(tag, &msg),
            Err(_) => self.bad(Some(tag.clone()), None, "Invalid base64 data"),
        }
    }

    /// RFC 4616 PLAIN through the one SASL decoder of `mailward-net`; RFC 5530 §3 codes.
    fn plain(&mut self, tag: &Tag<'static>, msg: &[u8]) -> Option<Action> {
        match sasl::parse_plain(msg) {
            Ok(p) => self.authenticate(tag, Mechanism::Plain, p.username, p.password),
            Err(e @ sasl::SaslError::AuthzidDiffers) => {
                self.auth_failed(tag, "", Mechanism::Plain, "AUTHORIZATIONFAILED", e.reason())
            }
            Err(e) => self.auth_failed(
                tag,
                "",
                Mechanism::Plain,
                "AUTHENTICATIONFAILED",
                e.reason(),
            ),
        }
    }

    fn authenticate(
        &mut self,
        tag: &Tag<'static>,
        mechanism: Mechanism,
        user: String,
        password: String,
    ) -> Option<Action> {
        let creds = Credentials {
            mechanism,
            username: user.clone(),
            password,
            remote_ip: self.remote_ip,
            tls: self.tls,
            session: self.id.clone(),
        };
        self.pending_auth = Some((tag.clone(), creds));
        self.mode = Mode::Verifying;
        Some(Action::Authenticate)
    }

    /// Checks the credentials of [`Action::Authenticate`] (may block: argon2, database).
    pub fn check_credentials(&self) -> AuthOutcome {
        match &self.pending_auth {
            Some((_, creds)) => self.auth.authenticate(creds),
            None => AuthOutcome::Unavailable("no login pending".into()),
        }
    }

    /// Answers the LOGIN or AUTHENTICATE of [`Action::Authenticate`] with the check's
    /// outcome (RFC 9051 §6.2.2, §6.2.3; RFC 5530 codes). Returns [`Action::Close`] when
    /// the session has failed too often.
    pub fn auth_answer(&mut self, outcome: AuthOutcome) -> Option<Action> {
        let (tag, creds) = self.pending_auth.take()?;
        if self.mode == Mode::Verifying {
            self.mode = Mode::Command;
        }
        match outcome {
            AuthOutcome::Success(account) => {
                self.scope.emit(Event::Auth(Auth {
                    user: account.name.as_str().into(),
                    mechanism: creds.mechanism.as_str().into(),
                    messages: None,
                }));
                self.user = Some(account.name);
                self.backend = Some(account.mailboxes);
                self.state = State::Authenticated;
                self.framer.set_authenticated(true);
                // RFC 9051 §6.2.3: the OK may carry the (new) capabilities.
                let caps = self.capabilities();
                self.ok(&tag, Some(Code::Capability(caps)), "Logged in");
                None
            }
            AuthOutcome::Failed => {
                let user = printable(creds.username.as_bytes(), 128);
                self.answer_auth_failure(
                    &tag,
                    &user,
                    creds.mechanism,
                    "AUTHENTICATIONFAILED",
                    "invalid credentials",
                )
            }
            AuthOutcome::Unavailable(why) => {
                self.scope
                    .emit(Event::AuthUnavailable(Reason::new(why.to_string())));
                self.no(
                    &tag,
                    Some(encode::code("UNAVAILABLE")),
                    "Temporary authentication failure, try again later",
                );
                None
            }
        }
    }

    /// A failure found before any password was checked: answered, then reported to the
    /// driver as [`Action::AuthFailed`] to be counted.
    fn auth_failed(
        &mut self,
        tag: &Tag<'static>,
        user: &str,
        mechanism: Mechanism,
        code: &'static str,
        reason: &str,
    ) -> Option<Action> {
        let user = printable(user.as_bytes(), 128);
        if let Some(close) = self.answer_auth_failure(tag, &user, mechanism, code, reason) {
            return Some(close);
        }
        Some(Action::AuthFailed {
            user,
            failures: self.auth_failures,
        })
    }

    /// `NO [code]` and `auth_failed`; past the session's limit, BYE and close.
    fn answer_auth_failure(
        &mut self,
        tag: &Tag<'static>,
        user: &str,
        mechanism: Mechanism,
        code: &'static str,
        reason: &str,
    ) -> Option<Action> {
        self.auth_failures += 1;
        self.scope.emit(Event::AuthFailed(AuthFailed {
            user: user.into(),
            mechanism: mechanism.as_str().into(),
            reason: reason.into(),
            failures: Some(self.auth_failures),
        }));
        self.no(tag, Some(encode::code(code)), "Authentication failed");
        if self.auth_failures >= self.cfg.limits.max_auth_failures {
            return self.close("Too many authentication failures");
        }
        None
    }

    // ---- ENABLE, NAMESPACE, ID --------------------------------------------------------

    /// RFC 5161 §3.1: `* ENABLED` lists what this command newly enabled; unknown
    /// capabilities are ignored. RFC 7162 §3.2.3: `ENABLE QRESYNC` also enables CONDSTORE
    /// (listed only when asked for too, as in `ENABLE QRESYNC CONDSTORE`).
    fn enable(
        &mut self,
        tag: &Tag<'static>,
        caps: Vec1<CapabilityEnable<'static>>,
    ) -> Option<Action> {
        let before = self.enabled;
        let mut newly = Vec::new();
        for c in caps.into_inner() {
            if newly.contains(&c) {
                continue;
            }
            match &c {
                CapabilityEnable::CondStore if !before.condstore => {
                    self.enabled.condstore = true;
                    newly.push(c);
                }
                // imap-types has no variant for it: it arrives as `Other`.
                CapabilityEnable::Other(_)
                    if c.to_string().eq_ignore_ascii_case("QRESYNC") && !self.enabled.qresync =>
                {
                    self.enabled.qresync = true;
                    self.enabled.condstore = true;
                    newly.push(c);
                }
                CapabilityEnable::Utf8(Utf8Kind::Accept) if !self.enabled.utf8_accept => {
                    self.enabled.utf8_accept = true;
                    newly.push(c);
                }
                CapabilityEnable::Other(_)
                    if c.to_string().eq_ignore_ascii_case("IMAP4rev2")
                        && !self.enabled.imap4rev2 =>
                {
                    self.enabled.imap4rev2 = true;
                    newly.push(c);
                }
                _ => {}
            }
        }
        encode::data(
            &mut self.output,
            Data::Enabled {
                capabilities: newly,
            },
        );
        self.ok(tag, None, "ENABLE completed");
        None
    }

    /// RFC 2342 / RFC 9051 §6.3.10: one personal namespace, prefix "" and separator "/"
    /// (the store maps `/` to Maildir++'s `.` on disk); no other-users or shared ones.
    fn namespace(&mut self) {
        let delim = QuotedChar::try_from(crate::mailbox_name::SEPARATOR).ok();
        let personal = vec![Namespace::new(
            IString::Quoted(imap_codec::imap_types::core::Quoted::unvalidated("")),
            delim,
        )];
        encode::data(
            &mut self.output,
            Data::Namespace {
                personal,
                other: Vec::new(),
                shared: Vec::new(),
            },
        );
    }

    /// RFC 2971: records the client's fields, answers with ours.
    fn id_command(
        &mut self,
        tag: &Tag<'static>,
        params: Option<Vec<(IString<'static>, NString<'static>)>>,
    ) -> Option<Action> {
        let params = params.unwrap_or_default();
        if params.len() > ID_MAX_PAIRS {
            return self.bad(Some(tag.clone()), None, "Too many ID fields");
        }
        let mut fields = Vec::new();
        for (k, v) in params {
            let k = k.into_inner();
            let v = v.into_option();
            if k.len() > ID_MAX_FIELD || v.as_ref().is_some_and(|v| v.len() > ID_MAX_VALUE) {
                return self.bad(Some(tag.clone()), None, "ID field or value too long");
            }
            fields.push((
                printable(&k, ID_MAX_FIELD),
                v.map(|v| printable(&v, ID_MAX_VALUE)),
            ));
        }
        if !fields.is_empty() {
            let shown: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("NIL")))
                .collect();
            self.scope.emit(Event::ClientId(ClientId {
                id: shown.join(", ").into(),
            }));
        }
        self.client_id = fields;
        let ours: Vec<(IString<'static>, NString<'static>)> = self
            .cfg
            .server_id
            .iter()
            .map(|(k, v)| {
                (
                    crate::message::text::istring(k.as_bytes().to_vec()),
                    crate::message::text::nstring(v.as_bytes().to_vec()),
                )
            })
            .collect();
        encode::data(
            &mut self.output,
            Data::Id {
                parameters: if ours.is_empty() { None } else { Some(ours) },
            },
        );
        self.ok(tag, None, "ID completed");
        None
    }

    // ---- IDLE and change notifications ---------------------------------------------------

    /// Starts change notifications for the selected mailbox (for IDLE): `wake` is called
    /// on each change; keep the subscription while waiting. `None` when nothing is
    /// selected or the backend cannot watch.
    pub fn watch(&mut self, wake: Box<dyn Fn() + Send + Sync>) -> Option<Subscription> {
        if self.notify.is_some() {
            // RFC 5465: every mailbox of the account may have something to say.
            return self.backend.as_mut()?.watch_account(wake).ok();
        }
        let State::Selected(sel) = &self.state else {
            return None;
        };
        let name = sel.name.clone();
        self.backend.as_mut()?.watch(&name, wake).ok()
    }

    /// Sends the untagged updates for what changed in the selected mailbox (RFC 9051 §7.4:
    /// EXPUNGE, EXISTS and FETCH FLAGS; MODSEQ under CONDSTORE; VANISHED instead of EXPUNGE
    /// under QRESYNC, RFC 7162 §3.2.10). Called by NOOP and by the driver when woken
    /// during IDLE.
    pub fn poll_changes(&mut self) {
        self.poll_notify();
        let State::Selected(sel) = &self.state else {
            return;
        };
        let (name, since, uid_next) = (sel.name.clone(), sel.highest_modseq, sel.uid_next);
        let Some(backend) = self.backend.as_mut() else {
            return;
        };
        let Ok(changes) = backend.changes(&name, since, uid_next) else {
            return;
        };
        self.report_expunged(changes.expunged);
        let first_new = self.selected().map_or(0, |s| s.uids.len() + 1);
        let newest = self.report_added(&changes.added);
        if let Some(newest) = newest {
            self.claim_recent(newest);
            self.notify_fetch_new(first_new);
        }
        self.report_flag_changes(&changes.flags_changed);
        // RFC 5267 §4.3.2: context updates with the EXISTS / FETCH that caused them.
        let touched: Vec<_> = changes
            .added
            .into_iter()
            .chain(changes.flags_changed)
            .collect();
        self.contexts_touched(&touched);
        if let State::Selected(sel) = &mut self.state {
            sel.uid_next = sel.uid_next.max(changes.uid_next);
            sel.highest_modseq = sel.highest_modseq.max(changes.highest_modseq);
        }
    }

    /// New messages: appended to the sequence map, announced by `* n EXISTS`; returns the
    /// highest new UID.
    fn report_added(&mut self, added: &[crate::backend::MessageMeta]) -> Option<u32> {
        let State::Selected(sel) = &mut self.state else {
            return None;
        };
        let mut new_uids: Vec<u32> = Vec::new();
        for m in added {
            let last = new_uids.last().or(sel.uids.last()).copied();
            if last.is_none_or(|last| m.uid > last) {
                new_uids.push(m.uid);
            }
        }
        let newest = new_uids.last().copied()?;
        sel.uids = extend_shared(&sel.uids, &new_uids);
        encode::data(
            &mut self.output,
            Data::Exists(u32::try_from(sel.uids.len()).unwrap_or(u32::MAX)),
        );
        Some(newest)
    }

    /// RFC 3501 §2.3.2, §7.3.2: new messages up to `newest` that no other session has seen
    /// become `\Recent` to this one (not under EXAMINE), and `* n RECENT` follows EXISTS in
    /// IMAP4rev1 (IMAP4rev2 has no `\Recent`).
    fn claim_recent(&mut self, newest: u32) {
        let State::Selected(sel) = &self.state else {
            return;
        };
        let (name, read_only) = (sel.name.clone(), sel.read_only);
        let below = newest.saturating_add(1);
        let claimed = match self.backend.as_mut() {
            Some(b) if !read_only => b.claim_recent(&name, below).ok(),
            _ => None,
        };
        let rev2 = self.enabled.imap4rev2;
        let State::Selected(sel) = &mut self.state else {
            return;
        };
        if let Some(from) = claimed.filter(|&from| from < below) {
            sel.recent.push((from, below));
        }
        if !rev2 {
            let n = sel.recent_count();
            self.output
                .extend_from_slice(format!("* {n} RECENT\r\n").as_bytes());
        }
    }

    /// Flag changes by others: `* n FETCH (FLAGS (...))`; under CONDSTORE with UID and
    /// MODSEQ too (RFC 7162 §3.2.4). Changes this session made and reported are skipped.
    fn report_flag_changes(&mut self, changed: &[crate::backend::MessageMeta]) {
        let condstore = self.enabled.condstore;
        let rev1 = !self.enabled.imap4rev2;
        let own = std::mem::take(&mut self.own_changes);
        let State::Selected(sel) = &self.state else {
            return;
        };
        respond::announce_keywords(
            &mut self.output,
            &mut self.keywords_announced,
            sel.read_only,
            changed.iter().flat_map(|m| m.flags.iter()),
        );
        for m in changed {
            if own.contains(&(m.uid, m.modseq)) {
                continue;
            }
            let Ok(pos) = sel.uids.binary_search(&m.uid) else {
                continue;
            };
            let Ok(seq) = u32::try_from(pos + 1) else {
                continue;
            };
            let recent = rev1 && sel.is_recent(m.uid);
            if condstore {
                qresync::write_flags_fetch(&mut self.output, seq, m, recent);
            } else {
                let flags = qresync::atom_flags(&m.flags);
                let items =
                    [format!("FLAGS {}", respond::flags_shown(&flags, recent)).into_bytes()];
                respond::fetch_line(&mut self.output, seq, &items);
            }
        }
    }

    /// The IDLE wait ran out ([`Limits::idle_command_timeout`]): say BYE and close.
    pub fn idle_timed_out(&mut self) -> Option<Action> {
        self.scope.emit(Event::Closed(Reason::new("idle timeout")));
        self.close("Disconnected for inactivity")
    }

    /// Puts the session in the selected state (for the mailbox commands and tests).
    pub fn set_selected(&mut self, sel: SelectedMailbox) {
        if self.user.is_some() {
            self.state = State::Selected(sel);
        }
    }
}

/// The last UID list extension: sessions idling on one mailbox share its UID list (see
/// the store backend's SELECT) and all learn of the same new messages; the first builds
/// the longer list, the others take it, so they keep sharing one copy instead of each
/// copying the list (100,000 UIDs are 400 KB per session).
type Extension = (
    std::sync::Arc<Vec<u32>>,
    Vec<u32>,
    std::sync::Weak<Vec<u32>>,
);

static LAST_EXTENSION: std::sync::Mutex<Option<Extension>> = std::sync::Mutex::new(None);

/// `base` followed by `added`, shared with other sessions that extend the same list alike.
fn extend_shared(base: &std::sync::Arc<Vec<u32>>, added: &[u32]) -> std::sync::Arc<Vec<u32>> {
    let mut memo = LAST_EXTENSION.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((b, a, result)) = memo.as_ref()
        && std::sync::Arc::ptr_eq(b, base)
        && a.as_slice() == added
        && let Some(r) = result.upgrade()
    {
        return r;
    }
    let mut v = Vec::with_capacity(base.len() + added.len());
    v.extend_from_slice(base);
    v.extend_from_slice(added);
    let r = std::sync::Arc::new(v);
    // The memo holds `base` itself, so its address is not reused while compared against.
    *memo = Some((base.clone(), added.to_vec(), std::sync::Arc::downgrade(&r)));
    r
}

/// Splits a command's output into what comes before its tagged completion (the last
/// line, when it starts with `tag `) and that line.
fn split_tagged<'o>(out: &'o [u8], tag: &[u8]) -> (&'o [u8], &'o [u8]) {
    let body = out.strip_suffix(b"\n").unwrap_or(out);
    let start = memchr::memrchr(b'\n', body).map(|p| p + 1).unwrap_or(0);
    let line = out.get(start..).unwrap_or_default();
    if line.starts_with(tag) && line.get(tag.len()) == Some(&b' ') {
        (out.get(..start).unwrap_or_default(), line)
    } else {
        (out, &[])
    }
}

/// Hands `out` to `stream` once it holds at least a piece. After the connection is gone the
/// stream is dropped and the rest gathers in the output as without one (the session ends).
fn stream_piece(stream: &mut Option<OutputStream>, out: &mut Vec<u8>) {
    if out.len() < STREAM_PIECE {
        return;
    }
    if let Some(send) = stream {
        let piece = std::mem::replace(out, Vec::with_capacity(STREAM_PIECE + STREAM_PIECE / 4));
        if !send(piece) {
            *stream = None;
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_append;
#[cfg(test)]
mod tests_context;
#[cfg(test)]
mod tests_mailbox;
#[cfg(test)]
mod tests_sort;
