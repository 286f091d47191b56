//! What the scripts of one delivery decided, put together: the global `before` scripts,
//! the account's own and the `after` scripts run in turn (Pigeonhole's sieve_before /
//! sieve_after), and their actions are added up. The implicit keep (RFC 5228 §2.10.2)
//! happens only when no script cancelled it; a script that fails (compile or runtime
//! error) ends the sequence and the message is kept (§2.10.6), never lost. Mail the
//! gateway marked as junk goes to Junk when it is kept implicitly; an explicit `keep` or
//! `fileinto` decides otherwise. Pure: the caller runs the scripts and carries the plan
//! out.

use super::engine::Evaluation;
use mailward_sieve::Action;

/// Where one copy goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreTarget {
    pub folder: String,
    pub flags: Vec<String>,
    /// RFC 5490 `:create`.
    pub create: bool,
    /// RFC 8579 `:specialuse`.
    pub special_use: Option<String>,
    /// The implicit keep (or the keep after a failure).
    pub implicit: bool,
}

/// A script that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptFailure {
    pub script: String,
    /// `compile` or `runtime`.
    pub phase: &'static str,
    pub reason: String,
}

/// The actions of the whole sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub stores: Vec<StoreTarget>,
    /// RFC 5228 §4.2 redirect addresses, in order.
    pub redirects: Vec<String>,
    /// `Action::Vacation`s.
    pub vacations: Vec<Action>,
    /// `Action::Notify`s.
    pub notifies: Vec<Action>,
    /// vnd.dovecot.pipe: program and arguments.
    pub pipes: Vec<(String, Vec<String>)>,
    /// RFC 5429 reject/ereject reason.
    pub reject: Option<String>,
    /// An explicit `discard` ran.
    pub discarded: bool,
    pub failures: Vec<ScriptFailure>,
    /// Scripts run, in order.
    pub scripts: Vec<String>,
    implicit_keep: bool,
    implicit_flags: Vec<String>,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            stores: Vec::new(),
            redirects: Vec::new(),
            vacations: Vec::new(),
            notifies: Vec::new(),
            pipes: Vec::new(),
            reject: None,
            discarded: false,
            failures: Vec::new(),
            scripts: Vec::new(),
            implicit_keep: true,
            implicit_flags: Vec::new(),
        }
    }
}

impl Plan {
    /// Adds one script's result; `false` when the sequence must stop (it failed).
    pub fn absorb(&mut self, script: &str, result: Result<&Evaluation, &str>) -> bool {
        self.scripts.push(script.to_string());
        let evaluation = match result {
            Err(reason) => {
                self.fail(script, "compile", reason);
                return false;
            }
            Ok(evaluation) => evaluation,
        };
        if let Some(first) = evaluation.errors.first() {
            // RFC 5228 §2.10.6: a run that fails takes none of its actions; keep.
            self.fail(script, "runtime", first);
            return false;
        }
        let mut implicit = false;
        for action in &evaluation.actions {
            match action {
                Action::Keep {
                    flags,
                    implicit: true,
                } => {
                    implicit = true;
                    self.implicit_flags = flags.clone();
                }
                Action::Keep {
                    flags,
                    implicit: false,
                } => self.stores.push(StoreTarget {
                    folder: "INBOX".into(),
                    flags: flags.clone(),
                    create: false,
                    special_use: None,
                    implicit: false,
                }),
                Action::FileInto {
                    mailbox,
                    flags,
                    create,
                    special_use,
                    ..
                } => self.stores.push(StoreTarget {
                    folder: mailbox.clone(),
                    flags: flags.clone(),
                    create: *create,
                    special_use: special_use.clone(),
                    implicit: false,
                }),
                Action::Redirect { address, .. } => self.redirects.push(address.clone()),
                Action::Discard => self.discarded = true,
                Action::Reject { reason, .. } => self.reject = Some(reason.clone()),
                Action::Vacation { .. } => self.vacations.push(action.clone()),
                Action::Notify { .. } => self.notifies.push(action.clone()),
                Action::Pipe { program, args, .. } => {
                    self.pipes.push((program.clone(), args.clone()));
                }
            }
        }
        self.implicit_keep &= implicit;
        true
    }

    fn fail(&mut self, script: &str, phase: &'static str, reason: &str) {
        self.failures.push(ScriptFailure {
            script: script.to_string(),
            phase,
            reason: reason.to_string(),
        });
    }

    /// The plan once every script ran: the implicit keep added where it applies (into
    /// `Junk` for junk kept implicitly), copies to one folder made one (RFC 5228 §2.10.3).
    pub fn finish(mut self, junk: bool) -> Plan {
        let failed = !self.failures.is_empty();
        if failed {
            // Keeping wins over a refusal: the message is never lost to an error.
            self.reject = None;
        }
        if failed || (self.implicit_keep && self.reject.is_none()) {
            self.stores.push(StoreTarget {
                folder: if junk { "Junk" } else { "INBOX" }.into(),
                flags: std::mem::take(&mut self.implicit_flags),
                create: true,
                special_use: None,
                implicit: true,
            });
        }
        let mut unique: Vec<StoreTarget> = Vec::with_capacity(self.stores.len());
        for target in std::mem::take(&mut self.stores) {
            let same = |other: &StoreTarget| {
                other.special_use == target.special_use
                    && (other.folder == target.folder
                        || (other.folder.eq_ignore_ascii_case("INBOX")
                            && target.folder.eq_ignore_ascii_case("INBOX")))
            };
            if !unique.iter().any(same) {
                unique.push(target);
            }
        }
        self.stores = unique;
        self.redirects.dedup();
        self
    }

