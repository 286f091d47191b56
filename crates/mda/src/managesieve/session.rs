//! The ManageSieve session state machine (RFC 5804 §1.7, §2): pure and I/O-free. The
//! driver frames input with [`super::wire`] and hands each line to [`Session::line`] (or
//! a framing error to [`Session::bad_line`]); the [`Step`] says what to write and what to
//! do next. Password checks and script operations are done by the driver, whose outcome
//! comes back through [`Session::login_result`].
//!
//! States: non-authenticated (CAPABILITY, STARTTLS, AUTHENTICATE, NOOP, LOGOUT) →
//! authenticated (the script commands, UNAUTHENTICATE back) → closed.

use super::command::{self, Command, CommandError};
use super::response::{self, Code, Status};
use super::wire::{Token, WireError, WireLimits};
use mailward_event::{Auth, AuthFailed, CommandFailed, Event, Scope};
use mailward_net::sasl::{self, Credentials};

/// Settings shared by the sessions of a server.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// RFC 5804 §1.7 `IMPLEMENTATION`.
    pub implementation: String,
    /// RFC 5804 §1.7 `SIEVE`: the extensions the interpreter has, space separated.
    pub sieve_extensions: String,
    /// RFC 5804 §1.7 `NOTIFY`: notification methods (RFC 5435), space separated; empty
    /// when enotify is not offered.
    pub notify_methods: String,
    /// RFC 5804 §1.7 `MAXREDIRECTS`: redirects one script run may do.
    pub max_redirects: usize,
    /// A TLS configuration exists (STARTTLS can be offered).
    pub tls_available: bool,
    /// DESIGN.md: authentication only over TLS, except on loopback for development.
    pub plaintext_auth_on_loopback: bool,
    /// Bad commands and failed logins before the connection is closed.
    pub max_errors: u32,
    pub wire: WireLimits,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            implementation: "mailward".into(),
            sieve_extensions: "fileinto".into(),
            notify_methods: String::new(),
            max_redirects: 4,
            tls_available: false,
            plaintext_auth_on_loopback: true,
            max_errors: 10,
            wire: WireLimits::default(),
        }
    }
}

/// A script operation of an authenticated session, run by the driver against the store
/// ([`super::ops`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    HaveSpace {
        name: String,
        size: u64,
    },
    Put {
        name: String,
        script: Vec<u8>,
    },
    List,
    /// `None`: deactivate (SETACTIVE "").
    SetActive {
        name: Option<String>,
    },
    Get {
        name: String,
    },
    Delete {
        name: String,
    },
    Rename {
        old: String,
        new: String,
    },
    Check {
        script: Vec<u8>,
    },
}

/// What the driver does after a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Write these bytes and read on.
    Reply(Vec<u8>),
    /// Write these bytes, run the TLS handshake, then write
    /// [`Session::tls_established`]'s bytes (RFC 5804 §2.2).
    StartTls(Vec<u8>),
    /// Write these bytes and close.
    Close(Vec<u8>),
    /// Check the password (through the authentication ledger), then call
    /// [`Session::login_result`].
    Login {
        mechanism: &'static str,
        credentials: Credentials,
    },
    /// Run the operation for `user`; its bytes are the answer.
    Run { user: String, op: Op },
}

/// The outcome of a password check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    /// The account's address.
    Ok(String),
    BadCredentials,
    /// The store could not answer, or too many checks at once.
    TempFail(String),
    /// The address is refused after too many failures: the connection is closed.
    Blocked,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    NotAuthenticated,
    /// PLAIN sent an empty challenge; the next line is the response.
    SaslPlain,
    /// LOGIN asked for the user name.
    SaslLoginUser,
    /// LOGIN asked for the password.
    SaslLoginPassword(String),
    /// A password check is out.
    LoggingIn(&'static str),
    Authenticated(String),
    Closed,
}

/// One ManageSieve connection's protocol state.
pub struct Session {
    cfg: std::sync::Arc<SessionConfig>,
    pub scope: Scope<'static>,
    tls: bool,
    loopback: bool,
    phase: Phase,
    errors: u32,
    /// Commands read (for the `disconnect` event).
    pub commands: u64,
}

impl Session {
    pub fn new(cfg: std::sync::Arc<SessionConfig>, scope: Scope<'static>, tls: bool) -> Self {
        let loopback = scope.remote_ip.is_some_and(mailward_net::is_loopback);
        Session {
            cfg,
            scope,
            tls,
            loopback,
            phase: Phase::NotAuthenticated,
            errors: 0,
            commands: 0,
        }
    }

