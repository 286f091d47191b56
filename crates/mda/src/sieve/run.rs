//! One account's Sieve run in delivery: load and compile (cached) the scripts, evaluate
//! them in turn, and turn the plan into what the runner carries out: the copies to store,
//! the messages to queue (redirects, vacation replies, notifications), the programs to
//! pipe to, a refusal. Blocking (script files, SQLite state, programs): called from
//! `spawn_blocking`.

use super::backend::SieveBackend;
use super::cache::ScriptCache;
use super::engine::{CompileRequest, Engine, Evaluation};
use super::host::{DeliveryHost, vacation_key};
use super::plan::{Plan, StoreTarget};
use super::program::{self, ProgramLimits};
use super::settings::SieveSettings;
use super::spam::spam_score;
use mailward_event::{Event, Scope, SieveActionRefused, SieveError, SieveRun, VacationSuppressed};
use mailward_sieve::execute::{
    Outgoing, VacationRequest, VacationSuppressed as Suppressed, check_vacation, notify_message,
    redirect_message, vacation_reply,
};
use mailward_sieve::{Action, Envelope, Environment, Host};
use mailward_store::{Account, Flags, SieveStateKind};
use std::sync::Arc;
use std::time::Instant;

/// A global script, loaded at start.
struct GlobalScript {
    label: String,
    source: String,
}

/// Sieve for delivery: settings, the interpreter, the store, compiled scripts.
pub struct SieveDelivery {
    settings: SieveSettings,
    engine: Arc<dyn Engine>,
    backend: Arc<dyn SieveBackend>,
    cache: ScriptCache,
    before: Vec<GlobalScript>,
    after: Vec<GlobalScript>,
    programs: Option<ProgramLimits>,
}

/// The delivery of one message to one account.
#[derive(Debug, Clone)]
pub struct Job<'a> {
    pub queue_id: &'a str,
    /// MAIL FROM; empty for `<>`.
    pub sender: &'a str,
    /// The RCPT TO address.
    pub rcpt: &'a str,
    /// RFC 3461 ORCPT (`rfc822;addr`).
    pub orcpt: Option<&'a str>,
    pub auth: Option<&'a str>,
    pub remote_ip: Option<&'a str>,
    /// The gateway (or DMARC) sent it to Junk.
    pub junk: bool,
    pub account: &'a Account,
    /// The message as queued.
    pub message: &'a [u8],
}

/// One copy to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    pub folder: String,
    pub flags: Flags,
}

/// What to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendKind {
    Redirect,
    Vacation,
    Notify,
}

/// A message to queue on the account's behalf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sending {
    pub kind: SendKind,
    pub outgoing: Outgoing,
}

/// What the scripts decided for one account's copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The message to store (after editheader), without Return-Path and Delivered-To.
    pub message: Vec<u8>,
    pub copies: Vec<Copy>,
    pub sendings: Vec<Sending>,
    pub pipes: Vec<(String, Vec<String>)>,
    /// RFC 5429: refuse with this reason.
    pub reject: Option<String>,
}

impl SieveDelivery {
    /// Loads the global scripts; an unreadable one is an error (a configuration mistake).
    pub fn new(
        settings: SieveSettings,
        engine: Arc<dyn Engine>,
        backend: Arc<dyn SieveBackend>,
    ) -> Result<SieveDelivery, String> {
        let load = |paths: &[std::path::PathBuf],
                    kind: &str|
         -> Result<Vec<GlobalScript>, String> {
            paths
                .iter()
                .map(|path| {
                    let source = std::fs::read_to_string(path)
                        .map_err(|e| format!("[sieve] {kind} script {}: {e}", path.display()))?;
                    let name = path.file_name().map_or_else(
                        || path.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    );
                    Ok(GlobalScript {
                        label: format!("{kind}:{name}"),
                        source,
                    })
                })
                .collect()
        };
        let before = load(&settings.before, "before")?;
        let after = load(&settings.after, "after")?;
        let programs = settings.program_dir.as_ref().map(|dir| ProgramLimits {
            dir: dir.clone(),
            timeout: settings.program_timeout,
            output_limit: settings.program_output_limit,
        });
        Ok(SieveDelivery {
            settings,
            engine,
            backend,
            cache: ScriptCache::default(),
            before,
            after,
            programs,
        })
    }

    pub fn settings(&self) -> &SieveSettings {
        &self.settings
    }

