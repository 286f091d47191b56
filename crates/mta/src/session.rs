//! The SMTP session state machine (RFC 5321 §4.1, §4.3): pure and I/O-free. Bytes go in
//! with [`Session::feed`]; [`Session::advance`] writes replies into an output buffer and
//! stops at each [`Action`] the caller must perform (TLS handshake, password check,
//! writing a big body to its spool file, queueing), whose outcome comes back through
//! `*_result` / [`Session::tls_established`].

use crate::body::{Body, Spill};
use crate::framing::{self, DataProblem, DataReader, Line};
use crate::numbers;
use crate::policy::{self, Cidr, Directory};
use crate::reply::{Extension, Reply};
use mailward_event::{
    Auth, AuthFailed, CommandFailed, Event, Helo, MailFrom, Protocol, Rcpt, RcptRejected, Reason,
    Rejected, Scope,
};
use mailward_net::sasl;
use smtp_proto::{Error as ProtoError, Request};
use std::net::IpAddr;
use std::sync::Arc;

/// Commands that move no mail a client may send before each counts as an error
/// (Postfix's `smtpd_junk_command_limit`); the count starts over when a message is queued.
const JUNK_COMMAND_LIMIT: u32 = 100;

/// EHLO/HELO commands logged per session; the rest are counted in one `suppressed` event.
const LOGGED_HELOS: u64 = 10;

/// The verb of a command line, upper case, for the log (`?` when it is no SMTP verb).
fn command_name(line: &[u8]) -> &'static str {
    const VERBS: [&str; 18] = [
        "EHLO", "HELO", "LHLO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "VRFY", "EXPN", "HELP",
        "NOOP", "QUIT", "STARTTLS", "AUTH", "ETRN", "ATRN", "BURL",
    ];
    let word = line
        .split(|&b| b == b' ' || b == b'\r' || b == b'\n')
        .next()
        .unwrap_or_default();
    VERBS
        .iter()
        .find(|v| v.as_bytes().eq_ignore_ascii_case(word))
        .copied()
        .unwrap_or("?")
}

/// Which listener a session came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerKind {
    /// Port 25: mail for local domains; relaying only for trusted or authenticated clients.
    Smtp,
    /// Port 587 (RFC 6409): STARTTLS then AUTH before MAIL.
    Submission,
    /// Port 465 (RFC 8314): TLS from the first byte, AUTH before MAIL.
    Submissions,
}

impl ListenerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ListenerKind::Smtp => "smtp",
            ListenerKind::Submission => "submission",
            ListenerKind::Submissions => "submissions",
        }
    }
}

/// Settings shared by the sessions of a listener.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub hostname: String,
    pub listener: ListenerKind,
    /// RFC 1870 SIZE: the largest message accepted, in octets.
    pub max_message_size: usize,
    /// A body larger than this goes to its spool file as it arrives, in pieces of about
    /// this size ([`Action::Spool`]), instead of being held in memory whole
    /// (`[limits] spool_threshold`, default [`DEFAULT_SPOOL_THRESHOLD`]).
    pub spool_threshold: usize,
    pub max_recipients: usize,
    /// Errors (bad commands, refused recipients) before the session is closed.
    pub max_errors: u32,
    /// Clients allowed to relay without authentication.
    pub relay_networks: Vec<Cidr>,
    /// A TLS configuration exists (STARTTLS can be offered).
    pub tls_available: bool,
    /// Allow AUTH without TLS from loopback on the smtp listener (development, benchmark).
    pub plaintext_auth_on_loopback: bool,
    /// The domain used for `RCPT TO:<postmaster>` (RFC 5321 §4.5.1).
    pub postmaster_domain: String,
    /// Whether an authenticated user's `From:` must name its own addresses.
    pub header_from_policy: HeaderFromPolicy,
}

/// Bodies larger than this are spooled as they arrive (256 KiB: the largest body the queue
/// keeps in its row, so every spooled body would be a spool file anyway).
pub const DEFAULT_SPOOL_THRESHOLD: usize = 256 * 1024;

/// What an authenticated submission may put in `From:` (`[submission] header_from_policy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HeaderFromPolicy {
    /// Every `From:` mailbox must be the user's own (its address, sub-addresses, aliases
    /// that reach it), unless a `Sender:` that is the user's names who sent it (RFC 5322
    /// §3.6.2).
    #[default]
    Reject,
    /// Anything goes (Postfix's default, which leaves this to policy).
    Allow,
}

/// TLS details of the session (for `Received:` and the log).
pub use mailward_net::TlsInfo;

/// One accepted recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RcptInfo {
    pub address: String,
    pub orcpt: Option<String>,
    pub notify: Vec<String>,
    pub local: bool,
}

/// A message ready to queue.
#[derive(Debug, Clone)]
pub struct Submission {
    pub from: String,
    pub rcpts: Vec<RcptInfo>,
    pub body: Body,
    pub body_type: Option<String>,
    pub smtputf8: bool,
    /// RFC 8689 REQUIRETLS: every next hop must be verified TLS with REQUIRETLS.
    pub requiretls: bool,
    pub ret: Option<String>,
    pub envid: Option<String>,
    pub helo: String,
    pub esmtp: bool,
    pub tls: Option<TlsInfo>,
    pub auth_user: Option<String>,
    pub remote_ip: IpAddr,
    pub session: String,
    /// The listener it arrived on (port 25 mail is checked as inbound).
    pub listener: ListenerKind,
}

/// What the caller must do before the session can go on.
#[derive(Debug)]
pub enum Action {
    /// Flush output, then run the TLS handshake and call [`Session::tls_established`].
    StartTls,
    /// Check the password, then call [`Session::auth_result`].
    Authenticate {
        mechanism: &'static str,
        user: String,
        password: String,
    },
    /// Append `bytes` to the message's spool file, then call [`Session::spool_result`]. With
    /// `start` (the transaction so far, with an empty body) these are the body's first
    /// octets: start a new spool file (a file of an earlier transaction is no longer
    /// wanted). The file goes with the [`Body::Spooled`] of the [`Action::Enqueue`] that
    /// follows; once [`Session::spooling`] is false without one, it is to be deleted.
    Spool {
        bytes: Vec<u8>,
        start: Option<Box<Submission>>,
    },
    /// Queue the message, then call [`Session::enqueue_result`].
    Enqueue(Box<Submission>),
    /// Flush output and close the connection.
    Close,
}

/// How queueing went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnqueueOutcome {
    Queued {
        queue_id: String,
    },
    /// The queue could not take it: why, for the log.
    TempFail(String),
    /// The message is refused (a DMARC `p=reject` failure): the reply, and why for the log.
    Refused {
        reply: Reply,
        reason: String,
    },
}

#[derive(Debug)]
enum AuthStep {
    PlainResponse,
    LoginUser,
    LoginPass { user: String },
}

#[derive(Debug)]
enum State {
    Command,
    Auth(AuthStep),
    Data(DataReader),
    Bdat {
        remaining: usize,
        last: bool,
        discard: bool,
    },
    /// An [`Action`] is outstanding.
    Waiting,
    Closed,
}

#[derive(Debug, Default)]
struct Transaction {
    from: String,
    rcpts: Vec<RcptInfo>,
    body_type: Option<String>,
    smtputf8: bool,
    requiretls: bool,
    ret: Option<String>,
    envid: Option<String>,
    /// CHUNKING body collected so far (and not spooled).
    chunks: Vec<u8>,
    /// CHUNKING octets received in all.
    chunked: usize,
    chunk_too_big: bool,
    /// The body went past the spool threshold.
    spill: Option<Spill>,
    /// RFC 1870 §6: the size the client declared with `MAIL FROM ... SIZE=` (0 if none):
    /// a recipient whose mailbox cannot take that much is refused at RCPT.
    declared_size: u64,
}

/// One SMTP session.
pub struct Session {
    cfg: Arc<SessionConfig>,
    dir: Arc<dyn Directory>,
    pub id: String,
    pub remote_ip: IpAddr,
    /// The connection's event scope (`protocol`, `session`, `remote_ip`).
    pub scope: Scope<'static>,
    /// The verb of the command being answered, for the log.
    command: &'static str,
    /// The next negative reply was logged already (as `rejected` or `rcpt_rejected`).
    reply_logged: bool,
    /// Commands that move no mail (EHLO, HELO, NOOP, RSET, VRFY, HELP) since the last
    /// message queued.
    junk: u32,
    /// EHLO/HELO commands in this session (only the first few are logged).
    helos: u64,
    helo: Option<String>,
    esmtp: bool,
    tls: Option<TlsInfo>,
    auth_user: Option<String>,
    state: State,
    tx: Option<Transaction>,
    input: Vec<u8>,
    output: Vec<u8>,
    errors: u32,
    /// Commands seen (for the `disconnect` log line).
    pub commands: u64,
    /// Until the client authenticates or starts a mail transaction, it is dropped at this
    /// instant (see [`Session::set_start_deadline`]).
    start_deadline: Option<std::time::Instant>,
    /// The client has authenticated or started a mail transaction.
    started: bool,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("id", &self.id).finish()
    }
}

