//! Every reply mailward's SMTP server sends (mox's `smtp/codes.go` in spirit): fixed replies
//! as constants of [`Reply`], listed in [`Reply::ALL`]; replies with dynamic text as
//! constructor functions. The doc comment of each cites the rule it follows.
//!
//! Enhanced codes are RFC 3463's: X.0.0 §3.1, X.1.x §3.2 (addressing), X.2.x §3.3
//! (mailbox), X.3.x §3.4 (mail system), X.4.x §3.5 (network and routing), X.5.x §3.6
//! (protocol), X.7.x §3.8 (security or policy).

use super::{Code, EnhancedCode, Reply};

/// A reply code known at compile time. Used only in `const` items, so a bad code in the
/// catalogue fails the build; it can never panic at run time.
pub(super) const fn code(n: u16) -> Code {
    match Code::new(n) {
        Ok(c) => c,
        Err(_) => panic!("catalogue: not an SMTP reply code"),
    }
}

/// An enhanced code known at compile time whose class must equal the reply code's first
/// digit (RFC 3463 §2: "the class … must match the SMTP reply code's first digit" in
/// spirit; RFC 2034 §3). Only used in `const` items: a mismatch fails the build.
const fn enhanced(reply: u16, class: u8, subject: u16, detail: u16) -> Option<EnhancedCode> {
    if reply / 100 != class as u16 {
        panic!("catalogue: enhanced class differs from the reply class");
    }
    match EnhancedCode::new(class, subject, detail) {
        Ok(e) => Some(e),
        Err(_) => panic!("catalogue: not an enhanced status code"),
    }
}

macro_rules! replies {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident = $code:literal $(($c:literal, $s:literal, $d:literal))? $text:literal;
    )*) => {
        impl Reply {
            $(
                $(#[doc = $doc])*
                pub const $name: Reply = Reply::fixed(
                    code($code),
                    replies!(@enhanced $code $($c, $s, $d)?),
                    $text,
                );
            )*

            /// Every fixed reply with its name (for tests and documentation).
            pub const ALL: &'static [(&'static str, Reply)] = &[
                $((stringify!($name), Reply::$name),)*
            ];
        }
    };
    (@enhanced $code:literal) => { None };
    (@enhanced $code:literal $c:literal, $s:literal, $d:literal) => {
        enhanced($code, $c, $s, $d)
    };
}

