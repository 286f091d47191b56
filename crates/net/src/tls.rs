//! TLS server configuration: the configured certificate and key (PEM), or a self-signed
//! certificate made at start (rcgen) when `[tls]` is absent. One crypto provider: ring.

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {msg}")]
    File { path: String, msg: String },
    #[error("self-signed certificate: {0}")]
    Generate(String),
    #[error("TLS configuration: {0}")]
    Config(String),
}

/// A TLS server configuration as the listeners take it.
pub type Config = Arc<ServerConfig>;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn build(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let cfg = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    Ok(Arc::new(cfg))
}

/// Loads a PEM certificate chain and private key.
pub fn load(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let file_err = |p: &Path, msg: String| TlsError::File {
        path: p.display().to_string(),
        msg,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| file_err(cert, e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| file_err(cert, e.to_string()))?;
    if certs.is_empty() {
        return Err(file_err(cert, "no certificate in file".into()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| file_err(key, e.to_string()))?;
    build(certs, key)
}

/// A self-signed certificate for `names` (development and the embedded default).
pub fn self_signed(names: &[String]) -> Result<Arc<ServerConfig>, TlsError> {
    let ck = rcgen::generate_simple_self_signed(names.to_vec())
        .map_err(|e| TlsError::Generate(e.to_string()))?;
    let cert = ck.cert.der().clone();
    let key = PrivateKeyDer::try_from(ck.signing_key.serialize_der())
        .map_err(|e| TlsError::Generate(e.to_string()))?;
    build(vec![cert], key)
}

/// What a TLS handshake settled on, for `Received:` and the `tls` log event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsInfo {
    /// `TLSv1.3`, `TLSv1.2` (Postfix's spelling).
    pub version: String,
    /// IANA cipher suite name (`TLS_AES_256_GCM_SHA384`).
    pub cipher: String,
    /// Symmetric key bits.
    pub bits: u16,
}

impl TlsInfo {
    /// The `tls` event: one shape in every protocol.
    pub fn event(&self) -> mailward_event::Event<'_> {
        mailward_event::Event::Tls(mailward_event::Tls {
            tls_version: self.version.as_str().into(),
            tls_cipher: self.cipher.as_str().into(),
        })
    }
}

/// The server side of a TLS handshake (implicit TLS, or after STARTTLS/STLS), under a time
/// limit: a client that stalls mid-handshake is dropped, not waited for.
pub async fn handshake<S>(
    config: &Config,
    io: S,
    limit: std::time::Duration,
) -> std::io::Result<tokio_rustls::server::TlsStream<S>>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let acceptor = tokio_rustls::TlsAcceptor::from(config.clone());
    tokio::time::timeout(limit, acceptor.accept(io))
        .await
        .map_err(|_| std::io::Error::other("TLS handshake timeout"))?
}

/// The protocol version and cipher suite of an established server connection.
pub fn negotiated(conn: &rustls::ServerConnection) -> TlsInfo {
    let version = match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_string(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_string(),
        Some(v) => format!("{v:?}"),
        None => "unknown".to_string(),
    };
    let cipher = conn
        .negotiated_cipher_suite()
        .and_then(|s| s.suite().as_str())
        .map(|s| s.replacen("TLS13_", "TLS_", 1))
        .unwrap_or_else(|| "unknown".to_string());
    let bits = if cipher.contains("AES_128") { 128 } else { 256 };
    TlsInfo {
        version,
        cipher,
        bits,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_config_builds() {
        assert!(self_signed(&["localhost".to_string()]).is_ok());
    }

    #[test]
    fn missing_files_name_the_path() {
        let err = load(
            Path::new("/nonexistent/cert.pem"),
            Path::new("/nonexistent/key.pem"),
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("/nonexistent/cert.pem:"),
            "{err}"
        );
    }
}

/// A client-side verifier that takes any certificate but still checks the handshake's
/// signatures, so the session is with the holder of the key presented: opportunistic TLS
/// (RFC 7435 §3) for outbound SMTP, and `tls_verify = false` for remote retrieval.
pub fn any_certificate_verifier(
    provider: &rustls::crypto::CryptoProvider,
) -> Arc<dyn rustls::client::danger::ServerCertVerifier> {
    Arc::new(AnyCertificate {
        algorithms: provider.signature_verification_algorithms,
    })
}

#[derive(Debug)]
struct AnyCertificate {
    algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
