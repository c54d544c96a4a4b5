//! Sending one GraphQL request over HTTP with ureq.

use std::time::Duration;

use serde_json::{Value, json};

use crate::client::config::Config;
use crate::error::{Error, GraphQlError, Result};

/// The HTTP side of the client: one `ureq::Agent` (a connection pool).
pub(crate) struct Transport {
    agent: ureq::Agent,
}

impl Transport {
    pub(crate) fn new(config: &Config) -> Result<Transport> {
        let mut b = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(config.connect_timeout))
            .timeout_global(Some(config.request_timeout))
            .user_agent(concat!("kili-rs/", env!("CARGO_PKG_VERSION")));
        if !config.proxy_from_env {
            b = b.proxy(None);
        }
        Ok(Transport { agent: b.build().into() })
    }

    /// One POST, no retries yet.
    pub(crate) fn execute(&self, config: &Config, query: &str, variables: Value) -> Result<Value> {
        let body = json!({"query": query, "variables": variables});
        let resp = self
            .agent
            .post(&config.endpoint)
            .header("Authorization", format!("X-API-Key: {}", config.api_key))
            .header("Accept", "application/json")
            .header("apollographql-client-name", "kili-rs")
            .header("apollographql-client-version", env!("CARGO_PKG_VERSION"))
            .send_json(&body);
        let mut resp = match resp {
            Ok(r) => r,
            Err(ureq::Error::Timeout(_)) => {
                return Err(Error::Timeout {
                    operation: "http request".into(),
                    after: config.request_timeout,
                });
            }
            Err(e) => return Err(Error::transport(format!("posting to {}", config.endpoint), e)),
        };
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .with_config()
            .limit(256 << 20)
            .read_to_string()
            .map_err(|e| Error::transport("reading the response body", e))?;
        if status == 401 {
            return Err(Error::Authentication { message: truncate(&text) });
        }
        let parsed: Option<Value> = serde_json::from_str(&text).ok();
        if let Some(errors) = parsed.as_ref().and_then(|v| v.get("errors")).and_then(Value::as_array)
            && !errors.is_empty()
        {
            return Err(Error::GraphQl { errors: errors.iter().map(GraphQlError::from_json).collect() });
        }
        if status != 200 {
            return Err(Error::Http { status, body: truncate(&text) });
        }
        match parsed {
            Some(mut v) => Ok(v.get_mut("data").map(Value::take).unwrap_or(Value::Null)),
            None => Err(Error::decode("the response body", format!("not JSON: {}", truncate(&text)))),
        }
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

#[allow(dead_code)]
const _UNUSED: Duration = Duration::ZERO;
