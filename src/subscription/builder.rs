//! Starting a subscription from a [`Kili`] client: [`Kili::label_created_or_updated`] (the
//! tutorial's name), and [`SubscriptionBuilder`] for everything else (options, the stream
//! form, any subscription document).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crossbeam_channel::bounded;
use serde_json::{Map, Value, json};

use crate::client::Kili;
use crate::error::{Error, Result};
use crate::subscription::events::{LabelEvent, RawEvent};
use crate::subscription::feed::{
    Feed, LabelFeed, LabelFeedSettings, RawFeed, label_subscription_document,
};
use crate::subscription::handle::Subscription;
use crate::subscription::options::SubscriptionOptions;
use crate::subscription::status::Shared;
use crate::subscription::stream::EventStream;
use crate::subscription::wire::link::Endpoint;
use crate::subscription::wire::protocol::Operation;
use crate::subscription::worker::Core;
use crate::subscription::worker::outlet::{Outlet, Sink};

/// Numbers the subscriptions of the process, for thread names.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Starts a builder's subscription, once its sink and options are known.
type Start<E> = Box<dyn FnOnce(Sink<E>, SubscriptionOptions) -> Result<Subscription> + Send + Sync>;

/// Starts a subscription: what it subscribes to, with which options, delivered to a callback
/// or read from a stream. Made by [`Kili::labels_subscription`] (label events, with catch-up
/// after gaps and checkpoints) or [`Kili::subscription`] (any document, raw results).
///
/// Nothing happens until [`callback`](Self::callback) or [`stream`](Self::stream).
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use kili::{StreamEvent, SubscriptionOptions};
///
/// let kili = kili::Kili::from_env()?;
/// let options = SubscriptionOptions::new().keep_alive(Some(Duration::from_secs(20)));
///
/// // The callback form: `callback` runs on the subscription's own thread.
/// let sub = kili
///     .labels_subscription("project-id")
///     .options(options.clone())
///     .callback(|event| println!("{}", event.label().id()))?;
///
/// // The stream form: read the events in a loop.
/// let events = kili.labels_subscription("project-id").options(options).stream()?;
/// if let Ok(StreamEvent::Event(event)) = events.recv_timeout(Duration::from_secs(60)) {
///     println!("{}", event.label().id());
/// }
/// # Ok::<(), kili::Error>(())
/// ```
#[must_use = "a builder does nothing until `callback` or `stream` starts the subscription"]
pub struct SubscriptionBuilder<E> {
    /// What it subscribes to, for `Debug`.
    what: String,
    options: SubscriptionOptions,
    start: Start<E>,
}

impl<E> std::fmt::Debug for SubscriptionBuilder<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubscriptionBuilder")
            .field("what", &self.what)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<E: Send + 'static> SubscriptionBuilder<E> {
    /// Sets the subscription's options. Defaults to [`SubscriptionOptions::default`].
    pub fn options(mut self, options: SubscriptionOptions) -> Self {
        self.options = options;
        self
    }

    /// Starts the subscription: `callback` runs on the subscription's own thread for each
    /// event, as soon as it arrives. Returns once the server acknowledged the connection and
    /// the subscription started.
    ///
    /// A lost connection is then reopened with backoff; for a label subscription, the labels
    /// created meanwhile are fetched and delivered (each label version once) before live
    /// events. See [`Subscription`] for pause, close and the rest.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty project id or document, or variables that are not
    /// a JSON object; [`Error::Authentication`] at once if the server refuses the API key (no
    /// retry); [`Error::Transport`]/[`Error::Timeout`] if the server cannot be reached or does
    /// not acknowledge in time (the first connection is not retried); [`Error::GraphQl`] if
    /// the server rejects the subscription.
    pub fn callback<F>(self, callback: F) -> Result<Subscription>
    where
        F: FnMut(&E) + Send + 'static,
    {
        (self.start)(Sink::Callback(Box::new(callback)), self.options)
    }

    /// Starts the subscription, whose events are read from the returned [`EventStream`]
    /// (with lifecycle events between them); otherwise as [`callback`](Self::callback). The
    /// stream holds at most [`SubscriptionOptions::queue_capacity`] events: a reader that
    /// falls behind slows the subscription down, nothing is dropped.
    ///
    /// # Errors
    ///
    /// As [`callback`](Self::callback).
    pub fn stream(self) -> Result<EventStream<E>> {
        let (tx, rx) = bounded(self.options.queue_capacity);
        let sub = (self.start)(Sink::Channel(Some(tx)), self.options)?;
        Ok(EventStream::new(sub, rx))
    }
}

