//! NOTIFY (RFC 5465): `NOTIFY NONE` and `NOTIFY SET [STATUS] (filter events)...`, and the
//! unsolicited responses it asks for: STATUS for mailboxes other than the selected one
//! (§5.1 - §5.3), LIST for mailbox name changes (§5.4, with `\NonExistent` and `OLDNAME`)
//! and subscription changes (§5.5), FETCH of new messages in the selected mailbox (§5.2).
//!
//! The session follows the account's change feed (see [`crate::account_feed`]) and reads
//! it whenever untagged responses may be sent: after commands, in NOOP and IDLE, and
//! between commands when the driver is woken ([`Session::poll_unsolicited`]). Changes are
//! coalesced to one STATUS per mailbox and poll; a STATUS equal to the last one sent for
//! the mailbox is not repeated. When the feed overflows, message changes are read back as
//! STATUS of every watched mailbox; lost name or subscription changes cannot be, so the
//! session then says `* OK [NOTIFICATIONOVERFLOW]` and behaves as after NOTIFY NONE (§5.8).

use super::notify_filter::{Events, Filter, Group, NotifySpec, SelectedGroup};
use super::{Action, Session, State, respond};
use crate::backend::AccountEvent;
use crate::wire::notify::{EventGroup, EventSpec, FilterSpec, NotifyCommand};
use imap_codec::imap_types::command::CommandBody;
use imap_codec::imap_types::core::Tag;
use std::collections::{HashMap, HashSet};

/// The events this server delivers, for `NO [BADEVENT (...)]` (RFC 5465 §3.1).
const SUPPORTED: &str = "MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange";

/// Changes read from the feed per poll (the rest wait for the next one).
const EVENTS_PER_POLL: usize = 4096;

/// Mailboxes whose last STATUS is remembered (to skip repeating an unchanged one).
const MAX_REMEMBERED: usize = 10_000;

/// A session's NOTIFY state.
#[derive(Debug)]
pub struct NotifyState {
    spec: NotifySpec,
    /// The last STATUS line sent per mailbox.
    sent: HashMap<String, Vec<u8>>,
    /// The subscribed names, kept when a `subscribed` filter needs them.
    subscriptions: Option<HashSet<String>>,
}

impl NotifyState {
    fn subscribed(&self) -> impl Fn(&str) -> bool + '_ {
        move |name: &str| {
            self.subscriptions
                .as_ref()
                .is_some_and(|s| s.contains(name))
        }
    }
}

fn events_of(specs: &[EventSpec]) -> Events {
    let mut e = Events::default();
    for s in specs {
        match s {
            EventSpec::MessageNew(_) => e.new = true,
            EventSpec::MessageExpunge => e.expunge = true,
            EventSpec::FlagChange => e.flags = true,
            EventSpec::MailboxName => e.mailbox_name = true,
            EventSpec::SubscriptionChange => e.subscription = true,
            _ => {}
        }
    }
    e
}

/// RFC 5465 §3.1: the events of the command this server does not deliver.
fn unsupported(groups: &[EventGroup]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in groups.iter().flat_map(|g| g.events.iter()) {
        let bad = matches!(
            e,
            EventSpec::AnnotationChange
                | EventSpec::MailboxMetadataChange
                | EventSpec::ServerMetadataChange
                | EventSpec::Other(_)
        );
        if bad && !out.iter().any(|o| o.eq_ignore_ascii_case(e.name())) {
            out.push(e.name().to_string());
        }
    }
    out
}

impl Session {
    /// NOTIFY is in effect.
    pub fn notify_active(&self) -> bool {
        self.notify.is_some()
    }

