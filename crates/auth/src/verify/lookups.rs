//! Where the checks get their DNS answers: the server's resolver, or a fixed in-memory set
//! of records ([`StaticDns`], for tests and offline work) put in front of it through
//! `mail-auth`'s lookup caches (`mail_auth::ResolverCache`).

use super::spf_audit::Answer;
use crate::spf_syntax::is_spf_record;
use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::verify::DomainKey;
use mail_auth::dmarc::Dmarc;
use mail_auth::hickory_resolver::config::{ResolveHosts, ResolverConfig, ResolverOpts};
use mail_auth::hickory_resolver::proto::op::ResponseCode;
use mail_auth::spf::{Macro, Spf};
use mail_auth::{
    DnsError, DnssecStatus, Error, MX, MessageAuthenticator, Parameters, RecordSet, ResolverCache,
    Txt,
};
use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The authenticator and, optionally, fixed answers that are served before it is asked.
#[derive(Clone, Copy)]
pub struct Lookups<'a> {
    authenticator: &'a MessageAuthenticator,
    fixed: Fixed<'a>,
}

impl std::fmt::Debug for Lookups<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lookups")
            .field("fixed", &self.fixed.0.is_some())
            .finish()
    }
}

impl<'a> Lookups<'a> {
    /// Every answer comes from the server's resolver (and its cache).
    pub fn live(resolver: &'a crate::Resolver) -> Lookups<'a> {
        Lookups {
            authenticator: resolver.authenticator(),
            fixed: Fixed(None),
        }
    }

    /// Answers come from `zone`; a name the zone marks as timing out reaches
    /// `authenticator` (give it [`StaticDns::offline_authenticator`] to fail at once).
    pub fn fixed(authenticator: &'a MessageAuthenticator, zone: &'a StaticDns) -> Lookups<'a> {
        Lookups {
            authenticator,
            fixed: Fixed(Some(zone)),
        }
    }

    pub(crate) fn authenticator(&self) -> &'a MessageAuthenticator {
        self.authenticator
    }

    /// The caches handed to `mail-auth` (the fixed zone, or none).
    pub(crate) fn cache(&self) -> Fixed<'a> {
        self.fixed
    }

    /// The fixed zone, when answers come from one.
    pub(crate) fn zone(&self) -> Option<&'a StaticDns> {
        self.fixed.0
    }

    /// The fixed answers as `mail-auth`'s TXT cache, for lookups made outside `params`.
    pub(crate) fn txt_cache(&self) -> &Fixed<'a> {
        &self.fixed
    }

    pub(crate) fn params<P>(
        &self,
        params: P,
    ) -> Parameters<'_, P, Fixed<'a>, Fixed<'a>, Fixed<'a>, Fixed<'a>, Fixed<'a>> {
        Parameters::new(params)
            .with_txt_cache(&self.fixed)
            .with_mx_cache(&self.fixed)
            .with_ptr_cache(&self.fixed)
            .with_ipv4_cache(&self.fixed)
            .with_ipv6_cache(&self.fixed)
    }
}

/// A fixed zone: names with their TXT, A, AAAA, MX and PTR records. A name it does not hold
/// does not exist (NXDOMAIN); a name marked with [`StaticDns::time_out`] is not answered here.
#[derive(Debug, Default, Clone)]
pub struct StaticDns {
    txt: HashMap<Box<str>, Vec<Vec<u8>>>,
    pub(crate) a: HashMap<Box<str>, Vec<Ipv4Addr>>,
    pub(crate) aaaa: HashMap<Box<str>, Vec<Ipv6Addr>>,
    pub(crate) mx: HashMap<Box<str>, Vec<(u16, String)>>,
    ptr: HashMap<IpAddr, Vec<Box<str>>>,
    /// Names that exist (have some record, or were declared).
    names: HashSet<Box<str>>,
    timeouts: HashSet<Box<str>>,
    /// Addresses whose reverse name times out.
    ptr_timeouts: HashSet<IpAddr>,
    /// A, AAAA, MX and PTR questions about names (addresses) not held here time out.
    unknown_hosts_time_out: bool,
    /// Names that some SPF record's `exp=` points at (RFC 7208 §6.2): their TXT is an
    /// explanation, not a policy.
    explanations: HashSet<Box<str>>,
}

/// Names are compared lower-case and absolute (with the final dot), as `mail-auth` asks them.
fn key(name: &str) -> Box<str> {
    let mut k = name.to_ascii_lowercase();
    if !k.ends_with('.') {
        k.push('.');
    }
    k.into_boxed_str()
}

impl StaticDns {
    pub fn new() -> StaticDns {
        StaticDns::default()
    }

