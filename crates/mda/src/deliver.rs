//! The message as it goes into a mailbox.

/// Prepends `Return-Path:` (RFC 5321 §4.4: the final delivery adds the reverse path) and
/// `Delivered-To:` (RFC 9228) to the queued message.
pub fn local_copy(sender: &str, delivered_to: &str, message: &[u8]) -> Vec<u8> {
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_control() && *c != '<' && *c != '>')
            .collect()
    };
    let head = format!(
        "Return-Path: <{}>\r\nDelivered-To: {}\r\n",
        clean(sender),
        clean(delivered_to)
    );
    let mut out = Vec::with_capacity(head.len() + message.len());
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(message);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_return_path_and_delivered_to_first() {
        let m = local_copy("a@r.test", "bob@example.test", b"Subject: x\r\n\r\nhi\r\n");
        assert_eq!(
            m,
            b"Return-Path: <a@r.test>\r\nDelivered-To: bob@example.test\r\nSubject: x\r\n\r\nhi\r\n"
        );
        let null = local_copy("", "bob@example.test", b"\r\n");
        assert!(null.starts_with(b"Return-Path: <>\r\n"));
    }
}
