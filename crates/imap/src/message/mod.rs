//! Pure functions over one message's octets: the FETCH data items (RFC 9051 §6.4.5,
//! §7.5.2) and the content keys of SEARCH (§6.4.4).
//!
//! A [`Message`] is parsed once (line ends made CRLF, then the MIME tree); its methods give
//! imap-types values ready for the encoder. Sizes and offsets are those of the CRLF form,
//! which is what IMAP transmits (RFC 9051 §2.3.4: RFC822.SIZE is the size "in octets ...
//! when it is transmitted"; a Maildir file may hold bare LF line ends).
//!
//! Module map: [`lexer`] and [`params`] read structured header values; [`header`] splits
//! header blocks; [`mime`] builds the part tree; [`address`] and [`envelope`] give
//! ENVELOPE; [`structure`] gives BODY and BODYSTRUCTURE; [`section`] cuts BODY[section]
//! and BINARY; [`decode`] undoes transfer encodings and charsets; [`search`] matches
//! SEARCH keys; [`sort`] gives the SORT and THREAD keys (RFC 5256 base subject, message
//! ids) and [`thread`] the THREAD trees; [`text`] makes IMAP strings; [`storage`] gives
//! the form an APPENDed message is stored in.

pub mod address;
pub mod binary;
pub mod decode;
pub mod envelope;
pub mod header;
pub mod lexer;
pub mod mime;
pub mod params;
pub mod search;
pub mod section;
pub mod sort;
pub mod storage;
pub mod structure;
pub mod text;
pub mod thread;

use imap_codec::imap_types::body::BodyStructure;
use imap_codec::imap_types::core::{AString, Vec1};
use imap_codec::imap_types::envelope::Envelope;
use imap_codec::imap_types::fetch::{MessageDataItem, Part, Section};
use std::borrow::Cow;
use std::num::NonZeroU32;

pub use section::{SectionError, Specifier};

/// A message: its octets in CRLF form and, parsed on first use, its MIME structure (a
/// FETCH of BODY[] or RFC822.SIZE never needs it).
#[derive(Debug, Clone)]
pub struct Message<'a> {
    data: Cow<'a, [u8]>,
    root: std::sync::OnceLock<mime::Part>,
}

/// RFC 9051 §2.3.4 / §4: IMAP lines end in CRLF. A bare LF becomes CRLF (Dovecot does the
/// same for Maildir files written with LF); anything else is kept.
pub fn to_crlf(raw: &[u8]) -> Cow<'_, [u8]> {
    let bare = memchr::memchr_iter(b'\n', raw)
        .filter(|&i| i == 0 || raw.get(i - 1) != Some(&b'\r'))
        .count();
    if bare == 0 {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len() + bare);
    let mut prev = 0u8;
    for &b in raw {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    Cow::Owned(out)
}

fn path_of(part: &Option<Part>) -> Vec<u32> {
    part.as_ref()
        .map(|p| p.0.as_ref().iter().map(|n| n.get()).collect())
        .unwrap_or_default()
}

fn names_of(names: &Vec1<AString<'_>>) -> Vec<Vec<u8>> {
    names
        .as_ref()
        .iter()
        .map(|n| AsRef::<[u8]>::as_ref(n).to_vec())
        .collect()
}

/// The part numbers and specifier of an imap-types section.
pub fn split_section(section: Option<&Section<'_>>) -> (Vec<u32>, Specifier) {
    match section {
        None => (Vec::new(), Specifier::Content),
        Some(Section::Part(p)) => (path_of(&Some(p.clone())), Specifier::Content),
        Some(Section::Header(p)) => (path_of(p), Specifier::Header),
        Some(Section::HeaderFields(p, names)) => {
            (path_of(p), Specifier::HeaderFields(names_of(names)))
        }
        Some(Section::HeaderFieldsNot(p, names)) => {
            (path_of(p), Specifier::HeaderFieldsNot(names_of(names)))
        }
        Some(Section::Text(p)) => (path_of(p), Specifier::Text),
        Some(Section::Mime(p)) => (path_of(&Some(p.clone())), Specifier::Mime),
    }
}

impl<'a> Message<'a> {
    /// Takes `raw` (line ends are made CRLF); the MIME structure is parsed when first asked.
    pub fn parse(raw: &'a [u8]) -> Message<'a> {
        Message {
            data: to_crlf(raw),
            root: std::sync::OnceLock::new(),
        }
    }

    /// The message in its CRLF form.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    pub fn root(&self) -> &mime::Part {
        self.root.get_or_init(|| mime::parse(&self.data))
    }

    /// RFC822.SIZE (RFC 9051 §7.5.2), saturating at u32::MAX.
    pub fn size(&self) -> u32 {
        u32::try_from(self.data.len()).unwrap_or(u32::MAX)
    }

