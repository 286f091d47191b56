//! The client's side of one SMTP conversation (RFC 5321 §3): greeting, EHLO (HELO when
//! EHLO is refused, §3.2), STARTTLS (RFC 3207) and AUTH (RFC 4954) to a smarthost, then
//! transactions: MAIL, RCPT, DATA or BDAT with the extensions the peer offers.

use super::conn::Connection;
use super::error::ClientError;
use super::reply::{self, Reply};
use super::xtext;
use base64::Engine;
use smtp_proto::{
    AUTH_LOGIN, AUTH_PLAIN, EXT_8BIT_MIME, EXT_BINARY_MIME, EXT_CHUNKING, EXT_DSN, EXT_PIPELINING,
    EXT_SIZE, EXT_SMTP_UTF8, EXT_START_TLS, EhloResponse,
};
use std::time::Duration;

/// What the peer said it can do in its EHLO reply (nothing after HELO).
#[derive(Debug, Clone, Default)]
pub struct Capabilities {
    pub esmtp: bool,
    bits: u32,
    /// RFC 1870 SIZE limit; 0 = none given.
    pub size: usize,
    auth: u64,
}

impl Capabilities {
    pub fn has(&self, ext: u32) -> bool {
        self.bits & ext != 0
    }
    pub fn starttls(&self) -> bool {
        self.has(EXT_START_TLS)
    }
    pub fn auth_plain(&self) -> bool {
        self.auth & AUTH_PLAIN != 0
    }
    pub fn auth_login(&self) -> bool {
        self.auth & AUTH_LOGIN != 0
    }
    /// The extensions as EHLO keywords, for `probe` and the log.
    pub fn names(&self) -> Vec<&'static str> {
        let table: [(u32, &str); 9] = [
            (EXT_PIPELINING, "PIPELINING"),
            (EXT_SIZE, "SIZE"),
            (EXT_8BIT_MIME, "8BITMIME"),
            (EXT_SMTP_UTF8, "SMTPUTF8"),
            (EXT_START_TLS, "STARTTLS"),
            (EXT_CHUNKING, "CHUNKING"),
            (EXT_BINARY_MIME, "BINARYMIME"),
            (EXT_DSN, "DSN"),
            (smtp_proto::EXT_REQUIRE_TLS, "REQUIRETLS"),
        ];
        table
            .iter()
            .filter(|(bit, _)| self.has(*bit))
            .map(|(_, n)| *n)
            .collect()
    }
}

/// An attempt on one server that ended before any recipient got an answer of its own.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The server refused the session (a 4xx/5xx greeting, EHLO and HELO refused, AUTH
    /// refused): the next host may take it.
    #[error("{stage}: {}", reply.one_line())]
    Refused { stage: &'static str, reply: Reply },
    /// TLS is required for this destination and the server does not offer it.
    #[error("TLS is required but {0} does not offer STARTTLS")]
    NoStartTls(String),
}

/// Reads the greeting and says EHLO (HELO when EHLO is refused with 5xx).
pub async fn open(
    conn: &mut Connection,
    helo_name: &str,
    greeting: Duration,
    command: Duration,
) -> Result<Capabilities, SessionError> {
    let hello = conn.read_reply(greeting, "greeting").await?;
    if hello.code != 220 {
        return Err(SessionError::Refused {
            stage: "greeting",
            reply: hello,
        });
    }
    ehlo(conn, helo_name, command).await
}

/// EHLO, or HELO after a 5xx to EHLO (RFC 5321 §3.2).
pub async fn ehlo(
    conn: &mut Connection,
    helo_name: &str,
    command: Duration,
) -> Result<Capabilities, SessionError> {
    ehlo_raw(conn, helo_name, command)
        .await
        .map(|(caps, _)| caps)
}

