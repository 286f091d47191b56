//! Pigeonhole's `vnd.dovecot.testsuite` extension, for running Pigeonhole's `.svtest`
//! files against this interpreter. Built only with the `testsuite` feature and
//! requireable only when [`crate::CompileOptions::testsuite`] is set: production scripts
//! never see it. It reads script files next to the test file (the test suite is the one
//! place the interpreter touches the file system).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::compile::Node;
use crate::eval::result::ResultSet;
use crate::eval::{Flow, Run};
use crate::message::Message;
use crate::registry::{Block, COMPARATOR, Kind, MATCH, Spec, TagSpec, Tests};
use crate::{Action, CompileOptions, Envelope, Environment, Host, Script};

/// One `test "name" { ... }` block's verdict (or the file's top level, named "").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestReport {
    pub name: String,
    pub failure: Option<String>,
}

/// A message the result execution "sent" (redirect, reject, vacation, notify).
#[derive(Debug, Clone)]
pub struct SentMessage {
    pub from: String,
    pub to: String,
    pub message: Vec<u8>,
}

/// Mailboxes, shared by the state and the host.
pub type Mailboxes = Rc<RefCell<BTreeMap<String, Vec<(Vec<u8>, Vec<String>)>>>>;

/// The suite's state during one file.
pub struct SuiteState {
    pub dir: PathBuf,
    pub compiled: Option<Script>,
    pub errors: Vec<String>,
    pub mailboxes: Mailboxes,
    pub sent: Vec<SentMessage>,
    pub config: BTreeMap<String, String>,
    pub reports: Vec<TestReport>,
    /// Called by `test_result_execute` for actions that send a message (vacation,
    /// notify, reject): returns the messages to record. Set by the runner.
    pub sender: Option<Sender>,
    /// The message as it was when each action was taken (RFC 5293 §3: edits apply to
    /// actions that follow them).
    pub snapshots: Vec<(Action, Vec<u8>)>,
    /// Actions `test_result_execute` already carried out (a later execution of an
    /// appended result does only the new ones).
    pub executed: Vec<Action>,
    /// The reason `test_fail` gave in the current test.
    pub failure: Option<String>,
}

/// Turns a send-type action into messages, given the message and envelope it answers.
pub type Sender = fn(&Action, &[u8], &Envelope, &Environment) -> Vec<SentMessage>;

struct SuiteHost {
    dir: PathBuf,
    mailboxes: Mailboxes,
    seen: BTreeSet<String>,
}

impl Host for SuiteHost {
    fn mailbox_exists(&self, mailbox: &str) -> bool {
        self.mailboxes.borrow().contains_key(mailbox)
    }

    fn duplicate_seen(&mut self, key: &str, _seconds: u64, _last: bool) -> bool {
        !self.seen.insert(key.to_string())
    }

    fn include_source(&self, name: &str, global: bool) -> Option<String> {
        if name.contains('/') || name.contains("..") {
            return None;
        }
        let folder = if global {
            "included-global"
        } else {
            "included"
        };
        std::fs::read_to_string(self.dir.join(folder).join(format!("{name}.sieve"))).ok()
    }
}

/// Runs one `.svtest` file; `Err` when it does not compile.
pub fn run_file(path: &Path, sender: Option<Sender>) -> Result<Vec<TestReport>, String> {
    let source = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let options = CompileOptions {
        testsuite: true,
        extprograms: true,
        ..CompileOptions::default()
    };
    let script = crate::compile(&source, &options).map_err(|e| e.to_string())?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mailboxes: Mailboxes = Rc::new(RefCell::new(BTreeMap::new()));
    mailboxes.borrow_mut().insert("INBOX".into(), Vec::new());
    let mut host = SuiteHost {
        dir: dir.clone(),
        mailboxes: mailboxes.clone(),
        seen: BTreeSet::new(),
    };
    let env = Environment::default();
    let envelope = Envelope {
        from: "sender@example.com".into(),
        to: "recipient@example.net".into(),
        ..Envelope::default()
    };
    let default_message =
        b"From: sender@example.com\r\nTo: recipient@example.net\r\nSubject: Frop!\r\n\r\nFrop!\r\n";
    let mut run = Run::new(
        &script.inner,
        Message::parse(default_message),
        envelope,
        &env,
        &mut host,
    );
    run.suite = Some(Box::new(SuiteState {
        dir,
        compiled: None,
        errors: Vec::new(),
        mailboxes,
        sent: Vec::new(),
        config: BTreeMap::new(),
        reports: Vec::new(),
        sender,
        failure: None,
        snapshots: Vec::new(),
        executed: Vec::new(),
    }));
    let flow = run.execute_script(&script.inner);
    let mut reports = run.suite.take().map(|s| s.reports).unwrap_or_default();
    if flow == Flow::Error || !run.errors.is_empty() {
        let message = run
            .errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        reports.push(TestReport {
            name: String::new(),
            failure: Some(format!("top level: {message}")),
        });
    }
    Ok(reports)
}