    /// Runs a framed NOTIFY command (RFC 5465 §3).
    pub(super) fn notify_command(&mut self, bytes: &[u8]) -> Option<Action> {
        let tag = crate::wire::framer::recover_tag(bytes)
            .as_deref()
            .and_then(crate::wire::encode::tag);
        let Some(tag) = tag else {
            return self.bad(None, None, "Invalid tag");
        };
        if self.user.is_none() {
            return self.bad(Some(tag), None, "NOTIFY not allowed now: log in first");
        }
        let cmd = match crate::wire::notify::parse(bytes) {
            Ok(c) => c,
            Err(e) => return self.bad(Some(tag), None, &e.to_string()),
        };
        let (status, groups) = match cmd {
            NotifyCommand::None => {
                self.stop_notify();
                self.ok(&tag, None, "NOTIFY completed");
                return None;
            }
            NotifyCommand::Set { status, groups } => (status, groups),
        };
        let bad_events = unsupported(&groups);
        if !bad_events.is_empty() {
            let text = format!("Unsupported NOTIFY events: {}", bad_events.join(" "));
            self.tagged(&tag, "NO", Some(&format!("BADEVENT ({SUPPORTED})")), &text);
            return None;
        }
        let spec = match self.notify_spec(groups) {
            Ok(s) => s,
            Err(why) => return self.bad(Some(tag), None, why),
        };
        let subscriptions = if spec.needs_subscriptions() {
            match self.backend.as_mut().map(|b| b.subscriptions()) {
                Some(Ok(s)) => Some(s.into_iter().collect()),
                Some(Err(e)) => {
                    self.backend_no(&tag, &e);
                    return None;
                }
                None => None,
            }
        } else {
            None
        };
        // A fresh start of the feed: what happened before this command is not reported.
        if let Some(Err(e)) = self.backend.as_mut().map(|b| b.follow_account(true)) {
            self.backend_no(&tag, &e);
            return None;
        }
        self.notify = Some(Box::new(NotifyState {
            spec,
            sent: HashMap::new(),
            subscriptions,
        }));
        // RFC 5465 §3.1: with STATUS, the current STATUS of every mailbox a filter with
        // message events takes (not the selected one), before the tagged OK.
        if status {
            self.send_initial_status();
        }
        self.ok(&tag, None, "NOTIFY completed");
        None
    }

    /// RFC 5465 §3.2 NOTIFY NONE (and §5.8 after an overflow): no more notifications.
    fn stop_notify(&mut self) {
        self.notify = None;
        if let Some(b) = self.backend.as_mut() {
            let _ = b.follow_account(false);
        }
    }