/// [`ehlo`], also returning the reply's bytes as the server sent them (for `probe`).
pub async fn ehlo_raw(
    conn: &mut Connection,
    helo_name: &str,
    command: Duration,
) -> Result<(Capabilities, Vec<u8>), SessionError> {
    conn.write(format!("EHLO {helo_name}\r\n").as_bytes(), command, "EHLO")
        .await?;
    let raw = conn.read_raw(command, "EHLO").await?;
    let first = reply::parse(&raw).map_err(ClientError::from)?;
    if first.is_positive() {
        let mut it = raw.iter();
        let parsed = EhloResponse::parse(&mut it).map_err(|e| {
            ClientError::Reply(reply::ReplyError::NotSmtp(format!("EHLO reply: {e:?}")))
        })?;
        let caps = Capabilities {
            esmtp: true,
            bits: parsed.capabilities,
            size: parsed.size,
            auth: parsed.auth_mechanisms,
        };
        return Ok((caps, raw));
    }
    if !first.is_permanent() {
        return Err(SessionError::Refused {
            stage: "EHLO",
            reply: first,
        });
    }
    conn.write(format!("HELO {helo_name}\r\n").as_bytes(), command, "HELO")
        .await?;
    let raw = conn.read_raw(command, "HELO").await?;
    let helo = reply::parse(&raw).map_err(ClientError::from)?;
    if !helo.is_positive() {
        return Err(SessionError::Refused {
            stage: "HELO",
            reply: helo,
        });
    }
    Ok((Capabilities::default(), raw))
}

/// Sends STARTTLS; true when the server said 220 (RFC 3207 §4), false when it refused.
pub async fn starttls(conn: &mut Connection, command: Duration) -> Result<bool, SessionError> {
    conn.write(b"STARTTLS\r\n", command, "STARTTLS").await?;
    let r = conn.read_reply(command, "STARTTLS").await?;
    if r.code != 220 {
        return Ok(false);
    }
    // RFC 3207 §4 and the STARTTLS command injection attacks: nothing may have come after
    // the 220 before the handshake.
    if conn.has_unread() {
        return Err(ClientError::Tls("data after the 220 to STARTTLS (injection)".into()).into());
    }
    Ok(true)
}

/// AUTH PLAIN (RFC 4616) or LOGIN to a smarthost, over TLS (the caller checks).
pub async fn authenticate(
    conn: &mut Connection,
    caps: &Capabilities,
    user: &str,
    password: &str,
    command: Duration,
) -> Result<(), SessionError> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let reply = if caps.auth_plain() || !caps.auth_login() {
        let token = b64.encode(format!("\0{user}\0{password}"));
        conn.write(
            format!("AUTH PLAIN {token}\r\n").as_bytes(),
            command,
            "AUTH",
        )
        .await?;
        conn.read_reply(command, "AUTH").await?
    } else {
        conn.write(b"AUTH LOGIN\r\n", command, "AUTH").await?;
        let mut r = conn.read_reply(command, "AUTH").await?;
        for secret in [user, password] {
            if r.code != 334 {
                break;
            }
            conn.write(
                format!("{}\r\n", b64.encode(secret)).as_bytes(),
                command,
                "AUTH",
            )
            .await?;
            r = conn.read_reply(command, "AUTH").await?;
        }
        r
    };
    if reply.code == 235 {
        Ok(())
    } else {
        Err(SessionError::Refused {
            stage: "AUTH",
            reply,
        })
    }
}

/// RSET before a connection is reused; true when the server is still there and willing,
/// and said nothing while the connection was idle (that would be read as the reply to RSET).
pub async fn reset(conn: &mut Connection, command: Duration) -> bool {
    if !conn.is_quiet().await {
        return false;
    }
    if conn.write(b"RSET\r\n", command, "RSET").await.is_err() {
        return false;
    }
    matches!(conn.read_reply(command, "RSET").await, Ok(r) if r.is_positive())
}

/// QUIT, without waiting long for the answer.
pub async fn quit(mut conn: Connection) {
    let t = Duration::from_secs(2);
    if conn.write(b"QUIT\r\n", t, "QUIT").await.is_ok() {
        let _ = conn.read_reply(t, "QUIT").await;
    }
}

