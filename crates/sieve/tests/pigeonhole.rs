//! Pigeonhole's own test suite (`../shared/testdata/sieve/pigeonhole/tests/`, read in
//! place), run through our implementation of its `vnd.dovecot.testsuite` extension.
//! Every `.svtest` file runs; files in [`SKIPPED`] are reported as skipped with their
//! reason; a failure in any other file fails this test.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use std::path::{Path, PathBuf};

/// Files not expected to pass, each with the reason.
const SKIPPED: &[(&str, &str)] = &[
    (
        "comparators/i-unicode-casemap.svtest",
        "uses i;unicode-casemap without require; RFC 5228 §2.7.3 needs require \"comparator-i;unicode-casemap\", which we enforce",
    ),
    (
        "compile/errors.svtest",
        "counts and words Pigeonhole's compile errors; we report the first error of a script only",
    ),
    (
        "compile/recover.svtest",
        "counts and words Pigeonhole's compile errors; we report the first error of a script only",
    ),
    (
        "execute/errors.svtest",
        "one subtest left: [Fileinto bad UTF-8 in folder name] encodes invalid UTF-8, which our (UTF-8) scripts refuse at compile time",
    ),
    (
        "execute/examples.svtest",
        "the example scripts (../../examples) are not part of the shared test data",
    ),
    (
        "execute/smtp.svtest",
        "Pigeonhole's redirect envelope settings (sieve_redirect_envelope_from, X-Sieve-Redirected-From, loop detection) are delivery's job (helper D)",
    ),
    (
        "extensions/body/content.svtest",
        "not passing yet: a multipart's prologue/epilogue and a message/rfc822 header are not cut exactly as RFC 5173 §5.2 says",
    ),
    (
        "extensions/body/errors.svtest",
        "counts and words Pigeonhole's compile errors; we report the first error of a script only",
    ),
    (
        "extensions/body/text.svtest",
        "not passing yet: [Nested Search] line 216: an empty, broken part is not offered to :text",
    ),
    (
        "extensions/duplicate/errors.svtest",
        "counts and words Pigeonhole's compile errors; we report the first error of a script only",
    ),
    (
        "extensions/editheader/errors.svtest",
        "counts and words Pigeonhole's compile errors; we report the first error of a script only",
    ),
    (
        "extensions/editheader/protected.svtest",
        "configured protection (sieve_editheader_protected, forbid_add/forbid_delete) is Pigeonhole configuration; ours protects Received and Auto-Submitted (RFC 5293 §6)",
    ),
    (
        "extensions/enotify/encodeurl.svtest",
        "not passing yet: [:encodeurl variable size limit] line 207: variable 'c' not 4000 bytes long (3998)",
    ),
    (
        "extensions/enotify/errors.svtest",
        "not passing yet: [Invalid URI (FIXME: count only)] line 9: compile should have failed",
    ),
    (
        "extensions/enotify/limits.svtest",
        "sieve_notify_max_notifications = 0 makes notify a compile error in Pigeonhole; ours is a per-run limit (Limits::max_sent_messages) checked when the action is taken",
    ),
    (
        "extensions/enotify/mailto.svtest",
        "notifications from crate::execute (helper D) differ from Pigeonhole's (X-Sieve header, envelope sender settings, duplicate recipients)",
    ),
    (
        "extensions/environment/basic.svtest",
        "checks Pigeonhole's own values of implementation-specific items (name, location)",
    ),
    (
        "extensions/extlists/basic.svtest",
        "extlists (RFC 6134) not implemented: not in issue 18's list",
    ),
    (
        "extensions/extlists/errors.svtest",
        "extlists (RFC 6134) not implemented: not in issue 18's list",
    ),
    (
        "extensions/extlists/multiple.svtest",
        "extlists (RFC 6134) not implemented: not in issue 18's list",
    ),
    (
        "extensions/extlists/valid_ext_list.svtest",
        "extlists (RFC 6134) not implemented: not in issue 18's list",
    ),
    (
        "extensions/imap4flags/errors.svtest",
        "counts and words Pigeonhole's compile errors; we report the first error of a script only",
    ),
    (
        "extensions/imap4flags/execute.svtest",
        "not passing yet: [Flags Side Effect] line 33: invalid number of flags for message in INBOX.Junk",
    ),
    (
        "extensions/imap4flags/flagstore.svtest",
        "expects the $HasNoAttachment keyword Dovecot's mail store adds by itself",
    ),
    (
        "extensions/imap4flags/multiscript.svtest",
        "not passing yet: [Internal Flags] a flag set by one script of a sequence is not stored by the next one's fileinto",
    ),
    (
        "extensions/include/errors.svtest",
        "Pigeonhole resolves includes at compile time; ours run at evaluation (RFC 6609 §3.2 allows either), so these are runtime, not compile, errors",
    ),
    (
        "extensions/index/errors.svtest",
        "counts and words Pigeonhole's compile errors; we report the first error of a script only",
    ),
    (
        "extensions/mailbox/errors.svtest",
        "needs vnd.dovecot.debug (Pigeonhole-specific), not implemented",
    ),
    (
        "extensions/metadata/errors.svtest",
        "mboxmetadata/servermetadata (RFC 5490 §3.3-) not implemented: not in issue 18's list",
    ),
    (
        "extensions/metadata/execute.svtest",
        "mboxmetadata/servermetadata (RFC 5490 §3.3-) not implemented: not in issue 18's list",
    ),
    (
        "extensions/mime/errors.svtest",
        "counts and words Pigeonhole's compile errors; we report the first error of a script only",
    ),
    (
        "extensions/regex/errors.svtest",
        "counts and words Pigeonhole's compile errors; we report the first error of a script only",
    ),
    (
        "extensions/reject/smtp.svtest",
        "the reject DSN is the delivery agent's (helper D) and not produced by crate::execute, so the suite sends none",
    ),
    (
        "extensions/relational/errors.svtest",
        "counts and words Pigeonhole's compile errors; we report the first error of a script only",
    ),
    (
        "extensions/spamvirustest/errors.svtest",
        "counts and words Pigeonhole's compile errors; we report the first error of a script only",
    ),
    (
        "extensions/spamvirustest/spamtest.svtest",
        "scores come from the gateway through Environment, not from Pigeonhole's configured status headers (test_config_set)",
    ),
    (
        "extensions/spamvirustest/spamtestplus.svtest",
        "scores come from the gateway through Environment, not from Pigeonhole's configured status headers (test_config_set)",
    ),
    (
        "extensions/spamvirustest/virustest.svtest",
        "scores come from the gateway through Environment, not from Pigeonhole's configured status headers (test_config_set)",
    ),
    (
        "extensions/special-use/errors.svtest",
        "counts and words Pigeonhole's compile errors; we report the first error of a script only",
    ),
    (
        "extensions/subaddress/config.svtest",
        "configurable separators are Pigeonhole configuration; our separator is '+' (RFC 5233 §4)",
    ),
    (
        "extensions/vacation/message.svtest",
        "the reply from crate::execute (helper D) differs from Pigeonhole's in details this file checks (Subject, To, References); to settle with D",
    ),
    (
        "extensions/vacation/reply.svtest",
        "crate::execute (helper D) answers where Pigeonhole does not (X-Auto-Response-Suppress) and the reverse (sieve_user_email, any recipient: Pigeonhole configuration); to settle with D",
    ),
    (
        "extensions/vacation/utf-8.svtest",
        "the reply's encoded Subject and From from crate::execute (helper D) differ from Pigeonhole's; to settle with D",
    ),
    (
        "extensions/variables/errors.svtest",
        "counts and words Pigeonhole's compile errors; we report the first error of a script only",
    ),
    (
        "extensions/vnd.dovecot/debug/execute.svtest",
        "Pigeonhole-specific vnd.dovecot.debug/environment/report not implemented",
    ),
    (
        "extensions/vnd.dovecot/environment/basic.svtest",
        "Pigeonhole-specific vnd.dovecot.debug/environment/report not implemented",
    ),
    (
        "extensions/vnd.dovecot/environment/variables.svtest",
        "Pigeonhole-specific vnd.dovecot.debug/environment/report not implemented",
    ),
    (
        "extensions/vnd.dovecot/report/errors.svtest",
        "Pigeonhole-specific vnd.dovecot.debug/environment/report not implemented",
    ),
    (
        "extensions/vnd.dovecot/report/execute.svtest",
        "Pigeonhole-specific vnd.dovecot.debug/environment/report not implemented",
    ),
    (
        "failures/fuzz1.svtest",
        "not passing yet: its last check reads folder \"Uninteiesting\", which this file never fills, and expects flags there",
    ),
    (
        "failures/fuzz2.svtest",
        "not passing yet: [sometest] line 34 fails (its test_fail gives no message)",
    ),
    (
        "failures/fuzz4.svtest",
        "a Pigeonhole parser fuzzing case whose test file does not itself compile (`:importance` followed by identifiers); we refuse it too",
    ),
    (
        "failures/mailbox-bad-utf8.svtest",
        "the file encodes invalid UTF-8 in a mailbox name; our strings are UTF-8, so the test file itself is refused at compile time",
    ),
    (
        "multiscript/conflicts.svtest",
        "Pigeonhole lets a later script's reject lose quietly against an earlier keep; ours refuses the conflict as an error (RFC 5429 §2.1)",
    ),
    (
        "plugins/extprograms/errors.svtest",
        "counts and words Pigeonhole's compile errors; we report the first error of a script only",
    ),
    (
        "plugins/extprograms/execute/errors.svtest",
        "counts and words Pigeonhole's compile errors; we report the first error of a script only",
    ),
    (
        "plugins/extprograms/execute/execute.svtest",
        "needs vnd.dovecot.debug and Pigeonhole's test programs (../bin), not implemented",
    ),
    (
        "plugins/extprograms/filter/errors.svtest",
        "counts and words Pigeonhole's compile errors; we report the first error of a script only",
    ),
    (
        "plugins/extprograms/filter/execute.svtest",
        "needs vnd.dovecot.debug and Pigeonhole's test programs (../bin), not implemented",
    ),
    (
        "plugins/extprograms/pipe/errors.svtest",
        "counts and words Pigeonhole's compile errors; we report the first error of a script only",
    ),
    (
        "plugins/extprograms/pipe/execute.svtest",
        "needs vnd.dovecot.debug and Pigeonhole's test programs (../bin), not implemented",
    ),
];