const fn tag(name: &'static str, value: Option<Kind>, group: &'static str) -> TagSpec {
    TagSpec {
        name,
        extension: None,
        value,
        group,
    }
}

const fn spec(
    name: &'static str,
    positional: &'static [Kind],
    tags: &'static [&'static [TagSpec]],
) -> Spec {
    Spec {
        name,
        extension: Some("vnd.dovecot.testsuite"),
        positional,
        optional_leading: 0,
        optional_trailing: 0,
        tags,
        tests: Tests::None,
        block: Block::None,
    }
}

const MESSAGE_TAGS: &[TagSpec] = &[tag("smtp", None, "source"), tag("folder", None, "source")];
const RELOAD_TAGS: &[TagSpec] = &[tag("extension", Some(Kind::String), "extension")];
const RUN_TAGS: &[TagSpec] = &[tag("append_result", None, "append")];
const INDEX_TAGS: &[TagSpec] = &[tag("index", Some(Kind::Number), "index")];

use Kind::{Number, String as Str, StringList as List};

const COMMANDS: &[Spec] = &[
    Spec {
        block: Block::Required,
        ..spec("test", &[Str], &[])
    },
    spec("test_fail", &[Str], &[]),
    spec("test_set", &[Str, Str], &[]),
    Spec {
        optional_leading: 1,
        ..spec("test_message", &[Str, Number], &[MESSAGE_TAGS])
    },
    spec("test_result_reset", &[], &[]),
    spec("test_result_print", &[], &[]),
    spec("test_mailbox_create", &[Str], &[]),
    spec("test_config_set", &[Str, Str], &[]),
    spec("test_config_unset", &[Str], &[]),
    spec("test_config_reload", &[], &[RELOAD_TAGS]),
    spec("test_binary_save", &[Str], &[]),
    spec("test_binary_load", &[Str], &[]),
];

const TESTS: &[Spec] = &[
    spec("test_script_compile", &[Str], &[]),
    spec("test_script_run", &[], &[RUN_TAGS]),
    spec("test_multiscript", &[List], &[]),
    spec(
        "test_result_action",
        &[List],
        &[MATCH, COMPARATOR, INDEX_TAGS],
    ),
    spec("test_result_execute", &[], &[]),
    spec("test_error", &[List], &[MATCH, COMPARATOR, INDEX_TAGS]),
    Spec {
        optional_leading: 1,
        ..spec("test_message", &[Str, Number], &[MESSAGE_TAGS])
    },
];

/// The spec of a testsuite command.
pub fn command_spec(name: &str) -> Option<&'static Spec> {
    COMMANDS.iter().find(|s| s.name == name)
}

/// The spec of a testsuite test.
pub fn test_spec(name: &str) -> Option<&'static Spec> {
    TESTS.iter().find(|s| s.name == name)
}

/// The testsuite's variables (none for now).
pub fn variable<'r>(run: &'r Run<'_>, name: &str) -> Option<&'r str> {
    match name {
        "tst.path" => run.suite.as_ref().and_then(|s| s.dir.to_str()),
        _ => None,
    }
}

fn action_name(action: &Action) -> &'static str {
    match action {
        Action::Keep { .. } => "keep",
        Action::FileInto { .. } => "store",
        Action::Redirect { .. } => "redirect",
        Action::Discard => "discard",
        Action::Reject { .. } => "reject",
        Action::Vacation { .. } => "vacation",
        Action::Notify { .. } => "notify",
        Action::Pipe { .. } => "pipe",
    }
}

