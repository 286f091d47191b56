//! Short readable lines for a person at a terminal:
//! `10:02:11 INFO  connect smtp s7Q2xK 127.0.0.1 listener=smtp remote_port=40112`.

use crate::catalogue::Event;
use crate::scope::Scope;
use crate::sink::Level;
use std::io::Write;

pub(crate) fn line(out: &mut Vec<u8>, level: Level, scope: &Scope<'_>, event: &Event<'_>) {
    let now = chrono::Local::now();
    let _ = write!(
        out,
        "{} {:<5} {}",
        now.format("%H:%M:%S"),
        level.as_str(),
        event.name()
    );
    if let Some(p) = scope.protocol {
        let _ = write!(out, " {}", p.as_str());
    }
    if let Some(s) = &scope.session {
        let _ = write!(out, " {s}");
    }
    if let Some(ip) = scope.remote_ip {
        let _ = write!(out, " {ip}");
    }
    if let Some(q) = &scope.queue_id {
        let _ = write!(out, " {q}");
    }
    if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(event) {
        for (k, v) in fields.iter().filter(|(k, _)| *k != "event") {
            match v {
                serde_json::Value::String(s) if !s.is_empty() && !s.contains([' ', '"']) => {
                    let _ = write!(out, " {k}={s}");
                }
                serde_json::Value::String(s) => {
                    let _ = write!(out, " {k}={s:?}");
                }
                other => {
                    let _ = write!(out, " {k}={other}");
                }
            }
        }
    }
    out.push(b'\n');
}