/// The suite's files (at the commit `../shared/testdata/sieve/README.md` names) that pass in
/// full: each must keep passing. A file that is in neither this list nor [`SKIPPED`] came
/// with newer data: it is run and its result printed, and it fails the test only by
/// panicking the interpreter (bad input never panics); judging it is a later change's job.
const PASSING: &[&str] = &[
    "comparators/i-ascii-casemap.svtest",
    "comparators/i-octet.svtest",
    "compile/compile.svtest",
    "compile/warnings.svtest",
    "control-if.svtest",
    "control-stop.svtest",
    "execute/actions.svtest",
    "execute/address-normalize.svtest",
    "execute/errors-cpu-limit.svtest",
    "execute/mailstore.svtest",
    "extensions/body/basic.svtest",
    "extensions/body/match-values.svtest",
    "extensions/body/raw.svtest",
    "extensions/date/basic.svtest",
    "extensions/date/date-parts.svtest",
    "extensions/date/zones.svtest",
    "extensions/duplicate/execute.svtest",
    "extensions/editheader/addheader.svtest",
    "extensions/editheader/alternating.svtest",
    "extensions/editheader/deleteheader.svtest",
    "extensions/editheader/execute.svtest",
    "extensions/editheader/utf8.svtest",
    "extensions/encoded-character.svtest",
    "extensions/enotify/basic.svtest",
    "extensions/enotify/execute.svtest",
    "extensions/enotify/notify_method_capability.svtest",
    "extensions/enotify/valid_notify_method.svtest",
    "extensions/envelope.svtest",
    "extensions/environment/rfc.svtest",
    "extensions/ihave/errors.svtest",
    "extensions/ihave/execute.svtest",
    "extensions/ihave/restrictions.svtest",
    "extensions/imap4flags/basic.svtest",
    "extensions/imap4flags/flagstring.svtest",
    "extensions/imap4flags/hasflag.svtest",
    "extensions/include/execute.svtest",
    "extensions/include/once.svtest",
    "extensions/include/optional.svtest",
    "extensions/include/rfc.svtest",
    "extensions/include/twice.svtest",
    "extensions/include/variables.svtest",
    "extensions/index/basic.svtest",
    "extensions/mailbox/execute.svtest",
    "extensions/mime/address.svtest",
    "extensions/mime/calendar-example.svtest",
    "extensions/mime/content-header.svtest",
    "extensions/mime/execute.svtest",
    "extensions/mime/exists.svtest",
    "extensions/mime/extracttext.svtest",
    "extensions/mime/foreverypart.svtest",
    "extensions/mime/header.svtest",
    "extensions/regex/basic.svtest",
    "extensions/regex/match-values.svtest",
    "extensions/reject/execute.svtest",
    "extensions/relational/basic.svtest",
    "extensions/relational/comparators.svtest",
    "extensions/relational/rfc.svtest",
    "extensions/special-use/execute.svtest",
    "extensions/subaddress/basic.svtest",
    "extensions/subaddress/rfc.svtest",
    "extensions/vacation/errors.svtest",
    "extensions/vacation/execute.svtest",
    "extensions/vacation/smtp.svtest",
    "extensions/variables/basic.svtest",
    "extensions/variables/limits.svtest",
    "extensions/variables/match.svtest",
    "extensions/variables/modifiers.svtest",
    "extensions/variables/quoting.svtest",
    "extensions/variables/regex.svtest",
    "extensions/variables/string.svtest",
    "failures/fuzz3.svtest",
    "lexer.svtest",
    "match-types/contains.svtest",
    "match-types/is.svtest",
    "match-types/matches.svtest",
    "multiscript/basic.svtest",
    "plugins/extprograms/execute/command.svtest",
    "plugins/extprograms/filter/command.svtest",
    "plugins/extprograms/pipe/command.svtest",
    "test-allof.svtest",
    "test-anyof.svtest",
    "test-exists.svtest",
    "test-header.svtest",
    "test-size.svtest",
    "testsuite.svtest",
];

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/sieve/pigeonhole/tests")
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "svtest") {
            out.push(path);
        }
    }
}

