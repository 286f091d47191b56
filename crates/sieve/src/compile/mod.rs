//! The checker and compiler: RFC 5228 §3.2 `require`, every command's and test's
//! arguments against [`crate::registry`], then a [`Script`] the evaluator runs without
//! parsing again.

pub mod template;

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::parser::ast::{Argument, CommandNode, Located, TestNode};
use crate::registry::{self, Block, Kind, Spec, TagSpec, Tests};
use crate::{CompileError, Limits};
pub use template::{Part, Template};

/// How to compile.
#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    pub limits: Limits,
    /// Allow Pigeonhole's vnd.dovecot.pipe, filter and execute.
    pub extprograms: bool,
    /// The script is an administrator's global script.
    pub global: bool,
    /// Pigeonhole's vnd.dovecot.testsuite; only the test-suite runner sets it, and only
    /// builds with the `testsuite` feature honour it.
    #[doc(hidden)]
    pub testsuite: bool,
}

/// A checked argument value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Number(u64),
    Strings(Vec<Template>),
}

/// A checked command or test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    pub tags: Vec<(String, Option<Value>)>,
    pub positional: Vec<Value>,
    pub tests: Vec<Node>,
    pub block: Vec<Node>,
    pub line: u32,
}

impl Node {
    /// Whether tag `name` was given.
    pub fn has_tag(&self, name: &str) -> bool {
        self.tags.iter().any(|(t, _)| t == name)
    }

    /// The value after tag `name`.
    pub fn tag_value(&self, name: &str) -> Option<&Value> {
        self.tags
            .iter()
            .find(|(t, _)| t == name)
            .and_then(|(_, v)| v.as_ref())
    }
}

/// A compiled script: cheap to clone and shared between threads.
#[derive(Debug, Clone)]
pub struct Script {
    pub(crate) inner: Arc<ScriptInner>,
}

#[derive(Debug)]
pub(crate) struct ScriptInner {
    pub commands: Vec<Node>,
    pub extensions: BTreeSet<String>,
    pub options: CompileOptions,
    /// `:regex` keys compiled once for every run of the script.
    pub regexes: Arc<crate::eval::matching::RegexCache>,
}

impl Script {
    /// The extensions the script requires.
    pub fn extensions(&self) -> impl Iterator<Item = &str> {
        self.inner.extensions.iter().map(String::as_str)
    }
}

/// Parses, checks and compiles `source`.
pub fn compile(source: &str, options: &CompileOptions) -> Result<Script, CompileError> {
    let commands = crate::parser::parse(source, &options.limits)?;
    let mut checker = Checker {
        options,
        extensions: BTreeSet::new(),
        loops: 0,
    };
    let commands = checker.block(&commands, true)?;
    Ok(Script {
        inner: Arc::new(ScriptInner {
            commands,
            extensions: checker.extensions,
            options: options.clone(),
            regexes: Arc::default(),
        }),
    })
}

struct Checker<'a> {
    options: &'a CompileOptions,
    extensions: BTreeSet<String>,
    /// foreverypart loops around the command being checked.
    loops: usize,
}

fn error(line: u32, column: u32, message: impl Into<String>) -> CompileError {
    CompileError {
        line,
        column,
        message: message.into(),
    }
}

