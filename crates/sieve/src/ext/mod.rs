//! Extensions whose tests need more than a few lines: one module each.

pub mod body;
pub mod date;
pub mod duplicate;
pub mod enotify;
pub mod environment;
pub mod mime;
pub mod spamtest;
