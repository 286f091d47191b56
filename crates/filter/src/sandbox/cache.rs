//! The sandbox's verdicts by SHA-256 of the file: a repeated file is not sent again.
//! Bounded: the oldest entry goes when the cache is full.

use super::HookVerdict;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// A SHA-256 digest.
pub type Digest = [u8; 32];

#[derive(Debug)]
pub struct VerdictCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    verdicts: HashMap<Digest, HookVerdict>,
    /// Insertion order, oldest first.
    order: VecDeque<Digest>,
}

impl VerdictCache {
    /// A cache of at most `capacity` verdicts (0: nothing is kept).
    pub fn new(capacity: usize) -> Self {
        VerdictCache {
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    pub fn get(&self, digest: &Digest) -> Option<HookVerdict> {
        self.lock().verdicts.get(digest).cloned()
    }

    pub fn insert(&self, digest: Digest, verdict: HookVerdict) {
        if self.capacity == 0 {
            return;
        }
        let mut inner = self.lock();
        if inner.verdicts.insert(digest, verdict).is_some() {
            return;
        }
        inner.order.push_back(digest);
        while inner.order.len() > self.capacity {
            if let Some(old) = inner.order.pop_front() {
                inner.verdicts.remove(&old);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.lock().verdicts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves a consistent map: keep using it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::super::Judgement;
    use super::*;

    fn verdict(detail: &str) -> HookVerdict {
        HookVerdict {
            judgement: Judgement::Clean,
            detail: detail.into(),
        }
    }

    #[test]
    fn the_oldest_goes_when_full() {
        let cache = VerdictCache::new(2);
        cache.insert([1; 32], verdict("one"));
        cache.insert([2; 32], verdict("two"));
        cache.insert([2; 32], verdict("two again"));
        cache.insert([3; 32], verdict("three"));
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&[1; 32]).is_none());
        assert_eq!(
            cache.get(&[2; 32]).map(|v| v.detail),
            Some("two again".into())
        );
        assert!(cache.get(&[3; 32]).is_some());
    }

    #[test]
    fn capacity_zero_keeps_nothing() {
        let cache = VerdictCache::new(0);
        cache.insert([1; 32], verdict("one"));
        assert!(cache.is_empty());
    }
}