#[test]
fn pigeonhole_suite() {
    let dir = suite_dir();
    if !dir.is_dir() {
        println!("pigeonhole suite: {} absent, skipped", dir.display());
        return;
    }
    let mut files = Vec::new();
    collect(&dir, &mut files);
    files.sort();
    let (mut passed, mut failed, mut skipped) = (0usize, 0usize, 0usize);
    let mut skipped_files = 0usize;
    let mut unexpected = Vec::new();
    let mut stale_skips = Vec::new();
    let mut new_files = 0usize;
    for file in &files {
        let relative = file
            .strip_prefix(&dir)
            .unwrap_or(file)
            .to_string_lossy()
            .replace('\\', "/");
        let skip = SKIPPED.iter().find(|(name, _)| *name == relative);
        let started = std::time::Instant::now();
        let verdict = std::panic::catch_unwind(|| mailward_sieve::testsuite::run_file(file, None));
        let reports = match verdict {
            Ok(Ok(reports)) => reports,
            Ok(Err(compile)) => vec![mailward_sieve::testsuite::TestReport {
                name: "(compile)".into(),
                failure: Some(compile),
            }],
            Err(_) => vec![mailward_sieve::testsuite::TestReport {
                name: "(panic)".into(),
                failure: Some("the interpreter panicked".into()),
            }],
        };
        let elapsed = started.elapsed();
        if elapsed.as_secs() >= 1 {
            println!("slow: {relative} took {elapsed:?}");
        }
        let failures: Vec<_> = reports.iter().filter(|r| r.failure.is_some()).collect();
        if let Some((_, reason)) = skip {
            skipped_files += 1;
            skipped += reports.len().max(1);
            if failures.is_empty() && !reports.is_empty() {
                stale_skips.push(relative.clone());
            }
            println!("SKIP {relative}: {reason}");
            if std::env::var_os("PIGEONHOLE_VERBOSE").is_some() {
                for failure in &failures {
                    println!(
                        "  skipped failure [{}]: {}",
                        failure.name,
                        failure.failure.as_deref().unwrap_or("")
                    );
                }
            }
            continue;
        }
        if !PASSING.contains(&relative.as_str()) {
            new_files += 1;
            println!(
                "NEW {relative}: {} of {} subtests fail (not judged yet)",
                failures.len(),
                reports.len()
            );
            if reports.iter().any(|r| r.name == "(panic)") {
                unexpected.push(relative.clone());
            }
            continue;
        }
        passed += reports.len() - failures.len();
        failed += failures.len();
        for failure in failures {
            println!(
                "FAIL {relative} [{}]: {}",
                failure.name,
                failure.failure.as_deref().unwrap_or("")
            );
            unexpected.push(relative.clone());
        }
    }
    println!("pigeonhole suite: {passed} passed, {failed} failed, {skipped} skipped");
    println!(
        "pigeonhole files: {} run, {} skipped, {new_files} new and not judged (subtests above count each test block)",
        files.len() - skipped_files - new_files,
        skipped_files
    );
    for stale in &stale_skips {
        println!("note: {stale} is skipped but passes now");
    }
    unexpected.dedup();
    assert!(unexpected.is_empty(), "files failed: {unexpected:?}");
}
