//! The check a script passes before it is stored (RFC 5804 §2.6: the server MUST check a
//! script's validity on PUTSCRIPT, and §2.12 CHECKSCRIPT).

/// Compiles a script without storing it. Implemented with `mailward_sieve::compile` in
/// service; unit tests use a fake.
pub trait ScriptChecker: Send + Sync + 'static {
    /// `Ok(warnings)` when the script compiles; `Err("LINE:COL: reason")` otherwise.
    fn check(&self, script: &str) -> Result<Vec<String>, String>;
}

/// The real check: mailward's Sieve compiler with the options user scripts get.
#[derive(Debug, Clone, Default)]
pub struct SieveCompiler {
    pub options: mailward_sieve::CompileOptions,
}

impl ScriptChecker for SieveCompiler {
    fn check(&self, script: &str) -> Result<Vec<String>, String> {
        mailward_sieve::compile(script, &self.options)
            .map(|_| Vec::new())
            .map_err(|e| e.to_string())
    }
}

/// RFC 5804 §1.7 `SIEVE` capability: the extensions a user script may `require`
/// (comparators as `comparator-NAME`), space separated.
pub fn sieve_capability(extprograms: bool) -> String {
    use mailward_sieve::registry;
    let mut names: Vec<&str> = registry::EXTENSIONS.to_vec();
    names.extend(registry::COMPARATORS.iter().filter_map(|(_, cap)| *cap));
    if extprograms {
        names.extend(registry::PROGRAM_EXTENSIONS);
    }
    names.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiler_reports_line_and_column() {
        let c = SieveCompiler::default();
        assert_eq!(
            c.check("require \"fileinto\";\nfileinto \"a\";\n"),
            Ok(Vec::new())
        );
        let err = c.check("keep;\nfrobnicate;\n").unwrap_err();
        assert!(err.starts_with("2:1: "), "{err}");
    }

    #[test]
    fn the_capability_lists_extensions_and_comparators() {
        let caps = sieve_capability(false);
        for ext in ["fileinto", "vacation", "comparator-i;ascii-numeric"] {
            assert!(caps.split(' ').any(|c| c == ext), "{caps}");
        }
        assert!(!caps.contains("vnd.dovecot.pipe"));
    }
}
