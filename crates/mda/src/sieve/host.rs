//! The [`Host`] delivery gives the interpreter: the account's folders, duplicate and
//! vacation state in the store, personal includes, and programs from the administrator's
//! directory.

use super::backend::SieveBackend;
use super::program::{self, ProgramLimits};
use mailward_event::{Event, ProgramRun, Scope};
use mailward_sieve::{Host, ProgramKind};
use mailward_store::{Account, SieveStateKind};

/// The host of one account's run.
pub struct DeliveryHost<'a> {
    pub backend: &'a dyn SieveBackend,
    pub account: &'a Account,
    pub now: i64,
    /// Where programs come from, when this script may run them.
    pub programs: Option<&'a ProgramLimits>,
    /// The queue ID events are written under.
    pub queue_id: &'a str,
}

impl Host for DeliveryHost<'_> {
    fn mailbox_exists(&self, mailbox: &str) -> bool {
        self.backend.folder_exists(self.account, mailbox)
    }

    fn special_use_exists(&self, mailbox: Option<&str>, uses: &[String]) -> bool {
        uses.iter().all(|special_use| {
            match self.backend.special_use_folder(self.account, special_use) {
                Some(found) => mailbox.is_none_or(|wanted| found == wanted),
                None => false,
            }
        })
    }

    fn duplicate_seen(&mut self, key: &str, seconds: u64, last: bool) -> bool {
        self.backend.state_check(
            &self.account.address,
            SieveStateKind::Duplicate,
            key,
            seconds,
            last,
            self.now,
        )
    }

    fn vacation_sent(&mut self, sender: &str, handle: &str, seconds: u64) -> bool {
        self.backend.state_check(
            &self.account.address,
            SieveStateKind::Vacation,
            &vacation_key(sender, handle),
            seconds,
            false,
            self.now,
        )
    }

    fn include_source(&self, name: &str, global: bool) -> Option<String> {
        if global {
            return None;
        }
        let bytes = self.backend.personal_script(&self.account.address, name)?;
        String::from_utf8(bytes).ok()
    }

    fn run_program(
        &mut self,
        kind: ProgramKind,
        name: &str,
        args: &[String],
        input: Option<&[u8]>,
    ) -> Option<(bool, Vec<u8>)> {
        let limits = self.programs?;
        let run = program::run(limits, name, args, input);
        emit_program_run(self.queue_id, &self.account.address, kind, name, &run);
        match run.status {
            program::ProgramStatus::Refused(_) | program::ProgramStatus::Error(_) => None,
            status => Some((status.success(), run.output)),
        }
    }
}

/// The state key of a vacation period: the sender (case-insensitive) and the handle
/// (RFC 5230 §4.2).
pub fn vacation_key(sender: &str, handle: &str) -> String {
    format!("{}\0{handle}", sender.trim().to_ascii_lowercase())
}

/// The `program_run` event.
pub fn emit_program_run(
    queue_id: &str,
    account: &str,
    kind: ProgramKind,
    name: &str,
    run: &program::ProgramRun,
) {
    let kind = match kind {
        ProgramKind::Pipe => "pipe",
        ProgramKind::Filter => "filter",
        ProgramKind::Execute => "execute",
    };
    Scope::message(queue_id).emit(Event::ProgramRun(ProgramRun {
        account: account.into(),
        kind: kind.into(),
        name: name.into(),
        status: run.status.label().into(),
        ms: u64::try_from(run.elapsed.as_millis()).unwrap_or(u64::MAX),
    }));
}
