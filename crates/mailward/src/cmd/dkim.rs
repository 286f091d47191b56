//! `mailward dkim keygen DOMAIN [--selector S] [--algorithm rsa|ed25519]`: a new DKIM
//! signing key in `<data_dir>/dkim/<domain>/<selector>.pem` and the DNS record to publish
//! for it (RFC 6376 §3.6, RFC 8463 §4).

use crate::config;
use anyhow::Context;
use mailward_auth::dkim::{self, DkimKey, KeyAlgorithm};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct DkimArgs {
    #[command(subcommand)]
    command: DkimCommand,
}

#[derive(Debug, clap::Subcommand)]
enum DkimCommand {
    /// Make a signing key for DOMAIN and print the TXT record to publish. The server loads
    /// keys at start: publish the record, then restart it. An existing key is never
    /// replaced; rotate by making a key with a new selector (the newest key signs).
    Keygen {
        /// The domain of the From addresses to sign (exactly: a subdomain needs its own key).
        domain: String,
        /// The selector, the first label of the DNS name (default: this year and month,
        /// e.g. 202612).
        #[arg(long)]
        selector: Option<String>,
        /// rsa (RSA-2048, made with `openssl genpkey`, read by every verifier) or ed25519
        /// (RFC 8463; sign with both for verifiers that lack it).
        #[arg(long, default_value = "rsa", value_parser = ["rsa", "ed25519"])]
        algorithm: String,
    },
}

pub fn run(config_path: Option<PathBuf>, args: DkimArgs) -> anyhow::Result<ExitCode> {
    let loaded = config::load(config_path.as_deref())?;
    let dir = dkim::key_dir(&loaded.data_dir());
    match args.command {
        DkimCommand::Keygen {
            domain,
            selector,
            algorithm,
        } => {
            let algorithm: KeyAlgorithm = algorithm.parse().map_err(anyhow::Error::msg)?;
            let domain = domain.trim_end_matches('.').to_ascii_lowercase();
            let selector = selector.unwrap_or_else(this_month);
            dkim::validate_domain(&domain)?;
            dkim::validate_selector(&selector)?;
            // Before the (slow) RSA generation: never over a key that may be published.
            let path = dkim::key_path(&dir, &domain, &selector);
            if path.exists() {
                return Err(dkim::DkimError::KeyExists(path).into());
            }
            if !loaded
                .domains()
                .iter()
                .any(|d| d.eq_ignore_ascii_case(&domain))
            {
                eprintln!(
                    "note: {domain} is not one of the configured [[domains]]; mail From it is \
                     signed all the same"
                );
            }
            let pem = dkim::keygen::generate(algorithm)?;
            let path = dkim::store_new_key(&dir, &domain, &selector, &pem)?;
            // Read back as the server will read it: the record comes from the stored key.
            let key = DkimKey::load(&path)
                .with_context(|| format!("{}: the new key does not load", path.display()))?;
            print_record(&key);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_record(key: &DkimKey) {
    let name = key.dns_name();
    let record = key.txt_record();
    println!(
        "DKIM key written: {} ({})",
        key.path().display(),
        key.algorithm()
    );
    println!(
        "Publish this TXT record, then restart mailward to sign mail from {} with it.",
        key.domain()
    );
    println!();
    println!("Name:   {name}");
    println!("Value:  {record}");
    println!();
    println!("Zone file (TXT strings of at most 255 octets):");
    println!("{name}. IN TXT {}", dkim::zone_file_strings(&record));
}

/// The default selector: this year and month in UTC, e.g. `202612`, so a rotation makes a
/// new name and the names sort by age.
fn this_month() -> String {
    let days = mailward_store::ids::unix_now().div_euclid(86_400);
    let (year, month, _) = mailward_message::datetime::civil_from_days(days);
    format!("{year:04}{month:02}")
}
