//! The client's TLS (RFC 3207 STARTTLS, RFC 8314 implicit TLS to a smarthost): one lax
//! connector that takes any certificate (opportunistic TLS, RFC 7435: encryption against
//! passive attackers when nothing requires more) and one that verifies the chain and the
//! host name against the system's roots (and any extra CA file), for `verify` routes and
//! MTA-STS `enforce`. A lax handshake is still checked afterwards, so the log says whether
//! the certificate would have passed.

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, RootCertStore};
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::TlsConnector;

/// Why the client TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("{0}: cannot read CA file: {1}")]
    CaFile(String, String),
    #[error("TLS setup: {0}")]
    Rustls(String),
}

/// Both connectors and the verifier that checks lax handshakes after the fact.
#[derive(Clone)]
pub struct ClientTls {
    pub lax: TlsConnector,
    pub strict: TlsConnector,
    verifier: Arc<WebPkiServerVerifier>,
}

impl ClientTls {
    /// The system's roots (`/etc/ssl/certs`), plus the certificates in `extra_ca` (PEM).
    pub fn new(extra_ca: Option<&Path>) -> Result<ClientTls, TlsSetupError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        if let Some(path) = extra_ca {
            let pem = std::fs::read(path)
                .map_err(|e| TlsSetupError::CaFile(path.display().to_string(), e.to_string()))?;
            let mut reader = std::io::BufReader::new(pem.as_slice());
            for cert in rustls_pemfile_certs(&mut reader) {
                roots.add(cert).map_err(|e| {
                    TlsSetupError::CaFile(path.display().to_string(), e.to_string())
                })?;
            }
        }
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| TlsSetupError::Rustls(e.to_string()))?;
        let strict = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsSetupError::Rustls(e.to_string()))?
            .with_webpki_verifier(verifier.clone())
            .with_no_client_auth();
        let lax = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsSetupError::Rustls(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(mailward_net::tls::any_certificate_verifier(
                &provider,
            ))
            .with_no_client_auth();
        Ok(ClientTls {
            lax: TlsConnector::from(Arc::new(lax)),
            strict: TlsConnector::from(Arc::new(strict)),
            verifier,
        })
    }

    /// Would this chain pass for `name`? (Checked after a lax handshake, for the log.)
    pub fn would_verify(&self, chain: &[CertificateDer<'static>], name: &ServerName<'_>) -> bool {
        self.verify_chain(chain, name).is_ok()
    }

    /// Why this chain fails for `name`, for `probe` (`invalid peer certificate: UnknownIssuer`).
    pub fn verify_chain(
        &self,
        chain: &[CertificateDer<'static>],
        name: &ServerName<'_>,
    ) -> Result<(), String> {
        let Some((end, intermediates)) = chain.split_first() else {
            return Err("no certificate presented".into());
        };
        self.verifier
            .verify_server_cert(end, intermediates, name, &[], UnixTime::now())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// PEM certificates; anything else in the file is skipped.
fn rustls_pemfile_certs(reader: &mut dyn std::io::BufRead) -> Vec<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    let mut bytes = Vec::new();
    if reader.read_to_end(&mut bytes).is_err() {
        return Vec::new();
    }
    CertificateDer::pem_slice_iter(&bytes)
        .filter_map(Result::ok)
        .collect()
}
