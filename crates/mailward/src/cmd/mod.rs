//! One module per subcommand.

pub mod account;
pub mod alias;
pub mod dkim;
pub mod dmarc;
pub mod dmarc_report;
pub mod dns;
pub mod fetch;
pub mod logs;
pub mod probe;
pub mod quarantine;
pub mod queue;
pub mod serve;
pub mod sieve;
pub mod sieve_admin;
pub mod trace;
