//! The spam rules and what each is worth: one table, so the weights are read and tuned in
//! one place. The weights are ours. A sign that an honest sender also shows now and then
//! (HTML without a text alternative, a missing `Message-ID`) is worth under 1; a sign of
//! deceit (a look-alike link, a brand named by someone else) is worth 3 to 5, so one alone
//! tags the message (5) only when it is strong, and two together file it into Junk (8).

use crate::verdict::Finding;

/// One rule: its code in the headers and the log, and its score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    pub code: &'static str,
    pub score: f64,
}

impl Rule {
    /// The finding of this rule with `detail`.
    pub fn hit(&self, detail: impl Into<String>) -> Finding {
        Finding::rule(self.code, self.score, detail)
    }

    /// The finding of this rule with another score (a weight from the settings).
    pub fn hit_with(&self, score: f64, detail: impl Into<String>) -> Finding {
        Finding::rule(self.code, score, detail)
    }
}

const fn rule(code: &'static str, score: f64) -> Rule {
    Rule { code, score }
}

// Header rules (RFC 5322 §3.6: the fields a message must or should carry).
pub const NO_HEADER: Rule = rule("no_header", 3.0);
pub const MISSING_FROM: Rule = rule("missing_from", 2.0);
pub const MISSING_DATE: Rule = rule("missing_date", 1.5);
pub const INVALID_DATE: Rule = rule("invalid_date", 1.0);
pub const DATE_IN_FUTURE: Rule = rule("date_in_future", 2.0);
pub const DATE_IN_PAST: Rule = rule("date_in_past", 1.0);
pub const MISSING_MESSAGE_ID: Rule = rule("missing_message_id", 0.5);
pub const FROM_NAME_OTHER_ADDRESS: Rule = rule("from_name_other_address", 2.5);
pub const REPLY_TO_OTHER_DOMAIN: Rule = rule("reply_to_other_domain", 0.5);
pub const MISSING_SUBJECT: Rule = rule("missing_subject", 0.5);
pub const SUBJECT_ALL_CAPS: Rule = rule("subject_all_caps", 1.0);
pub const SUBJECT_EXCLAMATIONS: Rule = rule("subject_exclamations", 1.0);
pub const SUBJECT_SPAM_WORDS: Rule = rule("subject_spam_words", 1.5);
pub const BULK_WITHOUT_UNSUBSCRIBE: Rule = rule("bulk_without_unsubscribe", 1.5);
pub const TO_UNDISCLOSED: Rule = rule("to_undisclosed", 1.0);
pub const UNDISCLOSED_MANY_RECIPIENTS: Rule = rule("undisclosed_many_recipients", 1.0);
pub const MANY_VISIBLE_RECIPIENTS: Rule = rule("many_visible_recipients", 1.0);
pub const HELO_NOT_FQDN: Rule = rule("helo_not_fqdn", 1.0);

// Body rules.
pub const HTML_ONLY: Rule = rule("html_only", 0.8);
pub const TEXT_HTML_MISMATCH: Rule = rule("text_html_mismatch", 1.5);
pub const BASE64_TEXT: Rule = rule("base64_text", 0.8);
pub const BODY_SPAM_WORDS: Rule = rule("body_spam_words", 1.5);
pub const BODY_MANY_SPAM_WORDS: Rule = rule("body_many_spam_words", 3.0);

// Links and senders: the signals of `mailward_trace::content`.
pub const LINK_TEXT_MISMATCH: Rule = rule("link_text_mismatch", 2.5);
pub const LINK_TEXT_MISMATCH_BRAND: Rule = rule("link_text_mismatch_brand", 4.0);
pub const LOOKALIKE_LINK: Rule = rule("lookalike_link", 3.0);
pub const LOOKALIKE_LINK_STRONG: Rule = rule("lookalike_link_confusable", 5.0);
pub const PUNYCODE_LINK: Rule = rule("punycode_link", 1.0);
pub const IP_LINK: Rule = rule("ip_link", 2.5);
pub const SHORTENER_LINK: Rule = rule("shortener_link", 1.0);
pub const FREE_HOSTING_LINK: Rule = rule("free_hosting_link", 1.5);
pub const HTML_ATTACHMENT: Rule = rule("html_attachment", 5.0);
pub const QR_CODE_LINK: Rule = rule("qr_code_link", 2.0);
pub const ENCRYPTED_ARCHIVE: Rule = rule("encrypted_archive", 2.5);
pub const RISKY_ATTACHMENT: Rule = rule("risky_attachment", 2.0);
pub const DISGUISED_ATTACHMENT: Rule = rule("disguised_attachment", 5.0);
pub const CREDENTIAL_LURE: Rule = rule("credential_lure", 3.5);
pub const PASSWORD_FORM: Rule = rule("password_form", 4.0);
pub const PERSONALISED_LINK: Rule = rule("personalised_link", 1.5);
pub const BRAND_IMPERSONATION: Rule = rule("brand_impersonation", 3.0);
pub const BRAND_LOOKALIKE_NAME: Rule = rule("brand_lookalike_name", 4.5);
pub const REPLY_TO_FREEMAIL: Rule = rule("reply_to_freemail", 2.5);

