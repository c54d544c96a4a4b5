//! The GraphQL-over-WebSocket protocols as a pure state machine: no sockets, no clocks.
//!
//! The worker feeds it [`Input`]s (the socket opened, a text frame arrived, the peer closed, a
//! timer fired, the user asked to close) and carries out the [`Action`]s it returns (send this
//! text, the subscription is established, deliver this frame, end the connection). Both protocols
//! are spoken:
//!
//! - [`WsProtocol::GraphqlWs`](crate::WsProtocol::GraphqlWs): subprotocol `graphql-ws`, Apollo's legacy protocol, the one Kili
//!   speaks (`connection_init`, `connection_ack`, `ka`, `start`, `data`, `error`, `complete`,
//!   `stop`, `connection_terminate`);
//! - [`WsProtocol::GraphqlTransportWs`](crate::WsProtocol::GraphqlTransportWs): subprotocol `graphql-transport-ws` (`subscribe`, `next`,
//!   `ping`/`pong`, close codes 44xx).
//!
//! After `connection_ack` the machine sends the subscription's `start` and then a *probe*: a
//! one-shot `{ __typename }` query under another id. Servers answer operations in order, so the
//! probe's answer tells that the subscription is registered (events published afterwards reach
//! it) and that it passed validation. Frames of the subscription that arrive before the probe's
//! answer are held back and released after [`Action::Ready`], so the worker can deliver missed
//! events first. A server that does not answer the probe is tolerated: the worker feeds
//! [`Input::ConfirmTimeout`] and the machine goes on as if it had answered. Without a probe
//! (the SDK's exact frames), the first result or that timeout establishes the subscription.
//!
//! Once active, a server that answered the probe can be sent *markers*: the same query under
//! numbered ids ([`Machine::marker`]). A marker's answer ([`Action::Marker`]) comes after every
//! result the server published before it read the marker: a point of the stream that the
//! worker uses to tell the echoes of a catch-up from later events.
//!
//! Frames are read with a borrowing envelope (`type`, `id`, the payload as raw text): protocol
//! frames are recognised without parsing their payload, and a result's payload is handed on as
//! text for the feed to decode straight into its own types.
//!
//! Only a refused key, a rejected subscription or a protocol violation end a subscription for
//! good; everything else is retried. A refusal the server does not explain (`connection_error`,
//! a policy close during the handshake, 4403) is reported as [`End::Refused`], for the worker to
//! check the key before giving up.
//!
//! Nothing here panics on any input: malformed frames become [`Action::Ignored`].

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::error::{Error, GraphQlError};
use crate::subscription::options::WsProtocol;

/// The probe's document: valid on every GraphQL schema.
const PROBE_QUERY: &str = "query { __typename }";

/// The operation to subscribe to.
#[derive(Clone)]
pub(crate) struct Operation {
    /// The GraphQL document.
    pub(crate) query: String,
    /// Its variables.
    pub(crate) variables: Value,
    /// Extra members of the `start` payload (`graphql-ws` only): the SDK sends its headers there.
    pub(crate) start_extra: Map<String, Value>,
}

/// Hides `start_extra`, which carries the API key in the SDK's headers.
impl std::fmt::Debug for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operation")
            .field("query", &self.query)
            .field("variables", &self.variables)
            .field("start_extra", &crate::client::config::Redacted)
            .finish()
    }
}

