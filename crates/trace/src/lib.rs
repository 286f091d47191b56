//! Header forensics for `mailward trace`: the hop chain, trust boundary, origin, provider,
//! geolocation, authentication and spoofing findings of a message.
//!
//! Analysis is synchronous and I/O-free (`analyze`); reading files and DNS live at the edges
//! (`source`, `verify`), and rendering in `render`.

pub mod analyze;
pub mod authres;
pub mod content;
pub mod domains;
pub mod dsn;
pub mod findings;
pub mod forward;
pub mod geo;
mod headers;
pub mod hops;
pub mod provider;
pub mod render;
pub mod report;
pub mod source;
pub mod trust;
pub mod verify;
pub mod zone;

pub use analyze::{AnalyzeOptions, analyze, analyze_with};
pub use report::{Finding, Report, Severity, Verdict};
