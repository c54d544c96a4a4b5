//! TLS for `https://` and `wss://` from one set of settings: the provider, the roots (a CA bundle
//! replaces the provider's defaults) and the verification switch. The bundle is read and parsed
//! once, when the client is built; HTTP requests and every subscription use the result.
//!
//! Without a TLS feature the client speaks plain `http://` and `ws://` only.

use std::io::{Read, Write};
use std::path::PathBuf;

use tungstenite::handshake::client::{ClientHandshake, Response};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{ClientRequestBuilder, HandshakeError, WebSocket};

use crate::error::{Error, Result};

/// Which TLS implementation secures `https://` and `wss://` connections (see
/// [`KiliBuilder::tls_provider`](crate::KiliBuilder::tls_provider)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsProvider {
    /// rustls with the Mozilla roots (the default; needs the `rustls` feature).
    Rustls,
    /// The platform's TLS library (needs the `native-tls` feature).
    NativeTls,
}

impl Default for TlsProvider {
    fn default() -> Self {
        if cfg!(feature = "rustls") {
            TlsProvider::Rustls
        } else {
            TlsProvider::NativeTls
        }
    }
}

/// What the builder collects.
#[derive(Debug, Clone)]
pub(crate) struct TlsSettings {
    pub(crate) provider: TlsProvider,
    /// Trusted roots (PEM) that replace the provider's defaults.
    pub(crate) ca_bundle: Option<PathBuf>,
    /// `false` disables certificate verification (as `KILI_VERIFY=false`); dangerous.
    pub(crate) verify: bool,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            provider: TlsProvider::default(),
            ca_bundle: None,
            verify: true,
        }
    }
}

/// TLS ready for use, built once per client.
#[derive(Clone)]
pub(crate) struct Tls {
    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    http: ureq::tls::TlsConfig,
    websocket: WsTls,
}

/// tungstenite's `Connector` is not `Clone`: what makes one.
#[derive(Clone)]
enum WsTls {
    /// No TLS feature compiled in.
    #[cfg(not(any(feature = "rustls", feature = "native-tls")))]
    Unavailable,
    #[cfg(feature = "rustls")]
    Rustls(std::sync::Arc<rustls::ClientConfig>),
    #[cfg(feature = "native-tls")]
    Native(native_tls::TlsConnector),
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let websocket = match &self.websocket {
            #[cfg(not(any(feature = "rustls", feature = "native-tls")))]
            WsTls::Unavailable => "unavailable",
            #[cfg(feature = "rustls")]
            WsTls::Rustls(_) => "rustls",
            #[cfg(feature = "native-tls")]
            WsTls::Native(_) => "native-tls",
        };
        f.debug_struct("Tls")
            .field("websocket", &websocket)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// Checks the provider, reads the CA bundle and builds both configurations.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] if the chosen provider's feature is off, or the CA bundle is
    /// unusable (unreadable, not PEM, no certificate in it, refused by the provider).
    pub(crate) fn new(settings: &TlsSettings) -> Result<Tls> {
        #[cfg(any(feature = "rustls", feature = "native-tls"))]
        {
            let roots = match &settings.ca_bundle {
                Some(path) => Some(ca_bundle(path)?),
                None => None,
            };
            let websocket = match settings.provider {
                #[cfg(feature = "rustls")]
                TlsProvider::Rustls => rustls_client(settings, roots.as_deref())?,
                #[cfg(feature = "native-tls")]
                TlsProvider::NativeTls => native_client(settings, roots.as_deref())?,
                #[allow(unreachable_patterns)] // reachable when one TLS feature is off
                other => return Err(missing_feature(other)),
            };
            Ok(Tls {
                http: http_config(settings, roots),
                websocket,
            })
        }
        #[cfg(not(any(feature = "rustls", feature = "native-tls")))]
        {
            let _ = settings;
            Ok(Tls {
                websocket: WsTls::Unavailable,
            })
        }
    }

    /// ureq's TLS configuration.
    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    pub(crate) fn http(&self) -> ureq::tls::TlsConfig {
        self.http.clone()
    }