impl Kili {
    /// Subscribes to the labels created or updated in a project: `callback` runs on the
    /// subscription's own thread for each one, as soon as it arrives. The name and arguments
    /// are the tutorial's; [`labels_subscription`](Self::labels_subscription) gives the same
    /// subscription with options, or as a stream.
    ///
    /// Returns once the server acknowledged the connection and the subscription started. A
    /// lost connection is then reopened with backoff, and the labels created meanwhile are
    /// fetched and delivered (each label version once) before live events. See
    /// [`Subscription`] for pause, close and the rest.
    ///
    /// # Errors
    ///
    /// As [`SubscriptionBuilder::callback`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let kili = kili::Kili::from_env()?;
    /// let sub = kili.label_created_or_updated("project-id", |event| {
    ///     println!("New data: {}", event.frame());
    /// })?;
    /// // ... later
    /// sub.close()?;
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn label_created_or_updated<F>(&self, project_id: &str, callback: F) -> Result<Subscription>
    where
        F: FnMut(&LabelEvent) + Send + 'static,
    {
        self.labels_subscription(project_id).callback(callback)
    }

    /// Returns a builder for a subscription to the labels created or updated in a project:
    /// set its options, then start it with a callback or as a stream.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let kili = kili::Kili::from_env()?;
    /// let options = kili::SubscriptionOptions::new()
    ///     .on_lifecycle(|event| eprintln!("subscription: {event:?}"));
    /// let events = kili.labels_subscription("project-id").options(options).stream()?;
    /// while let Ok(item) = events.recv_timeout(Duration::from_secs(60)) {
    ///     if let kili::StreamEvent::Event(e) = item {
    ///         println!("New data: {}", e.frame());
    ///     }
    /// }
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn labels_subscription(&self, project_id: &str) -> SubscriptionBuilder<LabelEvent> {
        let kili = self.clone();
        let project_id = project_id.to_owned();
        SubscriptionBuilder {
            what: format!("the labels of project {project_id}"),
            options: SubscriptionOptions::default(),
            start: Box::new(move |sink, options| {
                let feed = kili.label_feed(&project_id, &options)?;
                let operation = label_operation(&project_id, kili.api_key())?;
                kili.start(feed, sink, operation, options)
            }),
        }
    }

    /// Returns a builder for a subscription to any subscription document of Kili's API: each
    /// result is a [`RawEvent`]. It reconnects like the label subscription, without catch-up.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let kili = kili::Kili::from_env()?;
    /// let sub = kili
    ///     .subscription(
    ///         "subscription($projectID: ID!) { data: labelCreatedOrUpdated(projectID: $projectID) { id } }",
    ///         serde_json::json!({"projectID": "project-id"}),
    ///     )
    ///     .callback(|event| println!("{}", event.data()))?;
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn subscription(&self, document: &str, variables: Value) -> SubscriptionBuilder<RawEvent> {
        let kili = self.clone();
        let document = document.to_owned();
        SubscriptionBuilder {
            what: format!("the document {:?}", document.trim()),
            options: SubscriptionOptions::default(),
            start: Box::new(move |sink, options| {
                let operation = raw_operation(&document, variables, kili.api_key())?;
                kili.start(RawFeed, sink, operation, options)
            }),
        }
    }

    fn label_feed(&self, project_id: &str, options: &SubscriptionOptions) -> Result<LabelFeed> {
        if project_id.trim().is_empty() {
            return Err(Error::invalid("the project id is empty"));
        }
        let settings = LabelFeedSettings {
            margin: options.catch_up_margin,
            capacity: options.dedupe_capacity,
            limit: options.catch_up_limit,
            resume: options.resume_from.clone(),
        };
        Ok(LabelFeed::new(
            self.clone(),
            project_id.to_owned(),
            settings,
        ))
    }

