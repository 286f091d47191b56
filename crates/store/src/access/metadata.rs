//! Annotations (RFC 5464 METADATA): server entries (no mailbox) and mailbox entries of one
//! account, kept in the index's `metadata` table (schema version 7).
//!
//! - Entry names are case-insensitive (RFC 5464 §3.2): they are kept and returned in lower
//!   case. The IMAP server checks the §3.2 name rules (and answers `BAD`); the store checks
//!   again what it writes ([`check_name`]).
//! - `/private` and `/shared` entries are both kept per account: mailward has no shared
//!   mailboxes yet, so a `/shared` entry is seen only by the account that set it.
//! - Limits (RFC 5464 §4.1 lets a server set them; it must take values of at least 1024
//!   octets and 10 entries): [`MAX_VALUE`] octets per value, [`MAX_ENTRIES`] entries per
//!   account, server and mailbox entries together. Annotations do not count against the
//!   account's mail quota.
//! - Mailbox entries go with their mailbox (DELETE, §4.1 SHOULD) and follow it through
//!   RENAME (the folder keeps its id); renaming INBOX copies them to the new mailbox and
//!   INBOX keeps its own (§4.1).
//! - `/private/specialuse` (RFC 6154 §4) is the folder's special-use attribute
//!   (`mailboxes.special_use`), read and written through the same calls; it is not counted.
//! - They live in the index only: an index rebuilt from the Maildir has none.
//! - The table also holds each mailbox's URLAUTH key (RFC 4467) under a reserved name
//!   outside `/private` and `/shared` ([`super::urlauth_key`]): never shown, set or counted.

use super::{AccessError, MailAccess};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeMap;

/// Largest value of one entry, in octets.
pub const MAX_VALUE: u64 = 64 * 1024;
/// Most entries one account may hold (server and mailbox entries together).
pub const MAX_ENTRIES: u64 = 1000;
/// Longest entry name, in octets.
pub const MAX_NAME: usize = 1024;
/// The mailbox entry that is the folder's special-use attribute (RFC 6154 §4).
pub const SPECIAL_USE_ENTRY: &str = "/private/specialuse";

/// How far below a requested entry GETMETADATA looks (RFC 5464 §4.2.2 DEPTH).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MetadataDepth {
    /// The entry alone.
    #[default]
    Zero,
    /// The entry and its children.
    One,
    /// The entry and everything below it.
    Infinity,
}

/// One entry found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataEntry {
    /// Lower case.
    pub name: String,
    /// The value's size in octets.
    pub size: u64,
    /// The value; `None` when it is larger than the size asked for (RFC 5464 §4.2.1
    /// MAXSIZE: the entry is left out and its size reported).
    pub value: Option<Vec<u8>>,
}

/// One change of SETMETADATA: `None` removes the entry (RFC 5464 §4.3 NIL).
pub type MetadataChange = (String, Option<Vec<u8>>);

/// `name` is `query` or below it, within `depth` (RFC 5464 §4.2.2: depth 1 of `/a` is
/// `/a` and `/a/b`, not `/a/b/c`).
pub fn within(query: &str, name: &str, depth: MetadataDepth) -> bool {
    if name == query {
        return true;
    }
    let rest = match name.strip_prefix(query).and_then(|r| r.strip_prefix('/')) {
        Some(r) => r,
        None => return false,
    };
    match depth {
        MetadataDepth::Zero => false,
        MetadataDepth::One => !rest.contains('/'),
        MetadataDepth::Infinity => true,
    }
}

/// An entry name the store keeps, in lower case: `/private/...` or `/shared/...`,
/// printable ASCII without `*` and `%`, no empty component, at most [`MAX_NAME`] octets
/// (RFC 5464 §3.2).
pub fn check_name(name: &str) -> Result<String, AccessError> {
    let bad = |why: &str| Err(AccessError::MetadataInvalid(format!("{why}: {name:?}")));
    if name.len() > MAX_NAME {
        return bad("entry name too long");
    }
    if !name
        .bytes()
        .all(|c| (0x20..0x7f).contains(&c) && c != b'*' && c != b'%')
    {
        return bad("entry name with a character RFC 5464 section 3.2 forbids");
    }
    let lower = name.to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("/private/")
        .or_else(|| lower.strip_prefix("/shared/"))
    else {
        return bad("entry name outside /private and /shared");
    };
    if rest.split('/').any(str::is_empty) {
        return bad("entry name with an empty component");
    }
    Ok(lower)
}

/// The key of the mailbox in the `metadata` table: its id, 0 for server entries (the unique
/// index is on `IFNULL(mailbox_id, 0)`).
fn key(mailbox_id: Option<i64>) -> i64 {
    mailbox_id.unwrap_or(0)
}

