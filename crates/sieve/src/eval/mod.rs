//! The evaluator: runs a compiled [`Script`] against a message, its envelope and an
//! environment, and returns the final actions (RFC 5228 §2.10).

pub mod commands;
pub mod matching;
pub mod result;
pub mod tests;

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use crate::compile::{Node, Part, Script, ScriptInner, Template, Value};
use crate::message::Message;
use crate::{Action, Envelope, Environment, Host, RuntimeError};
use result::ResultSet;

/// What a run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The final actions, the implicit keep included when it applies.
    pub actions: Vec<Action>,
    /// The message after RFC 5293 editheader changes, when there were any.
    pub edited: Option<Vec<u8>>,
    /// Why the run stopped early; the actions are then the implicit keep alone
    /// (RFC 5228 §2.10.6).
    pub errors: Vec<RuntimeError>,
}

/// Runs `script`.
pub fn evaluate(
    script: &Script,
    message: &[u8],
    envelope: &Envelope,
    env: &Environment,
    host: &mut dyn Host,
) -> Outcome {
    let mut run = Run::new(
        &script.inner,
        Message::parse(message),
        envelope.clone(),
        env,
        host,
    );
    run.execute_script(&script.inner);
    run.outcome()
}

/// How a block ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// RFC 5228 §3.3 stop: the whole run ends.
    Stop,
    /// RFC 6609 §3.3 return: the current script ends.
    Return,
    /// A runtime error ended the run.
    Error,
    /// The test suite's `test_fail` ended the current test.
    TestFail,
    /// RFC 5703 §3.2 break: ends the named (or innermost) foreverypart loop.
    Break,
}

/// A body test's reading of the message: `:raw`, and the `:content` types.
pub(crate) type BodyChoice = (bool, Option<Vec<String>>);

/// One run's state.
pub struct Run<'a> {
    pub(crate) options: crate::CompileOptions,
    pub message: Message,
    pub envelope: Envelope,
    pub env: &'a Environment,
    pub host: &'a mut dyn Host,
    /// The current script's extensions.
    pub(crate) extensions: BTreeSet<String>,
    /// RFC 5229 variables of the current script.
    pub variables: HashMap<String, String>,
    /// RFC 6609 §3.4 global variables, shared by all scripts of the run.
    pub globals: HashMap<String, String>,
    /// Names the current script declared `global`.
    pub(crate) global_names: BTreeSet<String>,
    /// RFC 5229 §3.2 match variables.
    pub matches: Vec<String>,
    /// RFC 5232 §3 the internal flags variable.
    pub flags: Vec<String>,
    pub result: ResultSet,
    pub steps: u64,
    pub errors: Vec<RuntimeError>,
    pub(crate) include_depth: usize,
    pub(crate) includes: usize,
    pub(crate) included_once: BTreeSet<(String, bool)>,
    /// RFC 5703: the message's MIME parts (read when first needed), the part the
    /// innermost foreverypart is at, and the loop a `break` names.
    pub(crate) mime_parts: Option<std::rc::Rc<Vec<crate::ext::mime::MimePart>>>,
    /// RFC 5173 body values already read in this run, by `:raw` and `:content` types:
    /// a script with several body tests parses the message once. Cleared with
    /// `mime_parts` whenever the message changes.
    pub(crate) body_values: HashMap<BodyChoice, std::rc::Rc<Vec<String>>>,
    pub(crate) current_part: Option<usize>,
    pub(crate) break_name: Option<String>,
    pub(crate) loop_depth: usize,
    /// The script's compiled `:regex` keys, shared by its runs.
    pub(crate) regexes: std::sync::Arc<matching::RegexCache>,
    #[cfg(feature = "testsuite")]
    pub(crate) suite: Option<Box<crate::testsuite::SuiteState>>,
}

