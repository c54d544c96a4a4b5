//! The blocking [`Kili`] client.

pub(crate) mod config;
mod deadline;
mod document;
pub(crate) mod fields;
pub(crate) mod ops;
pub(crate) mod paginate;
mod progress;
mod rate_limit;
pub(crate) mod read;
mod retry;
mod transport;

use std::sync::Arc;

use config::Config;
pub use config::{DEFAULT_ENDPOINT, KiliBuilder};
pub use paginate::Paginated;
pub use progress::Progress;
use rate_limit::RateLimiter;
use retry::{Failure, Safety};
use serde_json::Value;

use crate::error::{Error, Result};

/// A blocking client for Kili's GraphQL API.
///
/// Cheap to clone: clones share one connection pool and one rate limiter. `Send + Sync`. Its
/// `Debug` output shows the endpoint, not the API key.
///
/// # Retries
///
/// Transient failures (connection failures, timeouts, HTTP 429, 502, 503, 504, 520-522) are
/// retried with capped exponential backoff and full jitter, honouring `Retry-After`, within a
/// total time budget ([`KiliBuilder::max_retries`], [`KiliBuilder::retry_backoff`],
/// [`KiliBuilder::retry_budget`]). GraphQL errors (validation, permissions, ...), 401 and other
/// statuses are never retried.
///
/// Queries are retried whatever the failure. A mutation whose request may have reached the
/// server (a timeout or dropped connection after sending, a 5xx from a proxy) is never simply
/// resent: the batch operations ([`Kili::append_many_to_dataset`], [`Kili::append_labels`],
/// [`Kili::delete_many_from_dataset`]) first ask the server what the lost attempt did and resend
/// only the rest; other mutations ([`Kili::create_project`], a mutation sent through
/// [`Kili::graphql`]) are retried only when the request certainly did not run (connection
/// refused, 429) and otherwise return the error.
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
    /// Shared by all clones; `None` when turned off.
    limiter: Option<RateLimiter>,
}

impl std::fmt::Debug for Kili {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kili")
            .field("endpoint", &self.inner.config.endpoint)
            .field("api_key", &config::Redacted)
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
        KiliBuilder::default()
            .api_key(api_key)
            .endpoint(endpoint)
            .build()
    }

    /// A builder for every setting.
    ///
    /// # Examples
    ///
    /// ```
    /// let kili = kili::Kili::builder().api_key("my-key").build()?;
    /// assert_eq!(kili.endpoint(), kili::DEFAULT_ENDPOINT);
    /// # Ok::<(), kili::Error>(())
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```no_run
    /// // KILI_API_KEY=... KILI_API_ENDPOINT=http://localhost:4000/api/label/v2/graphql
    /// let kili = kili::Kili::from_env()?;
    /// # Ok::<(), kili::Error>(())
    /// ```
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
        let limiter = config
            .rate_limit
            .map(|n| RateLimiter::new(n, config.rate_limit_window));
        Ok(Kili {
            inner: Arc::new(Inner {
                config,
                transport,
                limiter,
            }),
        })
    }

    /// The GraphQL endpoint this client talks to.
    ///
    /// # Examples
    ///
    /// ```
    /// let kili = kili::Kili::new("k", "http://127.0.0.1:4000/api/label/v2/graphql")?;
    /// assert_eq!(kili.endpoint(), "http://127.0.0.1:4000/api/label/v2/graphql");
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn endpoint(&self) -> &str {
        &self.inner.config.endpoint
    }

    /// The API key this client sends.
    ///
    /// # Examples
    ///
    /// ```
    /// let kili = kili::Kili::new("my-key", kili::DEFAULT_ENDPOINT)?;
    /// assert_eq!(kili.api_key(), "my-key");
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn api_key(&self) -> &str {
        &self.inner.config.api_key
    }

    /// Sends any GraphQL document with its variables and returns the response's `data`.
    ///
    /// This is the escape hatch for everything in Kili's API that has no typed method. It goes
    /// through the rate limiter and the retries like every other call; a document that defines
    /// a mutation is retried only when the request certainly did not reach the server (see
    /// [Retries](Kili#retries)). `variables` is sent as given (omitted when `null` or `{}`).
    ///
    /// # Errors
    ///
    /// [`Error::GraphQl`] if the response has `errors`, [`Error::Authentication`] on 401,
    /// [`Error::Http`] for other statuses, [`Error::Transport`]/[`Error::Timeout`] when the
    /// server cannot be reached in time (after retries), [`Error::Decode`] if the body is not
    /// JSON.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let kili = kili::Kili::new("key", kili::DEFAULT_ENDPOINT)?;
    /// let data = kili.graphql(
    ///     "query countProjects($where: ProjectWhere!) { data: countProjects(where: $where) }",
    ///     serde_json::json!({"where": {}}),
    /// )?;
    /// println!("{} projects", data["data"]);
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn graphql(&self, query: &str, variables: Value) -> Result<Value> {
        let safety = if document::is_mutation(query) {
            Safety::NotIdempotent
        } else {
            Safety::Idempotent
        };
        self.execute(query, &variables, safety)
    }

    /// One attempt: waits for the rate limiter, then posts.
    pub(crate) fn attempt(
        &self,
        query: &str,
        variables: &Value,
    ) -> std::result::Result<Value, Failure> {
        if let Some(limiter) = &self.inner.limiter {
            limiter.acquire();
        }
        log::debug!("posting {}", document::operation_label(query));
        self.inner
            .transport
            .post(&self.inner.config, query, variables)
    }

    /// Attempts with retries, as `safety` allows.
    pub(crate) fn execute(&self, query: &str, variables: &Value, safety: Safety) -> Result<Value> {
        let what = document::operation_label(query);
        retry::run(&self.inner.config.retry, safety, &what, || {
            self.attempt(query, variables)
        })
    }

    /// Runs a `data:`-aliased operation and returns the aliased value.
    pub(crate) fn execute_data(
        &self,
        query: &str,
        variables: &Value,
        safety: Safety,
    ) -> Result<Value> {
        let mut data = self.execute(query, variables, safety)?;
        take_data(&mut data)
    }
}

/// Takes `data` out of a response's `data` (the SDK's `data:` alias).
pub(crate) fn take_data(data: &mut Value) -> Result<Value> {
    match data.get_mut("data") {
        Some(v) => Ok(v.take()),
        None => Err(Error::decode(
            "the response",
            format!("no `data` field in {data}"),
        )),
    }
}
