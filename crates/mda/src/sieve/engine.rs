//! The seam between delivery and the interpreter: compile a script once, evaluate it per
//! message. [`Interpreter`] is mailward's own (`mailward_sieve`); tests use fakes.

use mailward_sieve::{Action, Envelope, Environment, Host, Limits};
use std::any::Any;
use std::sync::Arc;

/// A compiled script, opaque to delivery.
pub type Compiled = Arc<dyn Any + Send + Sync>;

/// What compiling needs besides the source.
#[derive(Debug, Clone, Copy)]
pub struct CompileRequest<'a> {
    pub source: &'a str,
    /// A global (administrator's) script.
    pub global: bool,
    /// Whether vnd.dovecot.pipe/filter/execute may be used.
    pub extprograms: bool,
    pub limits: &'a Limits,
}

/// One evaluation's result (the interpreter's `Outcome`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evaluation {
    /// The final actions, the implicit keep included when it applies.
    pub actions: Vec<Action>,
    /// The message after editheader, when the script changed it.
    pub edited: Option<Vec<u8>>,
    /// Runtime errors; any means the run failed (RFC 5228 §2.10.6: keep).
    pub errors: Vec<String>,
}

/// A Sieve interpreter.
pub trait Engine: Send + Sync {
    /// Compiles `request.source`; `Err` is `LINE:COL: reason`.
    fn compile(&self, request: &CompileRequest<'_>) -> Result<Compiled, String>;
    /// Evaluates a script this engine compiled.
    fn evaluate(
        &self,
        script: &Compiled,
        message: &[u8],
        envelope: &Envelope,
        env: &Environment,
        host: &mut dyn Host,
    ) -> Evaluation;
}

/// An engine that compiles nothing: every script is an error, so every message is kept
/// (used where no interpreter is available).
#[derive(Debug, Clone, Copy, Default)]
pub struct Unavailable;

impl Engine for Unavailable {
    fn compile(&self, _request: &CompileRequest<'_>) -> Result<Compiled, String> {
        Err("0:0: the Sieve interpreter is not available".into())
    }

    fn evaluate(
        &self,
        _script: &Compiled,
        _message: &[u8],
        _envelope: &Envelope,
        _env: &Environment,
        _host: &mut dyn Host,
    ) -> Evaluation {
        Evaluation {
            errors: vec!["the Sieve interpreter is not available".into()],
            ..Evaluation::default()
        }
    }
}

/// mailward's own interpreter ([`mailward_sieve::compile`], [`mailward_sieve::evaluate`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Interpreter;

impl Engine for Interpreter {
    fn compile(&self, request: &CompileRequest<'_>) -> Result<Compiled, String> {
        let options = mailward_sieve::CompileOptions {
            limits: request.limits.clone(),
            extprograms: request.extprograms,
            global: request.global,
            ..mailward_sieve::CompileOptions::default()
        };
        mailward_sieve::compile(request.source, &options)
            .map(|script| Arc::new(script) as Compiled)
            .map_err(|e| e.to_string())
    }

    fn evaluate(
        &self,
        script: &Compiled,
        message: &[u8],
        envelope: &Envelope,
        env: &Environment,
        host: &mut dyn Host,
    ) -> Evaluation {
        let Some(script) = script.downcast_ref::<mailward_sieve::Script>() else {
            return Evaluation {
                errors: vec!["not a script of this interpreter".into()],
                ..Evaluation::default()
            };
        };
        let outcome = mailward_sieve::evaluate(script, message, envelope, env, host);
        Evaluation {
            actions: outcome.actions,
            edited: outcome.edited,
            errors: outcome.errors.iter().map(ToString::to_string).collect(),
        }
    }
}
