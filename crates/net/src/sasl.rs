//! The one SASL decoder every protocol uses (SMTP AUTH, IMAP AUTHENTICATE and LOGIN,
//! POP3 AUTH and USER/PASS, later ManageSieve): PLAIN (RFC 4616) and LOGIN
//! (draft-murchison-sasl-login), with one set of limits.
//!
//! Each protocol frames the exchange its own way (SMTP `334`, IMAP `+`, POP3 `+`) and
//! handles the client's `*` cancel; this module decodes what the client sent.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

/// RFC 4616 §2: authzid, authcid and passwd are each at most 255 octets.
pub const MAX_FIELD: usize = 255;

/// The longest base64 response worth decoding: three fields of [`MAX_FIELD`] and two NULs.
const MAX_RESPONSE_B64: usize = (3 * MAX_FIELD + 2).div_ceil(3) * 4;

/// Why a response was refused; each is a protocol error answered to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SaslError {
    /// Not base64 (RFC 4954 §4 `501`, RFC 9051 §6.2.2 `BAD`, RFC 5034 §4 `-ERR`).
    #[error("invalid base64")]
    BadBase64,
    /// Not `[authzid] NUL authcid NUL passwd` (RFC 4616 §2), or an empty user name.
    #[error("malformed response")]
    Malformed,
    /// A field longer than 255 octets (RFC 4616 §2).
    #[error("a field is longer than 255 octets")]
    TooLong,
    /// A field that is not UTF-8 (RFC 4616 §2: `UTF8-SAFE`).
    #[error("a field is not UTF-8")]
    NotUtf8,
    /// An authorization identity other than the authentication identity: mailward acts for
    /// no other user (RFC 4616 §2 lets a server refuse; no master-user feature exists).
    #[error("authorization identity differs")]
    AuthzidDiffers,
}

impl SaslError {
    /// The `reason` an `auth_failed` event gives.
    pub fn reason(self) -> &'static str {
        match self {
            SaslError::AuthzidDiffers => "authorization identity differs",
            SaslError::BadBase64 => "invalid base64",
            SaslError::Malformed | SaslError::TooLong | SaslError::NotUtf8 => "malformed response",
        }
    }
}

/// The identity and password a client presented.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The authentication identity (the user name).
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Decodes one base64 response line (without CRLF; a trailing space some clients send is
/// ignored). An empty line decodes to nothing (RFC 4954 §4: `=` is the empty response, and
/// is decoded the same way).
pub fn decode_base64(line: &[u8]) -> Result<Vec<u8>, SaslError> {
    let line = line.trim_ascii();
    if line.len() > MAX_RESPONSE_B64 {
        return Err(SaslError::TooLong);
    }
    if line == b"=" {
        return Ok(Vec::new());
    }
    B64.decode(line).map_err(|_| SaslError::BadBase64)
}

/// RFC 4616 §2: `message = [authzid] UTF8NUL authcid UTF8NUL passwd`.
pub fn parse_plain(message: &[u8]) -> Result<Credentials, SaslError> {
    let mut parts = message.split(|&b| b == 0);
    let (Some(authzid), Some(authcid), Some(password), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SaslError::Malformed);
    };
    let authzid = field(authzid)?;
    let username = field(authcid)?;
    let password = field(password)?;
    if username.is_empty() {
        return Err(SaslError::Malformed);
    }
    if !authzid.is_empty() && authzid != username {
        return Err(SaslError::AuthzidDiffers);
    }
    Ok(Credentials {
        username: username.to_owned(),
        password: password.to_owned(),
    })
}

/// A base64 PLAIN response (initial response or the answer to the empty challenge).
pub fn decode_plain(line: &[u8]) -> Result<Credentials, SaslError> {
    parse_plain(&decode_base64(line)?)
}

/// One step of the LOGIN mechanism (the user name, then the password): a base64 line
/// decoded to a UTF-8 string of at most 255 octets.
pub fn decode_login_field(line: &[u8]) -> Result<String, SaslError> {
    let raw = decode_base64(line)?;
    if raw.contains(&0) {
        return Err(SaslError::Malformed);
    }
    field(&raw).map(str::to_owned)
}

/// A user name or password given in clear (IMAP LOGIN, POP3 USER/PASS), under the same
/// limits as a SASL field.
pub fn check_clear_field(value: &str) -> Result<(), SaslError> {
    if value.len() > MAX_FIELD {
        return Err(SaslError::TooLong);
    }
    if value.contains('\0') {
        return Err(SaslError::Malformed);
    }
    Ok(())
}

