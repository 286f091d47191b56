//! What can go wrong reading one report file.

/// Why a report file was refused. The CLI prints it after the file's name.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error("file is {size} bytes, more than the {limit}-byte limit")]
    TooLarge { size: u64, limit: u64 },
    #[error("decompresses to more than {limit} bytes (a decompression bomb?)")]
    DecompressedTooLarge { limit: u64 },
    #[error("decompresses {ratio}:1, more than the {limit}:1 limit (a decompression bomb?)")]
    RatioTooHigh { ratio: u64, limit: u64 },
    #[error("cannot decompress: {0}")]
    Decompress(String),
    #[error("not UTF-8 at byte {0} (RFC 9990 reports are UTF-8 XML)")]
    NotUtf8(usize),
    #[error("invalid DMARC aggregate report: {0}")]
    InvalidAggregate(String),
    #[error("invalid SMTP TLS report: {0}")]
    InvalidTls(String),
    #[error("empty file")]
    Empty,
    #[error("no DMARC aggregate or SMTP TLS report found in this message")]
    NoReport,
    #[error(
        "no DMARC aggregate or SMTP TLS report found in this message: it is a failure \
         (ruf, RFC 6591 feedback-report) report, which `dmarc read` does not read"
    )]
    FailureReport,
    #[error("cannot parse as an e-mail")]
    NotMail,
}
