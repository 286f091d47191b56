//! What a user of the library sees from `compile` + `evaluate`: actions, the implicit
//! keep, limits and errors.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test: a panic is a failing test.

use mailward_sieve::{Action, CompileOptions, Envelope, Environment, Host, Limits, Outcome};

const MESSAGE: &[u8] = b"From: \"Bob, B.\" <bob@example.org>\r\nTo: team: alice@example.com, carol+lists@example.com;\r\nSubject: =?UTF-8?Q?caf=C3=A9?= report\r\nMessage-ID: <m1@example.org>\r\n\r\nHello invoice\r\n";

#[derive(Default)]
struct TestHost {
    seen: Vec<String>,
    includes: Vec<(&'static str, &'static str)>,
}

impl Host for TestHost {
    fn duplicate_seen(&mut self, key: &str, _seconds: u64, _last: bool) -> bool {
        if self.seen.iter().any(|k| k == key) {
            return true;
        }
        self.seen.push(key.to_string());
        false
    }
    fn include_source(&self, name: &str, _global: bool) -> Option<String> {
        self.includes
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| s.to_string())
    }
}

fn run_with(source: &str, options: &CompileOptions, host: &mut TestHost) -> Outcome {
    let script = mailward_sieve::compile(source, options).unwrap();
    let envelope = Envelope {
        from: "bob@example.org".into(),
        to: "alice@example.com".into(),
        ..Envelope::default()
    };
    mailward_sieve::evaluate(&script, MESSAGE, &envelope, &Environment::default(), host)
}

fn run(source: &str) -> Outcome {
    run_with(source, &CompileOptions::default(), &mut TestHost::default())
}

fn implicit_keep() -> Action {
    Action::Keep {
        flags: Vec::new(),
        implicit: true,
    }
}

fn fileinto(mailbox: &str) -> Action {
    Action::FileInto {
        mailbox: mailbox.into(),
        flags: Vec::new(),
        copy: false,
        create: false,
        special_use: None,
    }
}

#[test]
fn empty_script_keeps_the_message() {
    assert_eq!(run("").actions, vec![implicit_keep()]);
}

#[test]
fn header_values_are_decoded_and_addresses_read_through_groups() {
    let outcome = run("require \"fileinto\";\n\
         if header :contains \"subject\" \"café\" { fileinto \"Decoded\"; }\n\
         if address :localpart :is \"to\" \"carol+lists\" { fileinto \"Group\"; }\n\
         if address :all :is \"from\" \"bob@example.org\" { fileinto \"Named\"; }");
    assert_eq!(
        outcome.actions,
        vec![fileinto("Decoded"), fileinto("Group"), fileinto("Named")]
    );
}

#[test]
fn the_same_fileinto_twice_is_one_action() {
    let outcome =
        run("require \"fileinto\"; fileinto \"A\"; fileinto \"A\"; keep; fileinto \"INBOX\";");
    assert_eq!(outcome.actions.len(), 2, "{:?}", outcome.actions);
}

#[test]
fn regress_runaway_script_is_stopped_and_the_message_kept() {
    let options = CompileOptions {
        limits: Limits {
            max_steps: 50,
            ..Limits::default()
        },
        ..CompileOptions::default()
    };
    let mut source = String::from("require \"fileinto\";\n");
    for i in 0..100 {
        source.push_str(&format!("fileinto \"F{}\";\n", i % 3));
    }
    let outcome = run_with(&source, &options, &mut TestHost::default());
    assert_eq!(outcome.actions, vec![implicit_keep()]);
    assert!(
        outcome.errors[0].message.contains("steps"),
        "{:?}",
        outcome.errors
    );
}

#[test]
fn reject_after_fileinto_is_an_error_and_the_message_kept() {
    let outcome = run("require [\"fileinto\", \"reject\"]; fileinto \"A\"; reject \"no\";");
    assert_eq!(outcome.actions, vec![implicit_keep()]);
    assert_eq!(outcome.errors.len(), 1);
}

#[test]
fn unknown_extension_and_missing_require_are_compile_errors() {
    let err =
        mailward_sieve::compile("require \"frobnicate\";", &CompileOptions::default()).unwrap_err();
    assert!(err.message.contains("frobnicate"));
    let err =
        mailward_sieve::compile("\n  fileinto \"A\";", &CompileOptions::default()).unwrap_err();
    assert_eq!((err.line, err.column), (2, 3));
    // The test suite's extension is never available to production scripts.
    assert!(
        mailward_sieve::compile(
            "require \"vnd.dovecot.testsuite\";",
            &CompileOptions::default()
        )
        .is_err()
    );
    // Programs only when allowed.
    assert!(
        mailward_sieve::compile("require \"vnd.dovecot.pipe\";", &CompileOptions::default())
            .is_err()
    );
}