/// The LOGIN mechanism's challenges: base64 of `Username:` and `Password:`.
pub const LOGIN_USERNAME_CHALLENGE: &str = "VXNlcm5hbWU6";
pub const LOGIN_PASSWORD_CHALLENGE: &str = "UGFzc3dvcmQ6";

fn field(raw: &[u8]) -> Result<&str, SaslError> {
    if raw.len() > MAX_FIELD {
        return Err(SaslError::TooLong);
    }
    std::str::from_utf8(raw).map_err(|_| SaslError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(raw: &[u8]) -> Vec<u8> {
        B64.encode(raw).into_bytes()
    }

    #[test]
    fn plain_with_and_without_authzid() {
        let c = decode_plain(&b64(b"\0bob\0pw")).unwrap();
        assert_eq!((c.username.as_str(), c.password.as_str()), ("bob", "pw"));
        assert!(decode_plain(&b64(b"bob\0bob\0pw")).is_ok());
    }

    #[test]
    fn an_authzid_for_another_user_is_refused() {
        assert_eq!(
            decode_plain(&b64(b"admin\0bob\0pw")),
            Err(SaslError::AuthzidDiffers)
        );
    }

    #[test]
    fn fields_over_255_octets_are_refused() {
        let long = vec![b'a'; 256];
        for msg in [
            [b"\0".as_slice(), &long, b"\0pw"].concat(),
            [b"\0bob\0".as_slice(), &long].concat(),
            [long.as_slice(), b"\0bob\0pw"].concat(),
        ] {
            assert_eq!(parse_plain(&msg), Err(SaslError::TooLong));
        }
        let ok = vec![b'a'; 255];
        assert!(parse_plain(&[b"\0".as_slice(), &ok, b"\0", &ok].concat()).is_ok());
    }

    #[test]
    fn non_utf8_malformed_and_bad_base64_are_refused() {
        assert_eq!(parse_plain(b"\0b\xffb\0pw"), Err(SaslError::NotUtf8));
        assert_eq!(parse_plain(b"\0bob"), Err(SaslError::Malformed));
        assert_eq!(parse_plain(b"\0\0pw"), Err(SaslError::Malformed));
        assert_eq!(parse_plain(b"\0a\0b\0c"), Err(SaslError::Malformed));
        assert_eq!(decode_base64(b"!!"), Err(SaslError::BadBase64));
        assert_eq!(
            decode_base64(&vec![b'A'; 4 * 1024]),
            Err(SaslError::TooLong)
        );
    }

    #[test]
    fn login_fields() {
        assert_eq!(decode_login_field(&b64(b"bob")), Ok("bob".into()));
        assert_eq!(
            decode_login_field(&b64(&[b'x'; 256])),
            Err(SaslError::TooLong)
        );
        assert_eq!(decode_login_field(&b64(b"a\0b")), Err(SaslError::Malformed));
        assert_eq!(B64.decode(LOGIN_USERNAME_CHALLENGE).unwrap(), b"Username:");
    }

    proptest::proptest! {
        /// Any bytes a client sends decode to credentials within the limits, or to an
        /// error; never a panic.
        #[test]
        fn any_response_is_decoded_or_refused(raw in proptest::collection::vec(proptest::num::u8::ANY, 0..1200)) {
            if let Ok(c) = parse_plain(&raw) {
                proptest::prop_assert!(!c.username.is_empty() && c.username.len() <= MAX_FIELD);
                proptest::prop_assert!(c.password.len() <= MAX_FIELD);
            }
            let _ = decode_plain(&raw);
            let _ = decode_login_field(&raw);
        }

        /// What a client encodes within the limits comes back as it was sent.
        #[test]
        fn plain_round_trips(user in "[^\\x00]{1,60}", pass in "[^\\x00]{0,60}") {
            let line = b64(format!("\0{user}\0{pass}").as_bytes());
            let c = decode_plain(&line);
            proptest::prop_assert_eq!(c.map(|c| (c.username, c.password)), Ok((user, pass)));
        }
    }

    #[test]
    fn the_password_is_not_in_debug_output() {
        let c = decode_plain(&b64(b"\0bob\0secret")).unwrap();
        assert!(!format!("{c:?}").contains("secret"));
    }
}
