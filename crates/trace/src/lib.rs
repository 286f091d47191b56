//! Header forensics for `mailward trace`: the hop chain, trust boundary, origin, provider,
//! geolocation, authentication and spoofing findings of a message.
//!
//! Analysis is synchronous and I/O-free (`analyze`); reading files and DNS live at the edges
//! (`source`, `verify`), and rendering in `render`.

pub mod analyze;
pub mod provider;
pub mod report;

pub use analyze::{AnalyzeOptions, analyze};
pub use report::{Finding, Report, Severity};
