//! Which extensions and kinds are refused for mail to one recipient domain.
//!
//! The rules are layered, each layer overriding the ones before it: the built-in defaults,
//! the global `allow` (removes), the global `block` (adds), then for a recipient domain its
//! own `allow` and `block`. A file is refused when the layers of any recipient refuse it.

use super::kind::{DEFAULT_BLOCKED, Kind, kind_of_extension};
use std::collections::{HashMap, HashSet};

/// The resolved rules for one recipient domain (or for all, without per-domain rules).
#[derive(Debug, Clone)]
pub struct Policy {
    kinds: HashSet<Kind>,
    /// Extensions named by a layer: `true` blocked, `false` allowed.
    extensions: HashMap<String, bool>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            kinds: DEFAULT_BLOCKED.into_iter().collect(),
            extensions: HashMap::new(),
        }
    }
}

impl Policy {
    /// Applies one layer: `allow` first, then `block`, so a name in both is blocked.
    pub fn layer(&mut self, block: &[String], allow: &[String]) {
        for (entries, blocked) in [(allow, false), (block, true)] {
            for entry in entries {
                if let Some(kind) = Kind::parse(entry) {
                    if blocked {
                        self.kinds.insert(kind);
                    } else {
                        self.kinds.remove(&kind);
                    }
                } else {
                    let ext = entry.trim().trim_start_matches('.').to_lowercase();
                    if !ext.is_empty() {
                        self.extensions.insert(ext, blocked);
                    }
                }
            }
        }
    }

    /// The extension (lower-case, no dot) is refused: named by a layer, or of a refused kind.
    pub fn blocks_extension(&self, ext: &str) -> bool {
        match self.extensions.get(ext) {
            Some(blocked) => *blocked,
            None => kind_of_extension(ext).is_some_and(|k| self.kinds.contains(&k)),
        }
    }

    /// Content of `kind` is refused, unless the file is named with an allowed extension of
    /// that very kind (`allow = ["exe"]` lets a program named `.exe` through, not one named
    /// `.pdf`).
    pub fn blocks_content(&self, kind: Kind, ext: Option<&str>) -> bool {
        if !self.kinds.contains(&kind) {
            return false;
        }
        let allowed_by_name = ext.is_some_and(|e| {
            self.extensions.get(e) == Some(&false) && kind_of_extension(e) == Some(kind)
        });
        !allowed_by_name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn defaults_block_programs_not_documents() {
        let p = Policy::default();
        assert!(p.blocks_extension("exe"));
        assert!(p.blocks_extension("iso"));
        assert!(!p.blocks_extension("pdf"));
        assert!(!p.blocks_extension("docm"));
        assert!(!p.blocks_extension("zip"));
        assert!(p.blocks_content(Kind::Executable, Some("pdf")));
    }

    #[test]
    fn layers_override_the_ones_before() {
        let mut p = Policy::default();
        p.layer(&s(&["docm", ".XYZ", "archive"]), &s(&["iso", "script"]));
        assert!(p.blocks_extension("docm"));
        assert!(p.blocks_extension("xyz"));
        assert!(p.blocks_extension("zip"));
        assert!(!p.blocks_extension("iso"));
        assert!(!p.blocks_extension("js"));
        assert!(!p.blocks_content(Kind::Script, None));
        // A second layer (a domain's) allows again what the first blocked.
        p.layer(&[], &s(&["docm"]));
        assert!(!p.blocks_extension("docm"));
    }

    #[test]
    fn an_allowed_extension_lets_only_its_own_kind_through() {
        let mut p = Policy::default();
        p.layer(&[], &s(&["exe"]));
        assert!(!p.blocks_extension("exe"));
        assert!(!p.blocks_content(Kind::Executable, Some("exe")));
        assert!(p.blocks_content(Kind::Executable, Some("pdf")));
        assert!(p.blocks_content(Kind::Executable, None));
    }
}
