//! The command hook: the file on standard input, its name, digest and media type in the
//! environment; the verdict from the exit status (0 clean, 1 suspicious, 2 malicious,
//! anything else a failure) and the first line of standard output as its detail.

use super::{FileToCheck, HookError, HookVerdict, Judgement, detail_line};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

/// The most of the command's output read.
const MAX_OUTPUT: u64 = 64 * 1024;

/// Runs `argv` on `file` within `timeout`; on timeout the command and everything it
/// started (its process group) are killed.
pub async fn run(
    argv: &[String],
    file: &FileToCheck<'_>,
    timeout: Duration,
) -> Result<HookVerdict, HookError> {
    let (program, args) = argv.split_first().ok_or(HookError::NoCommand)?;
    let mut child = Command::new(program)
        .args(args)
        .env("MAILWARD_FILENAME", &file.name)
        .env("MAILWARD_SHA256", &file.sha256)
        .env("MAILWARD_CONTENT_TYPE", &file.content_type)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        // Its own process group, so a timeout kills what it started too.
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| HookError::Spawn(program.clone(), e))?;
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let pid = child.id();

    let outcome = tokio::time::timeout(timeout, async {
        let write = async {
            if let Some(mut stdin) = stdin {
                // A hook that does not read its input (it looks at the digest only) closes
                // the pipe: not a failure.
                let _ = stdin.write_all(file.bytes).await;
            }
        };
        let read = async {
            let mut out = Vec::new();
            if let Some(stdout) = stdout {
                stdout.take(MAX_OUTPUT).read_to_end(&mut out).await?;
            }
            Ok::<_, std::io::Error>(out)
        };
        let ((), out) = tokio::join!(write, read);
        let out = out?;
        let status = child.wait().await?;
        Ok::<_, std::io::Error>((status, out))
    })
    .await;

    let (status, out) = match outcome {
        Ok(result) => result.map_err(HookError::Io)?,
        Err(_) => {
            kill_group(pid);
            let _ = child.kill().await;
            return Err(HookError::Timeout(timeout));
        }
    };
    let detail = detail_line(&out);
    let judgement = match status.code() {
        Some(0) => Judgement::Clean,
        Some(1) => Judgement::Suspicious,
        Some(2) => Judgement::Malicious,
        _ => return Err(HookError::Status(status.to_string())),
    };
    Ok(HookVerdict { judgement, detail })
}

/// SIGKILL to the hook's process group (its pid is the group's id: `process_group(0)`).
fn kill_group(pid: Option<u32>) {
    let pid = pid
        .and_then(|p| i32::try_from(p).ok())
        .and_then(rustix::process::Pid::from_raw);
    if let Some(pid) = pid {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}
