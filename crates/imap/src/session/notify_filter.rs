//! What a NOTIFY SET asked for (RFC 5465 §6 mailbox filters, §5 events), with mailbox
//! names decoded, and which events a mailbox gets. Pure: no backend, no output.

use imap_codec::imap_types::fetch::MacroOrMessageDataItemNames;

/// The events of one filter (RFC 5465 §5) this server delivers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Events {
    /// §5.2 MessageNew.
    pub new: bool,
    /// §5.3 MessageExpunge.
    pub expunge: bool,
    /// §5.1 FlagChange.
    pub flags: bool,
    /// §5.4 MailboxName.
    pub mailbox_name: bool,
    /// §5.5 SubscriptionChange.
    pub subscription: bool,
}

impl Events {
    /// Any message event: the mailbox gets STATUS responses.
    pub fn message(&self) -> bool {
        self.new || self.expunge || self.flags
    }

    /// A message change of these kinds concerns a client that asked for these events.
    pub fn wants(&self, added: bool, expunged: bool, flags: bool) -> bool {
        (added && self.new) || (expunged && self.expunge) || (flags && self.flags)
    }

    /// The STATUS items sent for a mailbox with these events (RFC 5465 §5.1 - §5.3):
    /// MESSAGES, UIDNEXT, UIDVALIDITY and UNSEEN, and HIGHESTMODSEQ (RFC 7162) when flag
    /// changes are watched (they change nothing else a STATUS shows). Dovecot sends the same.
    pub fn status_items(&self) -> &'static [&'static str] {
        if self.flags {
            &[
                "MESSAGES",
                "UIDNEXT",
                "UIDVALIDITY",
                "UNSEEN",
                "HIGHESTMODSEQ",
            ]
        } else {
            &["MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN"]
        }
    }
}

/// RFC 5465 §6 filters other than the selected ones; names are UTF-8, `/`-separated,
/// INBOX in upper case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// §6 `inboxes`: mailboxes messages may be delivered to. Deliveries may go to any
    /// folder here (the delivery request names it), so this is `personal`, as Dovecot
    /// treats it.
    Inboxes,
    /// §6 `personal`: every mailbox of the user (mailward has one personal namespace).
    Personal,
    /// §6 `subscribed`: the subscribed mailboxes, as subscriptions are when the event
    /// happens.
    Subscribed,
    /// §6 `subtree`: the named mailboxes and all their inferiors.
    Subtree(Vec<String>),
    /// §6 `mailboxes`: exactly the named mailboxes.
    Mailboxes(Vec<String>),
}

impl Filter {
    /// The filter takes `mailbox`; `subscribed` answers for the `subscribed` filter.
    pub fn matches(&self, mailbox: &str, subscribed: &dyn Fn(&str) -> bool) -> bool {
        match self {
            Filter::Inboxes | Filter::Personal => true,
            Filter::Subscribed => subscribed(mailbox),
            Filter::Mailboxes(names) => names.iter().any(|n| n == mailbox),
            Filter::Subtree(roots) => roots.iter().any(|r| {
                mailbox == r
                    || mailbox
                        .strip_prefix(r.as_str())
                        .is_some_and(|rest| rest.starts_with(crate::mailbox_name::SEPARATOR))
            }),
        }
    }
}

/// One `(filter events)` group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub filter: Filter,
    pub events: Events,
}

/// The `selected` / `selected-delayed` group (RFC 5465 §6.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedGroup {
    /// `selected-delayed`: expunges wait for a command that allows them (§6.1); here all
    /// updates of the selected mailbox wait for a command.
    pub delayed: bool,
    pub events: Events,
    /// §5.2: the FETCH items sent with each new message.
    pub fetch: Option<MacroOrMessageDataItemNames<'static>>,
}

/// Everything one NOTIFY SET asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifySpec {
    pub selected: Option<SelectedGroup>,
    pub groups: Vec<Group>,
}

impl NotifySpec {
    /// The events for a mailbox other than the selected one: those of the first group
    /// whose filter takes it (RFC 5465 §6 leaves overlaps to the server; Dovecot also
    /// takes the first).
    pub fn events_for(&self, mailbox: &str, subscribed: &dyn Fn(&str) -> bool) -> Events {
        self.groups
            .iter()
            .find(|g| g.filter.matches(mailbox, subscribed))
            .map(|g| g.events)
            .unwrap_or_default()
    }

    /// Some group watches mailbox names or subscriptions: changes of those cannot be read
    /// back after the fact, so losing them is an overflow (RFC 5465 §5.8).
    pub fn wants_names(&self) -> bool {
        self.groups
            .iter()
            .any(|g| g.events.mailbox_name || g.events.subscription)
    }

    /// A `subscribed` filter needs the subscription list.
    pub fn needs_subscriptions(&self) -> bool {
        self.groups.iter().any(|g| g.filter == Filter::Subscribed)
    }

    /// The selected filter is immediate (`selected`, not `selected-delayed`): the
    /// selected mailbox's updates may go out between commands.
    pub fn selected_immediate(&self) -> bool {
        self.selected
            .as_ref()
            .is_some_and(|s| !s.delayed && s.events.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(new: bool, flags: bool, name: bool) -> Events {
        Events {
            new,
            expunge: new,
            flags,
            mailbox_name: name,
            subscription: false,
        }
    }

    #[test]
    fn filters_match_as_rfc5465_section6_says() {
        let none = |_: &str| false;
        let subtree = Filter::Subtree(vec!["Lists".into()]);
        assert!(subtree.matches("Lists", &none));
        assert!(subtree.matches("Lists/rust", &none));
        assert!(!subtree.matches("Listserv", &none));
        assert!(!subtree.matches("Other/Lists", &none));
        let exact = Filter::Mailboxes(vec!["INBOX".into(), "a/b".into()]);
        assert!(exact.matches("INBOX", &none));
        assert!(exact.matches("a/b", &none));
        assert!(!exact.matches("a", &none));
        assert!(!exact.matches("a/b/c", &none));
        let subscribed = |n: &str| n == "Sent";
        assert!(Filter::Subscribed.matches("Sent", &subscribed));
        assert!(!Filter::Subscribed.matches("Junk", &subscribed));
        assert!(Filter::Personal.matches("anything/at/all", &none));
        assert!(Filter::Inboxes.matches("INBOX", &none));
    }

    #[test]
    fn first_matching_group_decides() {
        let spec = NotifySpec {
            selected: None,
            groups: vec![
                Group {
                    filter: Filter::Mailboxes(vec!["Junk".into()]),
                    events: Events::default(),
                },
                Group {
                    filter: Filter::Personal,
                    events: ev(true, true, true),
                },
            ],
        };
        let none = |_: &str| false;
        assert_eq!(spec.events_for("Junk", &none), Events::default());
        assert_eq!(spec.events_for("INBOX", &none), ev(true, true, true));
        assert!(spec.wants_names());
        assert!(!spec.needs_subscriptions());
    }

    #[test]
    fn status_items_follow_the_events() {
        assert!(
            !ev(true, false, false)
                .status_items()
                .contains(&"HIGHESTMODSEQ")
        );
        assert!(
            ev(false, true, false)
                .status_items()
                .contains(&"HIGHESTMODSEQ")
        );
        let only_flags = Events {
            flags: true,
            ..Events::default()
        };
        assert!(only_flags.wants(false, false, true));
        assert!(!only_flags.wants(true, false, false));
        assert!(!Events::default().message());
    }
}
