//! RFC 7352 duplicate, with the tracking kept by the [`crate::Host`].

use crate::compile::Node;
use crate::eval::{Flow, Run};

/// RFC 7352 §3.3: our default period, one day.
const DEFAULT_SECONDS: u64 = 86_400;

/// Evaluates `duplicate`.
pub fn test(run: &mut Run<'_>, node: &Node) -> Result<bool, Flow> {
    // RFC 7352 §3.1: the key is :uniqueid, else the :header field, else Message-ID.
    let id = if let Some(value) = node.tag_value("uniqueid") {
        Some(run.string(Some(value)))
    } else {
        let header = node
            .tag_value("header")
            .map(|v| run.string(Some(v)))
            .unwrap_or_else(|| "message-id".to_string());
        run.message.fields(&header).next().map(|f| f.unfolded())
    };
    let Some(id) = id else {
        return Ok(false);
    };
    let handle = node
        .tag_value("handle")
        .map(|v| run.string(Some(v)))
        .unwrap_or_default();
    let seconds = Run::number(node.tag_value("seconds")).unwrap_or(DEFAULT_SECONDS);
    let key = format!("{handle}\u{0}{id}");
    Ok(run.host.duplicate_seen(&key, seconds, node.has_tag("last")))
}
