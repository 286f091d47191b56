//! The CAPABILITY list (RFC 9051 §7.2.2) and what ENABLE may turn on (RFC 5161).

use imap_codec::imap_types::auth::AuthMechanism;
use imap_codec::imap_types::core::{Atom, Vec1};
use imap_codec::imap_types::response::Capability;

/// Where a session stands, for the capability list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapabilityContext {
    /// STARTTLS can be offered (a certificate is configured) and TLS is not active yet.
    pub starttls: bool,
    /// Authentication is allowed on this connection now (TLS, or loopback if configured).
    pub auth_allowed: bool,
    /// The session is authenticated.
    pub authenticated: bool,
    /// APPENDLIMIT (RFC 7889).
    pub append_limit: u64,
}

fn other(s: &str) -> Option<Capability<'static>> {
    Atom::try_from(s.to_string()).ok().map(Capability::from)
}

/// The capabilities, in the order they are listed.
///
/// - Before authentication: `STARTTLS` when it can be used (RFC 9051 §6.2.1);
///   `AUTH=PLAIN` and `SASL-IR` (RFC 4959) when authentication is allowed, else
///   `LOGINDISABLED` (RFC 9051 §6.2.3: no plaintext passwords without TLS, except on
///   loopback when configured).
/// - Always: IMAP4rev2 (RFC 9051) and IMAP4rev1 (RFC 3501), LITERAL+ (RFC 7888), ID
///   (RFC 2971), ENABLE (RFC 5161), IDLE (RFC 2177), NAMESPACE (RFC 2342), UIDPLUS
///   (RFC 4315), MOVE (RFC 6851), SPECIAL-USE and CREATE-SPECIAL-USE (RFC 6154), METADATA and
///   METADATA-SERVER (RFC 5464: server and mailbox annotations), CONDSTORE and QRESYNC
///   (RFC 7162), ESEARCH (RFC 4731), LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819),
///   UNSELECT (RFC 3691), QUOTA and QUOTA=RES-STORAGE (RFC 9208), APPENDLIMIT (RFC 7889),
///   MULTIAPPEND (RFC 3502), CATENATE (RFC 4469), BINARY (RFC 3516), URLAUTH (RFC 4467)
///   and URLAUTH=BINARY (RFC 5524),
///   CHILDREN (RFC 3348), UTF8=ACCEPT (RFC 6855), SORT and SORT=DISPLAY (RFC 5256,
///   RFC 5957), THREAD=ORDEREDSUBJECT and THREAD=REFERENCES (RFC 5256), ESORT (RFC 5267
///   §3), CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267 §4), PARTIAL (RFC 9394), NOTIFY
///   (RFC 5465).
pub fn capabilities(ctx: &CapabilityContext) -> Vec1<Capability<'static>> {
    let mut caps: Vec<Capability<'static>> = Vec::new();
    caps.extend(other("IMAP4rev2"));
    caps.push(Capability::Imap4Rev1);
    if !ctx.authenticated {
        if ctx.starttls {
            caps.push(Capability::StartTls);
        }
        if ctx.auth_allowed {
            caps.push(Capability::Auth(AuthMechanism::Plain));
            caps.push(Capability::SaslIr);
        } else {
            caps.push(Capability::LoginDisabled);
        }
    }
    caps.push(Capability::LiteralPlus);
    caps.push(Capability::Id);
    caps.push(Capability::Enable);
    caps.push(Capability::Idle);
    caps.push(Capability::Namespace);
    caps.push(Capability::UidPlus);
    caps.push(Capability::Move);
    caps.extend(other("SPECIAL-USE"));
    caps.extend(other("CREATE-SPECIAL-USE"));
    caps.extend(other("METADATA"));
    caps.extend(other("METADATA-SERVER"));
    caps.push(Capability::CondStore);
    caps.push(Capability::QResync);
    caps.extend(other("ESEARCH"));
    caps.push(Capability::ListExtended);
    caps.extend(other("LIST-STATUS"));
    caps.push(Capability::Unselect);
    caps.push(Capability::Quota);
    caps.extend(other("QUOTA=RES-STORAGE"));
    caps.extend(other(&format!("APPENDLIMIT={}", ctx.append_limit)));
    caps.extend(other("MULTIAPPEND"));
    caps.extend(other("CATENATE"));
    caps.extend(other("BINARY"));
    caps.extend(other("URLAUTH"));
    caps.extend(other("URLAUTH=BINARY"));
    caps.extend(other("CHILDREN"));
    caps.extend(other("SORT"));
    caps.extend(other("SORT=DISPLAY"));
    caps.extend(other("THREAD=ORDEREDSUBJECT"));
    caps.extend(other("THREAD=REFERENCES"));
    caps.extend(other("ESORT"));
    caps.extend(other("CONTEXT=SEARCH"));
    caps.extend(other("CONTEXT=SORT"));
    caps.extend(other("PARTIAL"));
    caps.extend(other("NOTIFY"));
    caps.push(Capability::Utf8(
        imap_codec::imap_types::extensions::utf8::Utf8Kind::Accept,
    ));
    Vec1::try_from(caps).unwrap_or_else(|_| Vec1::from(Capability::Imap4Rev1))
}

