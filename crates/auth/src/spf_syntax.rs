//! The syntax of an SPF record (RFC 7208 §4.5, §4.6.1, §5, §6, §7.1 and the ABNF of §12),
//! shared by the inbound check (a record that does not parse is a permerror, §4.6) and
//! `mailward dns check` (which names what is wrong). Records are untrusted DNS data: every
//! error is a value, nothing here indexes past a checked length.

/// Longest record we parse (the TXT data joined): far above any real policy, below the
/// 64 KB a DNS message can carry.
pub(crate) const MAX_RECORD_LEN: usize = 8192;

/// One term of a record (RFC 7208 §4.6.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Term {
    Mechanism {
        qualifier: char,
        /// Lower-case: `all`, `include`, `a`, `mx`, `ptr`, `ip4`, `ip6`, `exists`.
        name: String,
        /// The domain-spec or address, without its CIDR length.
        arg: Option<String>,
    },
    Modifier {
        /// Lower-case.
        name: String,
        value: String,
    },
}

/// RFC 7208 §4.5: a record that begins with `v=spf1` followed by a space or its end
/// (so `v=spf10` is not one).
pub(crate) fn is_spf_record(record: &[u8]) -> bool {
    record.len() >= 6
        && record
            .get(..6)
            .is_some_and(|v| v.eq_ignore_ascii_case(b"v=spf1"))
        && record.get(6).is_none_or(|&b| b == b' ')
}

/// The terms of a `v=spf1` record, or what is wrong with it.
pub(crate) fn parse(record: &str) -> Result<Vec<Term>, String> {
    if record.len() > MAX_RECORD_LEN {
        return Err(format!(
            "the record is {} bytes long (we parse at most {MAX_RECORD_LEN})",
            record.len()
        ));
    }
    // §12: terms are separated by SP only, and every character is printable US-ASCII.
    if let Some(c) = record.chars().find(|&c| c != ' ' && !c.is_ascii_graphic()) {
        // Named in ASCII: the reason ends up in a header field.
        return Err(format!(
            "character {} is not allowed in a record (RFC 7208 section 12: printable US-ASCII and spaces)",
            c.escape_unicode()
        ));
    }
    let mut words = record.split(' ').filter(|w| !w.is_empty());
    match words.next() {
        Some(v) if v.eq_ignore_ascii_case("v=spf1") => {}
        _ => return Err("does not start with v=spf1".into()),
    }
    let mut terms = Vec::new();
    for word in words {
        terms.push(parse_term(word)?);
    }
    for name in ["redirect", "exp"] {
        let n = terms
            .iter()
            .filter(|t| matches!(t, Term::Modifier { name: m, .. } if m == name))
            .count();
        if n > 1 {
            // §6: each at most once.
            return Err(format!(
                "{name}= appears {n} times (at most once, RFC 7208 section 6)"
            ));
        }
    }
    Ok(terms)
}

