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
                serde_json::Value::String(s)
                    if !s.is_empty()
                        && !s.chars().any(|c| c == ' ' || c == '"' || c.is_control()) =>
                {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{AuthFailed, Connect};
    use crate::scope::Protocol;
    use std::net::IpAddr;

    fn text(scope: &Scope<'_>, event: &Event<'_>) -> String {
        let mut out = Vec::new();
        line(&mut out, Level::Info, scope, event);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn a_readable_line_names_the_event_its_connection_and_its_fields() {
        let scope = Scope::connection(Protocol::Smtp, "s7Q2xK", IpAddr::from([127, 0, 0, 1]));
        let l = text(
            &scope,
            &Event::Connect(Connect {
                listener: "smtp".into(),
                remote_port: 40112,
            }),
        );
        assert!(
            l.ends_with(" INFO  connect smtp s7Q2xK 127.0.0.1 listener=smtp remote_port=40112\n"),
            "{l}"
        );
    }

    #[test]
    fn text_with_spaces_is_quoted_and_one_line() {
        let scope = Scope::connection(Protocol::Imap, "a", IpAddr::from([192, 0, 2, 1]));
        let l = text(
            &scope,
            &Event::AuthFailed(AuthFailed {
                user: "x\ny".into(),
                mechanism: "PLAIN".into(),
                reason: "invalid credentials".into(),
                failures: Some(2),
            }),
        );
        assert!(l.contains(r#"reason="invalid credentials""#), "{l}");
        assert!(l.contains(r#"user="x\ny""#), "{l}");
        assert_eq!(l.matches('\n').count(), 1, "{l}");
    }
}
