//! The security gateway at the SMTP server (issue 17): every message is inspected
//! ([`mailward_filter::Gateway`]) after the mail-authentication checks and before it is
//! queued, and its verdict decides what happens:
//! - `reject` → `554 5.7.1` with the reason, nothing queued;
//! - `tempfail` → `451 4.7.1` (clamd down, fail closed), nothing queued;
//! - `quarantine` → the message (with the fields it would have had) is kept in the
//!   quarantine, durably, and the sender is told `250`: it was accepted, and is held;
//! - `modify` → the original is kept in the quarantine, the disarmed message is queued;
//! - `junk` → queued for the recipients' Junk folder;
//! - `accept`, `tag` → queued with the `X-Mailward-*` fields.

use crate::Reply;
use crate::session::{EnqueueOutcome, Submission};
use mailward_event::{Event, Quarantined, Scope};
use mailward_filter::context::AuthVerdicts;
use mailward_filter::quarantine::{Held, HeldKind};
use mailward_filter::{Action, Context, Gateway, Inspection};
use std::sync::Arc;

/// What the server does with a message after the gateway.
pub enum Screened {
    /// Queue it: with `fields` below the authentication fields, as `message` when the
    /// gateway changed it, into Junk when `junk` says why.
    Queue {
        fields: String,
        message: Option<Vec<u8>>,
        junk: Option<String>,
    },
    /// Held in quarantine, durably: answer `250` with the queue ID.
    Held,
    /// Refused or deferred: the reply.
    Refused(EnqueueOutcome),
}

/// The message being screened, as it would be queued: our `Received:`, the
/// authentication fields, then the message as received.
pub struct Arrival<'a> {
    pub queue_id: &'a str,
    pub arrived: i64,
    pub received: &'a [u8],
    pub auth_fields: &'a str,
    pub message: &'a [u8],
    pub auth: Option<AuthVerdicts>,
}

/// Runs `gateway` on `arrival` of `sub` and carries out what the verdict needs before the
/// reply (the quarantine writes).
pub async fn screen(
    gateway: &Arc<Gateway>,
    sub: &Submission,
    arrival: Arrival<'_>,
    scope: &Scope<'_>,
) -> Screened {
    let rcpts: Vec<String> = sub.rcpts.iter().map(|r| r.address.clone()).collect();
    let ctx = Context {
        queue_id: arrival.queue_id,
        client_ip: sub.remote_ip.to_canonical(),
        helo: &sub.helo,
        mail_from: &sub.from,
        rcpts: &rcpts,
        auth_user: sub.auth_user.as_deref(),
        auth: arrival.auth.clone(),
    };
    let inspection = gateway.inspect(&ctx, arrival.message, scope).await;
    let reason = inspection.reason();
    match inspection.verdict.action {
        Action::Reject => Screened::Refused(EnqueueOutcome::Refused {
            reply: Reply::content_refused(&reason),
            reason,
        }),
        Action::TempFail => Screened::Refused(EnqueueOutcome::Refused {
            reply: Reply::content_tempfail(&reason),
            reason,
        }),
        Action::Quarantine => {
            let whole = assemble(&arrival, &inspection);
            let held = record(sub, &arrival, &inspection, HeldKind::Held, whole.len());
            match keep(gateway, held, whole, scope).await {
                Ok(()) => Screened::Held,
                Err(e) => Screened::Refused(EnqueueOutcome::TempFail(e)),
            }
        }
        action => {
            if action == Action::Modify {
                // The original as it arrived, with what it would have carried unmodified.
                let mut original = Vec::with_capacity(
                    arrival.received.len() + arrival.auth_fields.len() + arrival.message.len(),
                );
                original.extend_from_slice(arrival.received);
                original.extend_from_slice(arrival.auth_fields.as_bytes());
                original.extend_from_slice(arrival.message);
                let held = record(
                    sub,
                    &arrival,
                    &inspection,
                    HeldKind::DisarmedOriginal,
                    original.len(),
                );
                if let Err(e) = keep(gateway, held, original, scope).await {
                    return Screened::Refused(EnqueueOutcome::TempFail(e));
                }
            }
            let junk = (action == Action::Junk).then_some(reason);
            Screened::Queue {
                fields: inspection.fields,
                message: inspection.message,
                junk,
            }
        }
    }
}

/// The message as it would have been queued: `Received:`, the authentication fields, the
/// gateway's fields, the message (disarmed or stripped when the gateway changed it).
fn assemble(arrival: &Arrival<'_>, inspection: &Inspection) -> Vec<u8> {
    let message = inspection.message.as_deref().unwrap_or(arrival.message);
    let mut whole = Vec::with_capacity(
        arrival.received.len()
            + arrival.auth_fields.len()
            + inspection.fields.len()
            + message.len(),
    );
    whole.extend_from_slice(arrival.received);
    whole.extend_from_slice(arrival.auth_fields.as_bytes());
    whole.extend_from_slice(inspection.fields.as_bytes());
    whole.extend_from_slice(message);
    whole
}

fn record(
    sub: &Submission,
    arrival: &Arrival<'_>,
    inspection: &Inspection,
    kind: HeldKind,
    size: usize,
) -> Held {
    let (check, code) = match &inspection.verdict.reason {
        Some(f) => (f.check, f.code.clone()),
        // A disarmed message's reason is its first removal.
        None => inspection
            .findings
            .first()
            .map(|f| (f.check, f.code.clone()))
            .unwrap_or((mailward_filter::Check::Disarm, String::new())),
    };
    let reason = match kind {
        HeldKind::Held => inspection.reason(),
        HeldKind::DisarmedOriginal => inspection
            .findings
            .iter()
            .filter(|f| f.action == Action::Modify)
            .map(|f| f.detail.as_str())
            .collect::<Vec<_>>()
            .join("; "),
    };
    Held {
        id: arrival.queue_id.to_owned(),
        kind,
        arrived: arrival.arrived,
        sender: sub.from.clone(),
        rcpts: sub.rcpts.iter().map(|r| r.address.clone()).collect(),
        check,
        action: inspection.verdict.action,
        code,
        reason,
        client_ip: sub.remote_ip.to_canonical().to_string(),
        helo: sub.helo.clone(),
        auth_user: sub.auth_user.clone(),
        subject: inspection.subject.clone(),
        size: size as u64,
        released: None,
    }
}

/// Writes `held` and `message` into the quarantine (off the async threads) and logs it.
async fn keep(
    gateway: &Arc<Gateway>,
    held: Held,
    message: Vec<u8>,
    scope: &Scope<'_>,
) -> Result<(), String> {
    let quarantine = gateway.quarantine().clone();
    let kind = held.kind;
    let reason = held.reason.clone();
    tokio::task::spawn_blocking(move || quarantine.put(&held, &message))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    scope.emit(Event::Quarantined(Quarantined {
        kind: match kind {
            HeldKind::Held => "held".into(),
            HeldKind::DisarmedOriginal => "disarmed_original".into(),
        },
        reason: reason.into(),
    }));
    Ok(())
}