fn parse_term(word: &str) -> Result<Term, String> {
    let bad = |why: &str| Err(format!("{word:?}: {why}"));
    // A modifier (§12): name "=" macro-string, the name being
    // ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ). A mechanism never holds "=" before ":"/"/".
    let colon = word.find([':', '/']).unwrap_or(word.len());
    if let Some(eq) = word.find('=')
        && eq < colon
    {
        let (name, value) = (&word[..eq], &word[eq + 1..]);
        if !name.starts_with(|c: char| c.is_ascii_alphabetic())
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return bad("not a valid modifier name (RFC 7208 section 12)");
        }
        let name = name.to_ascii_lowercase();
        if name == "redirect" || name == "exp" {
            // §6.1, §6.2: the value is a domain-spec.
            domain_spec(value).map_err(|why| format!("{word:?}: {name}= {why}"))?;
        } else {
            macro_string(value).map_err(|why| format!("{word:?}: {why}"))?;
        }
        return Ok(Term::Modifier {
            name,
            value: value.to_string(),
        });
    }
    let (qualifier, rest) = match word.chars().next() {
        Some(q @ ('+' | '-' | '~' | '?')) => (q, &word[1..]),
        _ => ('+', word),
    };
    let split = rest.find([':', '/']).unwrap_or(rest.len());
    let name = rest[..split].to_ascii_lowercase();
    let tail = &rest[split..];
    let (arg, cidr) = match tail.strip_prefix(':') {
        Some(a) => match name.as_str() {
            // §5.3, §5.4, §5.6: the CIDR length trails the domain or address (a
            // domain-spec may itself hold a `/`).
            "ip4" | "ip6" | "a" | "mx" => {
                let (d, c) = split_cidr(a);
                (Some(d.to_string()), c.map(str::to_string))
            }
            _ => (Some(a.to_string()), None),
        },
        None => (None, tail.strip_prefix('/').map(str::to_string)),
    };
    if arg.is_none() && !tail.is_empty() && !tail.starts_with('/') {
        return bad("unexpected text after the mechanism name");
    }
    match name.as_str() {
        "all" if arg.is_none() && cidr.is_none() => {}
        "all" => return bad("all takes no argument"),
        "include" | "exists" => {
            if cidr.is_some() {
                return bad("takes no CIDR length");
            }
            match &arg {
                Some(a) => domain_spec(a).map_err(|why| format!("{word:?}: {why}"))?,
                None => return bad("needs a domain"),
            }
        }
        "ptr" => {
            if cidr.is_some() {
                return bad("ptr takes no CIDR length");
            }
            if let Some(a) = &arg {
                domain_spec(a).map_err(|why| format!("{word:?}: {why}"))?;
            }
        }
        "a" | "mx" => {
            if let Some(a) = &arg {
                domain_spec(a).map_err(|why| format!("{word:?}: {why}"))?;
            }
            if let Some(c) = &cidr {
                dual_cidr(c).map_err(|why| format!("{word:?}: {why}"))?;
            }
        }
        "ip4" => {
            if arg
                .as_deref()
                .and_then(|a| a.parse::<std::net::Ipv4Addr>().ok())
                .is_none()
            {
                return bad("ip4 needs an IPv4 address");
            }
            if let Some(c) = &cidr {
                cidr_length(c, 32).map_err(|why| format!("{word:?}: {why}"))?;
            }
        }
        "ip6" => {
            if arg
                .as_deref()
                .and_then(|a| a.parse::<std::net::Ipv6Addr>().ok())
                .is_none()
            {
                return bad("ip6 needs an IPv6 address");
            }
            if let Some(c) = &cidr {
                cidr_length(c, 128).map_err(|why| format!("{word:?}: {why}"))?;
            }
        }
        _ => return bad("unknown mechanism (RFC 7208 section 5)"),
    }
    Ok(Term::Mechanism {
        qualifier,
        name,
        arg,
    })
}

/// Splits `domain/24//64` into the domain and what follows its first `/` of a trailing
/// run of digits and slashes (`24//64`), the part that can be a CIDR length.
fn split_cidr(arg: &str) -> (&str, Option<&str>) {
    let run = arg
        .bytes()
        .rev()
        .take_while(|b| b.is_ascii_digit() || *b == b'/')
        .count();
    let start = arg.len() - run;
    match arg.get(start..).and_then(|tail| tail.find('/')) {
        Some(slash) => {
            let at = start + slash;
            (&arg[..at], arg.get(at + 1..))
        }
        None => (arg, None),
    }
}

/// §12 `ip4-cidr-length` / `ip6-cidr-length`: "0", or digits without a leading zero, at
/// most `max`.
fn cidr_length(digits: &str, max: u8) -> Result<(), String> {
    let ok = !digits.is_empty()
        && digits.len() <= 3
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && digits.parse::<u8>().is_ok_and(|n| n <= max);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "bad CIDR length /{digits} (0 to {max}, RFC 7208 section 5.6)"
        ))
    }
}

