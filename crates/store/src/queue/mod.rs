//! The durable queue: a row per message (`queue` table, envelope as JSON) and its body in
//! `<data>/spool/<queue-id>`. Rows and files are written by the writer thread
//! ([`crate::Store`]) in group commits; this module holds the types and the reads, and
//! `spool` the bodies; [`spool_temp`] is a body too big for memory while it is received;
//! [`notice`] is the bounded hand-off of new messages to the runner.

pub mod notice;
mod outcome;
mod spool;
pub mod spool_temp;

pub use notice::{
    NOTICE_CAPACITY, Notice, NoticeReceiver, NoticeSender, QueuedNotice, notice_channel,
};
pub use outcome::RcptOutcome;
pub use spool_temp::SpoolTemp;

use crate::error::StoreError;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// Where one recipient stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RcptState {
    #[default]
    Pending,
    Delivered,
    Failed,
}

/// One envelope recipient with its RFC 3461 DSN parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueRcpt {
    pub address: String,
    /// RFC 3461 §4.2 ORCPT, as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orcpt: Option<String>,
    /// RFC 3461 §4.1 NOTIFY values (`SUCCESS`, `FAILURE`, `DELAY`, `NEVER`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notify: Vec<String>,
    pub state: RcptState,
    #[serde(default)]
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// A delay notice (RFC 3464 `delayed`) went to the sender for this recipient.
    #[serde(default, skip_serializing_if = "is_false")]
    pub delay_notified: bool,
    /// The report its final state asks for (failure, or success under NOTIFY=SUCCESS) was
    /// queued, or none was due; false on a recipient an administrator just bounced.
    #[serde(default, skip_serializing_if = "is_false")]
    pub reported: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The envelope of a queued message (everything but the body).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub id: String,
    /// Arrival, seconds since the epoch (names the Maildir file, so it never changes).
    pub created: i64,
    /// Arrival, milliseconds since the epoch, for accurate `delay` in the log. Envelopes
    /// queued by schema version 1 lack it (0); see [`Envelope::arrival_ms`].
    #[serde(default)]
    pub created_ms: i64,
    /// Reverse path; empty for the null sender.
    pub sender: String,
    pub rcpts: Vec<QueueRcpt>,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// RFC 6152 BODY=8BITMIME / RFC 3030 BINARYMIME, as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// RFC 6531 SMTPUTF8.
    #[serde(default)]
    pub smtputf8: bool,
    /// RFC 8689 REQUIRETLS: only verified TLS to next hops that offer REQUIRETLS.
    #[serde(default, skip_serializing_if = "is_false")]
    pub requiretls: bool,
    /// RFC 3461 §4.3 RET (`FULL`/`HDRS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ret: Option<String>,
    /// RFC 3461 §4.4 ENVID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envid: Option<String>,
    /// SASL user that submitted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_user: Option<String>,
    #[serde(default)]
    pub remote_ip: String,
    #[serde(default)]
    pub session: String,
    /// The client's HELO/EHLO name (for the checks made again when forwarding).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub helo: String,
    /// Local copies go into the recipient's Junk folder, for this reason (a DMARC
    /// `p=quarantine` failure, RFC 9989 §5.8); `None`: into INBOX.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub junk: Option<String>,
}

impl Envelope {
    /// Arrival in milliseconds since the epoch; `created` × 1000 for an envelope queued
    /// before `created_ms` existed.
    pub fn arrival_ms(&self) -> i64 {
        if self.created_ms > 0 {
            self.created_ms
        } else {
            self.created.saturating_mul(1000)
        }
    }

    /// Seconds (with fractions) since arrival at `now_ms`; never negative.
    pub fn delay_secs(&self, now_ms: i64) -> f64 {
        (now_ms.saturating_sub(self.arrival_ms())).max(0) as f64 / 1000.0
    }
}

/// A queue row as read back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueEntry {
    pub envelope: Envelope,
    pub next_attempt: i64,
    pub attempts: u32,
}

type Row = (String, i64, i64, i64);

fn row_to_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn decode((json, next_attempt, attempts, created_ms): Row) -> Result<QueueEntry, StoreError> {
    let mut envelope: Envelope = serde_json::from_str(&json)?;
    if envelope.created_ms <= 0 {
        // Queued before schema version 2: the column has `created` × 1000.
        envelope.created_ms = created_ms;
    }
    Ok(QueueEntry {
        envelope,
        next_attempt,
        attempts: attempts.max(0) as u32,
    })
}

