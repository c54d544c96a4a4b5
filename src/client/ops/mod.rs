//! Kili's operations as typed methods on [`Kili`](crate::Kili): one file per kind of object.
//!
//! Each file holds the GraphQL documents (the SDK's, with their operation names and `data:`
//! aliases), the builders the methods take, pure functions that build the variables
//! (unit-tested for their exact shapes) and the methods.
//!
//! They use the layers below (`kili`, `resources`, `paginate`, the plumbing) and this file's
//! batching. Among themselves: `lookup` (shared filter and look-ups) and `upload` use no
//! sibling; `assets` uses both, `labels` uses `lookup`, `predictions` builds on `labels`; no
//! other file uses a sibling (`plugins`, `issues` and `asset_actions` included).

pub(crate) mod asset_actions;
pub(crate) mod asset_updates;
pub(crate) mod assets;
pub(crate) mod issues;
pub(crate) mod label_edits;
pub(crate) mod labels;
pub(crate) mod lookup;
pub(crate) mod plugins;
pub(crate) mod predictions;
pub(crate) mod projects;
pub(crate) mod upload;

/// Items per mutation batch, as in the SDK (`MUTATION_BATCH_SIZE`).
pub(crate) const BATCH_SIZE: usize = 100;

use serde_json::Value;

use crate::client::Kili;
use crate::client::retry::{self, Failure, Outcome, Safety};
use crate::error::{Error, Result};

/// Runs one mutation batch with retries, made safe by reconciliation.
///
/// `step(maybe_applied)` sends the batch's pending part. When the previous attempt failed with
/// an unknown outcome (it may have been applied), `maybe_applied` is true and `step` must first
/// ask the server what that attempt did and drop what is already there from its pending part
/// (sending nothing if nothing is left). Failures that certainly were not processed are simply
/// resent; definite failures end the loop.
pub(crate) fn send_reconciled<T>(
    kili: &Kili,
    what: &str,
    mut step: impl FnMut(bool) -> std::result::Result<T, Failure>,
) -> Result<T> {
    let mut maybe_applied = false;
    retry::run(&kili.inner.config.retry, Safety::Idempotent, what, || {
        let result = step(maybe_applied);
        maybe_applied = matches!(&result, Err(f) if f.outcome == Outcome::Unknown);
        result
    })
}

/// Splits `0..len` into batch ranges of [`BATCH_SIZE`].
pub(crate) fn batches(len: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    batches_of(len, BATCH_SIZE)
}

/// Splits `0..len` into ranges of `size` (at least 1).
pub(crate) fn batches_of(len: usize, size: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    let size = size.max(1);
    (0..len)
        .step_by(size)
        .map(move |start| start..(start + size).min(len))
}

/// Returns the `id` of an object a write answered with (`{ id }`, the selection of every
/// write's document).
///
/// # Errors
///
/// [`Error::Decode`] naming `what` if the answer has no string `id`.
pub(crate) fn id_of(answer: &Value, what: &str) -> Result<String> {
    answer
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::decode(what.to_owned(), format!("no id in {answer}")))
}

/// Collects the ids an operation is given, checked before any request.
///
/// # Errors
///
/// [`Error::InvalidInput`] with `empty` as its message if an id is empty (or blank).
pub(crate) fn ids_given<I, S>(ids: I, empty: &str) -> Result<Vec<String>>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let ids: Vec<String> = ids.into_iter().map(Into::into).collect();
    if ids.iter().any(|id| id.trim().is_empty()) {
        return Err(Error::invalid(empty));
    }
    Ok(ids)
}
