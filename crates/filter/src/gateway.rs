//! The pipeline: one parse, the checks in order, one verdict, the `X-Mailward-*` fields.
//!
//! Order and short cuts: the file block list first (cheap, and decisive), then the
//! antivirus, then the sandbox; a refusal stops there (nothing later could deliver the
//! message). Content disarm runs on what is still to be delivered; the spam score last, on
//! mail from outside (not on what our own users submit).

use crate::antivirus::{AntivirusSettings, Clamd};
use crate::attachments::{self, AttachmentSettings};
use crate::cdr::{self, DisarmSettings};
use crate::context::Context;
use crate::headers;
use crate::mime::{self, MimeLimits, Walk};
use crate::quarantine::Quarantine;
use crate::sandbox::{Sandbox, SandboxSettings};
use crate::spam::{self, SpamSettings};
use crate::verdict::{Action, Check, Finding, Verdict};
use mailward_auth::Resolver;
use mailward_event::{Event, FilterCheck, FilterVerdict, Scope};
use std::time::{Duration, Instant};

/// `[filter]`: everything on by default except the antivirus (needs a clamd) and the
/// sandbox (needs a command).
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    pub enabled: bool,
    pub mime: MimeLimits,
    pub attachments: AttachmentSettings,
    pub antivirus: Option<AntivirusSettings>,
    pub sandbox: Option<SandboxSettings>,
    pub disarm: DisarmSettings,
    pub spam: SpamSettings,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        GatewaySettings {
            enabled: true,
            mime: MimeLimits::default(),
            attachments: AttachmentSettings::default(),
            antivirus: None,
            sandbox: None,
            disarm: DisarmSettings::default(),
            spam: SpamSettings::default(),
        }
    }
}

/// The gateway with its clients (clamd, sandbox, DNS) and its quarantine.
#[derive(Debug)]
pub struct Gateway {
    settings: GatewaySettings,
    clamd: Option<Clamd>,
    sandbox: Option<Sandbox>,
    resolver: Option<Resolver>,
    quarantine: Quarantine,
}

/// What the gateway decided about one message.
#[derive(Debug, Clone)]
pub struct Inspection {
    pub verdict: Verdict,
    pub findings: Vec<Finding>,
    /// `X-Mailward-*` fields to add to the message's header (CRLF-terminated).
    pub fields: String,
    /// The message to queue when it is not the one inspected: forged `X-Mailward-*` fields
    /// removed, parts disarmed. `None`: queue it as it came.
    pub message: Option<Vec<u8>>,
    /// The message's Subject (for the quarantine list).
    pub subject: Option<String>,
    pub elapsed: Duration,
}

impl Inspection {
    /// The reply text of a refusal: what the sender can read (RFC 3463 `5.7.1`).
    pub fn reason(&self) -> String {
        self.verdict.reason_text()
    }
}

impl Gateway {
    /// The gateway of `settings`; `resolver` answers the DNS block lists.
    pub fn new(
        settings: GatewaySettings,
        resolver: Option<Resolver>,
        quarantine: Quarantine,
    ) -> Gateway {
        Gateway {
            clamd: settings.antivirus.clone().map(Clamd::new),
            sandbox: settings.sandbox.clone().map(Sandbox::new),
            settings,
            resolver,
            quarantine,
        }
    }

    pub fn settings(&self) -> &GatewaySettings {
        &self.settings
    }

    pub fn quarantine(&self) -> &Quarantine {
        &self.quarantine
    }

