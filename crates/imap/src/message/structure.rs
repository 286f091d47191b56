//! BODYSTRUCTURE and BODY (RFC 9051 §7.5.2, RFC 3501 §7.4.2): the MIME structure with
//! the Content-* fields of each part, in imap-types form for the encoder.
//!
//! - body-type-1part: type, subtype, parameters, id, description, encoding, size in
//!   octets; text/* adds the line count; message/rfc822 adds the embedded message's
//!   envelope, structure and line count.
//! - body-type-mpart: the parts, then the subtype.
//! - Extension data (BODYSTRUCTURE only): MD5 (single parts), parameters (multipart),
//!   disposition, language, location.
//!
//! Defaults where the header is silent (RFC 2045 §5.2, §6.1): `"text" "plain"` with
//! `("charset" "us-ascii")`, encoding `"7bit"`; a text part without a charset parameter
//! gets `charset=us-ascii` (RFC 2046 §4.1.2). A multipart without parts (no boundary, or
//! no delimiter) is shown with one empty text/plain part, as Dovecot does, since the
//! grammar needs at least one. Parameters are passed through undecoded.

use super::envelope;
use super::lexer::Lexer;
use super::mime::{self, Kind, Part};
use super::params::{self, Param};
use super::text::{istring, nstring_opt};
use imap_codec::imap_types::body::{
    BasicFields, Body, BodyStructure, Disposition, Language, Location, MultiPartExtensionData,
    SinglePartExtensionData, SpecificFields,
};
use imap_codec::imap_types::core::{IString, Vec1};

/// The Content-* fields of one part, as parsed for BODYSTRUCTURE.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContentInfo {
    /// The media type (`None`: no Content-Type).
    pub ctype: Option<Vec<u8>>,
    pub subtype: Option<Vec<u8>>,
    pub params: Vec<Param>,
    pub transfer_encoding: Option<Vec<u8>>,
    pub id: Option<Vec<u8>>,
    pub description: Option<Vec<u8>>,
    pub md5: Option<Vec<u8>>,
    pub disposition: Option<(Vec<u8>, Vec<Param>)>,
    pub language: Option<Vec<Vec<u8>>>,
    pub location: Option<Vec<u8>>,
}

impl ContentInfo {
    /// The charset parameter, if any.
    pub fn charset(&self) -> Option<&[u8]> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(b"charset"))
            .map(|(_, v)| v.as_slice())
    }
}

/// Reads the Content-* fields of `part` (ignored in a non-MIME part, RFC 2045 §4).
pub fn content_info(data: &[u8], part: &Part) -> ContentInfo {
    let mut ci = ContentInfo::default();
    if !part.is_mime {
        return ci;
    }
    // Dovecot replaces the disposition while it has no parameters; keep that.
    let mut disposition_has_params = false;
    for f in &part.header.fields {
        let name = f.name(data);
        if !name
            .get(..8)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"Content-"))
        {
            continue;
        }
        let sub = name.get(8..).unwrap_or(&[]);
        let is = |n: &str| sub.eq_ignore_ascii_case(n.as_bytes());
        if is("ID") && ci.id.is_none() {
            ci.id = Some(f.unfolded(data));
        } else if is("MD5") && ci.md5.is_none() {
            ci.md5 = Some(f.unfolded(data));
        } else if is("Type") && ci.ctype.is_none() {
            let value = f.unfolded(data);
            let (ct, ok, mut lex) = mime::content_type_of(&value);
            match memchr::memchr(b'/', &ct) {
                Some(slash) => {
                    ci.ctype = Some(ct.get(..slash).unwrap_or(&[]).to_vec());
                    ci.subtype = Some(ct.get(slash + 1..).unwrap_or(&[]).to_vec());
                }
                None => ci.ctype = Some(ct.clone()),
            }
            if ok {
                ci.params = params::parse_params(&mut lex);
            }
        } else if is("Transfer-Encoding") && ci.transfer_encoding.is_none() {
            let value = f.unfolded(data);
            let mut lex = Lexer::new(&value);
            lex.skip_lwsp();
            let mut tok = Vec::new();
            if !lex.parse_mime_token(&mut tok).is_err()
                && lex.skip_lwsp() == super::lexer::Step::End
                && !tok.is_empty()
            {
                ci.transfer_encoding = Some(tok);
            }
        } else if is("Language") && ci.language.is_none() {
            let value = f.unfolded(data);
            let mut lex = Lexer::new(&value);
            lex.skip_lwsp();
            let mut langs = Vec::new();
            loop {
                let mut atom = Vec::new();
                if lex.parse_atom(&mut atom).is_err() {
                    break;
                }
                langs.push(atom);
                if !lex.peek_is(b',') {
                    break;
                }
                lex.pos += 1;
                lex.skip_lwsp();
            }
            if !langs.is_empty() {
                ci.language = Some(langs);
            }
        } else if is("Location") && ci.location.is_none() {
            ci.location = Some(f.unfolded(data));
        } else if is("Description") && ci.description.is_none() {
            ci.description = Some(f.unfolded(data));
        } else if is("Disposition") && !disposition_has_params {
            let value = f.unfolded(data);
            let mut lex = Lexer::new(&value);
            lex.skip_lwsp();
            let mut tok = Vec::new();
            if lex.parse_mime_token(&mut tok).is_err() {
                continue;
            }
            let ps = params::parse_params(&mut lex);
            disposition_has_params = !ps.is_empty();
            ci.disposition = Some((tok, ps));
        }
    }
    ci
}

