//! Password checks (SMTP AUTH, IMAP LOGIN/AUTHENTICATE, POP3 USER/PASS and AUTH all come
//! through here). Slow by design (argon2): callers run them off the async threads.

use super::{Account, get_account_by_id};
use crate::error::StoreError;
use crate::handle::Store;
use crate::password;
use rusqlite::{Connection, OptionalExtension};

/// A valid argon2id hash of nothing anyone knows, checked when the account does not exist.
pub(crate) const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3GpeGoFONxRAaRRv0vSNsTQPyB6V6V4KdsgOjVd4r3g";

/// The account id and stored hash of `user` (already trimmed and lowercased).
fn stored_password(conn: &Connection, user: &str) -> Result<Option<(i64, String)>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT id, password FROM accounts WHERE address = ?1")?
        .query_row([user], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Checks a password; returns the account when it matches. Slow by design (argon2): call
/// it off the async threads.
pub fn authenticate(
    conn: &Connection,
    user: &str,
    pass: &str,
) -> Result<Option<Account>, StoreError> {
    let user = user.trim().to_ascii_lowercase();
    match stored_password(conn, &user)? {
        Some((id, stored)) if password::verify(pass, &stored) => get_account_by_id(conn, id),
        Some(_) => Ok(None),
        None => {
            // Spend the same time as a real check so timing does not reveal accounts.
            let _ = password::verify(pass, DUMMY_HASH);
            Ok(None)
        }
    }
}

impl Store {
    /// Checks a password without holding the shared connection during the (slow) hash. A
    /// login verified in the last minutes with the same stored hash is not hashed again
    /// (see [`super::verified`]).
    pub fn authenticate(&self, user: &str, pass: &str) -> Result<Option<Account>, StoreError> {
        let user = user.trim().to_ascii_lowercase();
        let stored = stored_password(&self.conn(), &user)?;
        match stored {
            Some((id, hash)) if self.verified.knows(&user, &hash, pass) => {
                get_account_by_id(&self.conn(), id)
            }
            Some((id, hash)) if password::verify(pass, &hash) => {
                self.verified.remember(&user, &hash, pass);
                get_account_by_id(&self.conn(), id)
            }
            Some(_) => Ok(None),
            None => {
                // Spend the time of a real check so timing does not reveal which accounts
                // exist (SMTP AUTH, POP3 and IMAP logins all come through here).
                let _ = password::verify(pass, DUMMY_HASH);
                Ok(None)
            }
        }
    }
}
