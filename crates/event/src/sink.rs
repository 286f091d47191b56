//! Where events go: one process-wide sink, JSON lines to a file or to standard output, or
//! short readable lines when standard output is a terminal.

use crate::catalogue::Event;
use crate::human;
use crate::scope::Scope;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

/// How severe an event is; the `level` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Error,
    Warn,
    #[default]
    Info,
    Debug,
    Trace,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "ERROR",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Debug => "DEBUG",
            Level::Trace => "TRACE",
        }
    }

    /// `error`, `warn`, `info`, `debug`, `trace` (any case); `None` for anything else.
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s.to_ascii_lowercase().as_str() {
            "error" => Level::Error,
            "warn" | "warning" => Level::Warn,
            "info" => Level::Info,
            "debug" => Level::Debug,
            "trace" => Level::Trace,
            _ => return None,
        })
    }
}

/// The shape of the lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line (`docs/log-format.md`): files, pipes, journald.
    Json,
    /// `12:00:01 INFO connect smtp s7Q2xK 127.0.0.1 listener=smtp`: a person at a terminal.
    Human,
}

/// The process-wide destination of events.
pub struct Sink {
    out: Mutex<Box<dyn Write + Send>>,
    format: Format,
    max_level: Level,
}

impl Sink {
    /// Events at `max_level` or more severe are written to `out` in `format`.
    pub fn new(out: Box<dyn Write + Send>, format: Format, max_level: Level) -> Self {
        Sink {
            out: Mutex::new(out),
            format,
            max_level,
        }
    }
}

static SINK: OnceLock<Sink> = OnceLock::new();

/// Installs the sink for the rest of the process; `false` if one was installed already.
pub fn install(sink: Sink) -> bool {
    SINK.set(sink).is_ok()
}

/// Whether events at `level` are written at all.
pub fn installed(level: Level) -> bool {
    SINK.get().is_some_and(|s| level <= s.max_level)
}

thread_local! {
    static LINE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

pub(crate) fn write(level: Level, scope: &Scope<'_>, event: &Event<'_>) {
    let Some(sink) = SINK.get() else { return };
    if level > sink.max_level {
        return;
    }
    LINE.with_borrow_mut(|line| {
        line.clear();
        match sink.format {
            Format::Json => json_line(line, level, scope, event),
            Format::Human => human::line(line, level, scope, event),
        }
        let mut out = sink.out.lock().unwrap_or_else(|e| e.into_inner());
        // A log that cannot be written must not stop mail; the error has nowhere to go.
        let _ = out.write_all(line);
        let _ = out.flush();
    });
}

/// One event as its JSON line (with the newline), as the sink writes it.
pub fn json_line_string(level: Level, scope: &Scope<'_>, event: &Event<'_>) -> String {
    let mut line = Vec::new();
    json_line(&mut line, level, scope, event);
    String::from_utf8_lossy(&line).into_owned()
}

/// `{"timestamp":…,"level":…,"event":…,` then the scope's fields, then the event's own.
fn json_line(line: &mut Vec<u8>, level: Level, scope: &Scope<'_>, event: &Event<'_>) {
    let now = chrono::Utc::now();
    let _ = write!(
        line,
        "{{\"timestamp\":\"{}\",\"level\":\"{}\",",
        now.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
        level.as_str()
    );
    SCRATCH.with_borrow_mut(|ev| {
        ev.clear();
        if serde_json::to_writer(&mut *ev, event).is_err() {
            ev.clear();
            ev.extend_from_slice(b"{\"event\":\"unserializable\"}");
        }
        // `{"event":"name"` comes first (the tag of an internally tagged enum); the scope's
        // fields go right after it, the event's own after them.
        let head = 1 + "\"event\":\"".len() + event.name().len() + 1;
        let tagged = ev
            .get(1..head)
            .is_some_and(|h| h.starts_with(b"\"event\":\""));
        if tagged {
            line.extend_from_slice(ev.get(1..head).unwrap_or_default());
            scope_fields(line, scope, true);
            line.extend_from_slice(ev.get(head..).unwrap_or(b"}"));
        } else {
            // Never expected: name the event, then the scope, then the object's fields.
            let _ = write!(line, "\"event\":\"{}\"", event.name());
            scope_fields(line, scope, true);
            match ev.get(1..) {
                Some(b"}") | None => line.push(b'}'),
                Some(rest) => {
                    line.push(b',');
                    line.extend_from_slice(rest);
                }
            }
        }
    });
    line.push(b'\n');
}

fn scope_fields(line: &mut Vec<u8>, scope: &Scope<'_>, leading_comma: bool) {
    let mut first = !leading_comma;
    let mut field = |line: &mut Vec<u8>, name: &str, value: &str| {
        if !first {
            line.push(b',');
        }
        first = false;
        line.push(b'"');
        line.extend_from_slice(name.as_bytes());
        line.extend_from_slice(b"\":");
        let _ = serde_json::to_writer(&mut *line, value);
    };
    if let Some(p) = scope.protocol {
        field(line, "protocol", p.as_str());
    }
    if let Some(s) = &scope.session {
        field(line, "session", s);
    }
    if let Some(ip) = scope.remote_ip {
        field(line, "remote_ip", &ip.to_string());
    }
    if let Some(q) = &scope.queue_id {
        field(line, "queue_id", q);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{Connect, NoFields};
    use crate::scope::Protocol;
    use std::net::IpAddr;

    #[test]
    fn scope_fields_follow_the_event_name() {
        let scope = Scope::connection(Protocol::Smtp, "s1", IpAddr::from([127, 0, 0, 1]));
        let line = json_line_string(
            Level::Info,
            &scope,
            &Event::Connect(Connect {
                listener: "smtp".into(),
                remote_port: 2525,
            }),
        );
        let tail = line.split_once("\"level\":\"INFO\",").map(|x| x.1);
        assert_eq!(
            tail,
            Some(
                "\"event\":\"connect\",\"protocol\":\"smtp\",\"session\":\"s1\",\"remote_ip\":\"127.0.0.1\",\"listener\":\"smtp\",\"remote_port\":2525}\n"
            )
        );
    }

    #[test]
    fn an_event_without_fields_and_scope_is_valid_json() {
        let line = json_line_string(
            Level::Info,
            &Scope::service(),
            &Event::Stopping(NoFields {}),
        );
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        assert_eq!(v["event"], "stopping");
        assert_eq!(v["level"], "INFO");
    }
}