/// Runs a testsuite command; `None` when `node` is not one.
pub fn command(run: &mut Run<'_>, node: &Node) -> Option<Flow> {
    run.suite.as_ref()?;
    let flow = match node.name.as_str() {
        "test" => {
            let name = run.string(node.positional.first());
            run.result = ResultSet::new();
            if let Some(suite) = run.suite.as_mut() {
                suite.executed.clear();
            }
            let errors_before = run.errors.len();
            let flow = run.block(&node.block);
            let failure = match flow {
                Flow::TestFail => run.suite.as_mut().and_then(|s| s.failure.take()),
                Flow::Error => Some(
                    run.errors
                        .drain(errors_before..)
                        .map(|e| e.to_string())
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                _ => None,
            };
            run.errors.truncate(errors_before);
            if let Some(suite) = run.suite.as_mut() {
                suite.reports.push(TestReport { name, failure });
            }
            Flow::Continue
        }
        "test_fail" => {
            let reason = run.string(node.positional.first());
            if let Some(suite) = run.suite.as_mut() {
                suite.failure = Some(format!("line {}: {reason}", node.line));
            }
            Flow::TestFail
        }
        "test_set" => {
            let name = run.string(node.positional.first());
            let value = run.string(node.positional.get(1));
            match name.as_str() {
                "message" => {
                    run.message = Message::parse(value.as_bytes());
                    run.mime_parts = None;
                    run.body_values.clear();
                }
                "envelope.from" => run.envelope.from = value,
                "envelope.to" => run.envelope.to = value,
                "envelope.orig_to" => run.envelope.orig_to = Some(value),
                "envelope.auth" => run.envelope.auth = Some(value),
                _ => run.set_variable(&name, value),
            }
            Flow::Continue
        }
        "test_message" => {
            // A missing message leaves the current one: the checks that follow fail.
            select_message(run, node);
            Flow::Continue
        }
        "test_result_reset" => {
            run.result = ResultSet::new();
            if let Some(suite) = run.suite.as_mut() {
                suite.executed.clear();
            }
            run.flags.clear();
            Flow::Continue
        }
        "test_mailbox_create" => {
            let name = run.string(node.positional.first());
            if let Some(suite) = run.suite.as_ref() {
                suite.mailboxes.borrow_mut().entry(name).or_default();
            }
            Flow::Continue
        }
        "test_config_set" => {
            let key = run.string(node.positional.first());
            let value = run.string(node.positional.get(1));
            if key == "sieve_notify_max_notifications"
                && let Ok(count) = value.parse()
            {
                run.options.limits.max_sent_messages = count;
            }
            if (key == "sieve_variables_max_variable_size"
                || key == "sieve_variables_max_value_size")
                && let Ok(size) = value.parse()
            {
                run.options.limits.max_variable_size = size;
            }
            if let Some(suite) = run.suite.as_mut() {
                suite.config.insert(key, value);
            }
            Flow::Continue
        }
        "test_config_unset" => {
            let key = run.string(node.positional.first());
            if let Some(suite) = run.suite.as_mut() {
                suite.config.remove(&key);
            }
            Flow::Continue
        }
        "test_config_reload" | "test_result_print" | "test_binary_save" | "test_binary_load" => {
            Flow::Continue
        }
        _ => return None,
    };
    Some(flow)
}

/// Records the message as it is when `action` is taken.
pub fn snapshot(run: &mut Run<'_>, action: &Action) {
    if run.message.edited {
        let bytes = run.message.to_bytes();
        if let Some(suite) = run.suite.as_mut() {
            suite.snapshots.push((action.clone(), bytes));
        }
    }
}

fn select_message(run: &mut Run<'_>, node: &Node) -> bool {
    let index = Run::number(node.positional.last()).unwrap_or(0);
    let Ok(index) = usize::try_from(index) else {
        return false;
    };
    let Some(suite) = run.suite.as_ref() else {
        return false;
    };
    if node.has_tag("folder") {
        let folder = run.string(node.positional.first());
        let message = suite
            .mailboxes
            .borrow()
            .get(&folder)
            .and_then(|m| m.get(index).cloned());
        match message {
            Some((bytes, flags)) => {
                run.message = Message::parse(&bytes);
                run.mime_parts = None;
                run.body_values.clear();
                run.flags = flags;
                true
            }
            None => false,
        }
    } else {
        match suite.sent.get(index).cloned() {
            Some(sent) => {
                run.message = Message::parse(&sent.message);
                run.mime_parts = None;
                run.body_values.clear();
                run.envelope.from = sent.from;
                run.envelope.to = sent.to;
                true
            }
            None => false,
        }
    }
}

/// Runs a testsuite test; `None` when `node` is not one.
pub fn test(run: &mut Run<'_>, node: &Node) -> Option<Result<bool, Flow>> {
    run.suite.as_ref()?;
    let result = match node.name.as_str() {
        "test_script_compile" => Ok(script_compile(run, node)),
        "test_script_run" => Ok(script_run(run, node)),
        "test_multiscript" => Ok(multiscript(run, node)),
        "test_result_action" => {
            let keys = run.strings(node.positional.first());
            // Pigeonhole lists the actions the script took; the implicit keep is added
            // only when the result is executed.
            let actions = run.result.actions.clone();
            let names: Vec<String> = actions.iter().map(|a| action_name(a).to_string()).collect();
            indexed_match(run, node, names, &keys)
        }
        "test_result_execute" => Ok(result_execute(run)),
        "test_error" => {
            let keys = run.strings(node.positional.first());
            let errors = run
                .suite
                .as_ref()
                .map(|s| s.errors.clone())
                .unwrap_or_default();
            indexed_match(run, node, errors, &keys)
        }
        "test_message" => Ok(select_message(run, node)),
        _ => return None,
    };
    Some(result)
}

fn indexed_match(
    run: &mut Run<'_>,
    node: &Node,
    values: Vec<String>,
    keys: &[String],
) -> Result<bool, Flow> {
    let values = match Run::number(node.tag_value("index")) {
        Some(index) => usize::try_from(index)
            .ok()
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| values.into_iter().nth(i))
            .into_iter()
            .collect(),
        None => values,
    };
    run.match_values(node, &values, keys)
}

