//! TLS over real sockets: a rustls server (test certificates in `tests/data/tls`) terminates
//! TLS in front of the local server. The default roots reject it (and that is not retried);
//! the CA bundle or turning verification off accept it; native-tls works the same way.

use crate::support::*;
use kili::{Error, Kili, ProjectQuery, TlsProvider};

#[test]
fn an_unknown_ca_is_rejected_once_not_retried() {
    let server = server();
    let front = TlsFront::start(server.addr());
    let kili = client_for(&front.endpoint());
    let e = kili.count_projects(&ProjectQuery::new()).unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert!(server.recorded_requests().is_empty());
    assert_eq!(front.accepted(), 1, "a certificate error is definite");
}

#[test]
fn a_ca_bundle_makes_the_server_trusted() {
    let server = server();
    let front = TlsFront::start(server.addr());
    let kili = builder(KEY, front.endpoint())
        .ca_bundle(tls_file("ca.pem"))
        .build()
        .unwrap();
    assert_eq!(kili.count_projects(&ProjectQuery::new()).unwrap(), 0);
    assert_eq!(server.recorded_requests().len(), 1);
}

#[test]
fn verification_can_be_turned_off() {
    let server = server();
    let front = TlsFront::start(server.addr());
    let kili = builder(KEY, front.endpoint())
        .verify_tls(false)
        .build()
        .unwrap();
    assert_eq!(kili.count_projects(&ProjectQuery::new()).unwrap(), 0);
}

#[test]
fn a_bundle_without_certificates_is_invalid_input() {
    let e = Kili::builder()
        .api_key(KEY)
        .ca_bundle(tls_file("server.key"))
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
}

#[cfg(feature = "native-tls")]
#[test]
fn native_tls_with_a_ca_bundle() {
    let server = server();
    let front = TlsFront::start(server.addr());
    let kili = builder(KEY, front.endpoint())
        .tls_provider(TlsProvider::NativeTls)
        .ca_bundle(tls_file("ca.pem"))
        .build()
        .unwrap();
    assert_eq!(kili.count_projects(&ProjectQuery::new()).unwrap(), 0);
    let untrusted = builder(KEY, front.endpoint())
        .tls_provider(TlsProvider::NativeTls)
        .build()
        .unwrap();
    let before = front.accepted();
    let e = untrusted.count_projects(&ProjectQuery::new()).unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert_eq!(front.accepted(), before + 1, "not retried: {e:?}");
}

#[cfg(not(feature = "native-tls"))]
#[test]
fn native_tls_needs_its_feature() {
    let e = Kili::builder()
        .api_key(KEY)
        .tls_provider(TlsProvider::NativeTls)
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
}