impl Session {
    pub fn new(
        cfg: Arc<SessionConfig>,
        dir: Arc<dyn Directory>,
        id: String,
        remote_ip: IpAddr,
    ) -> Self {
        Session {
            cfg,
            dir,
            scope: Scope::connection(Protocol::Smtp, id.as_str(), remote_ip),
            command: "?",
            reply_logged: false,
            junk: 0,
            helos: 0,
            id,
            remote_ip,
            helo: None,
            esmtp: false,
            tls: None,
            auth_user: None,
            state: State::Command,
            tx: None,
            input: Vec::new(),
            output: Vec::new(),
            errors: 0,
            commands: 0,
            start_deadline: None,
            started: false,
        }
    }

    /// A client that has neither authenticated nor started a mail transaction by `at` is
    /// dropped then (`421 4.4.2`), however slowly it keeps sending: an absolute deadline,
    /// where the command timeout restarts with every read.
    pub fn set_start_deadline(&mut self, at: std::time::Instant) {
        self.start_deadline = Some(at);
    }

    /// What is left of the start deadline, while it applies.
    pub fn time_to_start(&self) -> Option<std::time::Duration> {
        match (self.started, self.start_deadline) {
            (false, Some(at)) => Some(at.saturating_duration_since(std::time::Instant::now())),
            _ => None,
        }
    }

    /// RFC 5321 §4.2, §3.1: the `220` greeting.
    pub fn greeting(&mut self) {
        let greeting = Reply::greeting(&self.cfg.hostname);
        self.reply(greeting);
    }