    /// The logged-in account.
    pub fn user(&self) -> Option<&str> {
        match &self.phase {
            Phase::Authenticated(u) => Some(u),
            _ => None,
        }
    }

    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    pub fn wire_limits(&self) -> &WireLimits {
        &self.cfg.wire
    }

    /// RFC 5804 §1.7: the server speaks first with its capabilities and `OK`.
    pub fn greeting(&self) -> Vec<u8> {
        let mut out = self.capabilities();
        response::status(&mut out, Status::Ok, None, "mailward ManageSieve ready");
        out
    }

    /// RFC 5804 §2.2: after the TLS handshake the server sends its capabilities again.
    pub fn tls_established(&mut self) -> Vec<u8> {
        self.tls = true;
        self.greeting()
    }

    fn auth_allowed(&self) -> bool {
        self.tls || (self.loopback && self.cfg.plaintext_auth_on_loopback)
    }

    /// RFC 5804 §1.7 capability lines.
    fn capabilities(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut line = |name: &str, value: Option<&str>| {
            response::string(&mut out, name.as_bytes());
            if let Some(v) = value {
                out.push(b' ');
                response::string(&mut out, v.as_bytes());
            }
            out.extend_from_slice(b"\r\n");
        };
        line("IMPLEMENTATION", Some(&self.cfg.implementation));
        // RFC 5804 §1.7: SASL may be empty when no mechanism is usable yet (before TLS).
        let mechanisms = if self.auth_allowed() {
            "PLAIN LOGIN"
        } else {
            ""
        };
        line("SASL", Some(mechanisms));
        line("SIEVE", Some(&self.cfg.sieve_extensions));
        if !self.tls && self.cfg.tls_available {
            line("STARTTLS", None);
        }
        line("MAXREDIRECTS", Some(&self.cfg.max_redirects.to_string()));
        if !self.cfg.notify_methods.is_empty() {
            line("NOTIFY", Some(&self.cfg.notify_methods));
        }
        if let Some(user) = self.user() {
            line("OWNER", Some(user));
        }
        line("VERSION", Some("1.0"));
        out
    }

    /// A line that could not be framed (not fatal): `NO`, or `BYE` after too many.
    pub fn bad_line(&mut self, error: &WireError) -> Step {
        self.commands += 1;
        if matches!(
            self.phase,
            Phase::SaslPlain | Phase::SaslLoginUser | Phase::SaslLoginPassword(_)
        ) {
            self.phase = Phase::NotAuthenticated;
        }
        self.no("?", None, &error.to_string())
    }

    /// A framing error after which the input cannot be read on: `BYE` and close.
    pub fn fatal(&mut self, error: &WireError) -> Step {
        self.phase = Phase::Closed;
        let code = matches!(error, WireError::LiteralTooBig(_)).then_some(Code::QuotaMaxSize);
        self.failed("?", "BYE", code.as_ref(), &error.to_string());
        let mut out = Vec::new();
        response::status(&mut out, Status::Bye, code.as_ref(), &error.to_string());
        Step::Close(out)
    }

    /// The driver closes an idle connection: what it is told.
    pub fn timeout(&mut self) -> Vec<u8> {
        self.phase = Phase::Closed;
        let mut out = Vec::new();
        response::status(&mut out, Status::Bye, None, "idle for too long");
        out
    }

    /// One framed line.
    pub fn line(&mut self, tokens: Vec<Token>) -> Step {
        self.commands += 1;
        match std::mem::replace(&mut self.phase, Phase::NotAuthenticated) {
            Phase::SaslPlain => return self.sasl_plain_response(tokens),
            Phase::SaslLoginUser => return self.sasl_login_user(tokens),
            Phase::SaslLoginPassword(user) => return self.sasl_login_password(tokens, user),
            other => self.phase = other,
        }
        let cmd = match command::parse(tokens) {
            Ok(c) => c,
            Err(CommandError::Unknown) => return self.no("?", None, "unknown command"),
            Err(e @ CommandError::Arguments(name)) => return self.no(name, None, &e.to_string()),
            Err(e) => return self.no("?", None, &e.to_string()),
        };
        let name = cmd.name();
        match (cmd, self.phase.clone()) {
            (Command::Logout, _) => {
                self.phase = Phase::Closed;
                // RFC 5804 §2.3: OK, then the server closes.
                self.ok_close("Bye")
            }
            (Command::Capability, _) => {
                let mut out = self.capabilities();
                response::status(&mut out, Status::Ok, None, "");
                Step::Reply(out)
            }
            (Command::Noop { tag }, _) => {
                // RFC 5804 §2.13: the tag comes back in a TAG response code.
                let code = tag.map(Code::Tag);
                let mut out = Vec::new();
                response::status(&mut out, Status::Ok, code.as_ref(), "Done");
                Step::Reply(out)
            }
            (Command::StartTls, Phase::NotAuthenticated) => {
                if self.tls {
                    return self.no(name, None, "TLS is already active");
                }
                if !self.cfg.tls_available {
                    return self.no(name, None, "TLS is not available");
                }
                let mut out = Vec::new();
                response::status(&mut out, Status::Ok, None, "Begin TLS negotiation now");
                Step::StartTls(out)
            }
            (Command::Authenticate { mechanism, initial }, Phase::NotAuthenticated) => {
                self.authenticate(&mechanism, initial)
            }
            (Command::Unauthenticate, Phase::Authenticated(_)) => {
                // RFC 5804 §2.14.1: back to the non-authenticated state.
                self.phase = Phase::NotAuthenticated;
                self.ok("")
            }
            (cmd, Phase::Authenticated(user)) => match script_op(cmd) {
                Some(op) => Step::Run { user, op },
                None => self.no(name, None, "not valid in the authenticated state"),
            },
            (_, _) => self.no(name, None, "authenticate first"),
        }
    }

