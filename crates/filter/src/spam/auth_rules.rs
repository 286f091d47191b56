//! Rules on the mail-authentication verdicts the server reached before the gateway
//! (RFC 8601 result words). DMARC `reject`/`quarantine` policies are already enforced by
//! the server, so a DMARC failure that reaches the score is one the domain asked not to act
//! on (`p=none`): a sign, not a proof.

use super::table;
use crate::context::AuthVerdicts;
use crate::verdict::Finding;

/// Scores the verdicts.
pub fn check(auth: &AuthVerdicts, out: &mut Vec<Finding>) {
    let domain = if auth.from_domain.is_empty() {
        "the sender".to_owned()
    } else {
        auth.from_domain.clone()
    };
    // RFC 7208 §8.4 fail, §8.5 softfail, §8.6-8.7 errors.
    match auth.spf.to_ascii_lowercase().as_str() {
        "fail" => out
            .push(table::SPF_FAIL.hit("SPF fail: the client may not send for the envelope domain")),
        "softfail" => out.push(table::SPF_SOFTFAIL.hit("SPF softfail")),
        "permerror" | "temperror" => {
            out.push(table::SPF_ERROR.hit(format!("SPF {}", auth.spf.to_ascii_lowercase())));
        }
        _ => {}
    }
    // RFC 6376 §6.1: a failing signature is treated as no signature, and unsigned mail is
    // common: a failure without any passing signature weighs more than no signature.
    let dkim: Vec<String> = auth.dkim.iter().map(|d| d.to_ascii_lowercase()).collect();
    let any_pass = dkim.iter().any(|d| d == "pass");
    if !any_pass && dkim.iter().any(|d| d == "fail") {
        out.push(table::DKIM_FAIL.hit("every DKIM signature fails"));
    } else if dkim.is_empty() || dkim.iter().all(|d| d == "none") {
        out.push(table::DKIM_NONE.hit("no DKIM signature"));
    }
    match auth.dmarc.to_ascii_lowercase().as_str() {
        "fail" => out.push(table::DMARC_FAIL.hit(format!(
            "DMARC fail: neither SPF nor DKIM vouches for {domain}"
        ))),
        "pass" => out.push(table::DMARC_PASS.hit(format!("DMARC pass for {domain}"))),
        _ => {}
    }
    // RFC 8617 §5.2: a broken chain of custody.
    if auth.arc.eq_ignore_ascii_case("fail") {
        out.push(table::ARC_FAIL.hit("the ARC chain is broken"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spam::tests::codes_of;

    fn run(spf: &str, dkim: &[&str], dmarc: &str, arc: &str) -> (Vec<&'static str>, f64) {
        let auth = AuthVerdicts {
            spf: spf.into(),
            dkim: dkim.iter().map(|d| (*d).to_owned()).collect(),
            dmarc: dmarc.into(),
            arc: arc.into(),
            from_domain: "example.com".into(),
        };
        let mut out = Vec::new();
        check(&auth, &mut out);
        (codes_of(&out), out.iter().map(|f| f.score).sum())
    }

    #[test]
    fn all_passing_lowers_the_score() {
        let (codes, score) = run("pass", &["pass"], "pass", "none");
        assert_eq!(codes, vec!["dmarc_pass"]);
        assert!(score < 0.0);
    }

    #[test]
    fn failures_add_up() {
        let (codes, score) = run("fail", &["fail"], "fail", "fail");
        assert_eq!(
            codes,
            vec!["spf_fail", "dkim_fail", "dmarc_fail", "arc_fail"]
        );
        assert!(score >= 8.0, "{score}");
    }

    #[test]
    fn a_failing_signature_beside_a_passing_one_is_not_a_failure() {
        let (codes, _) = run("softfail", &["fail", "pass"], "none", "");
        assert_eq!(codes, vec!["spf_softfail"]);
        let (codes, _) = run("none", &[], "none", "");
        assert_eq!(codes, vec!["dkim_none"]);
    }
}