/// What ENABLE has turned on in a session (RFC 5161).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Enabled {
    /// RFC 9051 §6.3.1 `ENABLE IMAP4rev2`: IMAP4rev2 responses (no RECENT, ESEARCH-style
    /// SEARCH results, UTF-8 mailbox names).
    pub imap4rev2: bool,
    /// RFC 7162 §3.1: MODSEQ in FETCH responses, HIGHESTMODSEQ on SELECT.
    pub condstore: bool,
    /// RFC 7162 §3.2: only by `ENABLE QRESYNC` (which also turns on `condstore`,
    /// §3.2.3): QRESYNC SELECT parameter, VANISHED FETCH modifier, and VANISHED instead
    /// of EXPUNGE responses (§3.2.10).
    pub qresync: bool,
    /// RFC 6855 §3: UTF-8 in quoted strings and mailbox names.
    pub utf8_accept: bool,
}

impl Enabled {
    /// Mailbox names are UTF-8 on the wire (RFC 6855 §3, RFC 9051 §5.1).
    pub fn utf8_names(&self) -> bool {
        self.imap4rev2 || self.utf8_accept
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_codec::ResponseCodec;
    use imap_codec::encode::Encoder;
    use imap_codec::imap_types::response::{Data, Response};

    fn line(ctx: CapabilityContext) -> String {
        let r = Response::Data(Data::Capability(capabilities(&ctx)));
        String::from_utf8(ResponseCodec::default().encode(&r).dump()).unwrap_or_default()
    }

    #[test]
    fn plaintext_connection_hides_auth() {
        let l = line(CapabilityContext {
            starttls: true,
            auth_allowed: false,
            authenticated: false,
            append_limit: 100,
        });
        assert!(
            l.starts_with("* CAPABILITY IMAP4rev2 IMAP4REV1 STARTTLS LOGINDISABLED LITERAL+"),
            "{l}"
        );
        assert!(!l.contains("AUTH=PLAIN"));
        assert!(
            l.contains(" APPENDLIMIT=100 MULTIAPPEND CATENATE BINARY "),
            "{l}"
        );
        assert!(l.contains(" CONDSTORE QRESYNC "), "{l}");
        assert!(
            l.ends_with(
                " CHILDREN SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES ESORT CONTEXT=SEARCH CONTEXT=SORT PARTIAL NOTIFY UTF8=ACCEPT\r\n"
            ),
            "{l}"
        );
    }

    #[test]
    fn tls_connection_offers_plain() {
        let l = line(CapabilityContext {
            starttls: false,
            auth_allowed: true,
            authenticated: false,
            append_limit: 100,
        });
        assert!(l.contains(" AUTH=PLAIN SASL-IR "), "{l}");
        assert!(!l.contains("STARTTLS") && !l.contains("LOGINDISABLED"));
        let after = line(CapabilityContext {
            starttls: false,
            auth_allowed: true,
            authenticated: true,
            append_limit: 100,
        });
        // (URLAUTH=BINARY is no SASL mechanism.)
        assert!(!after.contains(" AUTH="), "{after}");
    }
}
