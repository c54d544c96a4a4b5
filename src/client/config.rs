//! A client's settings once built: immutable, shared by the client's clones and its
//! subscriptions. [`KiliBuilder`](crate::KiliBuilder) (in `builder`) makes them.
//!
//! Uses nothing else of the client.

use std::fmt;
use std::time::Duration;

use crate::common::backoff::Backoff;
use crate::common::tls::Tls;

/// Kili's cloud endpoint, used when none is given.
///
/// # Examples
///
/// ```
/// assert!(kili::DEFAULT_ENDPOINT.ends_with("/api/label/v2/graphql"));
/// ```
pub const DEFAULT_ENDPOINT: &str = "https://cloud.kili-technology.com/api/label/v2/graphql";

/// How failed requests are retried.
#[derive(Debug, Clone)]
pub(crate) struct RetrySettings {
    /// Attempts after the first one.
    pub(crate) max_retries: u32,
    /// Delays between attempts.
    pub(crate) backoff: Backoff,
    /// Total time budget across all attempts of one call.
    pub(crate) budget: Duration,
}

/// Stands for the API key in `Debug` output, so that logging a client, a builder or their
/// settings never leaks it.
pub(crate) struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Immutable client settings.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) api_key: String,
    pub(crate) endpoint: String,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) retry: RetrySettings,
    /// Calls per minute; `None` turns the limiter off.
    pub(crate) rate_limit: Option<u32>,
    /// The limiter's window (a minute unless set with
    /// [`KiliBuilder::rate_limit_per`](crate::KiliBuilder::rate_limit_per)).
    pub(crate) rate_limit_window: Duration,
    pub(crate) tls: Tls,
    /// Whether to use proxies from the environment (`HTTPS_PROXY`, ...).
    pub(crate) proxy_from_env: bool,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("api_key", &Redacted)
            .field("endpoint", &self.endpoint)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("retry", &self.retry)
            .field("rate_limit", &self.rate_limit)
            .field("rate_limit_window", &self.rate_limit_window)
            .field("proxy_from_env", &self.proxy_from_env)
            .finish_non_exhaustive()
    }
}
