//! RFC 5183 environment items.

use crate::eval::Run;

/// The value of an environment item (RFC 5183 §4), `None` for one we do not know.
pub fn item(run: &Run<'_>, name: &str) -> Option<String> {
    let env = run.env;
    Some(match name.to_ascii_lowercase().as_str() {
        "domain" => env.domain.clone(),
        "host" => env.host.clone(),
        "location" => env.location.clone(),
        "name" => env.name.clone(),
        "phase" => env.phase.clone(),
        "version" => env.version.clone(),
        "remote-host" => env.remote_host.clone()?,
        "remote-ip" => env.remote_ip.clone()?,
        _ => return None,
    })
}
