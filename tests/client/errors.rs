//! Every error kind, produced by real peers: 401, GraphQL errors, HTTP statuses, invalid input
//! (no request sent), timeouts, refused connections, TLS failures, bad settings.

use std::error::Error as _;
use std::time::Duration;

use crate::support::*;
use kili::{Error, Kili, ProjectQuery};
use serde_json::json;

#[test]
fn a_wrong_key_is_an_authentication_error_and_is_not_retried() {
    let server = server();
    let kili = builder("wrong-key", server.endpoint()).build().unwrap();
    let e = kili.count_projects(&ProjectQuery::new()).unwrap_err();
    assert!(e.is_authentication(), "{e:?}");
    assert!(!e.is_retryable());
    assert!(e.to_string().starts_with("authentication failed"), "{e}");
    assert_eq!(server.recorded_requests().len(), 1);
}

#[test]
fn graphql_errors_carry_message_path_and_code_and_are_not_retried() {
    let server = server();
    let kili = client(&server);
    let e = kili
        .graphql("query { viewer { notAField } }", json!({}))
        .unwrap_err();
    let errors = e.graphql_errors().expect("a GraphQL error");
    assert!(errors[0].message.contains("notAField"), "{errors:?}");
    assert_eq!(
        server.recorded_requests().len(),
        1,
        "a validation error is never retried"
    );

    // An error raised by a resolver has a path.
    let e = kili
        .graphql(
            "mutation($where: ProjectWhere!) { data: deleteProjectAsynchronously(where: $where) }",
            json!({"where": {"id": "missing"}}),
        )
        .unwrap_err();
    let errors = e.graphql_errors().unwrap();
    assert_eq!(errors[0].path, [json!("data")]);
    assert!(e.to_string().starts_with("graphql error: "), "{e}");
}

#[test]
fn http_statuses_keep_their_body() {
    let peer = RawHttp::answering(http_response(
        "500 Internal Server Error",
        "Content-Type: text/html\r\n",
        b"<html>oops</html>",
    ));
    let kili = client_for(&peer.endpoint());
    let e = kili.count_projects(&ProjectQuery::new()).unwrap_err();
    match &e {
        Error::Http { status, body } => {
            assert_eq!(*status, 500);
            assert_eq!(body, "<html>oops</html>");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.to_string(), "http status 500: <html>oops</html>");

    // A transient status once retries are spent.
    let server = server();
    let kili = builder(KEY, server.endpoint())
        .max_retries(2)
        .build()
        .unwrap();
    server.fail_next_requests(3, 502, None);
    let e = kili.count_projects(&ProjectQuery::new()).unwrap_err();
    assert!(matches!(e, Error::Http { status: 502, .. }), "{e:?}");
    assert!(e.is_retryable());
    assert_eq!(
        server.recorded_requests().len(),
        3,
        "one try and two retries"
    );
}

#[test]
fn a_body_that_is_not_json_is_a_decode_error() {
    let peer = RawHttp::answering(http_response(
        "200 OK",
        "Content-Type: text/html\r\n",
        b"<html>maintenance</html>",
    ));
    let kili = client_for(&peer.endpoint());
    let e = kili.count_projects(&ProjectQuery::new()).unwrap_err();
    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
    assert!(e.source().unwrap().to_string().contains("maintenance"));
}

#[test]
fn a_silent_server_times_out() {
    let silent = RawHttp::silent();
    let kili = builder(KEY, format!("http://{}/graphql", silent.addr()))
        .request_timeout(Duration::from_millis(300))
        .max_retries(0)
        .build()
        .unwrap();
    let e = kili.count_projects(&ProjectQuery::new()).unwrap_err();
    match e {
        Error::Timeout { after, .. } => assert_eq!(after, Duration::from_millis(300)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_refused_connection_is_a_transport_error_with_a_source() {
    let addr = refused_addr();
    let kili = builder(KEY, format!("http://{addr}/graphql"))
        .max_retries(2)
        .build()
        .unwrap();
    let e = kili.count_projects(&ProjectQuery::new()).unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert!(e.source().is_some());
    assert!(e.to_string().starts_with("transport error while"), "{e}");
}

#[test]
fn tls_to_a_plain_http_server_fails_without_retries() {
    let server = server();
    let https = server.endpoint().replacen("http://", "https://", 1);
    let kili = client_for(&https);
    let e = kili.count_projects(&ProjectQuery::new()).unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert!(
        server.recorded_requests().is_empty(),
        "no GraphQL request got through"
    );
}

#[test]
fn bad_settings_fail_at_build_time() {
    assert!(matches!(
        Kili::new("", "http://127.0.0.1:1/graphql"),
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        Kili::new("   ", "http://127.0.0.1:1/graphql"),
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        Kili::new("k", "ftp://x/graphql"),
        Err(Error::InvalidInput { .. })
    ));
    let e = Kili::builder()
        .api_key("k")
        .ca_bundle("/nonexistent/ca.pem")
        .build()
        .unwrap_err();
    // One error for a bundle that cannot be used, whether missing, unreadable or not PEM.
    assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
    assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
}
