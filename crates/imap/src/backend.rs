//! What the session needs from the rest of the server, as traits the server implements
//! over `mailward-store`: [`Authenticator`] checks credentials and opens the account's
//! mailboxes; [`MailboxBackend`] is one account's mailbox access.
//!
//! The calls are synchronous: the session is a state machine the driver runs on a thread
//! that may block (see [`crate::session`]). Names are UTF-8 with the separator
//! [`crate::mailbox_name::SEPARATOR`] (`/`), `INBOX` in upper case; the session converts
//! them from and to the wire form. Messages are addressed by UID; the session keeps the
//! sequence-number map of the selected mailbox (RFC 9051 §2.3.1.2).

use std::net::IpAddr;

/// How the client authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// RFC 9051 §6.2.3 LOGIN.
    Login,
    /// RFC 4616 SASL PLAIN (AUTHENTICATE PLAIN, with SASL-IR RFC 4959 or not).
    Plain,
}

impl Mechanism {
    pub fn as_str(self) -> &'static str {
        match self {
            Mechanism::Login => "LOGIN",
            Mechanism::Plain => "PLAIN",
        }
    }
}

/// What a client presented.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub mechanism: Mechanism,
    /// RFC 4616 authorization identity; the session passes only an empty one or one equal
    /// to `username` (no proxy authorization).
    pub username: String,
    pub password: String,
    pub remote_ip: IpAddr,
    /// The connection is under TLS.
    pub tls: bool,
    /// The session id, for the log.
    pub session: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("mechanism", &self.mechanism)
            .field("username", &self.username)
            .field("remote_ip", &self.remote_ip)
            .finish_non_exhaustive()
    }
}

/// An authenticated account and its mailboxes.
pub struct Account {
    /// The canonical account name (logged, shown nowhere else).
    pub name: String,
    pub mailboxes: Box<dyn MailboxBackend>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The outcome of a credential check.
#[derive(Debug)]
pub enum AuthOutcome {
    Success(Account),
    /// Wrong user name or password: `NO [AUTHENTICATIONFAILED]` (RFC 5530), counted.
    Failed,
    /// The check could not be made (database down): `NO [UNAVAILABLE]`, not counted.
    Unavailable(String),
}

/// Checks credentials. Implemented by the server over the store's accounts (argon2); may
/// block (password hashing is slow on purpose).
pub trait Authenticator: Send + Sync {
    fn authenticate(&self, creds: &Credentials) -> AuthOutcome;
}

/// Why a mailbox operation failed; each maps to an RFC 5530 response code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// `NO [NONEXISTENT]`.
    #[error("no such mailbox")]
    NoSuchMailbox,
    /// `NO [ALREADYEXISTS]`.
    #[error("mailbox already exists")]
    AlreadyExists,
    /// `NO [HASCHILDREN]` (DELETE of a mailbox with inferiors, RFC 9051 §6.3.5).
    #[error("mailbox has children")]
    HasChildren,
    /// `NO [CANNOT]`: the operation is not possible (e.g. DELETE INBOX, a bad name).
    #[error("{0}")]
    Cannot(String),
    /// `NO [NOPERM]`.
    #[error("permission denied")]
    NoPermission,
    /// `NO [OVERQUOTA]` (RFC 9208 §4.3).
    #[error("quota exceeded")]
    OverQuota,
    /// `NO [TOOBIG]` (RFC 7889 APPENDLIMIT).
    #[error("message too big")]
    TooBig,
    /// `NO [UNAVAILABLE]`: try again later.
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
    /// `NO [SERVERBUG]`: logged with context, shown briefly.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Result of a backend call.
pub type BackendResult<T> = Result<T, BackendError>;

/// A message flag (RFC 9051 §2.3.2). `\Recent` is not stored (IMAP4rev2 removed it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flag {
    Seen,
    Answered,
    Flagged,
    Deleted,
    Draft,
    /// A keyword (an atom; `$Forwarded`, `$Junk`, ...).
    Keyword(String),
}

/// RFC 6154 special-use attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpecialUse {
    All,
    Archive,
    Drafts,
    Flagged,
    Junk,
    Sent,
    Trash,
}

