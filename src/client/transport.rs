//! One GraphQL request over HTTP with ureq: the headers Kili expects, and the mapping of every
//! answer (or its absence) to an [`Error`] plus what it says about the server's state.

use std::time::SystemTime;

use serde_json::{Map, Value};

use crate::client::config::Config;
use crate::client::retry::{self, Failure, Outcome};
use crate::error::{Error, GraphQlError, Result};

/// The value of `apollographql-client-name`.
pub(crate) const CLIENT_NAME: &str = "kili-rs";
/// The value of `apollographql-client-version`.
pub(crate) const CLIENT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The HTTP side of the client: one `ureq::Agent` (a connection pool).
pub(crate) struct Transport {
    agent: ureq::Agent,
}

impl Transport {
    /// Creates the HTTP side of a client: a ureq agent with its timeouts, TLS and proxy
    /// settings.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] if the endpoint's scheme needs TLS that is not compiled in.
    pub(crate) fn new(config: &Config) -> Result<Transport> {
        let mut b = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // ureq adds them to the clock: a `Duration::MAX` setting means no limit.
            .timeout_connect(crate::client::deadline::limit(config.connect_timeout))
            .timeout_global(crate::client::deadline::limit(config.request_timeout))
            .user_agent(concat!("kili-rs/", env!("CARGO_PKG_VERSION")));
        config.tls.check_endpoint(&config.endpoint)?;
        #[cfg(any(feature = "rustls", feature = "native-tls"))]
        {
            b = b.tls_config(config.tls.http());
        }
        if !config.proxy_from_env {
            b = b.proxy(None);
        }
        // ureq's own connector, with a resolver that keeps answers (see `resolver`).
        let agent = ureq::Agent::with_parts(
            b.build(),
            ureq::unversioned::transport::DefaultConnector::default(),
            crate::client::resolver::CachingResolver::default(),
        );
        Ok(Transport { agent })
    }

    /// Sends one POST of `{"query", "variables"}` (variables omitted when empty, as the SDK
    /// does); returns the response's `data`.
    pub(crate) fn post(
        &self,
        config: &Config,
        query: &str,
        variables: &Value,
    ) -> std::result::Result<Value, Failure> {
        let body = request_body(query, variables);
        let resp = self
            .agent
            .post(&config.endpoint)
            .header("Authorization", format!("X-API-Key: {}", config.api_key))
            .header("Accept", "application/json")
            .header("Content-Type", "application/json")
            .header("apollographql-client-name", CLIENT_NAME)
            .header("apollographql-client-version", CLIENT_VERSION)
            .send(&body[..]);
        let mut resp = resp.map_err(|e| classify_ureq_error(e, config, "sending the request"))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry::parse_retry_after(v, SystemTime::now()));
        let text = resp
            .body_mut()
            .with_config()
            .limit(256 << 20)
            .read_to_string()
            .map_err(|e| classify_ureq_error(e, config, "reading the response"))?;
        interpret(status, &text).map_err(|mut failure| {
            failure.retry_after = retry_after;
            failure
        })
    }
}

