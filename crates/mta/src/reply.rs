//! Typed SMTP replies (RFC 5321 §4.2): a three-digit [`Code`], an optional RFC 3463
//! [`EnhancedCode`] and text, written to the wire in one place ([`Reply::write_to`]).
//!
//! Every reply mailward sends is named in [`catalogue`] (fixed replies as constants,
//! replies with dynamic text — an address, a queue ID, a size — as constructor
//! functions); the session never formats a reply line itself, and its log takes the code
//! from the reply as typed values ([`Reply::status`]) instead of slicing text.

pub mod catalogue;
pub mod ehlo;

pub use ehlo::Extension;

use std::borrow::Cow;
use std::fmt;

/// A reply code or enhanced status code outside what the RFCs allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// RFC 5321 §4.2: three digits, the first 2-5 (1yz is unused by SMTP), the second 0-5.
    #[error("{0} is not an SMTP reply code")]
    Code(u16),
    /// RFC 3463 §2: class 2, 4 or 5; subject and detail 0-999.
    #[error("{class}.{subject}.{detail} is not an enhanced status code")]
    Enhanced {
        class: u8,
        subject: u16,
        detail: u16,
    },
}

/// RFC 5321 §4.2.1: what the first digit of a reply code says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplyClass {
    /// 2yz: the requested action completed.
    PositiveCompletion,
    /// 3yz: accepted, more information needed (354, 334).
    PositiveIntermediate,
    /// 4yz: not done; the same command may succeed later.
    TransientNegative,
    /// 5yz: not done; repeating it as it is will fail again.
    PermanentNegative,
}

/// An SMTP reply code (RFC 5321 §4.2): three digits, checked at construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code(u16);

impl Code {
    /// RFC 5321 §4.2: the first digit is 2-5 (1yz replies are not used in SMTP, §4.2.1),
    /// the second 0-5 (§4.2.1 lists x0z..x5z), the third any digit.
    pub const fn new(code: u16) -> Result<Code, CodeError> {
        let first = code / 100;
        let second = (code / 10) % 10;
        if first >= 2 && first <= 5 && second <= 5 {
            Ok(Code(code))
        } else {
            Err(CodeError::Code(code))
        }
    }

    pub const fn get(self) -> u16 {
        self.0
    }

    /// The class, from the first digit (RFC 5321 §4.2.1).
    pub const fn class(self) -> ReplyClass {
        match self.0 / 100 {
            2 => ReplyClass::PositiveCompletion,
            3 => ReplyClass::PositiveIntermediate,
            4 => ReplyClass::TransientNegative,
            _ => ReplyClass::PermanentNegative,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:03}", self.0)
    }
}

/// RFC 3463 §3.1: the class of an enhanced status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusClass {
    /// `2.X.X`: success.
    Success,
    /// `4.X.X`: persistent transient failure.
    PersistentTransientFailure,
    /// `5.X.X`: permanent failure.
    PermanentFailure,
}

impl StatusClass {
    /// The digit written on the wire; equal to the first digit of the matching reply code.
    pub const fn digit(self) -> u8 {
        match self {
            StatusClass::Success => 2,
            StatusClass::PersistentTransientFailure => 4,
            StatusClass::PermanentFailure => 5,
        }
    }
}

/// An enhanced mail system status code (RFC 3463 §2; sent per RFC 2034 §3):
/// `class.subject.detail`, e.g. `5.1.1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EnhancedCode {
    class: StatusClass,
    subject: u16,
    detail: u16,
}

impl EnhancedCode {
    /// RFC 3463 §2: `class "." subject "." detail`, class 2/4/5, subject and detail
    /// 1-3 digits.
    pub const fn new(class: u8, subject: u16, detail: u16) -> Result<EnhancedCode, CodeError> {
        let class_ = match class {
            2 => StatusClass::Success,
            4 => StatusClass::PersistentTransientFailure,
            5 => StatusClass::PermanentFailure,
            _ => {
                return Err(CodeError::Enhanced {
                    class,
                    subject,
                    detail,
                });
            }
        };
        if subject > 999 || detail > 999 {
            return Err(CodeError::Enhanced {
                class,
                subject,
                detail,
            });
        }
        Ok(EnhancedCode {
            class: class_,
            subject,
            detail,
        })
    }