replies! {
    // ---- Any command / the connection ----

    /// RFC 5321 §4.1.1.9 (NOOP) and §4.1.1.5 (RSET): `250`; RFC 3463 §3.1 X.0.0.
    OK = 250 (2, 0, 0) "Ok";
    /// RFC 5321 §4.1.1.10: QUIT is answered with `221`, then the server closes.
    BYE = 221 (2, 0, 0) "Bye";
    /// RFC 5321 §4.1.1.8: HELP answers `214`.
    HELP = 214 (2, 0, 0) "See RFC 5321 (https://www.rfc-editor.org/rfc/rfc5321)";
    /// RFC 5321 §3.5.3: `252` when the server will not verify but accepts mail for the
    /// address; RFC 3463 §3.6 X.5.0.
    CANNOT_VRFY = 252 (2, 5, 0)
        "Cannot VRFY user, but will accept message and attempt delivery";
    /// RFC 5321 §4.2.4: `502` for a command recognised but not implemented (EXPN, ETRN,
    /// ATRN, BURL, LHLO; STARTTLS without a certificate); RFC 3463 §3.6 X.5.1.
    NOT_IMPLEMENTED = 502 (5, 5, 1) "Error: command not implemented";
    /// RFC 5321 §4.2.2, §4.2.4: `500` for an unrecognised command; RFC 3463 §3.6 X.5.2.
    UNRECOGNIZED_COMMAND = 500 (5, 5, 2) "Error: command not recognized";
    /// RFC 5321 §4.2.2: `500` syntax error (a command the parser could not read).
    BAD_SYNTAX = 500 (5, 5, 2) "Error: bad syntax";
    /// RFC 5321 §4.5.3.1.4 (512 octets a command line) and §4.5.3.1.9: `500 Line too long`.
    LINE_TOO_LONG = 500 (5, 5, 2) "Error: line too long";
    /// RFC 5321 §2.3.8: only CRLF ends a line; a bare CR or LF in a command is refused.
    BARE_LINE_ENDING = 500 (5, 5, 2) "Error: bare <CR> or <LF> received";
    /// RFC 5321 §4.1.2: the command grammar has no place for NUL.
    NUL_IN_COMMAND = 500 (5, 5, 2) "Error: NUL in command";
    /// RFC 5321 §4.3.2: `421` may answer any command when the server must close (here:
    /// the session made too many errors); RFC 3463 §3.8 X.7.0.
    TOO_MANY_ERRORS = 421 (4, 7, 0) "Too many errors, closing connection";
    /// RFC 5321 §4.5.3.2: the server timed out waiting and closes with `421`; RFC 3463
    /// §3.5 X.4.2 (bad connection).
    TIMEOUT = 421 (4, 4, 2) "Error: timeout exceeded";
    /// RFC 5321 §3.1, §4.3.2: `421` instead of the greeting — the address has too many
    /// connections open; RFC 3463 §3.8 X.7.0.
    TOO_MANY_CONNECTIONS = 421 (4, 7, 0) "Error: too many connections from your address";
    /// RFC 5321 §3.1, §4.3.2: `421` instead of the greeting — the address connects too
    /// often; RFC 3463 §3.8 X.7.0.
    CONNECTION_RATE_EXCEEDED = 421 (4, 7, 0) "Error: too many connections, slow down";
    /// RFC 5321 §4.3.2: `421`, closing — the address failed AUTH too often (at connect, or
    /// after the failure that blocked it); RFC 3463 §3.8 X.7.0.
    TOO_MANY_AUTH_FAILURES = 421 (4, 7, 0)
        "Error: too many authentication failures, try later";

    // ---- HELO/EHLO, STARTTLS ----

    /// RFC 3207 §4: `220` before the TLS handshake.
    READY_TO_START_TLS = 220 (2, 0, 0) "Ready to start TLS";
    /// RFC 3207 §4.2: STARTTLS is not offered again once TLS is up, so one more is out of
    /// sequence; RFC 3463 §3.6 X.5.1.
    TLS_ALREADY_ACTIVE = 554 (5, 5, 1) "Error: TLS already active";

    // ---- AUTH (RFC 4954) ----

    /// RFC 4954 §3: AUTH is an ESMTP extension, so it needs EHLO first; `503` bad sequence.
    AUTH_NEEDS_EHLO = 503 (5, 5, 1) "Error: send EHLO first";
    /// RFC 4954 §4: after a successful AUTH, further AUTH commands get `503`.
    ALREADY_AUTHENTICATED = 503 (5, 5, 1) "Error: already authenticated";
    /// RFC 4954 §4: AUTH during a mail transaction gets `503`.
    AUTH_IN_TRANSACTION = 503 (5, 5, 1) "Error: MAIL transaction in progress";
    /// RFC 8689 §4.1: REQUIRETLS is only taken over a TLS session; RFC 3463/5248 X.7.10
    /// (encryption needed).
    REQUIRETLS_NEEDS_TLS = 530 (5, 7, 10) "REQUIRETLS needs a TLS session";
    /// RFC 4954 §6: `538 5.7.11` when the mechanism needs an encrypted channel.
    ENCRYPTION_REQUIRED = 538 (5, 7, 11)
        "Encryption required for requested authentication mechanism";
    /// RFC 4954 §4: `504` and X.5.4 for a mechanism the server does not support.
    UNRECOGNIZED_AUTH_TYPE = 504 (5, 5, 4) "Unrecognized authentication type";
    /// RFC 4954 §4: a server challenge is `334` and its base64 text; PLAIN with no initial
    /// response gets the empty challenge.
    AUTH_EMPTY_CHALLENGE = 334 "";
    /// RFC 4954 §4 challenge for the LOGIN mechanism (draft-murchison-sasl-login):
    /// base64 of `Username:`.
    AUTH_LOGIN_USERNAME = 334 "VXNlcm5hbWU6";
    /// RFC 4954 §4 challenge for the LOGIN mechanism: base64 of `Password:`.
    AUTH_LOGIN_PASSWORD = 334 "UGFzc3dvcmQ6";
    /// RFC 4954 §4: the client cancelled with `*`; the server rejects AUTH with `501`.
    AUTH_CANCELLED = 501 (5, 7, 0) "Authentication cancelled";
    /// RFC 4954 §4: a response that is not base64 gets `501` and X.5.2.
    CANNOT_DECODE = 501 (5, 5, 2) "Cannot decode response";
    /// RFC 4616 §2: a PLAIN response is `[authzid] NUL authcid NUL passwd`; anything else
    /// is a syntax error, `501` (RFC 4954 §4).
    INVALID_PLAIN_RESPONSE = 501 (5, 5, 2) "Invalid PLAIN response";
    /// RFC 4954 §6: `535 5.7.8` for a bad user name or password.
    AUTH_INVALID = 535 (5, 7, 8) "Authentication credentials invalid";
    /// RFC 4954 §6: `235 2.7.0` after a successful AUTH.
    AUTH_SUCCEEDED = 235 (2, 7, 0) "Authentication successful";
    /// RFC 4954 §6: `454 4.7.0` when the password could not be checked now (the account
    /// store failed, or the address has too many checks running); the client may retry.
    AUTH_TEMPORARY_FAILURE = 454 (4, 7, 0) "Temporary authentication failure";
    /// RFC 4954 §6: `530 5.7.0` when the server requires AUTH first (RFC 6409 §4.3 on the
    /// submission ports).
    AUTH_REQUIRED = 530 (5, 7, 0) "Authentication required";

    // ---- MAIL ----

    /// RFC 5321 §4.1.4: MAIL before HELO/EHLO is out of sequence, `503`.
    NEED_HELO = 503 (5, 5, 1) "Error: send HELO/EHLO first";
    /// RFC 5321 §4.1.4: MAIL inside a transaction is out of sequence, `503`.
    NESTED_MAIL = 503 (5, 5, 1) "Error: nested MAIL command";
    /// RFC 5321 §4.1.1.2, §4.2.2: `501` for a reverse-path that does not parse; RFC 3463
    /// §3.2 X.1.7 (bad sender's mailbox address syntax).
    BAD_SENDER_SYNTAX = 501 (5, 1, 7) "Bad sender address syntax";
    /// RFC 1870 §4, §6.1: a declared SIZE above the fixed maximum is refused with `552`;
    /// RFC 3463 §3.4 X.3.4 (message too big for system).
    DECLARED_SIZE_TOO_BIG = 552 (5, 3, 4) "Message size exceeds fixed limit";
    /// RFC 5321 §4.1.1.11: `555` for MAIL/RCPT parameters the server does not take — after
    /// HELO, no service extension parameters were negotiated.
    PARAMETERS_NEED_EHLO = 555 (5, 5, 4) "Parameters need EHLO";
    /// RFC 5321 §4.1.1.2: `250` for an accepted MAIL; RFC 3463 §3.2 X.1.0.
    SENDER_OK = 250 (2, 1, 0) "Ok";

    // ---- RCPT ----

    /// RFC 5321 §4.1.4, §3.3: RCPT/DATA/BDAT need MAIL first, `503`.
    NEED_MAIL = 503 (5, 5, 1) "Error: need MAIL command";
    /// RFC 5321 §4.1.1.3, §4.2.2: `501` for a forward-path that does not parse; RFC 3463
    /// §3.2 X.1.3 (bad destination mailbox address syntax).
    BAD_RECIPIENT_SYNTAX = 501 (5, 1, 3) "Bad recipient address syntax";
    /// RFC 5321 §4.5.3.1.10: 452 for too many recipients; RFC 3463 §3.6 X.5.3.
    TOO_MANY_RECIPIENTS = 452 (4, 5, 3) "Error: too many recipients";
    /// RFC 5321 §4.1.1.3: `250` for an accepted RCPT; RFC 3463 §3.2 X.1.5 (destination
    /// address valid).
    RECIPIENT_OK = 250 (2, 1, 5) "Ok";

    // ---- DATA, BDAT ----

    /// RFC 5321 §3.3: with no accepted recipient, DATA gets `554` "no valid recipients".
    NO_VALID_RECIPIENTS = 554 (5, 5, 1) "Error: no valid recipients";
    /// RFC 3030 §2: DATA after BDAT in one transaction gets `503`.
    DATA_AFTER_BDAT = 503 (5, 5, 1) "Error: DATA after BDAT";
    /// RFC 5321 §4.1.1.4: `354` invites the message data. No enhanced code: RFC 3463 §2
    /// has classes 2, 4 and 5 only.
    START_MAIL_INPUT = 354 "End data with <CR><LF>.<CR><LF>";
    /// RFC 1870 §4 and RFC 5321 §4.5.3.1.9: a message above the fixed maximum is refused
    /// with `552`; RFC 3463 §3.4 X.3.4.
    MESSAGE_TOO_BIG = 552 (5, 3, 4) "Error: message file too big";
    /// RFC 5321 §3.6.2 (553: mailbox name not allowed) with RFC 3463 §3.8 X.7.1 (delivery
    /// not authorized): an authenticated user's `From:` names an address that is not its
    /// own, and no `Sender:` of its own says who sent it.
    HEADER_FROM_NOT_OWNED = 553 (5, 7, 1) "Error: From: header address not owned by the authenticated user";
    /// RFC 5321 §4.5.3.1 (a server may limit sizes) with RFC 3463 §3.4 X.3.4: a spooled
    /// message's header section did not end within the part kept in memory for the checks
    /// of `From:` and of hops ([`crate::body::HEAD_MAX`]).
    HEADER_SECTION_TOO_BIG = 552 (5, 3, 4) "Error: message header section too big";
    /// RFC 3030 §3 (`chunk-size = 1*DIGIT`) with RFC 5321 §4.1.4 (501 for a syntax error in
    /// parameters): a chunk size that is no number fitting 64 bits. Where the chunk ends is
    /// unknown, so nothing after it can be read as a command: the session closes.
    BDAT_SIZE_INVALID = 501 (5, 5, 4) "Error: invalid BDAT chunk size, closing connection";
    /// RFC 5321 §2.3.8, §4.1.1.4: only CRLF.CRLF ends the data; a bare CR or LF in it is
    /// an SMTP smuggling attempt, refused before closing (`521`, RFC 7504 §3, as Postfix).
    BARE_LINE_ENDING_IN_DATA = 521 (5, 5, 2)
        "Error: bare <CR> or <LF> received in message";
    /// RFC 5321 §6.3: a message that went round too often is a loop; RFC 3463 §3.5 X.4.6
    /// (routing loop detected).
    TOO_MANY_HOPS = 554 (5, 4, 6) "Error: too many hops";
    /// RFC 5321 §4.2.5: `451` after the data when the message could not be stored; RFC
    /// 3463 §3.4 X.3.0.
    QUEUE_WRITE_ERROR = 451 (4, 3, 0) "Error: queue file write error";
}

