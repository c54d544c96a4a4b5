//! What a long-running service needs of the client: no API key in any `Debug` output (a
//! service logs its settings and handles).

use crate::support::*;
use crossbeam_channel::unbounded;
use kili::{LabelEvent, SubscriptionOptions};
use kili_local_server::LocalServer;

/// A key no other output of the test can contain by chance.
const SECRET: &str = "sk-live-9f8e7d6c5b4a-DO-NOT-LOG";

/// Asserts that neither `{:?}` nor `{:#?}` of `value` shows the key.
fn assert_hides_key(what: &str, value: &dyn std::fmt::Debug) {
    for shown in [format!("{value:?}"), format!("{value:#?}")] {
        assert!(!shown.contains(SECRET), "{what} shows the API key: {shown}");
        assert!(!shown.is_empty(), "{what} shows nothing");
    }
}

#[test]
fn no_debug_output_shows_the_api_key() {
    let server = LocalServer::builder().api_key(SECRET).start().unwrap();
    let settings = builder(SECRET, server.endpoint());
    assert_hides_key("the builder", &settings);
    let shown = format!("{settings:?}");
    assert!(shown.contains("api_key: Some(<redacted>)"), "{shown}");
    assert!(
        shown.contains(&server.endpoint()),
        "the other settings are shown: {shown}"
    );

    let kili = settings.build().unwrap();
    assert_hides_key("the client", &kili);
    assert!(format!("{kili:?}").contains("<redacted>"));
    assert_eq!(kili.api_key(), SECRET, "the key is still there to be used");
    let (project, asset) = project_with_asset(&kili);

    let options = SubscriptionOptions::new().thread_name("secret-test");
    assert_hides_key("the subscription options", &options);
    let (tx, rx) = unbounded::<LabelEvent>();
    let sub = kili
        .label_created_or_updated_with_options(&project, options, move |e| {
            let _ = tx.send(e.clone());
        })
        .unwrap();
    let id = append_label(&kili, &asset);
    let event = rx.recv_timeout(PATIENCE).expect("the label is delivered");
    assert_eq!(event.label.id, id);
    assert_hides_key("a label event", &event);
    assert_hides_key("the subscription", &sub);
    assert_hides_key("its control", &sub.control());
    assert_hides_key("its state", &sub.state());
    sub.close().unwrap();

    let stream = kili.label_events(&project).unwrap();
    assert_hides_key("a stream", &stream);
    stream.close().unwrap();

    // A refused key is not repeated in the error either.
    let wrong = format!("{SECRET}-wrong");
    let refused = builder(&wrong, server.endpoint())
        .max_retries(0)
        .build()
        .unwrap();
    let err = refused
        .count_projects(&kili::ProjectQuery::new())
        .unwrap_err();
    assert!(matches!(err, kili::Error::Authentication { .. }), "{err:?}");
    let mut chain = format!("{err} {err:?}");
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        chain.push_str(&format!(" {s} {s:?}"));
        source = s.source();
    }
    assert!(!chain.contains(SECRET), "{chain}");
    let err = refused.label_events(&project).unwrap_err();
    assert!(!format!("{err} {err:?}").contains(SECRET), "{err:?}");
}
