//! The NOTIFY command (RFC 5465 §8 grammar), which imap-codec does not parse:
//!
//! ```text
//! notify           = "NOTIFY" SP (notify-set / notify-none)
//! notify-set       = "SET" [status-indicator] SP event-groups
//! status-indicator = SP "STATUS"
//! event-group      = "(" filter-mailboxes SP events ")"
//! filter-mailboxes = "selected" / "selected-delayed" / "inboxes" / "personal" /
//!                    "subscribed" / ("subtree" SP one-or-more-mailbox) /
//!                    ("mailboxes" SP one-or-more-mailbox)
//! events           = ("(" event *(SP event) ")") / "NONE"
//! event            = ("MessageNew" [SP "(" fetch-att *(SP fetch-att) ")"]) /
//!                    "MessageExpunge" / "FlagChange" / "AnnotationChange" /
//!                    "MailboxName" / "SubscriptionChange" / "MailboxMetadataChange" /
//!                    "ServerMetadataChange" / atom
//! ```
//!
//! Untrusted input: parsing never panics, nesting, groups, events and mailbox names are
//! bounded ([`MAX_DEPTH`], [`MAX_GROUPS`], [`MAX_EVENTS`], [`MAX_MAILBOXES`]) and every
//! violation is a [`NotifySyntaxError`] (`BAD`). Mailbox names stay raw (the session
//! decodes them as it decodes every mailbox argument); the fetch attributes of
//! MessageNew stay raw too, for imap-codec to read as a FETCH would.

/// Parentheses nested deeper than this are refused (fetch attributes nest two levels:
/// `BODY.PEEK[HEADER.FIELDS (FROM)]`).
pub const MAX_DEPTH: usize = 8;
/// Event groups in one NOTIFY SET.
pub const MAX_GROUPS: usize = 64;
/// Events in one group.
pub const MAX_EVENTS: usize = 32;
/// Mailbox names over all the `subtree` and `mailboxes` filters of one NOTIFY SET.
pub const MAX_MAILBOXES: usize = 1000;

/// A parsed NOTIFY command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyCommand {
    /// RFC 5465 §3.2 `NOTIFY NONE`.
    None,
    /// RFC 5465 §3.1 `NOTIFY SET [STATUS] groups`.
    Set {
        /// `STATUS`: send the current STATUS of every matching mailbox first.
        status: bool,
        groups: Vec<EventGroup>,
    },
}

/// `(filter events)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventGroup {
    pub filter: FilterSpec,
    /// The events; empty for `NONE`.
    pub events: Vec<EventSpec>,
}

/// RFC 5465 §6 mailbox filters; names are raw (as sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterSpec {
    Selected,
    SelectedDelayed,
    Inboxes,
    Personal,
    Subscribed,
    Subtree(Vec<Vec<u8>>),
    Mailboxes(Vec<Vec<u8>>),
}

impl FilterSpec {
    /// `selected` or `selected-delayed`.
    pub fn is_selected(&self) -> bool {
        matches!(self, FilterSpec::Selected | FilterSpec::SelectedDelayed)
    }
}

/// RFC 5465 §5 event types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventSpec {
    /// With the raw inside of its fetch-att list, if any (`UID BODY.PEEK[HEADER]`).
    MessageNew(Option<Vec<u8>>),
    MessageExpunge,
    FlagChange,
    AnnotationChange,
    MailboxName,
    SubscriptionChange,
    MailboxMetadataChange,
    ServerMetadataChange,
    /// `event-ext`: an event this server does not know (`NO [BADEVENT]`).
    Other(String),
}

impl EventSpec {
    /// The event's name as RFC 5465 spells it.
    pub fn name(&self) -> &str {
        match self {
            EventSpec::MessageNew(_) => "MessageNew",
            EventSpec::MessageExpunge => "MessageExpunge",
            EventSpec::FlagChange => "FlagChange",
            EventSpec::AnnotationChange => "AnnotationChange",
            EventSpec::MailboxName => "MailboxName",
            EventSpec::SubscriptionChange => "SubscriptionChange",
            EventSpec::MailboxMetadataChange => "MailboxMetadataChange",
            EventSpec::ServerMetadataChange => "ServerMetadataChange",
            EventSpec::Other(s) => s,
        }
    }

