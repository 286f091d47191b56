//! A small, fast, non-cryptographic hasher for queue-ID and address maps (the keys come from
//! logs, not from an adversary who can choose them at line rate against a live service; a
//! crafted log can at worst slow a report down).

use std::hash::{BuildHasherDefault, Hasher};

/// Multiply-rotate hashing over 8-byte words (the "Fx" scheme).
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            if let Some(d) = w.get_mut(..rest.len()) {
                d.copy_from_slice(rest)
            }
            self.add(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    /// MurmurHash3's 64-bit finaliser: the multiply-rotate state is weak in its low bits,
    /// which hashbrown uses for the bucket index; this spreads every input bit.
    #[inline]
    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

pub type FxBuild = BuildHasherDefault<FxHasher>;
pub type FxHashMap<K, V> = std::collections::HashMap<K, V, FxBuild>;
pub type FxHashSet<K> = std::collections::HashSet<K, FxBuild>;

/// Longest key stored inline by [`StrMap`].
pub const INLINE: usize = 39;
const WORDS: usize = (INLINE + 1) / 8;

/// A short string stored inline (zero-padded; the last byte is the length), so that a map
/// lookup compares words already in the table instead of following a pointer to the heap —
/// with tens of thousands of addresses or queue IDs that pointer is a cache miss.
#[derive(Clone, Copy)]
pub struct ShortKey([u64; WORDS]);

impl PartialEq for ShortKey {
    /// Word by word without branches (a derived comparison becomes a `memcmp` call).
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.0
            .iter()
            .zip(other.0)
            .fold(0, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl Eq for ShortKey {}

impl std::hash::Hash for ShortKey {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        for w in self.0 {
            state.write_u64(w);
        }
    }
}

impl ShortKey {
    /// `parts` concatenated, ASCII-lower-cased when `lower`; `None` when longer than
    /// [`INLINE`].
    #[inline]
    pub fn new(parts: &[&str], lower: bool) -> Option<ShortKey> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if len > INLINE {
            return None;
        }
        let mut buf = [0u8; INLINE + 1];
        let mut at = 0;
        for p in parts {
            if let Some(d) = buf.get_mut(at..at + p.len()) {
                d.copy_from_slice(p.as_bytes());
            }
            at += p.len();
        }
        if lower {
            // The whole fixed-size block at once (the padding and the length byte, at most
            // 39, are no upper-case letters).
            buf.make_ascii_lowercase();
        }
        *buf.last_mut()? = len as u8;
        let mut words = [0u64; WORDS];
        for (w, c) in words.iter_mut().zip(buf.chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            *w = u64::from_le_bytes(b);
        }
        Some(ShortKey(words))
    }

    /// The key's bytes and length (valid UTF-8: whole `str`s, at most ASCII-lower-cased).
    fn bytes(&self) -> ([u8; INLINE + 1], usize) {
        let mut buf = [0u8; INLINE + 1];
        for (c, w) in buf.chunks_exact_mut(8).zip(self.0) {
            c.copy_from_slice(&w.to_le_bytes());
        }
        let len = buf.last().map_or(0, |&n| usize::from(n));
        (buf, len)
    }
}

/// A key of a [`StrMap`], as handed out by [`StrMap::iter`].
#[derive(Clone, Copy)]
pub enum KeyRef<'a> {
    Short([u8; INLINE + 1], usize),
    Long(&'a str),
}

impl KeyRef<'_> {
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            KeyRef::Short(b, n) => b.get(..*n).unwrap_or_default(),
            KeyRef::Long(s) => s.as_bytes(),
        }
    }
}

/// A map from strings: short keys inline ([`ShortKey`]), long ones on the heap.
#[derive(Debug, Clone)]
pub struct StrMap<V> {
    short: FxHashMap<ShortKey, V>,
    long: FxHashMap<String, V>,
}

impl std::fmt::Debug for ShortKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (b, n) = self.bytes();
        String::from_utf8_lossy(b.get(..n).unwrap_or_default()).fmt(f)
    }
}

impl<V> Default for StrMap<V> {
    fn default() -> Self {
        StrMap {
            short: FxHashMap::default(),
            long: FxHashMap::default(),
        }
    }
}

/// The key `parts` (concatenated, lower-cased when `lower`) as a [`ShortKey`], or as a heap
/// string when it is too long.
enum Key {
    Short(ShortKey),
    Long(String),
}

