//! Property tests for the client's response decoding: arbitrary JSON given to the models'
//! decoders, and arbitrary bytes sent back as the HTTP response to `graphql` and the typed
//! reads, never panic (they decode or return an error).
//!
//! Case counts are small by default so `cargo test` stays quick; `PROPTEST_CASES=N` raises
//! them (the CI step `.ci/steps/reliability.sh` does).

use std::sync::OnceLock;
use std::time::Duration;

use kili::{Asset, GraphQlError, Kili, Label, LabelQuery, Project, ProjectQuery};
use parking_lot::Mutex;
use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::support::*;

/// The keys the decoders look at (the crate's default fields, and the members of responses
/// and errors), so that generated objects often hit real fields.
fn keys() -> Vec<String> {
    let fields = kili::DEFAULT_LABEL_FIELDS
        .iter()
        .chain(kili::DEFAULT_PROJECT_FIELDS)
        .chain(kili::DEFAULT_ASSET_FIELDS)
        .flat_map(|f| f.split('.'));
    let envelope = ["data", "errors", "message", "extensions", "path", "labelOf"];
    let mut keys: Vec<String> = fields.chain(envelope).map(str::to_owned).collect();
    keys.sort();
    keys.dedup();
    keys
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        // Strings that are JSON themselves, as Kili's JSON-valued fields are.
        "[\\[\\]{}\",:0-9a-z ]{0,16}".prop_map(Value::String),
        Just(Value::String("2024-02-29T23:59:59.999Z".into())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec(
                (prop_oneof![prop::sample::select(keys()), ".{0,6}"], inner),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// The peer answering the requests of the binary's decoding tests, with the bytes of the case.
fn responder() -> &'static RawHttp {
    static PEER: OnceLock<RawHttp> = OnceLock::new();
    PEER.get_or_init(|| RawHttp::answering(Vec::new()))
}

/// A client of the responder that gives up at once (no retries) and never waits long.
fn client() -> Kili {
    builder("k", responder().endpoint())
        .max_retries(0)
        .connect_timeout(Duration::from_secs(2))
        .request_timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

/// Sends one request of each kind to the responder answering `bytes`; they may fail, not panic.
fn exercise(kili: &Kili, bytes: Vec<u8>) {
    // One responder for the binary's tests: one case at a time.
    static TURN: Mutex<()> = parking_lot::const_mutex(());
    let _turn = TURN.lock();
    responder().answer(bytes);
    let _ = kili.graphql("query { viewer { id } }", Value::Null);
    let _ = kili
        .projects(&ProjectQuery::new())
        .map(|p| p.take(3).collect::<Vec<_>>());
    let _ = kili.count_labels(&LabelQuery::new("p"));
}

proptest! {
    // Cheap cases: four times the count of the network ones.
    #![proptest_config(ProptestConfig { cases: 4 * cases(64), ..ProptestConfig::default() })]

    #[test]
    fn model_decoders_never_panic(value in arb_json()) {
        let _ = Label::from_json(&value);
        let _ = Project::from_json(&value);
        let _ = Asset::from_json(&value);
        let _ = GraphQlError::from_json(&value);
        // Wrapped the way responses carry them, too.
        let wrapped = serde_json::json!({"id": "x", "labels": [value.clone()], "author": value});
        let _ = Label::from_json(&wrapped);
        let _ = Asset::from_json(&wrapped);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(24), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_as_a_response_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        exercise(&client(), bytes);
    }

    #[test]
    fn arbitrary_json_bodies_never_panic(
        body in arb_json(),
        status in prop::sample::select(vec![200u16, 200, 200, 400, 401, 404, 413, 429, 500, 503]),
        gzip_claim in any::<bool>(),
    ) {
        // A claimed gzip encoding on a plain body is a lie the decoder must survive too.
        let headers = if gzip_claim { "Content-Encoding: gzip\r\n" } else { "Content-Type: application/json\r\n" };
        let text = serde_json::json!({"data": {"data": body.clone()}, "errors": body}).to_string();
        exercise(&client(), http_response(&format!("{status} X"), headers, text.as_bytes()));
        exercise(&client(), http_response(&format!("{status} X"), "", body.to_string().as_bytes()));
    }

    #[test]
    fn lying_headers_never_panic(
        claimed in prop_oneof![Just("99999999999999999999999".to_owned()), Just("-1".to_owned()), "[0-9]{1,6}", ".{0,8}"],
        chunked in any::<bool>(),
        body in ".{0,64}",
    ) {
        let te = if chunked { "Transfer-Encoding: chunked\r\n" } else { "" };
        let raw = format!("HTTP/1.1 200 OK\r\n{te}Content-Length: {claimed}\r\n\r\n{body}");
        exercise(&client(), raw.into_bytes());
    }
}
