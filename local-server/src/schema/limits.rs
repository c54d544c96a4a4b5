//! How many rows one mutation (or one list argument) may carry: a batch is validated, journaled
//! and applied as a whole under the store's write lock, so its size bounds how long every other
//! request waits.

use async_graphql::Result;

use super::errors::bad_input;

/// Most rows in one batch input (labels, assets, ids, file paths).
pub(crate) const MAX_ROWS: usize = 10_000;

/// Refuses a batch input of more than [`MAX_ROWS`] rows, naming it.
pub(super) fn check_rows(what: &str, rows: usize) -> Result<()> {
    if rows > MAX_ROWS {
        return Err(bad_input(format!(
            "[tooManyRows] {what} holds {rows} rows; at most {MAX_ROWS} per call"
        )));
    }
    Ok(())
}