    /// A name that exists, with or without records (NODATA rather than NXDOMAIN).
    pub fn add_name(&mut self, name: &str) -> &mut Self {
        self.names.insert(key(name));
        self
    }

    /// One TXT record (its strings already joined, RFC 7208 §3.3).
    pub fn add_txt(&mut self, name: &str, value: impl Into<Vec<u8>>) -> &mut Self {
        let value = value.into();
        let text = String::from_utf8_lossy(&value).to_ascii_lowercase();
        if text.starts_with("v=spf1") {
            for term in text.split_ascii_whitespace() {
                if let Some(target) = term.strip_prefix("exp=") {
                    self.explanations.insert(key(target));
                }
            }
        }
        self.add_name(name);
        self.txt.entry(key(name)).or_default().push(value);
        self
    }

    pub fn add_a(&mut self, name: &str, ip: Ipv4Addr) -> &mut Self {
        self.add_name(name);
        self.a.entry(key(name)).or_default().push(ip);
        self
    }

    pub fn add_aaaa(&mut self, name: &str, ip: Ipv6Addr) -> &mut Self {
        self.add_name(name);
        self.aaaa.entry(key(name)).or_default().push(ip);
        self
    }

    pub fn add_mx(&mut self, name: &str, preference: u16, exchange: &str) -> &mut Self {
        self.add_name(name);
        self.mx
            .entry(key(name))
            .or_default()
            .push((preference, key(exchange).into_string()));
        self
    }

    /// A PTR record for `ip` (its `in-addr.arpa`/`ip6.arpa` name is implied).
    pub fn add_ptr(&mut self, ip: IpAddr, target: &str) -> &mut Self {
        self.ptr.entry(ip).or_default().push(key(target));
        self
    }

    /// Questions about `name` are not answered here (a DNS time-out, when the
    /// authenticator behind has no servers).
    pub fn time_out(&mut self, name: &str) -> &mut Self {
        self.timeouts.insert(key(name));
        self
    }

    /// The reverse look-up of `ip` is not answered here.
    pub fn time_out_ptr(&mut self, ip: IpAddr) -> &mut Self {
        self.ptr_timeouts.insert(ip);
        self
    }

    /// A, AAAA and MX questions about names this zone does not hold, and PTR questions
    /// about addresses it has no PTR for, are not answered here (TXT questions about them
    /// stay NXDOMAIN). For a zone file written for offline forensics: it holds the policy
    /// records in full, rarely every host an SPF mechanism names, and a host it lacks must
    /// give `temperror` (RFC 7208 §5, §2.6.6) rather than a confident `fail`.
    pub fn unknown_hosts_time_out(&mut self) -> &mut Self {
        self.unknown_hosts_time_out = true;
        self
    }