impl Reply {
    /// RFC 5321 §3.1, §4.2: the `220` greeting names the server. No enhanced code: RFC 2034
    /// §3 exempts the greeting.
    pub fn greeting(hostname: &str) -> Reply {
        Reply::new(
            const { code(220) },
            None,
            format!("{hostname} ESMTP mailward"),
        )
    }

    /// RFC 5321 §4.1.1.1: `250` and the server's name answer HELO (RFC 2034 §3: no
    /// enhanced code on HELO/EHLO replies).
    pub fn helo(hostname: &str) -> Reply {
        Reply::new(const { code(250) }, None, hostname.to_string())
    }

    /// RFC 5321 §4.2.2: `501` syntax error in parameters, naming what was wrong; RFC 3463
    /// §3.6 X.5.4 (invalid command arguments).
    pub fn syntax_error(syntax: &str) -> Reply {
        Reply::new(
            const { code(501) },
            const { enhanced(501, 5, 5, 4) },
            format!("Syntax: {syntax}"),
        )
    }

    /// RFC 5321 §4.2.2: `501` for a parameter with a bad value; RFC 3463 §3.6 X.5.4.
    pub fn invalid_parameter(param: &str) -> Reply {
        Reply::new(
            const { code(501) },
            const { enhanced(501, 5, 5, 4) },
            format!("Invalid parameter {param}"),
        )
    }

