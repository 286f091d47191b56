//! The mailbox index: folders, UIDs, flags and MODSEQs (RFC 9051, RFC 7162), as the local
//! delivery agent, the IMAP and the POP3 servers use it.

use super::MessageBlobs;
use crate::access::{
    AccessError, CachedStructure, Changes, Copied, FlagChange, FlagOp, Folder, FolderStatus,
    Message, MetadataChange, MetadataDepth, MetadataEntry, NewMessage,
};
use crate::directory::Account;
use crate::error::StoreError;
use crate::handle::MailboxChange;
use crate::mailbox::Appended;
use crate::sync::SyncReport;
use crate::writer::DeliverRequest;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::broadcast;

/// The store's mailboxes as a whole: delivery into them, opening one account's, and the
/// feed of committed changes.
pub trait MailStore: Send + Sync + 'static {
    /// One account's mail.
    type Mail: MailIndex + MessageBlobs + 'static;

    /// Opens an account's mail (creating its default folders when missing).
    fn open_mail(self: &Arc<Self>, account: Account) -> Result<Self::Mail, AccessError>;

    /// Delivers into a folder and indexes it; idempotent per
    /// `(queue_id, rcpt_index, account)`, durable when it resolves `Ok`.
    fn deliver(
        &self,
        req: DeliverRequest,
    ) -> impl Future<Output = Result<Appended, StoreError>> + Send;
}

/// One account's mailbox index. Calls block (disk, database): async servers run them on
/// blocking threads.
pub trait MailIndex: Send + Sync {
    /// The account.
    fn account(&self) -> &Account;
    /// Names the store within the process (sessions of one store share read caches).
    fn store_identity(&self) -> PathBuf;
    /// Every committed change to any mailbox of the store (IDLE, concurrent sessions).
    fn subscribe_changes(&self) -> broadcast::Receiver<MailboxChange>;

    /// Every folder, INBOX first.
    fn folders(&self) -> Result<Vec<Folder>, AccessError>;
    /// The folder named `name` (any case for INBOX), if it exists.
    fn folder(&self, name: &str) -> Result<Option<Folder>, AccessError>;
    /// RFC 9051 §6.3.4 CREATE.
    fn create_folder(&self, name: &str) -> Result<Folder, AccessError>;
    /// RFC 9051 §6.3.5 DELETE.
    fn delete_folder(&self, name: &str) -> Result<(), AccessError>;
    /// RFC 9051 §6.3.6 RENAME.
    fn rename_folder(&self, from: &str, to: &str) -> Result<(), AccessError>;
    /// RFC 9051 §6.3.7 / §6.3.8 SUBSCRIBE and UNSUBSCRIBE.
    fn set_subscribed(&self, name: &str, on: bool) -> Result<(), AccessError>;
    /// RFC 6154 §3: the folder's special-use attribute.
    fn set_special_use(&self, name: &str, attribute: &str) -> Result<(), AccessError>;
    /// Every subscribed name, whether its mailbox exists or not.
    fn subscriptions(&self) -> Result<Vec<String>, AccessError>;
    /// Catches the index up with changes made outside the server; `force` rescans.
    fn sync(&self, folder: &Folder, force: bool) -> Result<SyncReport, AccessError>;
    /// RFC 9051 §6.3.2 SELECT: the folder's state and its messages in UID order.
    fn select(&self, name: &str) -> Result<(Folder, Vec<Message>), AccessError>;
    /// The folder's current state.
    fn refresh(&self, folder_id: i64) -> Result<Folder, AccessError>;
    /// RFC 9051 §6.3.11 STATUS counts.
    fn status(&self, name: &str) -> Result<FolderStatus, AccessError>;
    /// RFC 3501 §2.3.2 `\Recent`: claims the unclaimed messages below UID `below`;
    /// returns where the caller's claim starts.
    fn claim_recent(&self, folder_id: i64, below: u32) -> Result<u32, AccessError>;
    /// Where the unclaimed messages start (EXAMINE).
    fn first_recent(&self, folder_id: i64) -> Result<u32, AccessError>;
    /// The UID of the first message without `\Seen`.
    fn first_unseen(&self, folder_id: i64) -> Result<Option<u32>, AccessError>;

    /// What the full-text index says of a case-folded `needle` in a folder: the messages
    /// that may hold it ([`crate::fulltext`]). `None` when there is no index or it cannot
    /// narrow; a backend without one keeps this default.
    fn text_candidates(
        &self,
        _folder: &Folder,
        _needle: &str,
    ) -> Result<Option<crate::fulltext::Candidates>, StoreError> {
        Ok(None)
    }

