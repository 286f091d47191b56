//! The gateway's spam score as RFC 5235 spamtest sees it. The gateway writes
//! `X-Mailward-Spam: yes|no, score=S[, tests=...]` into every message it scores and strips
//! any such field arriving from outside, so the field is its own.

use mailward_sieve::Score;
use mailward_sieve::execute::header;

/// The score in `message`'s `X-Mailward-Spam` field as an RFC 5235 score: `level` 1
/// (clean, score 0 or less) to 10 (`certain` or more), `percent` 0 to 100 (spamtestplus);
/// `None` when the message was not scored (RFC 5235 §3.1: level 0, "not tested").
pub fn spam_score(message: &[u8], certain: f64) -> Option<Score> {
    let fields = header::fields(message);
    let value = header::first(&fields, "X-Mailward-Spam")?;
    let score: f64 = value
        .split(',')
        .filter_map(|part| part.trim().strip_prefix("score="))
        .find_map(|number| number.trim().parse().ok())?;
    if !score.is_finite() {
        return None;
    }
    let certain = if certain > 0.0 { certain } else { 15.0 };
    let fraction = (score / certain).clamp(0.0, 1.0);
    // RFC 5235 §3.2: 1 is "definitely not spam", 10 "definitely spam".
    let level = 1 + (fraction * 9.0).round() as u8;
    let percent = (fraction * 100.0).round() as u8;
    Some(Score { level, percent })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_score_maps_to_spamtest_levels() {
        let score = |value: &str| {
            let message = format!("X-Mailward-Spam: {value}\r\nSubject: x\r\n\r\nbody");
            spam_score(message.as_bytes(), 15.0)
        };
        assert_eq!(
            score("no, score=0.0"),
            Some(Score {
                level: 1,
                percent: 0
            })
        );
        assert_eq!(
            score("yes, score=15.0, tests=a=15.0"),
            Some(Score {
                level: 10,
                percent: 100
            })
        );
        assert_eq!(
            score("yes, score=7.5"),
            Some(Score {
                level: 6,
                percent: 50
            })
        );
        assert_eq!(
            score("yes, score=-3"),
            Some(Score {
                level: 1,
                percent: 0
            })
        );
        assert_eq!(score("garbage"), None);
        assert_eq!(spam_score(b"Subject: x\r\n\r\n", 15.0), None);
    }
}
