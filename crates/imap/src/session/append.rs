//! APPEND (RFC 9051 §6.3.12) in all its forms: several messages in one command (RFC 3502
//! MULTIAPPEND), messages built from parts of stored ones (RFC 4469 CATENATE, see
//! [`super::catenate`]), literal8 (RFC 3516 §4.4), with RFC 4315 §3 APPENDUID and RFC 7889
//! APPENDLIMIT.
//!
//! Every message is built and checked before any is stored, then all are stored together
//! or none is (RFC 3502 §6.3.11). Each is stored in the form it will be served (see
//! [`crate::message::storage`]).

use super::mailboxes::{fix_trycreate, flag_from_imap};
use super::{Action, Session};
use crate::backend::{AppendOutcome, AppendRequest, BackendError, Flag};
use crate::message::storage::storage_form;
use crate::wire::append::{AppendData, AppendMessage, decode_options};
use crate::wire::extended::Extension;
use imap_codec::imap_types::core::Tag;
use imap_codec::imap_types::datetime::DateTime;
use imap_codec::imap_types::extensions::binary::LiteralOrLiteral8;
use imap_codec::imap_types::flag::Flag as ImapFlag;
use imap_codec::imap_types::mailbox::Mailbox;

/// Why an APPEND is refused before anything is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum AppendFailure {
    /// RFC 4469 §4.1 `NO [BADURL url]`: the first URL that could not be resolved.
    BadUrl(Vec<u8>),
    /// RFC 7889 §4 / RFC 4469 §4.2 `NO [TOOBIG]`: a message over APPENDLIMIT.
    TooBig,
    /// A backend error while resolving a URL (the server's fault, not the URL's).
    Backend(BackendError),
}

/// One message ready to be built: flags and date checked, octets still to gather.
struct Incoming {
    flags: Vec<Flag>,
    internal_date: Option<(i64, i32)>,
    data: AppendData,
}

fn internal_date(date: Option<DateTime>) -> Option<(i64, i32)> {
    date.map(|d| {
        let d = d.as_ref();
        (d.timestamp(), d.offset().local_minus_utc() / 60)
    })
}

/// RFC 4315 §3 uid-set: ascending runs written `a:b`, joined by commas.
pub(super) fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while let Some(&first) = uids.get(i) {
        let mut last = first;
        while let Some(next) = last.checked_add(1)
            && uids.get(i + 1) == Some(&next)
        {
            last = next;
            i += 1;
        }
        if !out.is_empty() {
            out.push(',');
        }
        if first == last {
            out.push_str(&first.to_string());
        } else {
            out.push_str(&format!("{first}:{last}"));
        }
        i += 1;
    }
    out
}