impl SpecialUse {
    /// The attribute as LIST shows it (`\Sent`).
    pub fn as_attribute(self) -> &'static str {
        match self {
            SpecialUse::All => "\\All",
            SpecialUse::Archive => "\\Archive",
            SpecialUse::Drafts => "\\Drafts",
            SpecialUse::Flagged => "\\Flagged",
            SpecialUse::Junk => "\\Junk",
            SpecialUse::Sent => "\\Sent",
            SpecialUse::Trash => "\\Trash",
        }
    }
}

/// One mailbox for LIST (RFC 9051 §6.3.9, RFC 5258 LIST-EXTENDED, RFC 3348 CHILDREN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxInfo {
    /// UTF-8 name, `/`-separated.
    pub name: String,
    /// `\NoSelect` when false (a hierarchy level that holds no messages).
    pub selectable: bool,
    /// `\NoInferiors`.
    pub no_inferiors: bool,
    /// `\HasChildren` / `\HasNoChildren`.
    pub has_children: bool,
    pub special_use: Option<SpecialUse>,
}

/// STATUS data (RFC 9051 §6.3.11; SIZE RFC 8438; HIGHESTMODSEQ RFC 7162).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MailboxStatus {
    pub messages: u32,
    /// RFC 3501 §2.3.2: messages no session has seen yet.
    pub recent: u32,
    pub unseen: u32,
    pub deleted: u32,
    pub uid_next: u32,
    pub uid_validity: u32,
    pub highest_modseq: u64,
    /// Total size in octets (RFC822.SIZE of all messages).
    pub size: u64,
}

/// A full-text index's answer for one needle in one mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextCandidates {
    /// Messages up to this UID are indexed; those above it are not yet (always checked).
    pub through_uid: u32,
    /// The indexed UIDs that may hold the needle, ascending.
    pub uids: Vec<u32>,
}

impl TextCandidates {
    /// True when the message may hold the needle and must be checked.
    pub fn admits(&self, uid: u32) -> bool {
        uid > self.through_uid || self.uids.binary_search(&uid).is_ok()
    }
}

/// Per-message data kept in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageMeta {
    pub uid: u32,
    pub flags: Vec<Flag>,
    /// RFC 7162 MODSEQ (at least 1).
    pub modseq: u64,
    /// INTERNALDATE as seconds since the epoch and the zone offset in minutes
    /// (RFC 9051 §2.3.3).
    pub internal_date: i64,
    pub internal_date_offset_minutes: i32,
    /// RFC822.SIZE (the CRLF form, see [`crate::message::Message::size`]).
    pub size: u64,
}

/// A selected mailbox (RFC 9051 §6.3.2 SELECT, §6.3.3 EXAMINE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected {
    pub uid_validity: u32,
    pub uid_next: u32,
    pub highest_modseq: u64,
    /// The messages' UIDs in ascending order (message sequence number = index + 1).
    /// Shared: sessions that select the same unchanged mailbox hold one copy.
    pub uids: std::sync::Arc<Vec<u32>>,
    /// Keywords in use (for the FLAGS response).
    pub keywords: Vec<String>,
    /// RFC 3501 §2.3.2: the messages from this UID up to `uid_next` are `\Recent` to this
    /// session (claimed by SELECT; shown without claiming by EXAMINE).
    pub first_recent: u32,
    /// The UID of the first message without `\Seen` (IMAP4rev1 SELECT's `OK [UNSEEN n]`).
    pub first_unseen: Option<u32>,
    /// EXAMINE, or a mailbox the user may not change: `[READ-ONLY]`.
    pub read_only: bool,
}

/// How STORE changes flags (RFC 9051 §6.4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    Replace,
    Add,
    Remove,
}

/// A STORE request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreRequest {
    pub uids: Vec<u32>,
    pub mode: StoreMode,
    pub flags: Vec<Flag>,
    /// RFC 7162 §3.1.3 UNCHANGEDSINCE: only messages whose MODSEQ is not above it.
    pub unchanged_since: Option<u64>,
}

