//! DKIM private keys on disk: `<dir>/<domain>/<selector>.pem`, read (every key of every
//! domain at start) and written (a new key, never over an old one).

use super::DkimError;
use super::der::{Pkcs8Algorithm, pkcs8_algorithm, rsa_subject_public_key_info};
use mail_auth::common::crypto::{DkimKey as MailAuthKey, Ed25519Key, RsaKey, Sha256};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A key file larger than this is not a key (an RSA-4096 PEM is about 3.3 KB).
const MAX_KEY_FILE: u64 = 64 * 1024;

/// The signing algorithm a key is for (RFC 6376 §3.3.1 `rsa-sha256`, RFC 8463 §3
/// `ed25519-sha256`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyAlgorithm {
    Rsa,
    Ed25519,
}

impl KeyAlgorithm {
    /// The `k=` tag value of the DNS record (RFC 6376 §3.6.1, RFC 8463 §4.2).
    pub fn key_type(self) -> &'static str {
        match self {
            KeyAlgorithm::Rsa => "rsa",
            KeyAlgorithm::Ed25519 => "ed25519",
        }
    }
}

impl std::fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key_type())
    }
}

impl std::str::FromStr for KeyAlgorithm {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "rsa" => Ok(KeyAlgorithm::Rsa),
            "ed25519" => Ok(KeyAlgorithm::Ed25519),
            _ => Err(format!("{s:?}: the algorithm is rsa or ed25519")),
        }
    }
}

/// One loaded key: where it signs (`d=`, `s=`), with what, and its public half.
pub struct DkimKey {
    domain: String,
    selector: String,
    path: PathBuf,
    modified: SystemTime,
    algorithm: KeyAlgorithm,
    /// The `p=` bytes: a SubjectPublicKeyInfo for RSA (RFC 6376 §3.6.1), the 32-byte
    /// public key for Ed25519 (RFC 8463 §4.2).
    public_key: Vec<u8>,
    /// The private key, in the form `mail-auth` signs with.
    pub(crate) signing: MailAuthKey,
}

impl std::fmt::Debug for DkimKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the private key.
        f.debug_struct("DkimKey")
            .field("domain", &self.domain)
            .field("selector", &self.selector)
            .field("algorithm", &self.algorithm)
            .field("path", &self.path)
            .finish()
    }
}

impl DkimKey {
    /// Reads `<dir>/<domain>/<selector>.pem`: the domain is the name of the folder, the
    /// selector the file's name without `.pem`, the algorithm the key's own.
    pub fn load(path: &Path) -> Result<DkimKey, DkimError> {
        let bad = |reason: String| DkimError::BadKey {
            path: path.to_path_buf(),
            reason,
        };
        let selector = path
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or_else(|| bad("the file name is not a selector".into()))?;
        validate_selector(selector).map_err(|e| bad(e.to_string()))?;
        let domain = path
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|s| s.to_str())
            .ok_or_else(|| bad("the folder name is not a domain".into()))?
            .to_ascii_lowercase();
        validate_domain(&domain).map_err(|e| bad(format!("the folder name: {e}")))?;
        let io = |source| DkimError::Io {
            path: path.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        if meta.len() > MAX_KEY_FILE {
            return Err(bad(format!("{} bytes: too large for a key", meta.len())));
        }
        let modified = meta.modified().map_err(io)?;
        let pem = std::fs::read(path).map_err(io)?;
        let (algorithm, signing, public_key) = parse_pem(&pem).map_err(bad)?;
        Ok(DkimKey {
            domain,
            selector: selector.to_string(),
            path: path.to_path_buf(),
            modified,
            algorithm,
            public_key,
            signing,
        })
    }

    /// The signing domain (`d=`), lower case.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The selector (`s=`).
    pub fn selector(&self) -> &str {
        &self.selector
    }

    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The file the key was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// When the key file was last written (the newest key of an algorithm signs).
    pub fn modified(&self) -> SystemTime {
        self.modified
    }

    /// The public key as `p=` carries it, before base64.
    pub fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    /// Where the public key is published: `<selector>._domainkey.<domain>` (RFC 6376 §3.6.2.1).
    pub fn dns_name(&self) -> String {
        super::dns_name(&self.selector, &self.domain)
    }

    /// The TXT record to publish there: `v=DKIM1; k=...; p=...` (RFC 6376 §3.6.1).
    pub fn txt_record(&self) -> String {
        super::txt_record(self.algorithm, &self.public_key)
    }
}

type ParsedKey = (KeyAlgorithm, MailAuthKey, Vec<u8>);

