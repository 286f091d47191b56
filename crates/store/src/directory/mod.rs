//! Domains, accounts and aliases, and resolving an address to the accounts it reaches.
//! Password checks are in [`authenticate`].

mod authenticate;
pub(crate) mod verified;

pub use authenticate::authenticate;

use crate::error::StoreError;
use crate::ids::unix_now;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// One mail account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: i64,
    pub address: String,
    pub local: String,
    pub domain: String,
    /// Bytes allowed in the mailbox; `None` = unlimited.
    pub quota: Option<u64>,
    /// Bytes in the mailbox (maintained by delivery).
    pub used: u64,
}

/// An alias and one of its targets. The alias `@domain` is the domain's catch-all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alias {
    pub alias: String,
    pub target: String,
}

/// What an address reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// The domain is not one of ours.
    NotLocal,
    /// The domain is ours, the user is not (RFC 5321 §3.6.2 / RFC 3463 `5.1.1`).
    Unknown,
    /// Local accounts (an alias may fan out) and, for aliases pointing elsewhere, remote
    /// addresses.
    Local {
        accounts: Vec<Account>,
        remote: Vec<String>,
    },
}

/// Splits `local@domain` at the last `@`, lowercases the domain.
pub fn split_address(address: &str) -> Option<(&str, String)> {
    let at = address.rfind('@')?;
    let local = address.get(..at)?;
    let domain = address.get(at + 1..)?;
    if local.is_empty() || domain.is_empty() {
        return None;
    }
    Some((local, domain.trim_end_matches('.').to_ascii_lowercase()))
}

/// Validates an account address: the local part becomes a directory name, so only
/// `[a-z0-9._-]` (no leading dot, no `..`), and the domain only `[a-z0-9.-]`.
pub fn validate_address(address: &str) -> Result<(String, String), StoreError> {
    let lower = address.trim().to_ascii_lowercase();
    let bad = || StoreError::InvalidAddress(address.to_string());
    let (local, domain) = split_address(&lower).ok_or_else(bad)?;
    let local_ok = local
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && !local.starts_with('.')
        && !local.contains("..")
        && local.len() <= 64;
    let domain_ok = domain
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
        && !domain.starts_with('.')
        && !domain.contains("..")
        && domain.len() <= 253;
    if !local_ok || !domain_ok {
        return Err(bad());
    }
    Ok((local.to_string(), domain))
}

/// Adds the configured domains (idempotent).
pub fn ensure_domains(conn: &Connection, domains: &[String]) -> Result<(), StoreError> {
    for d in domains {
        conn.execute(
            "INSERT OR IGNORE INTO domains (name, created) VALUES (?1, ?2)",
            params![d.trim_end_matches('.').to_ascii_lowercase(), unix_now()],
        )?;
    }
    Ok(())
}

pub fn is_local_domain(conn: &Connection, domain: &str) -> Result<bool, StoreError> {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    Ok(conn
        .prepare_cached("SELECT 1 FROM domains WHERE name = ?1")?
        .exists([domain])?)
}

fn row_to_account(r: &rusqlite::Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account {
        id: r.get(0)?,
        address: r.get(1)?,
        local: r.get(2)?,
        domain: r.get(3)?,
        quota: r.get::<_, Option<i64>>(4)?.map(|q| q.max(0) as u64),
        used: r.get::<_, i64>(5)?.max(0) as u64,
    })
}

const ACCOUNT_COLS: &str = "id, address, local, domain, quota, used";

pub fn get_account(conn: &Connection, address: &str) -> Result<Option<Account>, StoreError> {
    let sql = format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE address = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([address.to_ascii_lowercase()], row_to_account)
        .optional()?)
}

pub fn get_account_by_id(conn: &Connection, id: i64) -> Result<Option<Account>, StoreError> {
    let sql = format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id], row_to_account)
        .optional()?)
}

pub fn list_accounts(conn: &Connection) -> Result<Vec<Account>, StoreError> {
    let sql = format!("SELECT {ACCOUNT_COLS} FROM accounts ORDER BY domain, local");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], row_to_account)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Creates an account. `password_hash` is what [`crate::password::hash`] made or an imported hash.
pub fn add_account(
    conn: &Connection,
    address: &str,
    password_hash: &str,
    quota: Option<u64>,
) -> Result<Account, StoreError> {
    let (local, domain) = validate_address(address)?;
    if !is_local_domain(conn, &domain)? {
        return Err(StoreError::UnknownDomain(domain));
    }
    let full = format!("{local}@{domain}");
    if get_account(conn, &full)?.is_some() {
        return Err(StoreError::AccountExists(full));
    }
    conn.execute(
        "INSERT INTO accounts (address, local, domain, password, quota, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![full, local, domain, password_hash, quota.map(|q| q as i64), unix_now()],
    )?;
    get_account(conn, &full)?.ok_or(StoreError::NoSuchAccount(full))
}

