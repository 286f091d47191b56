//! Server responses (RFC 5804 §1.3, §4): `OK`, `NO` or `BYE`, an optional response code in
//! parentheses and an optional human-readable string, quoted when it can be, a literal
//! otherwise.

use super::wire::MAX_QUOTED;

/// RFC 5804 §1.3 response codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
    /// The client must authenticate (or use TLS) first.
    AuthTooWeak,
    EncryptNeeded,
    Quota,
    QuotaMaxScripts,
    QuotaMaxSize,
    Referral,
    Sasl(String),
    TransitionNeeded,
    TryLater,
    Active,
    Nonexistent,
    AlreadyExists,
    /// RFC 5804 §1.3 `TAG`, echoed by NOOP.
    Tag(Vec<u8>),
    Warnings,
}

impl Code {
    fn write(&self, out: &mut Vec<u8>) {
        let word = match self {
            Code::AuthTooWeak => "AUTH-TOO-WEAK",
            Code::EncryptNeeded => "ENCRYPT-NEEDED",
            Code::Quota => "QUOTA",
            Code::QuotaMaxScripts => "QUOTA/MAXSCRIPTS",
            Code::QuotaMaxSize => "QUOTA/MAXSIZE",
            Code::Referral => "REFERRAL",
            Code::Sasl(_) => "SASL",
            Code::TransitionNeeded => "TRANSITION-NEEDED",
            Code::TryLater => "TRYLATER",
            Code::Active => "ACTIVE",
            Code::Nonexistent => "NONEXISTENT",
            Code::AlreadyExists => "ALREADYEXISTS",
            Code::Tag(_) => "TAG",
            Code::Warnings => "WARNINGS",
        };
        out.extend_from_slice(word.as_bytes());
        match self {
            Code::Sasl(s) => {
                out.push(b' ');
                string(out, s.as_bytes());
            }
            Code::Tag(t) => {
                out.push(b' ');
                string(out, t);
            }
            _ => {}
        }
    }

    /// The code as written, for events (`NO (NONEXISTENT)`).
    pub fn text(&self) -> String {
        let mut out = Vec::new();
        self.write(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// The status word of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    No,
    Bye,
}

/// Writes `STATUS [(CODE)] ["text"] CRLF`.
pub fn status(out: &mut Vec<u8>, status: Status, code: Option<&Code>, text: &str) {
    out.extend_from_slice(match status {
        Status::Ok => b"OK",
        Status::No => b"NO",
        Status::Bye => b"BYE",
    });
    if let Some(code) = code {
        out.extend_from_slice(b" (");
        code.write(out);
        out.push(b')');
    }
    if !text.is_empty() {
        out.push(b' ');
        string(out, text.as_bytes());
    }
    out.extend_from_slice(b"\r\n");
}

/// RFC 5804 §4 `string`: quoted when short and free of CR, LF and NUL; a literal `{N}`
/// otherwise (the server-to-client form has no `+`).
pub fn string(out: &mut Vec<u8>, s: &[u8]) {
    let quotable = s.len() <= MAX_QUOTED && !s.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0));
    if quotable {
        out.push(b'"');
        for &b in s {
            if b == b'"' || b == b'\\' {
                out.push(b'\\');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        literal(out, s);
    }
}

/// `{N}` CRLF and the octets.
pub fn literal(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(format!("{{{}}}\r\n", s.len()).as_bytes());
    out.extend_from_slice(s);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn responses_with_codes_and_strings() {
        assert_eq!(text(|o| status(o, Status::Ok, None, "")), "OK\r\n");
        assert_eq!(
            text(|o| status(o, Status::No, Some(&Code::QuotaMaxSize), "too \"big\"")),
            "NO (QUOTA/MAXSIZE) \"too \\\"big\\\"\"\r\n"
        );
        assert_eq!(
            text(|o| status(o, Status::Ok, Some(&Code::Tag(b"t1".to_vec())), "Done")),
            "OK (TAG \"t1\") \"Done\"\r\n"
        );
        assert_eq!(
            text(|o| status(o, Status::No, None, "line 1\nline 2")),
            "NO {13}\r\nline 1\nline 2\r\n"
        );
    }
}
