//! The subscription methods of [`Kili`].

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
use crate::subscription::stream::{EventStream, LabelStream};
use crate::subscription::wire::link::Endpoint;
use crate::subscription::wire::protocol::Operation;
use crate::subscription::worker::Core;
use crate::subscription::worker::outlet::{Outlet, Sink};

/// Numbers the subscriptions of the process, for thread names.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Kili {
    /// Subscribes to the labels created or updated in a project: `callback` runs on the
    /// subscription's own thread for each one, as soon as it arrives.
    ///
    /// Returns once the server acknowledged the connection and the subscription started. A
    /// lost connection is then reopened with backoff, and the labels created meanwhile are
    /// fetched and delivered (each label version once) before live events. See
    /// [`Subscription`] for pause, close and the rest.
    ///
    /// # Errors
    ///
    /// [`Error::Authentication`] at once if the server refuses the API key (no retry),
    /// [`Error::Transport`]/[`Error::Timeout`] if the server cannot be reached or does not
    /// acknowledge in time (the first connection is not retried), [`Error::GraphQl`] if the
    /// server rejects the subscription, [`Error::InvalidInput`] for an empty project id.
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
        self.label_created_or_updated_with_options(
            project_id,
            SubscriptionOptions::default(),
            callback,
        )
    }

    /// [`label_created_or_updated`](Self::label_created_or_updated) with options.
    ///
    /// # Errors
    ///
    /// As [`label_created_or_updated`](Self::label_created_or_updated).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let kili = kili::Kili::from_env()?;
    /// let options = kili::SubscriptionOptions::new()
    ///     .keep_alive(Some(Duration::from_secs(20)))
    ///     .on_lifecycle(|event| eprintln!("subscription: {event:?}"));
    /// let sub = kili.label_created_or_updated_with_options("project-id", options, |event| {
    ///     println!("{}", event.label.id());
    /// })?;
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn label_created_or_updated_with_options<F>(
        &self,
        project_id: &str,
        options: SubscriptionOptions,
        callback: F,
    ) -> Result<Subscription>
    where
        F: FnMut(&LabelEvent) + Send + 'static,
    {
        let feed = self.label_feed(project_id, &options)?;
        self.start(
            feed,
            Sink::Callback(Box::new(callback)),
            label_operation(project_id, self.api_key())?,
            options,
        )
    }

    /// The labels created or updated in a project, as a stream to read in a loop (see
    /// [`EventStream`]); otherwise as [`label_created_or_updated`](Self::label_created_or_updated).
    ///
    /// # Errors
    ///
    /// As [`label_created_or_updated`](Self::label_created_or_updated).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let kili = kili::Kili::from_env()?;
    /// let events = kili.label_events("project-id")?;
    /// while let Ok(item) = events.recv_timeout(Duration::from_secs(60)) {
    ///     if let kili::StreamEvent::Event(e) = item {
    ///         println!("New data: {}", e.frame());
    ///     }
    /// }
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn label_events(&self, project_id: &str) -> Result<LabelStream> {
        self.label_events_with_options(project_id, SubscriptionOptions::default())
    }

    /// [`label_events`](Self::label_events) with options.
    ///
    /// # Errors
    ///
    /// As [`label_created_or_updated`](Self::label_created_or_updated).
    pub fn label_events_with_options(
        &self,
        project_id: &str,
        options: SubscriptionOptions,
    ) -> Result<LabelStream> {
        let feed = self.label_feed(project_id, &options)?;
        let (tx, rx) = bounded(options.queue_capacity);
        let sub = self.start(
            feed,
            Sink::Channel(Some(tx)),
            label_operation(project_id, self.api_key())?,
            options,
        )?;
        Ok(EventStream::new(sub, rx))
    }

    /// Subscribes to any subscription of Kili's API; `callback` runs on the subscription's
    /// thread with each result. Reconnects like the label subscription, without catch-up.
    ///
    /// # Errors
    ///
    /// As [`label_created_or_updated`](Self::label_created_or_updated); [`Error::GraphQl`] if
    /// the server rejects the document.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let kili = kili::Kili::from_env()?;
    /// let sub = kili.subscribe(
    ///     "subscription($projectID: ID!) { data: labelCreatedOrUpdated(projectID: $projectID) { id } }",
    ///     serde_json::json!({"projectID": "project-id"}),
    ///     |event| println!("{}", event.data),
    /// )?;
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn subscribe<F>(&self, query: &str, variables: Value, callback: F) -> Result<Subscription>
    where
        F: FnMut(&RawEvent) + Send + 'static,
    {
        self.subscribe_with_options(query, variables, SubscriptionOptions::default(), callback)
    }

    /// [`subscribe`](Self::subscribe) with options.
    ///
    /// # Errors
    ///
    /// As [`subscribe`](Self::subscribe).
    pub fn subscribe_with_options<F>(
        &self,
        query: &str,
        variables: Value,
        options: SubscriptionOptions,
        callback: F,
    ) -> Result<Subscription>
    where
        F: FnMut(&RawEvent) + Send + 'static,
    {
        let op = raw_operation(query, variables, self.api_key())?;
        self.start(RawFeed, Sink::Callback(Box::new(callback)), op, options)
    }

    /// Any subscription of Kili's API as a stream (see [`EventStream`]).
    ///
    /// # Errors
    ///
    /// As [`subscribe`](Self::subscribe).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let kili = kili::Kili::from_env()?;
    /// let events = kili.subscription_events(
    ///     "subscription($projectID: ID!) { data: labelCreatedOrUpdated(projectID: $projectID) { id } }",
    ///     serde_json::json!({"projectID": "project-id"}),
    /// )?;
    /// for item in &events {
    ///     println!("{item:?}");
    /// }
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn subscription_events(
        &self,
        query: &str,
        variables: Value,
    ) -> Result<EventStream<RawEvent>> {
        self.subscription_events_with_options(query, variables, SubscriptionOptions::default())
    }

    /// [`subscription_events`](Self::subscription_events) with options.
    ///
    /// # Errors
    ///
    /// As [`subscribe`](Self::subscribe).
    pub fn subscription_events_with_options(
        &self,
        query: &str,
        variables: Value,
        options: SubscriptionOptions,
    ) -> Result<EventStream<RawEvent>> {
        let op = raw_operation(query, variables, self.api_key())?;
        let (tx, rx) = bounded(options.queue_capacity);
        let sub = self.start(RawFeed, Sink::Channel(Some(tx)), op, options)?;
        Ok(EventStream::new(sub, rx))
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

/// The SDK's headers, sent in `connection_init` and in `start`.
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
        assert_send_sync::<LabelStream>();
        assert_send_sync::<EventStream<RawEvent>>();
    }
}
