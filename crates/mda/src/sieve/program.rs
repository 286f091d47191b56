//! Triggered programs (Pigeonhole's extprograms: vnd.dovecot.pipe, filter, execute): only
//! programs the administrator put in the program directory, run without a shell (the
//! arguments as a list, no PATH lookup, an empty environment but a fixed PATH), with a
//! time limit (killed when it is reached) and an output limit; the exit status is the
//! result.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Arguments one program call may have.
pub const MAX_ARGS: usize = 64;
/// Bytes of one argument.
pub const MAX_ARG_LEN: usize = 4096;

/// How a program run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgramStatus {
    /// It exited with this code.
    Exited(i32),
    /// It was killed by a signal (not ours).
    Signal,
    /// It ran past the time limit and was killed.
    Timeout,
    /// It wrote more than the output limit and was killed.
    TooMuchOutput,
    /// It may not run (bad name, not in the directory, no directory configured).
    Refused(String),
    /// It could not be started.
    Error(String),
}

impl ProgramStatus {
    /// Exit status 0.
    pub fn success(&self) -> bool {
        matches!(self, ProgramStatus::Exited(0))
    }

    /// The `status` field of the `program_run` event.
    pub fn label(&self) -> String {
        match self {
            ProgramStatus::Exited(code) => code.to_string(),
            ProgramStatus::Signal => "signal".into(),
            ProgramStatus::Timeout => "timeout".into(),
            ProgramStatus::TooMuchOutput => "output_limit".into(),
            ProgramStatus::Refused(_) => "refused".into(),
            ProgramStatus::Error(_) => "error".into(),
        }
    }
}

/// One run's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramRun {
    pub status: ProgramStatus,
    pub output: Vec<u8>,
    pub elapsed: Duration,
}

/// Where programs may come from and how long they may run.
#[derive(Debug, Clone)]
pub struct ProgramLimits {
    pub dir: PathBuf,
    pub timeout: Duration,
    pub output_limit: usize,
}

/// The program `name` in `dir`: a plain name (no `/`, not `.` or `..`, no NUL or control
/// characters) of a regular file there.
pub fn resolve(dir: &Path, name: &str) -> Result<PathBuf, String> {
    if name.is_empty()
        || name == "."
        || name == ".."
        || name.contains('/')
        || name.chars().any(char::is_control)
    {
        return Err(format!("{name:?} is not a program name"));
    }
    if !dir.is_absolute() {
        return Err("the program directory is not absolute".into());
    }
    let path = dir.join(name);
    match std::fs::metadata(&path) {
        Ok(meta) if meta.is_file() => Ok(path),
        Ok(_) => Err(format!("{name} is not a file")),
        Err(e) => Err(format!("{name}: {e}")),
    }
}

/// Runs `name` from `limits.dir` with `args`, `input` on its standard input (none: empty).
pub fn run(
    limits: &ProgramLimits,
    name: &str,
    args: &[String],
    input: Option<&[u8]>,
) -> ProgramRun {
    let started = Instant::now();
    let done = |status, output| ProgramRun {
        status,
        output,
        elapsed: started.elapsed(),
    };
    let path = match resolve(&limits.dir, name) {
        Ok(path) => path,
        Err(reason) => return done(ProgramStatus::Refused(reason), Vec::new()),
    };
    if args.len() > MAX_ARGS
        || args
            .iter()
            .any(|arg| arg.len() > MAX_ARG_LEN || arg.contains('\0'))
    {
        return done(
            ProgramStatus::Refused("too many or too long arguments".into()),
            Vec::new(),
        );
    }
    let mut command = Command::new(&path);
    // A process group of its own, so a time-out kills what it started too (a child left
    // behind would hold the output pipe open).
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = match command
        .args(args)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .current_dir(&limits.dir)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => return done(ProgramStatus::Error(e.to_string()), Vec::new()),
    };
    // Input and output in threads of their own: a program that writes before it has read
    // everything never blocks against us.
    let writer = match (child.stdin.take(), input) {
        (Some(mut stdin), Some(input)) => {
            let input = input.to_vec();
            Some(std::thread::spawn(move || {
                let _ = stdin.write_all(&input);
            }))
        }
        _ => None,
    };
    let output_limit = limits.output_limit;
    let reader = child.stdout.take().map(|stdout| {
        std::thread::spawn(move || {
            let mut out = Vec::new();
            let mut limited = stdout.take(output_limit as u64 + 1);
            let _ = limited.read_to_end(&mut out);
            out
        })
    });
    let deadline = started + limits.timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => break None,
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => break None,
        }
    };
    let timed_out = status.is_none();
    if timed_out {
        kill_group(&child);
        let _ = child.kill();
        let _ = child.wait();
    }
    if let Some(writer) = writer {
        let _ = writer.join();
    }
    let output = reader
        .and_then(|reader| reader.join().ok())
        .unwrap_or_default();
    let status = match status {
        None => ProgramStatus::Timeout,
        Some(_) if output.len() > output_limit => ProgramStatus::TooMuchOutput,
        Some(status) => match status.code() {
            Some(code) => ProgramStatus::Exited(code),
            None => ProgramStatus::Signal,
        },
    };
    done(status, output)
}

/// Kills the child's process group (it leads one: `process_group(0)`).
fn kill_group(child: &std::process::Child) {
    let pid = rustix::process::Pid::from_child(child);
    let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn program(dir: &Path, name: &str, body: &str) {
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn limits(dir: &Path) -> ProgramLimits {
        ProgramLimits {
            dir: dir.to_path_buf(),
            timeout: Duration::from_secs(5),
            output_limit: 1000,
        }
    }

    #[test]
    fn program_gets_its_arguments_as_a_list_and_its_input_and_its_exit_status_counts() {
        let dir = tempfile::tempdir().unwrap();
        program(dir.path(), "echo-args", r#"printf '%s|' "$@"; cat; exit 3"#);
        let run = run(
            &limits(dir.path()),
            "echo-args",
            &["a b".into(), "$(id)".into(), ";x".into()],
            Some(b"in"),
        );
        assert_eq!(run.status, ProgramStatus::Exited(3));
        assert_eq!(run.output, b"a b|$(id)|;x|in");
        assert!(!run.status.success());
    }

    #[test]
    fn program_names_outside_the_directory_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["../bin/sh", "/bin/sh", "sh", "..", ""] {
            let run = run(&limits(dir.path()), name, &[], None);
            assert!(matches!(run.status, ProgramStatus::Refused(_)), "{name}");
        }
    }

    #[test]
    fn program_past_the_time_limit_is_killed() {
        let dir = tempfile::tempdir().unwrap();
        // Not `exec`: the shell's child holds the output open unless the group is killed.
        program(dir.path(), "sleepy", "sleep 30; echo late");
        let mut limits = limits(dir.path());
        limits.timeout = Duration::from_millis(200);
        let run = run(&limits, "sleepy", &[], None);
        assert_eq!(run.status, ProgramStatus::Timeout);
        assert!(run.elapsed < Duration::from_secs(5));
    }

    #[test]
    fn program_output_past_the_limit_is_a_failure() {
        let dir = tempfile::tempdir().unwrap();
        program(dir.path(), "chatty", "head -c 5000 /dev/zero");
        let run = run(&limits(dir.path()), "chatty", &[], None);
        assert_eq!(run.status, ProgramStatus::TooMuchOutput);
    }
}