/// What happened, as seen by the machine.
#[derive(Debug)]
pub(crate) enum Input<'a> {
    /// The WebSocket handshake completed.
    Opened,
    /// A text frame arrived.
    Text(&'a str),
    /// A binary frame arrived (neither protocol uses them).
    Binary(&'a [u8]),
    /// The peer closed the connection: with a close frame (`code`), or without one (`None`).
    Closed {
        /// The close code, if a close frame was received.
        code: Option<u16>,
        /// The close reason (empty if none).
        reason: &'a str,
    },
    /// `connection_ack` did not arrive within the given time.
    AckTimeout(std::time::Duration),
    /// The probe was not answered in time.
    ConfirmTimeout,
    /// The user wants the connection closed.
    Close,
}

/// Why a connection ended, and what to do next.
#[derive(Debug)]
pub(crate) enum End {
    /// Do not retry (invalid document, broken protocol).
    Fatal(Error),
    /// The server refused the connection without saying why: fatal if the API key is refused,
    /// retried otherwise.
    Refused(Error),
    /// Reconnect with backoff.
    Retry(Error),
    /// The server completed the subscription normally (e.g. its lifetime ended): resubscribe.
    Completed,
    /// Our own close finished.
    Closed,
}

/// What the worker must do.
#[derive(Debug)]
pub(crate) enum Action {
    /// Send this text frame.
    Send(String),
    /// The subscription is established (acknowledged, started and confirmed or timed out).
    Ready,
    /// A result of the subscription: its payload (`{"data": ..., "errors": ...}`), as text.
    Deliver(Box<RawValue>),
    /// The server answered marker `n` (and every marker before it): every result it
    /// published before it read the marker has been handed over.
    Marker(u64),
    /// A frame was dropped; the text says why (for logs).
    Ignored(String),
    /// The connection is over.
    End(End),
}

/// Where the connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Waiting for the WebSocket to open.
    Opening,
    /// `connection_init` sent, waiting for `connection_ack`.
    AwaitingAck,
    /// `start` and the probe sent, waiting for the probe's answer.
    Confirming,
    /// Events flow.
    Active,
    /// We asked to close; waiting for the peer.
    Closing,
    /// Over.
    Ended,
}

/// One connection's protocol state.
pub(crate) struct Machine {
    protocol: WsProtocol,
    phase: Phase,
    id: String,
    /// The probe's id; `None` without a probe.
    probe_id: Option<String>,
    /// Whether the server answered the probe (markers are sent only then).
    probe_answered: bool,
    /// Markers sent, and the highest answered.
    markers_sent: u64,
    markers_answered: u64,
    init_payload: Value,
    operation: Operation,
    /// Frames of the subscription held back while confirming.
    held: Vec<Action>,
    /// Whether the server accepted the subscription (sent it a result), on this connection or
    /// an earlier one: a later result with errors only is then not a rejection.
    accepted: bool,
}

/// Hides `connection_init`'s payload, which carries the API key (and the operation's headers,
/// see [`Operation`]); the held frames are counted, not shown.
impl std::fmt::Debug for Machine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Machine")
            .field("protocol", &self.protocol)
            .field("phase", &self.phase)
            .field("id", &self.id)
            .field("probe_id", &self.probe_id)
            .field("markers", &(self.markers_answered, self.markers_sent))
            .field("init_payload", &crate::client::config::Redacted)
            .field("operation", &self.operation)
            .field("held", &self.held.len())
            .field("accepted", &self.accepted)
            .finish()
    }
}

impl Machine {
    /// Creates a machine for one connection. `id` names the subscription, `probe_id` the probe
    /// (`None`: no probe, no markers); they must differ. `accepted` tells that an earlier
    /// connection's server accepted the subscription.
    pub(crate) fn new(
        protocol: WsProtocol,
        id: String,
        probe_id: Option<String>,
        init_payload: Value,
        operation: Operation,
        accepted: bool,
    ) -> Machine {
        Machine {
            protocol,
            phase: Phase::Opening,
            id,
            probe_id,
            probe_answered: false,
            markers_sent: 0,
            markers_answered: 0,
            init_payload,
            operation,
            held: Vec::new(),
            accepted,
        }
    }

    /// Returns the current phase.
    pub(crate) fn phase(&self) -> Phase {
        self.phase
    }

    /// Returns whether the server accepted the subscription (now or on an earlier connection).
    pub(crate) fn accepted(&self) -> bool {
        self.accepted
    }