/// One recipient of a transaction, as the queue has it.
#[derive(Debug, Clone)]
pub struct TxRcpt<'a> {
    pub address: &'a str,
    pub notify: &'a [String],
    pub orcpt: Option<&'a str>,
}

/// The envelope of one transaction and the parameters the peer's extensions allow.
#[derive(Debug, Clone)]
pub struct Transaction<'a> {
    pub sender: &'a str,
    pub rcpts: Vec<TxRcpt<'a>>,
    pub body: &'a [u8],
    /// `BODY=8BITMIME` / `BINARYMIME` to send (already checked against the peer).
    pub body_type: Option<&'a str>,
    pub smtputf8: bool,
    /// RFC 8689 §4.2: passed on (the peer offers REQUIRETLS: checked before).
    pub requiretls: bool,
    /// RFC 3461 parameters, passed on only to a peer that offers DSN.
    pub ret: Option<&'a str>,
    pub envid: Option<&'a str>,
}

/// What the server answered for one recipient.
#[derive(Debug, Clone)]
pub enum RcptReply {
    /// Accepted at RCPT and the message taken at the end of data.
    Accepted(Reply),
    /// Refused at RCPT, or the whole transaction refused (MAIL, DATA, the final reply).
    Refused(Reply),
}

/// Runs one transaction; the replies come back in the order of `tx.rcpts`.
///
/// With PIPELINING (RFC 2920 §3.1), MAIL, every RCPT and DATA go out in one write; BDAT
/// (RFC 3030) is used when the peer offers CHUNKING, so the body needs no dot-stuffing.
pub async fn send(
    conn: &mut Connection,
    caps: &Capabilities,
    tx: &Transaction<'_>,
    t: &super::config::Timeouts,
) -> Result<Vec<RcptReply>, ClientError> {
    // Whatever the server sent before MAIL would be read as the reply to MAIL, and so on:
    // a 250 to RCPT taken for the reply to DATA counted a message as sent that never was.
    if !conn.is_quiet().await {
        return Err(ClientError::Unsolicited("MAIL"));
    }
    let dsn = caps.has(EXT_DSN);
    let mut mail = format!("MAIL FROM:<{}>", tx.sender);
    if caps.has(EXT_SIZE) {
        mail.push_str(&format!(" SIZE={}", tx.body.len()));
    }
    if let Some(b) = tx.body_type {
        mail.push_str(&format!(" BODY={b}"));
    }
    if tx.smtputf8 {
        mail.push_str(" SMTPUTF8");
    }
    if tx.requiretls {
        mail.push_str(" REQUIRETLS");
    }
    if dsn {
        if let Some(ret) = tx.ret {
            mail.push_str(&format!(" RET={ret}"));
        }
        if let Some(envid) = tx.envid {
            mail.push_str(&format!(" ENVID={}", xtext::encode(envid)));
        }
    }
    mail.push_str("\r\n");
    let mut rcpt_cmds = Vec::with_capacity(tx.rcpts.len());
    for r in &tx.rcpts {
        let mut c = format!("RCPT TO:<{}>", r.address);
        if dsn {
            if !r.notify.is_empty() {
                c.push_str(&format!(" NOTIFY={}", r.notify.join(",")));
            }
            if let Some(o) = r.orcpt {
                c.push_str(&format!(" ORCPT={}", xtext::encode(o)));
            }
        }
        c.push_str("\r\n");
        rcpt_cmds.push(c);
    }
    let chunking = caps.has(EXT_CHUNKING);
    let pipelining = caps.has(EXT_PIPELINING);

    // MAIL and RCPT (and DATA), in one write when pipelining.
    let mut rcpt_replies = Vec::with_capacity(tx.rcpts.len());
    let mail_reply;
    let mut data_reply = None;
    if pipelining {
        let mut batch = mail.clone();
        for c in &rcpt_cmds {
            batch.push_str(c);
        }
        if !chunking {
            batch.push_str("DATA\r\n");
        }
        conn.write(batch.as_bytes(), t.command, "MAIL").await?;
        mail_reply = conn.read_reply(t.command, "MAIL").await?;
        for _ in &rcpt_cmds {
            rcpt_replies.push(conn.read_reply(t.command, "RCPT").await?);
        }
        if !chunking {
            data_reply = Some(conn.read_reply(t.data_init, "DATA").await?);
        }
    } else {
        conn.write(mail.as_bytes(), t.command, "MAIL").await?;
        mail_reply = conn.read_reply(t.command, "MAIL").await?;
        if mail_reply.is_positive() {
            for c in &rcpt_cmds {
                conn.write(c.as_bytes(), t.command, "RCPT").await?;
                rcpt_replies.push(conn.read_reply(t.command, "RCPT").await?);
            }
        }
    }
    if !mail_reply.is_positive() {
        if data_reply.as_ref().is_some_and(|d| d.is_intermediate()) {
            // A server that said 354 anyway: end the empty message, then forget it.
            conn.write(b".\r\n", t.data_block, "DATA").await?;
            let _ = conn.read_reply(t.data_end, "DATA").await?;
        }
        let _ = reset(conn, t.command).await;
        return Ok(tx
            .rcpts
            .iter()
            .map(|_| RcptReply::Refused(mail_reply.clone()))
            .collect());
    }
    let any_accepted = rcpt_replies.iter().any(Reply::is_positive);
    let final_reply = if !any_accepted {
        if data_reply.as_ref().is_some_and(|d| d.is_intermediate()) {
            conn.write(b".\r\n", t.data_block, "DATA").await?;
            let _ = conn.read_reply(t.data_end, "DATA").await?;
        }
        let _ = reset(conn, t.command).await;
        None
    } else if chunking {
        // RFC 3030 §2: BDAT <size> LAST, then exactly that many octets.
        let head = format!("BDAT {} LAST\r\n", tx.body.len());
        conn.write(head.as_bytes(), t.data_block, "BDAT").await?;
        conn.write_blocks(tx.body, t.data_block, "BDAT").await?;
        Some(conn.read_reply(t.data_end, "end of data").await?)
    } else {
        let go = match data_reply {
            Some(r) => r,
            None => {
                conn.write(b"DATA\r\n", t.command, "DATA").await?;
                conn.read_reply(t.data_init, "DATA").await?
            }
        };
        if go.is_positive() {
            // RFC 5321 §4.3.2: DATA is answered 354 or refused; a 2xx is no message taken.
            return Err(ClientError::Unexpected("DATA", go.one_line()));
        } else if go.code != 354 {
            Some(go)
        } else {
            let stuffed = dot_stuff(tx.body);
            conn.write_blocks(&stuffed, t.data_block, "DATA").await?;
            Some(conn.read_reply(t.data_end, "end of data").await?)
        }
    };
    conn.messages += 1;
    Ok(rcpt_replies
        .into_iter()
        .map(|r| match (&final_reply, r.is_positive()) {
            (Some(f), true) if f.is_positive() => RcptReply::Accepted(f.clone()),
            (Some(f), true) => RcptReply::Refused(f.clone()),
            _ => RcptReply::Refused(r),
        })
        .collect())
}

/// The body as DATA sends it (RFC 5321 §4.5.2): a `.` doubled at the start of each line,
/// lines ending CRLF, and the terminating `.` line.
pub fn dot_stuff(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + body.len() / 64 + 5);
    let mut line_start = true;
    let mut prev = 0u8;
    for &b in body {
        if line_start && b == b'.' {
            out.push(b'.');
        }
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        line_start = b == b'\n';
        prev = b;
    }
    if !body.is_empty() && !line_start {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::dot_stuff;

    #[test]
    fn leading_dots_are_doubled_and_the_end_marked() {
        assert_eq!(
            dot_stuff(b"a\r\n.b\r\n..\r\n"),
            b"a\r\n..b\r\n...\r\n.\r\n".to_vec()
        );
        assert_eq!(dot_stuff(b".x"), b"..x\r\n.\r\n".to_vec());
        assert_eq!(dot_stuff(b"a\nb\n"), b"a\r\nb\r\n.\r\n".to_vec());
    }
}