#[test]
fn editheader_changes_come_back_as_the_edited_message() {
    let outcome =
        run("require \"editheader\"; addheader \"X-Sorted\" \"yes\"; deleteheader \"subject\";");
    let edited = String::from_utf8(outcome.edited.unwrap()).unwrap();
    assert!(edited.starts_with("X-Sorted: yes\r\n"), "{edited}");
    assert!(!edited.to_ascii_lowercase().contains("subject:"));
    assert!(edited.ends_with("\r\n\r\nHello invoice\r\n"));
}

#[test]
fn variables_and_match_variables() {
    let outcome = run("require [\"variables\", \"fileinto\"];\n\
         if header :matches \"from\" \"*<*@*>\" { set :upperfirst \"who\" \"${2}\"; fileinto \"From/${who}/${3}\"; }");
    assert_eq!(outcome.actions, vec![fileinto("From/Bob/example.org")]);
}

#[test]
fn duplicate_asks_the_host() {
    let mut host = TestHost::default();
    let source = "require [\"duplicate\", \"fileinto\"]; if duplicate { fileinto \"Dup\"; }";
    let options = CompileOptions::default();
    assert_eq!(
        run_with(source, &options, &mut host).actions,
        vec![implicit_keep()]
    );
    assert_eq!(
        run_with(source, &options, &mut host).actions,
        vec![fileinto("Dup")]
    );
}

#[test]
fn include_runs_the_hosts_script_and_a_missing_one_keeps() {
    let mut host = TestHost {
        includes: vec![(
            "sub",
            "require [\"fileinto\", \"include\"]; fileinto \"Sub\"; return; fileinto \"Never\";",
        )],
        ..TestHost::default()
    };
    let options = CompileOptions::default();
    let outcome = run_with(
        "require \"include\"; include \"sub\"; keep;",
        &options,
        &mut host,
    );
    assert_eq!(outcome.actions.len(), 2, "{:?}", outcome);
    assert_eq!(outcome.actions[0], fileinto("Sub"));
    let outcome = run_with(
        "require \"include\"; include \"missing\";",
        &options,
        &mut host,
    );
    assert_eq!(outcome.actions, vec![implicit_keep()]);
    assert_eq!(outcome.errors.len(), 1);
}

#[test]
fn vacation_produces_the_action_with_its_period() {
    let outcome = run(
        "require [\"vacation\", \"vacation-seconds\"]; vacation :seconds 3600 :subject \"Away\" \"Back soon\";",
    );
    match &outcome.actions[0] {
        Action::Vacation {
            to,
            seconds,
            subject,
            ..
        } => {
            assert_eq!(to, "bob@example.org");
            assert_eq!(*seconds, 3600);
            assert_eq!(subject.as_deref(), Some("Away"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(outcome.actions[1], implicit_keep());
}

#[test]
fn regress_expensive_regex_is_stopped_by_the_step_limit() {
    // A regex search costs pattern × text; it is charged before it runs (Pigeonhole's
    // errors-cpu-limit case took a minute before this).
    let source = "require [\"regex\", \"variables\"];\n\
         set \"a\" \"ABCDEFGHIJKLMNOPQRSTUVWXYZ\";\n\
         set \"b\" \"${a}${a}${a}${a}${a}${a}${a}${a}\";\n\
         set \"c\" \"${b}${b}${b}${b}${b}${b}${b}${b}\";\n\
         if string :regex \"${c}\" \"^((A)|(AB)|(ABC)|(ABCD)|(B)|(BC)|(C)|(CD))+$\" { discard; }";
    let options = CompileOptions {
        limits: Limits {
            max_steps: 50,
            ..Limits::default()
        },
        ..CompileOptions::default()
    };
    let outcome = run_with(source, &options, &mut TestHost::default());
    assert_eq!(outcome.actions, vec![implicit_keep()]);
    assert!(
        outcome.errors[0].message.contains("steps"),
        "{:?}",
        outcome.errors
    );
}

#[test]
fn compiled_scripts_are_shared_between_threads() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<mailward_sieve::Script>();
    let script = mailward_sieve::compile("keep;", &CompileOptions::default()).unwrap();
    let handle = std::thread::spawn(move || {
        mailward_sieve::evaluate(
            &script,
            MESSAGE,
            &Envelope::default(),
            &Environment::default(),
            &mut TestHost::default(),
        )
        .actions
        .len()
    });
    assert_eq!(handle.join().unwrap(), 1);
}

#[test]
fn regress_literal_redirect_addresses_are_checked_at_compile_time() {
    // An invalid literal address is refused when the script is uploaded, not at delivery.
    let err = mailward_sieve::compile("redirect \"not an address\";", &CompileOptions::default())
        .unwrap_err();
    assert!(err.message.contains("invalid address"), "{err}");
    // Display names, spaces around the parts and needed quotes are accepted.
    let outcome = run("redirect \" Stephan Bosch < stephan @ example.org > \";\n\
         redirect \"\\\"Stephan Bosch\\\"@example.org\";");
    assert_eq!(
        outcome.actions,
        vec![
            Action::Redirect {
                address: "stephan@example.org".into(),
                copy: false
            },
            Action::Redirect {
                address: "\"Stephan Bosch\"@example.org".into(),
                copy: false
            },
        ]
    );
}