    /// The actions for the `sieve_run` event: `keep`, `fileinto:Folder`, `discard`, ...
    pub fn labels(&self) -> String {
        let mut labels: Vec<String> = Vec::new();
        for target in &self.stores {
            labels.push(if target.folder.eq_ignore_ascii_case("INBOX") {
                "keep".into()
            } else {
                format!("fileinto:{}", target.folder)
            });
        }
        if self.discarded && self.stores.is_empty() {
            labels.push("discard".into());
        }
        labels.extend(self.redirects.iter().map(|to| format!("redirect:{to}")));
        labels.extend(self.vacations.iter().map(|_| "vacation".to_string()));
        labels.extend(self.notifies.iter().map(|_| "notify".to_string()));
        labels.extend(self.pipes.iter().map(|(name, _)| format!("pipe:{name}")));
        if self.reject.is_some() {
            labels.push("reject".into());
        }
        labels.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(actions: Vec<Action>) -> Evaluation {
        Evaluation {
            actions,
            ..Evaluation::default()
        }
    }

    fn implicit() -> Action {
        Action::Keep {
            flags: vec![],
            implicit: true,
        }
    }

    fn fileinto(mailbox: &str, copy: bool) -> Action {
        Action::FileInto {
            mailbox: mailbox.into(),
            flags: vec!["\\Seen".into()],
            copy,
            create: false,
            special_use: None,
        }
    }

    fn folders(plan: &Plan) -> Vec<&str> {
        plan.stores.iter().map(|s| s.folder.as_str()).collect()
    }

    #[test]
    fn implicit_keep_needs_every_script_to_keep_it() {
        let mut plan = Plan::default();
        assert!(plan.absorb(
            "before:spam",
            Ok(&run(vec![fileinto("Lists", true), implicit()]))
        ));
        assert!(plan.absorb("mine", Ok(&run(vec![implicit()]))));
        let plan = plan.finish(false);
        assert_eq!(folders(&plan), ["Lists", "INBOX"]);
        let mut plan = Plan::default();
        plan.absorb("before:spam", Ok(&run(vec![fileinto("Lists", false)])));
        plan.absorb("mine", Ok(&run(vec![implicit()])));
        assert_eq!(folders(&plan.finish(false)), ["Lists"]);
    }

    #[test]
    fn discard_stores_nothing() {
        let mut plan = Plan::default();
        plan.absorb("mine", Ok(&run(vec![Action::Discard])));
        let plan = plan.finish(false);
        assert!(plan.stores.is_empty());
        assert_eq!(plan.labels(), "discard");
    }

    #[test]
    fn junk_goes_to_junk_unless_a_script_files_it() {
        let mut plan = Plan::default();
        plan.absorb("mine", Ok(&run(vec![implicit()])));
        assert_eq!(folders(&plan.finish(true)), ["Junk"]);
        let mut plan = Plan::default();
        plan.absorb(
            "mine",
            Ok(&run(vec![Action::Keep {
                flags: vec![],
                implicit: false,
            }])),
        );
        assert_eq!(folders(&plan.finish(true)), ["INBOX"]);
    }

    #[test]
    fn script_error_keeps_in_inbox_and_stops_the_sequence() {
        let mut plan = Plan::default();
        assert!(!plan.absorb("mine", Err("1:1: bad")));
        let plan = plan.finish(false);
        assert_eq!(folders(&plan), ["INBOX"]);
        assert_eq!(plan.failures[0].phase, "compile");
        let mut plan = Plan::default();
        let failed = Evaluation {
            actions: vec![Action::Discard],
            errors: vec!["line 3: too many steps".into()],
            ..Evaluation::default()
        };
        assert!(!plan.absorb("mine", Ok(&failed)));
        let plan = plan.finish(false);
        assert_eq!(folders(&plan), ["INBOX"]);
        assert!(!plan.discarded);
    }

    #[test]
    fn reject_cancels_the_implicit_keep_but_an_error_keeps() {
        let reject = Action::Reject {
            reason: "no thanks".into(),
            extended: false,
        };
        let mut plan = Plan::default();
        plan.absorb("mine", Ok(&run(vec![reject.clone()])));
        let plan = plan.finish(false);
        assert!(plan.stores.is_empty());
        assert_eq!(plan.reject.as_deref(), Some("no thanks"));
        let mut plan = Plan::default();
        plan.absorb("before:x", Ok(&run(vec![reject])));
        plan.absorb("mine", Err("1:1: bad"));
        let plan = plan.finish(false);
        assert_eq!(plan.reject, None);
        assert_eq!(folders(&plan), ["INBOX"]);
    }

    #[test]
    fn copies_to_one_folder_are_one() {
        let mut plan = Plan::default();
        plan.absorb(
            "mine",
            Ok(&run(vec![
                fileinto("A", true),
                fileinto("A", true),
                Action::Keep {
                    flags: vec![],
                    implicit: false,
                },
                implicit(),
            ])),
        );
        assert_eq!(folders(&plan.finish(false)), ["A", "INBOX"]);
    }
}
