//! Address lists (RFC 5322 §3.4: `address-list`, `mailbox`, `group`, obsolete routes) as
//! IMAP's ENVELOPE shows them (RFC 9051 §7.5.2): each address is (name, route, mailbox,
//! host); a group is a start marker `(NIL NIL "name" NIL)`, its members and an end marker
//! `(NIL NIL NIL NIL)`.
//!
//! Broken addresses are kept, as Dovecot keeps them, rather than dropped: a missing local
//! part becomes `MISSING_MAILBOX`, a missing domain `MISSING_DOMAIN`, an unparsable
//! `<...>` gets the host `SYNTAX_ERROR`. Names stay as written (RFC 2047 words are not
//! decoded: the client decodes them). Comments after a bare addr-spec give its name
//! (`user@host (Name)`).

use super::lexer::{Lexer, Step};

/// Most addresses taken from one field.
pub const MAX_ADDRESSES: usize = 10_000;

/// One ENVELOPE address entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    pub name: Option<Vec<u8>>,
    pub route: Option<Vec<u8>>,
    pub mailbox: Option<Vec<u8>>,
    pub host: Option<Vec<u8>>,
}

impl Address {
    /// The start marker of a group (RFC 9051 §7.5.2: NIL host, mailbox is the group name).
    pub fn is_group_start(&self) -> bool {
        self.host.is_none() && self.mailbox.is_some()
    }

    /// The end marker of a group: all NIL.
    pub fn is_group_end(&self) -> bool {
        self.name.is_none() && self.route.is_none() && self.mailbox.is_none() && self.host.is_none()
    }
}

struct Ctx<'a> {
    lex: Lexer<'a>,
    out: Vec<Address>,
    addr: Address,
    /// The address being read is malformed (Dovecot's `invalid_syntax`).
    invalid: bool,
}