fn param_list(
    params: &[Param],
    default_charset: bool,
) -> Vec<(IString<'static>, IString<'static>)> {
    let mut out: Vec<(IString<'static>, IString<'static>)> = params
        .iter()
        .map(|(k, v)| (istring(k.clone()), istring(v.clone())))
        .collect();
    if default_charset
        && !params
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(b"charset"))
    {
        out.push((istring(b"charset".to_vec()), istring(b"us-ascii".to_vec())));
    }
    out
}

fn lines(data: &[u8], part: &Part) -> u32 {
    let body = data.get(part.body.clone()).unwrap_or(&[]);
    u32::try_from(memchr::memchr_iter(b'\n', body).count()).unwrap_or(u32::MAX)
}

fn size(part: &Part) -> u32 {
    u32::try_from(part.body.len()).unwrap_or(u32::MAX)
}

fn tail(ci: &ContentInfo) -> Disposition<'static> {
    Disposition {
        disposition: ci
            .disposition
            .as_ref()
            .map(|(d, ps)| (istring(d.clone()), param_list(ps, false))),
        tail: Some(Language {
            language: ci
                .language
                .as_ref()
                .map(|l| l.iter().map(|x| istring(x.clone())).collect())
                .unwrap_or_default(),
            tail: Some(Location {
                location: nstring_opt(ci.location.clone()),
                extensions: Vec::new(),
            }),
        }),
    }
}

fn empty_part(extended: bool) -> BodyStructure<'static> {
    BodyStructure::Single {
        body: Body {
            basic: BasicFields {
                parameter_list: param_list(&[], true),
                id: nstring_opt(None),
                description: nstring_opt(None),
                content_transfer_encoding: istring(b"7bit".to_vec()),
                size: 0,
            },
            specific: SpecificFields::Text {
                subtype: istring(b"plain".to_vec()),
                number_of_lines: 0,
            },
        },
        extension_data: extended.then(|| SinglePartExtensionData {
            md5: nstring_opt(None),
            tail: Some(tail(&ContentInfo::default())),
        }),
    }
}

/// The BODYSTRUCTURE (`extended`) or BODY structure of `part` in `data`.
pub fn body_structure(data: &[u8], part: &Part, extended: bool) -> BodyStructure<'static> {
    let ci = content_info(data, part);
    if let Kind::Multipart(children) = &part.kind {
        let bodies: Vec<BodyStructure<'static>> = children
            .iter()
            .map(|c| body_structure(data, c, extended))
            .collect();
        let bodies = Vec1::try_from(bodies).unwrap_or_else(|_| Vec1::from(empty_part(extended)));
        return BodyStructure::Multi {
            bodies,
            subtype: istring(ci.subtype.clone().unwrap_or_default()),
            extension_data: extended.then(|| MultiPartExtensionData {
                parameter_list: param_list(&ci.params, false),
                tail: Some(tail(&ci)),
            }),
        };
    }
    let (specific, text) = match &part.kind {
        Kind::Message(inner) => {
            let env = envelope::from_header(data, &inner.header).to_imap();
            (
                SpecificFields::Message {
                    envelope: Box::new(env),
                    body_structure: Box::new(body_structure(data, inner, extended)),
                    number_of_lines: lines(data, part),
                },
                false,
            )
        }
        _ => match &ci.ctype {
            None => (
                SpecificFields::Text {
                    subtype: istring(b"plain".to_vec()),
                    number_of_lines: lines(data, part),
                },
                true,
            ),
            Some(t) if t.eq_ignore_ascii_case(b"text") => (
                SpecificFields::Text {
                    subtype: istring(ci.subtype.clone().unwrap_or_default()),
                    number_of_lines: lines(data, part),
                },
                true,
            ),
            Some(t) => (
                SpecificFields::Basic {
                    r#type: istring(t.clone()),
                    subtype: istring(ci.subtype.clone().unwrap_or_default()),
                },
                false,
            ),
        },
    };
    // A message/rfc822 part shows its own parameters, never a default charset.
    let params = if matches!(part.kind, Kind::Message(_)) {
        param_list(&ci.params, false)
    } else {
        param_list(&ci.params, text)
    };
    BodyStructure::Single {
        body: Body {
            basic: BasicFields {
                parameter_list: params,
                id: nstring_opt(ci.id.clone()),
                description: nstring_opt(ci.description.clone()),
                content_transfer_encoding: istring(
                    ci.transfer_encoding
                        .clone()
                        .unwrap_or_else(|| b"7bit".to_vec()),
                ),
                size: size(part),
            },
            specific,
        },
        extension_data: extended.then(|| SinglePartExtensionData {
            md5: nstring_opt(ci.md5.clone()),
            tail: Some(tail(&ci)),
        }),
    }
}
