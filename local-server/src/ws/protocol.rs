//! The two GraphQL-over-WebSocket protocols as a pure state machine: frames in, [`Action`]s out.
//! The connection loop (`ws::conn`) only moves bytes and runs the streams it is told to start.
//!
//! * `graphql-ws` (legacy Apollo): `connection_init` → `connection_ack` (+ `ka`), `start` →
//!   `data`* → `complete`, `stop` → `complete`, `error` for operations that fail before
//!   executing, `connection_error` for a bad init or an unreadable frame, `connection_terminate`.
//! * `graphql-transport-ws`: `connection_init` → `connection_ack`, `subscribe` → `next`* →
//!   `complete`, `error` (an array) ends an operation, `ping`/`pong`, close codes 4400, 4401,
//!   4403, 4408, 4409, 4429.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::schema::OVERFLOW_CODE;
use crate::store::UserRec;

/// A WebSocket subprotocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// `graphql-ws`: the legacy Apollo protocol, the one Kili's SDK uses.
    GraphqlWs,
    /// `graphql-transport-ws`: the newer graphql-ws library's protocol.
    GraphqlTransportWs,
}

impl Protocol {
    /// Returns the `Sec-WebSocket-Protocol` token.
    pub(crate) fn token(self) -> &'static str {
        match self {
            Protocol::GraphqlWs => "graphql-ws",
            Protocol::GraphqlTransportWs => "graphql-transport-ws",
        }
    }

    /// Picks the first protocol we speak among a `Sec-WebSocket-Protocol` list, in the client's
    /// order.
    pub(crate) fn negotiate<'a>(offered: impl IntoIterator<Item = &'a str>) -> Option<Protocol> {
        offered
            .into_iter()
            .flat_map(|h| h.split(','))
            .find_map(|p| match p.trim() {
                t if t.eq_ignore_ascii_case("graphql-ws") => Some(Protocol::GraphqlWs),
                t if t.eq_ignore_ascii_case("graphql-transport-ws") => {
                    Some(Protocol::GraphqlTransportWs)
                }
                _ => None,
            })
    }
}

/// What the connection loop must do.
#[derive(Debug)]
pub(crate) enum Action {
    /// Send a text frame.
    Send(String),
    /// Start executing an operation for the authenticated user.
    Start {
        id: String,
        request: Box<async_graphql::Request>,
        user: Box<UserRec>,
    },
    /// Drop an operation's stream (no frame).
    Stop { id: String },
    /// Send a close frame and end the connection.
    Close { code: u16, reason: String },
}

/// One connection's protocol state.
#[derive(Debug)]
pub(crate) struct Session {
    protocol: Protocol,
    user: Option<UserRec>,
    /// Active operations: id → whether a result was already sent.
    active: HashMap<String, bool>,
    keep_alive: bool,
    /// Most operations active at once.
    max_active: usize,
}

fn frame(v: Value) -> Action {
    Action::Send(v.to_string())
}

impl Session {
    /// Starts a session; `keep_alive` makes `graphql-ws` send `ka` right after the ack; at most
    /// `max_active` operations run at once (more are refused with an `error` frame).
    pub(crate) fn new(protocol: Protocol, keep_alive: bool, max_active: usize) -> Self {
        Session {
            protocol,
            user: None,
            active: HashMap::new(),
            keep_alive,
            max_active,
        }
    }

    /// Returns whether `connection_init` was accepted.
    pub(crate) fn is_ready(&self) -> bool {
        self.user.is_some()
    }

    /// Returns the periodic keep-alive frame, if this protocol has one and the session is ready.
    pub(crate) fn keep_alive_frame(&self) -> Option<Action> {
        (self.protocol == Protocol::GraphqlWs && self.is_ready())
            .then(|| frame(json!({"type": "ka"})))
    }

    /// Handles a client that did not send `connection_init` in time.
    pub(crate) fn on_init_timeout(&self) -> Vec<Action> {
        if self.is_ready() {
            return Vec::new();
        }
        vec![Action::Close {
            code: 4408,
            reason: "Connection initialisation timeout".into(),
        }]
    }

