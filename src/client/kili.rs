//! The [`Kili`] handle: the settings, the connection pool and the rate limiter that its clones
//! share, and one GraphQL call through the limiter and the retries. The typed operations
//! (`ops`), the reads (`paginate`) and the subscriptions are methods added on top of it.
//!
//! Uses the plumbing only (`config`, `document`, `rate_limit`, `retry`, `transport`).

use std::sync::Arc;

use serde_json::Value;

use crate::client::config::{Config, Redacted};
use crate::client::document;
use crate::client::rate_limit::RateLimiter;
use crate::client::retry::{self, Failure, Safety};
use crate::client::transport::Transport;
use crate::error::{Error, Result};

/// A blocking client for Kili's GraphQL API.
///
/// Cheap to clone: clones share one connection pool and one rate limiter. `Send + Sync`. Its
/// `Debug` output shows the endpoint, not the API key.
///
/// # Conventions
///
/// The typed operations follow one pattern, so that one of them tells how the others go:
///
/// - **A builder in, by reference.** An operation takes a small builder (`&NewAssets`,
///   `&LabelQuery`, ...). Its constructor takes what is required, the project first:
///   [`NewAssets::new`]`(project_id, contents)`, [`NewLabels::for_assets`]`(project_id,
///   asset_ids, json_responses)`, [`AssetQuery::new`]`(project_id)`. Its setters chain, and
///   each says its default.
/// - **Reads are lazy.** `projects`, `assets`, `labels` and `issues` return a [`Paginated`]
///   iterator; `count_projects`, `count_assets`, `count_labels` and `count_issues` return a
///   `u64`. (`list_plugins` and `get_plugin_logs` return a `Vec`: Kili does not page the
///   first, and the second is one page, its `limit` and `skip` given.)
/// - **Writes return ids.** Every write returns the ids of what it created, changed or
///   deleted: a `String` for an operation on one object ([`create_project`],
///   [`delete_project`], [`update_properties_in_label`], and the plugin operations such as
///   [`create_webhook`], which return the plugin's name: Kili names a plugin by it), a
///   `Vec<String>` in input order for an operation on many ([`append_many_to_dataset`],
///   [`append_labels`], [`create_predictions`], [`update_properties_in_assets`],
///   [`delete_labels`], [`delete_many_from_dataset`], [`create_issues`],
///   [`send_back_to_queue`]).
/// - **Progress is attached one way.** `.progress(observer)`, on a write's builder
///   ([`NewAssets::progress`], [`NewLabels::progress`], [`NewPredictions::progress`],
///   [`NewIssues::progress`]) as on a read ([`Paginated::progress`]); any `Fn(done, total)` is
///   a [`Progress`].
/// - **Models are read through methods** of the same names: [`Project`], [`Asset`],
///   [`Label`], [`Issue`], [`Plugin`] and [`PluginLog`] have `id()` (a plugin: `name()`),
///   `created_at()`, ..., `extra()` for the fields they do not model (kept as received), and
///   `from_json` to decode one from a JSON object.
/// - **Input is checked first.** Invalid input (an empty id, arrays of different lengths) is
///   an [`Error::InvalidInput`](crate::Error::InvalidInput) before any request.
///
/// [`NewAssets::new`]: crate::NewAssets::new
/// [`NewLabels::for_assets`]: crate::NewLabels::for_assets
/// [`AssetQuery::new`]: crate::AssetQuery::new
/// [`Paginated`]: crate::Paginated
/// [`create_project`]: Kili::create_project
/// [`delete_project`]: Kili::delete_project
/// [`update_properties_in_label`]: Kili::update_properties_in_label
/// [`append_many_to_dataset`]: Kili::append_many_to_dataset
/// [`append_labels`]: Kili::append_labels
/// [`create_predictions`]: Kili::create_predictions
/// [`update_properties_in_assets`]: Kili::update_properties_in_assets
/// [`delete_labels`]: Kili::delete_labels
/// [`delete_many_from_dataset`]: Kili::delete_many_from_dataset
/// [`create_webhook`]: Kili::create_webhook
/// [`create_issues`]: Kili::create_issues
/// [`send_back_to_queue`]: Kili::send_back_to_queue
/// [`NewIssues::progress`]: crate::NewIssues::progress
/// [`Issue`]: crate::Issue
/// [`Plugin`]: crate::Plugin
/// [`PluginLog`]: crate::PluginLog
/// [`NewAssets::progress`]: crate::NewAssets::progress
/// [`NewLabels::progress`]: crate::NewLabels::progress
/// [`NewPredictions::progress`]: crate::NewPredictions::progress
/// [`Paginated::progress`]: crate::Paginated::progress
/// [`Progress`]: crate::Progress
/// [`Project`]: crate::Project
/// [`Asset`]: crate::Asset
/// [`Label`]: crate::Label
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
/// [`KiliBuilder::max_retries`]: crate::KiliBuilder::max_retries
/// [`KiliBuilder::retry_backoff`]: crate::KiliBuilder::retry_backoff
/// [`KiliBuilder::retry_budget`]: crate::KiliBuilder::retry_budget
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
    pub(crate) transport: Transport,
    /// Shared by all clones; `None` when turned off.
    limiter: Option<RateLimiter>,
}

impl std::fmt::Debug for Kili {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kili")
            .field("endpoint", &self.inner.config.endpoint)
            .field("api_key", &Redacted)
            .finish_non_exhaustive()
    }
}

impl Kili {
    /// Creates a client from its built settings: its connection pool and its rate limiter.
    pub(crate) fn from_config(config: Arc<Config>) -> Result<Kili> {
        let transport = Transport::new(&config)?;
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

    /// Returns the GraphQL endpoint this client talks to.
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

    /// Returns the API key this client sends.
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

    /// Sends one attempt: waits for the rate limiter, then posts.
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

    /// Sends the document, retried as `safety` allows.
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
