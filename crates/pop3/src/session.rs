//! The POP3 session state machine (RFC 1939 §3-§6): pure and I/O-free. Bytes go in with
//! [`Session::feed`]; [`Session::advance`] writes responses into an output buffer and stops
//! at each [`Action`] the driver must perform (TLS handshake, login, reading a message,
//! removing the deleted ones), whose outcome comes back through the `*_result` methods.
//!
//! States: AUTHORIZATION (greeting, USER/PASS, AUTH, STLS) → TRANSACTION (after a login:
//! STAT, LIST, RETR, DELE, RSET, TOP, UIDL, NOOP) → UPDATE (QUIT in TRANSACTION: the
//! deleted messages are removed, then the connection closes).

use crate::backend::{Entry, LoginOutcome, MailError, Maildrop};
use crate::command::{self, Command, MsgNumber, ParseError};
use crate::wire::{self, Line};
use mailward_event::{Auth, AuthFailed, CommandFailed, Event, Logout, Protocol, Scope};
use mailward_net::sasl;
use std::net::IpAddr;
use std::sync::Arc;

/// Settings shared by the sessions of a server.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// The name in the greeting.
    pub hostname: String,
    /// A TLS configuration exists (STLS can be offered).
    pub tls_available: bool,
    /// Allow USER/PASS and AUTH without TLS from loopback (DESIGN.md: "Authentication only
    /// over TLS, except on loopback for development").
    pub plaintext_auth_on_loopback: bool,
    /// Bad commands (and failed logins) before the connection is closed.
    pub max_errors: u32,
}

pub use mailward_net::TlsInfo;

/// How the client logged in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// RFC 1939 §7: USER and PASS.
    User,
    /// RFC 5034 with RFC 4616 PLAIN.
    Plain,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::User => "USER",
            Method::Plain => "PLAIN",
        }
    }
}

/// What the driver must do before the session can go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write the output, run the TLS handshake, then call [`Session::tls_established`].
    StartTls,
    /// Check the credentials and open the maildrop, then call [`Session::login_result`].
    Login {
        method: Method,
        user: String,
        password: String,
    },
    /// Read the message, then call [`Session::fetch_result`].
    Fetch { uid: u32, mark_seen: bool },
    /// RFC 1939 §6: remove these messages, then call [`Session::commit_result`].
    Commit { uids: Vec<u32> },
    /// Write the output and close the connection.
    Close,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Authorization,
    /// AUTH PLAIN sent `+ `; the next line is the client's response (RFC 5034 §4).
    AuthResponse,
    Transaction,
    Closed,
}

/// The outstanding [`Action`], if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Tls,
    Login(Method),
    Fetch {
        number: MsgNumber,
        size: u64,
        top: Option<u64>,
    },
    Commit,
}

#[derive(Debug, Clone, Copy)]
struct Message {
    entry: Entry,
    deleted: bool,
}

/// Counts for the `logout` log line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub retr: u64,
    pub retr_bytes: u64,
    pub top: u64,
    /// Messages removed at QUIT.
    pub deleted: u64,
}

/// One POP3 session.
pub struct Session {
    cfg: Arc<SessionConfig>,
    pub id: String,
    pub remote_ip: IpAddr,
    /// The connection's event scope (`protocol`, `session`, `remote_ip`).
    pub scope: Scope<'static>,
    /// The name of the command being answered, for `command_failed`.
    command: &'static str,
    tls: Option<TlsInfo>,
    phase: Phase,
    pending: Option<Pending>,
    /// The name given with USER, waiting for PASS.
    user_given: Option<String>,
    /// The logged-in account.
    account: Option<String>,
    uidvalidity: u32,
    messages: Vec<Message>,
    input: Vec<u8>,
    /// Skipping the rest of an over-long line whose end has not arrived.
    discarding: bool,
    output: Vec<u8>,
    errors: u32,
    logged_out: bool,
    /// Commands seen (for the `disconnect` log line).
    pub commands: u64,
    pub counts: Counts,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("phase", &self.phase)
            .finish()
    }
}

