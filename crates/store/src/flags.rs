//! Message flags: the IMAP system flags and keywords (RFC 9051 §2.3.2) and their Maildir
//! form, the `:2,` info suffix of a file in `cur/` (maildir(5): letters in ASCII order,
//! `D` draft, `F` flagged, `P` passed, `R` replied, `S` seen, `T` trashed).
//!
//! The index keeps every flag; the file name carries the ones Maildir has letters for, so
//! mutt or Dovecot reading the same Maildir see them too. `P` (passed) is the `$Forwarded`
//! keyword (RFC 5788), as Dovecot maps it.

use std::fmt;

/// Longest keyword accepted (RFC 9051 does not bound an atom; this keeps rows small).
pub const MAX_KEYWORD_LEN: usize = 100;
/// Most keywords one message may carry.
pub const MAX_KEYWORDS: usize = 64;

/// The system flags, as bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SystemFlag {
    Answered,
    Flagged,
    Deleted,
    Seen,
    Draft,
}

impl SystemFlag {
    pub const ALL: [SystemFlag; 5] = [
        SystemFlag::Answered,
        SystemFlag::Flagged,
        SystemFlag::Deleted,
        SystemFlag::Seen,
        SystemFlag::Draft,
    ];

    fn bit(self) -> u8 {
        match self {
            SystemFlag::Answered => 1,
            SystemFlag::Flagged => 2,
            SystemFlag::Deleted => 4,
            SystemFlag::Seen => 8,
            SystemFlag::Draft => 16,
        }
    }

    /// The IMAP spelling (`\Seen`).
    pub fn as_imap(self) -> &'static str {
        match self {
            SystemFlag::Answered => "\\Answered",
            SystemFlag::Flagged => "\\Flagged",
            SystemFlag::Deleted => "\\Deleted",
            SystemFlag::Seen => "\\Seen",
            SystemFlag::Draft => "\\Draft",
        }
    }

    /// Parses `\Seen` and friends, case-insensitively (RFC 9051 §2.3.2: flags are case
    /// insensitive). `\Recent` is not a stored flag and gives `None`.
    pub fn from_imap(s: &str) -> Option<SystemFlag> {
        SystemFlag::ALL
            .into_iter()
            .find(|f| f.as_imap().eq_ignore_ascii_case(s))
    }

    /// The Maildir info letter.
    fn letter(self) -> char {
        match self {
            SystemFlag::Draft => 'D',
            SystemFlag::Flagged => 'F',
            SystemFlag::Answered => 'R',
            SystemFlag::Seen => 'S',
            SystemFlag::Deleted => 'T',
        }
    }
}

/// The `$Forwarded` keyword (RFC 5788), Maildir's `P`.
pub const FORWARDED: &str = "$Forwarded";

/// A message's flags: system flags as bits, keywords sorted and unique.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Flags {
    system: u8,
    keywords: Vec<String>,
}

/// Why a flag was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlagError {
    #[error("flag {0:?} is not a system flag")]
    UnknownSystemFlag(String),
    #[error("keyword {0:?} is not an IMAP atom")]
    BadKeyword(String),
    #[error("too many keywords (at most {MAX_KEYWORDS})")]
    TooMany,
}

impl Flags {
    pub fn new() -> Flags {
        Flags::default()
    }

    /// Reads the index form (space-separated; unknown `\X` flags are dropped, since the
    /// index only ever holds what [`Flags::insert`] accepted).
    pub fn from_index(s: &str) -> Flags {
        let mut f = Flags::new();
        for word in s.split_ascii_whitespace() {
            let _ = f.insert(word);
        }
        f
    }

    /// The index form: system flags in a fixed order, then keywords.
    pub fn to_index(&self) -> String {
        self.to_string()
    }

    /// Adds a flag given in IMAP form. `\Recent` is ignored (RFC 9051 removed it; RFC 3501
    /// §2.3.2 says clients cannot set it).
    pub fn insert(&mut self, flag: &str) -> Result<(), FlagError> {
        if let Some(kw) = flag.strip_prefix('\\') {
            if kw.eq_ignore_ascii_case("Recent") {
                return Ok(());
            }
            let sf = SystemFlag::from_imap(flag)
                .ok_or_else(|| FlagError::UnknownSystemFlag(flag.to_string()))?;
            self.system |= sf.bit();
            return Ok(());
        }
        if !is_keyword(flag) {
            return Err(FlagError::BadKeyword(flag.to_string()));
        }
        // Keywords compare case-insensitively; the first spelling seen is kept.
        if self.keywords.iter().any(|k| k.eq_ignore_ascii_case(flag)) {
            return Ok(());
        }
        if self.keywords.len() >= MAX_KEYWORDS {
            return Err(FlagError::TooMany);
        }
        self.keywords.push(flag.to_string());
        self.keywords.sort_by_key(|k| k.to_ascii_lowercase());
        Ok(())
    }