    /// A message event (RFC 5465 §5.1 - §5.3), the only kind the selected filters take.
    pub fn is_message_event(&self) -> bool {
        matches!(
            self,
            EventSpec::MessageNew(_)
                | EventSpec::MessageExpunge
                | EventSpec::FlagChange
                | EventSpec::AnnotationChange
        )
    }
}

/// Why a NOTIFY command is `BAD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotifySyntaxError(pub &'static str);

/// One argument: an atom, a string (quoted or literal) or a list.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Arg {
    Atom(Vec<u8>),
    Str(Vec<u8>),
    /// The items and the span of the list's inside in the input.
    List(Vec<Arg>, (usize, usize)),
}

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

const ERR_SYNTAX: NotifySyntaxError = NotifySyntaxError("Invalid NOTIFY arguments");

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn at_end(&self) -> bool {
        matches!(
            self.b.get(self.i..),
            Some(b"\r\n") | Some(b"\n") | Some(b"")
        )
    }

    fn atom(&mut self) -> Result<Vec<u8>, NotifySyntaxError> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c <= b' ' || c == 0x7f || matches!(c, b'(' | b')' | b'{' | b'"') {
                break;
            }
            self.i += 1;
        }
        match self.b.get(start..self.i) {
            Some(a) if !a.is_empty() => Ok(a.to_vec()),
            _ => Err(ERR_SYNTAX),
        }
    }

    /// RFC 9051 §4.3 quoted string (`\` escapes only `"` and `\`).
    fn quoted(&mut self) -> Result<Vec<u8>, NotifySyntaxError> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            match self.peek().ok_or(ERR_SYNTAX)? {
                b'"' => {
                    self.i += 1;
                    return Ok(out);
                }
                b'\\' => {
                    let c = self.b.get(self.i + 1).copied().ok_or(ERR_SYNTAX)?;
                    if c != b'"' && c != b'\\' {
                        return Err(ERR_SYNTAX);
                    }
                    out.push(c);
                    self.i += 2;
                }
                b'\r' | b'\n' | 0 => return Err(ERR_SYNTAX),
                c => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    /// `{n}\r\n` or `{n+}\r\n` (RFC 7888) followed by n octets, as the framer left them.
    fn literal(&mut self) -> Result<Vec<u8>, NotifySyntaxError> {
        let rest = self.b.get(self.i..).ok_or(ERR_SYNTAX)?;
        let close = rest.iter().position(|&c| c == b'}').ok_or(ERR_SYNTAX)?;
        let inner = rest.get(1..close).ok_or(ERR_SYNTAX)?;
        let digits = inner.strip_suffix(b"+").unwrap_or(inner);
        if digits.is_empty() || digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
            return Err(ERR_SYNTAX);
        }
        let n: usize = std::str::from_utf8(digits)
            .ok()
            .and_then(|d| d.parse().ok())
            .ok_or(ERR_SYNTAX)?;
        let start = self.i + close + 1;
        if self.b.get(start..start + 2) != Some(b"\r\n") {
            return Err(ERR_SYNTAX);
        }
        let data = self
            .b
            .get(start + 2..start.saturating_add(2).saturating_add(n))
            .ok_or(ERR_SYNTAX)?;
        self.i = start + 2 + n;
        Ok(data.to_vec())
    }

    fn arg(&mut self, depth: usize) -> Result<Arg, NotifySyntaxError> {
        match self.peek().ok_or(ERR_SYNTAX)? {
            b'(' => self.list(depth + 1),
            b'"' => self.quoted().map(Arg::Str),
            b'{' => self.literal().map(Arg::Str),
            _ => self.atom().map(Arg::Atom),
        }
    }

    /// A parenthesized list. Inside (fetch attributes such as `BODY[HEADER.FIELDS (A)]`)
    /// items may follow each other without a space; the outer structure is checked by
    /// the caller.
    fn list(&mut self, depth: usize) -> Result<Arg, NotifySyntaxError> {
        if depth > MAX_DEPTH {
            return Err(NotifySyntaxError("NOTIFY arguments nested too deeply"));
        }
        self.i += 1;
        let start = self.i;
        let mut items = Vec::new();
        loop {
            match self.peek().ok_or(ERR_SYNTAX)? {
                b')' => {
                    let end = self.i;
                    self.i += 1;
                    return Ok(Arg::List(items, (start, end)));
                }
                b' ' => self.i += 1,
                b'\r' | b'\n' => return Err(ERR_SYNTAX),
                _ => items.push(self.arg(depth)?),
            }
        }
    }

    /// The top-level arguments: separated by exactly one space, up to the line end.
    fn top_args(&mut self) -> Result<Vec<Arg>, NotifySyntaxError> {
        let mut args = Vec::new();
        while !self.at_end() {
            if self.peek() != Some(b' ') {
                return Err(ERR_SYNTAX);
            }
            self.i += 1;
            args.push(self.arg(0)?);
            if args.len() > MAX_GROUPS + 2 {
                return Err(NotifySyntaxError("Too many NOTIFY event groups"));
            }
        }
        Ok(args)
    }
}

