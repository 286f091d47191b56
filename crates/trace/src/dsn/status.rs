//! Enhanced mail system status codes (RFC 3463) in words: `5.1.1` is a permanent failure,
//! "bad destination mailbox address". The codes registered after RFC 3463 (IANA's "Enumerated
//! Status Codes" registry, RFC 5248) that bounces commonly carry are named with the RFC that
//! defined them.

/// A status code as RFC 3464 §2.3.4 writes it: `class "." subject "." detail`, each of one
/// to three digits, the class 2, 4 or 5 (RFC 3463 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusCode {
    pub class: u8,
    pub subject: u16,
    pub detail: u16,
}

impl StatusCode {
    /// Reads `5.1.1` (surrounding space and a trailing `(comment)` allowed, RFC 3464 §2.1
    /// allows comments in the field); None when it is not a status code.
    pub fn parse(value: &str) -> Option<StatusCode> {
        let code = value.split(['(', ' ', '\t']).find(|s| !s.is_empty())?;
        let mut parts = code.split('.');
        let (class, subject, detail) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let number = |s: &str| -> Option<u16> {
            if (1..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
                s.parse().ok()
            } else {
                None
            }
        };
        let class = match class {
            "2" => 2,
            "4" => 4,
            "5" => 5,
            _ => return None,
        };
        Some(StatusCode {
            class,
            subject: number(subject)?,
            detail: number(detail)?,
        })
    }

    /// `5.1.1`.
    pub fn to_text(self) -> String {
        format!("{}.{}.{}", self.class, self.subject, self.detail)
    }

    /// RFC 3463 §3.1: what the class says about the delivery.
    pub fn class_meaning(self) -> &'static str {
        match self.class {
            2 => "success",
            4 => "persistent transient failure",
            _ => "permanent failure",
        }
    }

    /// The meaning of subject and detail (RFC 3463 §3.2-§3.9 and later registrations),
    /// falling back to the subject's when the detail is not one we know; None for an
    /// unknown subject.
    pub fn meaning(self) -> Option<&'static str> {
        detail_meaning(self.subject, self.detail).or_else(|| subject_meaning(self.subject))
    }
}

/// RFC 3463 §3.2-§3.8: the subject sub-codes.
fn subject_meaning(subject: u16) -> Option<&'static str> {
    Some(match subject {
        0 => "other or undefined status",
        1 => "addressing status",
        2 => "mailbox status",
        3 => "mail system status",
        4 => "network and routing status",
        5 => "mail delivery protocol status",
        6 => "message content or media status",
        7 => "security or policy status",
        _ => return None,
    })
}