/// §12 `dual-cidr-length` after the first `/`: `n`, `n//m` or `/m`.
fn dual_cidr(c: &str) -> Result<(), String> {
    if let Some(six) = c.strip_prefix('/') {
        return cidr_length(six, 128);
    }
    match c.split_once("//") {
        Some((four, six)) => {
            cidr_length(four, 32)?;
            cidr_length(six, 128)
        }
        None => cidr_length(c, 32),
    }
}

/// §12 `domain-spec = macro-string domain-end`, `domain-end = ( "." toplabel [ "." ] ) /
/// macro-expand`.
pub(crate) fn domain_spec(spec: &str) -> Result<(), String> {
    if spec.is_empty() {
        return Err("needs a domain (RFC 7208 section 12 domain-spec)".into());
    }
    macro_string(spec)?;
    // Ends in a macro-expand (a `%{..}` or `%%`, `%_`, `%-`)?
    if spec.ends_with('}') && ends_with_macro(spec) {
        return Ok(());
    }
    let body = spec.strip_suffix('.').unwrap_or(spec);
    let Some((_, top)) = body.rsplit_once('.') else {
        return Err(format!(
            "{spec:?} is not a domain name with a top-level label (RFC 7208 section 12 domain-end)"
        ));
    };
    if toplabel(top) {
        Ok(())
    } else {
        Err(format!(
            "{top:?} is not a valid top-level label (RFC 7208 section 12 toplabel)"
        ))
    }
}

/// Whether the final `}` of `spec` closes a `%{`, not a literal brace.
fn ends_with_macro(spec: &str) -> bool {
    match (spec.rfind("%{"), spec.rfind('}')) {
        (Some(open), Some(close)) => close == spec.len() - 1 && open < close,
        _ => false,
    }
}

/// §12 `toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" )
/// alphanum )`: not all digits, no leading or trailing hyphen.
fn toplabel(label: &str) -> bool {
    !label.is_empty()
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
        && (label.bytes().any(|b| b.is_ascii_alphabetic()) || label.contains('-'))
}

/// §7.1 / §12 `macro-string`: literals and `%{letter transformers delimiters}`, `%%`,
/// `%_`, `%-`; any other `%` is a syntax error.
pub(crate) fn macro_string(s: &str) -> Result<(), String> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b != b'%' {
            if !(0x21..=0x7e).contains(&b) {
                return Err(format!(
                    "byte {b:#04x} is not allowed (RFC 7208 section 7.1)"
                ));
            }
            i += 1;
            continue;
        }
        match bytes.get(i + 1) {
            Some(b'%' | b'_' | b'-') => i += 2,
            Some(b'{') => {
                let Some(len) = bytes
                    .get(i + 2..)
                    .and_then(|r| r.iter().position(|&c| c == b'}'))
                else {
                    return Err(format!("unclosed macro in {s:?} (RFC 7208 section 7.1)"));
                };
                let inner = bytes.get(i + 2..i + 2 + len).unwrap_or_default();
                macro_expand(inner)
                    .map_err(|why| format!("{why} in {s:?} (RFC 7208 section 7.1)"))?;
                i += 3 + len;
            }
            _ => {
                return Err(format!(
                    "a lone % in {s:?} (write %% for a percent sign, RFC 7208 section 7.1)"
                ));
            }
        }
    }
    Ok(())
}

