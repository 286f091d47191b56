//! Which extensions exist, and the shape of every command and test: positional arguments,
//! tagged arguments and the extension each needs. The checker ([`crate::compile`]) and
//! `ihave` (RFC 5463) both ask here, so "is this available" has one answer.

/// The type of an argument (RFC 5228 §2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Number,
    /// A single string (a list of one is refused).
    String,
    /// A string or a string list.
    StringList,
}

/// A tagged argument (RFC 5228 §2.6.2).
#[derive(Debug, Clone, Copy)]
pub struct TagSpec {
    pub name: &'static str,
    /// The extension that brings it, if any.
    pub extension: Option<&'static str>,
    /// The value that follows the tag, if any.
    pub value: Option<Kind>,
    /// Tags of one group exclude each other (e.g. the match types, RFC 5228 §2.7.1).
    pub group: &'static str,
}

/// Whether a command takes a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    None,
    Required,
}

/// How many tests a command or test takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tests {
    None,
    One,
    List,
}

/// The shape of one command or test.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub name: &'static str,
    pub extension: Option<&'static str>,
    /// The positional arguments, in order; the first `optional_leading` of them may be
    /// left out (e.g. RFC 5232 `setflag [<variablename>] <list-of-flags>`).
    pub positional: &'static [Kind],
    pub optional_leading: usize,
    /// The last `optional_trailing` may be left out (e.g. RFC 5293 deleteheader's
    /// value patterns).
    pub optional_trailing: usize,
    pub tags: &'static [&'static [TagSpec]],
    pub tests: Tests,
    pub block: Block,
}

const fn tag(name: &'static str, group: &'static str) -> TagSpec {
    TagSpec {
        name,
        extension: None,
        value: None,
        group,
    }
}

const fn ext_tag(
    name: &'static str,
    extension: &'static str,
    value: Option<Kind>,
    group: &'static str,
) -> TagSpec {
    TagSpec {
        name,
        extension: Some(extension),
        value,
        group,
    }
}

