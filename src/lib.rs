//! A blocking client for the [Kili](https://kili-technology.com) labeling platform's GraphQL API,
//! for programs that do not run an async runtime.
//!
//! It covers what Kili's webhooks tutorial needs and a little more: projects, assets and labels
//! as typed methods, any other GraphQL document through [`Kili::graphql`], and label
//! subscriptions that run on their own thread, reconnect by themselves and deliver the labels
//! created while the connection was down. It speaks the same wire protocol as the official
//! Python SDK, so it works against Kili's cloud, an on-premise Kili, or the local emulator
//! that this crate's tests and examples use (the `kili-local-server` crate of its repository).
//!
//! No async runtime: HTTP goes through [`ureq`](https://docs.rs/ureq), WebSockets through
//! [`tungstenite`](https://docs.rs/tungstenite), and each subscription is a plain thread.
//!
//! # Usage
//!
//! ```toml
//! [dependencies]
//! kili = "0.1"
//! ```
//!
//! A client reads its settings from the environment like the Python SDK (`KILI_API_KEY`,
//! `KILI_API_ENDPOINT`, `KILI_VERIFY`), or takes them from [`Kili::new`] or [`Kili::builder`]:
//!
//! ```no_run
//! let kili = kili::Kili::from_env()?;
//! let viewer = kili.graphql("query { viewer { id email } }", serde_json::json!({}))?;
//! println!("{}", viewer["viewer"]["email"]);
//! # Ok::<(), kili::Error>(())
//! ```
//!
//! # A quick tour
//!
//! The examples below run against the local emulator (the hidden lines start it); with
//! `Kili::from_env()` instead of `Kili::new(..)` they run against Kili.
//!
//! ## Projects, assets and labels
//!
//! Each operation takes a small builder ([`NewProject`], [`NewAssets`], [`NewLabels`],
//! [`ProjectQuery`], [`AssetQuery`], [`LabelQuery`]) and sends the same documents and variables
//! as the Python SDK. Reads are lazy iterators ([`Paginated`]) that fetch 100 rows at a time;
//! writes return the ids of what they created, changed or deleted (the
//! [conventions](Kili#conventions) hold for every operation).
//!
//! ```
//! use kili::{AssetQuery, InputType, Kili, LabelQuery, LabelType, NewAssets, NewLabels, NewProject};
//! use serde_json::json;
//!
//! # let server = kili_local_server::LocalServer::start().unwrap();
//! # let (api_key, endpoint) = (server.api_key().to_owned(), server.endpoint());
//! let kili = Kili::new(api_key, endpoint)?;
//! let project_id = kili.create_project(&NewProject::new("Webhook project", InputType::Image))?;
//! kili.append_many_to_dataset(
//!     &NewAssets::new(&project_id, ["https://storage.googleapis.com/label-public-staging/car/car_1.jpg"])
//!         .external_ids(["car_1"]),
//! )?;
//! let assets = kili.assets(&AssetQuery::new(&project_id).fields(["id", "externalId"]))?.collect_all()?;
//! assert_eq!(assets[0].external_id(), Some("car_1"));
//!
//! let response = json!({"JOB_0": {"categories": [{"name": "OBJECT_A"}]}});
//! kili.append_labels(
//!     &NewLabels::for_assets(&project_id, [assets[0].id()], [response])
//!         .label_type(LabelType::Inference),
//! )?;
//! for label in kili.labels(&LabelQuery::new(&project_id))? {
//!     println!("{:?}", label?.json_response()); // the annotation, as JSON text
//! }
//! assert_eq!(kili.count_labels(&LabelQuery::new(&project_id))?, 1);
//! # Ok::<(), kili::Error>(())
//! ```
//!
//! Long imports report their progress to a [`Progress`] observer (any `Fn(done, total)`), for a
//! progress bar of your choice; `examples/webhooks.rs` draws one with `indicatif`.
//!
//! The webhooks recipe's other calls follow the same conventions: webhooks
//! ([`Kili::create_webhook`], [`Kili::update_webhook`], [`Kili::activate_plugin_on_project`],
//! [`Kili::deactivate_plugin_on_project`], [`Kili::delete_plugin`], [`Kili::list_plugins`],
//! [`Kili::get_plugin_logs`]), issues ([`Kili::create_issues`], [`Kili::issues`],
//! [`Kili::count_issues`]), [`Kili::send_back_to_queue`], and an asset's [`status`](Asset::status).
//!
//! ## Subscriptions: a callback and a handle
//!
//! [`Kili::label_created_or_updated`] calls a function on the subscription's own thread for each
//! label created or updated in a project, and returns a [`Subscription`] handle: [`pause`],
//! [`unpause`], [`close`], [`reset_timeout`], [`lifetime`], [`state`] and [`stats`].
//!
//! [`pause`]: Subscription::pause
//! [`unpause`]: Subscription::unpause
//! [`close`]: Subscription::close
//! [`reset_timeout`]: Subscription::reset_timeout
//! [`lifetime`]: Subscription::lifetime
//! [`state`]: Subscription::state
//! [`stats`]: Subscription::stats
//!
//! ```
//! use std::time::Duration;
//! use kili::{LabelType, NewLabels};
//!
//! # let server = kili_local_server::LocalServer::start().unwrap();
//! # let kili = kili::Kili::new(server.api_key(), server.endpoint())?;
//! # let project_id = kili.create_project(&kili::NewProject::new("p", kili::InputType::Image))?;
//! # let asset_id = kili.append_many_to_dataset(&kili::NewAssets::new(&project_id, ["https://example.com/a.jpg"]))?.remove(0);
//! let (tx, rx) = crossbeam_channel::unbounded();
//! let sub = kili.label_created_or_updated(&project_id, move |event| {
//!     println!("New data: {}", event.frame()); // the frame, as the Python SDK gives it
//!     let _ = tx.send(event.label().id().to_owned());
//! })?;
//!
//! let label = NewLabels::for_assets(&project_id, [asset_id.as_str()], [serde_json::json!({})])
//!     .label_type(LabelType::Inference);
//! let id = kili.append_labels(&label)?.remove(0);
//! assert_eq!(rx.recv_timeout(Duration::from_secs(30)).unwrap(), id);
//!
//! sub.pause();          // labels are received and dropped
//! sub.unpause();        // delivered again
//! sub.reset_timeout()?; // a fresh connection and subscription
//! assert!(sub.state().is_active());
//! sub.close()?;         // stops and joins the thread; calling it again does nothing
//! # Ok::<(), kili::Error>(())
//! ```
//!
//! The callback form reports reconnections through [`SubscriptionOptions::on_lifecycle`].
//! [`Kili::labels_subscription`] gives the same subscription with [`SubscriptionOptions`] or
//! as a stream, and [`Kili::subscription`] any subscription document (without catch-up), both
//! through one [`SubscriptionBuilder`].
//!
//! ## Subscriptions as a stream
//!
//! `.stream()` gives an [`EventStream`] to read in a loop instead of a callback: labels and
//! [`Lifecycle`] events (connected, reconnecting, reconnected, ...) in one channel, with the
//! method names of `crossbeam-channel` and its [`receiver`](EventStream::receiver) for
//! `crossbeam_channel::select!` (as `examples/watch_labels` does with Ctrl-C and the end of
//! its input).
//!
//! ```
//! use std::time::Duration;
//! use kili::{Lifecycle, StreamEvent};
//!
//! # let server = kili_local_server::LocalServer::start().unwrap();
//! # let kili = kili::Kili::new(server.api_key(), server.endpoint())?;
//! # let project_id = kili.create_project(&kili::NewProject::new("p", kili::InputType::Image))?;
//! # let asset_id = kili.append_many_to_dataset(&kili::NewAssets::new(&project_id, ["https://example.com/a.jpg"]))?.remove(0);
//! let events = kili.labels_subscription(&project_id).stream()?;
//! # kili.append_labels(&kili::NewLabels::for_assets(&project_id, [asset_id.as_str()], [serde_json::json!({})]))?;
//! loop {
//!     match events.recv_timeout(Duration::from_secs(30)) {
//!         Ok(StreamEvent::Event(event)) => {
//!             println!("label {} on asset {:?}", event.label().id(), event.label().asset_id());
//!             break;
//!         }
//!         Ok(StreamEvent::Lifecycle(Lifecycle::Reconnected { missed, .. })) => {
//!             eprintln!("reconnected; {missed} missed labels delivered");
//!         }
//!         Ok(_) => {}
//!         Err(e) => panic!("no label: {e}"),
//!     }
//! }
//! events.close()?; // dropping the stream closes it too
//! # Ok::<(), kili::Error>(())
//! ```
//!
//! # Errors
//!
//! Every fallible function returns [`Result`], whose error is the one enum [`Error`]: invalid
//! input (before any request), authentication, HTTP status, GraphQL errors (with their
//! messages, paths and codes, see [`Error::graphql_errors`]), timeouts, transport, decoding,
//! protocol and I/O failures. [`Error::is_retryable`] tells whether trying again later may
//! succeed. Display strings are lowercase; the lower-level cause, if any, is the error's
//! [`source`](std::error::Error::source).
//!
//! HTTP calls are retried on transient failures (connection errors, timeouts, 429, 502-504,
//! 520-522) with capped exponential backoff, and mutations only when that cannot duplicate
//! anything (see [Retries](Kili#retries)). A subscription that loses its connection reconnects
//! with backoff; only a refused API key, a rejected subscription or a protocol violation stops
//! it for good.
//!
//! ```
//! let err = kili::Kili::new("", kili::DEFAULT_ENDPOINT).unwrap_err();
//! assert!(matches!(err, kili::Error::InvalidInput { .. }));
//! assert!(!err.is_retryable());
//! ```
//!
//! # Features
//!
//! * `rustls` (default): TLS through rustls with the Mozilla roots (`webpki-roots`).
//! * `native-tls`: TLS through the platform's library (OpenSSL on Linux); choose it with
//!   [`KiliBuilder::tls_provider`] when both are compiled in.
//!
//! # TLS
//!
//! `https://` and `wss://` use the same settings. [`KiliBuilder::ca_bundle`] (or a path in
//! `KILI_VERIFY`) trusts the certificates of a PEM file, e.g. a corporate CA;
//! [`KiliBuilder::verify_tls`]`(false)` (or `KILI_VERIFY=false`) turns verification off, for
//! test servers only.
//!
//! # Proxies
//!
//! HTTP requests go through the proxy named by `ALL_PROXY`, `HTTPS_PROXY` or `HTTP_PROXY`
//! (honouring `NO_PROXY`) unless [`KiliBuilder::proxy_from_env`]`(false)`. Subscriptions
//! connect directly.
//!
//! # Logging
//!
//! The crate logs through the [`log`](https://docs.rs/log) facade and never prints: `info` for
//! reconnections and resets, `warn` for retries given up and skipped events, `error` for a
//! subscription that stops for good or a panicking callback, `debug` for each request and
//! connection step. Any logger works, e.g. `env_logger` with `RUST_LOG=kili=info`.
//!
//! # Running as a service
//!
//! A program that only watches labels (a systemd unit, a container) subscribes, then blocks in
//! [`Subscription::wait`] until the subscription ends: `Ok` once something closed it (another
//! thread, a signal handler holding a [`SubscriptionControl`]), the error that stopped it for
//! good otherwise (a refused key, a rejected subscription). Lost connections are not an end:
//! they are retried with backoff, and the labels created meanwhile are delivered. Exiting
//! non-zero on that error, with its whole [`source`](std::error::Error::source) chain, lets
//! the service manager restart the program or alert someone. A [`Checkpoint`] saved from the
//! events and given back to [`SubscriptionOptions::resume_from`] at start-up resumes where the
//! previous run stopped. (`examples/watch_labels` is such a service, with the stream form, a
//! state file, and a clean stop on Ctrl-C and SIGTERM.)
//!
//! ```no_run
//! use std::process::ExitCode;
//!
//! fn main() -> ExitCode {
//!     match run() {
//!         Ok(()) => ExitCode::SUCCESS,
//!         Err(e) => {
//!             let mut message = e.to_string();
//!             let mut source = std::error::Error::source(&e);
//!             while let Some(cause) = source {
//!                 message.push_str(&format!(": {cause}"));
//!                 source = cause.source();
//!             }
//!             eprintln!("error: {message}");
//!             ExitCode::FAILURE
//!         }
//!     }
//! }
//!
//! fn run() -> kili::Result<()> {
//!     let kili = kili::Kili::from_env()?;
//!     let sub = kili.label_created_or_updated("project-id", |event| {
//!         println!("{} {}", event.label().id(), event.checkpoint());
//!     })?;
//!     sub.wait() // blocks until closed (Ok) or failed for good (Err)
//! }
//! ```
//!
//! Every duration setting takes any value up to `Duration::MAX` (a timeout that long never
//! fires), and the `Debug` output of a client, its builder and its subscriptions hides the
//! API key, so that they can be logged.
//!
//! # Threads
//!
//! A [`Kili`] is cheap to clone and `Send + Sync`; clones share a connection pool and the rate
//! limiter (500 calls a minute by default, like the SDK). HTTP calls run on the caller's
//! thread. Each subscription runs on exactly one thread of its own, named `kili-sub-N` (or
//! [`SubscriptionOptions::thread_name`]), which owns its connection: it reads the socket,
//! runs the callback or fills the stream, keeps the connection alive, reconnects and catches
//! up. The handle's commands reach it through a channel, and interrupt its wait on the
//! socket. Nothing else runs in the background.
//!
//! # Minimum supported Rust version
//!
//! Rust 1.89 (edition 2024).

