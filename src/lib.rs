//! A blocking client for the [Kili](https://kili-technology.com) labeling platform's GraphQL API,
//! for programs that do not run an async runtime.
//!
//! (The full guide is being written; see the README.)

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(rust_2018_idioms, unreachable_pub)]

mod client;
mod error;
mod models;
mod progress;
mod subscription;
mod time;

#[cfg(feature = "local-server")]
pub mod local_server;

pub use client::Paginated;
pub use client::ops::assets::{AssetQuery, DEFAULT_ASSET_FIELDS, NewAssets};
pub use client::ops::labels::{DEFAULT_LABEL_FIELDS, LabelQuery, NewLabels};
pub use client::ops::projects::{DEFAULT_PROJECT_FIELDS, NewProject, ProjectQuery};
pub use client::{DEFAULT_ENDPOINT, Kili, KiliBuilder, Progress, TlsProvider};
pub use error::{BoxError, Error, GraphQlError, Result};
pub use models::{Asset, InputType, Label, LabelType, Project, User};
pub use subscription::{
    EventOrigin, EventStream, LabelEvent, LabelStream, Lifecycle, RawEvent, StreamEvent,
    Subscription, SubscriptionOptions, SubscriptionState, SubscriptionStats, WsProtocol,
};
/// The channel errors of [`EventStream`]'s `recv` methods (from `crossbeam-channel`, whose
/// receiver [`EventStream::receiver`] exposes on purpose, for `select!`).
pub use subscription::{RecvError, RecvTimeoutError, TryRecvError};