fn detail_meaning(subject: u16, detail: u16) -> Option<&'static str> {
    Some(match (subject, detail) {
        (0, 0) => "other undefined status",
        // RFC 3463 §3.2 addressing status.
        (1, 0) => "other address status",
        (1, 1) => "bad destination mailbox address",
        (1, 2) => "bad destination system address",
        (1, 3) => "bad destination mailbox address syntax",
        (1, 4) => "destination mailbox address ambiguous",
        (1, 5) => "destination address valid",
        (1, 6) => "destination mailbox has moved, no forwarding address",
        (1, 7) => "bad sender's mailbox address syntax",
        (1, 8) => "bad sender's system address",
        // RFC 3886; RFC 7505 (null MX).
        (1, 9) => "message relayed to non-compliant mailer",
        (1, 10) => "recipient address has null MX",
        // §3.3 mailbox status.
        (2, 0) => "other or undefined mailbox status",
        (2, 1) => "mailbox disabled, not accepting messages",
        (2, 2) => "mailbox full",
        (2, 3) => "message length exceeds administrative limit",
        (2, 4) => "mailing list expansion problem",
        // §3.4 mail system status.
        (3, 0) => "other or undefined mail system status",
        (3, 1) => "mail system full",
        (3, 2) => "system not accepting network messages",
        (3, 3) => "system not capable of selected features",
        (3, 4) => "message too big for system",
        (3, 5) => "system incorrectly configured",
        // §3.5 network and routing status.
        (4, 0) => "other or undefined network or routing status",
        (4, 1) => "no answer from host",
        (4, 2) => "bad connection",
        (4, 3) => "directory server failure",
        (4, 4) => "unable to route",
        (4, 5) => "mail system congestion",
        (4, 6) => "routing loop detected",
        (4, 7) => "delivery time expired",
        // §3.6 mail delivery protocol status.
        (5, 0) => "other or undefined protocol status",
        (5, 1) => "invalid command",
        (5, 2) => "syntax error",
        (5, 3) => "too many recipients",
        (5, 4) => "invalid command arguments",
        (5, 5) => "wrong protocol version",
        // RFC 4954 (AUTH).
        (5, 6) => "authentication exchange line is too long",
        // §3.7 message content or media status.
        (6, 0) => "other or undefined media error",
        (6, 1) => "media not supported",
        (6, 2) => "conversion required and prohibited",
        (6, 3) => "conversion required but not supported",
        (6, 4) => "conversion with loss performed",
        (6, 5) => "conversion failed",
        // RFC 4468 (BURL); RFC 6531 (SMTPUTF8).
        (6, 6) => "message content not available",
        (6, 7) => "non-ASCII addresses not permitted for that sender or recipient",
        (6, 8) => "UTF-8 string reply required, but not permitted by the client",
        (6, 9) => "UTF-8 header message cannot be transferred to one or more recipients",
        // §3.8 security or policy status.
        (7, 0) => "other or undefined security status",
        (7, 1) => "delivery not authorized, message refused",
        (7, 2) => "mailing list expansion prohibited",
        (7, 3) => "security conversion required but not possible",
        (7, 4) => "security features not supported",
        (7, 5) => "cryptographic failure",
        (7, 6) => "cryptographic algorithm not supported",
        (7, 7) => "message integrity failure",
        // RFC 4954 (AUTH); RFC 5248.
        (7, 8) => "authentication credentials invalid",
        (7, 9) => "authentication mechanism is too weak",
        (7, 10) => "encryption needed",
        (7, 11) => "encryption required for requested authentication mechanism",
        (7, 12) => "a password transition is needed",
        (7, 13) => "user account disabled",
        (7, 14) => "trust relationship required",
        // RFC 7293 (RRVS); RFC 7372 (authentication checks); RFC 7505; RFC 8689.
        (7, 17) => "mailbox owner has changed",
        (7, 18) => "domain owner has changed",
        (7, 20) => "no passing DKIM signature found",
        (7, 21) => "no acceptable DKIM signature found",
        (7, 22) => "no valid author-matched DKIM signature found",
        (7, 23) => "SPF validation failed",
        (7, 24) => "SPF validation error",
        (7, 25) => "reverse DNS validation failed",
        (7, 26) => "multiple authentication checks failed",
        (7, 27) => "sender address has null MX",
        (7, 30) => "REQUIRETLS support required",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_bounce_codes_read_in_words() {
        let words = |s: &str| {
            let code = StatusCode::parse(s).expect("a status code");
            format!(
                "{}: {}",
                code.class_meaning(),
                code.meaning().unwrap_or("?")
            )
        };
        assert_eq!(
            words("5.1.1"),
            "permanent failure: bad destination mailbox address"
        );
        assert_eq!(
            words("5.1.2"),
            "permanent failure: bad destination system address"
        );
        assert_eq!(
            words("5.1.10"),
            "permanent failure: recipient address has null MX"
        );
        assert_eq!(
            words("4.4.7"),
            "persistent transient failure: delivery time expired"
        );
        assert_eq!(
            words("5.7.1"),
            "permanent failure: delivery not authorized, message refused"
        );
        assert_eq!(
            words("5.3.4"),
            "permanent failure: message too big for system"
        );
        assert_eq!(
            words("5.6.7"),
            "permanent failure: non-ASCII addresses not permitted for that sender or recipient"
        );
        assert_eq!(words("2.0.0"), "success: other undefined status");
        // An unregistered detail falls back to its subject.
        assert_eq!(
            words("4.2.99"),
            "persistent transient failure: mailbox status"
        );
    }

    #[test]
    fn only_well_formed_codes_are_status_codes() {
        assert_eq!(
            StatusCode::parse(" 5.1.1 (bad address)"),
            Some(StatusCode {
                class: 5,
                subject: 1,
                detail: 1
            })
        );
        assert_eq!(
            StatusCode::parse("5.1.1(x)")
                .map(StatusCode::to_text)
                .as_deref(),
            Some("5.1.1")
        );
        for bad in [
            "", "5.1", "3.1.1", "5.1.1.1", "5.1234.1", "5.a.1", "550", "5..1", "+5.1.1",
        ] {
            assert_eq!(StatusCode::parse(bad), None, "{bad}");
        }
        assert_eq!(
            StatusCode::parse("5.9.9").map(StatusCode::meaning),
            Some(None)
        );
    }
}
