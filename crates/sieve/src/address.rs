//! Addresses in header fields (RFC 5322 §3.4) as the `address` test sees them (RFC 5228
//! §5.1): display names, comments and groups dropped, one entry per mailbox.

/// Mailboxes read from one header value at most.
const MAX_ADDRESSES: usize = 1024;

/// One mailbox of an address list: `local@domain`, or what stood there when it had no
/// `@` (then `domain` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub local: String,
    pub domain: Option<String>,
}

impl Mailbox {
    /// Splits an addr-spec at its last `@`.
    pub fn from_addr_spec(spec: &str) -> Mailbox {
        let spec = spec.trim();
        match spec.rsplit_once('@') {
            Some((local, domain)) => Mailbox {
                local: unquote(local),
                domain: Some(domain.trim().to_string()),
            },
            None => Mailbox {
                local: unquote(spec),
                domain: None,
            },
        }
    }

    /// RFC 5228 §2.7.4 `:all`.
    pub fn all(&self) -> String {
        match &self.domain {
            Some(domain) => format!("{}@{}", self.local, domain),
            None => self.local.clone(),
        }
    }
}

fn unquote(local: &str) -> String {
    let local = local.trim();
    if local.len() >= 2 && local.starts_with('"') && local.ends_with('"') {
        let inner = &local[1..local.len() - 1];
        let mut out = String::new();
        let mut escaped = false;
        for c in inner.chars() {
            if escaped || c != '\\' {
                out.push(c);
                escaped = false;
            } else {
                escaped = true;
            }
        }
        // RFC 5322 §3.4.1: quotes that are not needed go (`"a"@b` is `a@b`); a local
        // part that needs them keeps them.
        if is_dot_atom(&out) {
            return out;
        }
        return local.to_string();
    }
    local.to_string()
}

/// RFC 5322 §3.2.3 dot-atom-text.
fn is_dot_atom(text: &str) -> bool {
    !text.is_empty()
        && text.split('.').all(|atom| {
            !atom.is_empty()
                && atom.chars().all(|c| {
                    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii()
                })
        })
}

/// The mailboxes of an address list (RFC 5322 §3.4 address-list, leniently).
pub fn parse_address_list(value: &str) -> Vec<Mailbox> {
    let mut out = Vec::new();
    for item in split_items(value) {
        if out.len() >= MAX_ADDRESSES {
            break;
        }
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let spec = match (item.find('<'), item.rfind('>')) {
            (Some(open), Some(close)) if open < close => &item[open + 1..close],
            _ => item,
        };
        // RFC 5322 §3.4.1 obsolete route: `<@a,@b:user@domain>`.
        let spec = match spec.rsplit_once(':') {
            Some((route, rest)) if route.trim_start().starts_with('@') => rest,
            _ => spec,
        };
        if spec.trim().is_empty() {
            continue;
        }
        out.push(Mailbox::from_addr_spec(spec));
    }
    out
}

/// Splits at commas outside quotes, comments and angle brackets; drops comments; a
/// group's `name:` and `;` leave its members.
fn split_items(value: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut in_quote = false;
    let mut comment_depth = 0usize;
    let mut in_angle = false;
    let mut escaped = false;
    for c in value.chars() {
        if escaped {
            if comment_depth == 0 {
                current.push(c);
            }
            escaped = false;
            continue;
        }
        if c == '\\' && (in_quote || comment_depth > 0) {
            escaped = true;
            if comment_depth == 0 {
                current.push(c);
            }
            continue;
        }
        if comment_depth > 0 {
            match c {
                '(' => comment_depth += 1,
                ')' => comment_depth -= 1,
                _ => {}
            }
            continue;
        }
        if in_quote {
            current.push(c);
            if c == '"' {
                in_quote = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_quote = true;
                current.push(c);
            }
            '(' => comment_depth = 1,
            '<' => {
                in_angle = true;
                current.push(c);
            }
            '>' => {
                in_angle = false;
                current.push(c);
            }
            ':' if !in_angle => current.clear(),
            ',' | ';' if !in_angle => items.push(std::mem::take(&mut current)),
            '\r' | '\n' => {}
            _ => current.push(c),
        }
    }
    items.push(current);
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alls(value: &str) -> Vec<String> {
        parse_address_list(value).iter().map(Mailbox::all).collect()
    }

    #[test]
    fn display_names_comments_groups() {
        assert_eq!(
            alls("\"Doe, J\" <j@x.test> (c), team: a@b.test, c@d.test;, e@f.test"),
            vec!["j@x.test", "a@b.test", "c@d.test", "e@f.test"]
        );
    }

    #[test]
    fn empty_group_gives_nothing() {
        assert!(alls("undisclosed-recipients:;").is_empty());
    }
}