    /// RFC 5804 §2.1 AUTHENTICATE; RFC 4616 PLAIN and the LOGIN mechanism.
    fn authenticate(&mut self, mechanism: &str, initial: Option<Vec<u8>>) -> Step {
        if !self.auth_allowed() {
            self.auth_failed("", mechanism, "plaintext authentication before TLS");
            // RFC 5804 §1.3 ENCRYPT-NEEDED.
            return self.no_code(
                "AUTHENTICATE",
                Code::EncryptNeeded,
                "use STARTTLS before authenticating",
            );
        }
        match (mechanism, initial) {
            ("PLAIN", Some(ir)) => self.plain(&ir),
            ("PLAIN", None) => {
                self.phase = Phase::SaslPlain;
                Step::Reply(b"\"\"\r\n".to_vec())
            }
            ("LOGIN", Some(user)) => match sasl::decode_login_field(&user) {
                Ok(user) => self.ask_password(user),
                Err(e) => self.sasl_error("LOGIN", e),
            },
            ("LOGIN", None) => {
                self.phase = Phase::SaslLoginUser;
                let mut out = Vec::new();
                response::string(&mut out, sasl::LOGIN_USERNAME_CHALLENGE.as_bytes());
                out.extend_from_slice(b"\r\n");
                Step::Reply(out)
            }
            _ => self.no("AUTHENTICATE", None, "unsupported mechanism"),
        }
    }

    fn ask_password(&mut self, user: String) -> Step {
        self.phase = Phase::SaslLoginPassword(user);
        let mut out = Vec::new();
        response::string(&mut out, sasl::LOGIN_PASSWORD_CHALLENGE.as_bytes());
        out.extend_from_slice(b"\r\n");
        Step::Reply(out)
    }

    /// The client's answer to a challenge: one string; `"*"` cancels (RFC 5804 §2.1).
    fn sasl_response(&mut self, tokens: Vec<Token>, mechanism: &str) -> Result<Vec<u8>, Step> {
        match tokens.as_slice() {
            [Token::String(s)] if s.as_slice() == b"*" => {
                Err(self.no("AUTHENTICATE", None, "authentication cancelled"))
            }
            [Token::String(s)] => Ok(s.clone()),
            _ => {
                self.auth_failed("", mechanism, "malformed response");
                Err(self.no("AUTHENTICATE", None, "expected a string"))
            }
        }
    }

    fn sasl_plain_response(&mut self, tokens: Vec<Token>) -> Step {
        match self.sasl_response(tokens, "PLAIN") {
            Ok(s) => self.plain(&s),
            Err(step) => step,
        }
    }

    fn sasl_login_user(&mut self, tokens: Vec<Token>) -> Step {
        match self.sasl_response(tokens, "LOGIN") {
            Ok(s) => match sasl::decode_login_field(&s) {
                Ok(user) => self.ask_password(user),
                Err(e) => self.sasl_error("LOGIN", e),
            },
            Err(step) => step,
        }
    }

    fn sasl_login_password(&mut self, tokens: Vec<Token>, user: String) -> Step {
        match self.sasl_response(tokens, "LOGIN") {
            Ok(s) => match sasl::decode_login_field(&s) {
                Ok(password) => self.login(
                    "LOGIN",
                    Credentials {
                        username: user,
                        password,
                    },
                ),
                Err(e) => self.sasl_error("LOGIN", e),
            },
            Err(step) => step,
        }
    }