    pub const fn class(self) -> StatusClass {
        self.class
    }

    pub const fn subject(self) -> u16 {
        self.subject
    }

    pub const fn detail(self) -> u16 {
        self.detail
    }
}

impl fmt::Display for EnhancedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class.digit(), self.subject, self.detail)
    }
}

/// The code pair of a reply, as a log shows it: `550 5.1.1`, or `354` alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Status {
    pub code: Code,
    pub enhanced: Option<EnhancedCode>,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.enhanced {
            Some(e) => write!(f, "{} {e}", self.code),
            None => write!(f, "{}", self.code),
        }
    }
}

/// One SMTP reply, single- or multi-line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    code: Code,
    enhanced: Option<EnhancedCode>,
    /// The first (often only) line's text.
    text: Cow<'static, str>,
    /// Further lines of a multi-line reply (RFC 5321 §4.2.1), e.g. EHLO keywords.
    more: Vec<Cow<'static, str>>,
}

/// RFC 5321 §4.2: reply text is one line; a CR or LF inside it would end the reply early
/// and let the rest pass for another reply. Dynamic text is made safe here (a space for
/// each), so no constructor can break the framing.
fn one_line(text: Cow<'static, str>) -> Cow<'static, str> {
    if text.contains(['\r', '\n']) {
        Cow::Owned(text.replace(['\r', '\n'], " "))
    } else {
        text
    }
}

impl Reply {
    /// A fixed reply (the catalogue's constants; their text is checked to be one line by
    /// the catalogue's tests).
    pub(crate) const fn fixed(
        code: Code,
        enhanced: Option<EnhancedCode>,
        text: &'static str,
    ) -> Reply {
        Reply {
            code,
            enhanced,
            text: Cow::Borrowed(text),
            more: Vec::new(),
        }
    }

    /// A reply with dynamic text; CR and LF in `text` become spaces.
    pub fn new(
        code: Code,
        enhanced: Option<EnhancedCode>,
        text: impl Into<Cow<'static, str>>,
    ) -> Reply {
        Reply {
            code,
            enhanced,
            text: one_line(text.into()),
            more: Vec::new(),
        }
    }

    /// Adds a line, making a multi-line reply (RFC 5321 §4.2.1); CR and LF become spaces.
    pub fn with_line(mut self, line: impl Into<Cow<'static, str>>) -> Reply {
        self.more.push(one_line(line.into()));
        self
    }

    pub const fn code(&self) -> Code {
        self.code
    }

    pub const fn enhanced(&self) -> Option<EnhancedCode> {
        self.enhanced
    }

    /// The first line's text (the whole text of a single-line reply).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Every line's text, first to last.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.text.as_ref()).chain(self.more.iter().map(|l| l.as_ref()))
    }

    /// The code pair for a log line (`550 5.1.1`).
    pub const fn status(&self) -> Status {
        Status {
            code: self.code,
            enhanced: self.enhanced,
        }
    }

    pub const fn class(&self) -> ReplyClass {
        self.code.class()
    }

    /// RFC 5321 §4.2.1: 2yz or 3yz — the command was accepted.
    pub const fn is_positive(&self) -> bool {
        matches!(
            self.class(),
            ReplyClass::PositiveCompletion | ReplyClass::PositiveIntermediate
        )
    }

    /// RFC 5321 §4.2.1: 4yz — a temporary failure; the client may try again.
    pub const fn is_transient(&self) -> bool {
        matches!(self.class(), ReplyClass::TransientNegative)
    }

    /// RFC 5321 §4.2.1: 5yz — a permanent failure.
    pub const fn is_permanent(&self) -> bool {
        matches!(self.class(), ReplyClass::PermanentNegative)
    }

    /// Appends the reply as sent on the wire. RFC 5321 §4.2.1: every line but the last is
    /// `code "-" text CRLF`, the last `code SP text CRLF`; RFC 2034 §3: the enhanced code,
    /// when there is one, starts the text of every line.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let code = self.code.to_string();
        let enhanced = self.enhanced.map(|e| e.to_string());
        let last = self.more.len();
        for (i, line) in self.lines().enumerate() {
            out.extend_from_slice(code.as_bytes());
            out.push(if i == last { b' ' } else { b'-' });
            if let Some(e) = &enhanced {
                out.extend_from_slice(e.as_bytes());
                out.push(b' ');
            }
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }

    /// The reply as sent on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(r: &Reply) -> String {
        String::from_utf8(r.to_bytes()).unwrap()
    }

    #[test]
    fn single_line_with_and_without_enhanced_code() {
        let r = Reply::new(
            Code::new(550).unwrap(),
            Some(EnhancedCode::new(5, 1, 1).unwrap()),
            "<a@b>: no",
        );
        assert_eq!(wire(&r), "550 5.1.1 <a@b>: no\r\n");
        assert_eq!(r.status().to_string(), "550 5.1.1");
        let r = Reply::new(Code::new(354).unwrap(), None, "go ahead");
        assert_eq!(wire(&r), "354 go ahead\r\n");
        assert_eq!(r.status().to_string(), "354");
        // An empty text keeps the space (RFC 4954 §4: the empty `334 ` challenge).
        assert_eq!(
            wire(&Reply::new(Code::new(334).unwrap(), None, "")),
            "334 \r\n"
        );
    }

    #[test]
    fn multi_line_uses_hyphen_on_every_line_but_the_last() {
        let r = Reply::new(Code::new(250).unwrap(), None, "mx.test Hello")
            .with_line("PIPELINING")
            .with_line("DSN");
        assert_eq!(
            wire(&r),
            "250-mx.test Hello\r\n250-PIPELINING\r\n250 DSN\r\n"
        );
        let r = Reply::new(
            Code::new(451).unwrap(),
            Some(EnhancedCode::new(4, 3, 0).unwrap()),
            "one",
        )
        .with_line("two");
        assert_eq!(wire(&r), "451-4.3.0 one\r\n451 4.3.0 two\r\n");
        assert_eq!(r.lines().collect::<Vec<_>>(), ["one", "two"]);
    }

    #[test]
    fn dynamic_text_cannot_break_the_framing() {
        let r = Reply::new(Code::new(250).unwrap(), None, "a\r\n250 forged").with_line("b\nc");
        assert_eq!(wire(&r), "250-a  250 forged\r\n250 b c\r\n");
    }

    #[test]
    fn codes_are_checked() {
        assert_eq!(Code::new(199), Err(CodeError::Code(199)));
        assert_eq!(Code::new(260), Err(CodeError::Code(260)));
        assert_eq!(Code::new(600), Err(CodeError::Code(600)));
        assert_eq!(Code::new(99), Err(CodeError::Code(99)));
        assert!(EnhancedCode::new(3, 0, 0).is_err());
        assert!(EnhancedCode::new(5, 1000, 0).is_err());
        assert_eq!(EnhancedCode::new(5, 7, 11).unwrap().to_string(), "5.7.11");
        assert_eq!(
            Code::new(250).unwrap().class(),
            ReplyClass::PositiveCompletion
        );
    }

    #[test]
    fn class_predicates() {
        let r = |c| Reply::new(Code::new(c).unwrap(), None, "");
        assert!(r(250).is_positive() && r(354).is_positive());
        assert!(r(452).is_transient() && !r(452).is_positive() && !r(452).is_permanent());
        assert!(r(550).is_permanent() && !r(550).is_transient());
    }
}