impl Ctx<'_> {
    fn add(&mut self) {
        self.invalid = false;
        if self.out.len() < MAX_ADDRESSES {
            self.out.push(std::mem::take(&mut self.addr));
        } else {
            self.addr = Address::default();
        }
    }

    fn add_fixed(&mut self) {
        if self.addr.mailbox.is_none() {
            self.addr.mailbox = Some(b"MISSING_MAILBOX".to_vec());
        }
        if self.addr.host.as_ref().is_none_or(|h| h.is_empty()) {
            self.addr.host = Some(b"MISSING_DOMAIN".to_vec());
        }
        self.add();
    }

    /// The local part into `self.addr.mailbox`; `text` gets its text too.
    fn local_part(&mut self, text: &mut Vec<u8>) -> Step {
        text.clear();
        let r = if self.lex.peek_is(b'"') {
            self.lex.parse_quoted_string(text)
        } else {
            self.lex.parse_dot_atom(text)
        };
        if r.is_err() {
            return r;
        }
        self.addr.mailbox = Some(text.clone());
        r
    }

    fn domain(&mut self) -> Step {
        let mut s = Vec::new();
        let r = self.lex.parse_domain(&mut s);
        if r.is_err() {
            return r;
        }
        self.addr.host = Some(s);
        r
    }

    /// obs-domain-list = "@" domain *(*(CFWS / ",") [CFWS] "@" domain)
    fn domain_list(&mut self) -> Step {
        let mut s = Vec::new();
        loop {
            if self.lex.at_end() {
                return Step::End;
            }
            if !self.lex.peek_is(b'@') {
                break;
            }
            if !s.is_empty() {
                s.push(b',');
            }
            s.push(b'@');
            let r = self.lex.parse_domain(&mut s);
            if !r.is_more() {
                return r;
            }
            while self.lex.skip_lwsp().is_more() && self.lex.peek_is(b',') {
                self.lex.pos += 1;
            }
        }
        self.addr.route = Some(s);
        Step::More
    }

    /// angle-addr = "<" [obs-route] addr-spec ">"; `<>` leaves mailbox and host missing.
    fn angle_addr(&mut self) -> Step {
        self.lex.pos += 1;
        if !self.lex.skip_lwsp().is_more() {
            return Step::Err;
        }
        if self.lex.peek_is(b'@') {
            if self.domain_list().is_more() && self.lex.peek_is(b':') {
                self.lex.pos += 1;
            } else {
                self.addr.route = Some(b"INVALID_ROUTE".to_vec());
                if self.lex.at_end() {
                    return Step::Err;
                }
                // Try to continue anyway.
            }
            if !self.lex.skip_lwsp().is_more() {
                return Step::Err;
            }
        }
        if !self.lex.peek_is(b'>') {
            let mut text = Vec::new();
            if !self.local_part(&mut text).is_more() {
                return Step::Err;
            }
            if self.lex.peek_is(b'@') && !self.domain().is_more() {
                return Step::Err;
            }
        }
        if !self.lex.peek_is(b'>') {
            return Step::Err;
        }
        self.lex.pos += 1;
        self.lex.skip_lwsp()
    }

    /// name-addr = [display-name] angle-addr
    fn name_addr(&mut self) -> Step {
        let mut name = Vec::new();
        if !self.lex.parse_phrase(&mut name).is_more() || !self.lex.peek_is(b'<') {
            return Step::Err;
        }
        self.addr.name = if name.is_empty() { None } else { Some(name) };
        if self.angle_addr().is_err() {
            self.addr.host = Some(b"SYNTAX_ERROR".to_vec());
        }
        if self.lex.at_end() {
            Step::End
        } else {
            Step::More
        }
    }

    /// addr-spec = local-part "@" domain. A trailing comment is the name; words after a
    /// bare local part make it a display name without an address (`Big Bug bb@x` is the
    /// name "Big Bug bb", as Dovecot reads it).
    fn addr_spec(&mut self) -> Step {
        if let Some(c) = self.lex.last_comment.as_mut() {
            c.clear();
        }
        let quoted = self.lex.peek_is(b'"');
        let mut text = Vec::new();
        let mut r = self.local_part(&mut text);
        if r != Step::More {
            self.invalid = true;
        }
        let mut domain_tried = false;
        if r != Step::End && self.lex.peek_is(b'@') {
            domain_tried = true;
            let r2 = self.domain();
            if !r2.is_more() {
                r = r2;
            }
        }
        let comment = self
            .lex
            .last_comment
            .as_ref()
            .filter(|c| !c.is_empty())
            .cloned();
        if let Some(c) = comment {
            self.addr.name = Some(c);
        } else if !domain_tried {
            text.push(b' ');
            let before = text.len();
            let _ = self.lex.parse_phrase(&mut text);
            if text.len() != before {
                self.addr.mailbox = None;
                self.addr.name = Some(text);
            } else if !quoted {
                self.addr.host = Some(Vec::new());
            }
            self.invalid = true;
            r = Step::Err;
        }
        r
    }

    /// mailbox = name-addr / addr-spec
    fn mailbox(&mut self) -> Step {
        let start = self.lex.pos;
        let mut r = self.name_addr();
        if r.is_err() {
            self.lex.pos = start;
            r = self.addr_spec();
            // A lone quoted word: a name, not a mailbox.
            if self.invalid
                && self.addr.name.is_none()
                && self.addr.mailbox.is_some()
                && self.addr.host.is_none()
            {
                self.addr.name = self.addr.mailbox.take();
            }
        }
        self.add_fixed();
        r
    }

    /// group = display-name ":" [group-list] ";" [CFWS]
    fn group(&mut self) -> Step {
        let mut name = Vec::new();
        if !self.lex.parse_phrase(&mut name).is_more() || !self.lex.peek_is(b':') {
            return Step::Err;
        }
        self.lex.pos += 1;
        let mut r = self.lex.skip_lwsp();
        self.addr.mailbox = Some(name);
        self.add();
        if r.is_more() && !self.lex.peek_is(b';') {
            loop {
                // A broken mailbox: go on anyway.
                let _ = self.mailbox();
                if !self.lex.peek_is(b',') {
                    break;
                }
                self.lex.pos += 1;
                if !self.lex.skip_lwsp().is_more() {
                    r = Step::Err;
                    break;
                }
            }
        }
        if !r.is_err() {
            if !self.lex.peek_is(b';') {
                r = Step::Err;
            } else {
                self.lex.pos += 1;
                r = self.lex.skip_lwsp();
            }
        }
        self.addr = Address::default();
        self.add();
        if r == Step::End {
            Step::End
        } else {
            Step::More
        }
    }

    fn address(&mut self) -> Step {
        let start = self.lex.pos;
        let r = self.group();
        if r.is_err() {
            self.lex.pos = start;
            self.addr = Address::default();
            return self.mailbox();
        }
        r
    }

    fn address_list(&mut self) {
        let mut budget = MAX_ADDRESSES;
        while budget > 0 {
            budget -= 1;
            if self.address() == Step::End {
                break;
            }
            if !self.lex.peek_is(b',') {
                break;
            }
            self.lex.pos += 1;
            let r = self.lex.skip_lwsp();
            if !r.is_more() {
                if r.is_err() {
                    // Ends with some garbage.
                    self.add_fixed();
                }
                break;
            }
        }
    }
}