pub fn set_password(conn: &Connection, address: &str, hash: &str) -> Result<(), StoreError> {
    let n = conn.execute(
        "UPDATE accounts SET password = ?1 WHERE address = ?2",
        params![hash, address.to_ascii_lowercase()],
    )?;
    if n == 0 {
        return Err(StoreError::NoSuchAccount(address.to_string()));
    }
    Ok(())
}

pub fn set_quota(conn: &Connection, address: &str, quota: Option<u64>) -> Result<(), StoreError> {
    let n = conn.execute(
        "UPDATE accounts SET quota = ?1 WHERE address = ?2",
        params![quota.map(|q| q as i64), address.to_ascii_lowercase()],
    )?;
    if n == 0 {
        return Err(StoreError::NoSuchAccount(address.to_string()));
    }
    Ok(())
}

/// Deletes the account's row, its index and aliases pointing at it. The Maildir stays on
/// disk (the caller says where) so mail is never destroyed by a typo.
pub fn delete_account(conn: &Connection, address: &str) -> Result<Account, StoreError> {
    let address = address.to_ascii_lowercase();
    let acct = get_account(conn, &address)?.ok_or(StoreError::NoSuchAccount(address.clone()))?;
    conn.execute("DELETE FROM aliases WHERE target = ?1", [&address])?;
    conn.execute("DELETE FROM accounts WHERE id = ?1", [acct.id])?;
    Ok(acct)
}

/// Adds `alias -> target` rows. `alias` is `local@domain` or `@domain` (catch-all); the
/// alias's domain must be local. Targets are addresses (local or remote).
pub fn add_alias(conn: &Connection, alias: &str, targets: &[String]) -> Result<(), StoreError> {
    let alias = alias.trim().to_ascii_lowercase();
    let domain = match alias.strip_prefix('@') {
        Some(d) => d.to_string(),
        None => validate_address(&alias)?.1,
    };
    if !is_local_domain(conn, &domain)? {
        return Err(StoreError::UnknownDomain(domain));
    }
    for t in targets {
        let t = t.trim().to_ascii_lowercase();
        if split_address(&t).is_none() {
            return Err(StoreError::InvalidAddress(t));
        }
        conn.execute(
            "INSERT OR IGNORE INTO aliases (alias, target) VALUES (?1, ?2)",
            params![alias, t],
        )?;
    }
    Ok(())
}

pub fn delete_alias(conn: &Connection, alias: &str) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "DELETE FROM aliases WHERE alias = ?1",
        [alias.trim().to_ascii_lowercase()],
    )?)
}

