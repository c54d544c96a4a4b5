//! Scripted conversations with the state machine, including hostile ones.

use super::*;
use proptest::prelude::*;
use std::time::Duration;

fn op() -> Operation {
    let mut extra = Map::new();
    extra.insert("headers".into(), json!({"Authorization": "X-API-Key: k"}));
    Operation {
        query: "subscription { data: labelCreatedOrUpdated(projectID: \"p\") { id } }".into(),
        variables: json!({"projectID": "p"}),
        start_extra: extra,
    }
}

fn machine(protocol: WsProtocol) -> Machine {
    machine_accepted(protocol, false)
}

/// Returns a machine whose subscription was, or was not, accepted on an earlier connection.
fn machine_accepted(protocol: WsProtocol, accepted: bool) -> Machine {
    Machine::new(
        protocol,
        "sub1".into(),
        Some("probe1".into()),
        json!({"Authorization": "X-API-Key: k"}),
        op(),
        accepted,
    )
}

fn sent(actions: &[Action]) -> Vec<Value> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send(t) => Some(serde_json::from_str(t).unwrap()),
            _ => None,
        })
        .collect()
}

fn text(m: &mut Machine, v: Value) -> Vec<Action> {
    m.handle(Input::Text(&v.to_string()))
}

/// Drives a machine to `Active` and returns the frames it sent on the way.
fn activate(m: &mut Machine) -> Vec<Value> {
    let mut out = sent(&m.handle(Input::Opened));
    out.extend(sent(&text(m, json!({"type": "connection_ack"}))));
    let kind = if m.protocol() == WsProtocol::GraphqlWs {
        "data"
    } else {
        "next"
    };
    let acts = text(
        m,
        json!({"type": kind, "id": "probe1", "payload": {"data": {"__typename": "Query"}}}),
    );
    assert!(matches!(acts.as_slice(), [Action::Ready]), "{acts:?}");
    assert_eq!(m.phase(), Phase::Active);
    out
}

