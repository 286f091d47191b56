//! DMARC aggregate reports we send (RFC 9990, with RFC 9989 §4.7 and §7): every DMARC
//! evaluation of an inbound message is recorded ([`Recorder`], JSON lines per UTC day under
//! `<data>/dmarc/evaluations/`), and at the end of each reporting period the evaluations of
//! each policy domain are counted into rows ([`aggregate`]), written as the RFC 9990 XML
//! document (mail-auth's `report::Report::to_xml`), gzipped and sent to the domain's `rua`
//! addresses that pass the external destination check ([`verify_destinations`]).

mod destinations;
mod document;
mod error;
mod evaluation;
mod from_assessment;
mod journal;
mod period;
mod recorder;
mod rows;

/// Defined beside [`crate::verify::DmarcCheck`], which carries it (so `verify` does not
/// depend on this module).
pub use crate::verify::{PolicyRequest, PublishedPolicy, RuaUri};
pub use destinations::{Destination, DestinationVerdict, verify_destinations};
pub use document::{Submitter, build_report, report_file_name, report_gzip, report_message};
pub use error::AggregateError;
pub use evaluation::{Disposition, DkimAuth, Evaluation, OverrideReason, Row, SpfAuth};
pub use journal::{append_evaluations, evaluations_dir, prune_before, read_period};
/// The report document (mail-auth's model; `to_xml` writes it).
pub use mail_auth::report::Report;
pub use period::Period;
pub use recorder::{KEEP_DAYS, Recorder};
pub use rows::{DomainAggregate, aggregate};