    /// Returns whether a frame of this type and id is a result of the subscription that the machine
    /// would hand over as it is ([`Action::Deliver`]), changing nothing: the worker may then
    /// decode the frame in one pass, straight into the feed's payload type (see
    /// [`ResultFrame`]), and skip [`handle`](Self::handle).
    pub(crate) fn passes_result(&self, kind: &str, id: Option<&str>) -> bool {
        let data = match self.protocol {
            WsProtocol::GraphqlWs => "data",
            WsProtocol::GraphqlTransportWs => "next",
        };
        self.phase == Phase::Active && self.accepted && kind == data && id == Some(&self.id)
    }

    /// Returns the protocol spoken.
    #[cfg(test)]
    pub(crate) fn protocol(&self) -> WsProtocol {
        self.protocol
    }

    /// Returns the frame that asks the server for a sign of life, if the protocol has one (`ping` on
    /// `graphql-transport-ws`; `graphql-ws` has none, the worker uses a WebSocket ping).
    pub(crate) fn keepalive_ping(&self) -> Option<String> {
        match self.protocol {
            WsProtocol::GraphqlTransportWs => Some(json!({"type": "ping"}).to_string()),
            WsProtocol::GraphqlWs => None,
        }
    }

    /// Returns whether `text` is a `graphql-ws` keep-alive as servers write it (`{"type":"ka"}`), which
    /// needs nothing done: told without parsing, since an idle subscription gets one every few
    /// seconds. Other spellings go through [`handle`](Self::handle) and mean the same.
    pub(crate) fn is_keep_alive(&self, text: &str) -> bool {
        self.protocol == WsProtocol::GraphqlWs
            && self.phase != Phase::Ended
            && text == r#"{"type":"ka"}"#
    }

    /// Returns the next marker to send (its number and frame), if the server answers probes
    /// and the subscription is active; `None` otherwise.
    pub(crate) fn marker(&mut self) -> Option<(u64, String)> {
        if self.phase != Phase::Active || !self.probe_answered {
            return None;
        }
        let probe_id = self.probe_id.as_deref()?;
        self.markers_sent += 1;
        let n = self.markers_sent;
        let id = format!("{probe_id}-{n}");
        let frame = self.start_frame(&id, PROBE_QUERY, &json!({}), &self.operation.start_extra);
        Some((n, frame))
    }

    /// Returns the number of a marker's answer frame, if `id` names one of the markers sent.
    fn marker_number(&self, id: &str) -> Option<u64> {
        let probe_id = self.probe_id.as_deref()?;
        let n: u64 = id.strip_prefix(probe_id)?.strip_prefix('-')?.parse().ok()?;
        (1..=self.markers_sent).contains(&n).then_some(n)
    }

    /// Handles an answer (data, error or completion) to the probe or a marker, if `id` names
    /// one of them.
    fn probe_or_marker(&mut self, id: Option<&str>) -> Option<Vec<Action>> {
        let id = id?;
        if self.is_probe(id) {
            return Some(self.on_probe_answer());
        }
        self.marker_number(id).map(|n| self.on_marker(n))
    }

    /// Handles an answer (data, error or completion) to marker `n`: the first answer counts.
    fn on_marker(&mut self, n: u64) -> Vec<Action> {
        if n <= self.markers_answered {
            return vec![];
        }
        self.markers_answered = n;
        vec![Action::Marker(n)]
    }

    /// Feeds one input; returns what to do, in order.
    pub(crate) fn handle(&mut self, input: Input<'_>) -> Vec<Action> {
        if self.phase == Phase::Ended {
            return vec![Action::Ignored("input after the connection ended".into())];
        }
        match input {
            Input::Opened => self.on_opened(),
            Input::Text(text) => self.on_text(text),
            Input::Binary(b) => vec![Action::Ignored(format!(
                "binary frame of {} bytes",
                b.len()
            ))],
            Input::Closed { code, reason } => self.on_closed(code, reason),
            Input::AckTimeout(after) => match self.phase {
                Phase::Opening | Phase::AwaitingAck => self.end(End::Retry(Error::Timeout {
                    operation: "connection_ack".into(),
                    after,
                })),
                _ => vec![],
            },
            Input::ConfirmTimeout => match self.phase {
                Phase::Confirming => self.become_ready(),
                _ => vec![],
            },
            Input::Close => self.on_close(),
        }
    }