/// The inside of `%{...}`: `macro-letter transformers *delimiter`.
fn macro_expand(inner: &[u8]) -> Result<(), String> {
    let Some((&letter, rest)) = inner.split_first() else {
        return Err("an empty macro".into());
    };
    if !b"slodiphcrtvSLODIPHCRTV".contains(&letter) {
        return Err(format!("unknown macro letter {:?}", letter as char));
    }
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let mut rest = rest.get(digits..).unwrap_or_default();
    if let Some((b'r' | b'R', after)) = rest.split_first() {
        rest = after;
    }
    if rest
        .iter()
        .all(|b| matches!(b, b'.' | b'-' | b'+' | b',' | b'/' | b'_' | b'='))
    {
        Ok(())
    } else {
        Err("bad transformer or delimiter".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_parse_and_errors_are_named() {
        let t = parse("v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx:example.org/24 include:_spf.example.net ~all").unwrap();
        assert_eq!(t.len(), 6);
        assert!(
            parse("v=spf1 ip4:999.1.1.1 -all")
                .unwrap_err()
                .contains("ip4")
        );
        assert!(
            parse("v=spf1 foo:bar -all")
                .unwrap_err()
                .contains("unknown mechanism")
        );
        assert!(parse("v=spf1 redirect=a.example redirect=b.example").is_err());
        assert!(parse("v=spf1 include: -all").is_err());
        // Unknown modifiers are allowed (§6).
        assert!(parse("v=spf1 foo=bar -all").is_ok());
    }

    #[test]
    fn abnf_rules_of_section_12() {
        for good in [
            "v=spf1 a/24//64 mx//0 a:%{d}.example.com -all",
            "v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all",
            "v=spf1 include:example.com. redirect=%{d}",
            "v=spf1 exp=explain.%{d2} -all",
            "v=spf1 a:foo-bar.example-1 -all",
            "v=spf1 x-y.z=%% -all",
            "v=spf1 moo.cow-far_out=man:dog/cat ip4:1.2.3.4 -all",
            "v=spf1 a:foo:bar/baz.example.com",
            "v=spf1 ip6:::1.1.1.1/0",
        ] {
            assert!(parse(good).is_ok(), "{good}: {:?}", parse(good));
        }
        for bad in [
            "v=spf1 ip4:1.2.3.4/33",
            "v=spf1 ip4:1.2.3.4/032",
            "v=spf1 ip6:::1/129",
            "v=spf1 a/33",
            "v=spf1 a:example.123",
            "v=spf1 a:example.-com",
            "v=spf1 a:foo",
            "v=spf1 a:",
            "v=spf1 mx:foo:bar/24",
            "v=spf1 =bar",
            "v=spf1 redirect=",
            "v=spf1 exp=%{z}.example.com",
            "v=spf1 a:%.example.com",
            "v=spf1 include:x.example.com/24",
            "v=spf1 a:\u{e9}.example.com",
            "v=spf1\tall",
        ] {
            assert!(parse(bad).is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn regress_non_ascii_is_named_in_ascii() {
        let why = parse("v=spf1 a:\u{e9}.example.com -all").unwrap_err();
        assert!(why.contains("\\u{e9}"), "{why}");
        assert!(why.is_ascii(), "{why}");
    }

    #[test]
    fn regress_huge_records_are_refused_not_parsed() {
        let huge = format!("v=spf1 {}-all", "a ".repeat(40_000));
        assert!(parse(&huge).unwrap_err().contains("bytes long"));
    }

    use proptest::prelude::*;

    /// Records built from the pieces SPF syntax is made of, to reach deep into the parser.
    fn spfish() -> impl Strategy<Value = String> {
        let token = prop_oneof![
            Just(" "),
            Just("v=spf1"),
            Just("ip4:"),
            Just("ip6:"),
            Just("a"),
            Just("mx"),
            Just("include:"),
            Just("exists:"),
            Just("redirect="),
            Just("exp="),
            Just("%{"),
            Just("}"),
            Just("%"),
            Just("/"),
            Just("//"),
            Just(":"),
            Just("."),
            Just("-"),
            Just("1"),
            Just("32"),
            Just("999"),
            Just("ir"),
            Just("example.com"),
            Just("\u{e9}"),
            Just("\u{0}"),
        ];
        proptest::collection::vec(token, 0..30).prop_map(|t| t.concat())
    }

    proptest! {
        #[test]
        fn parse_never_panics(record in spfish()) {
            let _ = parse(&record);
        }

        #[test]
        fn parse_never_panics_on_any_text(record in "\\PC{0,200}") {
            let _ = parse(&record);
        }
    }

    #[test]
    fn version_needs_a_boundary() {
        assert!(is_spf_record(b"v=spf1 -all"));
        assert!(is_spf_record(b"V=SPF1"));
        assert!(!is_spf_record(b"v=spf10 -all"));
        assert!(!is_spf_record(b"v=spf"));
    }
}