/// A PEM private key: PKCS#8 (RSA or Ed25519, RFC 5208, RFC 8410 §7) or PKCS#1 RSA.
fn parse_pem(pem: &[u8]) -> Result<ParsedKey, String> {
    let der =
        PrivateKeyDer::from_pem_slice(pem).map_err(|e| format!("not a PEM private key ({e})"))?;
    let algorithm = match &der {
        PrivateKeyDer::Pkcs8(p8) => match pkcs8_algorithm(p8.secret_pkcs8_der()) {
            Some(Pkcs8Algorithm::Rsa) => KeyAlgorithm::Rsa,
            Some(Pkcs8Algorithm::Ed25519) => KeyAlgorithm::Ed25519,
            Some(Pkcs8Algorithm::Other) => {
                return Err("not an RSA or Ed25519 key (the algorithms DKIM signs with)".into());
            }
            None => return Err("a damaged PKCS#8 key".into()),
        },
        PrivateKeyDer::Pkcs1(_) => KeyAlgorithm::Rsa,
        _ => return Err("not an RSA or Ed25519 key (the algorithms DKIM signs with)".into()),
    };
    match algorithm {
        KeyAlgorithm::Rsa => {
            // ring takes RSA keys of 2048 to 4096 bits: RFC 8301 §3.2 asks signers for at
            // least 1024 and recommends 2048.
            let key = RsaKey::<Sha256>::from_key_der(der)
                .map_err(|e| format!("unusable RSA key (2048 to 4096 bits are taken): {e}"))?;
            let spki = rsa_subject_public_key_info(&key.public_key());
            Ok((KeyAlgorithm::Rsa, MailAuthKey::Rsa(key), spki))
        }
        KeyAlgorithm::Ed25519 => {
            let PrivateKeyDer::Pkcs8(p8) = &der else {
                return Err("an Ed25519 key must be PKCS#8".into());
            };
            // `maybe_unchecked`: also PKCS#8 v1 without the public key, as `openssl genpkey`
            // writes it (RFC 8410 §7).
            let key = Ed25519Key::from_pkcs8_maybe_unchecked_der(p8.secret_pkcs8_der())
                .map_err(|e| format!("unusable Ed25519 key: {e}"))?;
            let public = key.public_key();
            Ok((KeyAlgorithm::Ed25519, MailAuthKey::Ed25519(key), public))
        }
    }
}

/// Every key under `dir` (`<dir>/<domain>/<selector>.pem`), sorted by domain and selector.
/// A missing `dir` holds no keys. Names starting with `.` and files not ending in `.pem`
/// are not keys and are passed over; a `.pem` file that is not a usable key is an error
/// naming it.
pub(crate) fn load_all(dir: &Path) -> Result<Vec<DkimKey>, DkimError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DkimError::Io { path, source }
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(dir)(e)),
    };
    let mut keys = Vec::new();
    for domain_dir in sorted_entries(entries, dir)? {
        if is_hidden(&domain_dir) || !domain_dir.is_dir() {
            continue;
        }
        let files = std::fs::read_dir(&domain_dir).map_err(io(&domain_dir))?;
        for file in sorted_entries(files, &domain_dir)? {
            if is_hidden(&file) || file.extension().is_none_or(|e| e != "pem") {
                continue;
            }
            keys.push(DkimKey::load(&file)?);
        }
    }
    Ok(keys)
}

fn sorted_entries(entries: std::fs::ReadDir, dir: &Path) -> Result<Vec<PathBuf>, DkimError> {
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| DkimError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        paths.push(entry.path());
    }
    paths.sort();
    Ok(paths)
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_none_or(|n| n.starts_with('.'))
}

/// The key directory of a data directory: `<data_dir>/dkim`.
pub fn key_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("dkim")
}

/// Where the key of `domain` and `selector` lives under the key directory `dir`.
pub fn key_path(dir: &Path, domain: &str, selector: &str) -> PathBuf {
    dir.join(domain.to_ascii_lowercase())
        .join(format!("{selector}.pem"))
}

/// Writes a new key file (mode 0600, its folder 0700), synced, and returns its path. An
/// existing key is never replaced: its selector may be published and signing.
pub fn store_new_key(
    dir: &Path,
    domain: &str,
    selector: &str,
    pem: &[u8],
) -> Result<PathBuf, DkimError> {
    validate_domain(domain)?;
    validate_selector(selector)?;
    let path = key_path(dir, domain, selector);
    let folder = path.parent().unwrap_or(dir).to_path_buf();
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DkimError::Io { path, source }
    };
    create_private_dir(&folder).map_err(io(&folder))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = match options.open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(DkimError::KeyExists(path));
        }
        Err(e) => return Err(io(&path)(e)),
    };
    file.write_all(pem)
        .and_then(|()| file.sync_all())
        .map_err(io(&path))?;
    // The folder entry too, so the key survives a crash right after keygen printed it.
    if let Ok(d) = std::fs::File::open(&folder) {
        let _ = d.sync_all();
    }
    Ok(path)
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Dot-separated labels of letters, digits and inner hyphens, 1 to 63 octets each.
fn is_ldh_name(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// A signing domain: an ASCII domain name (RFC 5321 §4.1.2 `Domain`, RFC 6376 §3.5 `d=`),
/// at most 253 octets. It is also a folder name, so nothing else gets through.
pub fn validate_domain(domain: &str) -> Result<(), DkimError> {
    if is_ldh_name(domain, 253) {
        Ok(())
    } else {
        Err(DkimError::InvalidDomain(domain.to_string()))
    }
}

/// A selector: `sub-domain *("." sub-domain)` (RFC 6376 §3.1), also a file name.
pub fn validate_selector(selector: &str) -> Result<(), DkimError> {
    if is_ldh_name(selector, 200) {
        Ok(())
    } else {
        Err(DkimError::InvalidSelector(selector.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_escape_the_key_folder_are_refused() {
        for bad in [
            "", "..", "../etc", "a/b", "a..b", ".a", "-a.com", "a_b.com", "a b",
        ] {
            assert!(validate_domain(bad).is_err(), "{bad}");
            assert!(validate_selector(bad).is_err(), "{bad}");
        }
        validate_domain("mail.example.com").unwrap();
        validate_selector("202612").unwrap();
        validate_selector("s1.rotation").unwrap();
    }

    #[test]
    fn a_non_key_pem_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("example.com").join("s1.pem");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "not a key").unwrap();
        let err = load_all(dir.path()).unwrap_err().to_string();
        assert!(err.contains("example.com/s1.pem"), "{err}");
    }

    #[test]
    fn missing_key_folder_holds_no_keys() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_all(&dir.path().join("dkim")).unwrap().is_empty());
    }
}