/// RFC 5228 §2.7.1 match types, RFC 5231 relational, the regex draft.
pub const MATCH: &[TagSpec] = &[
    tag("is", "match"),
    tag("contains", "match"),
    tag("matches", "match"),
    ext_tag("count", "relational", Some(Kind::String), "match"),
    ext_tag("value", "relational", Some(Kind::String), "match"),
    ext_tag("regex", "regex", None, "match"),
];
/// RFC 5228 §2.7.3.
pub const COMPARATOR: &[TagSpec] = &[TagSpec {
    name: "comparator",
    extension: None,
    value: Some(Kind::String),
    group: "comparator",
}];
/// RFC 5228 §2.7.4 and RFC 5233 §4.
pub const ADDRESS_PART: &[TagSpec] = &[
    tag("all", "addresspart"),
    tag("localpart", "addresspart"),
    tag("domain", "addresspart"),
    ext_tag("user", "subaddress", None, "addresspart"),
    ext_tag("detail", "subaddress", None, "addresspart"),
];
/// RFC 5260 §6.
pub const INDEX: &[TagSpec] = &[
    ext_tag("index", "index", Some(Kind::Number), "index"),
    ext_tag("last", "index", None, "last"),
];
/// RFC 5703 §4 MIME options of header, address and exists.
pub const MIME: &[TagSpec] = &[
    ext_tag("mime", "mime", None, "mime"),
    ext_tag("anychild", "mime", None, "anychild"),
    ext_tag("type", "mime", None, "mimepart"),
    ext_tag("subtype", "mime", None, "mimepart"),
    ext_tag("contenttype", "mime", None, "mimepart"),
    ext_tag("param", "mime", Some(Kind::StringList), "mimepart"),
];
const LOOP_NAME: &[TagSpec] = &[TagSpec {
    name: "name",
    extension: None,
    value: Some(Kind::String),
    group: "name",
}];
const EXTRACTTEXT_TAGS: &[TagSpec] = &[TagSpec {
    name: "first",
    extension: None,
    value: Some(Kind::Number),
    group: "first",
}];
/// RFC 5235 §3.2 spamtestplus.
const PERCENT: &[TagSpec] = &[ext_tag("percent", "spamtestplus", None, "percent")];
/// RFC 5228 §5.9.
const SIZE: &[TagSpec] = &[
    TagSpec {
        name: "over",
        extension: None,
        value: Some(Kind::Number),
        group: "size",
    },
    TagSpec {
        name: "under",
        extension: None,
        value: Some(Kind::Number),
        group: "size",
    },
];
const KEEP_TAGS: &[TagSpec] = &[ext_tag(
    "flags",
    "imap4flags",
    Some(Kind::StringList),
    "flags",
)];
const FILEINTO_TAGS: &[TagSpec] = &[
    ext_tag("copy", "copy", None, "copy"),
    ext_tag("flags", "imap4flags", Some(Kind::StringList), "flags"),
    ext_tag("create", "mailbox", None, "create"),
    ext_tag(
        "specialuse",
        "special-use",
        Some(Kind::String),
        "specialuse",
    ),
];
const REDIRECT_TAGS: &[TagSpec] = &[ext_tag("copy", "copy", None, "copy")];
/// RFC 5229 §4.1 modifiers (precedence groups), RFC 5435 §6 `:encodeurl`, regex
/// `:quoteregex`.
const SET_TAGS: &[TagSpec] = &[
    tag("lower", "case"),
    tag("upper", "case"),
    tag("lowerfirst", "casefirst"),
    tag("upperfirst", "casefirst"),
    tag("quotewildcard", "quotewildcard"),
    ext_tag("quoteregex", "regex", None, "quoteregex"),
    tag("length", "length"),
    ext_tag("encodeurl", "enotify", None, "encodeurl"),
];
/// RFC 5230 §4, RFC 6131.
const VACATION_TAGS: &[TagSpec] = &[
    TagSpec {
        name: "days",
        extension: None,
        value: Some(Kind::Number),
        group: "period",
    },
    ext_tag("seconds", "vacation-seconds", Some(Kind::Number), "period"),
    TagSpec {
        name: "subject",
        extension: None,
        value: Some(Kind::String),
        group: "subject",
    },
    TagSpec {
        name: "from",
        extension: None,
        value: Some(Kind::String),
        group: "from",
    },
    TagSpec {
        name: "addresses",
        extension: None,
        value: Some(Kind::StringList),
        group: "addresses",
    },
    tag("mime", "mime"),
    TagSpec {
        name: "handle",
        extension: None,
        value: Some(Kind::String),
        group: "handle",
    },
];
/// RFC 5435 §3.
const NOTIFY_TAGS: &[TagSpec] = &[
    TagSpec {
        name: "from",
        extension: None,
        value: Some(Kind::String),
        group: "from",
    },
    TagSpec {
        name: "importance",
        extension: None,
        value: Some(Kind::String),
        group: "importance",
    },
    TagSpec {
        name: "options",
        extension: None,
        value: Some(Kind::StringList),
        group: "options",
    },
    TagSpec {
        name: "message",
        extension: None,
        value: Some(Kind::String),
        group: "message",
    },
];
/// RFC 6609 §3.2.
const INCLUDE_TAGS: &[TagSpec] = &[
    tag("personal", "location"),
    tag("global", "location"),
    tag("once", "once"),
    tag("optional", "optional"),
];
/// RFC 5173 §5.
const BODY_TAGS: &[TagSpec] = &[
    tag("raw", "transform"),
    TagSpec {
        name: "content",
        extension: None,
        value: Some(Kind::StringList),
        group: "transform",
    },
    tag("text", "transform"),
];
/// RFC 5260 §4 and §5.
const ZONE: &[TagSpec] = &[
    TagSpec {
        name: "zone",
        extension: None,
        value: Some(Kind::String),
        group: "zone",
    },
    tag("originalzone", "zone"),
];
const CURRENT_ZONE: &[TagSpec] = &[TagSpec {
    name: "zone",
    extension: None,
    value: Some(Kind::String),
    group: "zone",
}];
/// RFC 7352 §3.
const DUPLICATE_TAGS: &[TagSpec] = &[
    TagSpec {
        name: "handle",
        extension: None,
        value: Some(Kind::String),
        group: "handle",
    },
    TagSpec {
        name: "header",
        extension: None,
        value: Some(Kind::String),
        group: "key",
    },
    TagSpec {
        name: "uniqueid",
        extension: None,
        value: Some(Kind::String),
        group: "key",
    },
    TagSpec {
        name: "seconds",
        extension: None,
        value: Some(Kind::Number),
        group: "seconds",
    },
    tag("last", "last"),
];
/// RFC 5293 §4 addheader `:last`.
const ADDHEADER_TAGS: &[TagSpec] = &[tag("last", "last")];
/// RFC 5293 §5 deleteheader's `:index` (without needing the index extension).
const DELETEHEADER_INDEX: &[TagSpec] = &[
    TagSpec {
        name: "index",
        extension: None,
        value: Some(Kind::Number),
        group: "index",
    },
    tag("last", "last"),
];
/// Pigeonhole's extprograms `:copy` (pipe) and `:output` (execute).
const PIPE_TAGS: &[TagSpec] = &[ext_tag("copy", "copy", None, "copy"), tag("try", "try")];
const EXECUTE_TAGS: &[TagSpec] = &[
    TagSpec {
        name: "input",
        extension: None,
        value: Some(Kind::String),
        group: "input",
    },
    tag("pipe", "input"),
    TagSpec {
        name: "output",
        extension: None,
        value: Some(Kind::String),
        group: "output",
    },
];

