//! What the interpreter asks of the world it runs in: delivery, `mailward sieve test` and
//! the test suite each provide their own [`Host`].

/// Callbacks for state outside the script. Every method has a default that suits a host
/// with no such state (nothing exists, nothing was seen before, nothing can be included or
/// run), so a host implements only what it has.
pub trait Host {
    /// RFC 5490 §3.2 mailboxexists: the account has this mailbox.
    fn mailbox_exists(&self, _mailbox: &str) -> bool {
        false
    }
    /// RFC 8579 §4 specialuse_exists: a mailbox (this one, or any when `None`) has each of
    /// these special-use attributes.
    fn special_use_exists(&self, _mailbox: Option<&str>, _uses: &[String]) -> bool {
        false
    }
    /// RFC 7352 §3 duplicate: whether `key` was seen within `seconds`; records it unless
    /// a later run is to decide (`:last` semantics are the host's, §3.3).
    fn duplicate_seen(&mut self, _key: &str, _seconds: u64, _last: bool) -> bool {
        false
    }
    /// RFC 5230 §4.1 vacation period (RFC 6131 `:seconds`): whether a reply was sent to
    /// `sender` for `handle` (§4.2) within the last `seconds`; when it was not, the host
    /// records this reply, so the next call within the period answers `true`.
    fn vacation_sent(&mut self, _sender: &str, _handle: &str, _seconds: u64) -> bool {
        false
    }
    /// RFC 6609 include: the source of a script named `name`, personal or `global`.
    fn include_source(&self, _name: &str, _global: bool) -> Option<String> {
        None
    }
    /// Pigeonhole's vnd.dovecot.execute and vnd.dovecot.filter: runs `program` (a name in
    /// the administrator's directory) with `args`, `input` on its stdin; returns its exit
    /// status as success and its output, or `None` when it may not or could not run.
    fn run_program(
        &mut self,
        _kind: crate::ProgramKind,
        _program: &str,
        _args: &[String],
        _input: Option<&[u8]>,
    ) -> Option<(bool, Vec<u8>)> {
        None
    }
}
