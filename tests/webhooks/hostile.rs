//! No input makes the receiver panic or stop serving: arbitrary bytes on a connection, and
//! arbitrary JSON bodies with the right secret. After each case a valid event is still
//! handled.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::OnceLock;

use kili::{WebhookEvent, WebhookReceiver};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::support::*;

const SECRET: &str = "Bearer s3cret";

fn receiver() -> &'static WebhookReceiver {
    static RECEIVER: OnceLock<WebhookReceiver> = OnceLock::new();
    RECEIVER.get_or_init(|| {
        WebhookReceiver::builder("127.0.0.1:0", SECRET)
            .max_body(64 * 1024)
            .request_timeout(std::time::Duration::from_secs(2))
            .callback(|e: &WebhookEvent| {
                // The handler reads what the recipe reads; any shape must be survivable.
                let _ = e
                    .label()
                    .map(|l| (l.id().len(), l.json_response().map(|r| r.parse())));
                Ok::<(), std::io::Error>(())
            })
            .unwrap()
    })
}

fn post(body: &[u8]) -> String {
    let mut request = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: {SECRET}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    raw(receiver().local_addr(), &request)
}

fn still_serving() {
    let n = receiver().stats().delivered;
    let ok = json!({"eventType": "onSubmit", "payload": {"label": {"id": format!("ok-{n}"), "jsonResponse": {}}}});
    let answer = post(ok.to_string().as_bytes());
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(receiver().state().is_active());
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        ".{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "eventType",
                        "payload",
                        "label",
                        "id",
                        "version",
                        "asset_id",
                        "jsonResponse",
                        "logPayload",
                        "runId",
                        "projectId",
                        "search"
                    ]),
                    inner
                ),
                0..5
            )
            .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(64), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_on_the_socket(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        // The client then hangs up its side: the receiver sees the end of the request.
        let mut s = TcpStream::connect(receiver().local_addr()).unwrap();
        s.set_read_timeout(Some(PATIENCE)).unwrap();
        let _ = s.write_all(&bytes);
        let _ = s.shutdown(Shutdown::Write);
        let _ = s.read_to_end(&mut Vec::new());
        still_serving();
    }

    #[test]
    fn arbitrary_json_bodies(body in arb_json()) {
        let answer = post(body.to_string().as_bytes());
        prop_assert!(
            ["HTTP/1.1 200", "HTTP/1.1 400"].iter().any(|s| answer.starts_with(s)),
            "{}", answer
        );
        still_serving();
    }
}

#[test]
fn deep_nesting_and_odd_labels_are_refused_or_handled() {
    let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    for body in [
        deep,
        r#"{"payload": {"label": "a string"}}"#.to_owned(),
        r#"{"payload": {"label": {"id": 7}}}"#.to_owned(),
        r#"{"eventType": 3, "payload": {"label": {"id": "x", "jsonResponse": "not json"}}}"#
            .to_owned(),
    ] {
        let answer = post(body.as_bytes());
        assert!(
            answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.1 400"),
            "{answer}"
        );
    }
    still_serving();
}