    /// Handles a text frame from the client. `authenticate` maps an init payload to a user.
    pub(crate) fn on_text(
        &mut self,
        text: &str,
        authenticate: &dyn Fn(&Value) -> Option<UserRec>,
    ) -> Vec<Action> {
        let msg: Value = match serde_json::from_str(text) {
            Ok(v @ Value::Object(_)) => v,
            _ => return self.bad_message("the message is not a JSON object"),
        };
        let kind = msg.get("type").and_then(Value::as_str).unwrap_or("");
        let id = msg.get("id").and_then(Value::as_str).map(str::to_owned);
        let payload = msg.get("payload").cloned().unwrap_or(Value::Null);
        match (self.protocol, kind) {
            (_, "connection_init") => self.on_init(&payload, authenticate),
            (Protocol::GraphqlWs, "start") | (Protocol::GraphqlTransportWs, "subscribe") => {
                match id {
                    Some(id) => self.on_start(id, payload),
                    None => self.bad_message("the message has no id"),
                }
            }
            (Protocol::GraphqlWs, "stop") => {
                let id = id.unwrap_or_default();
                let mut out = Vec::new();
                if self.active.remove(&id).is_some() {
                    out.push(Action::Stop { id: id.clone() });
                }
                // Always answered, even for an operation already over: the SDK waits for it.
                out.push(frame(json!({"type": "complete", "id": id})));
                out
            }
            (Protocol::GraphqlTransportWs, "complete") => {
                let id = id.unwrap_or_default();
                match self.active.remove(&id) {
                    Some(_) => vec![Action::Stop { id }],
                    None => Vec::new(),
                }
            }
            (Protocol::GraphqlWs, "connection_terminate") => {
                vec![Action::Close {
                    code: 1000,
                    reason: String::new(),
                }]
            }
            (Protocol::GraphqlTransportWs, "ping") => {
                let mut pong = json!({"type": "pong"});
                if !payload.is_null() {
                    pong["payload"] = payload;
                }
                vec![frame(pong)]
            }
            (Protocol::GraphqlTransportWs, "pong") => Vec::new(),
            _ => self.bad_message(&format!("unknown message type {kind:?}")),
        }
    }

    fn bad_message(&self, message: &str) -> Vec<Action> {
        match self.protocol {
            // "parsing errors of the message (which does not disconnect the client)"
            Protocol::GraphqlWs => {
                vec![frame(
                    json!({"type": "connection_error", "payload": {"message": message}}),
                )]
            }
            Protocol::GraphqlTransportWs => {
                vec![Action::Close {
                    code: 4400,
                    reason: truncate(message),
                }]
            }
        }
    }

    fn on_init(
        &mut self,
        payload: &Value,
        authenticate: &dyn Fn(&Value) -> Option<UserRec>,
    ) -> Vec<Action> {
        if self.is_ready() {
            return match self.protocol {
                Protocol::GraphqlWs => vec![frame(json!({"type": "connection_ack"}))],
                Protocol::GraphqlTransportWs => vec![Action::Close {
                    code: 4429,
                    reason: "Too many initialisation requests".into(),
                }],
            };
        }
        match authenticate(payload) {
            Some(user) => {
                self.user = Some(user);
                let mut out = vec![frame(json!({"type": "connection_ack"}))];
                if self.keep_alive {
                    out.extend(self.keep_alive_frame());
                }
                out
            }
            None => {
                let message = "[unauthenticated] connection_init carries no valid API key";
                let mut out = Vec::new();
                if self.protocol == Protocol::GraphqlWs {
                    out.push(frame(
                        json!({"type": "connection_error", "payload": {"message": message}}),
                    ));
                }
                out.push(Action::Close {
                    code: 4403,
                    reason: "Forbidden".into(),
                });
                out
            }
        }
    }

    fn on_start(&mut self, id: String, payload: Value) -> Vec<Action> {
        let Some(user) = self.user.clone() else {
            return match self.protocol {
                Protocol::GraphqlWs => vec![self.error_frame(&id, "connection not initialised")],
                Protocol::GraphqlTransportWs => {
                    vec![Action::Close {
                        code: 4401,
                        reason: "Unauthorized".into(),
                    }]
                }
            };
        };
        let mut out = Vec::new();
        if self.active.contains_key(&id) {
            match self.protocol {
                Protocol::GraphqlTransportWs => {
                    return vec![Action::Close {
                        code: 4409,
                        reason: truncate(&format!("Subscriber for {id} already exists")),
                    }];
                }
                // "if we already have a subscription with this id, unsubscribe from it first"
                Protocol::GraphqlWs => {
                    self.active.remove(&id);
                    out.push(Action::Stop { id: id.clone() });
                }
            }
        }
        if self.active.len() >= self.max_active {
            let message = format!(
                "[tooManySubscriptions] at most {} operations per connection",
                self.max_active
            );
            out.push(self.error_frame(&id, &message));
            return out;
        }
        match serde_json::from_value::<async_graphql::Request>(payload) {
            Ok(request) => {
                self.active.insert(id.clone(), false);
                out.push(Action::Start {
                    id,
                    request: Box::new(request),
                    user: Box::new(user),
                });
            }
            Err(e) => match self.protocol {
                Protocol::GraphqlWs => {
                    out.push(self.error_frame(&id, &format!("invalid payload: {e}")))
                }
                Protocol::GraphqlTransportWs => {
                    out.push(Action::Close {
                        code: 4400,
                        reason: truncate(&format!("invalid payload: {e}")),
                    });
                }
            },
        }
        out
    }

