//! SASL PLAIN (RFC 4616) as AUTHENTICATE uses it (RFC 9051 §6.2.2, initial response
//! RFC 4959).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

/// Why a PLAIN response was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlainError {
    /// RFC 9051 §6.2.2: an invalid BASE64 string gets a tagged BAD.
    #[error("invalid base64")]
    BadBase64,
    /// Not `[authzid] NUL authcid NUL passwd` (RFC 4616 §2).
    #[error("malformed PLAIN message")]
    Malformed,
    /// An authorization identity other than the authentication identity: we do not act
    /// for other users (RFC 4616 §2 lets the server refuse).
    #[error("authorization identity not permitted")]
    Authorization,
}

/// The user name and password of a PLAIN message.
#[derive(Clone, PartialEq, Eq)]
pub struct Plain {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Plain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plain")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Decodes the client's base64 line (the `*` cancel is handled by the caller).
pub fn decode_response_line(line: &[u8]) -> Result<Vec<u8>, PlainError> {
    let line = line.strip_suffix(b" ").unwrap_or(line);
    B64.decode(line).map_err(|_| PlainError::BadBase64)
}

/// RFC 4616 §2: `message = [authzid] UTF8NUL authcid UTF8NUL passwd`, each part UTF-8
/// without NUL, authcid and passwd at most 255 octets.
pub fn parse_plain(msg: &[u8]) -> Result<Plain, PlainError> {
    let mut parts = msg.split(|&b| b == 0);
    let (Some(authz), Some(user), Some(pass), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(PlainError::Malformed);
    };
    if user.is_empty() || user.len() > 255 || pass.len() > 255 || authz.len() > 255 {
        return Err(PlainError::Malformed);
    }
    let (Ok(authz), Ok(user), Ok(pass)) = (
        std::str::from_utf8(authz),
        std::str::from_utf8(user),
        std::str::from_utf8(pass),
    ) else {
        return Err(PlainError::Malformed);
    };
    if !authz.is_empty() && authz != user {
        return Err(PlainError::Authorization);
    }
    Ok(Plain {
        username: user.to_string(),
        password: pass.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_messages() {
        assert_eq!(
            parse_plain(b"\0user\0pass"),
            Ok(Plain {
                username: "user".into(),
                password: "pass".into()
            })
        );
        assert!(parse_plain(b"user\0user\0pass").is_ok());
        assert_eq!(
            parse_plain(b"admin\0user\0pass"),
            Err(PlainError::Authorization)
        );
        assert_eq!(parse_plain(b"user\0pass"), Err(PlainError::Malformed));
        assert_eq!(parse_plain(b"\0\0pass"), Err(PlainError::Malformed));
        assert_eq!(decode_response_line(b"AHUAcA=="), Ok(b"\0u\0p".to_vec()));
        assert_eq!(decode_response_line(b"!!"), Err(PlainError::BadBase64));
    }
}