/// What STORE did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreOutcome {
    /// Messages whose flags changed, with their new flags and MODSEQ.
    pub changed: Vec<MessageMeta>,
    /// RFC 7162 §3.1.3: UIDs not changed because of UNCHANGEDSINCE (`[MODIFIED ...]`).
    pub modified: Vec<u32>,
}

/// An APPEND request (RFC 9051 §6.3.12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendRequest {
    pub flags: Vec<Flag>,
    /// INTERNALDATE (seconds, zone minutes); now when absent.
    pub internal_date: Option<(i64, i32)>,
    pub message: Vec<u8>,
}

/// RFC 4315 UIDPLUS `[APPENDUID uidvalidity uid]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendOutcome {
    pub uid_validity: u32,
    pub uid: u32,
}

/// RFC 4315 `[COPYUID uidvalidity source-uids dest-uids]` for COPY and MOVE.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyOutcome {
    /// The destination's UIDVALIDITY.
    pub uid_validity: u32,
    /// (source UID, destination UID) pairs.
    pub mapping: Vec<(u32, u32)>,
}

/// What changed in a mailbox since the session last looked (for NOOP, IDLE and the
/// untagged updates after other commands, RFC 9051 §7.4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// UIDs that are gone (EXPUNGE / VANISHED).
    pub expunged: Vec<u32>,
    /// New messages (EXISTS).
    pub added: Vec<MessageMeta>,
    /// Messages whose flags changed (FETCH FLAGS, with MODSEQ under CONDSTORE).
    pub flags_changed: Vec<MessageMeta>,
    pub uid_next: u32,
    pub highest_modseq: u64,
}

/// RFC 9208 quota of the account (one root, `""`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quota {
    /// STORAGE in units of 1024 octets.
    pub storage_used_kib: u64,
    pub storage_limit_kib: Option<u64>,
    /// MESSAGE count.
    pub messages_used: u64,
    pub messages_limit: Option<u64>,
}

/// A message's ENVELOPE and BODYSTRUCTURE as FETCH writes them (RFC 9051 §7.5.2), kept by
/// the backend so a later FETCH does not parse the file again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CachedStructure {
    pub uid: u32,
    pub envelope: Option<String>,
    pub bodystructure: Option<String>,
}

/// How far below a requested entry GETMETADATA reads (RFC 5464 §4.2.2 DEPTH).
pub use crate::wire::metadata::Depth as MetadataDepth;

/// One annotation found by [`MailboxBackend::get_metadata`] (RFC 5464).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataEntry {
    /// The entry name, lower case.
    pub name: String,
    /// The value's size in octets.
    pub size: u64,
    /// The value; `None` when it is larger than the MAXSIZE asked for (RFC 5464 §4.2.1).
    pub value: Option<Vec<u8>>,
}

/// Why SETMETADATA changed nothing (RFC 5464 §4.3 response codes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// `NO [METADATA MAXSIZE n]`: a value is larger than `max` octets.
    #[error("annotation value larger than {max} octets")]
    TooBig { max: u64 },
    /// `NO [METADATA TOOMANY]`: no room for a new entry.
    #[error("too many annotations")]
    TooMany,
    /// `NO [METADATA NOPRIVATE]`: the backend keeps no `/private` entries there.
    #[error("private annotations are not supported here")]
    NoPrivate,
    /// Any other failure (`NO [code]` as for other commands).
    #[error(transparent)]
    Failed(#[from] BackendError),
}

/// One change in the account, from the account-wide change feed IMAP NOTIFY follows
/// (RFC 5465 §5); names are UTF-8, `/`-separated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountEvent {
    /// Messages of `mailbox` changed: new ones (§5.2), expunged ones (§5.3), flags (§5.1).
    Messages {
        mailbox: String,
        added: bool,
        expunged: bool,
        flags: bool,
    },
    /// §5.4 MailboxName.
    Created(String),
    Deleted(String),
    Renamed {
        from: String,
        to: String,
    },
    /// §5.5 SubscriptionChange.
    Subscription {
        name: String,
        subscribed: bool,
    },
}

/// What [`MailboxBackend::account_events`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountEvents {
    /// In the order they happened; the message changes of one mailbox merged into one.
    pub events: Vec<AccountEvent>,
    /// The feed overflowed and changes were lost (RFC 5465 §5.8): the session must read
    /// what it reports again.
    pub lagged: bool,
}