    fn error_frame(&self, id: &str, message: &str) -> Action {
        let error = json!({"message": message});
        match self.protocol {
            Protocol::GraphqlWs => frame(json!({"type": "error", "id": id, "payload": error})),
            Protocol::GraphqlTransportWs => {
                frame(json!({"type": "error", "id": id, "payload": [error]}))
            }
        }
    }

    /// Handles a result of operation `id`. A first result with errors and no data means the
    /// operation failed before executing (validation, access): that is an `error` frame and ends
    /// it.
    pub(crate) fn on_result(
        &mut self,
        id: &str,
        response: &async_graphql::Response,
    ) -> Vec<Action> {
        let Some(sent) = self.active.get_mut(id) else {
            return Vec::new();
        };
        let first = !*sent;
        *sent = true;
        let overflowed = response.errors.iter().any(|e| {
            e.extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .is_some_and(|c| *c == async_graphql::Value::from(OVERFLOW_CODE))
        });
        if (first || overflowed) && response.is_err() && response.data == async_graphql::Value::Null
        {
            self.active.remove(id);
            let errors = serde_json::to_value(&response.errors).unwrap_or(Value::Null);
            let payload = match self.protocol {
                Protocol::GraphqlWs => errors.get(0).cloned().unwrap_or(Value::Null),
                Protocol::GraphqlTransportWs => errors,
            };
            return vec![
                frame(json!({"type": "error", "id": id, "payload": payload})),
                Action::Stop { id: id.to_owned() },
            ];
        }
        let kind = match self.protocol {
            Protocol::GraphqlWs => "data",
            Protocol::GraphqlTransportWs => "next",
        };
        let payload = serde_json::to_value(response).unwrap_or(Value::Null);
        vec![frame(json!({"type": kind, "id": id, "payload": payload}))]
    }

    /// Ends operation `id` (its stream ended, or it reached its lifetime): sends `complete` and
    /// drops it.
    pub(crate) fn on_end(&mut self, id: &str) -> Vec<Action> {
        match self.active.remove(id) {
            Some(_) => vec![
                Action::Stop { id: id.to_owned() },
                frame(json!({"type": "complete", "id": id})),
            ],
            None => Vec::new(),
        }
    }
}