    /// The UIDs of a folder, ascending.
    fn uids(&self, folder_id: i64) -> Result<Vec<u32>, AccessError>;
    /// The keywords in use in a folder.
    fn keywords(&self, folder_id: i64) -> Result<Vec<String>, AccessError>;
    /// The messages among `uids` that exist, in UID order.
    fn messages_by_uid(&self, folder_id: i64, uids: &[u32]) -> Result<Vec<Message>, AccessError>;
    /// One message by UID.
    fn message_by_uid(&self, folder_id: i64, uid: u32) -> Result<Option<Message>, AccessError>;
    /// RFC 7162: messages changed and UIDs expunged since `modseq`.
    fn changes_since(&self, folder_id: i64, modseq: u64) -> Result<Changes, AccessError>;

    /// RFC 9051 §6.4.6 STORE with RFC 7162 §3.1.3 UNCHANGEDSINCE.
    fn store_flags(
        &self,
        folder: &Folder,
        uids: &[u32],
        op: FlagOp,
        flags: &[String],
        unchanged_since: Option<u64>,
    ) -> Result<FlagChange, AccessError>;
    /// RFC 9051 §6.4.3 EXPUNGE (RFC 4315 §2.1 UID EXPUNGE with `only`).
    fn expunge(&self, folder: &Folder, only: Option<&[u32]>) -> Result<Vec<u32>, AccessError>;
    /// Removes messages whatever their flags (RFC 1939 §6 POP3 UPDATE).
    fn remove_messages(
        &self,
        folder: &Folder,
        doomed: Vec<Message>,
    ) -> Result<Vec<u32>, AccessError>;
    /// RFC 9051 §6.3.12 APPEND: (UIDVALIDITY, UID) for RFC 4315 §3 APPENDUID.
    fn append(
        &self,
        name: &str,
        data: &[u8],
        flags: &[String],
        internal_date: Option<i64>,
    ) -> Result<(u32, u32), AccessError>;
    /// RFC 3502 MULTIAPPEND: every message or none; (UIDVALIDITY, UIDs in order).
    fn append_many(
        &self,
        name: &str,
        msgs: &[NewMessage<'_>],
    ) -> Result<(u32, Vec<u32>), AccessError>;
    /// RFC 9051 §6.4.7 COPY.
    fn copy(&self, from: &Folder, uids: &[u32], to: &str) -> Result<Copied, AccessError>;
    /// RFC 6851 §3.1 MOVE.
    fn move_messages(&self, from: &Folder, uids: &[u32], to: &str) -> Result<Copied, AccessError>;
    /// RFC 9208: (bytes used, limit).
    fn quota(&self) -> Result<(u64, Option<u64>), AccessError>;
    /// Cached ENVELOPE / BODYSTRUCTURE of the messages in `uids` that have them.
    fn cached_structure(
        &self,
        folder_id: i64,
        uids: &[u32],
    ) -> Result<Vec<CachedStructure>, AccessError>;
    /// Remembers computed ENVELOPE / BODYSTRUCTURE values (a cache).
    fn cache_structure(
        &self,
        folder_id: i64,
        entries: &[CachedStructure],
    ) -> Result<(), AccessError>;

    /// RFC 5464 §4.2 GETMETADATA: entries of the server (`mailbox` `None`) or of a mailbox
    /// named or below `names` within `depth`; values over `max_size` left out.
    fn metadata(
        &self,
        mailbox: Option<&str>,
        names: &[String],
        depth: MetadataDepth,
        max_size: Option<u64>,
    ) -> Result<Vec<MetadataEntry>, AccessError>;
    /// RFC 5464 §4.3 SETMETADATA: all the changes or none.
    fn set_metadata(
        &self,
        mailbox: Option<&str>,
        changes: &[MetadataChange],
    ) -> Result<(), AccessError>;
    /// RFC 4467 §7: the URLAUTH key of a mailbox, made when missing with `create`.
    fn urlauth_key(&self, mailbox: &str, create: bool) -> Result<Option<Vec<u8>>, AccessError>;
    /// RFC 4467 §6.2 RESETKEY: forgets the key of one mailbox or (`None`) of all.
    fn reset_urlauth_keys(&self, mailbox: Option<&str>) -> Result<(), AccessError>;
    /// Another account of the same store (RFC 4467 §6.3 URLFETCH of its URLs); `None` when
    /// there is no such account.
    fn open_other(&self, address: &str) -> Result<Option<Self>, AccessError>
    where
        Self: Sized;
}