fn word(a: &Arg) -> Option<String> {
    match a {
        Arg::Atom(w) => Some(String::from_utf8_lossy(w).to_ascii_lowercase()),
        _ => None,
    }
}

/// The command's name is NOTIFY (so the session parses it here, not with imap-codec).
pub fn is_notify(bytes: &[u8]) -> bool {
    let mut parts = bytes.splitn(3, |&c| c == b' ');
    let _tag = parts.next();
    parts.next().is_some_and(|name| {
        let name = name.strip_suffix(b"\r\n").unwrap_or(name);
        name.eq_ignore_ascii_case(b"NOTIFY")
    })
}

/// Parses a framed `tag NOTIFY ...` command (see [`is_notify`]).
pub fn parse(bytes: &[u8]) -> Result<NotifyCommand, NotifySyntaxError> {
    let mut r = Reader { b: bytes, i: 0 };
    r.atom()?; // tag
    if r.peek() != Some(b' ') {
        return Err(ERR_SYNTAX);
    }
    r.i += 1;
    r.atom()?; // NOTIFY
    let args = r.top_args()?;
    let mut it = args.iter();
    match it.next().and_then(word).as_deref() {
        // RFC 5465 §3.2: NONE takes no arguments.
        Some("none") if args.len() == 1 => Ok(NotifyCommand::None),
        Some("set") => {
            let mut rest: Vec<&Arg> = it.collect();
            let status = rest.first().and_then(|a| word(a)).as_deref() == Some("status");
            if status {
                rest.remove(0);
            }
            if rest.is_empty() {
                return Err(NotifySyntaxError(
                    "NOTIFY SET needs at least one event group",
                ));
            }
            let groups = rest
                .into_iter()
                .map(|g| event_group(g, bytes))
                .collect::<Result<Vec<_>, _>>()?;
            check_groups(&groups)?;
            Ok(NotifyCommand::Set { status, groups })
        }
        _ => Err(ERR_SYNTAX),
    }
}

/// `one-or-more-mailbox`: an astring or a non-empty list of them.
fn mailboxes(a: &Arg) -> Result<Vec<Vec<u8>>, NotifySyntaxError> {
    match a {
        Arg::Atom(n) | Arg::Str(n) => Ok(vec![n.clone()]),
        Arg::List(items, _) if !items.is_empty() => items
            .iter()
            .map(|i| match i {
                Arg::Atom(n) | Arg::Str(n) => Ok(n.clone()),
                Arg::List(..) => Err(ERR_SYNTAX),
            })
            .collect(),
        Arg::List(..) => Err(NotifySyntaxError("Empty mailbox list in NOTIFY")),
    }
}