    /// ENVELOPE (RFC 9051 §7.5.2).
    pub fn envelope(&self) -> Envelope<'static> {
        envelope::from_header(&self.data, &self.root().header).to_imap()
    }

    /// BODYSTRUCTURE (`extended`) or BODY (RFC 9051 §7.5.2).
    pub fn body_structure(&self, extended: bool) -> BodyStructure<'static> {
        structure::body_structure(&self.data, self.root(), extended)
    }

    /// The octets of BODY[section] (no partial range).
    pub fn section(&self, path: &[u32], spec: &Specifier) -> Cow<'_, [u8]> {
        // BODY[]: the whole message, no structure needed.
        if path.is_empty() && matches!(spec, Specifier::Content) {
            return Cow::Borrowed(&self.data);
        }
        section::body_section(&self.data, self.root(), path, spec)
    }

    /// The octets of BINARY[path] (RFC 3516 §4.2).
    pub fn binary(&self, path: &[u32]) -> Result<Cow<'_, [u8]>, SectionError> {
        section::binary_section(&self.data, self.root(), path)
    }

    /// The FETCH item for `BODY[section]<partial>` (also RFC822, RFC822.HEADER,
    /// RFC822.TEXT through their sections). NUL octets are sent as 0x80 (a literal cannot
    /// hold NUL, RFC 9051 §4.3).
    pub fn fetch_body(
        &self,
        section: Option<&Section<'_>>,
        partial: Option<(u32, NonZeroU32)>,
    ) -> MessageDataItem<'static> {
        let (path, spec) = split_section(section);
        let bytes = self.section(&path, &spec);
        let (bytes, origin) = match partial {
            Some((o, n)) => (section::partial(&bytes, o, n.get()), Some(o)),
            None => (&bytes[..], None),
        };
        MessageDataItem::BodyExt {
            section: section.map(|s| s.clone().into_static_section()),
            origin,
            data: text::nstring(bytes.to_vec()),
        }
    }

    /// The octets of `BINARY[path]<partial>` (RFC 3516 §4.2), the content transfer
    /// encoding undone, with the partial's origin.
    pub fn fetch_binary(
        &self,
        path: &[NonZeroU32],
        partial: Option<(u32, NonZeroU32)>,
    ) -> Result<(Vec<u8>, Option<u32>), SectionError> {
        let nums: Vec<u32> = path.iter().map(|n| n.get()).collect();
        let bytes = self.binary(&nums)?;
        Ok(match partial {
            Some((o, n)) => (section::partial(&bytes, o, n.get()).to_vec(), Some(o)),
            None => (bytes.into_owned(), None),
        })
    }

    /// The FETCH item for `BINARY.SIZE[path]` (RFC 3516 §4.2).
    pub fn fetch_binary_size(
        &self,
        path: &[NonZeroU32],
    ) -> Result<MessageDataItem<'static>, SectionError> {
        let nums: Vec<u32> = path.iter().map(|n| n.get()).collect();
        let bytes = self.binary(&nums)?;
        Ok(MessageDataItem::BinarySize {
            section: path.to_vec(),
            size: u32::try_from(bytes.len()).unwrap_or(u32::MAX),
        })
    }
}

/// The top header block of a message alone, in its CRLF form: what ENVELOPE and the
/// SORT and THREAD keys need, without parsing the body (the root part's header is the same
/// block, RFC 5322 §2.1: it ends at the first empty line).
#[derive(Debug, Clone)]
pub struct TopHeader<'a> {
    data: Cow<'a, [u8]>,
    header: header::Header,
}

impl<'a> TopHeader<'a> {
    pub fn parse(raw: &'a [u8]) -> TopHeader<'a> {
        let mut end = raw.len();
        for nl in memchr::memchr_iter(b'\n', raw) {
            let next = raw.get(nl + 1..).unwrap_or_default();
            if next.starts_with(b"\n") || next.starts_with(b"\r\n") {
                end = nl + 1;
                break;
            }
        }
        let data = to_crlf(raw.get(..end).unwrap_or(raw));
        let header = header::parse(&data, 0, data.len(), &|_: &[u8]| false);
        TopHeader { data, header }
    }

    /// The ENVELOPE fields (as [`Message::envelope`] has them).
    pub fn envelope(&self) -> envelope::Envelope {
        envelope::from_header(&self.data, &self.header)
    }

    /// The unfolded value of the last field of that name.
    pub fn last(&self, name: &str) -> Option<Vec<u8>> {
        self.header
            .last(&self.data, name)
            .map(|f| f.unfolded(&self.data))
    }
}

/// Owning copies of sections (imap-types values borrow from the command).
trait IntoStaticSection {
    fn into_static_section(self) -> Section<'static>;
}

impl IntoStaticSection for Section<'_> {
    fn into_static_section(self) -> Section<'static> {
        use imap_codec::imap_types::IntoStatic;
        self.into_static()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lf_becomes_crlf() {
        assert_eq!(&*to_crlf(b"a\nb\r\nc\n"), b"a\r\nb\r\nc\r\n");
        assert!(matches!(to_crlf(b"a\r\n"), Cow::Borrowed(_)));
    }

    #[test]
    fn top_header_gives_the_same_envelope() {
        let raw = b"Subject: a\n b\nFrom: x@y\nReferences: <1@h>\n <2@h>\n\nSubject: body\n";
        let top = TopHeader::parse(raw);
        assert_eq!(top.envelope().to_imap(), Message::parse(raw).envelope());
        assert_eq!(top.last("references").unwrap(), b"<1@h> <2@h>");
        assert_eq!(top.last("Subject").unwrap(), b"a b");
    }

    #[test]
    fn size_counts_crlf() {
        let m = Message::parse(b"Subject: x\n\nbody\n");
        assert_eq!(m.size(), 20);
    }
}