    fn end(&mut self, end: End) -> Vec<Action> {
        self.phase = Phase::Ended;
        self.held.clear();
        vec![Action::End(end)]
    }

    fn on_opened(&mut self) -> Vec<Action> {
        if self.phase != Phase::Opening {
            return vec![Action::Ignored("opened twice".into())];
        }
        self.phase = Phase::AwaitingAck;
        let frame = json!({"type": "connection_init", "payload": self.init_payload});
        vec![Action::Send(frame.to_string())]
    }

    fn start_frame(
        &self,
        id: &str,
        query: &str,
        variables: &Value,
        extra: &Map<String, Value>,
    ) -> String {
        let mut payload = Map::new();
        if self.protocol == WsProtocol::GraphqlWs {
            payload.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        payload.insert("query".into(), Value::String(query.to_owned()));
        payload.insert("variables".into(), variables.clone());
        let kind = match self.protocol {
            WsProtocol::GraphqlWs => "start",
            WsProtocol::GraphqlTransportWs => "subscribe",
        };
        json!({"id": id, "type": kind, "payload": payload}).to_string()
    }

    fn on_ack(&mut self) -> Vec<Action> {
        if self.phase != Phase::AwaitingAck {
            return vec![Action::Ignored(
                "connection_ack when not waiting for one".into(),
            )];
        }
        self.phase = Phase::Confirming;
        let op = &self.operation;
        let start = self.start_frame(&self.id, &op.query, &op.variables, &op.start_extra);
        let mut out = vec![Action::Send(start)];
        if let Some(probe_id) = &self.probe_id {
            let probe = self.start_frame(probe_id, PROBE_QUERY, &json!({}), &op.start_extra);
            out.push(Action::Send(probe));
        }
        out
    }

    /// Returns whether `id` is the probe's.
    fn is_probe(&self, id: &str) -> bool {
        self.probe_id.as_deref() == Some(id)
    }

    /// Handles the probe's answer (data, error or completion).
    fn on_probe_answer(&mut self) -> Vec<Action> {
        match self.phase {
            Phase::Confirming => {
                self.probe_answered = true;
                self.become_ready()
            }
            _ => vec![],
        }
    }

    fn become_ready(&mut self) -> Vec<Action> {
        self.phase = Phase::Active;
        let mut out = vec![Action::Ready];
        out.append(&mut self.held);
        out
    }

    fn on_close(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        match self.phase {
            Phase::Opening => return self.end(End::Closed),
            Phase::Closing | Phase::Ended => return out,
            Phase::Confirming | Phase::Active => {
                out.push(Action::Send(self.stop_frame(&self.id)));
                if self.phase == Phase::Confirming
                    && let Some(probe_id) = &self.probe_id
                {
                    out.push(Action::Send(self.stop_frame(probe_id)));
                }
            }
            Phase::AwaitingAck => {}
        }
        if self.protocol == WsProtocol::GraphqlWs {
            out.push(Action::Send(
                json!({"type": "connection_terminate"}).to_string(),
            ));
        }
        self.held.clear();
        self.phase = Phase::Closing;
        out
    }

    fn stop_frame(&self, id: &str) -> String {
        let kind = match self.protocol {
            WsProtocol::GraphqlWs => "stop",
            WsProtocol::GraphqlTransportWs => "complete",
        };
        json!({"id": id, "type": kind}).to_string()
    }

    fn on_closed(&mut self, code: Option<u16>, reason: &str) -> Vec<Action> {
        if self.phase == Phase::Closing {
            return self.end(End::Closed);
        }
        let describe = || match code {
            Some(c) if reason.is_empty() => format!("the server closed the connection (code {c})"),
            Some(c) => format!("the server closed the connection (code {c}: {reason})"),
            None => "the connection was lost".to_owned(),
        };
        let end = match (self.protocol, code) {
            (WsProtocol::GraphqlTransportWs, Some(4403)) => End::Refused(Error::Authentication {
                message: if reason.is_empty() {
                    "forbidden".into()
                } else {
                    reason.to_owned()
                },
            }),
            // Violations of the protocol, by one side or the other: retrying repeats them.
            (WsProtocol::GraphqlTransportWs, Some(4400 | 4401 | 4406 | 4409 | 4429)) => {
                End::Fatal(Error::Protocol {
                    message: describe(),
                })
            }
            // A close while waiting for the ack with a policy or protocol code is a refusal.
            (_, Some(1002 | 1008)) if self.phase == Phase::AwaitingAck => {
                End::Refused(Error::Authentication {
                    message: describe(),
                })
            }
            _ => End::Retry(Error::transport(
                "reading from the subscription socket",
                describe(),
            )),
        };
        self.end(end)
    }

    fn on_text(&mut self, text: &str) -> Vec<Action> {
        let frame: Envelope<'_> = match serde_json::from_str(text) {
            Ok(f) => f,
            Err(e) => {
                return vec![Action::Ignored(format!(
                    "frame is not a protocol message ({e}): {}",
                    clip(text)
                ))];
            }
        };
        let id = frame.id.as_deref();
        match (self.protocol, frame.kind.as_ref()) {
            (_, "connection_ack") => self.on_ack(),
            (WsProtocol::GraphqlWs, "connection_error") => {
                let message = error_message(frame.payload_value().as_ref());
                if matches!(self.phase, Phase::AwaitingAck | Phase::Opening) {
                    self.end(End::Refused(Error::Authentication { message }))
                } else {
                    vec![Action::Ignored(format!("connection_error: {message}"))]
                }
            }
            (WsProtocol::GraphqlWs, "ka") => vec![],
            (WsProtocol::GraphqlTransportWs, "ping") => {
                vec![Action::Send(json!({"type": "pong"}).to_string())]
            }
            (WsProtocol::GraphqlTransportWs, "pong") => vec![],
            (WsProtocol::GraphqlWs, "data") | (WsProtocol::GraphqlTransportWs, "next") => {
                self.on_data(id, frame.payload)
            }
            (_, "error") => self.on_error(id, frame.payload_value().as_ref()),
            (_, "complete") => self.on_complete(id),
            (_, other) => vec![Action::Ignored(format!("unknown frame type {other:?}"))],
        }
    }