/// A user name as given, cut and cleaned for the log.
fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(128).collect()
}

/// The command word of a line, upper case, for the log (`?` when it is not a POP3 verb).
fn command_name(line: &[u8]) -> &'static str {
    let word = line.split(|&b| b == b' ').next().unwrap_or_default();
    const VERBS: [&str; 16] = [
        "USER", "PASS", "APOP", "AUTH", "STLS", "CAPA", "QUIT", "STAT", "LIST", "RETR", "DELE",
        "NOOP", "RSET", "TOP", "UIDL", "UTF8",
    ];
    let word = word.strip_suffix(b"\r").unwrap_or(word);
    VERBS
        .iter()
        .find(|v| v.as_bytes().eq_ignore_ascii_case(word))
        .copied()
        .unwrap_or("?")
}

/// `-ERR [IN-USE] text` as (`-ERR [IN-USE]`, `text`): the status with its RFC 2449 §8
/// response code, and the human-readable rest.
fn split_err(text: &str) -> (&str, &str) {
    let after = text.strip_prefix("-ERR").unwrap_or(text).trim_start();
    let code_end = if after.starts_with('[') {
        after.find(']').map_or(0, |i| i + 1)
    } else {
        0
    };
    let status_len = text.len() - after.len() + code_end;
    let status = text.get(..status_len).unwrap_or(text).trim_end();
    let rest = text.get(status_len..).unwrap_or("").trim_start();
    (status, rest)
}

/// RFC 1939 §7 (UIDL): a unique-id is 1 to 70 characters in 0x21..0x7E and never reused for
/// another message of the maildrop. The UID and UIDVALIDITY as 16 hex digits (Dovecot's
/// `%08Xu%08Xv`) stay the same across sessions, and change only if UIDs are reassigned.
pub fn unique_id(uid: u32, uidvalidity: u32) -> String {
    format!("{uid:08X}{uidvalidity:08X}")
}

impl Session {
    pub fn new(cfg: Arc<SessionConfig>, id: String, remote_ip: IpAddr) -> Self {
        Session {
            cfg,
            scope: Scope::connection(Protocol::Pop3, id.as_str(), remote_ip),
            command: "?",
            id,
            remote_ip,
            tls: None,
            phase: Phase::Authorization,
            pending: None,
            user_given: None,
            account: None,
            uidvalidity: 0,
            messages: Vec::new(),
            input: Vec::new(),
            discarding: false,
            output: Vec::new(),
            errors: 0,
            logged_out: false,
            commands: 0,
            counts: Counts::default(),
        }
    }

    /// RFC 1939 §4: the greeting, a positive response.
    pub fn greeting(&mut self) {
        let line = format!("+OK {} POP3 mailward ready", self.cfg.hostname);
        self.reply(&line);
    }