    /// The groups with names decoded and fetch attributes read; `Err` is a BAD's text.
    fn notify_spec(&self, groups: Vec<EventGroup>) -> Result<NotifySpec, &'static str> {
        let utf8 = self.enabled.utf8_names();
        let names = |raw: Vec<Vec<u8>>| -> Result<Vec<String>, &'static str> {
            raw.iter()
                .map(|n| {
                    crate::mailbox_name::from_wire(n, utf8)
                        .map(|s| s.trim_end_matches('/').to_string())
                        .map_err(|_| "Invalid mailbox name in NOTIFY")
                })
                .collect()
        };
        let mut spec = NotifySpec::default();
        for g in groups {
            let events = events_of(&g.events);
            let filter = match g.filter {
                FilterSpec::Selected | FilterSpec::SelectedDelayed => {
                    let fetch = match g.events.iter().find_map(|e| match e {
                        EventSpec::MessageNew(Some(raw)) => Some(raw),
                        _ => None,
                    }) {
                        Some(raw) => Some(fetch_items(raw)?),
                        None => None,
                    };
                    spec.selected = Some(SelectedGroup {
                        delayed: g.filter == FilterSpec::SelectedDelayed,
                        events,
                        fetch,
                    });
                    continue;
                }
                FilterSpec::Inboxes => Filter::Inboxes,
                FilterSpec::Personal => Filter::Personal,
                FilterSpec::Subscribed => Filter::Subscribed,
                FilterSpec::Subtree(raw) => Filter::Subtree(names(raw)?),
                FilterSpec::Mailboxes(raw) => Filter::Mailboxes(names(raw)?),
            };
            spec.groups.push(Group { filter, events });
        }
        Ok(spec)
    }

    fn selected_name(&self) -> Option<&str> {
        match &self.state {
            State::Selected(s) => Some(s.name.as_str()),
            _ => None,
        }
    }

    /// RFC 5465 §3.1 `NOTIFY SET STATUS`.
    fn send_initial_status(&mut self) {
        let Some(list) = self.backend.as_mut().and_then(|b| b.list().ok()) else {
            return;
        };
        let names: Vec<String> = list
            .into_iter()
            .filter(|m| m.selectable)
            .map(|m| m.name)
            .collect();
        self.send_status_of(&names, None);
    }

    /// STATUS of each of `names` whose filter has message events (and, with `changed`,
    /// that wants the kinds of change that happened), except the selected mailbox; an
    /// unchanged STATUS is not repeated.
    fn send_status_of(&mut self, names: &[String], changed: Option<&HashMap<String, Events>>) {
        let utf8 = self.enabled.utf8_names();
        let selected = self.selected_name().map(str::to_owned);
        let (Some(state), Some(backend)) = (self.notify.as_mut(), self.backend.as_mut()) else {
            return;
        };
        for name in names {
            if selected.as_deref() == Some(name.as_str()) {
                continue;
            }
            let events = state.spec.events_for(name, &state.subscribed());
            if !events.message() {
                continue;
            }
            if let Some(c) = changed.and_then(|c| c.get(name))
                && !events.wants(c.new, c.expunge, c.flags)
            {
                continue;
            }
            // Gone meanwhile (deleted or renamed): the LIST says so, if asked for.
            let Ok(st) = backend.status(name) else {
                continue;
            };
            let items: Vec<String> = events
                .status_items()
                .iter()
                .map(|s| s.to_string())
                .collect();
            let line = super::mailboxes::status_line(name, &st, &items, utf8);
            if state.sent.get(name) == Some(&line) {
                continue;
            }
            self.output.extend_from_slice(&line);
            if state.sent.len() >= MAX_REMEMBERED {
                state.sent.clear();
            }
            state.sent.insert(name.clone(), line);
        }
    }

    /// Sends what the account's changes call for (see the module documentation). Called
    /// wherever untagged responses may go: after commands, NOOP, IDLE.
    pub(super) fn poll_notify(&mut self) {
        let Some(backend) = self.backend.as_mut() else {
            return;
        };
        if self.notify.is_none() {
            return;
        }
        let got = backend.account_events(EVENTS_PER_POLL);
        let Some(state) = self.notify.as_mut() else {
            return;
        };
        if got.lagged && state.spec.wants_names() {
            // RFC 5465 §5.8.
            respond::untagged_ok(
                &mut self.output,
                "NOTIFICATIONOVERFLOW",
                "Too many changes: NOTIFY is off, use NOTIFY SET again",
            );
            self.stop_notify();
            return;
        }
        let utf8 = self.enabled.utf8_names();
        let mut changed: HashMap<String, Events> = HashMap::new();
        let mut order: Vec<String> = Vec::new();
        let mut lines: Vec<u8> = Vec::new();
        for ev in got.events {
            match ev {
                AccountEvent::Messages {
                    mailbox,
                    added,
                    expunged,
                    flags,
                } => {
                    let e = changed.entry(mailbox.clone()).or_insert_with(|| {
                        order.push(mailbox);
                        Events::default()
                    });
                    e.new |= added;
                    e.expunge |= expunged;
                    e.flags |= flags;
                }
                AccountEvent::Created(name) => {
                    if state
                        .spec
                        .events_for(&name, &state.subscribed())
                        .mailbox_name
                    {
                        list_line(&mut lines, "", &name, None, utf8);
                    }
                }
                AccountEvent::Deleted(name) => {
                    state.sent.remove(&name);
                    if state
                        .spec
                        .events_for(&name, &state.subscribed())
                        .mailbox_name
                    {
                        list_line(&mut lines, "\\NonExistent", &name, None, utf8);
                    }
                }
                AccountEvent::Renamed { from, to } => {
                    state.sent.remove(&from);
                    let subscribed = state.subscribed();
                    if state.spec.events_for(&from, &subscribed).mailbox_name
                        || state.spec.events_for(&to, &subscribed).mailbox_name
                    {
                        list_line(&mut lines, "", &to, Some(&from), utf8);
                    }
                }
                AccountEvent::Subscription { name, subscribed } => {
                    // Under a `subscribed` filter the change concerns the client whether
                    // the name was subscribed before or is now.
                    let before = state
                        .spec
                        .events_for(&name, &state.subscribed())
                        .subscription;
                    if let Some(subs) = state.subscriptions.as_mut() {
                        if subscribed {
                            subs.insert(name.clone());
                        } else {
                            subs.remove(&name);
                        }
                    }
                    if before
                        || state
                            .spec
                            .events_for(&name, &state.subscribed())
                            .subscription
                    {
                        let attr = if subscribed { "\\Subscribed" } else { "" };
                        list_line(&mut lines, attr, &name, None, utf8);
                    }
                }
            }
        }
        self.output.extend_from_slice(&lines);
        if got.lagged {
            // Message changes were lost: every watched mailbox is read again.
            let all: Vec<String> = self
                .backend
                .as_mut()
                .and_then(|b| b.list().ok())
                .unwrap_or_default()
                .into_iter()
                .filter(|m| m.selectable)
                .map(|m| m.name)
                .collect();
            self.send_status_of(&all, None);
        } else if !order.is_empty() {
            self.send_status_of(&order, Some(&changed));
        }
    }

    /// What may go out while no command is in progress (the driver calls it when the
    /// account changed): the other mailboxes' notifications, and the selected mailbox's
    /// updates when the client asked for them at once with the `selected` filter (RFC 5465
    /// §6.1; with `selected-delayed` they wait for the next command).
    pub fn poll_unsolicited(&mut self) {
        let immediate = self
            .notify
            .as_ref()
            .is_some_and(|n| n.spec.selected_immediate());
        if immediate && matches!(self.state, State::Selected(_)) {
            self.poll_changes();
        } else {
            self.poll_notify();
        }
    }

    /// RFC 5465 §5.2: the FETCH items the selected filter's MessageNew names, for the
    /// messages from sequence number `first` on (just announced by EXISTS).
    pub(super) fn notify_fetch_new(&mut self, first: usize) {
        let Some(items) = self
            .notify
            .as_ref()
            .and_then(|n| n.spec.selected.as_ref())
            .filter(|s| s.events.new)
            .and_then(|s| s.fetch.clone())
        else {
            return;
        };
        let Some(sel) = self.selected() else {
            return;
        };
        let (Ok(from), Ok(to)) = (u32::try_from(first), u32::try_from(sel.uids.len())) else {
            return;
        };
        let (Some(from), Some(to)) = (
            std::num::NonZeroU32::new(from),
            std::num::NonZeroU32::new(to),
        ) else {
            return;
        };
        if from > to {
            return;
        }
        let set = imap_codec::imap_types::sequence::SequenceSet::from(from..=to);
        let Ok(tag) = Tag::try_from("NOTIFY") else {
            return;
        };
        let before = self.output.len();
        let bad_before = self.bad_commands;
        let _ = self.fetch(tag, set, items, false, Vec::new());
        self.bad_commands = bad_before;
        // The FETCH's own tagged completion is not part of the notification.
        let tail = self.output.split_off(before);
        let (body, _tagged) = super::split_tagged(&tail, b"NOTIFY");
        self.output.extend_from_slice(body);
    }
}