    fn plain(&mut self, b64: &[u8]) -> Step {
        match sasl::decode_plain(b64) {
            Ok(c) => self.login("PLAIN", c),
            Err(e) => self.sasl_error("PLAIN", e),
        }
    }

    fn sasl_error(&mut self, mechanism: &str, e: sasl::SaslError) -> Step {
        self.auth_failed("", mechanism, e.reason());
        self.no(
            "AUTHENTICATE",
            None,
            &format!("invalid {mechanism} response: {e}"),
        )
    }

    fn login(&mut self, mechanism: &'static str, credentials: Credentials) -> Step {
        self.phase = Phase::LoggingIn(mechanism);
        Step::Login {
            mechanism,
            credentials,
        }
    }

    /// The outcome of [`Step::Login`].
    pub fn login_result(&mut self, given_user: &str, outcome: LoginOutcome) -> Step {
        let mechanism = match self.phase {
            Phase::LoggingIn(m) => m,
            _ => "?",
        };
        self.phase = Phase::NotAuthenticated;
        match outcome {
            LoginOutcome::Ok(account) => {
                self.scope.emit(Event::Auth(Auth {
                    user: account.as_str().into(),
                    mechanism: mechanism.into(),
                    messages: None,
                }));
                self.phase = Phase::Authenticated(account);
                self.ok("Logged in")
            }
            LoginOutcome::BadCredentials => {
                self.auth_failed(given_user, mechanism, "invalid credentials");
                self.no("AUTHENTICATE", None, "Authentication failed")
            }
            LoginOutcome::TempFail(why) => {
                self.auth_failed(given_user, mechanism, &format!("temporary failure: {why}"));
                self.no_code("AUTHENTICATE", Code::TryLater, "try again later")
            }
            LoginOutcome::Blocked => {
                self.auth_failed(given_user, mechanism, "invalid credentials");
                self.phase = Phase::Closed;
                let mut out = Vec::new();
                response::status(
                    &mut out,
                    Status::Bye,
                    Some(&Code::TryLater),
                    "too many authentication failures, try later",
                );
                Step::Close(out)
            }
        }
    }

    fn auth_failed(&self, user: &str, mechanism: &str, reason: &str) {
        self.scope.emit(Event::AuthFailed(AuthFailed {
            user: printable(user).into(),
            mechanism: mechanism.into(),
            reason: reason.into(),
            failures: Some(self.errors + 1),
        }));
    }

    fn ok(&self, text: &str) -> Step {
        let mut out = Vec::new();
        response::status(&mut out, Status::Ok, None, text);
        Step::Reply(out)
    }

    fn ok_close(&self, text: &str) -> Step {
        let mut out = Vec::new();
        response::status(&mut out, Status::Ok, None, text);
        Step::Close(out)
    }

    fn no(&mut self, command: &str, code: Option<Code>, text: &str) -> Step {
        self.errors += 1;
        self.failed(command, "NO", code.as_ref(), text);
        let mut out = Vec::new();
        response::status(&mut out, Status::No, code.as_ref(), text);
        if self.errors >= self.cfg.max_errors {
            self.phase = Phase::Closed;
            response::status(&mut out, Status::Bye, None, "too many errors");
            return Step::Close(out);
        }
        Step::Reply(out)
    }

    fn no_code(&mut self, command: &str, code: Code, text: &str) -> Step {
        self.no(command, Some(code), text)
    }

    fn failed(&self, command: &str, status: &str, code: Option<&Code>, text: &str) {
        let code = match code {
            Some(c) => format!("{status} ({})", c.text()),
            None => status.to_string(),
        };
        self.scope.emit(Event::CommandFailed(CommandFailed {
            command: command.to_string().into(),
            code: code.into(),
            reason: text.to_string().into(),
        }));
    }
}

/// The script commands of the authenticated state.
fn script_op(cmd: Command) -> Option<Op> {
    Some(match cmd {
        Command::HaveSpace { name, size } => Op::HaveSpace { name, size },
        Command::PutScript { name, script } => Op::Put { name, script },
        Command::ListScripts => Op::List,
        Command::SetActive { name } => Op::SetActive {
            name: (!name.is_empty()).then_some(name),
        },
        Command::GetScript { name } => Op::Get { name },
        Command::DeleteScript { name } => Op::Delete { name },
        Command::RenameScript { old, new } => Op::Rename { old, new },
        Command::CheckScript { script } => Op::Check { script },
        _ => return None,
    })
}

/// A user name as given, for the log: no control characters, at most 128 of them.
fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(128).collect()
}
