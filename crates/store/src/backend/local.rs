//! The SQLite + Maildir implementation of the backend traits: [`Store`] is the queue, the
//! directory and the mail store; [`MailAccess`] is one account's index and blobs.

use super::{DirectoryStore, MailIndex, MailStore, MessageBlobs, QueueStore};
use crate::access::{
    AccessError, CachedStructure, Changes, Copied, FlagChange, FlagOp, Folder, FolderStatus,
    MailAccess, Message, MetadataChange, MetadataDepth, MetadataEntry, NewMessage,
};
use crate::directory::{self, Account, Recipient};
use crate::error::StoreError;
use crate::handle::{MailboxChange, Store};
use crate::mailbox::Appended;
use crate::queue::{self, Envelope, QueueEntry, SpoolTemp};
use crate::sync::SyncReport;
use crate::writer::DeliverRequest;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::broadcast;

impl QueueStore for Store {
    fn enqueue(
        &self,
        envelope: Envelope,
        body: Arc<Vec<u8>>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        Store::enqueue(self, envelope, body)
    }

    fn spool_temp(&self, queue_id: &str) -> Result<SpoolTemp, StoreError> {
        Store::spool_temp(self, queue_id)
    }

    fn enqueue_spooled(
        &self,
        envelope: Envelope,
        temp: SpoolTemp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        Store::enqueue_spooled(self, envelope, temp)
    }

    fn update_queued(
        &self,
        envelope: Envelope,
        next_attempt: i64,
        attempts: u32,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        Store::update_queue(self, envelope, next_attempt, attempts)
    }

    fn remove_queued(&self, id: &str) -> impl Future<Output = Result<(), StoreError>> + Send {
        Store::remove_queued(self, id)
    }

    fn due(&self, now: i64, limit: usize) -> Result<Vec<QueueEntry>, StoreError> {
        queue::due(&self.conn(), now, limit)
    }

    fn due_or_new(&self, now: i64, limit: usize) -> Result<Vec<QueueEntry>, StoreError> {
        queue::due_or_new(&self.conn(), now, limit)
    }

    fn queued(&self, id: &str) -> Result<Option<QueueEntry>, StoreError> {
        queue::get(&self.conn(), id)
    }

    fn read_body(&self, id: &str) -> Result<Vec<u8>, StoreError> {
        self.read_spool(id)
    }
}

impl DirectoryStore for Store {
    fn authenticate(&self, user: &str, pass: &str) -> Result<Option<Account>, StoreError> {
        Store::authenticate(self, user, pass)
    }

    fn resolve(&self, address: &str) -> Result<Recipient, StoreError> {
        directory::resolve(&self.conn(), address)
    }

    fn account(&self, address: &str) -> Result<Option<Account>, StoreError> {
        directory::get_account(&self.conn(), address)
    }

    fn owns_address(&self, account: &Account, address: &str) -> Result<bool, StoreError> {
        directory::owns_address(&self.conn(), account, address)
    }
}

impl MailStore for Store {
    type Mail = MailAccess;

    fn open_mail(self: &Arc<Self>, account: Account) -> Result<MailAccess, AccessError> {
        MailAccess::open(self.clone(), account)
    }

    fn deliver(
        &self,
        req: DeliverRequest,
    ) -> impl Future<Output = Result<Appended, StoreError>> + Send {
        Store::deliver(self, req)
    }
}

impl MessageBlobs for MailAccess {
    fn read(&self, folder: &Folder, message: &Message) -> Result<Vec<u8>, AccessError> {
        MailAccess::read(self, folder, message)
    }
}

impl MailIndex for MailAccess {
    fn account(&self) -> &Account {
        MailAccess::account(self)
    }

    fn store_identity(&self) -> PathBuf {
        self.store().data_dir().db_path()
    }

    fn subscribe_changes(&self) -> broadcast::Receiver<MailboxChange> {
        self.store().subscribe_changes()
    }

    fn folders(&self) -> Result<Vec<Folder>, AccessError> {
        MailAccess::folders(self)
    }

    fn folder(&self, name: &str) -> Result<Option<Folder>, AccessError> {
        MailAccess::folder(self, name)
    }

    fn create_folder(&self, name: &str) -> Result<Folder, AccessError> {
        MailAccess::create_folder(self, name)
    }

    fn delete_folder(&self, name: &str) -> Result<(), AccessError> {
        MailAccess::delete_folder(self, name)
    }

    fn rename_folder(&self, from: &str, to: &str) -> Result<(), AccessError> {
        MailAccess::rename_folder(self, from, to)
    }

    fn set_subscribed(&self, name: &str, on: bool) -> Result<(), AccessError> {
        MailAccess::set_subscribed(self, name, on)
    }
    fn subscriptions(&self) -> Result<Vec<String>, AccessError> {
        MailAccess::subscriptions(self)
    }
    fn set_special_use(&self, name: &str, attribute: &str) -> Result<(), AccessError> {
        MailAccess::set_special_use(self, name, attribute)
    }

    fn sync(&self, folder: &Folder, force: bool) -> Result<SyncReport, AccessError> {
        MailAccess::sync(self, folder, force)
    }

