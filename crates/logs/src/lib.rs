//! Mail-log forensics (placeholder, being written).
