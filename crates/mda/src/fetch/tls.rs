//! The client's TLS (RFC 8314 implicit TLS on 993/995, or after STARTTLS/STLS): the
//! certificate chain and host name are checked against the system's roots plus an optional
//! `ca_file`, unless `tls_verify = false` (self-signed test servers), which still checks
//! the handshake's signatures.

use super::error::FetchError;
use super::wire::Stream;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// A connector that verifies (`verify`) or takes any certificate.
pub fn connector(verify: bool, ca_file: Option<&Path>) -> Result<TlsConnector, FetchError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| FetchError::Tls(e.to_string()))?;
    let config = if verify {
        let mut roots = RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        if let Some(path) = ca_file {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| FetchError::Tls(format!("{}: {e}", path.display())))?;
            for cert in certs {
                let cert = cert.map_err(|e| FetchError::Tls(format!("{}: {e}", path.display())))?;
                roots
                    .add(cert)
                    .map_err(|e| FetchError::Tls(format!("{}: {e}", path.display())))?;
            }
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(mailward_net::tls::any_certificate_verifier(
                &provider,
            ))
            .with_no_client_auth()
    };
    Ok(TlsConnector::from(Arc::new(config)))
}

/// The TLS handshake with `host` over `tcp`, within `timeout`.
pub async fn handshake(
    connector: &TlsConnector,
    host: &str,
    tcp: TcpStream,
    timeout: Duration,
) -> Result<Stream, FetchError> {
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| FetchError::Tls(format!("{host}: {e}")))?;
    let tls = tokio::time::timeout(timeout, connector.connect(name, tcp))
        .await
        .map_err(|_| FetchError::Timeout)?
        .map_err(|e| FetchError::Tls(e.to_string()))?;
    Ok(Stream::Tls(Box::new(tls)))
}
