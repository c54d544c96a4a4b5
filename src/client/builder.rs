//! [`KiliBuilder`], and the constructors of [`Kili`] that use it (`new`, `builder`,
//! `from_env`): every setting, its default, and its check before the client exists.
//!
//! Uses `config` (what it builds) and `kili` (the client it returns).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::client::Kili;
use crate::client::config::{Config, DEFAULT_ENDPOINT, Redacted, RetrySettings};
use crate::common::backoff::Backoff;
use crate::common::tls::{Tls, TlsProvider, TlsSettings};
use crate::error::{Error, Result};

impl Kili {
    /// Creates a client for `endpoint` with `api_key` and default settings.
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

    /// Returns a builder for every setting.
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

    /// Creates a client configured from the environment: `KILI_API_KEY` (required),
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
}

/// Builds a [`Kili`] client.
///
/// # Examples
///
/// Every setting has a default suited to Kili's cloud (each setter says which); only the API key
/// is required.
///
/// ```
/// use std::time::Duration;
/// let kili = kili::Kili::builder()
///     .api_key("my-key")
///     .endpoint("http://127.0.0.1:4000/api/label/v2/graphql")
///     .connect_timeout(Duration::from_secs(5))
///     .request_timeout(Duration::from_secs(10))
///     .max_retries(3)
///     .retry_backoff(Duration::from_millis(200), Duration::from_secs(5))
///     .retry_budget(Duration::from_secs(30))
///     .rate_limit(Some(250))
///     .tls_provider(kili::TlsProvider::Rustls)
///     .verify_tls(true)
///     .proxy_from_env(false)
///     .build()?;
/// assert_eq!(kili.endpoint(), "http://127.0.0.1:4000/api/label/v2/graphql");
/// # Ok::<(), kili::Error>(())
/// ```
///
/// A private CA, for an on-premise Kili:
///
/// ```no_run
/// let kili = kili::Kili::builder()
///     .api_key("k")
///     .endpoint("https://kili.example.internal/api/label/v2/graphql")
///     .ca_bundle("/etc/ssl/corporate-ca.pem")
///     .build()?;
/// # Ok::<(), kili::Error>(())
/// ```
///
/// Its `Debug` output shows every setting but the API key:
///
/// ```
/// let builder = kili::Kili::builder().api_key("my-secret-key");
/// let shown = format!("{builder:?}");
/// assert!(shown.contains("api_key: Some(<redacted>)") && !shown.contains("my-secret-key"));
/// ```
#[derive(Clone)]
#[must_use]
pub struct KiliBuilder {
    api_key: Option<String>,
    endpoint: String,
    connect_timeout: Duration,
    request_timeout: Duration,
    retry: RetrySettings,
    rate_limit: Option<u32>,
    rate_limit_window: Duration,
    tls: TlsSettings,
    proxy_from_env: bool,
}

impl fmt::Debug for KiliBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KiliBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| Redacted))
            .field("endpoint", &self.endpoint)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("retry", &self.retry)
            .field("rate_limit", &self.rate_limit)
            .field("rate_limit_window", &self.rate_limit_window)
            .field("tls", &self.tls)
            .field("proxy_from_env", &self.proxy_from_env)
            .finish()
    }
}

impl Default for KiliBuilder {
    fn default() -> Self {
        KiliBuilder {
            api_key: None,
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            retry: RetrySettings {
                max_retries: 10,
                backoff: Backoff::new(Duration::from_millis(100), Duration::from_secs(10)),
                budget: Duration::from_secs(180),
            },
            rate_limit: Some(500),
            rate_limit_window: Duration::from_secs(60),
            tls: TlsSettings::default(),
            proxy_from_env: true,
        }
    }
}