const fn command(
    name: &'static str,
    extension: Option<&'static str>,
    positional: &'static [Kind],
    tags: &'static [&'static [TagSpec]],
) -> Spec {
    Spec {
        name,
        extension,
        positional,
        optional_leading: 0,
        optional_trailing: 0,
        tags,
        tests: Tests::None,
        block: Block::None,
    }
}

use Kind::{String as Str, StringList as List};

/// Every command (RFC 5228 §3, §4 and the extensions).
pub const COMMANDS: &[Spec] = &[
    command("require", None, &[List], &[]),
    Spec {
        tests: Tests::One,
        block: Block::Required,
        ..command("if", None, &[], &[])
    },
    Spec {
        tests: Tests::One,
        block: Block::Required,
        ..command("elsif", None, &[], &[])
    },
    Spec {
        block: Block::Required,
        ..command("else", None, &[], &[])
    },
    command("stop", None, &[], &[]),
    command("keep", None, &[], &[KEEP_TAGS]),
    command("discard", None, &[], &[]),
    command("fileinto", Some("fileinto"), &[Str], &[FILEINTO_TAGS]),
    command("redirect", None, &[Str], &[REDIRECT_TAGS]),
    command("reject", Some("reject"), &[Str], &[]),
    command("ereject", Some("ereject"), &[Str], &[]),
    command("set", Some("variables"), &[Str, Str], &[SET_TAGS]),
    Spec {
        optional_leading: 1,
        ..command("setflag", Some("imap4flags"), &[Str, List], &[])
    },
    Spec {
        optional_leading: 1,
        ..command("addflag", Some("imap4flags"), &[Str, List], &[])
    },
    Spec {
        optional_leading: 1,
        ..command("removeflag", Some("imap4flags"), &[Str, List], &[])
    },
    command("vacation", Some("vacation"), &[Str], &[VACATION_TAGS]),
    command("notify", Some("enotify"), &[Str], &[NOTIFY_TAGS]),
    command("include", Some("include"), &[Str], &[INCLUDE_TAGS]),
    command("return", Some("include"), &[], &[]),
    command("global", Some("include"), &[List], &[]),
    command(
        "addheader",
        Some("editheader"),
        &[Str, Str],
        &[ADDHEADER_TAGS],
    ),
    Spec {
        optional_trailing: 1,
        ..command(
            "deleteheader",
            Some("editheader"),
            &[Str, List],
            &[DELETEHEADER_INDEX, MATCH, COMPARATOR],
        )
    },
    command("error", Some("ihave"), &[Str], &[]),
    Spec {
        block: Block::Required,
        ..command("foreverypart", Some("foreverypart"), &[], &[LOOP_NAME])
    },
    command("break", Some("foreverypart"), &[], &[LOOP_NAME]),
    command(
        "extracttext",
        Some("extracttext"),
        &[Str],
        &[EXTRACTTEXT_TAGS, SET_TAGS],
    ),
    Spec {
        optional_trailing: 1,
        ..command("pipe", Some("vnd.dovecot.pipe"), &[Str, List], &[PIPE_TAGS])
    },
    Spec {
        optional_trailing: 1,
        ..command("filter", Some("vnd.dovecot.filter"), &[Str, List], &[])
    },
    Spec {
        optional_trailing: 1,
        ..command(
            "execute",
            Some("vnd.dovecot.execute"),
            &[Str, List],
            &[EXECUTE_TAGS],
        )
    },
];

const fn test(
    name: &'static str,
    extension: Option<&'static str>,
    positional: &'static [Kind],
    tags: &'static [&'static [TagSpec]],
) -> Spec {
    command(name, extension, positional, tags)
}