    /// Refuses an `https://` endpoint when no TLS feature is compiled in.
    pub(crate) fn check_endpoint(&self, endpoint: &str) -> Result<()> {
        if cfg!(not(any(feature = "rustls", feature = "native-tls")))
            && endpoint
                .get(..8)
                .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
        {
            return Err(Error::invalid(
                "https:// needs the `rustls` or `native-tls` feature",
            ));
        }
        Ok(())
    }

    /// Runs the client handshake of one WebSocket connection over `stream`, after a TLS
    /// handshake for a `wss://` URL (`secure`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for `wss://` without a TLS feature. The handshake's own outcome
    /// is the inner result.
    pub(crate) fn websocket_handshake<S: Read + Write>(
        &self,
        secure: bool,
        request: ClientRequestBuilder,
        stream: S,
        config: WebSocketConfig,
    ) -> Result<WsHandshake<S>> {
        #[cfg(any(feature = "rustls", feature = "native-tls"))]
        {
            let connector = self.websocket(secure)?;
            Ok(tungstenite::client_tls_with_config(
                request,
                stream,
                Some(config),
                Some(connector),
            ))
        }
        // tungstenite has no TLS connector then: the plain handshake, over a plain stream.
        #[cfg(not(any(feature = "rustls", feature = "native-tls")))]
        {
            if secure {
                let WsTls::Unavailable = self.websocket;
                return Err(Error::invalid(
                    "wss:// needs the `rustls` or `native-tls` feature",
                ));
            }
            Ok(tungstenite::client::client_with_config(
                request,
                MaybeTlsStream::Plain(stream),
                Some(config),
            ))
        }
    }

    /// Builds a connector for one WebSocket connection to a `ws://` (`secure == false`) or `wss://`
    /// URL.
    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    fn websocket(&self, secure: bool) -> Result<tungstenite::Connector> {
        if !secure {
            return Ok(tungstenite::Connector::Plain);
        }
        match &self.websocket {
            #[cfg(feature = "rustls")]
            WsTls::Rustls(c) => Ok(tungstenite::Connector::Rustls(c.clone())),
            #[cfg(feature = "native-tls")]
            WsTls::Native(c) => Ok(tungstenite::Connector::NativeTls(c.clone())),
        }
    }
}

/// What a WebSocket client handshake over `S` gives: the socket and the server's answer, or
/// how it failed.
pub(crate) type WsHandshake<S> = std::result::Result<
    (WebSocket<MaybeTlsStream<S>>, Response),
    HandshakeError<ClientHandshake<MaybeTlsStream<S>>>,
>;

#[cfg(any(feature = "rustls", feature = "native-tls"))]
fn missing_feature(provider: TlsProvider) -> Error {
    let feature = match provider {
        TlsProvider::NativeTls => "native-tls",
        TlsProvider::Rustls => "rustls",
    };
    Error::invalid(format!(
        "TLS provider {provider:?} needs the crate feature {feature:?}"
    ))
}

/// Returns the one error for a CA bundle that cannot be used, whatever the reason.
#[cfg(any(feature = "rustls", feature = "native-tls"))]
fn unusable(path: &std::path::Path, why: impl std::fmt::Display) -> Error {
    Error::invalid(format!(
        "the CA bundle {} is unusable: {why}",
        path.display()
    ))
}

/// Returns the certificates of a PEM file (at least one).
#[cfg(any(feature = "rustls", feature = "native-tls"))]
fn ca_bundle(path: &std::path::Path) -> Result<Vec<ureq::tls::Certificate<'static>>> {
    let pem = std::fs::read(path).map_err(|e| unusable(path, e))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
            Ok(_) => {}
            Err(e) => return Err(unusable(path, format!("not PEM ({e})"))),
        }
    }
    if certs.is_empty() {
        return Err(unusable(path, "it holds no certificate"));
    }
    Ok(certs)
}