#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(rust_2018_idioms, unreachable_pub)]

mod client;
mod common;
mod error;
mod models;
mod subscription;
mod webhook;

pub use client::Paginated;
pub use client::ops::asset_updates::AssetUpdate;
pub use client::ops::assets::{AssetQuery, NewAssets};
pub use client::ops::issues::{IssueQuery, NewIssues};
pub use client::ops::label_edits::LabelUpdate;
pub use client::ops::labels::{LabelQuery, NewLabels};
pub use client::ops::plugins::{DEFAULT_PLUGIN_FIELDS, NewWebhook, PluginLogQuery, PluginQuery};
pub use client::ops::predictions::NewPredictions;
pub use client::ops::projects::{NewProject, ProjectQuery};
pub use client::ops::upload::AssetContent;
pub use client::resources::{
    DEFAULT_ASSET_FIELDS, DEFAULT_ISSUE_FIELDS, DEFAULT_LABEL_FIELDS, DEFAULT_PROJECT_FIELDS,
};
pub use client::{DEFAULT_ENDPOINT, Kili, KiliBuilder, Progress};
pub use common::tls::TlsProvider;
pub use error::{Error, ErrorSource, GraphQlError, Result};
pub use models::{
    Asset, AssetStatus, InputType, Issue, IssueStatus, IssueType, Label, LabelType, Plugin,
    PluginLog, PluginLogType, Project, RawJson, User, WebhookHandler,
};
pub use subscription::{
    Checkpoint, EventOrigin, EventStream, LabelEvent, LabelStream, Lifecycle, RawEvent,
    StreamEvent, Subscription, SubscriptionBuilder, SubscriptionControl, SubscriptionOptions,
    SubscriptionState, SubscriptionStats, WsProtocol,
};
/// The channel errors of [`EventStream`]'s `recv` methods (from `crossbeam-channel`, whose
/// receiver [`EventStream::receiver`] exposes on purpose, for `select!`).
pub use subscription::{RecvError, RecvTimeoutError, TryRecvError};
pub use webhook::{
    ReceiverStats, WebhookEvent, WebhookEventType, WebhookReceiver, WebhookReceiverBuilder,
};
