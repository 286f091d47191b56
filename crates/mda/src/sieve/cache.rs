//! Compiled scripts, kept by (account, script bytes): a script is compiled once and
//! evaluated for every message until it changes. Bounded: past [`MAX_ENTRIES`] the cache
//! starts over.

use super::engine::{CompileRequest, Compiled, Engine};
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};

/// Entries kept at most.
pub const MAX_ENTRIES: usize = 10_000;

type Key = (String, bool, bool, u64, usize);

/// The cache; compile errors are cached too (a broken script is not recompiled per
/// message).
#[derive(Default)]
pub struct ScriptCache {
    entries: Mutex<HashMap<Key, Arc<Result<Compiled, String>>>>,
}

impl ScriptCache {
    /// The compiled `request.source` of `owner` (an account, or `global:` and a path).
    pub fn get(
        &self,
        engine: &dyn Engine,
        owner: &str,
        request: &CompileRequest<'_>,
    ) -> Arc<Result<Compiled, String>> {
        let mut hasher = DefaultHasher::new();
        request.source.hash(&mut hasher);
        let key = (
            owner.to_string(),
            request.global,
            request.extprograms,
            hasher.finish(),
            request.source.len(),
        );
        if let Some(found) = self.lock().get(&key) {
            return found.clone();
        }
        let compiled = Arc::new(engine.compile(request));
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        // The owner's older script goes: one entry per owner and kind.
        entries.retain(|other, _| other.0 != key.0 || other.1 != key.1);
        entries.insert(key, compiled.clone());
        compiled
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Arc<Result<Compiled, String>>>> {
        match self.entries.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sieve::engine::Evaluation;
    use mailward_sieve::{Envelope, Environment, Host, Limits};
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Default)]
    struct Counting(AtomicUsize);

    impl Engine for Counting {
        fn compile(&self, request: &CompileRequest<'_>) -> Result<Compiled, String> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(Arc::new(request.source.to_string()))
        }
        fn evaluate(
            &self,
            _: &Compiled,
            _: &[u8],
            _: &Envelope,
            _: &Environment,
            _: &mut dyn Host,
        ) -> Evaluation {
            Evaluation::default()
        }
    }

    #[test]
    fn a_script_is_compiled_once_until_it_changes() {
        let cache = ScriptCache::default();
        let engine = Counting::default();
        let limits = Limits::default();
        let request = |source| CompileRequest {
            source,
            global: false,
            extprograms: false,
            limits: &limits,
        };
        for _ in 0..3 {
            let _ = cache.get(&engine, "a@x.test", &request("keep;"));
        }
        assert_eq!(engine.0.load(Ordering::SeqCst), 1);
        let _ = cache.get(&engine, "a@x.test", &request("discard;"));
        let _ = cache.get(&engine, "b@x.test", &request("keep;"));
        assert_eq!(engine.0.load(Ordering::SeqCst), 3);
        assert_eq!(cache.lock().len(), 2);
    }
}
