//! What `mail-auth` 0.13 leaves out of SPF evaluation, checked around it: every DNS question
//! its evaluation asks is recorded (through the look-up cache it is handed), and afterwards
//! the records it reached are read again, raw, through the same resolver and cache:
//!
//! - more than one `v=spf1` record at a name it evaluated is a permerror (RFC 7208 §4.5);
//! - a reached record that does not parse per the ABNF of RFC 7208 §12 is a permerror
//!   (§4.6: "if there are any syntax errors anywhere in the record");
//! - more than two void lookups (NXDOMAIN or no answer) by its `a`, `mx` and `exists`
//!   terms is a permerror (§4.6.4).
//!
//! Only questions the evaluation really asked are audited, in the order it asked them, so a
//! record it never reached (an `include:` after a matching term) cannot change the result.

use super::lookups::{Fixed, Lookups, StaticDns};
use crate::spf_syntax::{is_spf_record, parse};
use mail_auth::{MX, Parameters, RecordSet, ResolverCache, Txt};
use std::borrow::Borrow;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Mutex;
use std::time::Instant;

/// RFC 7208 §4.6.4: "SHOULD ... a limit of two" void lookups.
const VOID_LIMIT: usize = 2;
/// Questions recorded per evaluation, at most (mail-auth stops at 10 DNS-querying terms,
/// each with at most 10 MX exchanges).
const MAX_QUESTIONS: usize = 256;

/// The record type of one question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Txt,
    Mx,
    A,
    Aaaa,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Txt => "TXT",
            Kind::Mx => "MX",
            Kind::A => "A",
            Kind::Aaaa => "AAAA",
        }
    }
}

/// The caches handed to `mail-auth`: the usual ones ([`Fixed`]), noting every name asked
/// (the DMARC audit, [`super::dmarc_audit`], uses it too).
pub(crate) struct Recorder<'a> {
    inner: Fixed<'a>,
    asked: Mutex<Vec<(Kind, Box<str>)>>,
}

impl<'a> Recorder<'a> {
    pub(crate) fn new(lookups: &Lookups<'a>) -> Recorder<'a> {
        Recorder {
            inner: lookups.cache(),
            asked: Mutex::new(Vec::new()),
        }
    }

    fn note(&self, kind: Kind, name: &str) {
        let Ok(mut asked) = self.asked.lock() else {
            return;
        };
        // `exists` asks the A cache, then the AAAA cache, for the one name: one question.
        if kind == Kind::Aaaa
            && asked
                .last()
                .is_some_and(|(k, n)| *k == Kind::A && &**n == name)
        {
            return;
        }
        if asked.len() < MAX_QUESTIONS {
            asked.push((kind, name.into()));
        }
    }

    /// `mail-auth`'s parameters with every cache being this recorder.
    pub(crate) fn params<P>(&self, params: P) -> Parameters<'_, P, Self, Self, Self, Self, Self> {
        Parameters::new(params)
            .with_txt_cache(self)
            .with_mx_cache(self)
            .with_ptr_cache(self)
            .with_ipv4_cache(self)
            .with_ipv6_cache(self)
    }

    /// The questions asked, in order.
    pub(crate) fn into_questions(self) -> Vec<(Kind, Box<str>)> {
        self.asked.into_inner().unwrap_or_default()
    }
}

macro_rules! recording_cache {
    ($key:ty, $value:ty, $kind:expr) => {
        impl ResolverCache<$key, $value> for Recorder<'_> {
            fn get<Q>(&self, name: &Q) -> Option<$value>
            where
                $key: Borrow<Q>,
                Q: Hash + Eq + ?Sized,
            {
                if let Some(kind) = $kind {
                    self.note(kind, &name_of(name));
                }
                self.inner.get(name)
            }

            fn remove<Q>(&self, name: &Q) -> Option<$value>
            where
                $key: Borrow<Q>,
                Q: Hash + Eq + ?Sized,
            {
                self.inner.remove(name)
            }

            fn insert(&self, key: $key, value: $value, valid_until: Instant) {
                self.inner.insert(key, value, valid_until)
            }
        }
    };
}

recording_cache!(Box<str>, Txt, Some(Kind::Txt));
recording_cache!(Box<str>, RecordSet<MX>, Some(Kind::Mx));
recording_cache!(Box<str>, RecordSet<Ipv4Addr>, Some(Kind::A));
recording_cache!(Box<str>, RecordSet<Ipv6Addr>, Some(Kind::Aaaa));
recording_cache!(IpAddr, RecordSet<Box<str>>, None::<Kind>);

/// The name a cache is asked about. `mail-auth` asks with a `&str` the trait only knows as
/// `Q: Hash`; hashing it into [`NameCapture`] gives its bytes back (`str` hashes as its
/// bytes and a `0xff` end marker).
fn name_of<Q: Hash + ?Sized>(name: &Q) -> String {
    let mut capture = NameCapture(Vec::new());
    name.hash(&mut capture);
    String::from_utf8_lossy(&capture.0).into_owned()
}

