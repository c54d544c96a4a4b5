//! The test certificates in `tests/data/tls` (a private CA and a server certificate for
//! `localhost` and `127.0.0.1`), as a rustls server configuration, and a TLS front that serves
//! the local server over https:// with them.

use std::io::BufReader;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::support::http::relay;

/// A file of `tests/data/tls` (`ca.pem`, `server.pem`, `server.key`).
pub fn tls_file(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/tls")).join(name)
}

/// A server configuration presenting the test server certificate.
pub fn server_config() -> Arc<rustls::ServerConfig> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(tls_file("server.pem"))
        .expect("server.pem")
        .map(|c| c.expect("a certificate"))
        .collect();
    let key = PrivateKeyDer::from_pem_file(tls_file("server.key")).expect("server.key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("the test certificate");
    Arc::new(config)
}

/// Terminates TLS (the test certificate) in front of `upstream`, a plain HTTP server; counts
/// the connections it accepts.
pub struct TlsFront {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
}

impl TlsFront {
    /// Starts the front on `127.0.0.1:0`.
    pub fn start(upstream: SocketAddr) -> TlsFront {
        let config = server_config();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        std::thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                count.fetch_add(1, Ordering::SeqCst);
                let config = config.clone();
                std::thread::spawn(move || {
                    let Ok(conn) = rustls::ServerConnection::new(config) else {
                        return;
                    };
                    relay(
                        BufReader::new(rustls::StreamOwned::new(conn, tcp)),
                        upstream,
                    );
                });
            }
        });
        TlsFront { addr, accepted }
    }

    /// How many connections it accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// `https://ADDR/api/label/v2/graphql`.
    pub fn endpoint(&self) -> String {
        format!("https://{}/api/label/v2/graphql", self.addr)
    }
}
