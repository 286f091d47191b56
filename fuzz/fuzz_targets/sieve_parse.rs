//! A Sieve script of any bytes compiles or is refused without panicking; one that
//! compiles runs against a message within the step limit, and a run always ends with
//! at least one action or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailward_sieve::{CompileOptions, Envelope, Environment, Host, Limits};

struct NoHost;
impl Host for NoHost {}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let options = CompileOptions {
        limits: Limits {
            max_steps: 10_000,
            ..Limits::default()
        },
        ..CompileOptions::default()
    };
    if let Ok(script) = mailward_sieve::compile(&text, &options) {
        let message = b"From: a@b.test\r\nTo: c@d.test\r\nSubject: x\r\n\r\nbody\r\n";
        let outcome = mailward_sieve::evaluate(
            &script,
            message,
            &Envelope::default(),
            &Environment::default(),
            &mut NoHost,
        );
        assert!(!outcome.actions.is_empty() || !outcome.errors.is_empty());
    }
});