pub fn list_aliases(conn: &Connection) -> Result<Vec<Alias>, StoreError> {
    let mut stmt = conn.prepare("SELECT alias, target FROM aliases ORDER BY alias, target")?;
    let rows = stmt.query_map([], |r| {
        Ok(Alias {
            alias: r.get(0)?,
            target: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn alias_targets(conn: &Connection, alias: &str) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT target FROM aliases WHERE alias = ?1")?;
    let rows = stmt.query_map([alias], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Resolves a recipient address: exact account, then alias, then the sub-address base
/// (`user+tag@domain` reaches `user`, RFC 5233 style), then the domain catch-all.
/// Aliases nest up to 8 levels. A local part holding `@` (from a quoted string) never
/// resolves: RFC 5321 §3.6.1 source routes and `user@other@local` are not relayed.
pub fn resolve(conn: &Connection, address: &str) -> Result<Recipient, StoreError> {
    resolve_with(conn, address, true)
}

/// Like [`resolve`]; `catch_all = false` ignores catch-alls (for sender ownership checks).
pub fn resolve_with(
    conn: &Connection,
    address: &str,
    catch_all: bool,
) -> Result<Recipient, StoreError> {
    let lower = address.to_ascii_lowercase();
    let Some((local, domain)) = split_address(&lower) else {
        return Ok(Recipient::Unknown);
    };
    if !is_local_domain(conn, &domain)? {
        return Ok(Recipient::NotLocal);
    }
    if local.contains('@') {
        return Ok(Recipient::Unknown);
    }
    let mut accounts = Vec::new();
    let mut remote = Vec::new();
    let mut seen = Vec::new();
    expand(
        conn,
        &lower,
        catch_all,
        0,
        &mut accounts,
        &mut remote,
        &mut seen,
    )?;
    if accounts.is_empty() && remote.is_empty() {
        return Ok(Recipient::Unknown);
    }
    Ok(Recipient::Local { accounts, remote })
}

fn expand(
    conn: &Connection,
    address: &str,
    catch_all: bool,
    depth: usize,
    accounts: &mut Vec<Account>,
    remote: &mut Vec<String>,
    seen: &mut Vec<String>,
) -> Result<(), StoreError> {
    if depth > 8 || seen.iter().any(|s| s == address) {
        return Ok(());
    }
    seen.push(address.to_string());
    let Some((local, domain)) = split_address(address) else {
        return Ok(());
    };
    if !is_local_domain(conn, &domain)? {
        if !remote.iter().any(|r| r == address) {
            remote.push(address.to_string());
        }
        return Ok(());
    }
    let mut candidates = vec![format!("{local}@{domain}")];
    if let Some((base, _tag)) = local.split_once('+')
        && !base.is_empty()
    {
        candidates.push(format!("{base}@{domain}"));
    }
    for cand in &candidates {
        if let Some(acct) = get_account(conn, cand)? {
            if !accounts.iter().any(|a| a.id == acct.id) {
                accounts.push(acct);
            }
            return Ok(());
        }
        let targets = alias_targets(conn, cand)?;
        if !targets.is_empty() {
            for t in targets {
                expand(conn, &t, catch_all, depth + 1, accounts, remote, seen)?;
            }
            return Ok(());
        }
    }
    if catch_all {
        for t in alias_targets(conn, &format!("@{domain}"))? {
            expand(conn, &t, false, depth + 1, accounts, remote, seen)?;
        }
    }
    Ok(())
}

/// RFC 6409 §6.1 (sender checks): may `account` use `address` as MAIL FROM? Yes for its own
/// address, its sub-addresses and aliases that reach it (catch-alls excluded).
pub fn owns_address(
    conn: &Connection,
    account: &Account,
    address: &str,
) -> Result<bool, StoreError> {
    match resolve_with(conn, address, false)? {
        Recipient::Local { accounts, .. } => Ok(accounts.iter().any(|a| a.id == account.id)),
        _ => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema;

    fn db() -> Connection {
        let mut c = Connection::open_in_memory().unwrap();
        schema::migrate(&mut c).unwrap();
        ensure_domains(&c, &["example.test".into()]).unwrap();
        c
    }

    #[test]
    fn subaddress_alias_and_catch_all_reach_the_account() {
        let c = db();
        let bob = add_account(&c, "Bob@Example.test", "x", None).unwrap();
        assert_eq!(bob.address, "bob@example.test");
        let reach = |a: &str| match resolve(&c, a).unwrap() {
            Recipient::Local { accounts, .. } => accounts.iter().map(|a| a.id).collect(),
            _ => vec![],
        };
        assert_eq!(reach("bob+news@example.test"), vec![bob.id]);
        assert_eq!(reach("BOB@EXAMPLE.TEST"), vec![bob.id]);
        assert_eq!(
            resolve(&c, "carol@example.test").unwrap(),
            Recipient::Unknown
        );
        assert_eq!(
            resolve(&c, "x@elsewhere.test").unwrap(),
            Recipient::NotLocal
        );
        add_alias(&c, "postmaster@example.test", &["bob@example.test".into()]).unwrap();
        assert_eq!(reach("postmaster@example.test"), vec![bob.id]);
        add_alias(&c, "@example.test", &["bob@example.test".into()]).unwrap();
        assert_eq!(reach("anything@example.test"), vec![bob.id]);
        assert!(owns_address(&c, &bob, "postmaster@example.test").unwrap());
        assert!(!owns_address(&c, &bob, "anything@example.test").unwrap());
    }

    #[test]
    fn quoted_at_in_local_part_never_resolves() {
        let c = db();
        add_account(&c, "bob@example.test", "x", None).unwrap();
        add_alias(&c, "@example.test", &["bob@example.test".into()]).unwrap();
        assert_eq!(
            resolve(&c, "victim@other.test@example.test").unwrap(),
            Recipient::Unknown
        );
    }

    #[test]
    fn account_names_must_be_safe_directory_names() {
        let c = db();
        assert!(add_account(&c, "../x@example.test", "x", None).is_err());
        assert!(add_account(&c, "a/b@example.test", "x", None).is_err());
        assert!(matches!(
            add_account(&c, "a@nowhere.test", "x", None),
            Err(StoreError::UnknownDomain(_))
        ));
    }
}