    fn environment(&self, job: &Job<'_>, now: i64) -> Environment {
        let host = self.settings.hostname.clone();
        let domain = host
            .split_once('.')
            .map_or_else(|| host.clone(), |(_, domain)| domain.to_string());
        Environment {
            domain,
            host,
            name: "mailward".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            location: "MDA".into(),
            phase: "during".into(),
            remote_host: None,
            remote_ip: job
                .remote_ip
                .filter(|ip| !ip.is_empty())
                .map(str::to_string),
            spam: spam_score(job.message, self.settings.spam_certain),
            virus: None,
            now,
            utc_offset_minutes: 0,
        }
    }

    fn envelope(job: &Job<'_>) -> Envelope {
        Envelope {
            from: job.sender.to_string(),
            to: job.rcpt.to_string(),
            orig_to: job.orcpt.map(|orcpt| {
                orcpt
                    .split_once(';')
                    .map_or(orcpt, |(_, address)| address)
                    .to_string()
            }),
            auth: job.auth.map(str::to_string),
        }
    }

    /// Runs the scripts over `job.message` with `host` and adds their results up;
    /// `None` when there is no script to run (global or the account's), or when `needs`
    /// is given and no script's source contains that word (ASCII case-insensitive).
    fn evaluate_all<'h>(
        &self,
        job: &Job<'_>,
        env: &Environment,
        host_for: &mut dyn FnMut(bool) -> Box<dyn Host + 'h>,
        needs: Option<&str>,
    ) -> Option<(Plan, Vec<u8>)> {
        let user = match self.backend.active_script(&job.account.address) {
            Ok(found) => found.map(|(name, bytes)| (name, String::from_utf8(bytes))),
            Err(reason) => {
                emit_error(job, "", "load", &reason);
                None
            }
        };
        if user.is_none() && self.before.is_empty() && self.after.is_empty() {
            return None;
        }
        if let Some(word) = needs {
            let has = |source: &str| contains_ignore_case(source, word);
            let user_has = matches!(&user, Some((_, Ok(source))) if has(source));
            if !user_has
                && !self.before.iter().any(|g| has(&g.source))
                && !self.after.iter().any(|g| has(&g.source))
            {
                return None;
            }
        }
        let envelope = Self::envelope(job);
        let mut plan = Plan::default();
        let mut message: Option<Vec<u8>> = None;
        let may_run_programs = self.programs.is_some();
        let mut scripts: Vec<(String, Result<&str, String>, bool, String)> = Vec::new();
        for global in &self.before {
            scripts.push((
                global.label.clone(),
                Ok(&global.source),
                true,
                global.label.clone(),
            ));
        }
        if let Some((name, source)) = &user {
            let source = source
                .as_deref()
                .map_err(|_| "1:1: the script is not UTF-8".to_string());
            scripts.push((name.clone(), source, false, job.account.address.clone()));
        }
        for global in &self.after {
            scripts.push((
                global.label.clone(),
                Ok(&global.source),
                true,
                global.label.clone(),
            ));
        }
        for (label, source, global, owner) in scripts {
            let compiled = source.map(|source| {
                self.cache.get(
                    self.engine.as_ref(),
                    &owner,
                    &CompileRequest {
                        source,
                        global,
                        extprograms: may_run_programs && (global || self.settings.user_programs),
                        limits: &self.settings.limits,
                    },
                )
            });
            let evaluation: Result<Evaluation, String> = match compiled {
                Err(reason) => Err(reason),
                Ok(compiled) => match compiled.as_ref() {
                    Err(reason) => Err(reason.clone()),
                    Ok(script) => {
                        let mut host = host_for(global || self.settings.user_programs);
                        let input = message.as_deref().unwrap_or(job.message);
                        Ok(self
                            .engine
                            .evaluate(script, input, &envelope, env, host.as_mut()))
                    }
                },
            };
            let go_on = plan.absorb(&label, evaluation.as_ref().map_err(String::as_str));
            if let Ok(evaluation) = evaluation
                && go_on
                && let Some(edited) = evaluation.edited
            {
                message = Some(edited);
            }
            if !go_on {
                break;
            }
        }
        Some((
            plan.finish(job.junk),
            message.unwrap_or_else(|| job.message.to_vec()),
        ))
    }

    /// Runs the scripts for one delivery; `None` when there is none (deliver as usual).
    pub fn decide(&self, job: &Job<'_>) -> Option<Decision> {
        let started = Instant::now();
        let now = mailward_store::ids::unix_now();
        let env = self.environment(job, now);
        let backend = self.backend.as_ref();
        let programs = self.programs.as_ref();
        let mut host_for = |programs_allowed: bool| -> Box<dyn Host + '_> {
            Box::new(DeliveryHost {
                backend,
                account: job.account,
                now,
                programs: programs.filter(|_| programs_allowed),
                queue_id: job.queue_id,
            })
        };
        let (plan, message) = self.evaluate_all(job, &env, &mut host_for, None)?;
        for failure in &plan.failures {
            emit_error(job, &failure.script, failure.phase, &failure.reason);
        }
        let copies = self.copies(job, &plan.stores);
        let mut sendings = Vec::new();
        self.redirects(job, &plan, &message, &mut sendings);
        self.vacations(job, &env, &plan, now, &mut sendings);
        self.notifications(job, &env, &plan, &mut sendings);
        let labels = plan.labels();
        Scope::message(job.queue_id).emit(Event::SieveRun(SieveRun {
            account: job.account.address.as_str().into(),
            script: plan.scripts.join(",").into(),
            actions: labels.into(),
            steps: 0,
            us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        }));
        Some(Decision {
            message,
            copies,
            sendings,
            pipes: if self.programs.is_some() {
                plan.pipes
            } else {
                Vec::new()
            },
            reject: plan.reject,
        })
    }

    /// SMTP time: whether the scripts would refuse this message (RFC 5429 §2.1: reject
    /// at the protocol level when it can). Evaluated with a host that records nothing and
    /// runs nothing; a script that fails refuses nothing.
    pub fn would_reject(&self, job: &Job<'_>) -> Option<String> {
        let now = mailward_store::ids::unix_now();
        let env = self.environment(job, now);
        struct Silent;
        impl Host for Silent {}
        let mut host_for = |_: bool| -> Box<dyn Host + '_> { Box::new(Silent) };
        // Only scripts that can refuse are run here (no second evaluation of every
        // message at DATA for scripts without reject/ereject).
        let (plan, _) = self.evaluate_all(job, &env, &mut host_for, Some("reject"))?;
        if !plan.failures.is_empty() {
            return None;
        }
        plan.reject
    }

    /// Where each copy goes: `:specialuse` picks the folder with that attribute (RFC 8579
    /// §4), a folder that does not exist is created only with `:create` (RFC 5490 §3.2;
    /// the implicit keep always may), otherwise the copy goes to INBOX (Pigeonhole's
    /// behaviour) and that is logged.
    fn copies(&self, job: &Job<'_>, stores: &[StoreTarget]) -> Vec<Copy> {
        let mut copies: Vec<Copy> = Vec::new();
        for target in stores {
            let mut folder = target.folder.clone();
            if let Some(special_use) = &target.special_use
                && let Some(found) = self.backend.special_use_folder(job.account, special_use)
            {
                folder = found;
            }
            let valid = mailward_store::folder_name::canonical(&folder).is_ok();
            let exists = valid && self.backend.folder_exists(job.account, &folder);
            if !valid || !(exists || target.create || target.implicit) {
                refused(
                    job,
                    "fileinto",
                    &format!("folder {folder:?} does not exist; filed into INBOX"),
                );
                folder = "INBOX".into();
            }
            let mut flags = Flags::new();
            for flag in &target.flags {
                if flags.insert(flag).is_err() {
                    refused(job, "flags", &format!("flag {flag:?} not stored"));
                }
            }
            if !copies.iter().any(|copy| {
                copy.folder.eq_ignore_ascii_case(&folder)
                    && (folder.eq_ignore_ascii_case("INBOX") || copy.folder == folder)
            }) {
                copies.push(Copy { folder, flags });
            }
        }
        copies
    }

    fn redirects(&self, job: &Job<'_>, plan: &Plan, message: &[u8], out: &mut Vec<Sending>) {
        let envelope = Envelope {
            from: job.sender.to_string(),
            to: job.account.address.clone(),
            ..Envelope::default()
        };
        for (count, address) in plan.redirects.iter().enumerate() {
            // RFC 5228 §4.2: an implementation may limit the redirects of one message.
            if count >= self.settings.limits.max_redirects {
                refused(
                    job,
                    "redirect",
                    &format!("more than {} redirects", self.settings.limits.max_redirects),
                );
                break;
            }
            match redirect_message(message, &envelope, address) {
                Ok(outgoing) => out.push(Sending {
                    kind: SendKind::Redirect,
                    outgoing,
                }),
                Err(e) => refused(job, "redirect", &e.to_string()),
            }
        }
    }

    fn vacations(
        &self,
        job: &Job<'_>,
        env: &Environment,
        plan: &Plan,
        now: i64,
        out: &mut Vec<Sending>,
    ) {
        let envelope = Self::envelope(job);
        for action in &plan.vacations {
            let Some(request) = VacationRequest::from_action(action) else {
                continue;
            };
            let mut addresses = request.addresses.to_vec();
            addresses.push(job.account.address.clone());
            let request = VacationRequest {
                addresses: &addresses,
                ..request
            };
            let suppressed = |reason: &Suppressed| {
                Scope::message(job.queue_id).emit(Event::VacationSuppressed(VacationSuppressed {
                    account: job.account.address.as_str().into(),
                    to: request.to.into(),
                    reason: reason.reason().into(),
                }));
            };
            if sent_count(out) >= self.settings.limits.max_sent_messages {
                refused(job, "vacation", "too many messages sent by one run");
                continue;
            }
            let matched = match check_vacation(job.message, &envelope, &request) {
                Ok(matched) => matched,
                Err(reason) => {
                    suppressed(&reason);
                    continue;
                }
            };
            let period = self.settings.vacation.period(request.seconds);
            let key = vacation_key(request.to, request.handle);
            if self.backend.state_check(
                &job.account.address,
                SieveStateKind::Vacation,
                &key,
                period,
                false,
                now,
            ) {
                suppressed(&Suppressed::AlreadyReplied);
                continue;
            }
            out.push(Sending {
                kind: SendKind::Vacation,
                outgoing: vacation_reply(job.message, env, &request, &matched),
            });
        }
    }

    fn notifications(&self, job: &Job<'_>, env: &Environment, plan: &Plan, out: &mut Vec<Sending>) {
        let envelope = Self::envelope(job);
        for action in &plan.notifies {
            let Action::Notify {
                method,
                from,
                message,
                ..
            } = action
            else {
                continue;
            };
            if sent_count(out) >= self.settings.limits.max_sent_messages {
                refused(job, "notify", "too many messages sent by one run");
                continue;
            }
            match notify_message(
                job.message,
                &envelope,
                env,
                method,
                from.as_deref(),
                message.as_deref(),
                &job.account.address,
            ) {
                Ok(outgoing) => out.push(Sending {
                    kind: SendKind::Notify,
                    outgoing,
                }),
                Err(e) => refused(job, "notify", &e.to_string()),
            }
        }
    }

    /// Runs the `pipe` actions with the stored message on standard input.
    pub fn run_pipes(&self, job: &Job<'_>, decision: &Decision) {
        let Some(limits) = &self.programs else {
            return;
        };
        for (name, args) in &decision.pipes {
            let run = program::run(limits, name, args, Some(&decision.message));
            super::host::emit_program_run(
                job.queue_id,
                &job.account.address,
                mailward_sieve::ProgramKind::Pipe,
                name,
                &run,
            );
        }
    }
}

/// Whether `text` contains `word`, ASCII case-insensitively.
fn contains_ignore_case(text: &str, word: &str) -> bool {
    let word = word.as_bytes();
    !word.is_empty()
        && text
            .as_bytes()
            .windows(word.len())
            .any(|window| window.eq_ignore_ascii_case(word))
}

fn sent_count(out: &[Sending]) -> usize {
    out.iter()
        .filter(|sending| sending.kind != SendKind::Redirect)
        .count()
}

fn emit_error(job: &Job<'_>, script: &str, phase: &str, reason: &str) {
    Scope::message(job.queue_id).emit(Event::SieveError(SieveError {
        account: job.account.address.as_str().into(),
        script: script.into(),
        phase: phase.into(),
        reason: reason.into(),
    }));
}

fn refused(job: &Job<'_>, action: &str, reason: &str) {
    Scope::message(job.queue_id).emit(Event::SieveActionRefused(SieveActionRefused {
        account: job.account.address.as_str().into(),
        action: action.into(),
        reason: reason.into(),
    }));
}
