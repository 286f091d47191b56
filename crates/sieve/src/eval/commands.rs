//! Action and control commands (RFC 5228 §3, §4 and the extensions' commands).

use super::{Flow, Run};
use crate::compile::{Node, Value};
use crate::message::HeaderField;
use crate::{Action, ProgramKind};

/// RFC 5293 §6: header fields a script may not add or delete.
const PROTECTED_HEADERS: &[&str] = &["received", "auto-submitted"];

impl Run<'_> {
    /// Runs one command other than `if`/`elsif`/`else`.
    pub fn command(&mut self, node: &Node) -> Flow {
        #[cfg(feature = "testsuite")]
        if node.name.starts_with("test")
            && let Some(flow) = crate::testsuite::command(self, node)
        {
            return flow;
        }
        match node.name.as_str() {
            "stop" => Flow::Stop,
            "keep" => {
                let flags = self.flags_for(node);
                self.add_action(
                    node,
                    Action::Keep {
                        flags,
                        implicit: false,
                    },
                )
            }
            "discard" => self.add_action(node, Action::Discard),
            "fileinto" => {
                let mailbox = self.string(node.positional.first());
                let flags = self.flags_for(node);
                let special_use = node.tag_value("specialuse").map(|v| self.string(Some(v)));
                self.add_action(
                    node,
                    Action::FileInto {
                        mailbox,
                        flags,
                        copy: node.has_tag("copy"),
                        create: node.has_tag("create"),
                        special_use,
                    },
                )
            }
            "redirect" => {
                let given = self.string(node.positional.first());
                // RFC 5228 §4.2: an address; a display name around it is tolerated.
                let address = crate::address::parse_address_list(&given)
                    .first()
                    .map(|m| m.all())
                    .unwrap_or(given);
                if !is_valid_address(&address) {
                    return self.fail(
                        node.line,
                        format!("redirect to an invalid address '{address}' (RFC 5228 §4.2)"),
                    );
                }
                self.add_action(
                    node,
                    Action::Redirect {
                        address,
                        copy: node.has_tag("copy"),
                    },
                )
            }
            "reject" | "ereject" => {
                let reason = self.string(node.positional.first());
                self.add_action(
                    node,
                    Action::Reject {
                        reason,
                        extended: node.name == "ereject",
                    },
                )
            }
            "set" => {
                self.set(node);
                Flow::Continue
            }
            "setflag" | "addflag" | "removeflag" => {
                self.flag_command(node);
                Flow::Continue
            }
            "vacation" => self.vacation(node),
            "notify" => self.notify(node),
            "include" => self.include(node),
            "return" => Flow::Return,
            "global" => {
                for name in self.strings(node.positional.first()) {
                    self.global_names.insert(name.to_ascii_lowercase());
                }
                Flow::Continue
            }
            "addheader" => self.addheader(node),
            "deleteheader" => self.deleteheader(node),
            "foreverypart" => self.foreverypart(node),
            "break" => {
                self.break_name = node.tag_value("name").map(|v| self.string(Some(v)));
                Flow::Break
            }
            "extracttext" => self.extracttext(node),
            "error" => {
                let message = self.string(node.positional.first());
                self.fail(node.line, format!("script error: {message}"))
            }
            "pipe" => {
                let program = self.string(node.positional.first());
                let args = self.strings(node.positional.get(1));
                self.add_action(
                    node,
                    Action::Pipe {
                        program,
                        args,
                        copy: node.has_tag("copy"),
                    },
                )
            }
            "filter" | "execute" => match self.program(node) {
                Ok(_) => Flow::Continue,
                Err(flow) => flow,
            },
            other => self.fail(node.line, format!("command '{other}' cannot run here")),
        }
    }

    fn add_action(&mut self, node: &Node, action: Action) -> Flow {
        let limits = self.options.limits.clone();
        #[cfg(feature = "testsuite")]
        crate::testsuite::snapshot(self, &action);
        match self.result.add(action, &limits) {
            Ok(()) => Flow::Continue,
            Err(message) => self.fail(node.line, message),
        }
    }

    /// RFC 5232 §5: `:flags` when given, else the internal variable.
    fn flags_for(&self, node: &Node) -> Vec<String> {
        match node.tag_value("flags") {
            Some(value) => normalize_flags(&self.strings(Some(value))),
            None if self.has("imap4flags") => self.flags.clone(),
            None => Vec::new(),
        }
    }

    /// RFC 5229 §4 set, with the modifiers applied in precedence order (§4.1).
    fn set(&mut self, node: &Node) {
        let name = self.string(node.positional.first());
        let value = self.string(node.positional.get(1));
        let value = self.apply_modifiers(node, value);
        self.set_variable(&name, value);
    }

    /// RFC 5229 §4.1 modifiers in precedence order (also RFC 5703 §7 extracttext's).
    pub(crate) fn apply_modifiers(&self, node: &Node, mut value: String) -> String {
        if node.has_tag("lower") {
            value = value.to_lowercase();
        }
        if node.has_tag("upper") {
            value = value.to_uppercase();
        }
        if node.has_tag("lowerfirst") || node.has_tag("upperfirst") {
            let mut chars = value.chars();
            if let Some(first) = chars.next() {
                let first: String = if node.has_tag("lowerfirst") {
                    first.to_lowercase().collect()
                } else {
                    first.to_uppercase().collect()
                };
                value = first + chars.as_str();
            }
        }
        if node.has_tag("quotewildcard") {
            value = value
                .chars()
                .flat_map(|c| {
                    let escape = matches!(c, '*' | '?' | '\\');
                    escape.then_some('\\').into_iter().chain(std::iter::once(c))
                })
                .collect();
        }
        if node.has_tag("quoteregex") {
            value = regex::escape(&value);
        }
        if node.has_tag("encodeurl") {
            value = encode_url(&value);
        }
        let max = self.options.limits.max_variable_size;
        if value.len() > max && (node.has_tag("quotewildcard") || node.has_tag("encodeurl")) {
            // Truncation must not leave half an escape: `\` or `%XX` (RFC 5229 §3).
            let mut cut = max;
            while !value.is_char_boundary(cut) {
                cut -= 1;
            }
            value.truncate(cut);
            if node.has_tag("quotewildcard") {
                let trailing = value.chars().rev().take_while(|c| *c == '\\').count();
                if trailing % 2 == 1 {
                    value.pop();
                }
            }
            if node.has_tag("encodeurl") {
                if value.ends_with('%') {
                    value.pop();
                } else if value
                    .get(..value.len().saturating_sub(2))
                    .is_some_and(|head| head.ends_with('%'))
                {
                    value.truncate(value.len() - 2);
                }
            }
        }
        if node.has_tag("length") {
            value = value.chars().count().to_string();
        }
        value
    }

    /// RFC 5232 §3 setflag/addflag/removeflag, on the internal variable or a named one.
    fn flag_command(&mut self, node: &Node) {
        let (variable, list) = if node.positional.len() == 2 {
            (
                Some(self.string(node.positional.first())),
                node.positional.get(1),
            )
        } else {
            (None, node.positional.first())
        };
        let given = normalize_flags(&self.strings(list));
        let current = match &variable {
            Some(name) => normalize_flags(&[self.variable(&name.to_ascii_lowercase()).to_string()]),
            None => self.flags.clone(),
        };
        let updated = match node.name.as_str() {
            "setflag" => given,
            "addflag" => normalize_flags(&[current, given].concat()),
            _ => current
                .into_iter()
                .filter(|f| !given.iter().any(|g| g.eq_ignore_ascii_case(f)))
                .collect(),
        };
        match variable {
            Some(name) => self.set_variable(&name, updated.join(" ")),
            None => self.flags = updated,
        }
    }

    /// RFC 5230 §4 vacation (RFC 6131 `:seconds`): the action; whether to reply is the
    /// delivery agent's (RFC 5230 §4.5, §4.6).
    fn vacation(&mut self, node: &Node) -> Flow {
        let reason = self.string(node.positional.first());
        let subject = node.tag_value("subject").map(|v| self.string(Some(v)));
        let from = node.tag_value("from").map(|v| self.string(Some(v)));
        let addresses = self.strings(node.tag_value("addresses"));
        let mime = node.has_tag("mime");
        // RFC 5230 §4.1: :days defaults to 7 and is at least 1; RFC 6131 §2 :seconds.
        let seconds = if let Some(days) = Self::number(node.tag_value("days")) {
            days.max(1).saturating_mul(86_400)
        } else {
            Self::number(node.tag_value("seconds")).unwrap_or(7 * 86_400)
        };
        if let Some(from) = &from
            && !is_valid_address(
                crate::address::parse_address_list(from)
                    .first()
                    .map(|m| m.all())
                    .as_deref()
                    .unwrap_or(""),
            )
        {
            return self.fail(
                node.line,
                format!("vacation :from is not an address: '{from}'"),
            );
        }
        // RFC 5230 §4.2: without :handle, the arguments make the handle.
        let handle = match node.tag_value("handle") {
            Some(v) => self.string(Some(v)),
            None => format!(
                "{:016x}",
                fnv1a(&[
                    reason.as_bytes(),
                    subject.as_deref().unwrap_or("").as_bytes(),
                    from.as_deref().unwrap_or("").as_bytes(),
                    if mime { b"1" } else { b"0" },
                ])
            ),
        };
        let action = Action::Vacation {
            to: self.envelope.from.clone(),
            from,
            subject,
            reason,
            mime,
            handle,
            seconds,
            addresses,
        };
        self.add_action(node, action)
    }

    /// RFC 5435 §3 notify.
    fn notify(&mut self, node: &Node) -> Flow {
        let method = self.string(node.positional.first());
        if !crate::ext::enotify::valid_method(&method) {
            return self.fail(node.line, format!("invalid notification method '{method}'"));
        }
        let importance = match node.tag_value("importance") {
            Some(v) => match self.string(Some(v)).as_str() {
                "1" => Some(1),
                "2" => Some(2),
                "3" => Some(3),
                other => {
                    return self.fail(node.line, format!("invalid :importance '{other}'"));
                }
            },
            None => None,
        };
        let action = Action::Notify {
            method,
            from: node.tag_value("from").map(|v| self.string(Some(v))),
            importance,
            options: self.strings(node.tag_value("options")),
            message: node.tag_value("message").map(|v| self.string(Some(v))),
        };
        self.add_action(node, action)
    }

    /// RFC 6609 §3.2 include: compiles and runs another script with its own variables.
    fn include(&mut self, node: &Node) -> Flow {
        let name = self.string(node.positional.first());
        let global = node.has_tag("global");
        if node.has_tag("once") && self.included_once.contains(&(name.clone(), global)) {
            return Flow::Continue;
        }
        let limits = self.options.limits.clone();
        if self.include_depth >= limits.max_include_depth {
            return self.fail(
                node.line,
                format!("include nested more than {} deep", limits.max_include_depth),
            );
        }
        if self.includes >= limits.max_includes {
            return self.fail(
                node.line,
                format!("more than {} includes", limits.max_includes),
            );
        }
        let Some(source) = self.host.include_source(&name, global) else {
            if node.has_tag("optional") {
                return Flow::Continue;
            }
            return self.fail(node.line, format!("included script '{name}' not found"));
        };
        let mut options = self.options.clone();
        options.global = global;
        let script = match crate::compile(&source, &options) {
            Ok(script) => script,
            Err(e) => {
                return self.fail(node.line, format!("included script '{name}': {e}"));
            }
        };
        self.includes += 1;
        // RFC 6609 §3.2: :once skips a script included before, with or without :once.
        self.included_once.insert((name, global));
        let saved_variables = std::mem::take(&mut self.variables);
        let saved_globals = std::mem::take(&mut self.global_names);
        let saved_extensions =
            std::mem::replace(&mut self.extensions, script.inner.extensions.clone());
        self.include_depth += 1;
        let flow = self.execute_script(&script.inner);
        self.include_depth -= 1;
        self.variables = saved_variables;
        self.global_names = saved_globals;
        self.extensions = saved_extensions;
        match flow {
            Flow::Return | Flow::Continue => Flow::Continue,
            other => other,
        }
    }

    /// RFC 5293 §4 addheader.
    fn addheader(&mut self, node: &Node) -> Flow {
        let name = self.string(node.positional.first());
        let value = self.string(node.positional.get(1));
        if !is_field_name(&name) {
            return self.fail(node.line, format!("addheader: invalid field name '{name}'"));
        }
        if PROTECTED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return Flow::Continue;
        }
        let field = HeaderField::new(name, format!(" {}", fold_value(&value)));
        if node.has_tag("last") {
            self.message.headers.push(field);
        } else {
            self.message.headers.insert(0, field);
        }
        self.message.edited = true;
        self.mime_parts = None;
        self.body_values.clear();
        Flow::Continue
    }

    /// RFC 5293 §5 deleteheader.
    fn deleteheader(&mut self, node: &Node) -> Flow {
        let name = self.string(node.positional.first());
        if !is_field_name(&name) {
            return self.fail(
                node.line,
                format!("deleteheader: invalid field name '{name}'"),
            );
        }
        if PROTECTED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return Flow::Continue;
        }
        let patterns = node.positional.get(1).map(|v| self.strings(Some(v)));
        let positions: Vec<usize> = self
            .message
            .headers
            .iter()
            .enumerate()
            .filter(|(_, h)| h.name.eq_ignore_ascii_case(&name))
            .map(|(i, _)| i)
            .collect();
        let selected: Vec<usize> = match Self::number(node.tag_value("index")) {
            Some(index) => {
                let index = usize::try_from(index).unwrap_or(usize::MAX);
                let pick = if node.has_tag("last") {
                    positions
                        .len()
                        .checked_sub(index)
                        .and_then(|i| positions.get(i))
                } else {
                    index.checked_sub(1).and_then(|i| positions.get(i))
                };
                pick.copied().into_iter().collect()
            }
            None => positions,
        };
        let mut delete = Vec::new();
        for position in selected {
            let Some(field) = self.message.headers.get(position) else {
                continue;
            };
            let keep_matching = match &patterns {
                None => true,
                Some(keys) => {
                    let value = field.decoded();
                    match self.match_values(node, &[value], keys) {
                        Ok(matched) => matched,
                        Err(flow) => return flow,
                    }
                }
            };
            if keep_matching {
                delete.push(position);
            }
        }
        for position in delete.into_iter().rev() {
            if position < self.message.headers.len() {
                self.message.headers.remove(position);
                self.message.edited = true;
                self.mime_parts = None;
                self.body_values.clear();
            }
        }
        Flow::Continue
    }

    /// Pigeonhole's vnd.dovecot.filter / execute: runs a program through the host;
    /// `Ok(success)`.
    pub fn program(&mut self, node: &Node) -> Result<bool, Flow> {
        let kind = if node.name == "filter" {
            ProgramKind::Filter
        } else {
            ProgramKind::Execute
        };
        let program = self.string(node.positional.first());
        let args = self.strings(node.positional.get(1));
        let input: Option<Vec<u8>> = match (kind, node.tag_value("input")) {
            (ProgramKind::Filter, _) => Some(self.message.to_bytes()),
            (_, Some(v)) => Some(self.string(Some(v)).into_bytes()),
            _ if node.has_tag("pipe") => Some(self.message.to_bytes()),
            _ => None,
        };
        let Some((success, output)) =
            self.host
                .run_program(kind, &program, &args, input.as_deref())
        else {
            return Ok(false);
        };
        if success {
            match kind {
                ProgramKind::Filter => {
                    let size = self.message.size;
                    self.message = crate::message::Message::parse(&output);
                    self.message.size = size;
                    self.message.edited = true;
                    self.mime_parts = None;
                    self.body_values.clear();
                }
                _ => {
                    if let Some(Value::Strings(name)) = node.tag_value("output")
                        && let Some(name) = name.first()
                    {
                        let name = self.expand(name).into_owned();
                        self.set_variable(&name, String::from_utf8_lossy(&output).into_owned());
                    }
                }
            }
        }
        Ok(success)
    }
}