/// Dropping it stops the notifications started by [`MailboxBackend::watch`].
pub struct Subscription(pub Box<dyn Send>);

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Subscription")
    }
}

/// One account's mailboxes. Every call may block on the disk or the index; errors are
/// answers to the client (`NO [code]`), never panics.
pub trait MailboxBackend: Send {
    /// All mailboxes with their attributes (LIST, LSUB, LIST-EXTENDED and LIST-STATUS
    /// filter and match patterns in the session).
    fn list(&mut self) -> BackendResult<Vec<MailboxInfo>>;

    /// STATUS of one mailbox (need not be selected).
    fn status(&mut self, mailbox: &str) -> BackendResult<MailboxStatus>;

    /// Opens a mailbox for SELECT (`read_only` false) or EXAMINE (true).
    fn select(&mut self, mailbox: &str, read_only: bool) -> BackendResult<Selected>;

    /// The octets of one message, as stored (LF or CRLF line ends; see
    /// [`crate::message::Message::parse`]).
    fn message(&mut self, mailbox: &str, uid: u32) -> BackendResult<Vec<u8>>;

    /// Changes flags (STORE, and `\Seen` set by FETCH BODY[...]).
    fn store(&mut self, mailbox: &str, req: &StoreRequest) -> BackendResult<StoreOutcome>;

    /// Removes messages flagged `\Deleted`: all of them, or only those in `uids` (RFC 4315
    /// UID EXPUNGE). Returns the UIDs removed.
    fn expunge(&mut self, mailbox: &str, uids: Option<&[u32]>) -> BackendResult<Vec<u32>>;

    /// Adds a message (APPEND). The backend checks quota and the APPENDLIMIT again.
    fn append(&mut self, mailbox: &str, req: AppendRequest) -> BackendResult<AppendOutcome>;

    /// Adds several messages, all or none (RFC 3502 §6.3.11: "If the server is unable to
    /// append all messages ... none of the messages are appended"). By default one
    /// [`Self::append`] after another, the ones added taken back (`\Deleted` and expunged
    /// by UID) when a later one fails; a backend that can commit them together should.
    fn append_many(
        &mut self,
        mailbox: &str,
        reqs: Vec<AppendRequest>,
    ) -> BackendResult<Vec<AppendOutcome>> {
        let mut done: Vec<AppendOutcome> = Vec::with_capacity(reqs.len());
        for req in reqs {
            match self.append(mailbox, req) {
                Ok(o) => done.push(o),
                Err(e) => {
                    if !done.is_empty() {
                        let uids: Vec<u32> = done.iter().map(|o| o.uid).collect();
                        let undo = StoreRequest {
                            uids: uids.clone(),
                            mode: StoreMode::Add,
                            flags: vec![Flag::Deleted],
                            unchanged_since: None,
                        };
                        let _ = self.store(mailbox, &undo);
                        let _ = self.expunge(mailbox, Some(&uids));
                    }
                    return Err(e);
                }
            }
        }
        Ok(done)
    }

    /// Copies messages (COPY, RFC 9051 §6.4.7).
    fn copy(&mut self, from: &str, uids: &[u32], to: &str) -> BackendResult<CopyOutcome>;

    /// Moves messages atomically (RFC 6851 MOVE): copied, then expunged from `from`.
    fn move_messages(&mut self, from: &str, uids: &[u32], to: &str) -> BackendResult<CopyOutcome>;

    /// CREATE (RFC 9051 §6.3.4), with RFC 6154 §3 USE when given.
    fn create(&mut self, name: &str, special_use: Option<SpecialUse>) -> BackendResult<()>;

    /// DELETE (RFC 9051 §6.3.5).
    fn delete(&mut self, name: &str) -> BackendResult<()>;

    /// RENAME (RFC 9051 §6.3.6); renaming INBOX moves its messages to a new mailbox.
    fn rename(&mut self, from: &str, to: &str) -> BackendResult<()>;

    /// SUBSCRIBE (`true`) / UNSUBSCRIBE (`false`).
    fn subscribe(&mut self, name: &str, subscribed: bool) -> BackendResult<()>;