/// A `Hasher` that keeps the bytes written (up to a DNS name's length and a macro's margin).
struct NameCapture(Vec<u8>);

impl std::hash::Hasher for NameCapture {
    fn finish(&self) -> u64 {
        0
    }

    fn write(&mut self, bytes: &[u8]) {
        let room = 1024usize.saturating_sub(self.0.len());
        self.0.extend(bytes.iter().take(room));
    }

    /// The end marker `str` writes after its bytes.
    fn write_u8(&mut self, _: u8) {}
}

/// What one question found when asked again.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    /// Records (for TXT, the records' strings joined, RFC 7208 §3.3).
    Records(Vec<Vec<u8>>),
    /// NXDOMAIN or no records of the type (a void lookup, RFC 7208 §4.6.4).
    Void,
    /// The lookup failed (time-out, SERVFAIL): nothing is concluded from it.
    Failed,
}

/// Why the evaluation must end in permerror, when the questions it asked show a reason
/// `mail-auth` did not see.
pub(crate) async fn audit(lookups: &Lookups<'_>, questions: &[(Kind, Box<str>)]) -> Option<String> {
    let mut voids: Vec<String> = Vec::new();
    let mut seen_txt: Vec<&str> = Vec::new();
    for (kind, name) in questions {
        let shown = name.trim_end_matches('.');
        if *kind == Kind::Txt {
            // A policy read twice (two includes of one domain) is checked once.
            if seen_txt.contains(&&**name) {
                continue;
            }
            seen_txt.push(name);
            // A void TXT answer for an include/redirect target is already a permerror in
            // mail-auth (RFC 7208 §5.2, §6.1), and the first one is `none`: not counted.
            let Answer::Records(records) = ask(lookups, *kind, name).await else {
                continue;
            };
            let policies: Vec<&Vec<u8>> = records.iter().filter(|r| is_spf_record(r)).collect();
            match policies.as_slice() {
                [] => {}
                [one] => {
                    let text = String::from_utf8_lossy(one);
                    if let Err(why) = parse(&text) {
                        return Some(format!(
                            "the SPF record of {shown} has a syntax error: {why} (RFC 7208 section 4.6)"
                        ));
                    }
                }
                many => {
                    return Some(format!(
                        "{shown} publishes {} SPF records; exactly one is allowed (RFC 7208 section 4.5)",
                        many.len()
                    ));
                }
            }
            continue;
        }
        if ask(lookups, *kind, name).await == Answer::Void {
            voids.push(format!("{shown} ({})", kind.as_str()));
            if voids.len() > VOID_LIMIT {
                return Some(format!(
                    "more than {VOID_LIMIT} void DNS lookups: {} (RFC 7208 section 4.6.4)",
                    voids.join(", ")
                ));
            }
        }
    }
    None
}

/// Asks `name` again: from the fixed zone when there is one, else from the resolver behind
/// the authenticator (whose cache holds the answer the evaluation just got).
pub(crate) async fn ask(lookups: &Lookups<'_>, kind: Kind, name: &str) -> Answer {
    if let Some(zone) = lookups.zone() {
        return ask_zone(zone, kind, name);
    }
    let resolver = lookups.authenticator().resolver();
    let result = match kind {
        Kind::Txt => resolver.txt_lookup(name).await.map(|l| {
            l.answers()
                .iter()
                .filter_map(|r| match &r.data {
                    mail_auth::hickory_resolver::proto::rr::RData::TXT(t) => {
                        Some(t.txt_data.iter().flat_map(|s| s.iter().copied()).collect())
                    }
                    _ => None,
                })
                .collect::<Vec<Vec<u8>>>()
        }),
        Kind::Mx => resolver
            .mx_lookup(name)
            .await
            .map(|l| vec![vec![]; l.answers().len()]),
        Kind::A => resolver
            .ipv4_lookup(name)
            .await
            .map(|l| vec![vec![]; l.answers().len()]),
        Kind::Aaaa => resolver
            .ipv6_lookup(name)
            .await
            .map(|l| vec![vec![]; l.answers().len()]),
    };
    match result {
        Ok(records) if records.is_empty() => Answer::Void,
        Ok(records) => Answer::Records(records),
        Err(e) if e.is_no_records_found() => Answer::Void,
        Err(_) => Answer::Failed,
    }
}

fn ask_zone(zone: &StaticDns, kind: Kind, name: &str) -> Answer {
    match kind {
        Kind::Txt => zone.raw_txt(name),
        Kind::Mx => zone.count(name, |z| &z.mx),
        Kind::A => zone.count(name, |z| &z.a),
        Kind::Aaaa => zone.count(name, |z| &z.aaaa),
    }
}