/// Parses an unfolded address-list header value.
pub fn parse_address_list(value: &[u8]) -> Vec<Address> {
    let mut ctx = Ctx {
        lex: Lexer::with_comments(value),
        out: Vec::new(),
        addr: Address::default(),
        invalid: false,
    };
    if !ctx.lex.skip_lwsp().is_more() {
        return Vec::new();
    }
    ctx.address_list();
    ctx.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(name: Option<&str>, mailbox: &str, host: &str) -> Address {
        Address {
            name: name.map(|n| n.as_bytes().to_vec()),
            route: None,
            mailbox: Some(mailbox.as_bytes().to_vec()),
            host: Some(host.as_bytes().to_vec()),
        }
    }

    #[test]
    fn name_addr_and_addr_spec() {
        let l = parse_address_list(b"\"Foo Bar\" <foo@example.com>, info@example.com");
        assert_eq!(
            l,
            vec![
                a(Some("Foo Bar"), "foo", "example.com"),
                a(None, "info", "example.com")
            ]
        );
    }

    #[test]
    fn comment_names_an_addr_spec() {
        let l = parse_address_list(b"user@host (The User)");
        assert_eq!(l, vec![a(Some("The User"), "user", "host")]);
    }

    #[test]
    fn groups_have_markers() {
        let l = parse_address_list(b"undisclosed-recipients:;");
        assert_eq!(l.len(), 2);
        assert!(l[0].is_group_start());
        assert!(l[1].is_group_end());
        let l = parse_address_list(b"team: a@b, c@d;");
        assert_eq!(l.len(), 4);
        assert_eq!(l[1], a(None, "a", "b"));
    }

    #[test]
    fn missing_parts_are_filled() {
        let l = parse_address_list(b"Whomever");
        assert_eq!(l, vec![a(None, "Whomever", "MISSING_DOMAIN")]);
        let l = parse_address_list(b"Big Bug bb@bug.com");
        assert_eq!(
            l,
            vec![a(Some("Big Bug bb"), "MISSING_MAILBOX", "MISSING_DOMAIN")]
        );
        let l = parse_address_list(b"Name <>");
        assert_eq!(
            l,
            vec![a(Some("Name"), "MISSING_MAILBOX", "MISSING_DOMAIN")]
        );
        let l = parse_address_list(b"Name <@a,@b:user@host>");
        assert_eq!(l[0].route.as_deref(), Some(&b"@a,@b"[..]));
    }

    #[test]
    fn empty_value_has_no_addresses() {
        assert!(parse_address_list(b"  ").is_empty());
    }
}
