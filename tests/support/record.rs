//! What the local server recorded ([`LocalServerBuilder::record_requests`]), for the tests that
//! check the documents and variables the client sends.
//!
//! [`LocalServerBuilder::record_requests`]: kili_local_server::LocalServerBuilder::record_requests

use kili_local_server::{LocalServer, RecordedRequest};

/// The root field a recorded document calls (`data: projects(...)` gives `projects`), as the
/// server's own parser reads it; empty if the document does not parse.
pub fn root_field(request: &RecordedRequest) -> String {
    request
        .operation()
        .map(|op| op.root_field)
        .unwrap_or_default()
}

/// The root fields of the recorded requests, in order.
pub fn calls(server: &LocalServer) -> Vec<String> {
    server.recorded_requests().iter().map(root_field).collect()
}

/// The recorded requests calling `field`.
pub fn requests_to(server: &LocalServer, field: &str) -> Vec<RecordedRequest> {
    server
        .recorded_requests()
        .into_iter()
        .filter(|r| root_field(r) == field)
        .collect()
}

/// How many requests were recorded when it was taken: what came after is what a step sent.
pub struct Mark(usize);

/// Marks the requests recorded so far.
pub fn mark(server: &LocalServer) -> Mark {
    Mark(server.recorded_requests().len())
}

/// The root fields of the requests recorded since `mark`.
pub fn calls_since(server: &LocalServer, mark: &Mark) -> Vec<String> {
    calls(server).split_off(mark.0)
}

/// The requests recorded since `mark`.
pub fn requests_since(server: &LocalServer, mark: &Mark) -> Vec<RecordedRequest> {
    server.recorded_requests().split_off(mark.0)
}
