//! CATENATE (RFC 4469 §3): the octets of a message built from literals and from messages
//! or parts of messages of the same user, named by relative IMAP URLs (RFC 5092, read by
//! [`crate::wire::imap_url`]).
//!
//! A URL part contributes "the octets of the body part pointed to by that URL ... as if
//! the literal returned in a FETCH BODY response were put in place" (§3), unchanged and
//! without setting `\Seen`. A URL that names no message or part, a mailbox that is not
//! there or whose UIDVALIDITY changed, is `NO [BADURL url]` (§4.1); a result over the
//! APPENDLIMIT is `NO [TOOBIG]` (§4.2).

use super::append::AppendFailure;
use super::{Session, State};
use crate::backend::BackendError;
use crate::message::{Message, section, split_section};
use crate::wire::append::CatPart;
use crate::wire::imap_url;

impl Session {
    /// The octets of a CATENATE list, in order.
    pub(super) fn catenate(&mut self, parts: &[CatPart]) -> Result<Vec<u8>, AppendFailure> {
        let limit = self.cfg.limits.max_append;
        let mut out = Vec::new();
        for part in parts {
            match part {
                CatPart::Text { octets, .. } => out.extend_from_slice(octets),
                CatPart::Url(url) => {
                    let octets = self.url_octets(url)?;
                    out.extend_from_slice(&octets);
                }
            }
            // RFC 4469 §4.2: checked as the message grows, so a few URLs of large
            // messages cannot build an unbounded one in memory.
            if out.len() as u64 > limit {
                return Err(AppendFailure::TooBig);
            }
        }
        Ok(out)
    }

    /// What one URL names (RFC 4469 §3: relative to `imap://user@server/`, or to the
    /// selected mailbox).
    fn url_octets(&mut self, url: &[u8]) -> Result<Vec<u8>, AppendFailure> {
        let bad = || AppendFailure::BadUrl(url.to_vec());
        let parsed = imap_url::parse(url).map_err(|_| bad())?;
        let selected = match &self.state {
            State::Selected(sel) => Some((sel.name.clone(), sel.uid_validity)),
            _ => None,
        };
        let mailbox = match (&parsed.mailbox, &selected) {
            (Some(m), _) => m.clone(),
            (None, Some((name, _))) => name.clone(),
            // A URL relative to a mailbox with none selected.
            (None, None) => return Err(bad()),
        };
        let section = match parsed.section.as_deref() {
            Some(text) => Some(imap_url::section_of(text).ok_or_else(bad)?),
            None => None,
        };
        let backend = self.backend.as_deref_mut().ok_or(AppendFailure::Backend(
            BackendError::Unavailable("not logged in".into()),
        ))?;
        // Internal errors are the server's; anything else means the URL names nothing.
        let fail = |e: BackendError| match e {
            BackendError::Internal(_) | BackendError::Unavailable(_) => AppendFailure::Backend(e),
            _ => bad(),
        };
        if let Some(wanted) = parsed.uid_validity {
            // RFC 5092 §6: a UIDVALIDITY that no longer holds makes the URL invalid.
            let current = match &selected {
                Some((name, v)) if *name == mailbox => *v,
                _ => backend.status(&mailbox).map_err(fail)?.uid_validity,
            };
            if current != wanted {
                return Err(bad());
            }
        }
        let raw = backend.message(&mailbox, parsed.uid).map_err(fail)?;
        let msg = Message::parse(&raw);
        let bytes: Vec<u8> = match &section {
            None => msg.data().to_vec(),
            Some(s) => {
                let (path, spec) = split_section(Some(s));
                // RFC 4469 §4.1: an invalid body part is a bad URL (FETCH would answer
                // with an empty string).
                if !path.is_empty() && section::resolve(msg.root(), &path).is_none() {
                    return Err(bad());
                }
                msg.section(&path, &spec).into_owned()
            }
        };
        Ok(match parsed.partial {
            // RFC 5092 §3: a partial range without a length runs to the end.
            Some((origin, len)) => {
                section::partial(&bytes, origin, len.unwrap_or(u32::MAX)).to_vec()
            }
            None => bytes,
        })
    }
}
