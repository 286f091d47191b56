//! The `message/delivery-status` body (RFC 3464 §2.1): groups of header-style fields
//! separated by blank lines, the first group about the message, each other group about one
//! recipient. Read tolerantly (LF or CRLF, folded lines, lines that are not fields skipped)
//! and within [`Limits`], since the body is written by whoever sent the bounce.

/// Bounds of the field reader.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes of the body read; the rest is not looked at.
    pub max_bytes: usize,
    /// Groups kept (the per-message group and the recipients'); later ones are counted.
    pub max_groups: usize,
    /// Fields kept per group.
    pub max_fields: usize,
    /// Bytes of one field's value, unfolded.
    pub max_value: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 256 << 10,
            max_groups: 101,
            max_fields: 32,
            max_value: 1000,
        }
    }
}

/// One field: its name lower-cased, and its value unfolded (RFC 5322 §2.2.3) with runs of
/// white space made one space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub value: String,
    /// The value reached the limit and was cut.
    cut: bool,
}

/// A group of fields, in order.
pub type Group = Vec<Field>;

/// What the reader found.
#[derive(Debug, Default)]
pub struct Groups {
    pub groups: Vec<Group>,
    /// Groups past [`Limits::max_groups`], counted and not kept.
    pub omitted: usize,
    /// The body was longer than [`Limits::max_bytes`], or a value was cut.
    pub truncated: bool,
}

impl Groups {
    fn end_group(&mut self, group: &mut Group, limits: &Limits) {
        if group.is_empty() {
            return;
        }
        if self.groups.len() < limits.max_groups {
            self.groups.push(std::mem::take(group));
        } else {
            self.omitted += 1;
            group.clear();
        }
    }
}

/// The value of the first field called `name` (lower-case) in `group`.
pub fn get<'g>(group: &'g [Field], name: &str) -> Option<&'g str> {
    group
        .iter()
        .find(|f| f.name == name)
        .map(|f| f.value.as_str())
}

/// Splits `body` into groups of fields.
pub fn read(body: &[u8], limits: &Limits) -> Groups {
    let mut out = Groups::default();
    let body = match body.get(..limits.max_bytes) {
        Some(cut) if cut.len() < body.len() => {
            out.truncated = true;
            cut
        }
        _ => body,
    };
    // RFC 6533 §6.2: message/global-delivery-status may carry UTF-8; anything else that is
    // not UTF-8 is shown with U+FFFD.
    let text = String::from_utf8_lossy(body);
    let mut group: Group = Vec::new();
    // The field being read, not yet in `group` (continuation lines may follow).
    let mut field: Option<Field> = None;
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            // RFC 3464 §2.1: a blank line ends a group.
            push_field(&mut group, field.take(), limits);
            out.end_group(&mut group, limits);
        } else if line.starts_with([' ', '\t']) {
            // RFC 5322 §2.2.3: a folded line continues the field above it.
            if let Some(f) = field.as_mut() {
                append(f, line, limits, &mut out.truncated);
            }
        } else {
            push_field(&mut group, field.take(), limits);
            field = parse_field(line, limits, &mut out.truncated);
        }
    }
    push_field(&mut group, field.take(), limits);
    out.end_group(&mut group, limits);
    out
}

fn push_field(group: &mut Group, field: Option<Field>, limits: &Limits) {
    if let Some(f) = field
        && group.len() < limits.max_fields
    {
        group.push(f);
    }
}

/// `Name: value`, the name printable ASCII without `:` (RFC 5322 §2.2); None for a line
/// that is not a field (prose some MTAs put in the part).
fn parse_field(line: &str, limits: &Limits, truncated: &mut bool) -> Option<Field> {
    let (name, value) = line.split_once(':')?;
    let name = name.trim_end();
    if name.is_empty() || name.len() > 64 || !name.bytes().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    let mut field = Field {
        name: name.to_ascii_lowercase(),
        value: String::new(),
        cut: false,
    };
    append(&mut field, value, limits, truncated);
    Some(field)
}

