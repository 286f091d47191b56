//! The syntax tree of RFC 5228 §8.2, before any checking.

/// An argument (RFC 5228 §2.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Argument {
    Tag(String),
    Number(u64),
    /// A single string (`list == false`) or a string list `[...]`.
    Strings {
        values: Vec<String>,
        list: bool,
    },
}

/// An argument and where it stands in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    pub value: T,
    pub line: u32,
    pub column: u32,
}

/// A test (RFC 5228 §2.9 / §8.2 `test`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestNode {
    pub name: String,
    pub arguments: Vec<Located<Argument>>,
    pub tests: Vec<TestNode>,
    pub line: u32,
    pub column: u32,
}

/// A command (RFC 5228 §8.2 `command`): arguments, an optional test list, an optional
/// block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandNode {
    pub name: String,
    pub arguments: Vec<Located<Argument>>,
    pub tests: Vec<TestNode>,
    pub block: Option<Vec<CommandNode>>,
    pub line: u32,
    pub column: u32,
}
