//! wss:// with the client's TLS settings: an extra CA, verification off, and the default roots
//! (which must refuse a private CA). The server is a tiny TLS WebSocket peer in the test.

mod common;
#[path = "tls_support/mod.rs"]
mod tls_support;

use std::net::TcpListener;

use common::PATIENCE;
use kili::{Kili, StreamEvent, TlsProvider};
use serde_json::{Value, json};
use tungstenite::Message;

/// A wss:// server for one label event per connection; returns its https:// endpoint.
fn tls_label_server() -> String {
    let config = tls_support::server_config();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { continue };
            let config = config.clone();
            std::thread::spawn(move || {
                serve(rustls::StreamOwned::new(
                    rustls::ServerConnection::new(config).unwrap(),
                    tcp,
                ))
            });
        }
    });
    format!("https://localhost:{port}/api/label/v2/graphql")
}

#[allow(clippy::result_large_err)] // tungstenite's handshake callback type
fn serve(tls: rustls::StreamOwned<rustls::ServerConnection, std::net::TcpStream>) {
    let echo = |_: &tungstenite::handshake::server::Request,
                mut resp: tungstenite::handshake::server::Response| {
        resp.headers_mut()
            .insert("Sec-WebSocket-Protocol", "graphql-ws".parse().unwrap());
        Ok(resp)
    };
    let Ok(mut ws) = tungstenite::accept_hdr(tls, echo) else {
        return;
    };
    let Some(init) = read_json(&mut ws) else {
        return;
    };
    assert_eq!(init["type"], "connection_init");
    let _ = ws.send(Message::text(json!({"type": "connection_ack"}).to_string()));
    let (Some(start), Some(probe)) = (read_json(&mut ws), read_json(&mut ws)) else {
        return;
    };
    let _ = ws.send(Message::text(
        json!({"type": "complete", "id": probe["id"]}).to_string(),
    ));
    let label = json!({"id": "tls-label", "jsonResponse": "{}", "labelOf": {"id": "a"}});
    let frame = json!({"type": "data", "id": start["id"], "payload": {"data": {"data": label}}});
    let _ = ws.send(Message::text(frame.to_string()));
    while ws.read().is_ok() {}
}

fn read_json<S: std::io::Read + std::io::Write>(
    ws: &mut tungstenite::WebSocket<S>,
) -> Option<Value> {
    serde_json::from_str(ws.read().ok()?.to_text().ok()?).ok()
}

fn first_label(kili: &Kili) -> kili::Result<String> {
    let events = kili.label_events("p")?;
    loop {
        if let StreamEvent::Event(e) = events.recv_timeout(PATIENCE).expect("an event over wss") {
            return Ok(e.label.id);
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
    let endpoint = tls_label_server();
    for provider in providers() {
        let kili = Kili::builder()
            .api_key("k")
            .endpoint(&endpoint)
            .tls_provider(provider)
            .ca_bundle(tls_support::data("ca.pem"))
            .build()
            .unwrap();
        assert_eq!(first_label(&kili).unwrap(), "tls-label", "{provider:?}");
    }
}

#[test]
fn wss_without_verification() {
    let endpoint = tls_label_server();
    for provider in providers() {
        let kili = Kili::builder()
            .api_key("k")
            .endpoint(&endpoint)
            .tls_provider(provider)
            .verify_tls(false)
            .build()
            .unwrap();
        assert_eq!(first_label(&kili).unwrap(), "tls-label", "{provider:?}");
    }
}

#[test]
fn wss_refuses_an_unknown_ca_by_default() {
    let endpoint = tls_label_server();
    for provider in providers() {
        let kili = Kili::builder()
            .api_key("k")
            .endpoint(&endpoint)
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
