//! The check a script passes before it is stored (RFC 5804 §2.6: the server MUST check a
//! script's validity on PUTSCRIPT, and §2.12 CHECKSCRIPT).

/// Compiles a script without storing it. Implemented with `mailward_sieve::compile` in
/// service; unit tests use a fake.
pub trait ScriptChecker: Send + Sync + 'static {
    /// `Ok(warnings)` when the script compiles; `Err("LINE:COL: reason")` otherwise.
    fn check(&self, script: &str) -> Result<Vec<String>, String>;
}
