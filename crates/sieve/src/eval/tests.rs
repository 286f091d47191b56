//! Tests (RFC 5228 §5 and the extensions' tests), and matching values against keys.

use super::matching::{self, MatchType, Relation};
use super::{Flow, Run};
use crate::address::{self, Mailbox};
use crate::comparator::Comparator;
use crate::compile::{Node, Value};

impl Run<'_> {
    /// Evaluates a test; `Err` carries a flow that ends the run (an error).
    pub fn test(&mut self, node: &Node) -> Result<bool, Flow> {
        if !self.step() {
            let limit = self.options.limits.max_steps;
            return Err(self.fail(
                node.line,
                format!("script ran more than {limit} steps and was stopped"),
            ));
        }
        #[cfg(feature = "testsuite")]
        if node.name.starts_with("test")
            && let Some(result) = crate::testsuite::test(self, node)
        {
            return result;
        }
        match node.name.as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            "not" => match node.tests.first() {
                Some(test) => self.test(test).map(|r| !r),
                None => Ok(false),
            },
            "allof" => {
                for test in &node.tests {
                    if !self.test(test)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            "anyof" => {
                for test in &node.tests {
                    if self.test(test)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            "exists" => {
                let names = self.strings(node.positional.first());
                let mut all = true;
                for name in &names {
                    let found = match self.mime_fields(node, name) {
                        Some(fields) => !fields.is_empty(),
                        None => self.message.fields(name).next().is_some(),
                    };
                    all &= found;
                }
                Ok(all)
            }
            "size" => {
                let size = if self.message.edited {
                    self.message.to_bytes().len() as u64
                } else {
                    self.message.size as u64
                };
                Ok(
                    match (
                        Self::number(node.tag_value("over")),
                        Self::number(node.tag_value("under")),
                    ) {
                        (Some(limit), _) => size > limit,
                        (_, Some(limit)) => size < limit,
                        _ => false,
                    },
                )
            }
            "header" => {
                let names = self.strings(node.positional.first());
                let keys = self.strings(node.positional.get(1));
                let mut values = Vec::new();
                for name in &names {
                    let fields: Vec<String> = match self.mime_fields(node, name) {
                        Some(fields) => fields
                            .iter()
                            .flat_map(|f| self.mime_values(node, f))
                            .collect(),
                        None => self.message.fields(name).map(|f| f.decoded()).collect(),
                    };
                    values.extend(select_index(self, node, fields));
                }
                self.match_values(node, &values, &keys)
            }
            "address" => {
                let names = self.strings(node.positional.first());
                let keys = self.strings(node.positional.get(1));
                let mut values = Vec::new();
                for name in &names {
                    let fields: Vec<String> = match self.mime_fields(node, name) {
                        Some(fields) => fields.iter().map(|f| f.unfolded()).collect(),
                        None => self.message.fields(name).map(|f| f.unfolded()).collect(),
                    };
                    for field in select_index(self, node, fields) {
                        for mailbox in address::parse_address_list(&field) {
                            if let Some(part) = address_part(node, &mailbox) {
                                values.push(part);
                            }
                        }
                    }
                }
                self.match_values(node, &values, &keys)
            }
            "envelope" => {
                let parts = self.strings(node.positional.first());
                let keys = self.strings(node.positional.get(1));
                let mut values = Vec::new();
                for part in &parts {
                    let value = match part.to_ascii_lowercase().as_str() {
                        "from" => Some(self.envelope.from.clone()),
                        "to" => Some(self.envelope.to.clone()),
                        "orig_to" => self.envelope.orig_to.clone(),
                        "auth" => self.envelope.auth.clone(),
                        _ => None,
                    };
                    let Some(value) = value else { continue };
                    // RFC 5228 §5.4: the null reverse-path is "" for :all and
                    // matches nothing else.
                    if value.is_empty() || value.trim() == "<>" {
                        values.push(String::new());
                        continue;
                    }
                    // RFC 5321 §4.1.2 Path; an unparsable one matches nothing.
                    // The auth part is a login name, not a path.
                    let mailbox = if part.eq_ignore_ascii_case("auth") {
                        Mailbox::from_addr_spec(&value)
                    } else {
                        match parse_path(&value) {
                            Some(mailbox) => mailbox,
                            None => continue,
                        }
                    };
                    if let Some(part) = address_part(node, &mailbox) {
                        values.push(part);
                    }
                }
                self.match_values(node, &values, &keys)
            }
            "string" => {
                let sources = self.strings(node.positional.first());
                let keys = self.strings(node.positional.get(1));
                // RFC 5229 §5: for :count, empty strings do not count.
                let values: Vec<String> = if matches!(self.match_type(node), MatchType::Count(_)) {
                    sources.into_iter().filter(|s| !s.is_empty()).collect()
                } else {
                    sources
                };
                self.match_values(node, &values, &keys)
            }
            "hasflag" => {
                let keys = self.strings(node.positional.last());
                // RFC 5232 §4: keys are flag lists too, one flag per comparison.
                let keys = if matches!(self.match_type(node), MatchType::Count(_)) {
                    keys
                } else {
                    super::commands::normalize_flags(&keys)
                };
                let flags = if node.positional.len() == 2 {
                    let names = self.strings(node.positional.first());
                    let joined: Vec<String> = names
                        .iter()
                        .map(|n| self.variable(&n.to_ascii_lowercase()).to_string())
                        .collect();
                    super::commands::normalize_flags(&joined)
                } else {
                    self.flags.clone()
                };
                self.match_values(node, &flags, &keys)
            }
            "body" => {
                let keys = self.strings(node.positional.first());
                let values = crate::ext::body::cached_body_values(self, node);
                // RFC 5173 §6: body does not set match variables.
                let saved = self.matches.clone();
                let result = self.match_values(node, &values, &keys);
                self.matches = saved;
                result
            }
            "environment" => {
                let name = self.string(node.positional.first());
                let keys = self.strings(node.positional.get(1));
                match crate::ext::environment::item(self, &name) {
                    Some(value) => self.match_values(node, &[value], &keys),
                    None => Ok(false),
                }
            }
            "date" | "currentdate" => crate::ext::date::test(self, node),
            "mailboxexists" => {
                let names = self.strings(node.positional.first());
                Ok(names.iter().all(|n| self.host.mailbox_exists(n)))
            }
            "specialuse_exists" => {
                let uses = self.strings(node.positional.last());
                let mailbox =
                    (node.positional.len() == 2).then(|| self.string(node.positional.first()));
                Ok(self.host.special_use_exists(mailbox.as_deref(), &uses))
            }
            "ihave" => {
                let names = self.strings(node.positional.first());
                Ok(names
                    .iter()
                    .all(|n| crate::registry::available_through_ihave(n, self.options.extprograms)))
            }
            "duplicate" => crate::ext::duplicate::test(self, node),
            "spamtest" | "virustest" => crate::ext::spamtest::test(self, node),
            "valid_notify_method" => {
                let methods = self.strings(node.positional.first());
                Ok(methods.iter().all(|m| crate::ext::enotify::valid_method(m)))
            }
            "notify_method_capability" => {
                let method = self.string(node.positional.first());
                let capability = self.string(node.positional.get(1));
                let keys = self.strings(node.positional.get(2));
                match crate::ext::enotify::capability(&method, &capability) {
                    Some(value) => self.match_values(node, &[value], &keys),
                    None => Ok(false),
                }
            }
            "filter" | "execute" => self.program(node),
            other => Err(self.fail(node.line, format!("test '{other}' cannot run here"))),
        }
    }

    /// The match type of a test (RFC 5228 §2.7.1: `:is` by default).
    pub fn match_type(&self, node: &Node) -> MatchType {
        for (tag, value) in &node.tags {
            match tag.as_str() {
                "is" => return MatchType::Is,
                "contains" => return MatchType::Contains,
                "matches" => return MatchType::Matches,
                "regex" => return MatchType::Regex,
                "count" => {
                    return MatchType::Count(Relation::from_name(&self.string(value.as_ref())));
                }
                "value" => {
                    return MatchType::Value(Relation::from_name(&self.string(value.as_ref())));
                }
                _ => {}
            }
        }
        MatchType::Is
    }

    /// The comparator of a test (RFC 5228 §2.7.3: `i;ascii-casemap` by default).
    pub fn comparator(&self, node: &Node) -> Comparator {
        match node.tag_value("comparator") {
            Some(value) => Comparator::from_name(&self.string(Some(value))),
            None => Comparator::AsciiCasemap,
        }
    }

    /// Whether any value matches any key (RFC 5228 §2.7.1), setting match variables on
    /// success (RFC 5229 §3.2).
    pub fn match_values(
        &mut self,
        node: &Node,
        values: &[String],
        keys: &[String],
    ) -> Result<bool, Flow> {
        let comparator = self.comparator(node);
        let match_type = self.match_type(node);
        let capture = self.has("variables");
        match match_type {
            MatchType::Count(relation) => {
                let count = values.len().to_string();
                Ok(keys
                    .iter()
                    .any(|key| relation.holds(comparator.compare(&count, key))))
            }
            MatchType::Value(relation) => Ok(values.iter().any(|value| {
                keys.iter()
                    .any(|key| relation.holds(comparator.compare(value, key)))
            })),
            MatchType::Is => Ok(values
                .iter()
                .any(|value| keys.iter().any(|key| comparator.equals(value, key)))),
            MatchType::Contains => Ok(values
                .iter()
                .any(|value| keys.iter().any(|key| comparator.contains(value, key)))),
            MatchType::Matches => {
                let mut steps = 0;
                for value in values {
                    for key in keys {
                        let found = matching::glob_match(comparator, value, key, &mut steps);
                        self.steps += steps / 16;
                        steps = 0;
                        if self.steps > self.options.limits.max_steps {
                            let limit = self.options.limits.max_steps;
                            return Err(self.fail(
                                node.line,
                                format!("script ran more than {limit} steps and was stopped"),
                            ));
                        }
                        if let Some(captures) = found {
                            if capture {
                                let mut all = vec![value.clone()];
                                all.extend(captures);
                                self.matches = all;
                            }
                            return Ok(true);
                        }
                    }
                }
                Ok(false)
            }
            MatchType::Regex => {
                let insensitive = !matches!(comparator, crate::comparator::Comparator::Octet);
                for key in keys {
                    let regex = match self.regexes.get_or_build(key, insensitive) {
                        Ok(regex) => regex,
                        Err(e) => {
                            return Err(self.fail(node.line, format!("invalid regex '{key}': {e}")));
                        }
                    };
                    for value in values {
                        // A regex search costs about pattern × text: charge it before
                        // running, so a crafted pattern cannot outrun the step limit.
                        let cost = (key.len() as u64).saturating_mul(value.len() as u64) / 64;
                        self.steps = self.steps.saturating_add(cost);
                        if self.steps > self.options.limits.max_steps {
                            let limit = self.options.limits.max_steps;
                            return Err(self.fail(
                                node.line,
                                format!("script ran more than {limit} steps and was stopped"),
                            ));
                        }
                        if let Some(found) = regex.captures(value) {
                            if capture {
                                self.matches = found
                                    .iter()
                                    .map(|m| m.map(|m| m.as_str().to_string()).unwrap_or_default())
                                    .collect();
                            }
                            return Ok(true);
                        }
                    }
                }
                Ok(false)
            }
        }
    }
}

/// RFC 5260 §6 `:index N` / `:last`: only the Nth field (from the end with `:last`).
pub(crate) fn select_index(run: &Run<'_>, node: &Node, fields: Vec<String>) -> Vec<String> {
    let _ = run;
    let Some(Value::Number(index)) = node.tag_value("index") else {
        return fields;
    };
    let index = usize::try_from(*index).unwrap_or(usize::MAX);
    let position = if node.has_tag("last") {
        fields.len().checked_sub(index)
    } else {
        index.checked_sub(1)
    };
    position
        .and_then(|p| fields.into_iter().nth(p))
        .into_iter()
        .collect()
}

/// RFC 5321 §4.1.2 Path (`<...>` optional, a source route dropped); `None` when it is
/// not a mailbox. A local part alone (`<MAILER-DAEMON>`) is accepted, as Pigeonhole does.
fn parse_path(value: &str) -> Option<Mailbox> {
    let value = value.trim();
    let inner = match (value.strip_prefix('<'), value.ends_with('>')) {
        (Some(rest), true) => rest.strip_suffix('>')?,
        (None, false) => value,
        _ => return None,
    };
    let inner = if inner.starts_with('@') {
        let (route, rest) = inner.split_once(':')?;
        let hops_valid = route
            .split(',')
            .all(|hop| hop.strip_prefix('@').is_some_and(is_domain));
        if !hops_valid {
            return None;
        }
        rest
    } else {
        inner
    };
    if inner.is_empty() || inner.contains(['<', '>', ' ', ',', ':']) {
        return None;
    }
    let mailbox = Mailbox::from_addr_spec(inner);
    if mailbox.local.is_empty() || mailbox.local.contains('@') && !inner.starts_with('"') {
        return None;
    }
    match mailbox.domain.as_deref() {
        Some(domain) if !is_domain(domain) => None,
        _ => Some(mailbox),
    }
}

/// RFC 5321 §4.1.2 Domain: dot-separated labels of letters, digits and hyphens (and the
/// underscores real mail carries), or an address literal.
fn is_domain(domain: &str) -> bool {
    if domain.starts_with('[') && domain.ends_with(']') {
        return domain.len() > 2;
    }
    !domain.is_empty()
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// RFC 5228 §2.7.4 and RFC 5233 §4: the part of an address a test compares.
fn address_part(node: &Node, mailbox: &Mailbox) -> Option<String> {
    if node.has_tag("localpart") {
        return Some(mailbox.local.clone());
    }
    if node.has_tag("domain") {
        return Some(mailbox.domain.clone().unwrap_or_default());
    }
    if node.has_tag("user") {
        return Some(
            mailbox
                .local
                .split_once('+')
                .map_or(mailbox.local.clone(), |(user, _)| user.to_string()),
        );
    }
    if node.has_tag("detail") {
        // RFC 5233 §4: no separator, no detail: the test fails for this address.
        return mailbox
            .local
            .split_once('+')
            .map(|(_, detail)| detail.to_string());
    }
    Some(mailbox.all())
}
