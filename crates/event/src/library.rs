//! Lines that libraries log (through `tracing`, or `log` bridged into it) written in the
//! catalogue's shape, as `library` events, with the session they belong to.
//!
//! A connection's task runs inside [`in_session`], so a line a library writes while it
//! serves that connection (rustls during a handshake) carries the connection's
//! `protocol`, `session` and `remote_ip`.

use crate::catalogue::{Event, Library};
use crate::scope::Scope;
use crate::sink::{self, Level};
use std::fmt::Write as _;
use std::future::Future;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::Context;

tokio::task_local! {
    static SESSION: Scope<'static>;
}

/// Runs `fut` (a connection's task) with `scope` as the scope of library lines.
pub async fn in_session<F: Future>(scope: Scope<'static>, fut: F) -> F::Output {
    SESSION.scope(scope, fut).await
}

/// A `tracing` layer that writes every event it sees as a `library` event.
#[derive(Debug, Default, Clone, Copy)]
pub struct LibraryLayer;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for LibraryLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let level = match *event.metadata().level() {
            tracing::Level::ERROR => Level::Error,
            tracing::Level::WARN => Level::Warn,
            tracing::Level::INFO => Level::Info,
            tracing::Level::DEBUG => Level::Debug,
            tracing::Level::TRACE => Level::Trace,
        };
        if !sink::installed(level) {
            return;
        }
        let mut message = Message::default();
        event.record(&mut message);
        // Lines bridged from the `log` crate name their module in `log.target`.
        let target = message
            .log_target
            .take()
            .unwrap_or_else(|| event.metadata().target().to_owned());
        let lib = Event::Library(Library {
            target: target.into(),
            message: message.text.into(),
            level,
        });
        let write = |scope: &Scope<'_>| sink::write(level, scope, &lib);
        if SESSION.try_with(|s| write(s)).is_err() {
            write(&Scope::service());
        }
    }
}

/// The text of a `tracing` event: its message, then any other fields as `name=value`.
#[derive(Default)]
struct Message {
    text: String,
    log_target: Option<String>,
}

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "log.target" => self.log_target = Some(value.to_owned()),
            "log.module_path" | "log.file" => {}
            "message" => self.push("", value),
            name => self.push(name, value),
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "log.target" | "log.module_path" | "log.file" | "log.line" => {}
            "message" => self.push("", &format!("{value:?}")),
            name => self.push(name, &format!("{value:?}")),
        }
    }
}

impl Message {
    fn push(&mut self, name: &str, value: &str) {
        if !self.text.is_empty() {
            self.text.push(' ');
        }
        if !name.is_empty() {
            let _ = write!(self.text, "{name}=");
        }
        self.text.push_str(value);
    }
}
