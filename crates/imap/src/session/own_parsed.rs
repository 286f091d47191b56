//! Commands mailward reads with its own parsers (imap-codec does not know them: RFC 5464
//! METADATA, RFC 4467 URLAUTH) share one frame: authenticated or selected state only, a
//! BAD for what their parser refused, and the selected mailbox's updates before the tagged
//! completion (RFC 9051 §7.4.1).

use super::{Action, Session, State, split_tagged};
use crate::wire::encode;
use imap_codec::imap_types::core::Tag;

impl Session {
    /// Runs `run` for a command named `name` that its parser read as `result` (`Err`: the
    /// text of the BAD), with `tag` as received.
    pub(super) fn own_parsed_command<C>(
        &mut self,
        name: &'static str,
        tag: Option<&[u8]>,
        result: Result<C, String>,
        run: impl FnOnce(&mut Session, &Tag<'static>, C),
    ) -> Option<Action> {
        self.command = name;
        let tag = tag.and_then(encode::tag);
        if self.user.is_none() {
            let text = format!("{name} not allowed now: log in first");
            return self.bad(tag, None, &text);
        }
        let cmd = match result {
            Ok(c) => c,
            Err(why) => return self.bad(tag, None, &why),
        };
        let Some(tag) = tag else {
            return self.bad(None, None, "Invalid tag");
        };
        let before = self.output.len();
        run(self, &tag, cmd);
        if matches!(self.state, State::Selected(_)) {
            let tail = self.output.split_off(before);
            let (body, tagged) = split_tagged(&tail, tag.as_ref().as_bytes());
            self.output.extend_from_slice(body);
            self.poll_changes();
            self.output.extend_from_slice(tagged);
        }
        None
    }
}