impl Transport {
    /// Sends one `PUT` of a body to an upload URL (a signed URL of Kili's bucket). The API key goes
    /// along only when the URL is under Kili's API (`.../api/label/v2/...`), as the SDK's
    /// HTTP client does; a bucket's own URL is authorized by its signature.
    pub(crate) fn put(
        &self,
        config: &Config,
        url: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> std::result::Result<(), Failure> {
        let mut req = self.agent.put(url);
        if let Some(t) = content_type {
            req = req.header("Content-Type", t);
        }
        if is_under_api(&config.endpoint, url) {
            req = req.header("Authorization", format!("X-API-Key: {}", config.api_key));
        }
        let mut resp = req
            .send(body)
            .map_err(|e| classify_ureq_error(e, config, "uploading a file"))?;
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        let error = Error::Http {
            status,
            body: truncate(&text),
        };
        // A PUT stores the same body again: any transient status may be retried.
        let outcome = if crate::error::is_transient_status(status) {
            Outcome::Unknown
        } else {
            Outcome::Failed
        };
        Err(Failure::new(error, outcome))
    }
}

/// Tells whether `url` is under the API of `endpoint` (`.../api/label/v2/graphql` gives
/// `.../api/label/v2`), where the SDK sends its key.
pub(crate) fn is_under_api(endpoint: &str, url: &str) -> bool {
    let base = endpoint.replace("/api/label/v2/graphql", "/api/label/v2");
    url.starts_with(&base)
}

/// Returns the JSON body of a request.
fn request_body(query: &str, variables: &Value) -> Vec<u8> {
    let mut body = Map::new();
    body.insert("query".into(), Value::String(query.to_owned()));
    let empty = match variables {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        _ => false,
    };
    if !empty {
        body.insert("variables".into(), variables.clone());
    }
    // Serializing a `Value` cannot fail: its map keys are strings.
    serde_json::to_vec(&Value::Object(body)).unwrap_or_default()
}

/// Maps a status and body to the response's `data`, or to a failure and its outcome.
///
/// A transient status wins over a GraphQL body (a 429 may carry `errors`); GraphQL errors win
/// over other statuses (servers answer invalid documents with 400 or 500 and `errors`).
pub(crate) fn interpret(status: u16, text: &str) -> std::result::Result<Value, Failure> {
    if status == 401 {
        return Err(Failure::failed(Error::Authentication {
            message: truncate(text),
        }));
    }
    let http = || Error::Http {
        status,
        body: truncate(text),
    };
    match status {
        // Rejected before any resolver ran: rate limited, or the origin refused the proxy.
        429 | 521 => return Err(Failure::new(http(), Outcome::NotProcessed)),
        // A proxy may answer these after the backend ran the request.
        502 | 503 | 504 | 520 | 522 => return Err(Failure::new(http(), Outcome::Unknown)),
        _ => {}
    }
    let parsed: Option<Value> = serde_json::from_str(text).ok();
    if let Some(errors) = parsed
        .as_ref()
        .and_then(|v| v.get("errors"))
        .and_then(Value::as_array)
        && !errors.is_empty()
    {
        let errors = errors.iter().map(GraphQlError::from_json).collect();
        return Err(Failure::failed(Error::GraphQl { errors }));
    }
    if status != 200 {
        return Err(Failure::failed(http()));
    }
    match parsed {
        Some(mut v) => Ok(v.get_mut("data").map(Value::take).unwrap_or(Value::Null)),
        None => Err(Failure::failed(Error::decode(
            "the response body",
            format!("not JSON: {}", truncate(text)),
        ))),
    }
}

/// Maps a ureq error to a failure, telling whether the request could have reached the server.
fn classify_ureq_error(e: ureq::Error, config: &Config, doing: &str) -> Failure {
    use std::io::ErrorKind;
    use ureq::Timeout as T;
    let target = &config.endpoint;
    match e {
        ureq::Error::Timeout(which) => {
            let (operation, after, outcome) = match which {
                T::Connect | T::Resolve => {
                    ("connecting", config.connect_timeout, Outcome::NotProcessed)
                }
                _ => ("http request", config.request_timeout, Outcome::Unknown),
            };
            Failure::new(
                Error::Timeout {
                    operation: operation.into(),
                    after,
                },
                outcome,
            )
        }
        // rustls reports certificate and handshake failures as `InvalidData`: an untrusted
        // certificate stays untrusted, so resending is pointless.
        ureq::Error::Io(io) if io.kind() == ErrorKind::InvalidData => {
            Failure::failed(Error::transport(format!("{doing} to {target}"), io))
        }
        ureq::Error::Io(io) => {
            let outcome = match io.kind() {
                ErrorKind::ConnectionRefused
                | ErrorKind::AddrNotAvailable
                | ErrorKind::NetworkUnreachable
                | ErrorKind::HostUnreachable => Outcome::NotProcessed,
                _ => Outcome::Unknown,
            };
            Failure::new(
                Error::transport(format!("{doing} to {target}"), io),
                outcome,
            )
        }
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => Failure::new(
            Error::transport(format!("connecting to {target}"), e),
            Outcome::NotProcessed,
        ),
        ureq::Error::Protocol(_) => Failure::new(
            Error::transport(format!("{doing} to {target}"), e),
            Outcome::Unknown,
        ),
        // TLS, bad URL, proxy configuration, body limits: resending changes nothing.
        other => Failure::failed(Error::transport(format!("{doing} to {target}"), other)),
    }
}

fn truncate(s: &str) -> String {
    const MAX: usize = 4096;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn body_omits_empty_variables() {
        let b: Value = serde_json::from_slice(&request_body("{ a }", &json!({}))).unwrap();
        assert_eq!(b, json!({"query": "{ a }"}));
        let b: Value = serde_json::from_slice(&request_body("q", &json!({"x": 1}))).unwrap();
        assert_eq!(b, json!({"query": "q", "variables": {"x": 1}}));
    }

    #[test]
    fn statuses_map_to_errors_and_outcomes() {
        let f = interpret(401, "Unauthorized").unwrap_err();
        assert!(f.error.is_authentication());
        assert_eq!(f.outcome, Outcome::Failed);
        assert_eq!(
            interpret(429, "{\"errors\":[{\"message\":\"slow down\"}]}")
                .unwrap_err()
                .outcome,
            Outcome::NotProcessed
        );
        for s in [502, 503, 504, 520, 522] {
            let f = interpret(s, "").unwrap_err();
            assert_eq!(f.outcome, Outcome::Unknown, "{s}");
            assert!(matches!(f.error, Error::Http { status, .. } if status == s));
        }
        let f = interpret(500, "oops").unwrap_err();
        assert_eq!(f.outcome, Outcome::Failed);
    }

    #[test]
    fn graphql_errors_are_definite() {
        let body = r#"{"errors":[{"message":"bad","extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}],"data":null}"#;
        for status in [200, 400, 500] {
            let f = interpret(status, body).unwrap_err();
            assert_eq!(f.outcome, Outcome::Failed);
            let errs = f.error.graphql_errors().unwrap();
            assert_eq!(errs[0].code.as_deref(), Some("GRAPHQL_VALIDATION_FAILED"));
        }
    }

    #[test]
    fn data_is_unwrapped_and_garbage_is_a_decode_error() {
        assert_eq!(
            interpret(200, r#"{"data":{"data":3}}"#).unwrap(),
            json!({"data": 3})
        );
        assert!(matches!(
            interpret(200, "<html>").unwrap_err().error,
            Error::Decode { .. }
        ));
        assert!(matches!(
            interpret(404, "nope").unwrap_err().error,
            Error::Http { status: 404, .. }
        ));
    }
}