/// Appends `more` to the field's value, white space runs made one space, up to the value
/// limit; past it the value is cut (at a character boundary) and takes nothing more.
fn append(field: &mut Field, more: &str, limits: &Limits, truncated: &mut bool) {
    if field.cut {
        return;
    }
    let value = &mut field.value;
    for word in more.split_whitespace() {
        let sep = usize::from(!value.is_empty());
        let room = limits.max_value.saturating_sub(value.len() + sep);
        let mut take = word.len().min(room);
        while !word.is_char_boundary(take) {
            take -= 1;
        }
        if take > 0 {
            if sep == 1 {
                value.push(' ');
            }
            value.push_str(word.get(..take).unwrap_or_default());
        }
        if take < word.len() {
            field.cut = true;
            *truncated = true;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn groups_split_at_blank_lines_and_folded_values_are_joined() {
        let body = b"Reporting-MTA: dns; mx.example\r\nArrival-Date: Tue, 1 Jan 2030 10:00:00 +0000\r\n\r\nFinal-Recipient: rfc822; a@b.example\r\nAction: failed\r\nDiagnostic-Code: smtp; 550-5.1.1 no such\r\n    user here\r\n\r\n\r\n  \r\nFinal-Recipient: rfc822; c@d.example\nStatus: 4.4.7\n";
        let g = read(body, &Limits::default());
        assert_eq!(g.groups.len(), 3);
        assert_eq!(get(&g.groups[0], "reporting-mta"), Some("dns; mx.example"));
        assert_eq!(
            get(&g.groups[1], "diagnostic-code"),
            Some("smtp; 550-5.1.1 no such user here")
        );
        assert_eq!(get(&g.groups[2], "status"), Some("4.4.7"));
        assert!(!g.truncated);
    }

    #[test]
    fn prose_is_not_fields() {
        let g = read(
            b"This Message was undeliverable due to the following reason:\n\n<u@x.example> has restricted SMS e-mail\n",
            &Limits::default(),
        );
        assert!(g.groups.is_empty(), "{:?}", g.groups);
    }

    #[test]
    fn limits_hold_on_hostile_bodies() {
        let limits = Limits {
            max_bytes: 10_000,
            max_groups: 3,
            max_fields: 2,
            max_value: 20,
        };
        let mut body = String::new();
        for i in 0..50 {
            body.push_str(&format!(
                "Final-Recipient: rfc822; u{i}@x\nA: 1\nB: 2\nC: 3\n\n"
            ));
        }
        let g = read(body.as_bytes(), &limits);
        assert_eq!(g.groups.len(), 3);
        assert_eq!(g.omitted, 47);
        assert!(g.groups.iter().all(|gr| gr.len() == 2));
        let long = format!("Diagnostic-Code: {}\n {}\n", "é".repeat(50), "x".repeat(50));
        let g = read(long.as_bytes(), &limits);
        let v = get(&g.groups[0], "diagnostic-code").expect("kept");
        assert!(v.len() <= 20 && g.truncated, "{v}");
        let g = read("Final-Recipient: x\n".repeat(5000).as_bytes(), &limits);
        assert!(g.truncated);
    }

    proptest! {
        #[test]
        fn any_body_reads_within_the_limits(body in prop::collection::vec(
            prop::sample::select(vec![
                "Final-Recipient: rfc822; a@b", "Action: failed", "Status: 5.1.1", "\n", "\r\n",
                " ", "\t", ":", "é", "\u{202e}", "x", "Diagnostic-Code: smtp; 550", "\r",
            ]), 0..200).prop_map(|v| v.concat())
        ) {
            let limits = Limits { max_bytes: 4096, max_groups: 5, max_fields: 4, max_value: 40 };
            let g = read(body.as_bytes(), &limits);
            prop_assert!(g.groups.len() <= 5);
            for group in &g.groups {
                prop_assert!(group.len() <= 4);
                for f in group {
                    prop_assert!(f.value.len() <= 40);
                    prop_assert!(!f.value.contains(['\r', '\n']));
                }
            }
        }
    }
}