/// Cuts a close reason to fit a control frame (123 bytes).
fn truncate(s: &str) -> String {
    let mut end = s.len().min(120);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> UserRec {
        UserRec {
            id: "u1".into(),
            email: "e@x".into(),
            api_key: "k".into(),
            api_key_id: "ak".into(),
            firstname: "e".into(),
            lastname: "L".into(),
            created_at: 0,
        }
    }

    fn auth(p: &Value) -> Option<UserRec> {
        (crate::ws::auth::key_from_init_payload(p) == Some("k")).then(user)
    }

    fn sent(actions: &[Action]) -> Vec<Value> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Send(t) => serde_json::from_str(t).ok(),
                _ => None,
            })
            .collect()
    }

    const INIT: &str = r#"{"type":"connection_init","payload":{"Authorization":"X-API-Key: k"}}"#;
    const START: &str = r#"{"type":"start","id":"1","payload":{"query":"subscription { x }"}}"#;

    #[test]
    fn negotiates_in_client_order() {
        assert_eq!(
            Protocol::negotiate(["foo, graphql-ws"]),
            Some(Protocol::GraphqlWs)
        );
        assert_eq!(
            Protocol::negotiate(["graphql-transport-ws", "graphql-ws"]),
            Some(Protocol::GraphqlTransportWs)
        );
        assert_eq!(Protocol::negotiate(["mqtt"]), None);
        assert_eq!(Protocol::negotiate([]), None);
    }

    #[test]
    fn legacy_init_ack_ka_start_stop() {
        let mut s = Session::new(Protocol::GraphqlWs, true, 100);
        let out = s.on_text(INIT, &auth);
        assert_eq!(
            sent(&out),
            vec![json!({"type": "connection_ack"}), json!({"type": "ka"})]
        );
        let out = s.on_text(START, &auth);
        assert!(matches!(&out[..], [Action::Start { id, .. }] if id == "1"));
        let out = s.on_text(r#"{"type":"stop","id":"1"}"#, &auth);
        assert!(matches!(&out[0], Action::Stop { id } if id == "1"));
        assert_eq!(sent(&out), vec![json!({"type": "complete", "id": "1"})]);
        // A stop for an operation already over is still answered.
        let out = s.on_text(r#"{"type":"stop","id":"1"}"#, &auth);
        assert_eq!(sent(&out), vec![json!({"type": "complete", "id": "1"})]);
        let out = s.on_text(r#"{"type":"connection_terminate"}"#, &auth);
        assert!(matches!(&out[..], [Action::Close { code: 1000, .. }]));
    }

    #[test]
    fn legacy_rejects_bad_key_with_connection_error_then_close() {
        let mut s = Session::new(Protocol::GraphqlWs, false, 100);
        let out = s.on_text(r#"{"type":"connection_init","payload":{}}"#, &auth);
        assert_eq!(sent(&out)[0]["type"], "connection_error");
        assert!(matches!(out.last(), Some(Action::Close { code: 4403, .. })));
        assert!(!s.is_ready());
    }

    #[test]
    fn legacy_start_before_init_and_garbage_are_errors_not_closes() {
        let mut s = Session::new(Protocol::GraphqlWs, false, 100);
        let out = s.on_text(START, &auth);
        assert_eq!(sent(&out)[0]["type"], "error");
        let out = s.on_text("not json", &auth);
        assert_eq!(sent(&out)[0]["type"], "connection_error");
        assert!(s.keep_alive_frame().is_none());
    }

    #[test]
    fn legacy_duplicate_start_replaces() {
        let mut s = Session::new(Protocol::GraphqlWs, false, 100);
        s.on_text(INIT, &auth);
        s.on_text(START, &auth);
        let out = s.on_text(START, &auth);
        assert!(matches!(
            &out[..],
            [Action::Stop { .. }, Action::Start { .. }]
        ));
    }

    #[test]
    fn transport_close_codes() {
        let mut s = Session::new(Protocol::GraphqlTransportWs, true, 100);
        let sub = r#"{"type":"subscribe","id":"a","payload":{"query":"subscription { x }"}}"#;
        assert!(matches!(
            &s.on_text(sub, &auth)[..],
            [Action::Close { code: 4401, .. }]
        ));
        let out = s.on_text(INIT, &auth);
        assert_eq!(
            sent(&out),
            vec![json!({"type": "connection_ack"})],
            "no ka in this protocol"
        );
        assert!(matches!(
            &s.on_text(INIT, &auth)[..],
            [Action::Close { code: 4429, .. }]
        ));
        assert!(matches!(&s.on_text(sub, &auth)[..], [Action::Start { .. }]));
        assert!(matches!(
            &s.on_text(sub, &auth)[..],
            [Action::Close { code: 4409, .. }]
        ));
        assert!(matches!(
            &s.on_text("[]", &auth)[..],
            [Action::Close { code: 4400, .. }]
        ));
        let out = s.on_text(r#"{"type":"ping","payload":{"n":1}}"#, &auth);
        assert_eq!(
            sent(&out),
            vec![json!({"type": "pong", "payload": {"n": 1}})]
        );
        let out = s.on_text(r#"{"type":"complete","id":"a"}"#, &auth);
        assert!(matches!(&out[..], [Action::Stop { .. }]));
        assert!(
            s.on_text(r#"{"type":"complete","id":"a"}"#, &auth)
                .is_empty()
        );
    }

    #[test]
    fn transport_bad_key_closes_4403() {
        let mut s = Session::new(Protocol::GraphqlTransportWs, false, 100);
        let out = s.on_text(r#"{"type":"connection_init"}"#, &auth);
        assert!(matches!(&out[..], [Action::Close { code: 4403, .. }]));
        assert!(matches!(
            &s.on_init_timeout()[..],
            [Action::Close { code: 4408, .. }]
        ));
    }

    #[test]
    fn results_become_data_error_and_complete() {
        for (protocol, kind) in [
            (Protocol::GraphqlWs, "data"),
            (Protocol::GraphqlTransportWs, "next"),
        ] {
            let mut s = Session::new(protocol, false, 100);
            s.on_text(INIT, &auth);
            let start = START.replace("start", if kind == "data" { "start" } else { "subscribe" });
            s.on_text(&start, &auth);
            let ok = async_graphql::Response::new(
                async_graphql::Value::from_json(json!({"x": 1})).unwrap(),
            );
            let out = sent(&s.on_result("1", &ok));
            assert_eq!(out[0]["type"], kind);
            assert_eq!(out[0]["payload"]["data"]["x"], 1);
            let out = s.on_end("1");
            assert_eq!(sent(&out), vec![json!({"type": "complete", "id": "1"})]);
            assert!(s.on_end("1").is_empty());

            s.on_text(&start.replace("\"1\"", "\"2\""), &auth);
            let failed =
                async_graphql::Response::from_errors(vec![async_graphql::ServerError::new(
                    "nope", None,
                )]);
            let out = s.on_result("2", &failed);
            let frames = sent(&out);
            assert_eq!(frames[0]["type"], "error");
            let message = if protocol == Protocol::GraphqlWs {
                &frames[0]["payload"]["message"]
            } else {
                &frames[0]["payload"][0]["message"]
            };
            assert_eq!(message, "nope");
            assert!(s.on_end("2").is_empty(), "an error already ended it");
        }
    }
}
