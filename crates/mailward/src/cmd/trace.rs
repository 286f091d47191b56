//! `mailward trace` (being written).

use std::process::ExitCode;

/// Arguments of `mailward trace`.
#[derive(Debug, clap::Args)]
pub struct TraceArgs {}

pub fn run(_args: TraceArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("mailward trace is not built yet")
}