/// Every test (RFC 5228 §5 and the extensions).
pub const TESTS: &[Spec] = &[
    test(
        "address",
        None,
        &[List, List],
        &[MATCH, COMPARATOR, ADDRESS_PART, INDEX, MIME],
    ),
    Spec {
        tests: Tests::List,
        ..test("allof", None, &[], &[])
    },
    Spec {
        tests: Tests::List,
        ..test("anyof", None, &[], &[])
    },
    Spec {
        tests: Tests::One,
        ..test("not", None, &[], &[])
    },
    test("true", None, &[], &[]),
    test("false", None, &[], &[]),
    test(
        "envelope",
        Some("envelope"),
        &[List, List],
        &[MATCH, COMPARATOR, ADDRESS_PART],
    ),
    test("exists", None, &[List], &[MIME]),
    test(
        "header",
        None,
        &[List, List],
        &[MATCH, COMPARATOR, INDEX, MIME],
    ),
    test("size", None, &[], &[SIZE]),
    test(
        "string",
        Some("variables"),
        &[List, List],
        &[MATCH, COMPARATOR],
    ),
    Spec {
        optional_leading: 1,
        ..test(
            "hasflag",
            Some("imap4flags"),
            &[List, List],
            &[MATCH, COMPARATOR],
        )
    },
    test(
        "body",
        Some("body"),
        &[List],
        &[MATCH, COMPARATOR, BODY_TAGS],
    ),
    test(
        "environment",
        Some("environment"),
        &[Str, List],
        &[MATCH, COMPARATOR],
    ),
    test(
        "date",
        Some("date"),
        &[Str, Str, List],
        &[MATCH, COMPARATOR, INDEX, ZONE],
    ),
    test(
        "currentdate",
        Some("date"),
        &[Str, List],
        &[MATCH, COMPARATOR, CURRENT_ZONE],
    ),
    test("mailboxexists", Some("mailbox"), &[List], &[]),
    Spec {
        optional_leading: 1,
        ..test("specialuse_exists", Some("special-use"), &[Str, List], &[])
    },
    test("ihave", Some("ihave"), &[List], &[]),
    test("duplicate", Some("duplicate"), &[], &[DUPLICATE_TAGS]),
    test(
        "spamtest",
        Some("spamtest"),
        &[Str],
        &[MATCH, COMPARATOR, PERCENT],
    ),
    test("virustest", Some("virustest"), &[Str], &[MATCH, COMPARATOR]),
    test("valid_notify_method", Some("enotify"), &[List], &[]),
    test(
        "notify_method_capability",
        Some("enotify"),
        &[Str, Str, List],
        &[MATCH, COMPARATOR],
    ),
    Spec {
        optional_trailing: 1,
        ..test("filter", Some("vnd.dovecot.filter"), &[Str, List], &[])
    },
    Spec {
        optional_trailing: 1,
        ..test(
            "execute",
            Some("vnd.dovecot.execute"),
            &[Str, List],
            &[EXECUTE_TAGS],
        )
    },
];

/// The extensions `require` accepts (RFC 5228 §3.2), besides the comparators.
pub const EXTENSIONS: &[&str] = &[
    "fileinto",
    "envelope",
    "encoded-character",
    "variables",
    "reject",
    "ereject",
    "copy",
    "imap4flags",
    "relational",
    "subaddress",
    "body",
    "environment",
    "date",
    "index",
    "mailbox",
    "special-use",
    "ihave",
    "include",
    "duplicate",
    "spamtest",
    "spamtestplus",
    "virustest",
    "regex",
    "editheader",
    "vacation",
    "vacation-seconds",
    "enotify",
    "mime",
    "foreverypart",
    "extracttext",
];

/// Pigeonhole's program extensions, available only when
/// [`crate::CompileOptions::extprograms`] says so.
pub const PROGRAM_EXTENSIONS: &[&str] = &[
    "vnd.dovecot.pipe",
    "vnd.dovecot.filter",
    "vnd.dovecot.execute",
];

/// RFC 5228 §2.7.3 / RFC 4790 comparators and the `comparator-` capability each needs
/// (`None`: always available).
pub const COMPARATORS: &[(&str, Option<&str>)] = &[
    ("i;octet", None),
    ("i;ascii-casemap", None),
    ("i;ascii-numeric", Some("comparator-i;ascii-numeric")),
    ("i;unicode-casemap", Some("comparator-i;unicode-casemap")),
];

/// Whether `name` may be required under these options.
pub fn is_known_extension(name: &str, extprograms: bool, testsuite: bool) -> bool {
    EXTENSIONS.contains(&name)
        || COMPARATORS.iter().any(|(c, _)| {
            name.strip_prefix("comparator-")
                .is_some_and(|rest| rest == *c)
        })
        || (extprograms && PROGRAM_EXTENSIONS.contains(&name))
        || (testsuite && name == "vnd.dovecot.testsuite")
}

/// RFC 5463 §4: extensions that change how strings are read cannot be brought in by
/// `ihave` (its block is parsed before the test runs).
pub fn available_through_ihave(name: &str, extprograms: bool) -> bool {
    !matches!(name, "encoded-character" | "variables")
        && is_known_extension(name, extprograms, false)
}

/// The spec of a command.
pub fn command_spec(name: &str) -> Option<&'static Spec> {
    COMMANDS.iter().find(|s| s.name == name)
}

/// The spec of a test.
pub fn test_spec(name: &str) -> Option<&'static Spec> {
    TESTS.iter().find(|s| s.name == name)
}
