//! HTTPS for the mock: a self-signed certificate made at start, valid for
//! `127.0.0.1` and `localhost`, so a test can point a deployment at an
//! `https://` `api_base` and hand the certificate to the client as its only
//! trusted root (`SSL_CERT_FILE`).

use std::sync::Arc;

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, ServerConfig};

/// The mock's certificate and the acceptor that serves it.
#[derive(Clone)]
pub(crate) struct TlsIdentity {
    pub(crate) acceptor: TlsAcceptor,
    /// The certificate, PEM-encoded: the root a client must trust.
    pub(crate) cert_pem: String,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity").finish_non_exhaustive()
    }
}

impl TlsIdentity {
    /// A fresh self-signed identity.
    ///
    /// # Panics
    /// If the certificate cannot be made or the TLS config rejects it: a
    /// testkit bug, not something a test could handle.
    pub(crate) fn self_signed() -> Self {
        let names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
        let certified =
            rcgen::generate_simple_self_signed(names).expect("mock upstream: self-signed cert");
        let cert_pem = certified.cert.pem();
        let key =
            rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("mock upstream: TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![certified.cert.der().clone()], key)
            .expect("mock upstream: TLS certificate");
        // The proxy's client speaks HTTP/1.1 only; say so as a real server would.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Self {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            cert_pem,
        }
    }
}
