//! The HTTP client's TLS configuration, from [`TlsSettings`].
//!
//! Without a TLS feature the client speaks plain `http://` only, and an `https://` endpoint is
//! refused when the client is built.

#[cfg(any(feature = "rustls", feature = "native-tls"))]
use crate::client::config::{TlsProvider, TlsSettings};
use crate::error::{Error, Result};

/// Refuses an `https://` endpoint when no TLS feature is compiled in.
#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
pub(crate) fn check_plain_http(endpoint: &str) -> Result<()> {
    if endpoint.starts_with("https://") {
        return Err(Error::invalid(
            "https:// needs the `rustls` or `native-tls` feature",
        ));
    }
    Ok(())
}

/// Builds ureq's TLS configuration.
///
/// - [`TlsProvider::Rustls`] trusts the Mozilla roots (`webpki-roots`);
///   [`TlsProvider::NativeTls`] trusts the platform's roots.
/// - A CA bundle *replaces* those roots with the PEM file's certificates, as a path in
///   `KILI_VERIFY` (or `verify=` in the Python SDK) does.
/// - `verify: false` turns certificate verification off.
///
/// # Errors
///
/// [`Error::InvalidInput`] if the chosen provider's feature is off or the bundle holds no
/// certificate; [`Error::Io`] if the bundle cannot be read.
#[cfg(any(feature = "rustls", feature = "native-tls"))]
pub(crate) fn ureq_tls_config(settings: &TlsSettings) -> Result<ureq::tls::TlsConfig> {
    use ureq::tls::{RootCerts, TlsConfig};

    let provider = match settings.provider {
        TlsProvider::Rustls if cfg!(feature = "rustls") => ureq::tls::TlsProvider::Rustls,
        TlsProvider::NativeTls if cfg!(feature = "native-tls") => ureq::tls::TlsProvider::NativeTls,
        other => {
            return Err(Error::invalid(format!(
                "TLS provider {other:?} needs the crate feature {:?}",
                match other {
                    TlsProvider::NativeTls => "native-tls",
                    _ => "rustls",
                }
            )));
        }
    };
    let roots = match (&settings.ca_bundle, settings.provider) {
        (Some(path), _) => {
            let pem = std::fs::read(path).map_err(|source| Error::Io {
                context: format!("reading the CA bundle {}", path.display()),
                source,
            })?;
            let mut certs = Vec::new();
            for item in ureq::tls::parse_pem(&pem) {
                match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
                    Ok(_) => {}
                    Err(e) => {
                        return Err(Error::invalid(format!(
                            "the CA bundle {} is not valid PEM: {e}",
                            path.display()
                        )));
                    }
                }
            }
            if certs.is_empty() {
                return Err(Error::invalid(format!(
                    "the CA bundle {} holds no certificate",
                    path.display()
                )));
            }
            RootCerts::new_with_certs(&certs)
        }
        (None, TlsProvider::NativeTls) => RootCerts::PlatformVerifier,
        (None, _) => RootCerts::WebPki,
    };
    Ok(TlsConfig::builder()
        .provider(provider)
        .root_certs(roots)
        .disable_verification(!settings.verify)
        .build())
}

#[cfg(all(test, feature = "rustls"))]
mod tests {
    use super::*;
    use std::io::Write;

    fn settings() -> TlsSettings {
        TlsSettings {
            provider: TlsProvider::Rustls,
            ca_bundle: None,
            verify: true,
        }
    }

    #[test]
    fn defaults_to_webpki_roots_with_verification() {
        let c = ureq_tls_config(&settings()).unwrap();
        assert!(matches!(c.root_certs(), ureq::tls::RootCerts::WebPki));
        assert!(!c.disable_verification());
    }

    #[test]
    fn verify_off_is_passed_through() {
        let c = ureq_tls_config(&TlsSettings {
            verify: false,
            ..settings()
        })
        .unwrap();
        assert!(c.disable_verification());
    }

    #[test]
    fn ca_bundle_errors() {
        let missing = TlsSettings {
            ca_bundle: Some("/nonexistent/ca.pem".into()),
            ..settings()
        };
        assert!(matches!(ureq_tls_config(&missing), Err(Error::Io { .. })));

        let dir = std::env::temp_dir().join(format!("kili-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::File::create(&empty)
            .unwrap()
            .write_all(b"no certificates here\n")
            .unwrap();
        let s = TlsSettings {
            ca_bundle: Some(empty),
            ..settings()
        };
        assert!(matches!(
            ureq_tls_config(&s),
            Err(Error::InvalidInput { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
