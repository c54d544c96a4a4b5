//! A TLS front (rustls, test certificates from `tests/data/tls`) for the local server.

use std::io::BufReader;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::relay;

/// A file of `tests/data/tls`.
pub fn data(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/tls")).join(name)
}

/// A TLS front for `upstream`; counts the connections it accepts.
pub struct TlsFront {
    pub addr: SocketAddr,
    pub accepted: Arc<AtomicUsize>,
}

impl TlsFront {
    pub fn start(upstream: SocketAddr) -> TlsFront {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(data("server.pem"))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let key = PrivateKeyDer::from_pem_file(data("server.key")).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        std::thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                count.fetch_add(1, Ordering::SeqCst);
                let config = config.clone();
                std::thread::spawn(move || {
                    let conn = rustls::ServerConnection::new(config).unwrap();
                    let tls = rustls::StreamOwned::new(conn, tcp);
                    relay(BufReader::new(tls), upstream, &AtomicUsize::new(0));
                });
            }
        });
        TlsFront { addr, accepted }
    }

    pub fn endpoint(&self) -> String {
        format!("https://{}/api/label/v2/graphql", self.addr)
    }
}
