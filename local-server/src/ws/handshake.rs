//! The upgrade: checks the client's request, answers `101` with the chosen subprotocol (or
//! refuses it over HTTP), and hands the connection over to [`conn`](super::conn).

use std::io::Write;

use super::conn::run;
use super::protocol::Protocol;
use crate::http::{GRAPHQL_PATH, RequestHead, Response, Upgrade, answer_and_close};
use crate::shared::Shared;

/// Answers an upgrade request, then runs the WebSocket until it closes or the server stops.
pub(crate) fn serve(upgrade: Upgrade, shared: &Shared, conn_id: u64) {
    let Upgrade {
        mut stream,
        head,
        leftover,
    } = upgrade;
    if head.path != GRAPHQL_PATH {
        let resp = Response::graphql_error(404, "NOT_FOUND", "no WebSocket endpoint here");
        answer_and_close(&mut stream, &resp);
        return;
    }
    match handshake(&head) {
        Ok((response, protocol)) => {
            if stream.write_all(&response).is_ok() {
                run(stream, leftover, protocol, shared, conn_id);
            }
        }
        Err(message) => {
            let resp = Response::graphql_error(400, "BAD_REQUEST", &message);
            answer_and_close(&mut stream, &resp);
        }
    }
}

/// Checks an upgrade request and builds the `101` response, echoing the chosen subprotocol.
///
/// # Errors
///
/// A message for a `400` when the request is not a version-13 WebSocket upgrade or offers no
/// subprotocol we speak (`graphql-ws`, `graphql-transport-ws`).
fn handshake(head: &RequestHead) -> Result<(Vec<u8>, Protocol), String> {
    if head.method != "GET" {
        return Err("a WebSocket upgrade must use GET".into());
    }
    if head.header("sec-websocket-version").map(str::trim) != Some("13") {
        return Err("unsupported Sec-WebSocket-Version; use 13".into());
    }
    let Some(key) = head.header("sec-websocket-key") else {
        return Err("missing Sec-WebSocket-Key".into());
    };
    let offered = head
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-protocol"))
        .map(|(_, v)| v.as_str());
    let Some(protocol) = Protocol::negotiate(offered) else {
        return Err(
            "no supported Sec-WebSocket-Protocol; offer graphql-ws or graphql-transport-ws".into(),
        );
    };
    let accept = tungstenite::handshake::derive_accept_key(key.trim().as_bytes());
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: {}\r\nDate: {}\r\n\r\n",
        protocol.token(),
        crate::time::http_date()
    );
    Ok((response.into_bytes(), protocol))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Parse, parse_head};

    fn head(extra: &str) -> RequestHead {
        let raw = format!(
            "GET /api/label/v2/graphql HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra}\r\n"
        );
        match parse_head(raw.as_bytes()) {
            Parse::Complete(h) => h,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn accepts_known_subprotocols() {
        let (resp, p) = handshake(&head("Sec-WebSocket-Protocol: graphql-ws\r\n")).unwrap();
        assert_eq!(p, Protocol::GraphqlWs);
        let text = String::from_utf8(resp).unwrap();
        // The RFC 6455 example key and accept value.
        assert!(text.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
        assert!(text.contains("Sec-WebSocket-Protocol: graphql-ws\r\n"));
    }

    #[test]
    fn refuses_unknown_or_missing_subprotocol() {
        assert!(handshake(&head("")).is_err());
        assert!(handshake(&head("Sec-WebSocket-Protocol: chat\r\n")).is_err());
    }
}