    /// Appends received bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.input.extend_from_slice(bytes);
    }

    /// Replies produced so far (to write to the client).
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    pub fn has_output(&self) -> bool {
        !self.output.is_empty()
    }

    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// True while the transaction in progress has a body in a spool file ([`Action::Spool`]).
    pub fn spooling(&self) -> bool {
        self.tx.as_ref().is_some_and(|t| t.spill.is_some())
    }

    /// The spool file was written (`Ok`) or not: then the rest of the body is thrown away
    /// and the message gets `451` (RFC 5321 §4.2.5) at its end.
    pub fn spool_result(&mut self, result: Result<(), String>) {
        if let Err(why) = result
            && let Some(spill) = self.tx.as_mut().and_then(|t| t.spill.as_mut())
        {
            spill.failed = Some(why);
        }
    }

    /// True while a message body is being received (the data timeouts of RFC 5321
    /// §4.5.3.2.5 apply instead of the command timeout).
    pub fn in_data(&self) -> bool {
        matches!(self.state, State::Data(_) | State::Bdat { .. })
    }

    pub fn auth_user(&self) -> Option<&str> {
        self.auth_user.as_deref()
    }

    /// Writes a reply. A 4xx/5xx answer not logged as a refusal already is logged as
    /// `command_failed`, with the command and the code.
    fn reply(&mut self, reply: Reply) {
        if (reply.is_transient() || reply.is_permanent()) && !std::mem::take(&mut self.reply_logged)
        {
            self.scope.emit(Event::CommandFailed(CommandFailed {
                command: self.command.into(),
                code: reply.status().to_string().into(),
                reason: reply.text().into(),
            }));
        }
        reply.write_to(&mut self.output);
    }

    /// Counts an error; past the limit, says so and closes (RFC 5321 §4.3.2 lets the
    /// server close with 421).
    fn error(&mut self, reply: Reply) -> Option<Action> {
        self.reply(reply);
        self.errors += 1;
        if self.errors >= self.cfg.max_errors {
            self.scope
                .emit(Event::Closed(Reason::new("too many errors")));
            self.reply_logged = true;
            self.reply(Reply::TOO_MANY_ERRORS);
            self.state = State::Closed;
            return Some(Action::Close);
        }
        None
    }

    /// Counts a command that moves no mail; past [`JUNK_COMMAND_LIMIT`] each counts as an
    /// error. True when the error limit is reached and the session must close.
    fn junk_command(&mut self) -> bool {
        self.junk = self.junk.saturating_add(1);
        if self.junk <= JUNK_COMMAND_LIMIT {
            return false;
        }
        self.errors += 1;
        if self.errors >= self.cfg.max_errors {
            self.scope
                .emit(Event::Closed(Reason::new("too many commands without mail")));
            self.reply_logged = true;
            return true;
        }
        false
    }

    /// Events counted rather than written, for the `suppressed` event at the end.
    pub fn suppressed(&self) -> Vec<(&'static str, u64)> {
        let helos = self.helos.saturating_sub(LOGGED_HELOS);
        if helos > 0 {
            vec![("helo", helos)]
        } else {
            Vec::new()
        }
    }

    fn is_loopback(&self) -> bool {
        mailward_net::is_loopback(self.remote_ip)
    }

    /// Authentication is offered over TLS; on the smtp listener also from loopback when
    /// configured (DESIGN.md: "Authentication only over TLS, except on loopback").
    fn auth_allowed(&self) -> bool {
        self.tls.is_some()
            || (self.cfg.plaintext_auth_on_loopback
                && self.cfg.listener == ListenerKind::Smtp
                && self.is_loopback())
    }

    fn may_relay(&self) -> bool {
        self.auth_user.is_some() || policy::in_networks(&self.cfg.relay_networks, self.remote_ip)
    }

    /// Processes buffered input until it is used up (`None`) or an action is needed.
    pub fn advance(&mut self) -> Option<Action> {
        loop {
            match &mut self.state {
                State::Closed | State::Waiting => return None,
                State::Data(reader) => {
                    let (used, done) = reader.feed(&self.input);
                    self.input.drain(..used.min(self.input.len()));
                    match done {
                        None => return self.spill(),
                        Some(result) => {
                            if let Some(a) = self.data_done(result) {
                                return Some(a);
                            }
                        }
                    }
                }
                State::Bdat {
                    remaining,
                    last,
                    discard,
                } => {
                    let take = (*remaining).min(self.input.len());
                    let (last, discard) = (*last, *discard);
                    *remaining -= take;
                    let done = *remaining == 0;
                    let chunk = self.input.get(..take).unwrap_or_default();
                    if !discard && let Some(tx) = self.tx.as_mut() {
                        tx.chunked = tx.chunked.saturating_add(chunk.len());
                        if tx.chunked > self.cfg.max_message_size {
                            tx.chunk_too_big = true;
                        } else {
                            tx.chunks.extend_from_slice(chunk);
                        }
                    }
                    self.input.drain(..take);
                    if !done {
                        return self.spill();
                    }
                    self.state = State::Command;
                    if discard {
                        continue;
                    }
                    if let Some(a) = self.bdat_done(last).or_else(|| self.spill()) {
                        return Some(a);
                    }
                }
                State::Auth(_) | State::Command => {
                    let (len, line) = match framing::next_line(&self.input) {
                        None => return None,
                        Some(Line::Complete(l)) => (l.len(), Some(l.to_vec())),
                        Some(Line::Bare(n)) => (n, None),
                        Some(Line::TooLong(n)) => {
                            self.input.drain(..n.min(self.input.len()));
                            if let Some(a) = self.error(Reply::LINE_TOO_LONG) {
                                return Some(a);
                            }
                            continue;
                        }
                    };
                    self.input.drain(..len.min(self.input.len()));
                    let Some(line) = line else {
                        // RFC 5321 §2.3.8: only CRLF ends a line. A bare CR or LF in a
                        // command is refused (it is how smuggling attempts start).
                        if let Some(a) = self.error(Reply::BARE_LINE_ENDING) {
                            return Some(a);
                        }
                        continue;
                    };
                    self.commands += 1;
                    let action = if matches!(self.state, State::Auth(_)) {
                        self.command = "AUTH";
                        self.auth_continue(&line)
                    } else {
                        self.command = command_name(&line);
                        self.command(&line)
                    };
                    if action.is_some() {
                        return action;
                    }
                }
            }
        }
    }

    fn command(&mut self, line: &[u8]) -> Option<Action> {
        if line.contains(&0) {
            return self.error(Reply::NUL_IN_COMMAND);
        }
        // smtp-proto saturates numbers that do not fit; read the ones that matter exactly.
        match numbers::check(line) {
            Some(numbers::Problem::BdatSize) => {
                self.reply(Reply::BDAT_SIZE_INVALID);
                self.state = State::Closed;
                return Some(Action::Close);
            }
            Some(numbers::Problem::DeclaredSizeTooBig) => {
                return self.reject(Reply::DECLARED_SIZE_TOO_BIG, "declared size too big");
            }
            None => {}
        }
        let mut it = line.iter();
        let req = Request::parse(&mut it);
        match req {
            Ok(req) => self.request(req.into_owned()),
            Err(ProtoError::UnknownCommand) => self.error(Reply::UNRECOGNIZED_COMMAND),
            Err(ProtoError::InvalidSenderAddress) => self.error(Reply::BAD_SENDER_SYNTAX),
            Err(ProtoError::InvalidRecipientAddress) => self.error(Reply::BAD_RECIPIENT_SYNTAX),
            Err(ProtoError::SyntaxError { syntax }) => self.error(Reply::syntax_error(syntax)),
            Err(ProtoError::InvalidParameter { param }) => {
                self.error(Reply::invalid_parameter(param))
            }
            Err(ProtoError::UnsupportedParameter { param }) => {
                self.error(Reply::unsupported_parameter(&param))
            }
            Err(_) => self.error(Reply::BAD_SYNTAX),
        }
    }

    fn request(&mut self, req: Request<String>) -> Option<Action> {
        if matches!(
            req,
            Request::Ehlo { .. }
                | Request::Helo { .. }
                | Request::Noop { .. }
                | Request::Rset
                | Request::Vrfy { .. }
                | Request::Help { .. }
        ) && self.junk_command()
        {
            self.reply(Reply::TOO_MANY_ERRORS);
            self.state = State::Closed;
            return Some(Action::Close);
        }
        match req {
            Request::Ehlo { host } => self.ehlo(host, true),
            Request::Helo { host } => self.ehlo(host, false),
            Request::Lhlo { .. }
            | Request::Etrn { .. }
            | Request::Atrn { .. }
            | Request::Burl { .. } => self.error(Reply::NOT_IMPLEMENTED),
            Request::Expn { .. } => self.error(Reply::NOT_IMPLEMENTED),
            Request::Vrfy { .. } => {
                // RFC 5321 §3.5.3: 252 when we will not verify.
                self.reply(Reply::CANNOT_VRFY);
                None
            }
            Request::Help { .. } => {
                self.reply(Reply::HELP);
                None
            }
            Request::Noop { .. } => {
                self.reply(Reply::OK);
                None
            }
            Request::Rset => {
                self.tx = None;
                self.reply(Reply::OK);
                None
            }
            Request::Quit => {
                self.reply(Reply::BYE);
                self.state = State::Closed;
                Some(Action::Close)
            }
            Request::StartTls => self.starttls(),
            Request::Auth {
                mechanism,
                initial_response,
            } => self.auth(mechanism, initial_response),
            Request::Mail { from } => self.mail(from),
            Request::Rcpt { to } => self.rcpt(to),
            Request::Data => self.data(),
            Request::Bdat {
                chunk_size,
                is_last,
            } => self.bdat(chunk_size, is_last),
        }
    }

    fn ehlo(&mut self, host: String, esmtp: bool) -> Option<Action> {
        let host: String = host
            .chars()
            .filter(|c| c.is_ascii_graphic())
            .take(255)
            .collect();
        // A client repeating EHLO is logged a few times, then counted (`suppressed`).
        self.helos += 1;
        if self.helos <= LOGGED_HELOS {
            self.scope.emit(Event::Helo(Helo {
                helo: host.as_str().into(),
            }));
        }
        // RFC 5321 §4.1.4: EHLO resets any transaction.
        self.tx = None;
        self.helo = Some(host.clone());
        self.esmtp = esmtp;
        if !esmtp {
            let helo = Reply::helo(&self.cfg.hostname);
            self.reply(helo);
            return None;
        }
        let mut extensions = vec![
            Extension::Pipelining,
            Extension::Size(self.cfg.max_message_size),
            Extension::EightBitMime,
            Extension::SmtpUtf8,
            Extension::EnhancedStatusCodes,
            Extension::Chunking,
        ];
        // RFC 3207 §4.2: STARTTLS is not offered once TLS is up.
        if self.tls.is_none() && self.cfg.tls_available {
            extensions.push(Extension::StartTls);
        }
        if self.auth_allowed() && self.auth_user.is_none() {
            extensions.push(Extension::Auth(&["PLAIN", "LOGIN"]));
        }
        extensions.push(Extension::Dsn);
        if self.tls.is_some() {
            extensions.push(Extension::RequireTls);
        }
        let reply = Reply::ehlo(&self.cfg.hostname, &host, self.remote_ip, &extensions);
        self.reply(reply);
        None
    }

    fn starttls(&mut self) -> Option<Action> {
        if self.tls.is_some() {
            return self.error(Reply::TLS_ALREADY_ACTIVE);
        }
        if !self.cfg.tls_available {
            return self.error(Reply::NOT_IMPLEMENTED);
        }
        self.reply(Reply::READY_TO_START_TLS);
        // RFC 3207 §6 / CVE-2011-0411: anything pipelined after STARTTLS was sent in
        // plaintext and must not be obeyed after the handshake.
        self.input.clear();
        self.state = State::Waiting;
        Some(Action::StartTls)
    }

    /// The handshake finished: RFC 3207 §4.2, the session starts over (EHLO again).
    pub fn tls_established(&mut self, info: TlsInfo) {
        self.scope.emit(info.event());
        self.tls = Some(info);
        self.helo = None;
        self.esmtp = false;
        self.tx = None;
        self.auth_user = None;
        self.input.clear();
        self.state = State::Command;
    }

    /// For implicit TLS (port 465): TLS was up before the greeting.
    pub fn set_tls(&mut self, info: TlsInfo) {
        self.scope.emit(info.event());
        self.tls = Some(info);
    }

    fn auth(&mut self, mechanism: u64, initial: String) -> Option<Action> {
        if self.helo.is_none() || !self.esmtp {
            return self.error(Reply::AUTH_NEEDS_EHLO);
        }
        if self.auth_user.is_some() {
            return self.error(Reply::ALREADY_AUTHENTICATED);
        }
        if self.tx.is_some() {
            return self.error(Reply::AUTH_IN_TRANSACTION);
        }
        if !self.auth_allowed() {
            // RFC 4954 §4: 538 when the mechanism needs an encrypted channel.
            return self.error(Reply::ENCRYPTION_REQUIRED);
        }
        if mechanism == smtp_proto::AUTH_PLAIN {
            if initial.is_empty() {
                self.reply(Reply::AUTH_EMPTY_CHALLENGE);
                self.state = State::Auth(AuthStep::PlainResponse);
                return None;
            }
            return self.auth_plain(&initial);
        }
        if mechanism == smtp_proto::AUTH_LOGIN {
            if initial.is_empty() {
                self.reply(Reply::AUTH_LOGIN_USERNAME);
                self.state = State::Auth(AuthStep::LoginUser);
                return None;
            }
            return self.login_user(&initial);
        }
        self.error(Reply::UNRECOGNIZED_AUTH_TYPE)
    }

    fn auth_continue(&mut self, line: &[u8]) -> Option<Action> {
        let text = String::from_utf8_lossy(line).trim().to_string();
        let step = std::mem::replace(&mut self.state, State::Command);
        if text == "*" {
            // RFC 4954 §4: the client cancels with "*".
            return self.error(Reply::AUTH_CANCELLED);
        }
        match step {
            State::Auth(AuthStep::PlainResponse) => self.auth_plain(&text),
            State::Auth(AuthStep::LoginUser) => self.login_user(&text),
            State::Auth(AuthStep::LoginPass { user }) => {
                match sasl::decode_login_field(text.as_bytes()) {
                    Ok(password) => self.authenticate("LOGIN", user, password),
                    Err(e) => self.sasl_refused("LOGIN", &user, e),
                }
            }
            _ => None,
        }
    }

    /// The LOGIN mechanism's user name (draft-murchison-sasl-login), under RFC 4616's
    /// limits like every SASL field.
    fn login_user(&mut self, b64: &str) -> Option<Action> {
        match sasl::decode_login_field(b64.as_bytes()) {
            Ok(user) => {
                self.reply(Reply::AUTH_LOGIN_PASSWORD);
                self.state = State::Auth(AuthStep::LoginPass { user });
                None
            }
            Err(e) => self.sasl_refused("LOGIN", "", e),
        }
    }

    /// RFC 4616 §2: `[authzid] NUL authcid NUL passwd`, through the one SASL decoder of
    /// `mailward-net`; an authorization identity other than the user is refused (535).
    fn auth_plain(&mut self, b64: &str) -> Option<Action> {
        match sasl::decode_plain(b64.as_bytes()) {
            Ok(c) => self.authenticate("PLAIN", c.username, c.password),
            Err(e) => self.sasl_refused("PLAIN", "", e),
        }
    }

    /// RFC 4954 §4: a response that cannot be decoded is `501`; a PLAIN message of the
    /// wrong shape or limits `501` too; an authorization identity refused is `535`.
    fn sasl_refused(&mut self, mechanism: &str, user: &str, e: sasl::SaslError) -> Option<Action> {
        self.auth_failed_event(user, mechanism, e.reason());
        match e {
            sasl::SaslError::BadBase64 => self.error(Reply::CANNOT_DECODE),
            sasl::SaslError::AuthzidDiffers => self.error(Reply::AUTH_INVALID),
            sasl::SaslError::Malformed | sasl::SaslError::TooLong | sasl::SaslError::NotUtf8 => {
                self.error(Reply::INVALID_PLAIN_RESPONSE)
            }
        }
    }

    fn auth_failed_event(&self, user: &str, mechanism: &str, reason: &str) {
        let user: String = user.chars().filter(|c| !c.is_control()).take(128).collect();
        self.scope.emit(Event::AuthFailed(AuthFailed {
            user: user.into(),
            mechanism: mechanism.into(),
            reason: reason.into(),
            failures: None,
        }));
    }

    fn authenticate(
        &mut self,
        mechanism: &'static str,
        user: String,
        password: String,
    ) -> Option<Action> {
        self.state = State::Waiting;
        Some(Action::Authenticate {
            mechanism,
            user,
            password,
        })
    }

    /// The password check's outcome: the account address, or `None`.
    pub fn auth_result(
        &mut self,
        mechanism: &str,
        given_user: &str,
        account: Option<String>,
    ) -> Option<Action> {
        self.state = State::Command;
        match account {
            Some(user) => {
                self.scope.emit(Event::Auth(Auth {
                    user: user.as_str().into(),
                    mechanism: mechanism.into(),
                    messages: None,
                }));
                self.auth_user = Some(user);
                self.started = true;
                self.reply(Reply::AUTH_SUCCEEDED);
                None
            }
            None => {
                self.auth_failed_event(given_user, mechanism, "invalid credentials");
                self.error(Reply::AUTH_INVALID)
            }
        }
    }

    /// The password could not be checked (the account store failed, or the address has
    /// too many checks running): `454`, logged as `auth_unavailable`; not counted as an
    /// error of the client.
    pub fn auth_unavailable(&mut self, why: &str) {
        self.state = State::Command;
        self.scope.emit(Event::AuthUnavailable(Reason::new(why)));
        self.reply(Reply::AUTH_TEMPORARY_FAILURE);
    }

    /// A refusal of mail (not a protocol error): logged as `rejected`.
    fn reject(&mut self, reply: Reply, reason: &str) -> Option<Action> {
        self.log_rejected(&reply, reason);
        self.error(reply)
    }

    fn log_rejected(&mut self, reply: &Reply, reason: &str) {
        let from = self.tx.as_ref().map(|t| t.from.as_str());
        self.scope.emit(Event::Rejected(Rejected {
            command: Some(self.command.into()),
            code: reply.status().to_string().into(),
            reason: reason.into(),
            from: from.map(Into::into),
        }));
        self.reply_logged = true;
    }

    fn mail(&mut self, from: smtp_proto::MailFrom<String>) -> Option<Action> {
        if self.helo.is_none() {
            return self.error(Reply::NEED_HELO);
        }
        if self.tx.is_some() {
            return self.error(Reply::NESTED_MAIL);
        }
        if self.cfg.listener != ListenerKind::Smtp && self.auth_user.is_none() {
            // RFC 6409 §4.3: submission requires authentication.
            return self.reject(Reply::AUTH_REQUIRED, "submission without AUTH");
        }
        if from.size > self.cfg.max_message_size {
            // RFC 1870 §6.2.
            return self.reject(Reply::DECLARED_SIZE_TOO_BIG, "declared size too big");
        }
        if !from.address.is_empty() && !from.address.contains('@') {
            return self.error(Reply::BAD_SENDER_SYNTAX);
        }
        if !self.esmtp && from.flags != 0 {
            return self.error(Reply::PARAMETERS_NEED_EHLO);
        }
        if let Some(user) = self.auth_user.clone()
            && !from.address.is_empty()
            && self.cfg.header_from_policy == HeaderFromPolicy::Reject
            && !self.dir.may_send_as(&user, &from.address)
        {
            return self.reject(
                Reply::sender_not_owned(&from.address, &user),
                "sender not owned by authenticated user",
            );
        }
        let body_type = if from.flags & smtp_proto::MAIL_BODY_8BITMIME != 0 {
            Some("8BITMIME".to_string())
        } else if from.flags & smtp_proto::MAIL_BODY_BINARYMIME != 0 {
            Some("BINARYMIME".to_string())
        } else if from.flags & smtp_proto::MAIL_BODY_7BIT != 0 {
            Some("7BIT".to_string())
        } else {
            None
        };
        let requiretls = from.flags & smtp_proto::MAIL_REQUIRETLS != 0;
        if requiretls && self.tls.is_none() {
            // RFC 8689 §4.1: REQUIRETLS was not offered outside TLS.
            return self.reject(Reply::REQUIRETLS_NEEDS_TLS, "REQUIRETLS without TLS");
        }
        let ret = if from.flags & smtp_proto::MAIL_RET_FULL != 0 {
            Some("FULL".to_string())
        } else if from.flags & smtp_proto::MAIL_RET_HDRS != 0 {
            Some("HDRS".to_string())
        } else {
            None
        };
        self.scope.emit(Event::MailFrom(MailFrom {
            from: from.address.as_str().into(),
            size: Some(from.size as u64),
        }));
        self.started = true;
        self.tx = Some(Transaction {
            from: from.address,
            body_type,
            smtputf8: from.flags & smtp_proto::MAIL_SMTPUTF8 != 0,
            requiretls,
            ret,
            envid: from.env_id,
            declared_size: from.size as u64,
            ..Transaction::default()
        });
        self.reply(Reply::SENDER_OK);
        None
    }

    fn rcpt(&mut self, to: smtp_proto::RcptTo<String>) -> Option<Action> {
        let Some(count) = self.tx.as_ref().map(|t| t.rcpts.len()) else {
            return self.error(Reply::NEED_MAIL);
        };
        let named = if to.address.is_empty() {
            format!("postmaster@{}", self.cfg.postmaster_domain)
        } else {
            to.address.clone()
        };
        // One copy per mailbox (RFC 5321 §3.3 lets the server merge recipients): a recipient
        // named again is accepted, and neither counted nor delivered twice.
        if self.tx.as_ref().is_some_and(|t| {
            t.rcpts
                .iter()
                .any(|r| r.address.eq_ignore_ascii_case(&named))
        }) {
            self.reply(Reply::RECIPIENT_OK);
            return None;
        }
        if count >= self.cfg.max_recipients {
            // RFC 5321 §4.5.3.1.10: 452 for too many recipients.
            self.reply(Reply::TOO_MANY_RECIPIENTS);
            return None;
        }
        let address = named;
        let size = self.tx.as_ref().map_or(0, |t| t.declared_size);
        match policy::check_rcpt(self.dir.as_ref(), &address, self.may_relay(), size) {
            Ok(local) => {
                self.scope.emit(Event::Rcpt(Rcpt {
                    to: address.as_str().into(),
                }));
                let mut notify = Vec::new();
                for (flag, name) in [
                    (smtp_proto::RCPT_NOTIFY_NEVER, "NEVER"),
                    (smtp_proto::RCPT_NOTIFY_SUCCESS, "SUCCESS"),
                    (smtp_proto::RCPT_NOTIFY_FAILURE, "FAILURE"),
                    (smtp_proto::RCPT_NOTIFY_DELAY, "DELAY"),
                ] {
                    if to.flags & flag != 0 {
                        notify.push(name.to_string());
                    }
                }
                if let Some(tx) = self.tx.as_mut() {
                    tx.rcpts.push(RcptInfo {
                        address,
                        orcpt: to.orcpt,
                        notify,
                        local,
                    });
                }
                self.reply(Reply::RECIPIENT_OK);
                None
            }
            Err(refusal) => {
                self.scope.emit(Event::RcptRejected(RcptRejected {
                    to: address.as_str().into(),
                    code: refusal.status().to_string().into(),
                    reason: refusal.text().into(),
                }));
                self.reply_logged = true;
                // A temporary refusal (full mailbox, failed lookup) is not the client's
                // error and does not count towards closing the session.
                if refusal.is_transient() {
                    self.reply(refusal);
                    None
                } else {
                    self.error(refusal)
                }
            }
        }
    }

    fn data(&mut self) -> Option<Action> {
        match self.tx.as_ref() {
            None => self.error(Reply::NEED_MAIL),
            Some(tx) if tx.rcpts.is_empty() => self.error(Reply::NO_VALID_RECIPIENTS),
            Some(tx) if tx.chunked > 0 => self.error(Reply::DATA_AFTER_BDAT),
            Some(_) => {
                self.reply(Reply::START_MAIL_INPUT);
                self.state = State::Data(DataReader::new(self.cfg.max_message_size));
                None
            }
        }
    }

    fn data_done(&mut self, result: Result<Vec<u8>, DataProblem>) -> Option<Action> {
        self.state = State::Command;
        match result {
            Ok(body) => self.finish(body),
            Err(DataProblem::TooBig) => {
                self.tx = None;
                self.reject(Reply::MESSAGE_TOO_BIG, "message too big")
            }
            Err(DataProblem::BareLineEnding) => {
                // SMTP smuggling defence: refuse and disconnect, so nothing that followed a
                // fake end-of-data is ever taken as a command.
                self.tx = None;
                let reply = Reply::BARE_LINE_ENDING_IN_DATA;
                self.log_rejected(&reply, "bare CR or LF in message");
                self.reply(reply);
                self.state = State::Closed;
                Some(Action::Close)
            }
        }
    }

    /// RFC 3030 §2: BDAT chunk-size [LAST].
    fn bdat(&mut self, size: usize, last: bool) -> Option<Action> {
        let ok = match self.tx.as_ref() {
            None => Err(Reply::NEED_MAIL),
            Some(tx) if tx.rcpts.is_empty() => Err(Reply::NO_VALID_RECIPIENTS),
            Some(_) => Ok(()),
        };
        self.state = State::Bdat {
            remaining: size,
            last,
            discard: ok.is_err(),
        };
        match ok {
            Ok(()) => {
                if size == 0 {
                    self.state = State::Command;
                    return self.bdat_done(last);
                }
                None
            }
            // RFC 3030 §2: the chunk is read and thrown away before the error reply.
            Err(reply) => {
                let a = self.error(reply);
                if a.is_some() {
                    self.state = State::Closed;
                }
                a
            }
        }
    }

    fn bdat_done(&mut self, last: bool) -> Option<Action> {
        let too_big = self.tx.as_ref().is_some_and(|t| t.chunk_too_big);
        if too_big {
            if last {
                self.tx = None;
            }
            return self.reject(Reply::MESSAGE_TOO_BIG, "message too big");
        }
        if !last {
            let n = self.tx.as_ref().map_or(0, |t| t.chunked);
            self.reply(Reply::chunk_received(n));
            return None;
        }
        let body = self
            .tx
            .as_mut()
            .map(|t| std::mem::take(&mut t.chunks))
            .unwrap_or_default();
        self.finish(body)
    }

    /// Past the spool threshold, hands the body collected so far to the spool file
    /// ([`Action::Spool`]), so memory stays about the threshold whatever the message's size.
    fn spill(&mut self) -> Option<Action> {
        let threshold = self.cfg.spool_threshold;
        let tx = self.tx.as_mut()?;
        let bytes = match &mut self.state {
            State::Data(reader) if reader.buffered() > threshold => reader.take(),
            State::Bdat { discard: false, .. } | State::Command if tx.chunks.len() > threshold => {
                std::mem::take(&mut tx.chunks)
            }
            _ => return None,
        };
        let first = tx.spill.is_none();
        let spill = tx.spill.get_or_insert_default();
        if spill.failed.is_some() {
            // The file is gone: the rest is thrown away, the end of data gets 451.
            return None;
        }
        spill.spooled(&bytes);
        let start = if first {
            self.preview().map(Box::new)
        } else {
            None
        };
        Some(Action::Spool { bytes, start })
    }

    /// The transaction in progress so far (an empty body), for the start of its spool file.
    fn preview(&self) -> Option<Submission> {
        let tx = self.tx.as_ref()?;
        let meta = Transaction {
            from: tx.from.clone(),
            rcpts: tx.rcpts.clone(),
            body_type: tx.body_type.clone(),
            smtputf8: tx.smtputf8,
            requiretls: tx.requiretls,
            ret: tx.ret.clone(),
            envid: tx.envid.clone(),
            ..Transaction::default()
        };
        Some(self.submission(meta, Body::Memory(Vec::new())))
    }

    /// The transaction `tx` as a [`Submission`] with `body`.
    fn submission(&self, tx: Transaction, body: Body) -> Submission {
        Submission {
            from: tx.from,
            rcpts: tx.rcpts,
            body,
            body_type: tx.body_type,
            smtputf8: tx.smtputf8,
            requiretls: tx.requiretls,
            ret: tx.ret,
            envid: tx.envid,
            helo: self.helo.clone().unwrap_or_default(),
            esmtp: self.esmtp,
            tls: self.tls.clone(),
            auth_user: self.auth_user.clone(),
            remote_ip: self.remote_ip,
            session: self.id.clone(),
            listener: self.cfg.listener,
        }
    }

    /// The end of the data: `rest` is what the session still holds of the body (all of it
    /// unless it was spooled).
    fn finish(&mut self, rest: Vec<u8>) -> Option<Action> {
        let spill = self.tx.as_mut().and_then(|t| t.spill.take());
        let body = match spill {
            None => Body::Memory(rest),
            Some(spill) => {
                if let Some(why) = spill.failed.clone() {
                    self.tx = None;
                    self.enqueue_result(EnqueueOutcome::TempFail(why));
                    return None;
                }
                match spill.finish(rest) {
                    Ok(body) => body,
                    Err(()) => {
                        self.tx = None;
                        return self
                            .reject(Reply::HEADER_SECTION_TOO_BIG, "header section too big");
                    }
                }
            }
        };
        let Some(tx) = self.tx.take() else {
            return self.error(Reply::NEED_MAIL);
        };
        let submission = self.submission(tx, body);
        let headers = submission.body.headers();
        // RFC 5321 §6.3: a message that went round too often is a loop.
        if crate::headers::hop_count(headers) > 50 {
            return self.reject(Reply::TOO_MANY_HOPS, "mail loop");
        }
        if let Some(user) = self.auth_user.clone()
            && self.cfg.header_from_policy == HeaderFromPolicy::Reject
            && !self.header_from_is_own(&user, headers)
        {
            return self.reject(Reply::HEADER_FROM_NOT_OWNED, "From: header not owned");
        }
        self.state = State::Waiting;
        Some(Action::Enqueue(Box::new(submission)))
    }

    /// The authenticated user may send this `From:`: every mailbox in it is the user's, or
    /// a `Sender:` of the user's own names who sent it for the author (RFC 5322 §3.6.2). A
    /// message without `From:` passes (nothing is claimed).
    fn header_from_is_own(&self, user: &str, body: &[u8]) -> bool {
        let own = |address: &String| !address.is_empty() && self.dir.may_send_as(user, address);
        let sender: Vec<String> = crate::headers::values(body, "Sender")
            .iter()
            .flat_map(|v| crate::headers::mailboxes(v))
            .collect();
        if let [one] = sender.as_slice()
            && own(one)
        {
            return true;
        }
        crate::headers::values(body, "From")
            .iter()
            .flat_map(|v| crate::headers::mailboxes(v))
            .all(|a| own(&a))
    }

    /// Queueing finished: RFC 5321 §4.2.5, `250` only now, after the commit.
    pub fn enqueue_result(&mut self, outcome: EnqueueOutcome) {
        self.state = State::Command;
        match outcome {
            EnqueueOutcome::Queued { queue_id } => {
                self.junk = 0;
                self.reply(Reply::queued(&queue_id));
            }
            EnqueueOutcome::TempFail(why) => {
                let reply = Reply::QUEUE_WRITE_ERROR;
                self.log_rejected(&reply, &format!("queue write failed: {why}"));
                self.reply(reply);
            }
            EnqueueOutcome::Refused { reply, reason } => {
                self.log_rejected(&reply, &reason);
                self.reply(reply);
            }
        }
    }

    /// RFC 5321 §4.5.3.2: the server timed out waiting; say so before closing.
    pub fn timeout(&mut self) {
        self.reply(Reply::TIMEOUT);
        self.state = State::Closed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dir;
    impl Directory for Dir {
        fn rcpt(&self, address: &str, _size: u64) -> policy::RcptLookup {
            match address.to_ascii_lowercase().as_str() {
                "bob@example.test" | "postmaster@example.test" => policy::RcptLookup::Local,
                "full@example.test" => policy::RcptLookup::OverQuota,
                a if a.ends_with("@example.test") => policy::RcptLookup::Unknown,
                _ => policy::RcptLookup::NotLocal,
            }
        }
        fn may_send_as(&self, user: &str, address: &str) -> bool {
            user == address
        }
    }

    fn cfg(listener: ListenerKind) -> Arc<SessionConfig> {
        Arc::new(SessionConfig {
            hostname: "mx.example.test".into(),
            listener,
            max_message_size: 1000,
            spool_threshold: DEFAULT_SPOOL_THRESHOLD,
            max_recipients: 3,
            max_errors: 5,
            relay_networks: vec!["192.0.2.0/24".parse().unwrap()],
            tls_available: true,
            plaintext_auth_on_loopback: false,
            postmaster_domain: "example.test".into(),
            header_from_policy: Default::default(),
        })
    }

    fn session(listener: ListenerKind, ip: &str) -> Session {
        let mut s = Session::new(
            cfg(listener),
            Arc::new(Dir),
            "S1".into(),
            ip.parse().unwrap(),
        );
        s.greeting();
        s
    }

    /// The attack of issue 12: 100 × the same RCPT and one DATA wrote 100 files.
    #[test]
    fn regress_a_recipient_named_a_hundred_times_is_one_recipient() {
        let mut s = session(ListenerKind::Smtp, "198.51.100.1");
        let mut input = b"EHLO c.test\r\nMAIL FROM:<a@remote.test>\r\n".to_vec();
        for i in 0..100 {
            let to = if i % 2 == 0 { "bob" } else { "BOB" };
            input.extend_from_slice(format!("RCPT TO:<{to}@example.test>\r\n").as_bytes());
        }
        input.extend_from_slice(b"DATA\r\nSubject: x\r\n\r\nx\r\n.\r\n");
        let (out, a) = run(&mut s, &input);
        assert_eq!(out.matches("250 2.1.5 Ok").count(), 100, "{out}");
        let Some(Action::Enqueue(sub)) = a else {
            panic!("{a:?}")
        };
        assert_eq!(sub.rcpts.len(), 1);
    }

    #[test]
    fn regress_bdat_and_size_numbers_that_wrap_are_refused() {
        let mut s = session(ListenerKind::Smtp, "198.51.100.1");
        let (out, a) = run(
            &mut s,
            b"EHLO c.test\r\nMAIL FROM:<a@remote.test> SIZE=99999999999999999999999\r\n",
        );
        assert!(
            out.ends_with("552 5.3.4 Message size exceeds fixed limit\r\n"),
            "{out}"
        );
        assert!(a.is_none());
        let (out, a) = run(
            &mut s,
            b"MAIL FROM:<a@remote.test>\r\nRCPT TO:<bob@example.test>\r\nBDAT 99999999999999999999999 LAST\r\nQUIT\r\n",
        );
        assert!(
            out.ends_with("501 5.5.4 Error: invalid BDAT chunk size, closing connection\r\n"),
            "{out}"
        );
        assert!(matches!(a, Some(Action::Close)), "{a:?}");
        assert!(s.is_closed());
    }

    /// Feeds input, runs to the next action; returns (replies, action).
    fn run(s: &mut Session, input: &[u8]) -> (String, Option<Action>) {
        s.feed(input);
        let a = s.advance();
        (String::from_utf8(s.take_output()).unwrap(), a)
    }

    #[test]
    fn pipelined_transaction_is_answered_in_order_then_queued() {
        let mut s = session(ListenerKind::Smtp, "198.51.100.1");
        let (out, a) = run(
            &mut s,
            b"EHLO c.test\r\nMAIL FROM:<a@remote.test> BODY=8BITMIME\r\nRCPT TO:<bob@example.test>\r\nRCPT TO:<Postmaster@Example.test> NOTIFY=SUCCESS,FAILURE\r\nDATA\r\nSubject: hi\r\n\r\n..x\r\n.\r\n",
        );
        assert!(out.starts_with("220 mx.example.test ESMTP"));
        assert!(
            out.contains("250-PIPELINING\r\n")
                && out.contains("250-CHUNKING\r\n")
                && out.contains("250 DSN\r\n")
        );
        assert!(
            !out.contains("AUTH"),
            "no AUTH offered before TLS on port 25"
        );
        assert!(
            out.contains("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 "),
            "{out}"
        );
        let Some(Action::Enqueue(sub)) = a else {
            panic!("{a:?}")
        };
        assert_eq!(
            sub.body,
            Body::Memory(b"Subject: hi\r\n\r\n.x\r\n".to_vec())
        );
        assert_eq!(sub.rcpts.len(), 2);
        assert_eq!(sub.rcpts[1].notify, vec!["SUCCESS", "FAILURE"]);
        assert_eq!(sub.body_type.as_deref(), Some("8BITMIME"));
        s.enqueue_result(EnqueueOutcome::Queued {
            queue_id: "Q1".into(),
        });
        assert_eq!(
            String::from_utf8(s.take_output()).unwrap(),
            "250 2.0.0 Ok: queued as Q1\r\n"
        );
    }

    #[test]
    fn open_relay_attempts_are_refused() {
        let mut s = session(ListenerKind::Smtp, "198.51.100.1");
        run(&mut s, b"EHLO c\r\nMAIL FROM:<a@remote.test>\r\n");
        for rcpt in [
            "victim@elsewhere.test",
            "victim%elsewhere.test@example.test",
            "@example.test:victim@elsewhere.test",
            "\"victim@elsewhere.test\"@example.test",
            "victim@elsewhere.test@example.test",
            "victim!elsewhere.test@example.test",
        ] {
            let mut s2 = session(ListenerKind::Smtp, "198.51.100.1");
            run(&mut s2, b"EHLO c\r\nMAIL FROM:<a@remote.test>\r\n");
            let (out, _) = run(&mut s2, format!("RCPT TO:<{rcpt}>\r\nDATA\r\n").as_bytes());
            assert!(out.starts_with("5"), "{rcpt}: {out}");
            assert!(out.contains("554 5.5.1"), "{rcpt}: DATA must fail: {out}");
        }
        // A trusted network may relay.
        let mut t = session(ListenerKind::Smtp, "192.0.2.5");
        let (out, _) = run(
            &mut t,
            b"EHLO c\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<x@elsewhere.test>\r\n",
        );
        assert!(out.ends_with("250 2.1.5 Ok\r\n"), "{out}");
    }

    #[test]
    fn unknown_user_and_full_mailbox_codes() {
        let mut s = session(ListenerKind::Smtp, "198.51.100.1");
        let (out, _) = run(&mut s, b"HELO c\r\nMAIL FROM:<>\r\nRCPT TO:<nobody@example.test>\r\nRCPT TO:<full@example.test>\r\nRCPT TO:<postmaster>\r\n");
        assert!(out.contains("550 5.1.1 <nobody@example.test>"), "{out}");
        assert!(out.contains("452 4.2.2"), "{out}");
        assert!(
            out.ends_with("250 2.1.5 Ok\r\n"),
            "postmaster without domain is accepted: {out}"
        );
    }

    #[test]
    fn starttls_discards_pipelined_plaintext_and_resets() {
        let mut s = session(ListenerKind::Submission, "198.51.100.1");
        let (out, a) = run(&mut s, b"EHLO c\r\nSTARTTLS\r\nMAIL FROM:<evil@x.test>\r\n");
        assert!(out.ends_with("220 2.0.0 Ready to start TLS\r\n"));
        assert!(matches!(a, Some(Action::StartTls)));
        s.tls_established(TlsInfo {
            version: "TLSv1.3".into(),
            cipher: "TLS_AES_128_GCM_SHA256".into(),
            bits: 128,
        });
        assert!(s.advance().is_none());
        assert_eq!(s.take_output(), b"", "the injected MAIL was dropped");
        let (out, _) = run(&mut s, b"MAIL FROM:<a@b.test>\r\n");
        assert!(out.starts_with("503"), "EHLO needed again after TLS: {out}");
        let (out, _) = run(&mut s, b"EHLO c\r\n");
        assert!(out.contains("AUTH PLAIN LOGIN") && !out.contains("STARTTLS"));
    }

    #[test]
    fn submission_requires_tls_for_auth_and_auth_for_mail() {
        let mut s = session(ListenerKind::Submission, "198.51.100.1");
        let (out, _) = run(
            &mut s,
            b"EHLO c\r\nAUTH PLAIN AGJvYgBwdw==\r\nMAIL FROM:<bob@example.test>\r\n",
        );
        assert!(out.contains("538 5.7.11"), "{out}");
        assert!(out.contains("530 5.7.0"), "{out}");
    }

    /// bob, authenticated on port 465, sends `body` (headers and text) to himself; returns
    /// the reply to the message.
    fn submit_as_bob(policy: HeaderFromPolicy, body: &str) -> String {
        let mut cfg = (*cfg(ListenerKind::Submissions)).clone();
        cfg.header_from_policy = policy;
        let mut s = Session::new(
            Arc::new(cfg),
            Arc::new(Dir),
            "S1".into(),
            "198.51.100.1".parse().unwrap(),
        );
        s.set_tls(TlsInfo::default());
        let (_, a) = run(
            &mut s,
            b"EHLO c\r\nAUTH PLAIN AGJvYkBleGFtcGxlLnRlc3QAcHc=\r\n",
        );
        let Some(Action::Authenticate { user, .. }) = a else {
            panic!("{a:?}")
        };
        s.auth_result("PLAIN", &user, Some(user.clone()));
        s.take_output();
        let input = format!(
            "MAIL FROM:<bob@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n{body}\r\n.\r\n"
        );
        let (out, a) = run(&mut s, input.as_bytes());
        if let Some(Action::Enqueue(_)) = a {
            return "queued".into();
        }
        out.lines().last().unwrap_or_default().to_owned()
    }

    /// Issue 12: alice could send `From: Bob <bob@…>` with her own envelope.
    #[test]
    fn regress_an_authenticated_user_cannot_put_someone_else_in_from() {
        let p = HeaderFromPolicy::Reject;
        let spoof = "From: Carol <carol@example.test>\r\nSubject: x\r\n\r\nhi";
        assert!(submit_as_bob(p, spoof).starts_with("553 5.7.1"));
        let two = "From: bob@example.test, carol@example.test\r\n\r\nhi";
        assert!(submit_as_bob(p, two).starts_with("553 5.7.1"));
        let own = "From: \"Bob (home)\" <Bob@Example.test> (comment)\r\n\r\nhi";
        assert_eq!(submit_as_bob(p, own), "queued");
        // RFC 5322 §3.6.2: the Sender: says bob sent it for carol.
        let on_behalf = "From: carol@example.test\r\nSender: bob@example.test\r\n\r\nhi";
        assert_eq!(submit_as_bob(p, on_behalf), "queued");
        assert_eq!(submit_as_bob(p, "Subject: no From\r\n\r\nhi"), "queued");
        assert_eq!(submit_as_bob(HeaderFromPolicy::Allow, spoof), "queued");
    }

    #[test]
    fn auth_plain_and_login_and_sender_ownership() {
        let mut s = session(ListenerKind::Submissions, "198.51.100.1");
        s.set_tls(TlsInfo::default());
        let (_, a) = run(
            &mut s,
            b"EHLO c\r\nAUTH PLAIN AGJvYkBleGFtcGxlLnRlc3QAcHc=\r\n",
        );
        let Some(Action::Authenticate { user, password, .. }) = a else {
            panic!()
        };
        assert_eq!(
            (user.as_str(), password.as_str()),
            ("bob@example.test", "pw")
        );
        assert!(s.auth_result("PLAIN", &user, Some(user.clone())).is_none());
        let (out, _) = run(&mut s, b"MAIL FROM:<alice@example.test>\r\nMAIL FROM:<bob@example.test>\r\nRCPT TO:<x@elsewhere.test>\r\n");
        assert!(
            out.contains("235 2.7.0") && out.contains("553 5.7.1"),
            "{out}"
        );
        assert!(
            out.ends_with("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"),
            "authenticated users relay: {out}"
        );

        let mut l = session(ListenerKind::Submissions, "198.51.100.1");
        l.set_tls(TlsInfo::default());
        let (out, _) = run(&mut l, b"EHLO c\r\nAUTH LOGIN\r\n");
        assert!(out.ends_with("334 VXNlcm5hbWU6\r\n"));
        let (out, _) = run(&mut l, b"Ym9i\r\n");
        assert_eq!(out, "334 UGFzc3dvcmQ6\r\n");
        let (_, a) = run(&mut l, b"cHc=\r\n");
        assert!(matches!(a, Some(Action::Authenticate { ref user, .. }) if user == "bob"));
        assert!(l.auth_result("LOGIN", "bob", None).is_none());
        assert!(
            String::from_utf8(l.take_output())
                .unwrap()
                .starts_with("535 5.7.8")
        );
    }

    #[test]
    fn smuggled_end_of_data_closes_the_session() {
        for trick in [
            &b"x\n.\nMAIL FROM:<s@x>\r\n"[..],
            b"x\r.\rMAIL FROM:<s@x>\r\n",
            b"x\n.\r\nMAIL FROM:<s@x>\r\n",
        ] {
            let mut s = session(ListenerKind::Smtp, "198.51.100.1");
            run(
                &mut s,
                b"EHLO c\r\nMAIL FROM:<a@r.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n",
            );
            let mut input = trick.to_vec();
            input.extend_from_slice(
                b"RCPT TO:<bob@example.test>\r\nDATA\r\nsmuggled\r\n.\r\nQUIT\r\n",
            );
            let (out, a) = run(&mut s, &input);
            assert!(matches!(a, Some(Action::Close)), "{out}");
            assert!(out.starts_with("521 5.5.2"), "{out}");
            assert!(s.is_closed());
        }
    }

    #[test]
    fn bare_lf_command_and_error_limit() {
        let mut s = session(ListenerKind::Smtp, "198.51.100.1");
        let (out, _) = run(&mut s, b"EHLO c\nNOOP\r\n");
        assert!(
            out.contains("500 5.5.2 Error: bare") && out.ends_with("250 2.0.0 Ok\r\n"),
            "{out}"
        );
        let (out, a) = run(&mut s, b"X\r\nX\r\nX\r\nX\r\nNOOP\r\n");
        assert!(
            out.ends_with("421 4.7.0 Too many errors, closing connection\r\n"),
            "{out}"
        );
        assert!(matches!(a, Some(Action::Close)));
    }

    #[test]
    fn size_limits() {
        let mut s = session(ListenerKind::Smtp, "198.51.100.1");
        let (out, _) = run(&mut s, b"EHLO c\r\nMAIL FROM:<a@r.test> SIZE=5000\r\n");
        assert!(out.contains("552 5.3.4"), "{out}");
        let mut body = b"MAIL FROM:<a@r.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n".to_vec();
        body.extend(std::iter::repeat_n(b'x', 2000));
        body.extend_from_slice(b"\r\n.\r\nNOOP\r\n");
        let (out, _) = run(&mut s, &body);
        assert!(
            out.contains("552 5.3.4 Error: message file too big\r\n250 2.0.0 Ok\r\n"),
            "{out}"
        );
    }

    #[test]
    fn bdat_chunks_make_one_message() {
        let mut s = session(ListenerKind::Smtp, "198.51.100.1");
        let (out, a) = run(&mut s, b"EHLO c\r\nMAIL FROM:<a@r.test>\r\nRCPT TO:<bob@example.test>\r\nBDAT 5\r\nHel\nlBDAT 4 LAST\r\no!\r\n");
        assert!(out.contains("250 2.0.0 5 octets received"), "{out}");
        let Some(Action::Enqueue(sub)) = a else {
            panic!("{out}")
        };
        assert_eq!(sub.body, Body::Memory(b"Hel\nlo!\r\n".to_vec()));
    }

    /// A session whose bodies spool past 64 octets (and may be `max` octets).
    fn spooling_session(max: usize) -> Session {
        let mut cfg = (*cfg(ListenerKind::Smtp)).clone();
        cfg.spool_threshold = 64;
        cfg.max_message_size = max;
        let mut s = Session::new(
            Arc::new(cfg),
            Arc::new(Dir),
            "S1".into(),
            "198.51.100.1".parse().unwrap(),
        );
        s.greeting();
        s
    }

    /// What a server does with a spooling session: feeds `input` in pieces of 10, answers
    /// each [`Action::Spool`] with `write` (keeping the pieces) and stops at the next other
    /// action. Returns (replies, pieces spooled, the action). A piece is at most the
    /// threshold and the last line (or BDAT input) that passed it: `line` octets.
    fn drive_spooling(
        s: &mut Session,
        input: &[u8],
        line: usize,
        write: impl Fn(usize) -> Result<(), String>,
    ) -> (String, Vec<Vec<u8>>, Option<Action>) {
        let mut pieces = Vec::new();
        let mut out = Vec::new();
        for chunk in input.chunks(10) {
            s.feed(chunk);
            loop {
                match s.advance() {
                    Some(Action::Spool { bytes, start }) => {
                        assert_eq!(
                            start.is_some(),
                            pieces.is_empty(),
                            "start on the first only"
                        );
                        assert!(bytes.len() <= 64 + line, "bounded by the threshold");
                        assert!(s.spooling());
                        pieces.push(bytes);
                        s.spool_result(write(pieces.len()));
                    }
                    None => break,
                    other => {
                        out.extend(s.take_output());
                        return (String::from_utf8(out).unwrap(), pieces, other);
                    }
                }
            }
            out.extend(s.take_output());
        }
        (String::from_utf8(out).unwrap(), pieces, None)
    }

    const BIG_HEADERS: &str = "Subject: big\r\nMessage-ID: <m@c.test>\r\nReceived: x\r\n\r\n";

    /// Issue 12, item 8: a body past the threshold leaves the session in pieces of about
    /// the threshold; the end of data queues it as spooled with its header section.
    #[test]
    fn a_data_body_past_the_threshold_is_spooled_in_pieces() {
        let mut s = spooling_session(1000);
        let mut body = BIG_HEADERS.as_bytes().to_vec();
        for i in 0..20 {
            body.extend_from_slice(format!("line {i:02} of the body\r\n").as_bytes());
        }
        let mut wire =
            b"EHLO c\r\nMAIL FROM:<a@r.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n".to_vec();
        wire.extend_from_slice(&body);
        wire.extend_from_slice(b"..dot\r\n.\r\n");
        body.extend_from_slice(b".dot\r\n");
        let (out, pieces, a) = drive_spooling(&mut s, &wire, 30, |_| Ok(()));
        assert!(
            out.ends_with("354 End data with <CR><LF>.<CR><LF>\r\n"),
            "{out}"
        );
        let Some(Action::Enqueue(sub)) = a else {
            panic!("{a:?}")
        };
        let Body::Spooled {
            head,
            tail,
            spooled,
        } = &sub.body
        else {
            panic!("{:?}", sub.body)
        };
        assert!(pieces.len() >= 5, "{} pieces", pieces.len());
        let mut whole = pieces.concat();
        assert_eq!(whole.len() as u64, *spooled);
        whole.extend_from_slice(tail);
        assert_eq!(whole, body);
        assert_eq!(head, BIG_HEADERS.as_bytes());
        assert_eq!(sub.body.len(), body.len() as u64);
        assert!(!s.spooling(), "the file goes with the submission");
        s.enqueue_result(EnqueueOutcome::Queued {
            queue_id: "Q1".into(),
        });
        // A small message after it stays in memory.
        let (out, pieces, a) = drive_spooling(
            &mut s,
            b"MAIL FROM:<a@r.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\nSubject: s\r\n\r\nhi\r\n.\r\n",
            30,
            |_| Ok(()),
        );
        assert!(out.starts_with("250 2.0.0 Ok: queued as Q1\r\n"), "{out}");
        assert!(pieces.is_empty());
        assert!(
            matches!(a, Some(Action::Enqueue(sub)) if sub.body == Body::Memory(b"Subject: s\r\n\r\nhi\r\n".to_vec()))
        );
    }

    #[test]
    fn bdat_chunks_past_the_threshold_are_spooled_and_rset_drops_them() {
        let mut s = spooling_session(1000);
        let chunk = "x".repeat(50);
        let wire = format!(
            "EHLO c\r\nMAIL FROM:<a@r.test>\r\nRCPT TO:<bob@example.test>\r\nBDAT {}\r\n{BIG_HEADERS}BDAT 50\r\n{chunk}BDAT 50\r\n{chunk}",
            BIG_HEADERS.len()
        );
        let (out, pieces, a) = drive_spooling(&mut s, wire.as_bytes(), 10, |_| Ok(()));
        assert!(a.is_none());
        assert!(out.ends_with("250 2.0.0 153 octets received\r\n"), "{out}");
        assert!(!pieces.is_empty() && s.spooling());
        let (out, _, _) = drive_spooling(&mut s, b"RSET\r\n", 10, |_| Ok(()));
        assert_eq!(out, "250 2.0.0 Ok\r\n");
        assert!(!s.spooling(), "RSET ends the transaction: its file goes");

        // Past the size limit: refused at the end, and the file goes.
        let wire = format!(
            "MAIL FROM:<a@r.test>\r\nRCPT TO:<bob@example.test>\r\nBDAT 600\r\n{}BDAT 600 LAST\r\n{}",
            "y".repeat(600),
            "y".repeat(600)
        );
        let (out, pieces, a) = drive_spooling(&mut s, wire.as_bytes(), 10, |_| Ok(()));
        assert!(a.is_none() && !pieces.is_empty());
        assert!(
            out.ends_with("552 5.3.4 Error: message file too big\r\n"),
            "{out}"
        );
        assert!(!s.spooling());
    }

    #[test]
    fn a_spooled_body_too_big_or_unwritable_is_refused_and_dropped() {
        let mut s = spooling_session(300);
        let mut wire =
            b"EHLO c\r\nMAIL FROM:<a@r.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n".to_vec();
        wire.extend_from_slice(BIG_HEADERS.as_bytes());
        wire.extend_from_slice(format!("{}\r\n", "z".repeat(18)).repeat(20).as_bytes());
        wire.extend_from_slice(b".\r\n");
        let (out, pieces, a) = drive_spooling(&mut s, &wire, 30, |_| Ok(()));
        assert!(a.is_none() && !pieces.is_empty());
        assert!(
            out.ends_with("552 5.3.4 Error: message file too big\r\n"),
            "{out}"
        );
        assert!(!s.spooling());

        // The second write fails: nothing more is handed out, the end gets 451.
        let mut wire = b"MAIL FROM:<a@r.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n".to_vec();
        wire.extend_from_slice(BIG_HEADERS.as_bytes());
        wire.extend_from_slice(format!("{}\r\n", "z".repeat(18)).repeat(12).as_bytes());
        wire.extend_from_slice(b".\r\n");
        let (out, pieces, a) = drive_spooling(&mut s, &wire, 30, |n| {
            if n >= 2 {
                Err("disk full".into())
            } else {
                Ok(())
            }
        });
        assert!(a.is_none());
        assert_eq!(pieces.len(), 2, "nothing after the failure");
        assert!(
            out.ends_with("451 4.3.0 Error: queue file write error\r\n"),
            "{out}"
        );
        assert!(!s.spooling());
    }

    #[test]
    fn a_spooled_body_is_checked_like_a_small_one() {
        let mut s = spooling_session(1 << 20);
        let mut wire =
            b"EHLO c\r\nMAIL FROM:<a@r.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n".to_vec();
        wire.extend_from_slice("Received: hop\r\n".repeat(51).as_bytes());
        wire.extend_from_slice(b"\r\nbody\r\n.\r\n");
        let (out, pieces, a) = drive_spooling(&mut s, &wire, 30, |_| Ok(()));
        assert!(a.is_none() && !pieces.is_empty());
        assert!(out.ends_with("554 5.4.6 Error: too many hops\r\n"), "{out}");
        assert!(!s.spooling());

        // A header section longer than is kept for the checks is refused.
        let mut wire = b"MAIL FROM:<a@r.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n".to_vec();
        for _ in 0..(crate::body::HEAD_MAX / 100 + 1) {
            // 100 octets a line.
            wire.extend_from_slice(format!("X-Pad: {}\r\n", "p".repeat(91)).as_bytes());
        }
        wire.extend_from_slice(b"From: carol@example.test\r\n\r\nbody\r\n.\r\n");
        let (out, _, a) = drive_spooling(&mut s, &wire, 100, |_| Ok(()));
        assert!(a.is_none());
        assert!(
            out.ends_with("552 5.3.4 Error: message header section too big\r\n"),
            "{out}"
        );
        assert!(!s.spooling());
    }

    #[test]
    fn too_many_recipients() {
        // A trusted network may relay, so four different recipients are accepted up to the
        // limit of three (a recipient named twice would not count: it is merged).
        let mut s = session(ListenerKind::Smtp, "192.0.2.5");
        let (out, _) = run(&mut s, b"EHLO c\r\nMAIL FROM:<a@r.test>\r\nRCPT TO:<one@r1.test>\r\nRCPT TO:<two@r2.test>\r\nRCPT TO:<three@r3.test>\r\nRCPT TO:<four@r4.test>\r\n");
        assert!(
            out.ends_with("452 4.5.3 Error: too many recipients\r\n"),
            "{out}"
        );
    }
}