fn event_group(a: &Arg, input: &[u8]) -> Result<EventGroup, NotifySyntaxError> {
    let Arg::List(items, _) = a else {
        return Err(NotifySyntaxError("NOTIFY event group must be a list"));
    };
    let mut it = items.iter();
    let filter_word = it.next().and_then(word).ok_or(ERR_SYNTAX)?;
    let filter = match filter_word.as_str() {
        "selected" => FilterSpec::Selected,
        "selected-delayed" => FilterSpec::SelectedDelayed,
        "inboxes" => FilterSpec::Inboxes,
        "personal" => FilterSpec::Personal,
        "subscribed" => FilterSpec::Subscribed,
        "subtree" => FilterSpec::Subtree(mailboxes(it.next().ok_or(ERR_SYNTAX)?)?),
        "mailboxes" => FilterSpec::Mailboxes(mailboxes(it.next().ok_or(ERR_SYNTAX)?)?),
        _ => return Err(NotifySyntaxError("Unknown NOTIFY mailbox filter")),
    };
    let events_arg = it.next().ok_or(ERR_SYNTAX)?;
    if it.next().is_some() {
        return Err(ERR_SYNTAX);
    }
    let events = match events_arg {
        a if word(a).as_deref() == Some("none") => Vec::new(),
        Arg::List(evs, _) if !evs.is_empty() => events(evs, input)?,
        Arg::List(..) => return Err(NotifySyntaxError("Empty NOTIFY event list")),
        _ => return Err(ERR_SYNTAX),
    };
    Ok(EventGroup { filter, events })
}

fn events(items: &[Arg], input: &[u8]) -> Result<Vec<EventSpec>, NotifySyntaxError> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(a) = items.get(i) {
        let Arg::Atom(raw) = a else {
            return Err(ERR_SYNTAX);
        };
        let name = String::from_utf8_lossy(raw).into_owned();
        let ev = match name.to_ascii_lowercase().as_str() {
            "messagenew" => {
                // RFC 5465 §5.2: an optional list of fetch attributes follows.
                if let Some(Arg::List(atts, (s, e))) = items.get(i + 1) {
                    if atts.is_empty() {
                        return Err(NotifySyntaxError("Empty MessageNew fetch attributes"));
                    }
                    i += 1;
                    let raw = input.get(*s..*e).ok_or(ERR_SYNTAX)?;
                    EventSpec::MessageNew(Some(raw.to_vec()))
                } else {
                    EventSpec::MessageNew(None)
                }
            }
            "messageexpunge" => EventSpec::MessageExpunge,
            "flagchange" => EventSpec::FlagChange,
            "annotationchange" => EventSpec::AnnotationChange,
            "mailboxname" => EventSpec::MailboxName,
            "subscriptionchange" => EventSpec::SubscriptionChange,
            "mailboxmetadatachange" => EventSpec::MailboxMetadataChange,
            "servermetadatachange" => EventSpec::ServerMetadataChange,
            _ if name.len() <= 64 && name.bytes().all(|c| c.is_ascii_graphic()) => {
                EventSpec::Other(name)
            }
            _ => return Err(ERR_SYNTAX),
        };
        out.push(ev);
        if out.len() > MAX_EVENTS {
            return Err(NotifySyntaxError("Too many NOTIFY events in a group"));
        }
        i += 1;
    }
    Ok(out)
}