#[test]
fn graphql_ws_happy_path_matches_the_sdk() {
    let mut m = machine(WsProtocol::GraphqlWs);
    let frames = activate(&mut m);
    assert_eq!(
        frames[0],
        json!({"type": "connection_init", "payload": {"Authorization": "X-API-Key: k"}})
    );
    assert_eq!(frames[1]["type"], "start");
    assert_eq!(frames[1]["id"], "sub1");
    assert_eq!(frames[1]["payload"]["variables"], json!({"projectID": "p"}));
    assert_eq!(
        frames[1]["payload"]["headers"],
        json!({"Authorization": "X-API-Key: k"})
    );
    assert_eq!(frames[2]["id"], "probe1");
    assert_eq!(frames[2]["payload"]["query"], PROBE_QUERY);

    assert!(text(&mut m, json!({"type": "ka"})).is_empty());
    // The shortcut agrees with the machine: only the exact `ka` frame, which needs nothing done.
    assert!(m.is_keep_alive(r#"{"type":"ka"}"#));
    assert!(!m.is_keep_alive(r#"{"type":"data"}"#));
    assert!(!machine(WsProtocol::GraphqlTransportWs).is_keep_alive(r#"{"type":"ka"}"#));
    let frame = json!({"type": "data", "id": "sub1", "payload": {"data": {"data": {"id": "l1"}}}});
    match text(&mut m, frame.clone()).as_slice() {
        [Action::Deliver(payload)] => {
            let payload: Value = serde_json::from_str(payload.get()).unwrap();
            assert_eq!(payload, frame["payload"], "the payload, as text");
        }
        other => panic!("{other:?}"),
    }
    // Our close: stop, then connection_terminate, then wait for the peer.
    let closing = sent(&m.handle(Input::Close));
    assert_eq!(
        closing,
        vec![
            json!({"id": "sub1", "type": "stop"}),
            json!({"type": "connection_terminate"})
        ]
    );
    // Data after close is not delivered; the server's `complete` for the stop is fine.
    assert!(
        !text(&mut m, frame)
            .iter()
            .any(|a| matches!(a, Action::Deliver(_)))
    );
    assert!(text(&mut m, json!({"type": "complete", "id": "sub1"})).is_empty());
    let end = m.handle(Input::Closed {
        code: Some(1000),
        reason: "",
    });
    assert!(matches!(end.as_slice(), [Action::End(End::Closed)]));
    assert_eq!(m.phase(), Phase::Ended);
}

#[test]
fn graphql_transport_ws_happy_path() {
    let mut m = machine(WsProtocol::GraphqlTransportWs);
    let frames = activate(&mut m);
    assert_eq!(frames[1]["type"], "subscribe");
    assert!(
        frames[1]["payload"].get("headers").is_none(),
        "no extra payload members on TWS"
    );
    let pong = sent(&text(&mut m, json!({"type": "ping"})));
    assert_eq!(pong, vec![json!({"type": "pong"})]);
    assert!(text(&mut m, json!({"type": "pong"})).is_empty());
    let acts = text(
        &mut m,
        json!({"type": "next", "id": "sub1", "payload": {"data": {"x": 1}}}),
    );
    assert!(matches!(acts.as_slice(), [Action::Deliver(_)]));
    assert_eq!(
        sent(&m.handle(Input::Close)),
        vec![json!({"id": "sub1", "type": "complete"})]
    );
    assert_eq!(m.keepalive_ping().as_deref(), Some(r#"{"type":"ping"}"#));
}

#[test]
fn frames_before_the_probe_answer_are_held_until_ready() {
    let mut m = machine(WsProtocol::GraphqlWs);
    m.handle(Input::Opened);
    text(&mut m, json!({"type": "connection_ack"}));
    let early =
        json!({"type": "data", "id": "sub1", "payload": {"data": {"data": {"id": "early"}}}});
    assert!(text(&mut m, early).is_empty());
    let acts = text(&mut m, json!({"type": "complete", "id": "probe1"}));
    assert!(
        matches!(acts.as_slice(), [Action::Ready, Action::Deliver(_)]),
        "{acts:?}"
    );
}

#[test]
fn an_unanswered_probe_times_out_into_ready() {
    let mut m = machine(WsProtocol::GraphqlWs);
    m.handle(Input::Opened);
    text(&mut m, json!({"type": "connection_ack"}));
    assert!(matches!(
        m.handle(Input::ConfirmTimeout).as_slice(),
        [Action::Ready]
    ));
    // A late answer changes nothing.
    assert!(text(&mut m, json!({"type": "complete", "id": "probe1"})).is_empty());
    // A probe refused with an error also counts as an answer.
    let mut m = machine(WsProtocol::GraphqlWs);
    m.handle(Input::Opened);
    text(&mut m, json!({"type": "connection_ack"}));
    let acts = text(
        &mut m,
        json!({"type": "error", "id": "probe1", "payload": {"message": "no queries"}}),
    );
    assert!(matches!(acts.as_slice(), [Action::Ready]));
}

#[test]
fn connection_error_is_a_refusal_for_the_worker_to_check() {
    let mut m = machine(WsProtocol::GraphqlWs);
    m.handle(Input::Opened);
    let acts = text(
        &mut m,
        json!({"type": "connection_error", "payload": {"message": "invalid api key"}}),
    );
    match acts.as_slice() {
        [Action::End(End::Refused(Error::Authentication { message }))] => {
            assert_eq!(message, "invalid api key")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(m.phase(), Phase::Ended);
    // Whatever follows is ignored.
    assert!(matches!(
        m.handle(Input::Closed {
            code: Some(1011),
            reason: ""
        })
        .as_slice(),
        [Action::Ignored(_)]
    ));
}

#[test]
fn close_codes_of_graphql_transport_ws() {
    type Check = fn(&End) -> bool;
    let cases: [(u16, Check); 6] = [
        (4403, |e| {
            matches!(e, End::Refused(Error::Authentication { .. }))
        }),
        (4400, |e| matches!(e, End::Fatal(Error::Protocol { .. }))),
        (4409, |e| matches!(e, End::Fatal(Error::Protocol { .. }))),
        (4408, |e| matches!(e, End::Retry(_))),
        // An internal server error may pass: retried.
        (4500, |e| matches!(e, End::Retry(_))),
        (1001, |e| matches!(e, End::Retry(_))),
    ];
    for (code, check) in cases {
        let mut m = machine(WsProtocol::GraphqlTransportWs);
        activate(&mut m);
        match m
            .handle(Input::Closed {
                code: Some(code),
                reason: "bye",
            })
            .as_slice()
        {
            [Action::End(end)] => assert!(check(end), "{code}: {end:?}"),
            other => panic!("{code}: {other:?}"),
        }
    }
    let mut m = machine(WsProtocol::GraphqlTransportWs);
    m.handle(Input::Opened);
    let acts = m.handle(Input::Closed {
        code: Some(4403),
        reason: "",
    });
    assert!(matches!(
        acts.as_slice(),
        [Action::End(End::Refused(Error::Authentication { .. }))]
    ));
}

#[test]
fn lost_connections_and_timeouts_are_retried() {
    let mut m = machine(WsProtocol::GraphqlWs);
    activate(&mut m);
    let acts = m.handle(Input::Closed {
        code: None,
        reason: "",
    });
    match acts.as_slice() {
        [Action::End(End::Retry(e))] => assert!(e.is_retryable(), "{e}"),
        other => panic!("{other:?}"),
    }
    let mut m = machine(WsProtocol::GraphqlWs);
    m.handle(Input::Opened);
    let acts = m.handle(Input::AckTimeout(Duration::from_secs(3)));
    assert!(matches!(
        acts.as_slice(),
        [Action::End(End::Retry(Error::Timeout { after, .. }))] if *after == Duration::from_secs(3)
    ));
}

#[test]
fn server_complete_means_resubscribe() {
    let mut m = machine(WsProtocol::GraphqlWs);
    activate(&mut m);
    let acts = text(&mut m, json!({"type": "complete", "id": "sub1"}));
    assert!(matches!(acts.as_slice(), [Action::End(End::Completed)]));
}

#[test]
fn graphql_errors_are_fatal() {
    // Legacy `error`: one object.
    let mut m = machine(WsProtocol::GraphqlWs);
    activate(&mut m);
    let acts = text(
        &mut m,
        json!({"type": "error", "id": "sub1", "payload": {"message": "Unknown field"}}),
    );
    match acts.as_slice() {
        [Action::End(End::Fatal(Error::GraphQl { errors }))] => {
            assert_eq!(errors[0].message, "Unknown field")
        }
        other => panic!("{other:?}"),
    }
    // TWS `error`: an array.
    let mut m = machine(WsProtocol::GraphqlTransportWs);
    activate(&mut m);
    let acts = text(
        &mut m,
        json!({"type": "error", "id": "sub1", "payload": [{"message": "a"}, {"message": "b"}]}),
    );
    assert!(
        matches!(acts.as_slice(), [Action::End(End::Fatal(Error::GraphQl { errors }))] if errors.len() == 2)
    );
    // A first result with errors and no data (async-graphql's way of rejecting a document).
    let mut m = machine(WsProtocol::GraphqlWs);
    m.handle(Input::Opened);
    text(&mut m, json!({"type": "connection_ack"}));
    let acts = text(
        &mut m,
        json!({"type": "data", "id": "sub1", "payload": {"data": null, "errors": [{"message": "bad"}]}}),
    );
    assert!(
        matches!(
            acts.as_slice(),
            [Action::End(End::Fatal(Error::GraphQl { .. }))]
        ),
        "{acts:?}"
    );
    // Later results with errors are delivered (a resolver error for one event).
    let mut m = machine(WsProtocol::GraphqlWs);
    activate(&mut m);
    text(
        &mut m,
        json!({"type": "data", "id": "sub1", "payload": {"data": {"x": 1}}}),
    );
    let acts = text(
        &mut m,
        json!({"type": "data", "id": "sub1", "payload": {"data": null, "errors": [{"message": "e"}]}}),
    );
    assert!(matches!(acts.as_slice(), [Action::Deliver(_)]));
    // Once accepted, a first result with errors on a new connection is a result: the rule
    // does not re-arm on every reconnection.
    let mut m = machine_accepted(WsProtocol::GraphqlWs, true);
    activate(&mut m);
    let acts = text(
        &mut m,
        json!({"type": "data", "id": "sub1", "payload": {"data": null, "errors": [{"message": "e"}]}}),
    );
    assert!(matches!(acts.as_slice(), [Action::Deliver(_)]), "{acts:?}");
}

#[test]
fn malformed_and_unexpected_frames_are_ignored() {
    for protocol in [WsProtocol::GraphqlWs, WsProtocol::GraphqlTransportWs] {
        let mut m = machine(protocol);
        activate(&mut m);
        let junk = [
            "",
            "{",
            "null",
            "42",
            "[]",
            "\"data\"",
            "{}",
            r#"{"type": 3}"#,
            r#"{"type": null}"#,
            r#"{"type": "data"}"#,
            r#"{"type": "next"}"#,
            r#"{"type": "data", "id": 7}"#,
            r#"{"type": "data", "id": "other", "payload": {}}"#,
            r#"{"type": "wat"}"#,
            r#"{"type": "error"}"#,
            r#"{"type": "error", "id": "nope"}"#,
            r#"{"type": "complete"}"#,
            r#"{"type": "connection_ack"}"#,
            "\u{0}\u{1}",
            r#"{"type":"data","id":"sub1"#,
        ];
        for j in junk {
            for a in m.handle(Input::Text(j)) {
                assert!(
                    matches!(a, Action::Ignored(_)),
                    "{protocol:?} {j:?} gave {a:?}"
                );
            }
        }
        assert!(matches!(
            m.handle(Input::Binary(&[1, 2, 3])).as_slice(),
            [Action::Ignored(_)]
        ));
        assert_eq!(
            m.phase(),
            Phase::Active,
            "{protocol:?}: junk must not change the phase"
        );
        // A data frame without a payload holds nothing to deliver.
        let acts = m.handle(Input::Text(r#"{"type":"data","id":"sub1"}"#));
        assert!(matches!(acts.as_slice(), [Action::Ignored(_)]), "{acts:?}");
    }
}

#[test]
fn close_before_the_ack_and_twice() {
    let mut m = machine(WsProtocol::GraphqlWs);
    m.handle(Input::Opened);
    assert_eq!(
        sent(&m.handle(Input::Close)),
        vec![json!({"type": "connection_terminate"})]
    );
    assert!(m.handle(Input::Close).is_empty());
    let mut m = machine(WsProtocol::GraphqlTransportWs);
    assert!(matches!(
        m.handle(Input::Close).as_slice(),
        [Action::End(End::Closed)]
    ));
    assert!(matches!(
        m.handle(Input::Close).as_slice(),
        [Action::Ignored(_)]
    ));
}

#[test]
fn subprotocol_names() {
    assert_eq!(
        WsProtocol::from_subprotocol("graphql-ws"),
        Some(WsProtocol::GraphqlWs)
    );
    assert_eq!(
        WsProtocol::from_subprotocol(" GRAPHQL-TRANSPORT-WS "),
        Some(WsProtocol::GraphqlTransportWs)
    );
    assert_eq!(WsProtocol::from_subprotocol("mqtt"), None);
    for d in [WsProtocol::GraphqlWs, WsProtocol::GraphqlTransportWs] {
        assert_eq!(WsProtocol::from_subprotocol(d.subprotocol()), Some(d));
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        prop::sample::select(vec![
            "data",
            "next",
            "ka",
            "ping",
            "pong",
            "error",
            "complete",
            "connection_ack",
            "connection_error",
            "sub1",
            "probe1",
            "payload",
            "type",
            "id",
            ""
        ])
        .prop_map(|s| Value::String(s.to_owned())),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "type", "id", "payload", "data", "errors", "message"
                    ]),
                    inner
                ),
                0..5
            )
            .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

#[test]
fn only_results_the_machine_would_deliver_unchanged_pass_straight_through() {
    for protocol in [WsProtocol::GraphqlWs, WsProtocol::GraphqlTransportWs] {
        let kind = if protocol == WsProtocol::GraphqlWs {
            "data"
        } else {
            "next"
        };
        let mut m = machine(protocol);
        assert!(!m.passes_result(kind, Some("sub1")), "before the handshake");
        activate(&mut m);
        assert!(
            !m.passes_result(kind, Some("sub1")),
            "a first result may be a rejection: the machine reads it"
        );
        text(
            &mut m,
            json!({"type": kind, "id": "sub1", "payload": {"data": {"x": 1}}}),
        );
        assert!(m.passes_result(kind, Some("sub1")));
        assert!(!m.passes_result(kind, Some("probe1")));
        assert!(!m.passes_result(kind, None));
        assert!(!m.passes_result("error", Some("sub1")));
        assert!(!m.passes_result("complete", Some("sub1")));
        m.handle(Input::Close);
        assert!(!m.passes_result(kind, Some("sub1")), "closing");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// What passes straight through is exactly what the machine would have delivered, with no
    /// other effect on it.
    #[test]
    fn a_frame_that_passes_through_is_one_the_machine_delivers_as_is(frame in arb_json(), transport in any::<bool>(), id_ours in any::<bool>()) {
        let protocol = if transport { WsProtocol::GraphqlTransportWs } else { WsProtocol::GraphqlWs };
        let kind = if transport { "next" } else { "data" };
        let mut m = machine_accepted(protocol, true);
        activate(&mut m);
        let id = if id_ours { "sub1" } else { "other" };
        let text = json!({"type": kind, "id": id, "payload": frame}).to_string();
        let typed = serde_json::from_str::<ResultFrame<'_, Box<RawValue>>>(&text).unwrap();
        // The worker's test: a result of ours, with a payload.
        let passes = m.passes_result(&typed.kind, typed.id.as_deref()) && typed.payload.is_some();
        let acts = m.handle(Input::Text(&text));
        prop_assert_eq!(m.phase(), Phase::Active);
        match acts.as_slice() {
            [Action::Deliver(p)] => {
                prop_assert!(passes);
                let payload = typed.payload.as_deref().map(RawValue::get);
                prop_assert_eq!(Some(p.get()), payload);
            }
            _ => prop_assert!(!passes, "{acts:?}"),
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256), transport in any::<bool>()) {
        let protocol = if transport { WsProtocol::GraphqlTransportWs } else { WsProtocol::GraphqlWs };
        let mut m = machine(protocol);
        activate(&mut m);
        let text = String::from_utf8_lossy(&bytes);
        let _ = m.handle(Input::Text(&text));
        let _ = m.handle(Input::Binary(&bytes));
    }

    #[test]
    fn arbitrary_json_sequences_never_panic(frames in prop::collection::vec(arb_json(), 0..12), transport in any::<bool>(), ack_first in any::<bool>()) {
        let protocol = if transport { WsProtocol::GraphqlTransportWs } else { WsProtocol::GraphqlWs };
        let mut m = machine(protocol);
        m.handle(Input::Opened);
        if ack_first {
            text(&mut m, json!({"type": "connection_ack"}));
        }
        for f in frames {
            let _ = m.handle(Input::Text(&f.to_string()));
        }
        let _ = m.handle(Input::ConfirmTimeout);
        let _ = m.handle(Input::Close);
        let _ = m.handle(Input::Closed { code: Some(1000), reason: "" });
        prop_assert_eq!(m.phase(), Phase::Ended);
    }
}
