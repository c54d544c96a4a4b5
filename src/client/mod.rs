//! The HTTP half of the crate: the blocking [`Kili`] client and its typed operations.
//!
//! Its files form layers; each uses only the layers before it:
//!
//! 1. plumbing: `config` (settings once built), `deadline`, `document` (telling a mutation
//!    from a query), `fields` (dotted paths to a selection set), `progress`, `rate_limit`,
//!    `resolver` (host names looked up once in a while), `retry` (when to send again),
//!    `transport` (one HTTP request with ureq);
//! 2. `kili`: the [`Kili`] handle, one GraphQL call through the rate limiter and the retries;
//! 3. `builder` ([`KiliBuilder`] and `Kili::{new, builder, from_env}`) and `resources` (what
//!    the reads know about projects, assets and labels: documents, default fields);
//! 4. `paginate`: [`Paginated`] reads and counts;
//! 5. `ops`: the typed operations, one file per kind of object.
//!
//! This file only declares and re-exports. Nothing here uses `subscription`.

mod builder;
pub(crate) mod config;
mod deadline;
mod document;
pub(crate) mod fields;
mod kili;
pub(crate) mod ops;
pub(crate) mod paginate;
mod progress;
mod rate_limit;
mod resolver;
pub(crate) mod resources;
mod retry;
mod transport;

pub use self::builder::KiliBuilder;
pub use self::config::DEFAULT_ENDPOINT;
pub use self::kili::Kili;
pub(crate) use self::kili::take_data;
pub use self::paginate::Paginated;
pub use self::progress::Progress;
