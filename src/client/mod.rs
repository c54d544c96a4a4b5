//! The blocking [`Kili`] client.

pub(crate) mod config;
mod transport;

use std::sync::Arc;

pub use config::{DEFAULT_ENDPOINT, KiliBuilder, TlsProvider};
use config::Config;
use serde_json::Value;

use crate::error::{Error, Result};

/// A blocking client for Kili's GraphQL API.
///
/// Cheap to clone: clones share one connection pool and one rate limiter. `Send + Sync`.
///
/// # Examples
///
/// ```no_run
/// let kili = kili::Kili::new("my-api-key", kili::DEFAULT_ENDPOINT)?;
/// let data = kili.graphql("query { viewer { id email } }", serde_json::json!({}))?;
/// println!("{data}");
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Clone)]
pub struct Kili {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: Arc<Config>,
    pub(crate) transport: transport::Transport,
}

impl std::fmt::Debug for Kili {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kili")
            .field("endpoint", &self.inner.config.endpoint)
            .field("api_key", &obfuscate(&self.inner.config.api_key))
            .finish_non_exhaustive()
    }
}

impl Kili {
    /// A client for `endpoint` with `api_key` and default settings.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] if the key is empty or the endpoint is not an http(s) URL.
    ///
    /// ```
    /// assert!(kili::Kili::new("", kili::DEFAULT_ENDPOINT).is_err());
    /// ```
    pub fn new(api_key: impl Into<String>, endpoint: impl Into<String>) -> Result<Kili> {
        KiliBuilder::default().api_key(api_key).endpoint(endpoint).build()
    }

    /// A builder for every setting.
    pub fn builder() -> KiliBuilder {
        KiliBuilder::default()
    }

    /// A client configured from the environment: `KILI_API_KEY` (required),
    /// `KILI_API_ENDPOINT` (defaults to [`DEFAULT_ENDPOINT`]) and `KILI_VERIFY`
    /// (`false`/`0`/`no` turns TLS verification off; a path is used as a CA bundle).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] if `KILI_API_KEY` is unset or empty.
    pub fn from_env() -> Result<Kili> {
        let mut b = KiliBuilder::default();
        if let Ok(key) = std::env::var("KILI_API_KEY") {
            b = b.api_key(key);
        }
        if let Ok(endpoint) = std::env::var("KILI_API_ENDPOINT")
            && !endpoint.trim().is_empty()
        {
            b = b.endpoint(endpoint.trim());
        }
        if let Ok(verify) = std::env::var("KILI_VERIFY") {
            let v = verify.trim();
            match v.to_ascii_lowercase().as_str() {
                "" | "true" | "1" | "yes" => {}
                "false" | "0" | "no" => b = b.verify_tls(false),
                _ => b = b.ca_bundle(v),
            }
        }
        b.build()
    }

    pub(crate) fn from_config(config: Arc<Config>) -> Result<Kili> {
        let transport = transport::Transport::new(&config)?;
        Ok(Kili { inner: Arc::new(Inner { config, transport }) })
    }

    /// The GraphQL endpoint this client talks to.
    pub fn endpoint(&self) -> &str {
        &self.inner.config.endpoint
    }

    /// The API key this client sends.
    pub fn api_key(&self) -> &str {
        &self.inner.config.api_key
    }

    /// Sends any GraphQL document with its variables and returns the response's `data`.
    ///
    /// This is the escape hatch for everything in Kili's API that has no typed method.
    ///
    /// # Errors
    ///
    /// [`Error::GraphQl`] if the response has `errors`, [`Error::Authentication`] on 401,
    /// [`Error::Http`] for other statuses, [`Error::Transport`]/[`Error::Timeout`] when the
    /// server cannot be reached in time (after retries).
    pub fn graphql(&self, query: &str, variables: Value) -> Result<Value> {
        self.inner.transport.execute(&self.inner.config, query, variables)
    }
}

/// `"*****1234"`: the key with all but its last four characters hidden, as the SDK prints it.
pub(crate) fn obfuscate(key: &str) -> String {
    let n = key.chars().count();
    let keep = n.min(4);
    let mut s: String = "*".repeat(n - keep);
    s.extend(key.chars().skip(n - keep));
    s
}

#[allow(dead_code)] // used by later operations
fn _assert_error_used(_: Error) {}