    /// Inspects `message` (as received, without our `Received:`) and writes one
    /// `filter_check` event per check that had something to look at and one
    /// `filter_verdict`, in `scope`.
    pub async fn inspect(
        &self,
        ctx: &Context<'_>,
        message: &[u8],
        scope: &Scope<'_>,
    ) -> Inspection {
        let started = Instant::now();
        let stripped = headers::strip_ours(message);
        let raw: &[u8] = &stripped;
        let parsed = mime::parse(raw);
        let walk = match &parsed {
            Some(m) => mime::walk(m, raw, &self.settings.mime),
            None => Walk::default(),
        };
        let has_files = walk.parts.iter().any(|p| p.is_attachment || !p.is_text());
        let mut findings: Vec<Finding> = Vec::new();
        let mut fields = String::new();

        if walk.truncated {
            // RFC 2046 sets no bound; we look no further than ours and say so.
            findings.push(Finding::new(
                Check::Attachments,
                Action::Quarantine,
                "mime_limits",
                format!(
                    "the message nests deeper than {} attached messages or has more than {} parts",
                    self.settings.mime.max_depth, self.settings.mime.max_parts
                ),
            ));
        }

        if self.settings.attachments.enabled && has_files {
            let t = Instant::now();
            let found = blocking(|| attachments::check(&walk, ctx, &self.settings.attachments));
            emit_check(scope, Check::Attachments, &found, None, t.elapsed());
            findings.extend(found);
        }
        if let Some(clamd) = self.clamd.as_ref().filter(|_| !refused(&findings)) {
            let t = Instant::now();
            let found = clamd.check(raw).await;
            emit_check(scope, Check::Antivirus, &found, None, t.elapsed());
            let verdict = found
                .iter()
                .map(|f| f.action)
                .max()
                .unwrap_or(Action::Accept);
            let word = match verdict {
                Action::Accept if found.is_empty() => "clean".to_owned(),
                Action::Accept => "unscanned".to_owned(),
                other => other.as_str().to_owned(),
            };
            headers::push_field(&mut fields, "Antivirus", &format!("{word} (clamd)"));
            findings.extend(found);
        }
        if let Some(sandbox) = self
            .sandbox
            .as_ref()
            .filter(|_| has_files && !refused(&findings))
        {
            let t = Instant::now();
            let found = sandbox.check(&walk).await;
            emit_check(scope, Check::Sandbox, &found, None, t.elapsed());
            findings.extend(found);
        }

        let mut rebuilt: Option<Vec<u8>> = None;
        let held = findings.iter().any(|f| f.action >= Action::Quarantine);
        if self.settings.disarm.enabled && !held && (has_files || has_html(&walk)) {
            let t = Instant::now();
            let disarmed = blocking(|| cdr::disarm(raw, &walk, &self.settings.disarm));
            let found = disarmed
                .as_ref()
                .map(|d| d.findings.clone())
                .unwrap_or_default();
            emit_check(scope, Check::Disarm, &found, None, t.elapsed());
            if let Some(d) = disarmed {
                let removed: Vec<&str> = d
                    .findings
                    .iter()
                    .filter(|f| f.action == Action::Modify)
                    .map(|f| f.detail.as_str())
                    .collect();
                if !removed.is_empty() {
                    headers::push_field(&mut fields, "Disarmed", &removed.join("; "));
                    rebuilt = Some(d.message);
                }
                findings.extend(d.findings);
            }
        }

        let mut score = 0.0;
        let mut spam_action = Action::Accept;
        if self.settings.spam.enabled && ctx.auth_user.is_none() && !refused(&findings) {
            let t = Instant::now();
            let report =
                spam::score(raw, &walk, ctx, &self.settings.spam, self.resolver.as_ref()).await;
            score = report.score;
            spam_action = self.settings.spam.action(score);
            emit_check(
                scope,
                Check::Spam,
                &report.findings,
                Some((score, spam_action)),
                t.elapsed(),
            );
            let tests: Vec<String> = report
                .findings
                .iter()
                .map(|f| format!("{}={:.1}", f.code, f.score))
                .collect();
            let mark = if spam_action >= Action::Tag {
                "yes"
            } else {
                "no"
            };
            let mut value = format!("{mark}, score={score:.1}");
            if !tests.is_empty() {
                value.push_str(&format!(", tests={}", tests.join(",")));
            }
            headers::push_field(&mut fields, "Spam", &value);
            findings.extend(report.findings);
        }

        let verdict = Verdict::of(&findings, score, spam_action);
        let subject = parsed.as_ref().and_then(|m| m.subject()).map(str::to_owned);
        drop(walk);
        drop(parsed);
        let mut head = String::new();
        headers::push_field(
            &mut head,
            "Verdict",
            &format!("{}; score={score:.1}", verdict.action),
        );
        head.push_str(&fields);
        let message = match (rebuilt, stripped) {
            (Some(m), _) => Some(m),
            (None, std::borrow::Cow::Owned(m)) => Some(m),
            (None, std::borrow::Cow::Borrowed(_)) => None,
        };
        let elapsed = started.elapsed();
        scope.emit(Event::FilterVerdict(FilterVerdict {
            action: verdict.action.as_str().into(),
            score,
            reason: verdict.reason.as_ref().map(|f| f.detail.as_str().into()),
            us: micros(elapsed),
        }));
        Inspection {
            verdict,
            findings,
            fields: head,
            message,
            subject,
            elapsed,
        }
    }
}

/// A refusal is reached: later checks could not change it.
fn refused(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.action >= Action::TempFail)
}

fn has_html(walk: &Walk<'_>) -> bool {
    walk.parts.iter().any(|p| p.content_type == "text/html")
}

/// Runs CPU-bound work (archives, document rewriting) without stalling the other sessions
/// of this worker thread, when the runtime can move them (a multi-threaded one).
fn blocking<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}

fn emit_check(
    scope: &Scope<'_>,
    check: Check,
    found: &[Finding],
    spam: Option<(f64, Action)>,
    elapsed: Duration,
) {
    let decisive = found.iter().max_by_key(|f| f.action);
    let result = match spam {
        Some((_, action)) => action,
        None => decisive.map(|f| f.action).unwrap_or(Action::Accept),
    };
    let (code, detail) = match spam {
        // The spam check's detail lists the rules that matched.
        Some(_) if !found.is_empty() => (
            None,
            Some(
                found
                    .iter()
                    .map(|f| format!("{}={:.1}", f.code, f.score))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        ),
        Some(_) => (None, None),
        None => (
            decisive.map(|f| f.code.clone()),
            decisive.map(|f| f.detail.clone()),
        ),
    };
    scope.emit(Event::FilterCheck(FilterCheck {
        check: check.as_str().into(),
        result: result.as_str().into(),
        code: code.map(Into::into),
        detail: detail.map(Into::into),
        score: spam.map(|(s, _)| s),
        us: micros(elapsed),
    }));
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}
