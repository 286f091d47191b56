//! The checks on the ARC header fields themselves that come before any signature (RFC 8617
//! §5.2 steps 1-2) and that `mail-auth` 0.13 leaves out: every set complete, each field a
//! valid tag-list (RFC 6376 §3.2, which §4.1 borrows), with its required tags, the one
//! algorithm allowed, and no AMS signing an ARC-Seal (§4.1.2).

use mail_auth::AuthenticatedMessage;

/// Tags an ARC-Seal must carry (RFC 8617 §4.1.3).
const SEAL_TAGS: &[&str] = &["i", "a", "b", "d", "s", "cv"];
/// Tags an ARC-Message-Signature must carry (RFC 8617 §4.1.2, RFC 6376 §3.5).
const AMS_TAGS: &[&str] = &["i", "a", "b", "bh", "d", "h", "s"];

/// Why the ARC header fields are broken before any signature is checked, if they are.
pub(crate) fn structure_problem(message: &AuthenticatedMessage<'_>) -> Option<String> {
    if message.ams_headers.is_empty()
        && !(message.as_headers.is_empty() && message.aar_headers.is_empty())
    {
        return Some("an ARC set has no ARC-Message-Signature (RFC 8617 section 5.2)".into());
    }
    for seal in &message.as_headers {
        if let Some(problem) = tag_list_problem(seal.value, SEAL_TAGS) {
            return Some(format!("ARC-Seal: {problem}"));
        }
    }
    for ams in &message.ams_headers {
        if let Some(problem) = tag_list_problem(ams.value, AMS_TAGS) {
            return Some(format!("ARC-Message-Signature: {problem}"));
        }
        if ams
            .header
            .h
            .iter()
            .any(|h| h.eq_ignore_ascii_case("arc-seal"))
        {
            return Some("ARC-Message-Signature signs an ARC-Seal (RFC 8617 section 4.1.2)".into());
        }
    }
    None
}

/// RFC 6376 §3.2: `tag-spec *( ";" tag-spec ) [ ";" ]`, `tag-name = ALPHA *ALNUMPUNC`
/// (names are case-sensitive and appear once); then the required tags, and `a=rsa-sha256`
/// (RFC 8617 §4.1.3; RFC 8301 §3.1 forbids rsa-sha1).
fn tag_list_problem(value: &[u8], required: &[&str]) -> Option<String> {
    let value = String::from_utf8_lossy(value);
    let specs: Vec<&str> = value.split(';').collect();
    let mut names: Vec<&str> = Vec::with_capacity(specs.len());
    for (index, spec) in specs.iter().enumerate() {
        if spec.trim().is_empty() {
            if index + 1 == specs.len() {
                break; // the optional final ";"
            }
            return Some("empty tag-spec".into());
        }
        let Some((name, tag_value)) = spec.split_once('=') else {
            return Some(format!("tag-spec without \"=\": {}", spec.trim()));
        };
        let name = name.trim();
        let mut chars = name.chars();
        let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Some(format!("invalid tag name {name:?}"));
        }
        if names.contains(&name) {
            return Some(format!("tag {name} appears twice"));
        }
        names.push(name);
        if name == "a" && tag_value.trim() != "rsa-sha256" {
            return Some(format!(
                "algorithm {:?} is not rsa-sha256",
                tag_value.trim()
            ));
        }
    }
    required
        .iter()
        .find(|r| !names.contains(r))
        .map(|r| format!("required tag {r} is missing"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_lists() {
        assert_eq!(
            tag_list_problem(b"i=1; a=rsa-sha256; b=x; d=e; s=s; cv=none;", SEAL_TAGS),
            None
        );
        assert!(
            tag_list_problem(b"i=1; i=2; a=rsa-sha256", &[])
                .unwrap()
                .contains("twice")
        );
        assert!(
            tag_list_problem(b"i=1;; a=rsa-sha256", &[])
                .unwrap()
                .contains("empty")
        );
        assert!(
            tag_list_problem(b"a=rsa-sha1", &[])
                .unwrap()
                .contains("rsa-sha1")
        );
        assert!(
            tag_list_problem(b"I=1", &["i"])
                .unwrap()
                .contains("missing")
        );
        assert!(tag_list_problem(b"1x=1", &[]).unwrap().contains("invalid"));
    }
}