    /// RFC 5321 §4.1.1.11: `555` for a MAIL/RCPT parameter the server does not know;
    /// RFC 3463 §3.6 X.5.4. The name comes from the client: only its first 64 printable
    /// ASCII characters are echoed.
    pub fn unsupported_parameter(param: &str) -> Reply {
        let p: String = param
            .chars()
            .filter(|c| c.is_ascii_graphic())
            .take(64)
            .collect();
        Reply::new(
            const { code(555) },
            const { enhanced(555, 5, 5, 4) },
            format!("Unsupported parameter {p}"),
        )
    }

    /// RFC 5321 §4.2.3 (`553` mailbox name not allowed) and RFC 6409 §6.1: the
    /// authenticated user may not send as this address; RFC 3463 §3.8 X.7.1.
    pub fn sender_not_owned(address: &str, user: &str) -> Reply {
        Reply::new(
            const { code(553) },
            const { enhanced(553, 5, 7, 1) },
            format!("<{address}>: Sender address rejected: not owned by user {user}"),
        )
    }

    /// RFC 5321 §3.6.1: a local part holding `@` is never routed on; `550` and RFC 3463
    /// §3.2 X.1.3 (bad destination mailbox address syntax).
    pub fn recipient_bad_syntax(address: &str) -> Reply {
        Reply::new(
            const { code(550) },
            const { enhanced(550, 5, 1, 3) },
            format!("<{address}>: Bad recipient address syntax"),
        )
    }