    fn start<F: Feed>(
        &self,
        feed: F,
        sink: Sink<F::Event>,
        (init_payload, operation): (Value, Operation),
        options: SubscriptionOptions,
    ) -> Result<Subscription> {
        let config = &self.inner.config;
        let endpoint = Endpoint::new(
            &config.endpoint,
            &config.tls,
            &options.protocols,
            config.connect_timeout,
            options.max_event_size,
        )?;
        let name = match &options.thread_name {
            Some(n) => n.clone(),
            None => format!("kili-sub-{}", NEXT_ID.fetch_add(1, Ordering::Relaxed)),
        };
        let shared = Arc::new(Shared::new(name));
        if let Some(cp) = &options.resume_from {
            // Until an event is handled, the subscription stands where it resumed from.
            shared.set_checkpoint(cp.clone());
        }
        log::debug!(
            "subscription {}: connecting to {}",
            shared.name,
            endpoint.url()
        );
        // A reset closes the old connection, then connects, handshakes, waits for the ack and
        // the probe: the longest it can take, plus a second.
        let reply_wait = options
            .close_timeout
            .saturating_add(endpoint.connect_timeout().saturating_mul(2))
            .saturating_add(options.ack_timeout.saturating_mul(2))
            .saturating_add(Duration::from_secs(1));
        let close_timeout = options.close_timeout;
        let outlet = Outlet::new(
            sink,
            options.on_lifecycle.clone(),
            shared.clone(),
            F::checkpoint_of,
            options.queue_capacity,
        );
        let core = Core {
            kili: self.clone(),
            feed,
            outlet,
            endpoint,
            init_payload,
            operation,
            options,
        };
        Subscription::start(Box::new(core), shared, reply_wait, close_timeout)
    }
}

/// Returns the SDK's headers, sent in `connection_init` and in `start`.
fn sdk_headers(api_key: &str) -> Value {
    json!({
        "Accept": "application/json",
        "Content-Type": "application/json",
        "Authorization": format!("X-API-Key: {api_key}"),
    })
}

/// `connection_init`'s payload as the SDK sends it (`headers` for API v1, `Authorization` for v2).
fn init_payload(api_key: &str) -> Value {
    json!({"headers": sdk_headers(api_key), "Authorization": format!("X-API-Key: {api_key}")})
}

fn with_headers(api_key: &str) -> Map<String, Value> {
    let mut extra = Map::new();
    extra.insert("headers".into(), sdk_headers(api_key));
    extra
}

fn label_operation(project_id: &str, api_key: &str) -> Result<(Value, Operation)> {
    let operation = Operation {
        query: label_subscription_document()?,
        variables: json!({"projectID": project_id}),
        start_extra: with_headers(api_key),
    };
    Ok((init_payload(api_key), operation))
}

fn raw_operation(query: &str, variables: Value, api_key: &str) -> Result<(Value, Operation)> {
    if query.trim().is_empty() {
        return Err(Error::invalid("the subscription document is empty"));
    }
    let variables = match variables {
        Value::Null => json!({}),
        v @ Value::Object(_) => v,
        other => {
            return Err(Error::invalid(format!(
                "variables must be a JSON object, got {other}"
            )));
        }
    };
    let operation = Operation {
        query: query.to_owned(),
        variables,
        start_extra: with_headers(api_key),
    };
    Ok((init_payload(api_key), operation))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdk_wire_shapes() {
        let (init, op) = label_operation("proj1", "secret").unwrap();
        assert_eq!(
            init,
            json!({"headers": {"Accept": "application/json", "Content-Type": "application/json",
                "Authorization": "X-API-Key: secret"}, "Authorization": "X-API-Key: secret"})
        );
        assert_eq!(op.variables, json!({"projectID": "proj1"}));
        assert_eq!(op.start_extra["headers"], init["headers"]);
        assert!(
            op.query
                .contains("data: labelCreatedOrUpdated(projectID: $projectID)")
        );
        assert!(
            op.query
                .contains("id author { email } labelOf { id } labelType jsonResponse createdAt")
        );
    }

    #[test]
    fn raw_operations_are_checked() {
        assert!(raw_operation(" ", json!({}), "k").is_err());
        assert!(raw_operation("subscription { x }", json!([1]), "k").is_err());
        assert_eq!(
            raw_operation("subscription { x }", Value::Null, "k")
                .unwrap()
                .1
                .variables,
            json!({})
        );
    }

    #[test]
    fn handles_and_options_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Subscription>();
        assert_send_sync::<SubscriptionOptions>();
        assert_send_sync::<crate::subscription::stream::LabelStream>();
        assert_send_sync::<SubscriptionBuilder<LabelEvent>>();
        assert_send_sync::<EventStream<RawEvent>>();
    }
}
