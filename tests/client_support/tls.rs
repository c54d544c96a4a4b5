//! A TLS front (rustls, the test certificates of `tls_support`) for the local server.

use std::io::BufReader;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::relay;

/// A TLS front for `upstream`; counts the connections it accepts.
pub struct TlsFront {
    pub addr: SocketAddr,
    pub accepted: Arc<AtomicUsize>,
}

impl TlsFront {
    pub fn start(upstream: SocketAddr) -> TlsFront {
        let config = super::tls_support::server_config();
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