    /// RFC 5321 §4.2.2: `550` mailbox unavailable — no such user in a local domain; RFC
    /// 3463 §3.2 X.1.1 (bad destination mailbox address).
    pub fn unknown_user(address: &str) -> Reply {
        Reply::new(
            const { code(550) },
            const { enhanced(550, 5, 1, 1) },
            format!("<{address}>: Recipient address rejected: User unknown"),
        )
    }

    /// RFC 5321 §4.2.2: `452` insufficient storage — the mailbox is over quota, try later;
    /// RFC 3463 §3.3 X.2.2 (mailbox full).
    pub fn mailbox_full(address: &str) -> Reply {
        Reply::new(
            const { code(452) },
            const { enhanced(452, 4, 2, 2) },
            format!("<{address}>: Mailbox full"),
        )
    }

    /// RFC 5321 §4.2.2: `451` local error — the directory lookup failed; RFC 3463 §3.4
    /// X.3.0.
    pub fn lookup_failed(address: &str) -> Reply {
        Reply::new(
            const { code(451) },
            const { enhanced(451, 4, 3, 0) },
            format!("<{address}>: Temporary lookup failure"),
        )
    }

    /// RFC 5321 §3.9, §7.1: not an open relay — a domain that is not ours, from a client
    /// that may not relay; RFC 3463 §3.8 X.7.1 (delivery not authorized).
    pub fn relay_denied(address: &str) -> Reply {
        Reply::new(
            const { code(554) },
            const { enhanced(554, 5, 7, 1) },
            format!("<{address}>: Relay access denied"),
        )
    }

    /// RFC 9989 §5.8: the sender domain's DMARC policy is `reject` and the message failed
    /// it; RFC 7372 §3.1 / RFC 3463 X.7.1 (delivery not authorised). The text says which
    /// domain asked for it, so the sender's postmaster knows where to look.
    pub fn dmarc_policy_reject(domain: &str) -> Reply {
        Reply::new(
            const { code(550) },
            const { enhanced(550, 5, 7, 1) },
            format!(
                "Message refused: it fails the DMARC policy of {domain} (p=reject): no SPF or DKIM pass aligned with {domain}"
            ),
        )
    }

    /// The security gateway refused the message (issue 17): `554 5.7.1` (RFC 5321 §4.2.2
    /// transaction failed; RFC 3463 §3.8 X.7.1 delivery not authorized, message refused),
    /// with the reason the sender can read.
    pub fn content_refused(reason: &str) -> Reply {
        Reply::new(
            const { code(554) },
            const { enhanced(554, 5, 7, 1) },
            format!("Message refused: {}", reply_text(reason)),
        )
    }

    /// The recipient's Sieve script refused the message (RFC 5429 §2.1: `550 5.7.1` and
    /// the script's reason), answered at SMTP time when it was the only recipient.
    pub fn sieve_refused(reason: &str) -> Reply {
        Reply::new(
            const { code(550) },
            const { enhanced(550, 5, 7, 1) },
            reply_text(reason),
        )
    }

    /// The security gateway could not decide now (its antivirus is down): `451 4.7.1`
    /// (RFC 5321 §4.2.2; RFC 3463 §3.8), try again later.
    pub fn content_tempfail(reason: &str) -> Reply {
        Reply::new(
            const { code(451) },
            const { enhanced(451, 4, 7, 1) },
            format!("Message not accepted for now: {}", reply_text(reason)),
        )
    }

    /// RFC 3030 §2: each BDAT chunk that is not the last is answered `250` once all its
    /// octets are in; RFC 3463 §3.1 X.0.0.
    pub fn chunk_received(octets: usize) -> Reply {
        Reply::new(
            const { code(250) },
            const { enhanced(250, 2, 0, 0) },
            format!("{octets} octets received"),
        )
    }

    /// RFC 5321 §4.2.5: `250` after the data only once the message is safely stored,
    /// naming its queue ID; RFC 3463 §3.1 X.0.0.
    pub fn queued(queue_id: &str) -> Reply {
        Reply::new(
            const { code(250) },
            const { enhanced(250, 2, 0, 0) },
            format!("Ok: queued as {queue_id}"),
        )
    }
}