    /// RFC 3501 §2.3.2: claims for this session the messages of `mailbox` below UID `below`
    /// that no session has seen; returns where the claim starts (`below` or more: none).
    /// A backend that keeps no `\Recent` claims nothing.
    fn claim_recent(&mut self, mailbox: &str, below: u32) -> BackendResult<u32> {
        let _ = mailbox;
        Ok(below)
    }

    /// Every subscribed name, whether a mailbox of that name exists or not (RFC 9051
    /// §6.3.7: subscriptions are kept apart from mailboxes).
    fn subscriptions(&mut self) -> BackendResult<Vec<String>>;

    /// What changed in `mailbox` since `since_modseq` for a session that knows UIDs below
    /// `known_uid_next`.
    fn changes(
        &mut self,
        mailbox: &str,
        since_modseq: u64,
        known_uid_next: u32,
    ) -> BackendResult<Changes>;

    /// The account's quota (GETQUOTA, GETQUOTAROOT; RFC 9208).
    fn quota(&mut self) -> BackendResult<Quota>;

    /// The index data of the messages with these UIDs (those that still exist), in UID
    /// order: FLAGS, MODSEQ, INTERNALDATE and RFC822.SIZE for FETCH and SEARCH.
    fn metas(&mut self, mailbox: &str, uids: &[u32]) -> BackendResult<Vec<MessageMeta>>;

    /// Cached ENVELOPE and BODYSTRUCTURE in their wire form (`None` when not cached) for
    /// the messages among `uids` that have any, so FETCH need not parse their files.
    fn cached_structure(
        &mut self,
        _mailbox: &str,
        _uids: &[u32],
    ) -> BackendResult<Vec<CachedStructure>> {
        Ok(Vec::new())
    }

    /// Remembers computed ENVELOPE / BODYSTRUCTURE wire forms (a cache: may do nothing).
    fn cache_structure(&mut self, _mailbox: &str, _entries: &[CachedStructure]) {}