impl KiliBuilder {
    /// Sets the API key, sent as `Authorization: X-API-Key: <key>`. Required: it has no
    /// default.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Sets the GraphQL endpoint (`http(s)://host/api/label/v2/graphql`); subscriptions use
    /// the same URL with `ws(s)://`.
    ///
    /// Defaults to [`DEFAULT_ENDPOINT`].
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = endpoint.into();
        self
    }

    /// Sets the time allowed to open a connection (TCP and TLS).
    ///
    /// Defaults to 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the time allowed for one HTTP request, from sending to the end of the response
    /// body.
    ///
    /// Defaults to 60 s, like the official SDK.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets how many times a transient failure is retried (0 turns retries off).
    ///
    /// Defaults to 10, like the official SDK.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.retry.max_retries = retries;
        self
    }

    /// Sets the first and the largest delay between retries; delays double with full jitter.
    ///
    /// Defaults to 100 ms and 10 s.
    pub fn retry_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.retry.backoff = Backoff::new(initial, max);
        self
    }

    /// Sets the total time one call may spend across its attempts and waits.
    ///
    /// Defaults to 180 s.
    pub fn retry_budget(mut self, budget: Duration) -> Self {
        self.retry.budget = budget;
        self
    }

    /// Sets the calls per minute allowed by the client-side rate limiter, shared by all clones
    /// of the client; `None` turns it off.
    ///
    /// Defaults to `Some(500)`, like the official SDK.
    pub fn rate_limit(mut self, calls_per_minute: Option<u32>) -> Self {
        self.rate_limit = calls_per_minute;
        self.rate_limit_window = Duration::from_secs(60);
        self
    }

    /// Allows at most `calls` requests in any sliding `window`, shared by all clones of the
    /// client (e.g. `rate_limit_per(5, Duration::from_secs(1))`). Every HTTP attempt counts,
    /// retries included.
    ///
    /// Defaults to 500 per minute.
    pub fn rate_limit_per(mut self, calls: u32, window: Duration) -> Self {
        self.rate_limit = Some(calls);
        self.rate_limit_window = window;
        self
    }

    /// Chooses the TLS implementation.
    ///
    /// Defaults to [`TlsProvider::Rustls`] when the `rustls` feature is on.
    pub fn tls_provider(mut self, provider: TlsProvider) -> Self {
        self.tls.provider = provider;
        self
    }

    /// Trusts the root certificates of a PEM file *instead of* the provider's default roots
    /// (e.g. a corporate CA), as a path in `KILI_VERIFY` or the SDK's `verify=` does.
    ///
    /// Defaults to none: rustls trusts the Mozilla roots, native-tls the platform's.
    pub fn ca_bundle(mut self, path: impl Into<PathBuf>) -> Self {
        self.tls.ca_bundle = Some(path.into());
        self
    }

    /// Sets whether to verify the server's TLS certificate. Turning it off (as `KILI_VERIFY=false`)
    /// makes the connection open to interception; use it only against a test server.
    ///
    /// Defaults to `true`.
    pub fn verify_tls(mut self, verify: bool) -> Self {
        self.tls.verify = verify;
        self
    }

    /// Sets whether to use the proxy named by `ALL_PROXY`/`HTTPS_PROXY`/`HTTP_PROXY` (and
    /// `NO_PROXY`).
    ///
    /// Defaults to `true`.
    pub fn proxy_from_env(mut self, yes: bool) -> Self {
        self.proxy_from_env = yes;
        self
    }

    /// Builds the client. No request is sent.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] if the API key is missing or empty, or the endpoint is not an
    /// `http(s)://` URL, or the CA bundle is unusable (unreadable, not PEM, no certificate).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(kili::Kili::builder().build().is_err(), "an API key is required");
    /// let kili = kili::Kili::builder().api_key("k").build()?;
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn build(self) -> Result<Kili> {
        let api_key = match self.api_key {
            Some(k) if !k.trim().is_empty() => k,
            _ => return Err(Error::invalid("an API key is required (set KILI_API_KEY)")),
        };
        if !(self.endpoint.starts_with("http://") || self.endpoint.starts_with("https://")) {
            return Err(Error::invalid(format!(
                "endpoint must start with http:// or https://, got {:?}",
                self.endpoint
            )));
        }
        let config = Config {
            api_key,
            endpoint: self.endpoint,
            connect_timeout: self.connect_timeout,
            request_timeout: self.request_timeout,
            retry: self.retry,
            rate_limit: self.rate_limit,
            rate_limit_window: self.rate_limit_window,
            tls: Tls::new(&self.tls)?,
            proxy_from_env: self.proxy_from_env,
        };
        Kili::from_config(Arc::new(config))
    }
}