    /// Removes a flag given in IMAP form (absent flags are no error).
    pub fn remove(&mut self, flag: &str) {
        if let Some(sf) = SystemFlag::from_imap(flag) {
            self.system &= !sf.bit();
        } else {
            self.keywords.retain(|k| !k.eq_ignore_ascii_case(flag));
        }
    }

    pub fn has(&self, flag: SystemFlag) -> bool {
        self.system & flag.bit() != 0
    }

    pub fn set(&mut self, flag: SystemFlag, on: bool) {
        if on {
            self.system |= flag.bit();
        } else {
            self.system &= !flag.bit();
        }
    }

    /// True when the keyword is set (case-insensitive).
    pub fn has_keyword(&self, kw: &str) -> bool {
        self.keywords.iter().any(|k| k.eq_ignore_ascii_case(kw))
    }

    pub fn keywords(&self) -> &[String] {
        &self.keywords
    }

    /// Every flag in IMAP form.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        SystemFlag::ALL
            .into_iter()
            .filter(|f| self.has(*f))
            .map(|f| -> &str { f.as_imap() })
            .chain(self.keywords.iter().map(String::as_str))
    }

    pub fn is_empty(&self) -> bool {
        self.system == 0 && self.keywords.is_empty()
    }

    /// The Maildir info letters (`FRS`), in ASCII order as maildir(5) requires.
    pub fn maildir_info(&self) -> String {
        let mut letters: Vec<char> = SystemFlag::ALL
            .into_iter()
            .filter(|f| self.has(*f))
            .map(SystemFlag::letter)
            .collect();
        if self.has_keyword(FORWARDED) {
            letters.push('P');
        }
        letters.sort_unstable();
        letters.into_iter().collect()
    }

    /// Takes the flags a Maildir info string (after `:2,`) carries, keeping keywords that
    /// have no letter. Unknown letters (Dovecot's `a`-`z` keyword letters) are ignored.
    pub fn with_maildir_info(&self, info: &str) -> Flags {
        let mut f = Flags {
            system: 0,
            keywords: self
                .keywords
                .iter()
                .filter(|k| !k.eq_ignore_ascii_case(FORWARDED))
                .cloned()
                .collect(),
        };
        for c in info.chars() {
            match c {
                'D' => f.set(SystemFlag::Draft, true),
                'F' => f.set(SystemFlag::Flagged, true),
                'R' => f.set(SystemFlag::Answered, true),
                'S' => f.set(SystemFlag::Seen, true),
                'T' => f.set(SystemFlag::Deleted, true),
                'P' => {
                    let _ = f.insert(FORWARDED);
                }
                _ => {}
            }
        }
        f
    }
}

impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for flag in self.iter() {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            f.write_str(flag)?;
        }
        Ok(())
    }
}

/// A keyword is an IMAP atom (RFC 9051 §9, `flag-keyword = "$MDNSent" / "$Forwarded" /
/// ... / atom`): printable ASCII without `(){ %*"\]` and not empty.
pub fn is_keyword(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_KEYWORD_LEN
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && !b"(){%*\"\\]".contains(&b))
}

/// Splits a Maildir file name into its base and info (`base:2,FS` → (`base`, `Some("FS")`)).
pub fn split_info(name: &str) -> (&str, Option<&str>) {
    match name.rsplit_once(":2,") {
        Some((base, info)) => (base, Some(info)),
        None => (name, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_form_round_trips_and_orders() {
        let mut f = Flags::new();
        for x in ["$Junk", "\\seen", "\\Flagged", "$Forwarded", "\\Recent"] {
            f.insert(x).unwrap();
        }
        assert_eq!(f.to_index(), "\\Flagged \\Seen $Forwarded $Junk");
        assert_eq!(Flags::from_index(&f.to_index()), f);
        assert_eq!(f.maildir_info(), "FPS");
    }

    #[test]
    fn keywords_are_atoms_and_case_insensitive() {
        let mut f = Flags::new();
        assert!(f.insert("bad word").is_err());
        assert!(f.insert("bad]").is_err());
        assert!(f.insert("\\Bogus").is_err());
        f.insert("Work").unwrap();
        f.insert("work").unwrap();
        assert_eq!(f.keywords(), ["Work"]);
        f.remove("WORK");
        assert!(f.is_empty());
    }

    #[test]
    fn maildir_info_updates_system_flags_and_keeps_keywords() {
        let mut f = Flags::new();
        f.insert("\\Seen").unwrap();
        f.insert("project").unwrap();
        f.insert(FORWARDED).unwrap();
        let g = f.with_maildir_info("DRT");
        assert_eq!(g.to_index(), "\\Answered \\Deleted \\Draft project");
        assert_eq!(g.maildir_info(), "DRT");
        assert_eq!(split_info("123.abc,S=5:2,RS"), ("123.abc,S=5", Some("RS")));
        assert_eq!(split_info("123.abc"), ("123.abc", None));
    }
}
