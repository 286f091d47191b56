//! COPY (RFC 9051 §6.4.7) and MOVE (RFC 6851): files hard-linked when possible, flags and
//! INTERNALDATE kept, UIDs reported for COPYUID (RFC 4315 §3).

use super::{AccessError, Folder, MailAccess, Message};
use crate::error::StoreError;

/// A copy's UIDs (for COPYUID, RFC 4315 §3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Copied {
    pub uidvalidity: u32,
    /// (source UID, destination UID), in source UID order.
    pub uids: Vec<(u32, u32)>,
}

impl MailAccess {
    /// COPY (RFC 9051 §6.4.7): the messages with `uids` (that still exist) into folder
    /// `to`, keeping flags and INTERNALDATE. Files are hard-linked when possible.
    pub fn copy(&self, from: &Folder, uids: &[u32], to: &str) -> Result<Copied, AccessError> {
        let target = self.require(to)?;
        let dst_dir = self.dir_of(&target.name)?;
        let set: std::collections::HashSet<u32> = uids.iter().copied().collect();
        let wanted: Vec<Message> = self
            .messages(from.id)?
            .into_iter()
            .filter(|m| set.contains(&m.uid))
            .collect();
        let total: u64 = wanted.iter().map(|m| m.size).sum();
        self.check_quota(&self.store.mail_conn(), total)?;
        let mut out = Copied {
            uidvalidity: target.uidvalidity,
            uids: Vec::with_capacity(wanted.len()),
        };
        for m in wanted {
            let src = match self.path_of(from, &m) {
                Ok(p) => p,
                Err(AccessError::Expunged) => continue,
                Err(e) => return Err(e),
            };
            let base = self.unique_name(m.size as usize);
            let tmp = dst_dir.join("tmp").join(&base);
            if std::fs::hard_link(&src, &tmp).is_err() {
                std::fs::copy(&src, &tmp).map_err(|e| StoreError::io(&src, e))?;
                std::fs::File::open(&tmp)
                    .and_then(|f| f.sync_all())
                    .map_err(|e| StoreError::io(&tmp, e))?;
            }
            let copy = Message {
                filename: base,
                in_cur: true,
                ..m.clone()
            };
            let (_, uid) = self.insert_file(&target, &dst_dir, &tmp, copy)?;
            out.uids.push((m.uid, uid));
        }
        Ok(out)
    }

    /// MOVE (RFC 6851 §3.1): copy, then remove from the source.
    pub fn move_messages(
        &self,
        from: &Folder,
        uids: &[u32],
        to: &str,
    ) -> Result<Copied, AccessError> {
        let copied = self.copy(from, uids, to)?;
        let moved: Vec<Message> = self
            .messages(from.id)?
            .into_iter()
            .filter(|m| copied.uids.iter().any(|(s, _)| *s == m.uid))
            .collect();
        self.remove_messages(from, moved)?;
        Ok(copied)
    }
}