    fn on_data(&mut self, id: Option<&str>, payload: Option<&RawValue>) -> Vec<Action> {
        let Some(id) = id else {
            return vec![Action::Ignored("data frame without an id".into())];
        };
        if let Some(answer) = self.probe_or_marker(Some(id)) {
            return answer;
        }
        if id != self.id {
            return vec![Action::Ignored(format!(
                "data for unknown operation {id:?}"
            ))];
        }
        match self.phase {
            Phase::Confirming | Phase::Active => {}
            _ => return vec![Action::Ignored("data frame outside a subscription".into())],
        }
        let Some(payload) = payload else {
            return vec![Action::Ignored("data frame without a payload".into())];
        };
        if !self.accepted {
            // A first result with errors and no data is how many servers report an invalid
            // document or variables: as fatal as an `error` frame.
            if let Ok(peek) = serde_json::from_str::<Peek<'_>>(payload.get())
                && peek.data.is_none_or(|d| d.get() == "null")
                && !peek.errors.is_empty()
            {
                let errors = peek.errors.iter().map(GraphQlError::from_json).collect();
                return self.end(End::Fatal(Error::GraphQl { errors }));
            }
            self.accepted = true;
        }
        let action = Action::Deliver(payload.to_owned());
        match self.phase {
            // Without a probe, the first result tells that the subscription is registered.
            Phase::Confirming if self.probe_id.is_none() => {
                let mut out = self.become_ready();
                out.push(action);
                out
            }
            Phase::Confirming => {
                self.held.push(action);
                vec![]
            }
            _ => vec![action],
        }
    }

