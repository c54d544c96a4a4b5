//! wss:// with the client's TLS settings: an extra CA, verification off, and the default roots
//! (which must refuse a private CA). The server is the tests' WebSocket peer, over TLS.

use crate::support::*;
use kili::{Kili, StreamEvent, TlsProvider};
use serde_json::json;

/// A wss:// peer (the test certificate) sending one label event on each connection.
fn tls_label_peer() -> WsPeer {
    WsPeer::start_tls(|mut peer| {
        let Some(init) = peer.read_json() else {
            return;
        };
        assert_eq!(init["type"], "connection_init");
        peer.send_json(&json!({"type": "connection_ack"}));
        let (Some(start), Some(probe)) = (peer.read_json(), peer.read_json()) else {
            return;
        };
        peer.send_json(&json!({"type": "complete", "id": probe["id"]}));
        let label = json!({"id": "tls-label", "jsonResponse": "{}", "labelOf": {"id": "a"}});
        peer.send_json(
            &json!({"type": "data", "id": start["id"], "payload": {"data": {"data": label}}}),
        );
        while peer.ws.read().is_ok() {}
    })
}

fn first_label(kili: &Kili) -> kili::Result<String> {
    let events = kili.labels_subscription("p").stream()?;
    loop {
        if let StreamEvent::Event(e) = events.recv_timeout(PATIENCE).expect("an event over wss") {
            return Ok(e.label().id().to_owned());
        }
    }
}

fn providers() -> Vec<TlsProvider> {
    let mut p = vec![TlsProvider::Rustls];
    if cfg!(feature = "native-tls") {
        p.push(TlsProvider::NativeTls);
    }
    p
}

#[test]
fn wss_with_an_extra_ca() {
    let peer = tls_label_peer();
    for provider in providers() {
        let kili = builder("k", peer.endpoint())
            .tls_provider(provider)
            .ca_bundle(tls_file("ca.pem"))
            .build()
            .unwrap();
        assert_eq!(first_label(&kili).unwrap(), "tls-label", "{provider:?}");
    }
}

#[test]
fn wss_without_verification() {
    let peer = tls_label_peer();
    for provider in providers() {
        let kili = builder("k", peer.endpoint())
            .tls_provider(provider)
            .verify_tls(false)
            .build()
            .unwrap();
        assert_eq!(first_label(&kili).unwrap(), "tls-label", "{provider:?}");
    }
}

#[test]
fn wss_refuses_an_unknown_ca_by_default() {
    let peer = tls_label_peer();
    for provider in providers() {
        let kili = builder("k", peer.endpoint())
            .tls_provider(provider)
            .build()
            .unwrap();
        let err = first_label(&kili).unwrap_err();
        assert!(
            matches!(err, kili::Error::Transport { .. }),
            "{provider:?}: {err:?}"
        );
    }
}
