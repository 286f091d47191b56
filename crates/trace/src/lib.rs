//! Header forensics (being written).
