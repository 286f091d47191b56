//! `mailward logs` (being written).

use std::process::ExitCode;

/// Arguments of `mailward logs`.
#[derive(Debug, clap::Args)]
pub struct LogsArgs {}

pub fn run(_args: LogsArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("mailward logs is not built yet")
}