    fn select(&self, name: &str) -> Result<(Folder, Vec<Message>), AccessError> {
        MailAccess::select(self, name)
    }

    fn refresh(&self, folder_id: i64) -> Result<Folder, AccessError> {
        MailAccess::refresh(self, folder_id)
    }

    fn status(&self, name: &str) -> Result<FolderStatus, AccessError> {
        MailAccess::status(self, name)
    }

    fn claim_recent(&self, folder_id: i64, below: u32) -> Result<u32, AccessError> {
        MailAccess::claim_recent(self, folder_id, below)
    }

    fn first_recent(&self, folder_id: i64) -> Result<u32, AccessError> {
        MailAccess::first_recent(self, folder_id)
    }

    fn first_unseen(&self, folder_id: i64) -> Result<Option<u32>, AccessError> {
        MailAccess::first_unseen(self, folder_id)
    }

    fn text_candidates(
        &self,
        folder: &Folder,
        needle: &str,
    ) -> Result<Option<crate::fulltext::Candidates>, StoreError> {
        match self.store().fulltext() {
            Some(index) => index.candidates(folder.id, folder.uidvalidity, needle),
            None => Ok(None),
        }
    }

    fn uids(&self, folder_id: i64) -> Result<Vec<u32>, AccessError> {
        MailAccess::uids(self, folder_id)
    }

    fn keywords(&self, folder_id: i64) -> Result<Vec<String>, AccessError> {
        MailAccess::keywords(self, folder_id)
    }

    fn messages_by_uid(&self, folder_id: i64, uids: &[u32]) -> Result<Vec<Message>, AccessError> {
        MailAccess::messages_by_uid(self, folder_id, uids)
    }

    fn message_by_uid(&self, folder_id: i64, uid: u32) -> Result<Option<Message>, AccessError> {
        MailAccess::message_by_uid(self, folder_id, uid)
    }

    fn changes_since(&self, folder_id: i64, modseq: u64) -> Result<Changes, AccessError> {
        MailAccess::changes_since(self, folder_id, modseq)
    }

    fn store_flags(
        &self,
        folder: &Folder,
        uids: &[u32],
        op: FlagOp,
        flags: &[String],
        unchanged_since: Option<u64>,
    ) -> Result<FlagChange, AccessError> {
        MailAccess::store_flags(self, folder, uids, op, flags, unchanged_since)
    }

    fn expunge(&self, folder: &Folder, only: Option<&[u32]>) -> Result<Vec<u32>, AccessError> {
        MailAccess::expunge(self, folder, only)
    }

    fn remove_messages(
        &self,
        folder: &Folder,
        doomed: Vec<Message>,
    ) -> Result<Vec<u32>, AccessError> {
        MailAccess::remove_messages(self, folder, doomed)
    }

    fn append(
        &self,
        name: &str,
        data: &[u8],
        flags: &[String],
        internal_date: Option<i64>,
    ) -> Result<(u32, u32), AccessError> {
        MailAccess::append(self, name, data, flags, internal_date)
    }

    fn append_many(
        &self,
        name: &str,
        msgs: &[NewMessage<'_>],
    ) -> Result<(u32, Vec<u32>), AccessError> {
        MailAccess::append_many(self, name, msgs)
    }

    fn copy(&self, from: &Folder, uids: &[u32], to: &str) -> Result<Copied, AccessError> {
        MailAccess::copy(self, from, uids, to)
    }

    fn move_messages(&self, from: &Folder, uids: &[u32], to: &str) -> Result<Copied, AccessError> {
        MailAccess::move_messages(self, from, uids, to)
    }

    fn quota(&self) -> Result<(u64, Option<u64>), AccessError> {
        MailAccess::quota(self)
    }

    fn cached_structure(
        &self,
        folder_id: i64,
        uids: &[u32],
    ) -> Result<Vec<CachedStructure>, AccessError> {
        MailAccess::cached_structure(self, folder_id, uids)
    }

    fn cache_structure(
        &self,
        folder_id: i64,
        entries: &[CachedStructure],
    ) -> Result<(), AccessError> {
        MailAccess::cache_structure(self, folder_id, entries)
    }

    fn metadata(
        &self,
        mailbox: Option<&str>,
        names: &[String],
        depth: MetadataDepth,
        max_size: Option<u64>,
    ) -> Result<Vec<MetadataEntry>, AccessError> {
        MailAccess::metadata(self, mailbox, names, depth, max_size)
    }

    fn set_metadata(
        &self,
        mailbox: Option<&str>,
        changes: &[MetadataChange],
    ) -> Result<(), AccessError> {
        MailAccess::set_metadata(self, mailbox, changes)
    }

    fn urlauth_key(&self, mailbox: &str, create: bool) -> Result<Option<Vec<u8>>, AccessError> {
        MailAccess::urlauth_key(self, mailbox, create)
    }

    fn reset_urlauth_keys(&self, mailbox: Option<&str>) -> Result<(), AccessError> {
        MailAccess::reset_urlauth_keys(self, mailbox)
    }

    fn open_other(&self, address: &str) -> Result<Option<Self>, AccessError> {
        MailAccess::open_other(self, address)
    }
}