impl Session {
    /// RFC 9051 §6.3.12 APPEND. The messages come from [`Extension::Append`] (every
    /// APPEND the wire reads, see [`crate::wire::append`]); the arguments imap-codec
    /// decoded stand for a plain APPEND that reached here otherwise.
    pub(super) fn append(
        &mut self,
        tag: Tag<'static>,
        mailbox: Mailbox<'static>,
        flags: Vec<ImapFlag<'static>>,
        date: Option<DateTime>,
        message: LiteralOrLiteral8<'static>,
    ) -> Option<Action> {
        let incoming = match std::mem::take(&mut self.ext) {
            Extension::Append(cmd) => {
                let mut out = Vec::with_capacity(cmd.messages.len());
                for m in cmd.messages {
                    let AppendMessage { flags, date, data } = m;
                    // RFC 3502 §6: each message has its own flags and date-time, with the
                    // grammar of RFC 9051 §9.
                    let Some((flags, date)) = decode_options(flags.as_deref(), date.as_deref())
                    else {
                        return self.bad(Some(tag), None, "Invalid flags or date-time in APPEND");
                    };
                    out.push(Incoming {
                        flags: flags.iter().filter_map(flag_from_imap).collect(),
                        internal_date: internal_date(date),
                        data,
                    });
                }
                out
            }
            Extension::AppendRefused(e) => {
                // RFC 5530 §3 LIMIT: a server limit, not a syntax error.
                self.tagged(&tag, "NO", Some("LIMIT"), &format!("APPEND refused: {e}"));
                return None;
            }
            _ => {
                let (octets, binary) = match message {
                    LiteralOrLiteral8::Literal(l) => (l.into_inner().into_owned(), false),
                    LiteralOrLiteral8::Literal8(l) => (l.data.into_owned(), true),
                };
                vec![Incoming {
                    flags: flags.iter().filter_map(flag_from_imap).collect(),
                    internal_date: internal_date(date),
                    data: AppendData::Literal { octets, binary },
                }]
            }
        };
        let name = self.name_arg(&tag, &mailbox)?;
        let mut reqs = Vec::with_capacity(incoming.len());
        for m in incoming {
            let octets = match m.data {
                AppendData::Literal { octets, .. } => Ok(octets),
                AppendData::Catenate(parts) => self.catenate(&parts),
            };
            let octets = match octets {
                Ok(o) if o.len() as u64 > self.cfg.limits.max_append => Err(AppendFailure::TooBig),
                other => other,
            };
            match octets {
                Ok(o) => reqs.push(AppendRequest {
                    flags: m.flags,
                    internal_date: m.internal_date,
                    message: storage_form(&o),
                }),
                Err(f) => {
                    self.refuse_append(&tag, &name, f);
                    return None;
                }
            }
        }
        let Some(backend) = self.backend.as_deref_mut() else {
            self.tagged(&tag, "NO", Some("UNAVAILABLE"), "Not logged in");
            return None;
        };
        let stored = if reqs.len() == 1 {
            reqs.into_iter().map(|r| backend.append(&name, r)).collect()
        } else {
            backend.append_many(&name, reqs)
        };
        let stored: Vec<AppendOutcome> = match stored {
            Ok(v) => v,
            Err(e) => {
                self.backend_no(&tag, &e);
                // RFC 9051 §6.3.12: NO [TRYCREATE] when the mailbox does not exist.
                fix_trycreate(&mut self.output, &tag);
                return None;
            }
        };
        let uid_validity = stored.first().map_or(0, |o| o.uid_validity);
        let uids: Vec<u32> = stored.iter().map(|o| o.uid).collect();
        self.tagged(
            &tag,
            "OK",
            Some(&format!("APPENDUID {uid_validity} {}", uid_set(&uids))),
            "APPEND completed",
        );
        None
    }

    /// Answers an APPEND refused before anything was stored. A missing destination comes
    /// first: the client creates it and tries again (RFC 9051 §6.3.12 TRYCREATE).
    fn refuse_append(&mut self, tag: &Tag<'static>, name: &str, failure: AppendFailure) {
        let missing = self
            .backend
            .as_deref_mut()
            .is_some_and(|b| matches!(b.status(name), Err(BackendError::NoSuchMailbox)));
        if missing {
            let text = BackendError::NoSuchMailbox.to_string();
            self.tagged(tag, "NO", Some("TRYCREATE"), &text);
            return;
        }
        match failure {
            AppendFailure::BadUrl(url) => {
                let code = format!("BADURL {}", crate::wire::imap_url::for_response(&url));
                self.tagged(tag, "NO", Some(&code), "CATENATE URL cannot be resolved");
            }
            AppendFailure::TooBig => {
                self.tagged(
                    tag,
                    "NO",
                    Some("TOOBIG"),
                    "Message is larger than APPENDLIMIT",
                );
            }
            AppendFailure::Backend(e) => self.backend_no(tag, &e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_compress_runs() {
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(uid_set(&[5, 6, 7]), "5:7");
        assert_eq!(uid_set(&[1, 3, 4, 9]), "1,3:4,9");
        assert_eq!(uid_set(&[]), "");
        assert_eq!(uid_set(&[u32::MAX - 1, u32::MAX]), "4294967294:4294967295");
    }
}
