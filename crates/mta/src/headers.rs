//! Small, allocation-light looks at a message's header block (RFC 5322 §2.2): what the SMTP
//! server needs before queueing (Message-ID for the log, hop count for loop detection).

/// The header block: everything before the first empty line.
fn header_block(msg: &[u8]) -> &[u8] {
    if msg.starts_with(b"\r\n") || msg.starts_with(b"\n") {
        return &[];
    }
    match memchr::memmem::find(msg, b"\r\n\r\n") {
        Some(i) => msg.get(..i + 2).unwrap_or(msg),
        None => msg,
    }
}

/// The addr-specs of an address list (RFC 5322 §3.4): the part in angle brackets, or a bare
/// address; display names, comments and group names are skipped. An item in which no
/// address can be found gives an empty string, which no user owns.
pub fn mailboxes(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut item = String::new();
    let (mut quoted, mut depth, mut angle) = (false, 0u32, false);
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quoted => {
                chars.next();
            }
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => depth -= 1,
            _ if quoted || depth > 0 => {}
            '<' => {
                angle = true;
                item.clear();
            }
            '>' => angle = false,
            ':' if !angle => item.clear(),
            ',' | ';' if !angle => {
                if !item.trim().is_empty() {
                    out.push(item.trim().to_ascii_lowercase());
                }
                item.clear();
            }
            _ => item.push(c),
        }
    }
    if !item.trim().is_empty() {
        out.push(item.trim().to_ascii_lowercase());
    }
    for m in &mut out {
        // A display name followed by the address: keep the last word, which has the `@`.
        if let Some(last) = m.split_whitespace().last().filter(|w| w.contains('@')) {
            *m = last.to_owned();
        } else if !m.contains('@') {
            m.clear();
        }
    }
    out
}

/// Unfolded values of every header field named `name` (case-insensitive).
pub fn values(msg: &[u8], name: &str) -> Vec<String> {
    let block = header_block(msg);
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in block.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
            if let Some(v) = current.as_mut() {
                v.push(' ');
                v.push_str(String::from_utf8_lossy(line).trim());
            }
            continue;
        }
        if let Some(v) = current.take() {
            out.push(v);
        }
        if let Some(colon) = memchr::memchr(b':', line)
            && let Some(field) = line.get(..colon)
            && field.eq_ignore_ascii_case(name.as_bytes())
        {
            let value = line.get(colon + 1..).unwrap_or(&[]);
            current = Some(String::from_utf8_lossy(value).trim().to_string());
        }
    }
    if let Some(v) = current {
        out.push(v);
    }
    out.into_iter().map(|v| v.trim().to_string()).collect()
}

/// The Message-ID (RFC 5322 §3.6.4), if any.
pub fn message_id(msg: &[u8]) -> Option<String> {
    values(msg, "message-id")
        .into_iter()
        .next()
        .filter(|v| !v.is_empty())
}

/// How many `Received:` fields the message has (RFC 5321 §6.3 loop detection).
pub fn hop_count(msg: &[u8]) -> usize {
    let block = header_block(msg);
    block
        .split(|&b| b == b'\n')
        .filter(|l| {
            l.len() >= 9
                && l.get(..9)
                    .is_some_and(|p| p.eq_ignore_ascii_case(b"received:"))
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailboxes_of_address_lists() {
        assert_eq!(mailboxes("Bob <Bob@Example.test>"), ["bob@example.test"]);
        assert_eq!(
            mailboxes("\"Doe, John\" <j@x.test>, k@y.test (Kay)"),
            ["j@x.test", "k@y.test"]
        );
        assert_eq!(
            mailboxes("Team: a@x.test, b@x.test;"),
            ["a@x.test", "b@x.test"]
        );
        assert_eq!(mailboxes("undisclosed-recipients:;"), Vec::<String>::new());
        assert_eq!(mailboxes("just a name"), [""]);
    }

    #[test]
    fn finds_folded_message_id_in_headers_only() {
        let m = b"Subject: x\r\nMessage-ID:\r\n <a@b>\r\n\r\nMessage-ID: <body@x>\r\n";
        assert_eq!(message_id(m).as_deref(), Some("<a@b>"));
        assert_eq!(
            hop_count(b"Received: a\r\nReceived: b\r\n\r\nReceived: c\r\n"),
            2
        );
    }
}