/// RFC 5465 §3.1, §5, §6.1: rules over the groups that make a NOTIFY SET `BAD`.
///
/// - at most one `selected` or `selected-delayed` filter (§6.1);
/// - the selected filters take message events only (§6.1), and MessageNew with
///   MessageExpunge, both or neither; FlagChange and AnnotationChange need both (§5);
/// - fetch attributes only with MessageNew of a selected filter (§5.2);
/// - at most [`MAX_MAILBOXES`] names.
///
/// The §5 pairing rules are enforced for the selected filters only, as Dovecot does
/// (imaptest's `notify` script sets `(mailboxes x (MessageExpunge))` and expects `OK`):
/// for other mailboxes the events only choose the STATUS items sent.
fn check_groups(groups: &[EventGroup]) -> Result<(), NotifySyntaxError> {
    let mut selected = 0;
    let mut names = 0usize;
    for g in groups {
        match &g.filter {
            FilterSpec::Subtree(n) | FilterSpec::Mailboxes(n) => names += n.len(),
            _ => {}
        }
        if names > MAX_MAILBOXES {
            return Err(NotifySyntaxError("Too many mailboxes in NOTIFY"));
        }
        let has = |f: fn(&EventSpec) -> bool| g.events.iter().any(f);
        if !g.filter.is_selected() {
            if has(|e| matches!(e, EventSpec::MessageNew(Some(_)))) {
                return Err(NotifySyntaxError(
                    "MessageNew fetch attributes are allowed with the selected filters only",
                ));
            }
            continue;
        }
        selected += 1;
        if selected > 1 {
            return Err(NotifySyntaxError("Duplicate selected filter"));
        }
        if has(|e| !e.is_message_event() && !matches!(e, EventSpec::Other(_))) {
            return Err(NotifySyntaxError(
                "Only message events are allowed with the selected filters",
            ));
        }
        let new = has(|e| matches!(e, EventSpec::MessageNew(_)));
        let expunge = has(|e| matches!(e, EventSpec::MessageExpunge));
        if new != expunge {
            return Err(NotifySyntaxError(
                "MessageNew and MessageExpunge must be given together",
            ));
        }
        if has(|e| matches!(e, EventSpec::FlagChange | EventSpec::AnnotationChange)) && !new {
            return Err(NotifySyntaxError(
                "FlagChange and AnnotationChange require MessageNew and MessageExpunge",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(line: &str) -> (bool, Vec<EventGroup>) {
        match parse(line.as_bytes()) {
            Ok(NotifyCommand::Set { status, groups }) => (status, groups),
            other => panic!("{line}: {other:?}"),
        }
    }

    fn bad(line: &str) -> NotifySyntaxError {
        parse(line.as_bytes()).expect_err(line)
    }

    #[test]
    fn none_and_set() {
        assert_eq!(parse(b"a NOTIFY NONE\r\n"), Ok(NotifyCommand::None));
        assert_eq!(parse(b"a notify none\r\n"), Ok(NotifyCommand::None));
        let (status, groups) = set("a NOTIFY SET STATUS (mailboxes box2 (MessageExpunge))\r\n");
        assert!(status);
        assert_eq!(
            groups,
            vec![EventGroup {
                filter: FilterSpec::Mailboxes(vec![b"box2".to_vec()]),
                events: vec![EventSpec::MessageExpunge],
            }]
        );
    }

    #[test]
    fn rfc5465_example_with_fetch_attributes() {
        // After RFC 5465 §3.1's example (its `(subtree Lists MessageNew)` lacks the
        // parentheses §8 requires around events).
        let (status, groups) = set(
            "e NOTIFY SET (selected (MessageNew (uid body.peek[header.fields (from to subject)]) MessageExpunge)) (subtree Lists (MessageNew MessageExpunge)) (mailboxes (misc \"Other box\") (MessageNew MessageExpunge))\r\n",
        );
        assert!(!status);
        assert_eq!(groups.len(), 3);
        assert_eq!(groups[0].filter, FilterSpec::Selected);
        assert_eq!(
            groups[0].events[0],
            EventSpec::MessageNew(Some(
                b"uid body.peek[header.fields (from to subject)]".to_vec()
            ))
        );
        assert_eq!(
            groups[2].filter,
            FilterSpec::Mailboxes(vec![b"misc".to_vec(), b"Other box".to_vec()])
        );
    }

    #[test]
    fn literals_and_none_events() {
        let (_, groups) =
            set("a NOTIFY SET (subtree {4}\r\nLi)s (MailboxName)) (personal NONE)\r\n");
        assert_eq!(
            groups[0].filter,
            FilterSpec::Subtree(vec![b"Li)s".to_vec()])
        );
        assert!(groups[1].events.is_empty());
    }

    #[test]
    fn syntax_errors_are_bad() {
        for line in [
            "a NOTIFY\r\n",
            "a NOTIFY FOO\r\n",
            "a NOTIFY NONE STATUS\r\n",
            "a NOTIFY SET\r\n",
            "a NOTIFY SET STATUS\r\n",
            "a NOTIFY SET (personal)\r\n",
            "a NOTIFY SET (personal ())\r\n",
            "a NOTIFY SET (mailboxes () (MessageNew))\r\n",
            "a NOTIFY SET (nowhere (MessageNew))\r\n",
            "a NOTIFY SET (personal (MessageNew) extra)\r\n",
            "a NOTIFY SET  (personal (MailboxName))\r\n",
            "a NOTIFY SET (personal (MailboxName)\r\n",
            "a NOTIFY SET (personal (\"MailboxName\"))\r\n",
            "a NOTIFY SET (subtree {10}\r\nab)\r\n",
        ] {
            bad(line);
        }
    }

    #[test]
    fn rfc5465_rules_for_selected_filters() {
        for (line, why) in [
            (
                "a NOTIFY SET (selected (MessageNew))\r\n",
                "MessageNew and MessageExpunge",
            ),
            (
                "a NOTIFY SET (selected (FlagChange))\r\n",
                "FlagChange and AnnotationChange",
            ),
            (
                "a NOTIFY SET (selected NONE) (selected-delayed NONE)\r\n",
                "Duplicate",
            ),
            (
                "a NOTIFY SET (selected (MailboxName))\r\n",
                "Only message events",
            ),
            (
                "a NOTIFY SET (personal (MessageNew (UID) MessageExpunge))\r\n",
                "fetch attributes",
            ),
            (
                "a NOTIFY SET (selected (MessageNew () MessageExpunge))\r\n",
                "Empty MessageNew",
            ),
        ] {
            let e = bad(line);
            assert!(e.0.contains(why), "{line}: {e}");
        }
        // Other filters take any combination (as Dovecot, see `check_groups`).
        set("a NOTIFY SET (mailboxes x (FlagChange))\r\n");
        set("a NOTIFY SET (selected-delayed (MessageNew MessageExpunge FlagChange))\r\n");
    }

    #[test]
    fn unknown_events_parse_for_badevent() {
        let (_, groups) = set("a NOTIFY SET (personal (MessageNew MessageExpunge X-Foo))\r\n");
        assert_eq!(groups[0].events[2], EventSpec::Other("X-Foo".into()));
    }

    #[test]
    fn limits() {
        let deep = format!(
            "a NOTIFY SET (selected (MessageNew ({}UID{}) MessageExpunge))\r\n",
            "(".repeat(MAX_DEPTH),
            ")".repeat(MAX_DEPTH)
        );
        assert!(bad(&deep).0.contains("deeply"));
        let many = format!(
            "a NOTIFY SET{}\r\n",
            " (personal (MailboxName))".repeat(MAX_GROUPS + 3)
        );
        assert!(bad(&many).0.contains("Too many"));
        let names: Vec<String> = (0..=MAX_MAILBOXES).map(|i| format!("m{i}")).collect();
        let line = format!(
            "a NOTIFY SET (mailboxes ({}) (MailboxName))\r\n",
            names.join(" ")
        );
        assert!(bad(&line).0.contains("Too many mailboxes"));
        let events = " MailboxName".repeat(MAX_EVENTS + 1);
        let line = format!("a NOTIFY SET (personal ({}))\r\n", events.trim_start());
        assert!(bad(&line).0.contains("Too many NOTIFY events"));
    }

    #[test]
    fn never_panics_on_prefixes() {
        let line = b"a NOTIFY SET STATUS (selected (MessageNew (UID BODY.PEEK[HEADER.FIELDS (FROM)]) MessageExpunge)) (subtree {3}\r\nabc (MailboxName))\r\n";
        for n in 0..line.len() {
            let _ = parse(&line[..n]);
        }
        assert!(parse(line).is_ok());
    }

    proptest::proptest! {
        #[test]
        fn random_arguments_never_panic(tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let mut line = b"a NOTIFY SET ".to_vec();
            line.extend_from_slice(&tail);
            let _ = parse(&line);
        }

        #[test]
        fn random_structures_never_panic(tail in "[()a-zA-Z{}0-9\\[\\]\" .\r\n-]{0,120}") {
            let _ = parse(format!("a NOTIFY SET STATUS {tail}").as_bytes());
        }
    }

    #[test]
    fn is_notify_looks_at_the_name() {
        assert!(is_notify(b"a NOTIFY NONE\r\n"));
        assert!(is_notify(b"a notify\r\n"));
        assert!(!is_notify(b"a NOOP\r\n"));
        assert!(!is_notify(b"NOTIFY\r\n"));
    }
}