fn script_compile(run: &mut Run<'_>, node: &Node) -> bool {
    let name = run.string(node.positional.first());
    let Some(suite) = run.suite.as_mut() else {
        return false;
    };
    suite.errors.clear();
    suite.compiled = None;
    let source = match std::fs::read_to_string(suite.dir.join(&name)) {
        Ok(source) => source,
        Err(e) => {
            suite.errors.push(format!("{name}: {e}"));
            return false;
        }
    };
    // Sub-scripts may use the suite's commands too (Pigeonhole's do).
    let options = CompileOptions {
        extprograms: true,
        testsuite: true,
        ..CompileOptions::default()
    };
    match crate::compile(&source, &options) {
        Ok(script) => {
            suite.compiled = Some(script);
            true
        }
        Err(e) => {
            suite.errors.push(e.message);
            false
        }
    }
}

fn script_run(run: &mut Run<'_>, node: &Node) -> bool {
    script_run_appending(run, node.has_tag("append_result"))
}

fn script_run_appending(run: &mut Run<'_>, append: bool) -> bool {
    let Some(script) = run.suite.as_ref().and_then(|s| s.compiled.clone()) else {
        return false;
    };
    let message = run.message.clone();
    let envelope = run.envelope.clone();
    let env = run.env;
    let host: &mut dyn Host = &mut *run.host;
    let mut sub = Run::new(&script.inner, message, envelope, env, host);
    // Limits the suite configured apply to the scripts it runs.
    sub.options.limits = run.options.limits.clone();
    if append {
        sub.result = run.result.clone();
        sub.flags = run.flags.clone();
    }
    sub.suite = run.suite.take();
    let flow = sub.execute_script(&script.inner);
    run.suite = sub.suite.take();
    let errors: Vec<String> = sub.errors.iter().map(|e| e.message.clone()).collect();
    let (result, flags, message) = (sub.result, sub.flags, sub.message);
    if let Some(suite) = run.suite.as_mut() {
        suite.errors = errors.clone();
    }
    if matches!(flow, Flow::Error | Flow::TestFail) || !errors.is_empty() {
        return false;
    }
    run.result = result;
    run.flags = flags;
    run.message = message;
    run.mime_parts = None;
    run.body_values.clear();
    true
}

