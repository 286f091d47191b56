//! The `with` protocol word (RFC 5321 §4.4 `Protocol`, IANA "Mail Transmission Types").

/// Words MTAs write and the registered type they mean. RFC 3848 adds the `S` (TLS) and `A`
/// (authenticated) suffixes, RFC 6531 the `UTF8` prefix; the rest are common variants.
const TABLE: &[(&str, &str)] = &[
    ("SMTP", "SMTP"),
    ("ESMTP", "ESMTP"),
    ("ESMTPA", "ESMTPA"),
    ("ESMTPS", "ESMTPS"),
    ("ESMTPSA", "ESMTPSA"),
    ("LMTP", "LMTP"),
    ("LMTPA", "LMTPA"),
    ("LMTPS", "LMTPS"),
    ("LMTPSA", "LMTPSA"),
    ("UTF8SMTP", "UTF8SMTP"),
    ("UTF8SMTPA", "UTF8SMTPA"),
    ("UTF8SMTPS", "UTF8SMTPS"),
    ("UTF8SMTPSA", "UTF8SMTPSA"),
    ("UTF8LMTP", "UTF8LMTP"),
    ("UTF8LMTPA", "UTF8LMTPA"),
    ("UTF8LMTPS", "UTF8LMTPS"),
    ("UTF8LMTPSA", "UTF8LMTPSA"),
    ("SMTPS", "SMTPS"),
    ("HTTP", "HTTP"),
    ("HTTPS", "HTTPS"),
    ("HTTPREST", "HTTP"),
    ("IMAP", "IMAP"),
    ("POP3", "POP3"),
    ("MAPI", "MAPI"),
    ("BSMTP", "SMTP"),
    ("SMTPSVC", "SMTP"),
    ("ESMTP-TLS", "ESMTPS"),
    ("LOCAL", "Local"),
];

/// The registered type a `with` value names, e.g. `esmtpsa` → `ESMTPSA`, `local-esmtps` →
/// `ESMTPS`, `Microsoft SMTP Server` → `SMTP`, `ESMTP-TLS` → `ESMTPS`; `None` when no
/// word of it is known (`NNFMP`, `Thrift`, ...).
pub(crate) fn normalize(with: &str) -> Option<&'static str> {
    with.split(|c: char| c.is_ascii_whitespace() || c == '[' || c == ']')
        .filter(|w| !w.is_empty())
        .find_map(|w| {
            let base =
                if w.len() > 6 && w.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("local-")) {
                    w.get(6..).unwrap_or(w)
                } else {
                    w
                };
            TABLE
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(base))
                .map(|(_, canon)| *canon)
        })
}

/// RFC 3848 §2 / RFC 6531 §3.7.3: a type ending in `A` means the client authenticated.
/// Exchange's `mapi` is a logged-on mailbox client submitting.
pub(crate) fn authenticated(canon: &str) -> bool {
    matches!(
        canon,
        "ESMTPA"
            | "ESMTPSA"
            | "LMTPA"
            | "LMTPSA"
            | "UTF8SMTPA"
            | "UTF8SMTPSA"
            | "UTF8LMTPA"
            | "UTF8LMTPSA"
            | "MAPI"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_the_variants() {
        assert_eq!(normalize("esmtpsa"), Some("ESMTPSA"));
        assert_eq!(normalize("local-esmtps"), Some("ESMTPS"));
        assert_eq!(normalize("local-bsmtp"), Some("SMTP"));
        assert_eq!(normalize("local"), Some("Local"));
        assert_eq!(normalize("Microsoft SMTP Server"), Some("SMTP"));
        assert_eq!(normalize("Microsoft SMTPSVC"), Some("SMTP"));
        assert_eq!(normalize("[XMail 1.20 ESMTP Server]"), Some("ESMTP"));
        assert_eq!(normalize("ESMTP-TLS"), Some("ESMTPS"));
        assert_eq!(normalize("NNFMP"), None);
        assert!(authenticated("UTF8SMTPSA"));
        assert!(!authenticated("ESMTPS"));
    }
}