#[cfg(any(feature = "rustls", feature = "native-tls"))]
fn http_config(
    settings: &TlsSettings,
    roots: Option<Vec<ureq::tls::Certificate<'static>>>,
) -> ureq::tls::TlsConfig {
    use ureq::tls::RootCerts;
    let provider = match settings.provider {
        TlsProvider::NativeTls => ureq::tls::TlsProvider::NativeTls,
        TlsProvider::Rustls => ureq::tls::TlsProvider::Rustls,
    };
    let roots = match (roots, settings.provider) {
        (Some(certs), _) => RootCerts::new_with_certs(&certs),
        (None, TlsProvider::NativeTls) => RootCerts::PlatformVerifier,
        (None, TlsProvider::Rustls) => RootCerts::WebPki,
    };
    ureq::tls::TlsConfig::builder()
        .provider(provider)
        .root_certs(roots)
        .disable_verification(!settings.verify)
        .build()
}

#[cfg(feature = "rustls")]
fn rustls_client(
    settings: &TlsSettings,
    roots: Option<&[ureq::tls::Certificate<'static>]>,
) -> Result<WsTls> {
    use std::sync::Arc;

    // An explicit provider: no dependence on a process-wide default being installed.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::transport("configuring TLS", e))?;
    let config = if settings.verify {
        let mut store = rustls::RootCertStore::empty();
        match roots {
            Some(certs) => {
                for cert in certs {
                    let der = rustls_pki_types::CertificateDer::from(cert.der().to_vec());
                    store.add(der).map_err(|e| {
                        unusable(settings.ca_bundle.as_deref().unwrap_or("".as_ref()), e)
                    })?;
                }
            }
            None => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        builder.with_root_certificates(store).with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(unverified::AcceptAny(provider)))
            .with_no_client_auth()
    };
    Ok(WsTls::Rustls(Arc::new(config)))
}

#[cfg(feature = "native-tls")]
fn native_client(
    settings: &TlsSettings,
    roots: Option<&[ureq::tls::Certificate<'static>]>,
) -> Result<WsTls> {
    let mut b = native_tls::TlsConnector::builder();
    if !settings.verify {
        b.danger_accept_invalid_certs(true)
            .danger_accept_invalid_hostnames(true);
    }
    if let Some(certs) = roots {
        let path = settings.ca_bundle.as_deref().unwrap_or("".as_ref());
        b.disable_built_in_roots(true);
        for cert in certs {
            let cert =
                native_tls::Certificate::from_der(cert.der()).map_err(|e| unusable(path, e))?;
            b.add_root_certificate(cert);
        }
    }
    b.build()
        .map(WsTls::Native)
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

#[cfg(all(test, feature = "rustls"))]
mod tests {
    use super::*;

    fn settings() -> TlsSettings {
        TlsSettings {
            provider: TlsProvider::Rustls,
            ..TlsSettings::default()
        }
    }

    #[test]
    fn defaults_to_webpki_roots_with_verification() {
        let tls = Tls::new(&settings()).unwrap();
        assert!(matches!(
            tls.http().root_certs(),
            ureq::tls::RootCerts::WebPki
        ));
        assert!(!tls.http().disable_verification());
        assert!(matches!(
            tls.websocket(false),
            Ok(tungstenite::Connector::Plain)
        ));
        assert!(matches!(
            tls.websocket(true),
            Ok(tungstenite::Connector::Rustls(_))
        ));
    }

    #[test]
    fn verify_off_reaches_both_sides() {
        let tls = Tls::new(&TlsSettings {
            verify: false,
            ..settings()
        })
        .unwrap();
        assert!(tls.http().disable_verification());
        assert!(matches!(
            tls.websocket(true),
            Ok(tungstenite::Connector::Rustls(_))
        ));
    }

    #[test]
    fn an_unusable_bundle_is_one_error_whatever_the_cause() {
        let dir = std::env::temp_dir().join(format!("kili-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, b"no certificates here\n").unwrap();
        for path in [PathBuf::from("/nonexistent/ca.pem"), empty] {
            let err = Tls::new(&TlsSettings {
                ca_bundle: Some(path.clone()),
                ..settings()
            })
            .unwrap_err();
            assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
            assert!(err.to_string().contains("is unusable"), "{err}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