fn result_execute(run: &mut Run<'_>) -> bool {
    let actions = run.result.finish(&run.flags);
    let bytes = run.message.to_bytes();
    let envelope = run.envelope.clone();
    let env = run.env;
    let Some(suite) = run.suite.as_mut() else {
        return false;
    };
    let snapshots = std::mem::take(&mut suite.snapshots);
    // `test_message :smtp N` counts from this execution's first message.
    suite.sent.clear();
    let already = std::mem::take(&mut suite.executed);
    for action in actions.iter().filter(|a| !already.contains(a)) {
        let bytes = snapshots
            .iter()
            .find(|(a, _)| a == action)
            .map_or_else(|| bytes.clone(), |(_, b)| b.clone());
        match action {
            Action::Keep { flags, .. } => suite
                .mailboxes
                .borrow_mut()
                .entry("INBOX".into())
                .or_default()
                .push((bytes.clone(), flags.clone())),
            Action::FileInto {
                mailbox,
                flags,
                create,
                ..
            } => {
                let mut boxes = suite.mailboxes.borrow_mut();
                // RFC 5490 §3.2: without :create, the mailbox must exist.
                let problem = if mailbox.split('/').any(str::is_empty) {
                    Some("invalid mailbox name")
                } else if !create && !boxes.contains_key(mailbox) {
                    Some("mailbox does not exist")
                } else {
                    None
                };
                if let Some(problem) = problem {
                    drop(boxes);
                    suite.errors = vec![format!(
                        "failed to store into mailbox '{mailbox}': {problem}"
                    )];
                    return false;
                }
                boxes
                    .entry(mailbox.clone())
                    .or_default()
                    .push((bytes.clone(), flags.clone()));
            }
            Action::Redirect { address, .. } => suite.sent.push(SentMessage {
                from: envelope.from.clone(),
                to: address.clone(),
                message: bytes.clone(),
            }),
            Action::Discard | Action::Pipe { .. } => {}
            Action::Reject { .. } | Action::Vacation { .. } | Action::Notify { .. } => {
                let sender = suite.sender.unwrap_or(send_with_execute);
                suite.sent.extend(sender(action, &bytes, &envelope, env));
            }
        }
    }
    if let Some(suite) = run.suite.as_mut() {
        suite.executed = already;
        suite.executed.extend(actions);
    }
    true
}

/// Pigeonhole's test_multiscript: the scripts run in turn on one result, which is then
/// executed.
fn multiscript(run: &mut Run<'_>, node: &Node) -> bool {
    let names = run.strings(node.positional.first());
    run.result = ResultSet::new();
    for name in names {
        let Some(suite) = run.suite.as_mut() else {
            return false;
        };
        let path = suite.dir.join(&name);
        let Ok(source) = std::fs::read_to_string(&path) else {
            return false;
        };
        let options = CompileOptions {
            extprograms: true,
            testsuite: true,
            ..CompileOptions::default()
        };
        let Ok(script) = crate::compile(&source, &options) else {
            return false;
        };
        suite.compiled = Some(script);
        if !script_run_appending(run, true) {
            return false;
        }
    }
    result_execute(run)
}

/// The messages the result-execution layer ([`crate::execute`]) would send for a
/// vacation or notify action.
fn send_with_execute(
    action: &Action,
    message: &[u8],
    envelope: &Envelope,
    env: &Environment,
) -> Vec<SentMessage> {
    use crate::execute::{
        Outgoing, VacationRequest, check_vacation, notify_message, vacation_reply,
    };
    let outgoing: Option<Outgoing> = match action {
        Action::Vacation { .. } => VacationRequest::from_action(action).and_then(|request| {
            check_vacation(message, envelope, &request)
                .ok()
                .map(|user| vacation_reply(message, env, &request, &user))
        }),
        Action::Notify {
            method,
            from,
            message: text,
            ..
        } => notify_message(
            message,
            envelope,
            env,
            method,
            from.as_deref(),
            text.as_deref(),
            &envelope.to,
        )
        .ok(),
        _ => None,
    };
    outgoing
        .into_iter()
        .flat_map(|out| {
            out.to
                .iter()
                .map(|to| SentMessage {
                    from: out.from.clone(),
                    to: to.clone(),
                    message: out.message.clone(),
                })
                .collect::<Vec<_>>()
        })
        .collect()
}
