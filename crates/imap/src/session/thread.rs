//! THREAD and UID THREAD (RFC 5256 §3) with the ORDEREDSUBJECT and REFERENCES algorithms
//! ([`crate::message::thread`]); the response is §4's `* THREAD (1 2)(3 (4)(5))`.
//!
//! ORDEREDSUBJECT needs only the subject and date, taken from the cached ENVELOPE as SORT
//! takes them; REFERENCES reads the header block of every matching message (References is
//! not in the ENVELOPE), on the backend's threads.

use super::sort::{EnvKeys, envelope_keys};
use super::{Action, Session};
use crate::backend::MessageMeta;
use crate::message::TopHeader;
use crate::message::sort::message_ids;
use crate::message::thread::{self, ThreadMessage};
use imap_codec::imap_types::core::{Charset, Tag, Vec1};
use imap_codec::imap_types::extensions::thread::ThreadingAlgorithm;
use imap_codec::imap_types::search::SearchKey;
use std::collections::HashMap;
use std::sync::Mutex;

/// What REFERENCES reads of one message's header.
fn references_keys(raw: &[u8]) -> (EnvKeys, Vec<String>) {
    let top = TopHeader::parse(raw);
    let keys = EnvKeys::of(&top.envelope().to_imap());
    // RFC 5256 §2.2 step 1: the References ids; without any, the first In-Reply-To id.
    let mut refs = top
        .last("References")
        .map(|v| message_ids(&v))
        .unwrap_or_default();
    if refs.is_empty()
        && let Some(id) = &keys.in_reply_to
    {
        refs.push(id.clone());
    }
    (keys, refs)
}

fn thread_message(num: u32, m: &MessageMeta, keys: EnvKeys, refs: Vec<String>) -> ThreadMessage {
    ThreadMessage {
        num,
        order: m.uid,
        date: keys.sent_or_internal(m),
        reply_or_forward: keys.subject.reply_or_forward,
        subject: keys.subject.text.into_bytes(),
        message_id: keys.message_id,
        references: refs,
    }
}

impl Session {
    /// RFC 5256 §3 THREAD.
    pub(super) fn thread(
        &mut self,
        tag: Tag<'static>,
        algorithm: ThreadingAlgorithm<'static>,
        charset: Charset<'static>,
        search: Vec1<SearchKey<'static>>,
        uid: bool,
    ) -> Option<Action> {
        if matches!(algorithm, ThreadingAlgorithm::Other(_)) {
            return self.bad(Some(tag), None, "Unsupported threading algorithm");
        }
        let hits = match self.matching(&tag, Some(&charset), search.as_ref()) {
            Ok(h) => h,
            Err(action) => return action,
        };
        let nums = hits.numbers(uid);
        let b = self.backend.as_deref_mut()?;
        let msgs: Vec<ThreadMessage> = match algorithm {
            ThreadingAlgorithm::References => {
                let uids: Vec<u32> = hits.metas.iter().map(|m| m.uid).collect();
                let read: Mutex<HashMap<u32, (EnvKeys, Vec<String>)>> =
                    Mutex::new(HashMap::with_capacity(uids.len()));
                let visit = |uid: u32, raw: &[u8]| {
                    let k = references_keys(raw);
                    read.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(uid, k);
                };
                if let Err(e) = b.visit_content(&hits.name, &uids, &visit) {
                    self.backend_no(&tag, &e);
                    return None;
                }
                let mut read = read.into_inner().unwrap_or_else(|p| p.into_inner());
                hits.metas
                    .iter()
                    .zip(&nums)
                    .map(|(m, &n)| {
                        let (k, refs) = read.remove(&m.uid).unwrap_or_default();
                        thread_message(n, m, k, refs)
                    })
                    .collect()
            }
            _ => match envelope_keys(b, &hits.name, &hits.metas) {
                Ok(keys) => hits
                    .metas
                    .iter()
                    .zip(&nums)
                    .zip(keys)
                    .map(|((m, &n), k)| thread_message(n, m, k, Vec::new()))
                    .collect(),
                Err(e) => {
                    self.backend_no(&tag, &e);
                    return None;
                }
            },
        };
        let forest = match algorithm {
            ThreadingAlgorithm::References => thread::references(&msgs),
            _ => thread::ordered_subject(&msgs),
        };
        // RFC 5256 §4: `thread-data = "THREAD" [SP 1*thread-list]`.
        let mut line = String::from("* THREAD");
        if !forest.is_empty() {
            line.push(' ');
            forest.write(&msgs, &mut line);
        }
        line.push_str("\r\n");
        self.output.extend_from_slice(line.as_bytes());
        self.tagged(&tag, "OK", None, "THREAD completed");
        None
    }
}