// DNS block lists (RFC 5782); the scores are the settings' (`dnsbl_score`, `uribl_score`).
pub const DNSBL: Rule = rule("dnsbl", 6.0);
pub const URIBL: Rule = rule("uribl", 5.0);

// Mail authentication (RFC 7208 SPF, RFC 6376 DKIM, DMARC, RFC 8617 ARC).
pub const SPF_FAIL: Rule = rule("spf_fail", 2.0);
pub const SPF_SOFTFAIL: Rule = rule("spf_softfail", 1.0);
pub const SPF_ERROR: Rule = rule("spf_error", 0.5);
pub const DKIM_FAIL: Rule = rule("dkim_fail", 2.0);
pub const DKIM_NONE: Rule = rule("dkim_none", 0.5);
pub const DMARC_FAIL: Rule = rule("dmarc_fail", 3.0);
pub const ARC_FAIL: Rule = rule("arc_fail", 1.0);
pub const DMARC_PASS: Rule = rule("dmarc_pass", -1.0);

// rspamd, when configured, could not score the message: the rules here did (a note).
pub const RSPAMD_UNAVAILABLE: Rule = rule("rspamd_unavailable", 0.0);

/// Every rule, for the tests and the documentation.
pub const ALL: &[Rule] = &[
    NO_HEADER,
    MISSING_FROM,
    MISSING_DATE,
    INVALID_DATE,
    DATE_IN_FUTURE,
    DATE_IN_PAST,
    MISSING_MESSAGE_ID,
    FROM_NAME_OTHER_ADDRESS,
    REPLY_TO_OTHER_DOMAIN,
    MISSING_SUBJECT,
    SUBJECT_ALL_CAPS,
    SUBJECT_EXCLAMATIONS,
    SUBJECT_SPAM_WORDS,
    BULK_WITHOUT_UNSUBSCRIBE,
    TO_UNDISCLOSED,
    UNDISCLOSED_MANY_RECIPIENTS,
    MANY_VISIBLE_RECIPIENTS,
    HELO_NOT_FQDN,
    HTML_ONLY,
    TEXT_HTML_MISMATCH,
    BASE64_TEXT,
    BODY_SPAM_WORDS,
    BODY_MANY_SPAM_WORDS,
    LINK_TEXT_MISMATCH,
    LINK_TEXT_MISMATCH_BRAND,
    LOOKALIKE_LINK,
    LOOKALIKE_LINK_STRONG,
    PUNYCODE_LINK,
    IP_LINK,
    SHORTENER_LINK,
    FREE_HOSTING_LINK,
    HTML_ATTACHMENT,
    QR_CODE_LINK,
    ENCRYPTED_ARCHIVE,
    RISKY_ATTACHMENT,
    DISGUISED_ATTACHMENT,
    CREDENTIAL_LURE,
    PASSWORD_FORM,
    PERSONALISED_LINK,
    BRAND_IMPERSONATION,
    BRAND_LOOKALIKE_NAME,
    REPLY_TO_FREEMAIL,
    DNSBL,
    URIBL,
    SPF_FAIL,
    SPF_SOFTFAIL,
    SPF_ERROR,
    DKIM_FAIL,
    DKIM_NONE,
    DMARC_FAIL,
    ARC_FAIL,
    DMARC_PASS,
    RSPAMD_UNAVAILABLE,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_scores_bounded() {
        for (i, r) in ALL.iter().enumerate() {
            assert!(
                r.code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{}",
                r.code
            );
            assert!(r.score.abs() <= 6.0, "{}", r.code);
            assert!(
                ALL.iter().skip(i + 1).all(|o| o.code != r.code),
                "{} twice",
                r.code
            );
        }
    }
}
