//! Errors: a script that does not compile, a run that stopped.

/// A script refused at compile time, with where (1-based line and column, of the source as
/// given) and why. Displayed as `LINE:COL: reason`, the form `mailward sieve check`
/// prefixes with the file name and ManageSieve returns in its `NO`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct CompileError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// A run stopped before its end (a limit, a failed `include`, a runtime check). RFC 5228
/// §2.10.6: the message is then kept (implicit keep), never lost.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct RuntimeError {
    pub line: u32,
    pub message: String,
}