/// All queue entries, oldest first.
pub fn list(conn: &Connection) -> Result<Vec<QueueEntry>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT envelope, next_attempt, attempts, created_ms FROM queue ORDER BY created_ms, id",
    )?;
    let rows = stmt.query_map([], row_to_entry)?;
    rows.map(|r| decode(r?)).collect()
}

/// `next_attempt` of a message on hold (`mailward queue hold`): never due until released.
pub const HELD: i64 = i64::MAX;

/// Entries due at `now` (at most `limit`); held ones never are.
pub fn due(conn: &Connection, now: i64, limit: usize) -> Result<Vec<QueueEntry>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT envelope, next_attempt, attempts, created_ms FROM queue WHERE next_attempt <= ?1 AND next_attempt < ?3 ORDER BY next_attempt LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![now, limit as i64, HELD], row_to_entry)?;
    rows.map(|r| decode(r?)).collect()
}

/// Entries due at `now` and entries never attempted whatever their time (at most `limit`):
/// what a scan after dropped notices ([`notice::Notice::Missed`]) must deliver. Every
/// attempt raises `attempts`, so `attempts = 0` is exactly the messages no runner has
/// tried yet.
pub fn due_or_new(
    conn: &Connection,
    now: i64,
    limit: usize,
) -> Result<Vec<QueueEntry>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT envelope, next_attempt, attempts, created_ms FROM queue WHERE (next_attempt <= ?1 OR attempts = 0) AND next_attempt < ?3 ORDER BY next_attempt LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![now, limit as i64, HELD], row_to_entry)?;
    rows.map(|r| decode(r?)).collect()
}

pub fn get(conn: &Connection, id: &str) -> Result<Option<QueueEntry>, StoreError> {
    let row = conn
        .prepare_cached(
            "SELECT envelope, next_attempt, attempts, created_ms FROM queue WHERE id = ?1",
        )?
        .query_row([id], row_to_entry)
        .optional()?;
    row.map(decode).transpose()
}

/// Makes every entry due now (`mailward queue flush`, `retry --all`), held ones excepted.
/// Returns how many.
pub fn flush(conn: &Connection, now: i64) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "UPDATE queue SET next_attempt = ?1 WHERE next_attempt < ?2",
        params![now, HELD],
    )?)
}

/// Makes one entry due now (`mailward queue retry ID`); a held one stays held. False when
/// there is no such entry.
pub fn retry(conn: &Connection, id: &str, now: i64) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "UPDATE queue SET next_attempt = ?1 WHERE id = ?2 AND next_attempt < ?3",
        params![now, id, HELD],
    )? > 0)
}

/// Puts an entry on hold (`mailward queue hold ID`): no attempt until it is released. An
/// attempt already running finishes, and its outcome keeps the hold.
pub fn hold(conn: &Connection, id: &str) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "UPDATE queue SET next_attempt = ?1 WHERE id = ?2",
        params![HELD, id],
    )? > 0)
}

/// Releases a held entry and makes it due now (`mailward queue release ID`).
pub fn release(conn: &Connection, id: &str, now: i64) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "UPDATE queue SET next_attempt = ?1 WHERE id = ?2",
        params![now, id],
    )? > 0)
}

/// Fails every pending recipient of an entry (`mailward queue bounce ID`) and makes it due
/// now, so the runner sends the sender a failure report and removes it. False when there
/// is no such entry.
pub fn bounce(conn: &Connection, id: &str, now: i64, reason: &str) -> Result<bool, StoreError> {
    let Some(entry) = get(conn, id)? else {
        return Ok(false);
    };
    let mut env = entry.envelope;
    for r in env
        .rcpts
        .iter_mut()
        .filter(|r| r.state == RcptState::Pending)
    {
        r.state = RcptState::Failed;
        r.last_error = Some(reason.to_string());
        r.reported = false;
    }
    Ok(conn.execute(
        "UPDATE queue SET envelope = ?1, next_attempt = ?2 WHERE id = ?3",
        params![serde_json::to_string(&env)?, now, id],
    )? > 0)
}