    fn on_error(&mut self, id: Option<&str>, payload: Option<&Value>) -> Vec<Action> {
        if let Some(answer) = self.probe_or_marker(id) {
            // A server that refuses one-shot queries over the socket still answered.
            return answer;
        }
        match id {
            Some(id) if id == self.id && self.phase != Phase::Closing => {
                let errors = match payload {
                    Some(Value::Array(list)) if !list.is_empty() => {
                        list.iter().map(GraphQlError::from_json).collect()
                    }
                    Some(Value::Array(_)) | None | Some(Value::Null) => {
                        vec![GraphQlError::new("the server rejected the subscription")]
                    }
                    Some(other) => match other.get("errors").and_then(Value::as_array) {
                        Some(list) if !list.is_empty() => {
                            list.iter().map(GraphQlError::from_json).collect()
                        }
                        _ => vec![GraphQlError::from_json(other)],
                    },
                };
                self.end(End::Fatal(Error::GraphQl { errors }))
            }
            _ => vec![Action::Ignored("error frame for another operation".into())],
        }
    }

    fn on_complete(&mut self, id: Option<&str>) -> Vec<Action> {
        if let Some(answer) = self.probe_or_marker(id) {
            return answer;
        }
        match id {
            Some(id) if id == self.id => match self.phase {
                Phase::Closing => vec![],
                Phase::Confirming => {
                    // Completed before it ever ran: keep what arrived, then resubscribe.
                    let mut out = self.become_ready();
                    self.phase = Phase::Ended;
                    out.push(Action::End(End::Completed));
                    out
                }
                _ => self.end(End::Completed),
            },
            _ => vec![Action::Ignored("complete for another operation".into())],
        }
    }
}

/// A protocol message, read without parsing its payload.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    payload: Option<&'a RawValue>,
}

impl Envelope<'_> {
    /// Returns the payload parsed (for the rare frames whose payload the machine reads).
    fn payload_value(&self) -> Option<Value> {
        self.payload
            .and_then(|p| serde_json::from_str(p.get()).ok())
    }
}

/// A protocol message with its payload decoded as `P`: the one-pass form of a result (see
/// [`Machine::passes_result`]). Any other frame fails to decode as it or is not a result.
#[derive(Deserialize)]
pub(crate) struct ResultFrame<'a, P> {
    #[serde(rename = "type", borrow)]
    pub(crate) kind: Cow<'a, str>,
    #[serde(default, borrow)]
    pub(crate) id: Option<Cow<'a, str>>,
    #[serde(default = "Option::default")]
    pub(crate) payload: Option<P>,
}

/// A result's payload, read only as far as telling a rejection from a result.
#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(default, borrow)]
    data: Option<&'a RawValue>,
    #[serde(default)]
    errors: Vec<Value>,
}

/// Returns a human message out of a `connection_error`/`error` payload (an object, a list or a string).
fn error_message(payload: Option<&Value>) -> String {
    match payload {
        None | Some(Value::Null) => "the server refused the connection".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(list)) => list
            .first()
            .map(|e| error_message(Some(e)))
            .unwrap_or_default(),
        Some(v) => match v.get("message").and_then(Value::as_str) {
            Some(m) => m.to_owned(),
            None => v.to_string(),
        },
    }
}

/// Returns the first 200 characters of a frame, for logs.
fn clip(text: &str) -> String {
    let mut s: String = text.chars().take(200).collect();
    if s.len() < text.len() {
        s.push_str("...");
    }
    s
}

#[cfg(test)]
mod tests;
