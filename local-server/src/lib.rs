//! A local server that speaks Kili's wire protocol, for tests, examples and offline work: the
//! `kili` crate's tests and examples run against it, and so can another language's SDK.
//!
//! It is its own crate so that a program using `kili` as a client compiles none of it.
//!
//! # Starting it
//!
//! From code, on a free port of 127.0.0.1:
//!
//! ```
//! use kili_local_server::LocalServer;
//!
//! # fn main() -> kili_local_server::Result<()> {
//! let server = LocalServer::builder().api_key("my-key").start()?;
//! assert!(server.endpoint().ends_with("/api/label/v2/graphql"));
//! assert_eq!(server.api_key(), "my-key");
//! // ... point a client at server.endpoint() with server.api_key() ...
//! server.stop(); // dropping the handle does the same
//! # Ok(())
//! # }
//! ```
//!
//! From a shell, with this repository checked out:
//!
//! ```text
//! $ cargo run -p kili-local-server -- --port 4000 --api-key my-key
//! endpoint: http://127.0.0.1:4000/api/label/v2/graphql
//! api key: my-key
//! ```
//!
//! `--port 0` picks a free port; without `--api-key` a key is generated (or the data file's is
//! kept). `--host 0.0.0.0` listens beyond loopback (a container) and then requires `--api-key`;
//! `--data-file PATH` keeps the data across restarts. It serves until SIGTERM (or Ctrl-C), then
//! stops cleanly. See `README.md` next to this crate for using it from another language.
//!
//! # What it emulates
//!
//! One port serves:
//!
//! * `POST /api/label/v2/graphql`: GraphQL over HTTP/1.1 (keep-alive, JSON, gzip request
//!   bodies, single or batched requests). The key goes in `Authorization: X-API-Key: <key>`;
//!   without a known key the answer is `401` with a GraphQL-shaped error
//!   (`{"errors":[{"message":..,"extensions":{"code":"UNAUTHENTICATED"}}],"data":null}`).
//! * `GET /api/label/v2/version`: `{"version":"..."}`; the version includes a hash of the
//!   schema, so it changes whenever the schema does (the Python SDK caches schemas by version).
//! * The bucket behind `createUploadBucketSignedUrls`: `PUT /api/label/v2/bucket/<path>?...`
//!   with the signed URL's token stores a body and its content type; `GET` (or `HEAD`) of the
//!   signed URL with the project owner's key (as the SDK's HTTP client sends it under the API)
//!   serves it back; `GET /api/label/v2/files?id=<id>` too (the SDK's video frame URLs).
//! * A WebSocket upgrade on `/api/label/v2/graphql` with subprotocol `graphql-ws` (the legacy
//!   Apollo protocol Kili's SDK uses: `connection_init`/`connection_ack`, `ka`, `start`,
//!   `data`, `error`, `complete`, `stop`, `connection_terminate`) or `graphql-transport-ws`.
//!   The key goes in the `connection_init` payload, as `Authorization` or
//!   `headers.Authorization`; without it, `graphql-ws` gets `connection_error` then a close,
//!   `graphql-transport-ws` a close with code 4403.
//!
//! A real GraphQL engine (async-graphql, run with `futures::executor::block_on` on plain
//! threads; no async runtime) executes a schema whose type, field, argument and input names are
//! Kili's, with introspection on. The official Python SDK 26.2.4 runs its start-up checks and
//! the webhooks tutorial against it unmodified (`tests/python/tutorial_sdk.py`).
//!
//! Operations: `viewer`, `me`, `users`, `countUsers`, `apiKeys`, `organizations` and
//! `countOrganizations` (one organization, whose `license.uploadLocalData` the SDK checks before
//! uploading), `createUploadBucketSignedUrls`, `projects`, `countProjects`, `createProject`,
//! `deleteProject`, `deleteProjectAsynchronously`, `appendManyAssets`, `appendManyToDataset`,
//! `filterExistingAssets`, `assets`, `countAssets`, `updatePropertiesInAssets`,
//! `deleteManyFromDataset`, `appendManyLabels` (with `overwrite`), `appendToLabels`,
//! `updatePropertiesInLabel(where: LabelWhere!, data: LabelData!)`, `deleteLabels(ids: [ID!]!)`,
//! `labels`, `countLabels`, and the subscription `labelCreatedOrUpdated(projectID: ID!)`. With
//! them the unmodified SDK imports raw text, local files and JSON contents, creates and lists
//! predictions, updates asset properties and deletes labels (`tests/python/emulator_sdk.py`).
//!
//! * Filters honoured: ids (`id`, `idIn`, `idNotIn`), project, asset, external ids
//!   (`externalIdStrictlyIn` exact, `externalIdIn` substring), `statusIn`, label `typeIn`,
//!   `authorIn` (author id, email, first, last or full name), `createdAt`,
//!   `createdAtGte`/`createdAtLte` and `updatedAt...` (ISO 8601), `user`, `search` and
//!   `jsonResponseContains` (substring of the label's JSON), asset `metadata` (key equality),
//!   project `searchQuery` (title substring), asset `consensusMark`/`honeypotMark` ranges and
//!   `assigneeIn`/`assigneeNotIn` (the users of `toBeLabeledBy`). A filter on what the server
//!   does not model (workflow steps, issues, reviews, label marks, inference marks, tags,
//!   groups, data sets, starred/archived/deleted projects, skipped assets) is refused with
//!   `extensions.code` `UNSUPPORTED_FILTER` rather than answered with a default. `first` (a
//!   `PageSize`, 0 to 500, default 100) and `skip` page exactly, in creation order; with
//!   [`LocalServerBuilder::shuffle_label_pages`], `labels` pages in a stable order that is
//!   neither creation nor `createdAt` order (Kili documents none), while `countLabels` is
//!   unaffected. Sequential pages cost in proportion to the page, not to `skip`: the server
//!   remembers where a page ended and resumes there while no write could have moved earlier
//!   matches (reading 100,000 labels by pages of 100 takes about a second in a release build).
//! * JSON-valued fields (`jsonInterface`, `jsonMetadata`, `jsonResponse`) travel as strings, as
//!   on Kili, and are checked to be JSON on input.
//! * Labels get unique ids and a `createdAt` with millisecond precision (`...T..:..:..mmmZ`).
//!   All the labels of one `appendManyLabels` (or `appendToLabels`) call share one `createdAt`,
//!   the call's instant; timestamps never go backwards but repeat, so they do not give creation
//!   order. [`LocalServerBuilder::created_at_resolution`] floors every label's `createdAt` and
//!   `updatedAt` to a coarser multiple (one hour: every label of a test shares one value).
//!   `isLatestLabelForUser` and `isLatestDefaultLabelForUser` follow creation order, not
//!   timestamps.
//! * Labels carry technical fields: `version` (0 at creation, +1 per update), `updatedAt`
//!   (`createdAt` until the first update, never before it), `isSentBackToQueue`, `authorId`.
//! * `updatePropertiesInLabel` changes `isSentBackToQueue`, `jsonResponse`, `modelName` and
//!   `secondsToLabel` (fields left out or null stay as they are) of the label `where.id`
//!   (required, `BAD_INPUT` otherwise; the rest of `where` must match too), bumps `version`
//!   and sets `updatedAt`. It keeps `createdAt`, the label's place, and its asset's
//!   `updatedAt`. `deleteLabels` deletes `PREDICTION` and `INFERENCE` labels only, as on Kili,
//!   all or nothing, and returns their ids.
//! * Every label created (by either mutation) or updated is pushed at once to every subscriber
//!   of its project, each with its own selection set, in the order the writes happen; an
//!   update pushes the updated label, even when it changes nothing the subscriber selects.
//!   Deletions are not pushed. A subscription is completed by the server after its lifetime
//!   (30 days by default, as on Kili; [`LocalServerBuilder::subscription_lifetime`]).
//! * Projects belong to the user whose key created them; another user's key does not see them
//!   (queries return nothing) and cannot change or subscribe to them (a GraphQL error).
//! * Batches are all or nothing: arrays of different lengths, an unknown asset or label, a
//!   label of another user, or a non-JSON `jsonResponse` fail the whole mutation and write
//!   nothing. `appendManyAssets` honours the
//!   client's `idArray`, and an id that already exists in the project is returned as is rather
//!   than duplicated, so retrying a batch is safe.
//! * Every GraphQL error carries `extensions.code`: Kili's codes from resolvers
//!   (`NO_ACCESS_RIGHTS`, `BAD_INPUT`, ...), and for a document refused before it runs
//!   `GRAPHQL_PARSE_FAILED`, `GRAPHQL_VALIDATION_FAILED` or `BAD_USER_INPUT`, answered `400`
//!   as Apollo Server does (an operation that ran, even with errors, is answered `200`).
//! * Bad input gets a clear answer and changes nothing: malformed JSON `400`, unknown path
//!   `404`, wrong method `405`, body over [`LocalServerBuilder::max_body_bytes`] `413`, other
//!   content encodings `415`, GraphQL syntax and validation errors, queries deeper than 16 or
//!   more complex than 2000 (GraphQL `errors`), a WebSocket upgrade without a subprotocol above
//!   (`400`, handshake refused), connections beyond [`LocalServerBuilder::max_connections`]
//!   (`503` and closed), a `Content-Length` that is not digits or disagrees with another
//!   (`400`), a request head that does not arrive within [`LocalServerBuilder::idle_timeout`]
//!   (`408`).
//!
//! # What it does not emulate
//!
//! * Storage is in memory, behind `parking_lot` locks, unless a
//!   [data file](LocalServerBuilder::data_file) keeps it (an append-only journal, replayed at
//!   start). No replication lag.
//! * No workflow steps, reviews, computed consensus or honeypot marks, issues, tags, or roles
//!   beyond the owner (as `ADMIN`); one organization for every user. Filters on those are
//!   refused (see above). Uploaded content is stored and served back, never processed (no
//!   thumbnails, resolutions, frames cut from videos, OCR); asynchronous imports
//!   (`appendManyFramesToDatasetAsynchronously`: videos from files, large or tiled images) are
//!   absent.
//! * No TLS (plain `http://` and `ws://`), no rate limiting, no `x-complexity` header, no
//!   deprecation warnings.
//! * No `updatedAt` filter on labels (Kili's `LabelWhere` has none either), and no event for
//!   deleted labels.
//! * Other operations of Kili's API are absent (a GraphQL validation error, `400`).
//!
//! For tests there are extras Kili does not have: [`LocalServer::fail_next_requests`],
//! [`LocalServer::recorded_requests`], [`LocalServer::connection_count`], restarts on the
//! same data through [`LocalServerBuilder::state`], and settings that make the server stricter
//! than Kili promises to be ([`LocalServerBuilder::created_at_resolution`],
//! [`LocalServerBuilder::shuffle_label_pages`]). Settings belong to a server, not to its
//! [`ServerState`]: a restart uses its own builder's settings, so give it the same ones.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(rust_2018_idioms, unreachable_pub)]

mod builder;
mod error;
mod http;
mod listener;
mod recording;
mod schema;
mod server;
mod settings;
mod shared;
mod store;
mod time;
mod ws;

pub use builder::{DEFAULT_EMAIL, LocalServerBuilder};
pub use error::{Error, Result};
pub use recording::{OperationSummary, RecordedRequest};
pub use server::LocalServer;
pub use store::ServerState;