impl<'a> Run<'a> {
    pub(crate) fn new(
        script: &ScriptInner,
        message: Message,
        envelope: Envelope,
        env: &'a Environment,
        host: &'a mut dyn Host,
    ) -> Run<'a> {
        Run {
            options: script.options.clone(),
            message,
            envelope,
            env,
            host,
            extensions: script.extensions.clone(),
            variables: HashMap::new(),
            globals: HashMap::new(),
            global_names: BTreeSet::new(),
            matches: Vec::new(),
            flags: Vec::new(),
            result: ResultSet::new(),
            steps: 0,
            errors: Vec::new(),
            include_depth: 0,
            includes: 0,
            included_once: BTreeSet::new(),
            mime_parts: None,
            body_values: HashMap::new(),
            current_part: None,
            break_name: None,
            loop_depth: 0,
            regexes: script.regexes.clone(),
            #[cfg(feature = "testsuite")]
            suite: None,
        }
    }

    pub(crate) fn has(&self, extension: &str) -> bool {
        self.extensions.contains(extension)
    }

    /// Runs the top-level commands of a script.
    pub(crate) fn execute_script(&mut self, script: &ScriptInner) -> Flow {
        self.block(&script.commands)
    }

    /// The outcome: on an error only the implicit keep (RFC 5228 §2.10.6).
    pub fn outcome(self) -> Outcome {
        let edited = self.message.edited.then(|| self.message.to_bytes());
        if !self.errors.is_empty() {
            return Outcome {
                actions: vec![Action::Keep {
                    flags: Vec::new(),
                    implicit: true,
                }],
                edited: None,
                errors: self.errors,
            };
        }
        Outcome {
            actions: self.result.finish(&self.flags),
            edited,
            errors: self.errors,
        }
    }

    /// Records a runtime error; the run then ends.
    pub fn fail(&mut self, line: u32, message: impl Into<String>) -> Flow {
        self.errors.push(RuntimeError {
            line,
            message: message.into(),
        });
        Flow::Error
    }

    /// Counts one step; `false` when the run is over its limit.
    pub fn step(&mut self) -> bool {
        self.steps += 1;
        self.steps <= self.options.limits.max_steps
    }

    /// Runs a block, handling `if`/`elsif`/`else` chains (RFC 5228 §3.1).
    pub fn block(&mut self, commands: &[Node]) -> Flow {
        let mut chain_taken = true;
        for command in commands {
            if !self.step() || self.steps > self.options.limits.max_steps {
                let limit = self.options.limits.max_steps;
                return self.fail(
                    command.line,
                    format!("script ran more than {limit} steps and was stopped"),
                );
            }
            let flow = match command.name.as_str() {
                "if" => {
                    let outcome = self.test_of(command);
                    match outcome {
                        Err(flow) => return flow,
                        Ok(true) => {
                            chain_taken = true;
                            self.block(&command.block)
                        }
                        Ok(false) => {
                            chain_taken = false;
                            Flow::Continue
                        }
                    }
                }
                "elsif" => {
                    if chain_taken {
                        Flow::Continue
                    } else {
                        match self.test_of(command) {
                            Err(flow) => return flow,
                            Ok(true) => {
                                chain_taken = true;
                                self.block(&command.block)
                            }
                            Ok(false) => Flow::Continue,
                        }
                    }
                }
                "else" => {
                    if chain_taken {
                        Flow::Continue
                    } else {
                        chain_taken = true;
                        self.block(&command.block)
                    }
                }
                _ => self.command(command),
            };
            if flow != Flow::Continue {
                return flow;
            }
        }
        Flow::Continue
    }

    fn test_of(&mut self, command: &Node) -> Result<bool, Flow> {
        match command.tests.first() {
            Some(test) => self.test(test),
            None => Ok(false),
        }
    }

    /// The value of a variable (RFC 5229 §3; unknown variables are empty).
    pub fn variable(&self, name: &str) -> &str {
        if let Some(global) = name.strip_prefix("global.") {
            return self.globals.get(global).map_or("", String::as_str);
        }
        if self.global_names.contains(name) {
            return self.globals.get(name).map_or("", String::as_str);
        }
        #[cfg(feature = "testsuite")]
        if let Some(value) = crate::testsuite::variable(self, name) {
            return value;
        }
        self.variables.get(name).map_or("", String::as_str)
    }

    /// Sets a variable, truncated to the size limit (RFC 5229 §3).
    pub fn set_variable(&mut self, name: &str, mut value: String) {
        let max = self.options.limits.max_variable_size;
        if value.len() > max {
            let mut cut = max;
            while !value.is_char_boundary(cut) {
                cut -= 1;
            }
            value.truncate(cut);
        }
        let name = name.to_ascii_lowercase();
        if let Some(global) = name.strip_prefix("global.") {
            self.globals.insert(global.to_string(), value);
        } else if self.global_names.contains(&name) {
            self.globals.insert(name, value);
        } else {
            self.variables.insert(name, value);
        }
    }

    /// A string argument with variables substituted.
    pub fn expand<'t>(&self, template: &'t Template) -> Cow<'t, str> {
        let Some(parts) = &template.parts else {
            return Cow::Borrowed(&template.raw);
        };
        let mut out = String::new();
        for part in parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Variable(name) => out.push_str(self.variable(name)),
                Part::Match(n) => out.push_str(self.matches.get(*n).map_or("", String::as_str)),
            }
        }
        Cow::Owned(out)
    }

    /// A single-string argument, expanded.
    pub fn string(&self, value: Option<&Value>) -> String {
        match value {
            Some(Value::Strings(list)) => list
                .first()
                .map(|t| self.expand(t).into_owned())
                .unwrap_or_default(),
            Some(Value::Number(n)) => n.to_string(),
            None => String::new(),
        }
    }

    /// A string-list argument, expanded.
    pub fn strings(&self, value: Option<&Value>) -> Vec<String> {
        match value {
            Some(Value::Strings(list)) => {
                list.iter().map(|t| self.expand(t).into_owned()).collect()
            }
            Some(Value::Number(n)) => vec![n.to_string()],
            None => Vec::new(),
        }
    }

    /// A number argument.
    pub fn number(value: Option<&Value>) -> Option<u64> {
        match value {
            Some(Value::Number(n)) => Some(*n),
            _ => None,
        }
    }
}
