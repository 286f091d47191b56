//! RFC 5235 spamtest, spamtestplus and virustest: the gateway's verdict from the
//! [`crate::Environment`].

use crate::compile::Node;
use crate::eval::{Flow, Run};

/// Evaluates `spamtest` or `virustest`.
pub fn test(run: &mut Run<'_>, node: &Node) -> Result<bool, Flow> {
    let score = if node.name == "virustest" {
        run.env.virus
    } else {
        run.env.spam
    };
    // RFC 5235 §3.1/§3.2: "0" when the message was not tested.
    let value = match score {
        None => "0".to_string(),
        Some(score) if node.has_tag("percent") => score.percent.min(100).to_string(),
        Some(score) => score.level.min(10).to_string(),
    };
    let keys = run.strings(node.positional.first());
    run.match_values(node, &[value], &keys)
}