fn count(conn: &Connection, account_id: i64) -> Result<u64, AccessError> {
    let n: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM metadata WHERE account_id = ?1 AND name <> ?2")?
        .query_row(
            params![account_id, super::urlauth_key::URLAUTH_KEY_ENTRY],
            |r| r.get(0),
        )?;
    Ok(n.max(0) as u64)
}

impl MailAccess {
    /// The folder id of a mailbox argument (`None`: the server), adopting a folder another
    /// program made; [`AccessError::NoSuchFolder`] when there is none.
    fn metadata_target(&self, mailbox: Option<&str>) -> Result<Option<i64>, AccessError> {
        mailbox.map(|m| self.require(m).map(|f| f.id)).transpose()
    }

    /// GETMETADATA (RFC 5464 §4.2): the entries of the server (`mailbox` `None`) or of a
    /// mailbox that are one of `names` or below one within `depth`, in name order. Values
    /// larger than `max_size` are left out, with their size (§4.2.1 MAXSIZE).
    pub fn metadata(
        &self,
        mailbox: Option<&str>,
        names: &[String],
        depth: MetadataDepth,
        max_size: Option<u64>,
    ) -> Result<Vec<MetadataEntry>, AccessError> {
        let folder = self.metadata_target(mailbox)?;
        let conn = self.store.mail_conn();
        let mut found: BTreeMap<String, MetadataEntry> = BTreeMap::new();
        let max = max_size.map(|m| i64::try_from(m).unwrap_or(i64::MAX));
        let mut stmt = conn.prepare_cached(
            "SELECT name, length(value), CASE WHEN ?4 IS NULL OR length(value) <= ?4 THEN value END \
             FROM metadata WHERE account_id = ?1 AND IFNULL(mailbox_id, 0) = ?2 \
             AND (name = ?3 OR (name > ?3 || '/' AND name < ?3 || '0'))",
        )?;
        for query in names {
            let query = query.to_ascii_lowercase();
            // `?3 || '/'` up to `?3 || '0'` ('0' follows '/'): every name below `query`,
            // read along the unique index.
            let rows = stmt.query_map(params![self.account.id, key(folder), query, max], |r| {
                Ok(MetadataEntry {
                    name: r.get(0)?,
                    size: r.get::<_, i64>(1)?.max(0) as u64,
                    value: r.get(2)?,
                })
            })?;
            for e in rows {
                let e = e?;
                if within(&query, &e.name, depth) {
                    found.insert(e.name.clone(), e);
                }
            }
            if let Some(id) = folder
                && within(&query, SPECIAL_USE_ENTRY, depth)
                && let Some(attr) = conn
                    .prepare_cached("SELECT special_use FROM mailboxes WHERE id = ?1")?
                    .query_row([id], |r| r.get::<_, Option<String>>(0))
                    .optional()?
                    .flatten()
            {
                let size = attr.len() as u64;
                let value = max_size
                    .is_none_or(|m| size <= m)
                    .then(|| attr.into_bytes());
                found.insert(
                    SPECIAL_USE_ENTRY.to_string(),
                    MetadataEntry {
                        name: SPECIAL_USE_ENTRY.to_string(),
                        size,
                        value,
                    },
                );
            }
        }
        Ok(found.into_values().collect())
    }

