//! RFC 5435 enotify with the mailto method (RFC 5436).

/// RFC 5435 §2.2 / RFC 5436 §2: whether `method` is a mailto: URI we can notify.
pub fn valid_method(method: &str) -> bool {
    let Some(rest) = method
        .get(..7)
        .filter(|s| s.eq_ignore_ascii_case("mailto:"))
        .and_then(|_| method.get(7..))
    else {
        return false;
    };
    let (to, query) = rest.split_once('?').unwrap_or((rest, ""));
    let recipients: Vec<String> = to
        .split(',')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let mut query_recipients = 0;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let Some((name, value)) = pair.split_once('=') else {
            return false;
        };
        let name = percent_decode(name);
        // RFC 6068 §2 hfname: a header field name (RFC 5322 §3.6.8).
        if name.is_empty() || !name.bytes().all(|b| (33..=126).contains(&b) && b != b':') {
            return false;
        }
        if name.eq_ignore_ascii_case("to") {
            for address in percent_decode(value).split(',').filter(|s| !s.is_empty()) {
                if !crate::eval::commands::is_valid_address(address.trim()) {
                    return false;
                }
                query_recipients += 1;
            }
        }
    }
    if recipients.is_empty() && query_recipients == 0 {
        return false;
    }
    recipients
        .iter()
        .all(|r| crate::eval::commands::is_valid_address(r))
        && query
            .split('&')
            .all(|pair| pair.is_empty() || pair.contains('='))
}

/// RFC 5435 §5 notify_method_capability: mailto knows only "online", always "maybe".
pub fn capability(method: &str, capability: &str) -> Option<String> {
    (valid_method(method) && capability.eq_ignore_ascii_case("online")).then(|| "maybe".into())
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Ok(value) = u8::from_str_radix(&String::from_utf8_lossy(hex), 16)
        {
            out.push(value);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