impl Checker<'_> {
    fn has(&self, extension: &str) -> bool {
        self.extensions.contains(extension)
    }

    fn testsuite(&self) -> bool {
        cfg!(feature = "testsuite") && self.options.testsuite
    }

    fn block(&mut self, commands: &[CommandNode], top: bool) -> Result<Vec<Node>, CompileError> {
        let mut out: Vec<Node> = Vec::new();
        let mut requires_allowed = top;
        let mut previous: Option<&str> = None;
        for command in commands {
            if command.name == "require" {
                if !requires_allowed {
                    return Err(error(
                        command.line,
                        command.column,
                        "require must come before any other command (RFC 5228 §3.2)",
                    ));
                }
                self.require(command)?;
                previous = Some("require");
                continue;
            }
            requires_allowed = false;
            if matches!(command.name.as_str(), "elsif" | "else")
                && !matches!(previous, Some("if" | "elsif"))
            {
                return Err(error(
                    command.line,
                    command.column,
                    format!("'{}' without a preceding 'if'", command.name),
                ));
            }
            previous = Some(command.name.as_str());
            if let Some(node) = self.command(command)? {
                out.push(node);
            } else {
                previous = Some("if");
                out.push(Node {
                    name: "if".into(),
                    tags: Vec::new(),
                    positional: Vec::new(),
                    tests: vec![Node {
                        name: "false".into(),
                        tags: Vec::new(),
                        positional: Vec::new(),
                        tests: Vec::new(),
                        block: Vec::new(),
                        line: command.line,
                    }],
                    block: Vec::new(),
                    line: command.line,
                });
            }
        }
        Ok(out)
    }

    /// RFC 5228 §3.2: each named extension must be known, else the script is refused.
    fn require(&mut self, command: &CommandNode) -> Result<(), CompileError> {
        let [argument] = command.arguments.as_slice() else {
            return Err(error(
                command.line,
                command.column,
                "require takes one string list of extension names",
            ));
        };
        let Argument::Strings { values, .. } = &argument.value else {
            return Err(error(
                argument.line,
                argument.column,
                "require takes a string list of extension names",
            ));
        };
        if !command.tests.is_empty() || command.block.is_some() {
            return Err(error(
                command.line,
                command.column,
                "require takes no tests",
            ));
        }
        for name in values {
            if !registry::is_known_extension(name, self.options.extprograms, self.testsuite()) {
                return Err(error(
                    argument.line,
                    argument.column,
                    format!("unsupported extension '{name}'"),
                ));
            }
            self.extensions.insert(name.clone());
            // RFC 6131 §2: vacation-seconds implies vacation; RFC 5235 §3.2:
            // spamtestplus implies spamtest.
            match name.as_str() {
                "vacation-seconds" => {
                    self.extensions.insert("vacation".into());
                }
                "spamtestplus" => {
                    self.extensions.insert("spamtest".into());
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn spec_for_command(&self, name: &str) -> Option<&'static Spec> {
        #[cfg(feature = "testsuite")]
        if self.testsuite()
            && let Some(spec) = crate::testsuite::command_spec(name)
        {
            return Some(spec);
        }
        registry::command_spec(name)
    }

    fn spec_for_test(&self, name: &str) -> Option<&'static Spec> {
        #[cfg(feature = "testsuite")]
        if self.testsuite()
            && let Some(spec) = crate::testsuite::test_spec(name)
        {
            return Some(spec);
        }
        registry::test_spec(name)
    }

    /// Returns `None` for an `if` whose `ihave` names an extension we lack: RFC 5463 §4,
    /// its block is not checked and never runs.
    fn command(&mut self, command: &CommandNode) -> Result<Option<Node>, CompileError> {
        let Some(spec) = self.spec_for_command(&command.name) else {
            return Err(error(
                command.line,
                command.column,
                format!("unknown command '{}'", command.name),
            ));
        };
        self.extension_required(spec, command.line, command.column, "command")?;
        let (tags, positional) =
            self.arguments(spec, &command.arguments, command.line, command.column)?;
        let tests = self.tests(spec, &command.tests, command.line, command.column)?;
        let saved = self.extensions.clone();
        if let [test] = tests.as_slice()
            && test.name == "ihave"
        {
            let names = strings_of(test.positional.first());
            if names
                .iter()
                .any(|n| !registry::available_through_ihave(n, self.options.extprograms))
            {
                return Ok(None);
            }
            self.extensions.extend(names);
        }
        let block = match (spec.block, &command.block) {
            (Block::None, None) => Vec::new(),
            (Block::None, Some(_)) => {
                return Err(error(
                    command.line,
                    command.column,
                    format!("command '{}' takes no block", command.name),
                ));
            }
            (Block::Required, Some(block)) => {
                let is_loop = command.name == "foreverypart";
                if is_loop && self.loops >= crate::ext::mime::MAX_LOOP_NESTING {
                    return Err(error(
                        command.line,
                        command.column,
                        format!(
                            "foreverypart nested more than {} deep",
                            crate::ext::mime::MAX_LOOP_NESTING
                        ),
                    ));
                }
                self.loops += usize::from(is_loop);
                let block = self.block(block, false);
                self.loops -= usize::from(is_loop);
                block?
            }
            (Block::Required, None) => {
                return Err(error(
                    command.line,
                    command.column,
                    format!("command '{}' needs a block", command.name),
                ));
            }
        };
        self.extensions = saved;
        let node = Node {
            name: command.name.clone(),
            tags,
            positional,
            tests,
            block,
            line: command.line,
        };
        self.semantics(&node, command.column)?;
        Ok(Some(node))
    }

    fn extension_required(
        &self,
        spec: &Spec,
        line: u32,
        column: u32,
        what: &str,
    ) -> Result<(), CompileError> {
        if let Some(extension) = spec.extension {
            let ok = self.has(extension)
                || (spec.name == "global" && self.has("include"))
                || (extension == "spamtest" && self.has("spamtestplus"));
            if !ok {
                return Err(error(
                    line,
                    column,
                    format!(
                        "{what} '{}' needs require \"{extension}\" (RFC 5228 §3.2)",
                        spec.name
                    ),
                ));
            }
        }
        Ok(())
    }

    fn tests(
        &mut self,
        spec: &Spec,
        tests: &[TestNode],
        line: u32,
        column: u32,
    ) -> Result<Vec<Node>, CompileError> {
        let ok = match spec.tests {
            Tests::None => tests.is_empty(),
            Tests::One => tests.len() == 1,
            Tests::List => !tests.is_empty(),
        };
        if !ok {
            let wanted = match spec.tests {
                Tests::None => "no test",
                Tests::One => "exactly one test",
                Tests::List => "a list of tests",
            };
            return Err(error(
                line,
                column,
                format!("'{}' takes {wanted}", spec.name),
            ));
        }
        tests.iter().map(|t| self.test(t)).collect()
    }

    fn test(&mut self, test: &TestNode) -> Result<Node, CompileError> {
        let Some(spec) = self.spec_for_test(&test.name) else {
            return Err(error(
                test.line,
                test.column,
                format!("unknown test '{}'", test.name),
            ));
        };
        self.extension_required(spec, test.line, test.column, "test")?;
        let (tags, positional) = self.arguments(spec, &test.arguments, test.line, test.column)?;
        let tests = self.tests(spec, &test.tests, test.line, test.column)?;
        let node = Node {
            name: test.name.clone(),
            tags,
            positional,
            tests,
            block: Vec::new(),
            line: test.line,
        };
        self.semantics(&node, test.column)?;
        Ok(node)
    }

    fn template(&self, raw: &str, line: u32, column: u32) -> Result<Template, CompileError> {
        let text = if self.has("encoded-character") {
            template::decode_encoded_characters(raw).map_err(|m| error(line, column, m))?
        } else {
            raw.to_string()
        };
        Ok(if self.has("variables") {
            Template::with_variables(text)
        } else {
            Template::literal(text)
        })
    }

    fn value(
        &self,
        kind: Kind,
        argument: &Located<Argument>,
        what: &str,
    ) -> Result<Value, CompileError> {
        let (line, column) = (argument.line, argument.column);
        match (&argument.value, kind) {
            (Argument::Number(n), Kind::Number) => Ok(Value::Number(*n)),
            (Argument::Strings { values, list }, Kind::String | Kind::StringList) => {
                if kind == Kind::String && (*list && values.len() != 1) {
                    return Err(error(
                        line,
                        column,
                        format!("{what} takes a string, not a list"),
                    ));
                }
                let templates = values
                    .iter()
                    .map(|v| self.template(v, line, column))
                    .collect::<Result<_, _>>()?;
                Ok(Value::Strings(templates))
            }
            (found, _) => {
                let found = match found {
                    Argument::Tag(t) => format!("tag ':{t}'"),
                    Argument::Number(_) => "a number".into(),
                    Argument::Strings { .. } => "a string".into(),
                };
                let wanted = match kind {
                    Kind::Number => "a number",
                    Kind::String => "a string",
                    Kind::StringList => "a string list",
                };
                Err(error(
                    line,
                    column,
                    format!("{what} takes {wanted}, found {found}"),
                ))
            }
        }
    }

    #[allow(clippy::type_complexity)]
    fn arguments(
        &self,
        spec: &Spec,
        arguments: &[Located<Argument>],
        line: u32,
        column: u32,
    ) -> Result<(Vec<(String, Option<Value>)>, Vec<Value>), CompileError> {
        let mut tags: Vec<(String, Option<Value>)> = Vec::new();
        let mut groups: Vec<&str> = Vec::new();
        let mut positional_args = Vec::new();
        let mut iter = arguments.iter();
        while let Some(argument) = iter.next() {
            let Argument::Tag(name) = &argument.value else {
                positional_args.push(argument);
                continue;
            };
            if !positional_args.is_empty() {
                return Err(error(
                    argument.line,
                    argument.column,
                    format!(
                        "tag ':{name}' after a positional argument of '{}'",
                        spec.name
                    ),
                ));
            }
            let found: Option<&TagSpec> = spec
                .tags
                .iter()
                .flat_map(|group| group.iter())
                .find(|t| t.name == name.as_str());
            let Some(tag) = found else {
                return Err(error(
                    argument.line,
                    argument.column,
                    format!("unknown tag ':{name}' for '{}'", spec.name),
                ));
            };
            if let Some(extension) = tag.extension
                && !self.has(extension)
                && !(extension == "copy" && spec.name == "pipe")
            {
                return Err(error(
                    argument.line,
                    argument.column,
                    format!("tag ':{name}' needs require \"{extension}\""),
                ));
            }
            if groups.contains(&tag.group) {
                return Err(error(
                    argument.line,
                    argument.column,
                    format!(
                        "tag ':{name}' conflicts with an earlier tag of '{}'",
                        spec.name
                    ),
                ));
            }
            groups.push(tag.group);
            let value = match tag.value {
                None => None,
                Some(kind) => {
                    let Some(next) = iter.next() else {
                        return Err(error(
                            argument.line,
                            argument.column,
                            format!("tag ':{name}' needs a value"),
                        ));
                    };
                    Some(self.value(kind, next, &format!("tag ':{name}'"))?)
                }
            };
            tags.push((name.clone(), value));
        }
        let wanted = spec.positional.len();
        let given = positional_args.len();
        let optional = spec.optional_leading + spec.optional_trailing;
        if given > wanted || given + optional < wanted {
            return Err(error(
                line,
                column,
                format!(
                    "'{}' takes {} positional argument(s), {} given",
                    spec.name, wanted, given
                ),
            ));
        }
        let skip = (wanted - given).min(spec.optional_leading);
        let mut positional = Vec::new();
        for (index, argument) in positional_args.into_iter().enumerate() {
            let kind = spec
                .positional
                .get(index + skip)
                .copied()
                .unwrap_or(Kind::StringList);
            positional.push(self.value(
                kind,
                argument,
                &format!("argument {} of '{}'", index + skip + 1, spec.name),
            )?);
        }
        if spec.name == "size" && tags.is_empty() {
            return Err(error(line, column, "size needs :over or :under"));
        }
        Ok((tags, positional))
    }

    /// Checks that need the argument values: comparators (RFC 5228 §2.7.3), relational
    /// operators (RFC 5231 §4), variable names (RFC 5229 §4), regexes.
    fn semantics(&self, node: &Node, column: u32) -> Result<(), CompileError> {
        let line = node.line;
        if let Some(Value::Strings(names)) = node.tag_value("comparator") {
            let name = names.first().map(|t| t.raw.as_str()).unwrap_or("");
            match registry::COMPARATORS.iter().find(|(c, _)| *c == name) {
                None => {
                    return Err(error(line, column, format!("unknown comparator '{name}'")));
                }
                Some((_, Some(capability))) if !self.has(capability) => {
                    return Err(error(
                        line,
                        column,
                        format!("comparator '{name}' needs require \"{capability}\""),
                    ));
                }
                Some(_) => {}
            }
            if name == "i;ascii-numeric"
                && (node.has_tag("contains") || node.has_tag("matches") || node.has_tag("regex"))
            {
                return Err(error(
                    line,
                    column,
                    "comparator i;ascii-numeric supports only :is, :count and :value (RFC 4790 §9.1)",
                ));
            }
        }
        for relational in ["count", "value"] {
            if let Some(Value::Strings(op)) = node.tag_value(relational) {
                let op = op
                    .first()
                    .map(|t| t.raw.to_ascii_lowercase())
                    .unwrap_or_default();
                if !["gt", "ge", "lt", "le", "eq", "ne"].contains(&op.as_str()) {
                    return Err(error(
                        line,
                        column,
                        format!("invalid relational match '{op}' (RFC 5231 §4)"),
                    ));
                }
            }
        }
        if node.has_tag("regex")
            && let Some(Value::Strings(keys)) = node.positional.last()
        {
            for key in keys.iter().filter(|k| k.parts.is_none()) {
                if let Err(e) = crate::eval::matching::build_regex(&key.raw, false) {
                    return Err(error(line, column, format!("invalid regex: {e}")));
                }
            }
        }
        // RFC 5228 §4.2: a redirect address known at compile time is checked then;
        // RFC 5435 §3.1 likewise a notification method.
        if let Some(Value::Strings(values)) = node.positional.first()
            && let Some(literal) = values.first().filter(|t| t.parts.is_none())
        {
            let text = literal.raw.as_str();
            let refused = match node.name.as_str() {
                "redirect" => {
                    let address = crate::address::parse_address_list(text)
                        .first()
                        .map(|m| m.all())
                        .unwrap_or_default();
                    (!crate::eval::commands::is_valid_address(&address))
                        .then(|| format!("redirect to an invalid address '{text}' (RFC 5228 §4.2)"))
                }
                "notify" => (!crate::ext::enotify::valid_method(text))
                    .then(|| format!("invalid notification method '{text}' (RFC 5435 §3.1)")),
                _ => None,
            };
            if let Some(message) = refused {
                return Err(error(line, column, message));
            }
        }
        if node.name == "set"
            && let Some(Value::Strings(name)) = node.positional.first()
        {
            let name = name.first().map(|t| t.raw.as_str()).unwrap_or("");
            let global = self.has("include")
                && name
                    .get(..7)
                    .is_some_and(|p| p.eq_ignore_ascii_case("global."));
            if !template::is_variable_name(name, global) {
                return Err(error(
                    line,
                    column,
                    format!("invalid variable name '{name}' (RFC 5229 §4)"),
                ));
            }
        }
        Ok(())
    }
}

fn strings_of(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Strings(list)) => list.iter().map(|t| t.raw.clone()).collect(),
        _ => Vec::new(),
    }
}
