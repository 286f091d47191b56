//! What a signature covers and whose it is: the header fields to list in `h=` and the
//! signing domain, the domain of the `From:` address.

use mail_auth::AuthenticatedMessage;

/// The header fields signed when present (RFC 6376 §5.4.1's list, plus the MIME fields
/// that decide how the body reads), in addition to every `List-*` field (RFC 2369, RFC 2919,
/// RFC 8058). `From` is required (RFC 6376 §5.4) and listed once more than it occurs, so
/// a `From` added on the way breaks the signature (§5.4.2, §8.15).
pub const SIGNED_FIELDS: &[&str] = &[
    "From",
    "Sender",
    "Reply-To",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Resent-Date",
    "Resent-From",
    "Resent-To",
    "Resent-Cc",
];

/// The header of a message as signing needs it.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct SigningPlan {
    /// The field names for `mail-auth`'s `h=` template: each present name once (it signs
    /// every occurrence), then `From` once more (the over-signing entry: no field matches
    /// it, so it is listed as absent).
    pub fields: Vec<String>,
    /// The lower-cased domain of the `From:` address; `None` when there is no single
    /// `From:` field, or its addresses are not all of one domain.
    pub from_domain: Option<String>,
    /// Where the body starts (the message's length when it has none).
    pub body_offset: usize,
}

fn is_signed_name(name: &str) -> bool {
    SIGNED_FIELDS.iter().any(|f| f.eq_ignore_ascii_case(name))
        || name
            .get(..5)
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case("List-"))
}

/// Reads the header of `message` (RFC 5322 §2.2 fields up to the empty line) the way
/// `mail-auth`, which signs it, reads it.
pub(crate) fn plan(message: &[u8]) -> SigningPlan {
    let Some(parsed) = AuthenticatedMessage::parse(message) else {
        return SigningPlan {
            body_offset: message.len(),
            ..SigningPlan::default()
        };
    };
    let mut fields: Vec<String> = Vec::new();
    let mut from_fields = 0usize;
    for (name, _) in parsed.raw_parsed_headers() {
        let Ok(name) = std::str::from_utf8(name) else {
            continue;
        };
        let name = name.trim_end();
        if name.eq_ignore_ascii_case("From") {
            from_fields += 1;
        }
        if is_signed_name(name) && !fields.iter().any(|f| f.eq_ignore_ascii_case(name)) {
            fields.push(name.to_string());
        }
    }
    // RFC 5322 §3.6: exactly one From field; with two, whose message it is is unclear.
    let from_domain = if from_fields == 1 {
        one_domain(&parsed.from)
    } else {
        None
    };
    if from_domain.is_some() {
        fields.push("From".to_string());
    }
    SigningPlan {
        fields,
        from_domain,
        body_offset: parsed.body_offset().min(message.len()),
    }
}

/// The one domain of the `From:` addresses (RFC 5322 §3.6.2 allows a list), lower case.
fn one_domain(addresses: &[String]) -> Option<String> {
    let mut domain: Option<String> = None;
    for address in addresses {
        let (_, d) = address.rsplit_once('@')?;
        let d = d.trim().trim_end_matches('.').to_ascii_lowercase();
        match &domain {
            None => domain = Some(d),
            Some(first) if *first == d => {}
            Some(_) => return None,
        }
    }
    domain.filter(|d| !d.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn present_fields_are_listed_once_and_from_once_more() {
        let msg = b"From: A <a@Example.COM>\r\nTo: b@x.org\r\nTo: c@x.org\r\nX-Mailer: y\r\n\
List-Id: <l.x.org>\r\nSubject: hi\r\n\r\nbody\r\n";
        let p = plan(msg);
        assert_eq!(p.fields, ["From", "To", "List-Id", "Subject", "From"]);
        assert_eq!(p.from_domain.as_deref(), Some("example.com"));
        assert_eq!(&msg[p.body_offset..], b"body\r\n");
    }

    #[test]
    fn no_single_from_domain_means_no_signing_domain() {
        let two_fields = b"From: a@x.org\r\nFrom: b@x.org\r\n\r\n";
        assert_eq!(plan(two_fields).from_domain, None);
        let two_domains = b"From: a@x.org, b@y.org\r\n\r\n";
        assert_eq!(plan(two_domains).from_domain, None);
        let same_domain = b"From: a@x.org, b@X.org\r\n\r\n";
        assert_eq!(plan(same_domain).from_domain.as_deref(), Some("x.org"));
        assert_eq!(plan(b"Subject: x\r\n\r\n").from_domain, None);
        assert_eq!(plan(b"From: undisclosed\r\n\r\n").from_domain, None);
        assert_eq!(plan(b"").from_domain, None);
    }
}
