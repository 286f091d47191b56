//! Reading the reports other mail systems send us: DMARC aggregate reports (RFC 9990,
//! formerly RFC 7489 appendix C) and SMTP TLS reports (RFC 8460), as bare files (XML, JSON,
//! gzip, zip) or as the e-mails that carry them. mail-auth's `report` feature parses the
//! documents; this module bounds what is decompressed, refuses what the schema forbids and
//! summarises per reporter and source IP for `mailward dmarc read`.

mod aggregate;
mod decompress;
mod error;
mod format;
mod input;
mod read;
mod reverse_dns;
mod tls;

pub use aggregate::{AggregateSummary, PolicySummary, RecordSummary};
pub use decompress::Limits;
pub use error::ReportError;
pub use format::InputFormat;
pub use input::report_files;
pub use read::{ReadReport, read_report, read_report_file};
pub use reverse_dns::{ReverseLimits, ReverseName, reverse_names};
pub use tls::{TlsPolicySummary, TlsSummary};