    /// The UIDs among `uids` whose message octets satisfy `matches` (SEARCH over content:
    /// RFC 9051 §6.4.4 BODY, TEXT, header keys). A backend may scan in parallel; messages
    /// that vanished are left out.
    fn search_content(
        &mut self,
        mailbox: &str,
        uids: &[u32],
        matches: &(dyn Fn(u32, &[u8]) -> bool + Sync),
    ) -> BackendResult<Vec<u32>> {
        let mut out = Vec::new();
        for &uid in uids {
            match self.message(mailbox, uid) {
                Ok(raw) => {
                    if matches(uid, &raw) {
                        out.push(uid);
                    }
                }
                Err(BackendError::Cannot(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// What a full-text index knows of `needle` (case-folded, as SEARCH compares) in a
    /// mailbox: messages it rules out need no content check. `None` when there is no index
    /// or it cannot narrow (short needle, mailbox not indexed yet).
    fn text_candidates(
        &mut self,
        _mailbox: &str,
        _needle: &str,
    ) -> BackendResult<Option<TextCandidates>> {
        Ok(None)
    }

    /// `f` over the octets of the messages among `uids` that still exist (results in any
    /// order; `None` results left out). A backend may run it in parallel.
    fn map_content(
        &mut self,
        mailbox: &str,
        uids: &[u32],
        f: &(dyn Fn(u32, &[u8]) -> Option<CachedStructure> + Sync),
    ) -> BackendResult<Vec<CachedStructure>> {
        let mut out = Vec::new();
        for &uid in uids {
            match self.message(mailbox, uid) {
                Ok(raw) => out.extend(f(uid, &raw)),
                Err(BackendError::Cannot(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// `f` over the octets of the messages among `uids` that still exist, in any order
    /// (THREAD reads the References fields this way). By default through
    /// [`Self::search_content`], so a backend that scans in parallel does so here too.
    fn visit_content(
        &mut self,
        mailbox: &str,
        uids: &[u32],
        f: &(dyn Fn(u32, &[u8]) + Sync),
    ) -> BackendResult<()> {
        self.search_content(mailbox, uids, &|uid, raw| {
            f(uid, raw);
            false
        })
        .map(|_| ())
    }

    /// RFC 5464 §4.2 GETMETADATA: the annotations of the server (`mailbox` `None`) or of
    /// a mailbox that are one of `names` (lower case) or below one within `depth`, in name
    /// order; values larger than `max_size` come without their value. A backend that keeps
    /// no annotations has none.
    fn get_metadata(
        &mut self,
        mailbox: Option<&str>,
        names: &[String],
        depth: MetadataDepth,
        max_size: Option<u64>,
    ) -> BackendResult<Vec<MetadataEntry>> {
        let _ = (mailbox, names, depth, max_size);
        Ok(Vec::new())
    }

    /// RFC 5464 §4.3 SETMETADATA: sets (or, for `None`, removes) every entry, or changes
    /// nothing. On a mailbox, `/private/specialuse` is its special-use attribute (RFC 6154
    /// §4; the session has checked the value).
    fn set_metadata(
        &mut self,
        mailbox: Option<&str>,
        changes: &[(String, Option<Vec<u8>>)],
    ) -> Result<(), MetadataError> {
        let _ = (mailbox, changes);
        Err(MetadataError::Failed(BackendError::Cannot(
            "Annotations are not kept by this server".into(),
        )))
    }

    /// RFC 4467 §7 URLAUTH: the access key of `mailbox` of the account `owner` (`None`:
    /// the logged-in one); with `create` a key is made when the mailbox has none (only for
    /// the own account). `None` when it has no key (reset, or never made).
    fn urlauth_key(
        &mut self,
        owner: Option<&str>,
        mailbox: &str,
        create: bool,
    ) -> BackendResult<Option<Vec<u8>>> {
        let _ = (owner, mailbox, create);
        Err(BackendError::Cannot(
            "URLAUTH is not offered by this server".into(),
        ))
    }

    /// RFC 4467 §6.2 RESETKEY: forgets the key of the own `mailbox`, or (`None`) of every
    /// mailbox of the account, which invalidates their URLAUTH URLs.
    fn reset_urlauth_keys(&mut self, mailbox: Option<&str>) -> BackendResult<()> {
        let _ = mailbox;
        Err(BackendError::Cannot(
            "URLAUTH is not offered by this server".into(),
        ))
    }

    /// RFC 4467 §6.3 URLFETCH: the UIDVALIDITY of `mailbox` of the account `owner` (`None`:
    /// the logged-in one) and the message `uid` in it.
    fn urlauth_message(
        &mut self,
        owner: Option<&str>,
        mailbox: &str,
        uid: u32,
    ) -> BackendResult<(u32, Vec<u8>)> {
        if owner.is_some() {
            return Err(BackendError::NoPermission);
        }
        let validity = self.status(mailbox)?.uid_validity;
        Ok((validity, self.message(mailbox, uid)?))
    }

    /// RFC 5465 NOTIFY: starts following the account's change feed afresh (`true`: what
    /// happened before is not reported) or stops (`false`).
    fn follow_account(&mut self, on: bool) -> BackendResult<()> {
        let _ = on;
        Err(BackendError::Unavailable("no change feed".into()))
    }

    /// The account's changes since the last call (at most `max`; the rest wait for the
    /// next call). Nothing when not following.
    fn account_events(&mut self, max: usize) -> AccountEvents {
        let _ = max;
        AccountEvents::default()
    }

    /// Calls `wake` whenever anything in the account changes, until the subscription is
    /// dropped (NOTIFY sessions, in IDLE or between commands).
    fn watch_account(&mut self, wake: Box<dyn Fn() + Send + Sync>) -> BackendResult<Subscription> {
        let _ = wake;
        Err(BackendError::Unavailable("no change feed".into()))
    }

    /// Calls `wake` whenever `mailbox` changes, until the subscription is dropped. The
    /// driver uses it during IDLE (RFC 2177): `wake` notifies its task, which then calls
    /// [`crate::Session::poll_changes`]. `wake` must not block.
    fn watch(
        &mut self,
        mailbox: &str,
        wake: Box<dyn Fn() + Send + Sync>,
    ) -> BackendResult<Subscription>;
}
