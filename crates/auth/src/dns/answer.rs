//! What DNS said about a domain's mail exchangers, for routing (RFC 5321 §5.1).

/// One MX record as DNS gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MxRecord {
    pub preference: u16,
    /// The exchange's name (a trailing dot is allowed).
    pub exchange: String,
}

/// What DNS said about a domain's MX records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MxAnswer {
    /// MX records (at least one).
    Records(Vec<MxRecord>),
    /// The name exists but has no MX records (NODATA).
    NoRecords,
    /// The name does not exist (NXDOMAIN).
    NoSuchDomain,
}

/// One TLSA record (RFC 6698 §2.1), for DANE (RFC 7672).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsaRecord {
    /// Certificate usage (§2.1.1): 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE.
    pub usage: u8,
    /// Selector (§2.1.2): 0 the whole certificate, 1 its SubjectPublicKeyInfo.
    pub selector: u8,
    /// Matching type (§2.1.3): 0 exact, 1 SHA-256, 2 SHA-512.
    pub matching: u8,
    /// Certificate association data.
    pub data: Vec<u8>,
}
