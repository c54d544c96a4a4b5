//! TLS for `wss://`, from the client's [`TlsSettings`]: the same provider, CA bundle and
//! verification switch as the HTTP side.

use tungstenite::Connector;

use crate::client::config::{TlsProvider, TlsSettings};
use crate::error::{Error, Result};

/// A reusable TLS configuration (tungstenite's `Connector` is not `Clone`).
#[derive(Clone)]
pub(crate) enum Tls {
    /// `ws://`.
    Plain,
    /// rustls.
    #[cfg(feature = "rustls")]
    Rustls(std::sync::Arc<rustls::ClientConfig>),
    /// The platform's TLS.
    #[cfg(feature = "native-tls")]
    Native(native_tls::TlsConnector),
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Tls::Plain => "Plain",
            #[cfg(feature = "rustls")]
            Tls::Rustls(_) => "Rustls",
            #[cfg(feature = "native-tls")]
            Tls::Native(_) => "NativeTls",
        })
    }
}

impl Tls {
    /// A connector for one connection.
    pub(crate) fn connector(&self) -> Connector {
        match self {
            Tls::Plain => Connector::Plain,
            #[cfg(feature = "rustls")]
            Tls::Rustls(c) => Connector::Rustls(c.clone()),
            #[cfg(feature = "native-tls")]
            Tls::Native(c) => Connector::NativeTls(c.clone()),
        }
    }
}

/// The TLS configuration for a `ws://` (`secure == false`) or `wss://` URL.
///
/// Built once per subscription and reused by its reconnections.
pub(crate) fn configure(tls: &TlsSettings, secure: bool) -> Result<Tls> {
    if !secure {
        return Ok(Tls::Plain);
    }
    match tls.provider {
        #[cfg(feature = "rustls")]
        TlsProvider::Rustls => rustls_connector(tls),
        #[cfg(feature = "native-tls")]
        TlsProvider::NativeTls => native_connector(tls),
        #[allow(unreachable_patterns)] // reachable when a TLS feature is off
        other => Err(Error::invalid(format!(
            "wss:// with {other:?} needs the crate feature {}",
            if other == TlsProvider::NativeTls {
                "native-tls"
            } else {
                "rustls"
            }
        ))),
    }
}

#[cfg(any(feature = "rustls", feature = "native-tls"))]
fn read_bundle(path: &std::path::Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Io {
        context: format!("reading the CA bundle {}", path.display()),
        source,
    })
}

#[cfg(feature = "rustls")]
fn rustls_connector(tls: &TlsSettings) -> Result<Tls> {
    use std::sync::Arc;

    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    // An explicit provider: no dependence on a process-wide default being installed.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::transport("configuring TLS", e))?;
    let config = if tls.verify {
        // A CA bundle replaces the default roots, as it does for HTTP (KiliBuilder::ca_bundle).
        let mut roots = rustls::RootCertStore::empty();
        if tls.ca_bundle.is_none() {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        if let Some(path) = &tls.ca_bundle {
            let pem = read_bundle(path)?;
            let mut added = 0;
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert = cert
                    .map_err(|e| Error::decode(format!("the CA bundle {}", path.display()), e))?;
                roots.add(cert).map_err(|e| {
                    Error::decode(format!("a certificate of {}", path.display()), e)
                })?;
                added += 1;
            }
            if added == 0 {
                return Err(Error::invalid(format!(
                    "no certificate in the CA bundle {}",
                    path.display()
                )));
            }
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(unverified::AcceptAny(provider)))
            .with_no_client_auth()
    };
    Ok(Tls::Rustls(Arc::new(config)))
}

#[cfg(feature = "native-tls")]
fn native_connector(tls: &TlsSettings) -> Result<Tls> {
    let mut b = native_tls::TlsConnector::builder();
    if !tls.verify {
        b.danger_accept_invalid_certs(true)
            .danger_accept_invalid_hostnames(true);
    }
    if let Some(path) = &tls.ca_bundle {
        let pem = read_bundle(path)?;
        let certs = native_tls::Certificate::stack_from_pem(&pem)
            .map_err(|e| Error::decode(format!("the CA bundle {}", path.display()), e))?;
        if certs.is_empty() {
            return Err(Error::invalid(format!(
                "no certificate in the CA bundle {}",
                path.display()
            )));
        }
        // The bundle replaces the platform's roots, as it does for HTTP.
        b.disable_built_in_roots(true);
        for cert in certs {
            b.add_root_certificate(cert);
        }
    }
    b.build()
        .map(Tls::Native)
        .map_err(|e| Error::transport("configuring TLS", e))
}

/// `verify = false`: accept any certificate (signatures are still checked, so the handshake
/// stays well-formed). Only for test servers, as documented on the builder.
#[cfg(feature = "rustls")]
mod unverified {
    use std::sync::Arc;

    use rustls::DigitallySignedStruct;
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::crypto::CryptoProvider;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

    #[derive(Debug)]
    pub(super) struct AcceptAny(pub(super) Arc<CryptoProvider>);

    impl ServerCertVerifier for AcceptAny {
        fn verify_server_cert(
            &self,
            _end_entity: &CertificateDer<'_>,
            _intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp_response: &[u8],
            _now: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(provider: TlsProvider) -> TlsSettings {
        TlsSettings {
            provider,
            ca_bundle: None,
            verify: true,
        }
    }

    #[test]
    fn plain_for_ws() {
        assert!(matches!(
            configure(&settings(TlsProvider::Rustls), false),
            Ok(Tls::Plain)
        ));
    }

    #[cfg(feature = "rustls")]
    #[test]
    fn rustls_configs_build() {
        assert!(matches!(
            configure(&settings(TlsProvider::Rustls), true),
            Ok(Tls::Rustls(_))
        ));
        let unverified = TlsSettings {
            verify: false,
            ..settings(TlsProvider::Rustls)
        };
        assert!(matches!(configure(&unverified, true), Ok(Tls::Rustls(_))));
    }

    #[test]
    fn a_missing_or_empty_bundle_is_an_error() {
        for provider in [TlsProvider::Rustls, TlsProvider::NativeTls] {
            let missing = TlsSettings {
                ca_bundle: Some("/nonexistent/ca.pem".into()),
                ..settings(provider)
            };
            assert!(configure(&missing, true).is_err());
            let dir = std::env::temp_dir().join(format!("kili-empty-{}.pem", std::process::id()));
            std::fs::write(&dir, "not a certificate\n").unwrap();
            let empty = TlsSettings {
                ca_bundle: Some(dir.clone()),
                ..settings(provider)
            };
            assert!(configure(&empty, true).is_err(), "{provider:?}");
            let _ = std::fs::remove_file(dir);
        }
    }
}