fn key(parts: &[&str], lower: bool) -> Key {
    match ShortKey::new(parts, lower) {
        Some(k) => Key::Short(k),
        None => {
            let mut s = parts.concat();
            if lower {
                s.make_ascii_lowercase();
            }
            Key::Long(s)
        }
    }
}

impl<V> StrMap<V> {
    pub fn is_empty(&self) -> bool {
        self.short.is_empty() && self.long.is_empty()
    }

    #[inline]
    pub fn get(&self, k: &str) -> Option<&V> {
        match ShortKey::new(&[k], false) {
            Some(s) => self.short.get(&s),
            None => self.long.get(k),
        }
    }

    #[inline]
    pub fn contains_key(&self, k: &str) -> bool {
        self.get(k).is_some()
    }

    #[inline]
    pub fn insert(&mut self, k: &str, v: V) -> Option<V> {
        match ShortKey::new(&[k], false) {
            Some(s) => self.short.insert(s, v),
            None => self.long.insert(k.to_owned(), v),
        }
    }

    #[inline]
    pub fn remove(&mut self, k: &str) -> Option<V> {
        match ShortKey::new(&[k], false) {
            Some(s) => self.short.remove(&s),
            None => self.long.remove(k),
        }
    }

    pub fn clear(&mut self) {
        self.short.clear();
        self.long.clear();
    }

    /// The value of the key made of `parts` (concatenated, ASCII-lower-cased when `lower`),
    /// inserted with `V::default()` when missing.
    #[inline]
    pub fn entry_parts(&mut self, parts: &[&str], lower: bool) -> &mut V
    where
        V: Default,
    {
        match key(parts, lower) {
            Key::Short(s) => self.short.entry(s).or_default(),
            Key::Long(l) => self.long.entry(l).or_default(),
        }
    }

    /// Every entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (KeyRef<'_>, &V)> {
        self.short
            .iter()
            .map(|(k, v)| {
                let (b, n) = k.bytes();
                (KeyRef::Short(b, n), v)
            })
            .chain(self.long.iter().map(|(k, v)| (KeyRef::Long(k), v)))
    }

    /// Moves every entry of `other` in, combining values of equal keys with `f`.
    pub fn merge(&mut self, other: StrMap<V>, mut f: impl FnMut(&mut V, V)) {
        for (k, v) in other.short {
            match self.short.get_mut(&k) {
                Some(mine) => f(mine, v),
                None => {
                    self.short.insert(k, v);
                }
            }
        }
        for (k, v) in other.long {
            match self.long.get_mut(&k) {
                Some(mine) => f(mine, v),
                None => {
                    self.long.insert(k, v);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn similar_keys_spread_over_buckets() {
        let b = FxBuild::default();
        let mut low = std::collections::HashSet::new();
        let mut high = std::collections::HashSet::new();
        for n in 0..4096 {
            let h = b.hash_one(format!("user{n}@example.test"));
            low.insert(h & 0xfff);
            high.insert(h >> 57);
        }
        assert!(low.len() > 2400, "low bits: {}", low.len());
        assert_eq!(high.len(), 128);
    }

    #[test]
    fn short_and_long_keys_are_the_same_map() {
        let long = "x".repeat(INLINE + 1);
        let mut m: StrMap<u64> = StrMap::default();
        for k in ["a", "", &long, &"y".repeat(INLINE)] {
            assert_eq!(m.insert(k, 1), None);
            assert_eq!(m.get(k), Some(&1));
        }
        *m.entry_parts(&["A", "B"], true) += 5;
        *m.entry_parts(&["ab"], false) += 1;
        *m.entry_parts(&[&long[..20], &long[20..]], false) += 1;
        assert_eq!(m.get("ab"), Some(&6));
        assert_eq!(m.get(&long), Some(&2));
        assert_eq!(m.remove(&long), Some(2));
        assert!(!m.contains_key(&long));
        let mut keys: Vec<Vec<u8>> = m.iter().map(|(k, _)| k.as_bytes().to_vec()).collect();
        keys.sort();
        assert_eq!(keys.len(), 4);
        assert_eq!(keys.first().map(Vec::len), Some(0));
        assert!(keys.contains(&b"ab".to_vec()));
    }
}