/// RFC 5232 §3: flags are space-separated, duplicates (case-insensitive) dropped.
pub fn normalize_flags(items: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        for flag in item.split_whitespace() {
            if !out.iter().any(|f| f.eq_ignore_ascii_case(flag)) {
                out.push(flag.to_string());
            }
        }
    }
    out
}

/// RFC 5228 §4.2: an addr-spec with a local part and a domain.
pub fn is_valid_address(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    // RFC 5322 §3.4.1: a quoted local part may hold spaces; nothing else may.
    let quoted = local.len() >= 2 && local.starts_with('"') && local.ends_with('"');
    !local.is_empty()
        && !domain.is_empty()
        && !address.chars().any(char::is_control)
        && (quoted || !local.chars().any(char::is_whitespace))
        && !domain.chars().any(char::is_whitespace)
        && !domain.contains(['<', '>', ',', ';', ':', '"', '@', '(', ')', '[', ']'])
        && domain.split('.').all(|label| !label.is_empty())
}

/// RFC 5322 §3.6.8 field-name: printable ASCII except the colon.
fn is_field_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 997
        && name.bytes().all(|b| (33..=126).contains(&b) && b != b':')
}

/// Keeps an added value one logical line: line breaks become folded continuations.
fn fold_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for line in value.split(['\r', '\n']).filter(|s| !s.is_empty()) {
        if !out.is_empty() {
            out.push_str("\r\n");
            if !line.starts_with([' ', '\t']) {
                out.push(' ');
            }
        }
        out.push_str(line);
    }
    out
}

/// RFC 5435 §6 `:encodeurl`: percent-encodes all but RFC 3986 unreserved characters.
pub fn encode_url(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// FNV-1a, for default vacation handles.
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        hash ^= 0xff;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}