    /// SETMETADATA (RFC 5464 §4.3): sets or (`None`) removes entries of the server
    /// (`mailbox` `None`) or of a mailbox, all or none: a value over [`MAX_VALUE`], more
    /// than [`MAX_ENTRIES`] entries after the change (when it adds any), or a bad name
    /// changes nothing. On a mailbox, `/private/specialuse` sets the folder's special-use
    /// attribute (one `\Attribute`; the IMAP server checks which it supports).
    pub fn set_metadata(
        &self,
        mailbox: Option<&str>,
        changes: &[MetadataChange],
    ) -> Result<(), AccessError> {
        let mut checked = Vec::with_capacity(changes.len());
        for (name, value) in changes {
            let name = check_name(name)?;
            if let Some(v) = value
                && v.len() as u64 > MAX_VALUE
            {
                return Err(AccessError::MetadataTooBig { max: MAX_VALUE });
            }
            checked.push((name, value.as_deref()));
        }
        let folder = self.metadata_target(mailbox)?;
        let mut conn = self.store.mail_conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if let Some(id) = folder {
            let exists = tx
                .prepare_cached("SELECT 1 FROM mailboxes WHERE id = ?1 AND account_id = ?2")?
                .query_row(params![id, self.account.id], |_| Ok(()))
                .optional()?;
            if exists.is_none() {
                return Err(AccessError::NoSuchFolder(
                    mailbox.unwrap_or_default().to_string(),
                ));
            }
        }
        let before = count(&tx, self.account.id)?;
        for (name, value) in &checked {
            if let Some(id) = folder
                && name == SPECIAL_USE_ENTRY
            {
                let attr = value.map(special_use_attribute).transpose()?.flatten();
                tx.prepare_cached("UPDATE mailboxes SET special_use = ?1 WHERE id = ?2")?
                    .execute(params![attr, id])?;
                continue;
            }
            tx.prepare_cached(
                "DELETE FROM metadata WHERE account_id = ?1 AND IFNULL(mailbox_id, 0) = ?2 AND name = ?3",
            )?
            .execute(params![self.account.id, key(folder), name])?;
            if let Some(v) = value {
                tx.prepare_cached(
                    "INSERT INTO metadata (account_id, mailbox_id, name, value) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![self.account.id, folder, name, v])?;
            }
        }
        let after = count(&tx, self.account.id)?;
        // RFC 5464 §4.3: a new entry over the limit fails the command; replacing or
        // removing entries of an account already at the limit does not.
        if after > MAX_ENTRIES && after > before {
            return Err(AccessError::MetadataTooMany { max: MAX_ENTRIES });
        }
        tx.commit()?;
        Ok(())
    }

    /// RENAME of INBOX (RFC 5464 §4.1): the new mailbox gets a copy of INBOX's entries,
    /// INBOX keeps them. Nothing is copied when the copy would take the account over
    /// [`MAX_ENTRIES`] (the rename itself goes on).
    pub(super) fn copy_metadata(&self, from_id: i64, to_id: i64) -> Result<(), AccessError> {
        let mut conn = self.store.mail_conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.prepare_cached(
            "INSERT OR REPLACE INTO metadata (account_id, mailbox_id, name, value) \
             SELECT account_id, ?3, name, value FROM metadata WHERE account_id = ?1 AND mailbox_id = ?2 \
             AND name <> ?4",
        )?
        .execute(params![
            self.account.id,
            from_id,
            to_id,
            super::urlauth_key::URLAUTH_KEY_ENTRY
        ])?;
        if count(&tx, self.account.id)? <= MAX_ENTRIES {
            tx.commit()?;
        }
        Ok(())
    }
}

/// A `/private/specialuse` value as the folder keeps it: empty (no attribute: `None`) or
/// one `\Attribute` (RFC 6154 §4; the IMAP server has checked it is one it supports).
fn special_use_attribute(value: &[u8]) -> Result<Option<String>, AccessError> {
    let text = std::str::from_utf8(value).unwrap_or_default().trim();
    if text.is_empty() && value.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let valid = text
        .strip_prefix('\\')
        .is_some_and(|a| !a.is_empty() && a.bytes().all(|c| c.is_ascii_alphanumeric()));
    if !valid {
        return Err(AccessError::MetadataInvalid(format!(
            "special-use attribute {text:?}"
        )));
    }
    Ok(Some(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_one_takes_children_not_grandchildren() {
        use MetadataDepth::*;
        assert!(within("/private/a", "/private/a", Zero));
        assert!(!within("/private/a", "/private/a/b", Zero));
        assert!(within("/private/a", "/private/a/b", One));
        assert!(!within("/private/a", "/private/a/b/c", One));
        assert!(within("/private/a", "/private/a/b/c", Infinity));
        // A sibling sharing the prefix is not below it.
        assert!(!within("/private/a", "/private/ab", Infinity));
    }

    #[test]
    fn names_are_checked_and_lowered() {
        assert_eq!(
            check_name("/Private/Comment").ok().as_deref(),
            Some("/private/comment")
        );
        for bad in [
            "/private",
            "/private/",
            "/other/x",
            "/private//x",
            "/private/x/",
            "/private/*",
            "/shared/a%b",
            "/shared/\u{e9}",
            "/shared/a\tb",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?} accepted");
        }
        assert!(check_name(&format!("/shared/{}", "x".repeat(MAX_NAME))).is_err());
    }

    #[test]
    fn special_use_values() {
        assert_eq!(special_use_attribute(b"").unwrap(), None);
        assert_eq!(
            special_use_attribute(b"\\Sent").unwrap().as_deref(),
            Some("\\Sent")
        );
        assert!(special_use_attribute(b"Sent").is_err());
        assert!(special_use_attribute(b"\\Sent \\Junk").is_err());
        assert!(special_use_attribute(b"\xff").is_err());
    }
}