/// RFC 5465 §5.4 / §5.5: `* LIST (attr) "/" name`, with RFC 5258's `OLDNAME` for a rename.
fn list_line(out: &mut Vec<u8>, attr: &str, name: &str, old: Option<&str>, utf8: bool) {
    out.extend_from_slice(b"* LIST (");
    out.extend_from_slice(attr.as_bytes());
    out.extend_from_slice(b") \"/\" ");
    respond::mailbox(out, name, utf8);
    if let Some(old) = old {
        out.extend_from_slice(b" (\"OLDNAME\" (");
        respond::mailbox(out, old, utf8);
        out.extend_from_slice(b"))");
    }
    out.extend_from_slice(b"\r\n");
}

/// RFC 5465 §5.2: MessageNew's fetch attributes, read as a FETCH's would be (`BAD` text on
/// error).
fn fetch_items(
    raw: &[u8],
) -> Result<imap_codec::imap_types::fetch::MacroOrMessageDataItemNames<'static>, &'static str> {
    let mut cmd = b"N FETCH 1 (".to_vec();
    cmd.extend_from_slice(raw);
    cmd.extend_from_slice(b")\r\n");
    match crate::wire::decode_command(&cmd) {
        Ok(c) => match c.body {
            CommandBody::Fetch {
                macro_or_item_names,
                ..
            } => Ok(macro_or_item_names),
            _ => Err("Invalid MessageNew fetch attributes"),
        },
        Err(_) => Err("Invalid MessageNew fetch attributes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetch_attributes_read_as_fetch_would() {
        assert!(fetch_items(b"UID BODY.PEEK[HEADER.FIELDS (FROM TO)]").is_ok());
        assert!(fetch_items(b"FLAGS").is_ok());
        assert!(fetch_items(b"NOSUCHITEM").is_err());
        assert!(fetch_items(b"UID) (FLAGS").is_err());
    }

    #[test]
    fn list_lines() {
        let mut out = Vec::new();
        list_line(&mut out, "\\NonExistent", "Gone", None, false);
        list_line(&mut out, "", "Entwürfe", Some("Drafts"), false);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "* LIST (\\NonExistent) \"/\" \"Gone\"\r\n* LIST () \"/\" \"Entw&APw-rfe\" (\"OLDNAME\" (\"Drafts\"))\r\n"
        );
    }

    #[test]
    fn unsupported_events_are_listed_once() {
        let g = EventGroup {
            filter: FilterSpec::Personal,
            events: vec![
                EventSpec::MessageNew(None),
                EventSpec::AnnotationChange,
                EventSpec::Other("X".into()),
                EventSpec::AnnotationChange,
            ],
        };
        assert_eq!(unsupported(&[g]), ["AnnotationChange", "X"]);
    }
}