/// Text from a message (a file name in a reason) fit for a reply line: printable ASCII only
/// (RFC 5321 §4.2: without SMTPUTF8 a reply is ASCII), at most 300 characters.
fn reply_text(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(300)
        .collect();
    if text.chars().count() > 300 {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::{Extension, ReplyClass};

    /// Every reply mailward can send: the constants and one of each constructor.
    fn every_reply() -> Vec<(String, Reply)> {
        let mut all: Vec<(String, Reply)> = Reply::ALL
            .iter()
            .map(|(n, r)| (n.to_string(), r.clone()))
            .collect();
        let built = [
            ("greeting", Reply::greeting("mx.test")),
            ("helo", Reply::helo("mx.test")),
            (
                "ehlo",
                Reply::ehlo(
                    "mx.test",
                    "client",
                    "192.0.2.1".parse().unwrap(),
                    &[Extension::Size(10), Extension::Dsn],
                ),
            ),
            ("syntax_error", Reply::syntax_error("x")),
            ("invalid_parameter", Reply::invalid_parameter("SIZE")),
            ("unsupported_parameter", Reply::unsupported_parameter("X")),
            ("sender_not_owned", Reply::sender_not_owned("a@b", "u")),
            ("recipient_bad_syntax", Reply::recipient_bad_syntax("a@b")),
            ("unknown_user", Reply::unknown_user("a@b")),
            ("mailbox_full", Reply::mailbox_full("a@b")),
            ("lookup_failed", Reply::lookup_failed("a@b")),
            ("relay_denied", Reply::relay_denied("a@b")),
            ("chunk_received", Reply::chunk_received(5)),
            ("queued", Reply::queued("Q1")),
        ];
        all.extend(built.into_iter().map(|(n, r)| (n.to_string(), r)));
        all
    }

    #[test]
    fn enhanced_class_matches_reply_class_for_every_reply() {
        for (name, r) in every_reply() {
            if let Some(e) = r.enhanced() {
                assert_eq!(
                    u16::from(e.class().digit()),
                    r.code().get() / 100,
                    "{name}: {}",
                    r.status()
                );
            }
            // RFC 3463 §2: only 2/4/5 replies can carry one; 3yz replies never do.
            if r.class() == ReplyClass::PositiveIntermediate {
                assert!(r.enhanced().is_none(), "{name}");
            }
        }
    }

    #[test]
    fn every_text_is_one_line() {
        for (name, r) in every_reply() {
            for line in r.lines() {
                assert!(!line.contains(['\r', '\n']), "{name}: {line:?}");
                // RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets with its CRLF.
                assert!(line.len() < 480, "{name}");
            }
            let wire = r.to_bytes();
            let lines = wire
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .count();
            assert_eq!(lines, r.lines().count(), "{name}");
            assert!(wire.ends_with(b"\r\n"), "{name}");
        }
    }

    #[test]
    fn names_in_all_are_unique() {
        let mut names: Vec<&str> = Reply::ALL.iter().map(|(n, _)| *n).collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
    }

    #[test]
    fn dynamic_replies_on_the_wire() {
        let w = |r: Reply| String::from_utf8(r.to_bytes()).unwrap();
        assert_eq!(w(Reply::queued("Q1")), "250 2.0.0 Ok: queued as Q1\r\n");
        assert_eq!(
            w(Reply::unknown_user("x@y")),
            "550 5.1.1 <x@y>: Recipient address rejected: User unknown\r\n"
        );
        assert_eq!(
            w(Reply::unsupported_parameter("FOO=\x01bar")),
            "555 5.5.4 Unsupported parameter FOO=bar\r\n"
        );
        assert_eq!(
            w(Reply::greeting("mx.test")),
            "220 mx.test ESMTP mailward\r\n"
        );
        // The server's own refusals (outside a session) keep their bytes.
        assert_eq!(
            w(Reply::TOO_MANY_CONNECTIONS),
            "421 4.7.0 Error: too many connections from your address\r\n"
        );
        assert_eq!(
            w(Reply::CONNECTION_RATE_EXCEEDED),
            "421 4.7.0 Error: too many connections, slow down\r\n"
        );
        assert_eq!(
            w(Reply::TOO_MANY_AUTH_FAILURES),
            "421 4.7.0 Error: too many authentication failures, try later\r\n"
        );
    }
}