    /// Appends received bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.input.extend_from_slice(bytes);
    }

    /// Responses produced so far (to write to the client).
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    pub fn has_output(&self) -> bool {
        !self.output.is_empty()
    }

    pub fn output_len(&self) -> usize {
        self.output.len()
    }

    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// The logged-in account, in TRANSACTION.
    pub fn account(&self) -> Option<&str> {
        self.account.as_deref()
    }

    fn reply(&mut self, text: &str) {
        self.output.extend_from_slice(text.as_bytes());
        self.output.extend_from_slice(b"\r\n");
    }

    /// A negative response that counts towards the error limit; past it, say so and close.
    /// Logged as `command_failed` with the command and its response code (RFC 2449 §8).
    fn error(&mut self, text: &str) -> Option<Action> {
        let (code, reason) = split_err(text);
        self.scope.emit(Event::CommandFailed(CommandFailed {
            command: self.command.into(),
            code: code.into(),
            reason: reason.into(),
        }));
        self.reply(text);
        self.errors += 1;
        if self.errors >= self.cfg.max_errors {
            self.reply("-ERR too many errors, closing connection");
            return self.close("errors");
        }
        None
    }

    fn close(&mut self, reason: &str) -> Option<Action> {
        self.finish(reason);
        self.phase = Phase::Closed;
        self.input.clear();
        Some(Action::Close)
    }

    /// Authentication is allowed over TLS, or from loopback when configured (RFC 2595 §4
    /// lets a server refuse plaintext passwords before STLS; DESIGN.md makes loopback the
    /// one exception, for development).
    pub fn auth_allowed(&self) -> bool {
        self.tls.is_some()
            || (self.cfg.plaintext_auth_on_loopback && mailward_net::is_loopback(self.remote_ip))
    }

    /// Processes buffered input until it is used up (`None`) or an action is needed.
    pub fn advance(&mut self) -> Option<Action> {
        loop {
            if self.phase == Phase::Closed || self.pending.is_some() {
                return None;
            }
            if self.discarding {
                match memchr::memchr(b'\n', &self.input) {
                    Some(lf) => {
                        self.input.drain(..(lf + 1).min(self.input.len()));
                        self.discarding = false;
                    }
                    None => {
                        self.input.clear();
                        return None;
                    }
                }
                continue;
            }
            let max = if self.phase == Phase::AuthResponse {
                wire::MAX_AUTH_LINE
            } else {
                wire::MAX_COMMAND_LINE
            };
            let (consumed, line) = match wire::next_line(&self.input, max)? {
                Line::Complete { text, consumed } => (consumed, Some(text.to_vec())),
                Line::TooLong { consumed, ended } => {
                    self.discarding = !ended;
                    (consumed, None)
                }
            };
            self.input.drain(..consumed.min(self.input.len()));
            self.commands += 1;
            let action = match line {
                // RFC 2449 §4: a command line is at most 255 octets. The line is answered
                // with -ERR and skipped; the session goes on (errors count to the limit).
                None => {
                    self.command = "?";
                    if self.phase == Phase::AuthResponse {
                        self.phase = Phase::Authorization;
                    }
                    self.error("-ERR line too long")
                }
                Some(line) if self.phase == Phase::AuthResponse => {
                    self.command = "AUTH";
                    self.auth_response(&line)
                }
                Some(line) => {
                    self.command = command_name(&line);
                    self.command(&line)
                }
            };
            if action.is_some() {
                return action;
            }
        }
    }

    fn command(&mut self, line: &[u8]) -> Option<Action> {
        let cmd = match command::parse(line) {
            Ok(c) => c,
            Err(ParseError::Unknown | ParseError::Empty) => {
                return self.error("-ERR unknown command");
            }
            Err(ParseError::Syntax(s)) => return self.error(&format!("-ERR syntax: {s}")),
            Err(ParseError::BadNumber) => return self.error("-ERR invalid message number"),
            Err(ParseError::BadCharacters) => {
                return self.error("-ERR invalid characters in command");
            }
        };
        match (self.phase, cmd) {
            // RFC 2449 §5: CAPA is valid in both states.
            (_, Command::Capa) => {
                self.capa();
                None
            }
            (Phase::Authorization, Command::Quit) => {
                self.reply("+OK mailward POP3 server signing off");
                self.close("quit")
            }
            (Phase::Transaction, Command::Quit) => self.quit(),
            (Phase::Authorization, Command::Stls) => self.stls(),
            (Phase::Authorization, Command::User(name)) => self.user(name),
            (Phase::Authorization, Command::Pass(pass)) => self.pass(pass),
            (Phase::Authorization, Command::Auth { mechanism, initial }) => {
                self.auth(mechanism, initial)
            }
            (Phase::Authorization, Command::Apop) => {
                // RFC 1939 §7: APOP is optional; it needs the plaintext secret, which is
                // never stored (passwords are argon2 hashes).
                self.error("-ERR APOP not supported; use USER/PASS or AUTH PLAIN over TLS")
            }
            (Phase::Transaction, Command::Stat) => {
                let (n, size) = self.totals();
                self.reply(&format!("+OK {n} {size}"));
                None
            }
            (Phase::Transaction, Command::List(arg)) => self.list(arg),
            (Phase::Transaction, Command::Uidl(arg)) => self.uidl(arg),
            (Phase::Transaction, Command::Retr(n)) => self.fetch(n, None),
            (Phase::Transaction, Command::Top(n, lines)) => self.fetch(n, Some(lines)),
            (Phase::Transaction, Command::Dele(n)) => self.dele(n),
            (Phase::Transaction, Command::Rset) => {
                // RFC 1939 §5 RSET: unmark every message marked as deleted.
                for m in &mut self.messages {
                    m.deleted = false;
                }
                let (n, size) = self.totals();
                self.reply(&format!("+OK maildrop has {n} messages ({size} octets)"));
                None
            }
            (Phase::Transaction, Command::Noop) => {
                self.reply("+OK");
                None
            }
            (Phase::Transaction, _) => {
                self.error("-ERR command not valid in the TRANSACTION state")
            }
            (_, _) => self.error("-ERR command not valid before login"),
        }
    }

    /// RFC 2449 §5: the capability list. Capabilities of the AUTHORIZATION state are shown
    /// in both states. USER and SASL appear only where a login would be accepted (RFC 2449
    /// §6.8, RFC 2595 §4), STLS only while TLS can still be started.
    fn capa(&mut self) {
        let mut lines = vec![
            "+OK Capability list follows",
            "TOP",
            "UIDL",
            "RESP-CODES",
            "AUTH-RESP-CODE",
            "PIPELINING",
            // RFC 2449 §6.7: the server never deletes messages on its own.
            "EXPIRE NEVER",
        ];
        if self.auth_allowed() {
            lines.push("USER");
            lines.push("SASL PLAIN");
        }
        if self.cfg.tls_available && self.tls.is_none() {
            lines.push("STLS");
        }
        lines.push("IMPLEMENTATION mailward");
        lines.push(".");
        for l in lines {
            self.reply(l);
        }
    }

    fn stls(&mut self) -> Option<Action> {
        if self.tls.is_some() {
            // RFC 2595 §4: STLS is refused once TLS is active.
            return self.error("-ERR TLS already active");
        }
        if !self.cfg.tls_available {
            return self.error("-ERR STLS not available");
        }
        self.reply("+OK Begin TLS negotiation");
        // RFC 2595 §4 / CVE-2011-0411: anything pipelined after STLS was sent in plaintext
        // and must not be obeyed after the handshake.
        self.input.clear();
        self.discarding = false;
        self.pending = Some(Pending::Tls);
        Some(Action::StartTls)
    }

    /// After STLS: RFC 2595 §4, the session stays in AUTHORIZATION and forgets what the
    /// client said before (a USER name; pipelined input was already discarded).
    pub fn tls_established(&mut self, info: TlsInfo) {
        self.scope.emit(info.event());
        self.tls = Some(info);
        self.user_given = None;
        self.input.clear();
        self.discarding = false;
        if self.pending == Some(Pending::Tls) {
            self.pending = None;
        }
    }

    /// For implicit TLS (port 995, RFC 8314): TLS was up before the greeting.
    pub fn set_tls(&mut self, info: TlsInfo) {
        self.scope.emit(info.event());
        self.tls = Some(info);
    }

    fn refuse_plaintext(&mut self, method: &str, user: &str) -> Option<Action> {
        self.auth_failed(user, method, "plaintext authentication before TLS");
        // RFC 3206 §4: [AUTH] — the credentials cannot be accepted this way.
        self.error(
            "-ERR [AUTH] Plaintext authentication disallowed on non-secure connections; use STLS",
        )
    }

    /// RFC 1939 §7 USER. The answer does not reveal whether the name exists.
    fn user(&mut self, name: String) -> Option<Action> {
        if !self.auth_allowed() {
            return self.refuse_plaintext("USER", &name);
        }
        self.user_given = Some(name);
        self.reply("+OK send PASS");
        None
    }

    /// RFC 1939 §7 PASS: only right after a successful USER.
    fn pass(&mut self, password: String) -> Option<Action> {
        if !self.auth_allowed() {
            let user = self.user_given.take().unwrap_or_default();
            return self.refuse_plaintext("USER", &user);
        }
        let Some(user) = self.user_given.take() else {
            return self.error("-ERR send USER first");
        };
        self.login(Method::User, user, password)
    }

    /// RFC 5034 §4 AUTH.
    fn auth(&mut self, mechanism: Option<String>, initial: Option<String>) -> Option<Action> {
        let Some(mechanism) = mechanism else {
            // AUTH without a mechanism: the list of mechanisms, as RFC 1734's clients
            // (and Dovecot) expect.
            self.reply("+OK");
            if self.auth_allowed() {
                self.reply("PLAIN");
            }
            self.reply(".");
            return None;
        };
        if !self.auth_allowed() {
            return self.refuse_plaintext(&mechanism, "");
        }
        if mechanism != "PLAIN" {
            return self.error("-ERR unsupported authentication mechanism");
        }
        self.user_given = None;
        match initial {
            // RFC 5034 §4: "=" is an empty initial response.
            Some(ir) if ir == "=" => self.auth_plain(""),
            Some(ir) => self.auth_plain(&ir),
            None => {
                // RFC 5034 §4: a continuation is "+" SP and the (empty) challenge.
                self.reply("+ ");
                self.phase = Phase::AuthResponse;
                None
            }
        }
    }

    fn auth_response(&mut self, line: &[u8]) -> Option<Action> {
        self.phase = Phase::Authorization;
        let text = String::from_utf8_lossy(line);
        let text = text.trim();
        if text == "*" {
            // RFC 5034 §4: "*" cancels; the server answers -ERR.
            return self.error("-ERR authentication cancelled");
        }
        self.auth_plain(text)
    }

    /// RFC 4616 §2: `[authzid] NUL authcid NUL passwd`, base64, decoded by the one SASL
    /// decoder of `mailward-net` (RFC 5034 §4: a response that does not decode is refused
    /// with -ERR; an authorization identity other than the user is refused).
    fn auth_plain(&mut self, b64: &str) -> Option<Action> {
        match sasl::decode_plain(b64.as_bytes()) {
            Ok(c) => self.login(Method::Plain, c.username, c.password),
            Err(e @ sasl::SaslError::AuthzidDiffers) => {
                self.auth_failed("", "PLAIN", e.reason());
                self.error("-ERR [AUTH] authorization identity must be the user")
            }
            Err(e @ sasl::SaslError::BadBase64) => {
                self.auth_failed("", "PLAIN", e.reason());
                self.error("-ERR invalid base64 in the response")
            }
            Err(e) => {
                self.auth_failed("", "PLAIN", e.reason());
                self.error("-ERR invalid PLAIN response")
            }
        }
    }

    /// One `auth_failed` shape for every way a login fails.
    fn auth_failed(&self, user: &str, mechanism: &str, reason: &str) {
        self.scope.emit(Event::AuthFailed(AuthFailed {
            user: printable(user).into(),
            mechanism: mechanism.into(),
            reason: reason.into(),
            failures: None,
        }));
    }

    fn login(&mut self, method: Method, user: String, password: String) -> Option<Action> {
        self.pending = Some(Pending::Login(method));
        Some(Action::Login {
            method,
            user,
            password,
        })
    }

    /// The outcome of [`Action::Login`].
    pub fn login_result(&mut self, given_user: &str, outcome: LoginOutcome) -> Option<Action> {
        let method = match self.pending.take() {
            Some(Pending::Login(m)) => m,
            other => {
                self.pending = other;
                return None;
            }
        };
        let user = printable(given_user);
        match outcome {
            LoginOutcome::Ok { account, maildrop } => {
                self.scope.emit(Event::Auth(Auth {
                    user: account.as_str().into(),
                    mechanism: method.as_str().into(),
                    messages: Some(maildrop.messages.len() as u64),
                }));
                self.open(account, maildrop);
                let (n, size) = self.totals();
                // RFC 1939 §7 PASS: "+OK maildrop locked and ready".
                self.reply(&format!(
                    "+OK Logged in; maildrop has {n} messages ({size} octets)"
                ));
                None
            }
            LoginOutcome::BadCredentials => {
                self.auth_failed(&user, method.as_str(), "invalid credentials");
                // RFC 3206 §4: [AUTH], the credentials were wrong.
                self.error("-ERR [AUTH] Authentication failed")
            }
            LoginOutcome::InUse => {
                self.auth_failed(&user, method.as_str(), "maildrop in use");
                // RFC 2449 §8.1.1: [IN-USE], the maildrop lock is held by another session.
                self.error("-ERR [IN-USE] maildrop is locked by another POP3 session")
            }
            LoginOutcome::TempFail(why) => {
                self.auth_failed(&user, method.as_str(), &format!("temporary failure: {why}"));
                // RFC 3206 §5: [SYS/TEMP], a temporary problem on our side.
                self.error("-ERR [SYS/TEMP] temporary failure, try again later")
            }
        }
    }

    fn open(&mut self, account: String, maildrop: Maildrop) {
        self.account = Some(account);
        self.uidvalidity = maildrop.uidvalidity;
        self.messages = maildrop
            .messages
            .into_iter()
            .map(|entry| Message {
                entry,
                deleted: false,
            })
            .collect();
        self.user_given = None;
        self.phase = Phase::Transaction;
    }

    /// RFC 1939 §5 STAT: count and octets of the messages not marked as deleted.
    fn totals(&self) -> (usize, u64) {
        self.messages
            .iter()
            .filter(|m| !m.deleted)
            .fold((0, 0), |(n, s), m| (n + 1, s + m.entry.size))
    }

    /// The message numbered `n` (RFC 1939 §3: numbers start at 1), unless deleted.
    fn message(&self, n: MsgNumber) -> Result<Entry, &'static str> {
        let m = n
            .checked_sub(1)
            .and_then(|i| self.messages.get(i))
            .ok_or("-ERR no such message")?;
        if m.deleted {
            return Err("-ERR message already deleted");
        }
        Ok(m.entry)
    }

    /// RFC 1939 §5 LIST: a scan listing "msg size" of one message or of all not deleted.
    fn list(&mut self, arg: Option<MsgNumber>) -> Option<Action> {
        match arg {
            Some(n) => match self.message(n) {
                Ok(e) => {
                    self.reply(&format!("+OK {n} {}", e.size));
                    None
                }
                Err(text) => self.error(text),
            },
            None => {
                let (n, size) = self.totals();
                let mut out = format!("+OK {n} messages ({size} octets)\r\n");
                for (i, m) in self.messages.iter().enumerate() {
                    if !m.deleted {
                        out.push_str(&format!("{} {}\r\n", i + 1, m.entry.size));
                    }
                }
                out.push_str(".\r\n");
                self.output.extend_from_slice(out.as_bytes());
                None
            }
        }
    }

    /// RFC 1939 §7 UIDL: "msg unique-id" of one message or of all not deleted.
    fn uidl(&mut self, arg: Option<MsgNumber>) -> Option<Action> {
        match arg {
            Some(n) => match self.message(n) {
                Ok(e) => {
                    let id = unique_id(e.uid, self.uidvalidity);
                    self.reply(&format!("+OK {n} {id}"));
                    None
                }
                Err(text) => self.error(text),
            },
            None => {
                let mut out = String::from("+OK unique-id listing follows\r\n");
                for (i, m) in self.messages.iter().enumerate() {
                    if !m.deleted {
                        let id = unique_id(m.entry.uid, self.uidvalidity);
                        out.push_str(&format!("{} {id}\r\n", i + 1));
                    }
                }
                out.push_str(".\r\n");
                self.output.extend_from_slice(out.as_bytes());
                None
            }
        }
    }

    /// RFC 1939 §5 RETR and §7 TOP: ask the driver for the message.
    fn fetch(&mut self, n: MsgNumber, top: Option<u64>) -> Option<Action> {
        let e = match self.message(n) {
            Ok(e) => e,
            Err(text) => return self.error(text),
        };
        self.pending = Some(Pending::Fetch {
            number: n,
            size: e.size,
            top,
        });
        Some(Action::Fetch {
            uid: e.uid,
            // RETR marks the message \Seen (as Dovecot does); TOP only peeks.
            mark_seen: top.is_none(),
        })
    }

    /// The outcome of [`Action::Fetch`]: the multi-line response (RFC 1939 §3).
    pub fn fetch_result(&mut self, result: Result<Vec<u8>, MailError>) -> Option<Action> {
        let (number, size, top) = match self.pending.take() {
            Some(Pending::Fetch { number, size, top }) => (number, size, top),
            other => {
                self.pending = other;
                return None;
            }
        };
        match result {
            Ok(data) => {
                match top {
                    None => {
                        self.reply(&format!("+OK {size} octets"));
                        let sent = wire::write_multiline(&mut self.output, &data, None);
                        self.counts.retr += 1;
                        self.counts.retr_bytes += sent as u64;
                    }
                    Some(lines) => {
                        self.reply("+OK top of message follows");
                        wire::write_multiline(&mut self.output, &data, Some(lines));
                        self.counts.top += 1;
                    }
                }
                None
            }
            Err(MailError::Gone) => self.error(&format!(
                "-ERR message {number} was removed by another session"
            )),
            Err(MailError::Temporary(_)) => {
                self.error("-ERR [SYS/TEMP] cannot read the message, try again later")
            }
        }
    }

    /// RFC 1939 §5 DELE: mark; the message goes at QUIT (§6), RSET unmarks it.
    fn dele(&mut self, n: MsgNumber) -> Option<Action> {
        if let Err(text) = self.message(n) {
            return self.error(text);
        }
        if let Some(m) = n.checked_sub(1).and_then(|i| self.messages.get_mut(i)) {
            m.deleted = true;
        }
        self.reply(&format!("+OK message {n} deleted"));
        None
    }

    /// RFC 1939 §6: QUIT in TRANSACTION enters UPDATE: the marked messages are removed and
    /// only then is `+OK` sent.
    fn quit(&mut self) -> Option<Action> {
        let uids: Vec<u32> = self
            .messages
            .iter()
            .filter(|m| m.deleted)
            .map(|m| m.entry.uid)
            .collect();
        if uids.is_empty() {
            return self.signed_off();
        }
        self.pending = Some(Pending::Commit);
        Some(Action::Commit { uids })
    }

    fn signed_off(&mut self) -> Option<Action> {
        let (left, _) = self.totals();
        self.reply(&format!(
            "+OK mailward POP3 server signing off ({left} messages left)"
        ));
        self.close("quit")
    }

    /// The outcome of [`Action::Commit`].
    pub fn commit_result(&mut self, result: Result<usize, MailError>) -> Option<Action> {
        if self.pending != Some(Pending::Commit) {
            return None;
        }
        self.pending = None;
        match result {
            Ok(removed) => {
                self.counts.deleted = removed as u64;
                self.signed_off()
            }
            Err(_) => {
                // RFC 1939 §6: "-ERR some deleted messages not removed".
                self.reply("-ERR [SYS/TEMP] some deleted messages not removed");
                self.close("commit failed")
            }
        }
    }

    /// RFC 1939 §3: the inactivity autologout. The session ends without a response and
    /// without removing anything (the UPDATE state is not entered).
    pub fn timeout(&mut self) {
        self.output.clear();
        self.finish("timeout");
        self.phase = Phase::Closed;
    }

    /// Logs `logout` once for a logged-in session, however it ends (QUIT, timeout, the
    /// peer closing); messages are only removed after QUIT.
    pub fn finish(&mut self, reason: &str) {
        if self.logged_out {
            return;
        }
        if let Some(user) = &self.account {
            self.logged_out = true;
            let marked = self.messages.iter().filter(|m| m.deleted).count();
            self.scope.emit(Event::Logout(Logout {
                user: user.as_str().into(),
                reason: reason.into(),
                retr: self.counts.retr,
                retr_bytes: self.counts.retr_bytes,
                top: self.counts.top,
                dele: self.counts.deleted,
                marked: marked as u64,
                left: (self.messages.len() as u64).saturating_sub(self.counts.deleted),
            }));
        }
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
