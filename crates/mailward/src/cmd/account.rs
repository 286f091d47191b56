//! `mailward account add|list|passwd|del|quota`: mail accounts (argon2 hashes; Dovecot
//! `{SHA512-CRYPT}` hashes can be imported with `--password-hash`).

use crate::config;
use anyhow::{Context, bail};
use mailward_store::{DataDir, Store, directory, password};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct AccountArgs {
    #[command(subcommand)]
    command: AccountCommand,
}

#[derive(Debug, clap::Subcommand)]
enum AccountCommand {
    /// Create an account. Without --password-stdin or --password-hash a random password is
    /// made and printed once.
    Add {
        address: String,
        /// Read the password from standard input (first line).
        #[arg(long)]
        password_stdin: bool,
        /// Use an existing hash (argon2 PHC string or Dovecot `{SHA512-CRYPT}$6$...`).
        #[arg(long, conflicts_with = "password_stdin")]
        password_hash: Option<String>,
        /// Mailbox quota, e.g. 500M or 2G (default: unlimited).
        #[arg(long)]
        quota: Option<String>,
    },
    /// List accounts with quota and usage.
    List {
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Set a new password.
    Passwd {
        address: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change the quota (`none` removes it).
    Quota { address: String, size: String },
    /// Delete an account (its Maildir is left on disk).
    Del { address: String },
}

pub fn open_store(
    config_path: Option<&std::path::Path>,
) -> anyhow::Result<(config::Loaded, Arc<Store>)> {
    let loaded = config::load(config_path)?;
    let dir = DataDir::new(loaded.data_dir());
    let store = Store::open(
        dir.clone(),
        &loaded.domains(),
        &loaded.config.server.hostname,
    )
    .with_context(|| format!("{}: cannot open the data directory", dir.root().display()))?;
    Ok((loaded, store))
}

fn read_password() -> anyhow::Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .context("cannot read the password from stdin")?;
    let p = s.lines().next().unwrap_or("").to_string();
    if p.is_empty() {
        bail!("empty password on stdin");
    }
    Ok(p)
}

fn random_password() -> String {
    mailward_store::ids::session_id()
        + &mailward_store::ids::session_id()
        + &mailward_store::ids::session_id()
}

fn parse_quota(s: &str) -> anyhow::Result<Option<u64>> {
    if s.eq_ignore_ascii_case("none") || s == "0" {
        return Ok(None);
    }
    config::parse_size(s).map(Some).map_err(anyhow::Error::msg)
}

fn human(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1}G", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1}M", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1}K", n as f64 / 1024.0),
        n => format!("{n}"),
    }
}

pub fn run(config_path: Option<PathBuf>, args: AccountArgs) -> anyhow::Result<ExitCode> {
    let (loaded, store) = open_store(config_path.as_deref())?;
    let conn = store.conn();
    match args.command {
        AccountCommand::Add {
            address,
            password_stdin,
            password_hash,
            quota,
        } => {
            let quota = quota.as_deref().map(parse_quota).transpose()?.flatten();
            // Refuse a bad address or a foreign domain before asking for a password.
            let (_, domain) = directory::validate_address(&address)?;
            if !directory::is_local_domain(&conn, &domain)? {
                return Err(mailward_store::StoreError::UnknownDomain(domain).into());
            }
            let (hash, shown) = match (password_stdin, password_hash) {
                (_, Some(h)) => {
                    if !password::is_supported_hash(&h) {
                        bail!(
                            "unsupported hash: use an argon2 PHC string or {{SHA512-CRYPT}}$6$..."
                        );
                    }
                    (h, None)
                }
                (true, None) => (password::hash(&read_password()?)?, None),
                (false, None) => {
                    let p = random_password();
                    (password::hash(&p)?, Some(p))
                }
            };
            let acct = directory::add_account(&conn, &address, &hash, quota)?;
            let maildir = loaded
                .data_dir()
                .join("mail")
                .join(&acct.domain)
                .join(&acct.local)
                .join("Maildir");
            println!("added {} (Maildir {})", acct.address, maildir.display());
            if let Some(p) = shown {
                println!("password: {p}");
            }
        }
        AccountCommand::List { json } => {
            for a in directory::list_accounts(&conn)? {
                if json {
                    println!("{}", serde_json::to_string(&a)?);
                } else {
                    let quota = a.quota.map(human).unwrap_or_else(|| "-".into());
                    println!(
                        "{:<40} used {:>8}  quota {:>8}",
                        a.address,
                        human(a.used),
                        quota
                    );
                }
            }
        }
        AccountCommand::Passwd {
            address,
            password_stdin,
        } => {
            let p = if password_stdin {
                read_password()?
            } else {
                random_password()
            };
            directory::set_password(&conn, &address, &password::hash(&p)?)?;
            println!("password changed for {}", address.to_ascii_lowercase());
            if !password_stdin {
                println!("password: {p}");
            }
        }
        AccountCommand::Quota { address, size } => {
            directory::set_quota(&conn, &address, parse_quota(&size)?)?;
            println!("quota of {} set to {size}", address.to_ascii_lowercase());
        }
        AccountCommand::Del { address } => {
            let a = directory::delete_account(&conn, &address)?;
            println!(
                "deleted {} (its Maildir stays in {})",
                a.address,
                loaded
                    .data_dir()
                    .join("mail")
                    .join(&a.domain)
                    .join(&a.local)
                    .display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
