//! The result of a run (RFC 5228 §2.10): actions in order, duplicates merged (§2.10.3),
//! conflicts refused (RFC 5429 §2.1), and the implicit keep (§2.10.2).

use crate::{Action, Limits};

/// Actions collected during a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResultSet {
    pub actions: Vec<Action>,
    /// RFC 5228 §2.10.2: cleared by an action that delivers the message elsewhere.
    pub implicit_keep: bool,
    /// `discard` ran (the message then goes nowhere unless an action says otherwise).
    pub discarded: bool,
}

impl ResultSet {
    /// A fresh result, implicit keep in force.
    pub fn new() -> ResultSet {
        ResultSet {
            actions: Vec::new(),
            implicit_keep: true,
            discarded: false,
        }
    }

    fn has_reject(&self) -> bool {
        self.actions
            .iter()
            .any(|a| matches!(a, Action::Reject { .. }))
    }

    fn delivers(&self) -> bool {
        self.actions.iter().any(|a| {
            matches!(
                a,
                Action::Keep { .. }
                    | Action::FileInto { .. }
                    | Action::Redirect { .. }
                    | Action::Vacation { .. }
            )
        })
    }

    fn count_limit(&self, limits: &Limits) -> Result<(), String> {
        if self.actions.len() >= limits.max_actions {
            return Err(format!(
                "total number of actions exceeds policy limit ({})",
                limits.max_actions
            ));
        }
        Ok(())
    }

    /// [`Limits::max_sent_messages`]: vacation replies and notifications of one run.
    fn sent_limit(&self, limits: &Limits, what: &str) -> Result<(), String> {
        let sent = self
            .actions
            .iter()
            .filter(|a| matches!(a, Action::Notify { .. } | Action::Vacation { .. }))
            .count();
        if sent >= limits.max_sent_messages {
            return Err(format!(
                "number of {what} actions exceeds policy limit ({} messages sent per run)",
                limits.max_sent_messages
            ));
        }
        Ok(())
    }

    /// Adds an action, merging duplicates (RFC 5228 §2.10.3) and refusing conflicts.
    pub fn add(&mut self, action: Action, limits: &Limits) -> Result<(), String> {
        match &action {
            Action::Keep { flags, .. } => {
                if self.has_reject() {
                    return Err("keep conflicts with reject (RFC 5429 §2.1)".into());
                }
                self.implicit_keep = false;
                if let Some(existing) = self.actions.iter_mut().find(|a| is_inbox_store(a)) {
                    merge_flags(existing, flags);
                    return Ok(());
                }
            }
            Action::FileInto {
                mailbox,
                flags,
                copy,
                ..
            } => {
                if self.has_reject() {
                    return Err("fileinto conflicts with reject (RFC 5429 §2.1)".into());
                }
                if !copy {
                    self.implicit_keep = false;
                }
                let inbox = mailbox.eq_ignore_ascii_case("INBOX");
                if let Some(existing) = self.actions.iter_mut().find(|a| match a {
                    Action::FileInto { mailbox: m, .. } => m == mailbox,
                    Action::Keep { .. } => inbox,
                    _ => false,
                }) {
                    merge_flags(existing, flags);
                    return Ok(());
                }
            }
            Action::Redirect { address, copy } => {
                if self.has_reject() {
                    return Err("redirect conflicts with reject (RFC 5429 §2.1)".into());
                }
                if !copy {
                    self.implicit_keep = false;
                }
                if self.actions.iter().any(
                    |a| matches!(a, Action::Redirect { address: x, .. } if x.eq_ignore_ascii_case(address)),
                ) {
                    return Ok(());
                }
                let redirects = self
                    .actions
                    .iter()
                    .filter(|a| matches!(a, Action::Redirect { .. }))
                    .count();
                if redirects >= limits.max_redirects {
                    return Err(format!(
                        "number of redirect actions exceeds policy limit ({}, RFC 5228 §4.2)",
                        limits.max_redirects
                    ));
                }
            }
            Action::Reject { .. } => {
                if self.has_reject() {
                    return Err("more than one reject (RFC 5429 §2.1)".into());
                }
                if self.delivers() {
                    return Err("reject conflicts with an earlier action (RFC 5429 §2.1)".into());
                }
                self.implicit_keep = false;
            }
            Action::Vacation { .. } => {
                if self.has_reject() {
                    return Err("vacation conflicts with reject (RFC 5230 §4.7)".into());
                }
                if self
                    .actions
                    .iter()
                    .any(|a| matches!(a, Action::Vacation { .. }))
                {
                    return Err("more than one vacation (RFC 5230 §4.7)".into());
                }
                self.sent_limit(limits, "vacation")?;
            }
            Action::Notify { .. } => {
                if self.actions.contains(&action) {
                    return Ok(());
                }
                self.sent_limit(limits, "notify")?;
            }
            Action::Pipe { copy, .. } => {
                if !copy {
                    self.implicit_keep = false;
                }
                if self.actions.contains(&action) {
                    return Ok(());
                }
            }
            Action::Discard => {
                self.implicit_keep = false;
                self.discarded = true;
                return Ok(());
            }
        }
        self.count_limit(limits)?;
        self.actions.push(action);
        Ok(())
    }

    /// The final actions: those collected, the implicit keep with `flags` when it still
    /// holds, `discard` when nothing else handles the message.
    pub fn finish(&self, flags: &[String]) -> Vec<Action> {
        let mut actions = self.actions.clone();
        if self.implicit_keep {
            actions.push(Action::Keep {
                flags: flags.to_vec(),
                implicit: true,
            });
        } else if !actions.iter().any(|a| {
            matches!(
                a,
                Action::Keep { .. }
                    | Action::FileInto { .. }
                    | Action::Redirect { .. }
                    | Action::Reject { .. }
                    | Action::Pipe { .. }
            )
        }) {
            actions.push(Action::Discard);
        }
        actions
    }
}

fn is_inbox_store(action: &Action) -> bool {
    match action {
        Action::Keep { .. } => true,
        Action::FileInto { mailbox, .. } => mailbox.eq_ignore_ascii_case("INBOX"),
        _ => false,
    }
}

/// RFC 5232 §5: when duplicate keeps or fileintos are merged, the last flag list wins.
fn merge_flags(existing: &mut Action, flags: &[String]) {
    if let Action::Keep { flags: have, .. } | Action::FileInto { flags: have, .. } = existing {
        *have = flags.to_vec();
    }
}
