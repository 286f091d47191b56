//! RFC 3461 §4 xtext: how ENVID and ORCPT travel in MAIL and RCPT parameters. Characters
//! outside `!`..`~`, and `+` and `=`, are written `+XX`.

pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if (b'!'..=b'~').contains(&b) && b != b'+' && b != b'=' {
            out.push(b as char);
        } else {
            out.push_str(&format!("+{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn specials_and_spaces_are_hex_escaped() {
        assert_eq!(super::encode("rfc822;a+b=c d"), "rfc822;a+2Bb+3Dc+20d");
    }
}