    /// True when `name` is to go unanswered for an address or MX question.
    fn host_times_out<Q>(&self, name: &Q) -> bool
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.timeouts.contains(name) || (self.unknown_hosts_time_out && !self.names.contains(name))
    }

    /// An authenticator with no name servers: every question it gets fails at once with a
    /// resolver error (a temporary error to the checks). Call inside a tokio runtime.
    pub fn offline_authenticator() -> Result<MessageAuthenticator, crate::DnsError> {
        let mut options = ResolverOpts::default();
        options.use_hosts_file = ResolveHosts::Never;
        options.attempts = 0;
        MessageAuthenticator::new(ResolverConfig::from_parts(None, vec![], vec![]), options)
            .map_err(|e| crate::DnsError::Temporary("offline resolver".into(), e.to_string()))
    }

    /// The TXT records at `name` as they are stored (for the SPF audit).
    pub(crate) fn raw_txt(&self, name: &str) -> Answer {
        let name = key(name);
        if self.timeouts.contains(&name) {
            return Answer::Failed;
        }
        match self.txt.get(&name) {
            Some(records) if !records.is_empty() => Answer::Records(records.clone()),
            _ => Answer::Void,
        }
    }

    /// Whether `name` has records in `map` (for the SPF audit's void lookups).
    pub(crate) fn count<T>(
        &self,
        name: &str,
        map: impl FnOnce(&StaticDns) -> &HashMap<Box<str>, Vec<T>>,
    ) -> Answer {
        let name = key(name);
        if self.timeouts.contains(&name) {
            return Answer::Failed;
        }
        match map(self).get(&name) {
            Some(records) if !records.is_empty() => {
                Answer::Records(vec![Vec::new(); records.len()])
            }
            _ => Answer::Void,
        }
    }

    fn txt_answer<Q>(&self, name: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if self.timeouts.contains(name) {
            return None;
        }
        let Some(records) = self.txt.get(name) else {
            let code = if self.names.contains(name) {
                ResponseCode::NoError
            } else {
                ResponseCode::NXDomain
            };
            return Some(Txt::Error(Error::Dns(DnsError::RecordNotFound(code))));
        };
        // The record type `mail-auth` asks for follows from the name (RFC 6376 §3.6.2.1,
        // RFC 7489 §6.1, RFC 9990 §4 report authorisation); elsewhere it is an SPF policy, or an `exp=` explanation.
        let text = self.txt.get_key_value(name).map_or("", |(k, _)| &**k);
        Some(if text.contains("._domainkey.") {
            first_parsed::<DomainKey>(records)
        } else if text.starts_with("_dmarc.") || text.contains("._report._dmarc.") {
            first_parsed::<Dmarc>(records)
        } else if self.explanations.contains(name) && !records.iter().any(|r| is_spf_record(r)) {
            first_parsed::<Macro>(records)
        } else {
            first_parsed::<Spf>(records)
        })
    }

    fn known<T: Clone, Q>(&self, map: &HashMap<Box<str>, Vec<T>>, name: &Q) -> Option<RecordSet<T>>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if self.host_times_out(name) {
            return None;
        }
        // A missing name or type is an empty answer: no address, no exchange.
        Some(record_set(map.get(name).cloned().unwrap_or_default()))
    }

    fn mx_answer<Q>(&self, name: &Q) -> Option<RecordSet<MX>>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if self.host_times_out(name) {
            return None;
        }
        let mut groups: Vec<MX> = Vec::new();
        let mut records = self.mx.get(name).cloned().unwrap_or_default();
        records.sort_by_key(|(p, _)| *p);
        for (preference, exchange) in records {
            match groups.iter_mut().find(|g| g.preference == preference) {
                Some(group) => {
                    let mut all = group.exchanges.to_vec();
                    all.push(exchange.into_boxed_str());
                    group.exchanges = all.into_boxed_slice();
                }
                None => groups.push(MX {
                    exchanges: vec![exchange.into_boxed_str()].into_boxed_slice(),
                    preference,
                }),
            }
        }
        Some(record_set(groups))
    }
}

/// Like `mail-auth`'s own look-up: the first record that parses wins.
fn first_parsed<T: TxtRecordParser + Into<Txt>>(records: &[Vec<u8>]) -> Txt {
    let mut result: Result<T, Error> = Err(Error::Dns(DnsError::InvalidRecordType));
    for record in records {
        result = T::parse(record);
        if result.is_ok() {
            break;
        }
    }
    match result {
        Ok(value) => value.into(),
        Err(e) => Txt::Error(e),
    }
}

fn record_set<T>(items: Vec<T>) -> RecordSet<T> {
    RecordSet {
        rrset: items.into(),
        dnssec_status: DnssecStatus::Indeterminate,
    }
}

/// The cache handed to `mail-auth`: the fixed zone when there is one, else always a miss.
#[derive(Debug, Clone, Copy)]
pub struct Fixed<'a>(Option<&'a StaticDns>);

macro_rules! fixed_cache {
    ($key:ty, $value:ty, |$zone:ident, $name:ident| $answer:expr) => {
        impl ResolverCache<$key, $value> for Fixed<'_> {
            fn get<Q>(&self, $name: &Q) -> Option<$value>
            where
                $key: Borrow<Q>,
                Q: Hash + Eq + ?Sized,
            {
                let $zone = self.0?;
                $answer
            }

            fn remove<Q>(&self, _: &Q) -> Option<$value>
            where
                $key: Borrow<Q>,
                Q: Hash + Eq + ?Sized,
            {
                None
            }

            fn insert(&self, _: $key, _: $value, _: std::time::Instant) {}
        }
    };
}

// `mail-auth` asks with names already lower-case and absolute (its `ToFqdn`), the form
// `key` stores them in.
fixed_cache!(Box<str>, Txt, |zone, name| zone.txt_answer(name));
fixed_cache!(Box<str>, RecordSet<MX>, |zone, name| zone.mx_answer(name));
fixed_cache!(Box<str>, RecordSet<Ipv4Addr>, |zone, name| zone
    .known(&zone.a, name));
fixed_cache!(Box<str>, RecordSet<Ipv6Addr>, |zone, name| zone
    .known(&zone.aaaa, name));
fixed_cache!(IpAddr, RecordSet<Box<str>>, |zone, ip| {
    if zone.ptr_timeouts.contains(ip) || (zone.unknown_hosts_time_out && !zone.ptr.contains_key(ip))
    {
        return None;
    }
    Some(record_set(zone.ptr.get(ip).cloned().unwrap_or_default()))
});
