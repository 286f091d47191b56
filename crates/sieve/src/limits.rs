//! Resource limits of compilation and evaluation. Every one has a clear error when it is
//! reached; a runaway script is stopped and the message kept.

/// Limits; the defaults are what `[sieve]` configures when it says nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of script source.
    pub max_script_size: usize,
    /// Nesting of blocks and tests.
    pub max_nesting: usize,
    /// Evaluation steps (commands and tests run, match iterations) of one run.
    pub max_steps: u64,
    /// RFC 6609 include depth.
    pub max_include_depth: usize,
    /// Scripts included in one run.
    pub max_includes: usize,
    /// RFC 5228 §4.2 redirects of one run.
    pub max_redirects: usize,
    /// Messages sent by one run (vacation, notify).
    pub max_sent_messages: usize,
    /// Final actions of one run.
    pub max_actions: usize,
    /// Bytes of one variable's value (RFC 5229 §3 lets an implementation truncate).
    pub max_variable_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_script_size: 1024 * 1024,
            max_nesting: 32,
            max_steps: 1_000_000,
            max_include_depth: 10,
            max_includes: 255,
            max_redirects: 4,
            max_sent_messages: 4,
            max_actions: 32,
            max_variable_size: 4096,
        }
    }
}
