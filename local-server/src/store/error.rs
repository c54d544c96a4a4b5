//! [`StoreError`]: why the store refuses a write or a read, as a Kili error code and message.

use std::fmt;

/// A rejected write, reported to the client as a GraphQL error with `extensions.code`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoreError {
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl StoreError {
    /// Makes an error with this code and message.
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        StoreError {
            code,
            message: message.into(),
        }
    }

    /// Makes the `NO_ACCESS_RIGHTS` error about the `what` of this id, which does not exist or
    /// is another user's.
    pub(crate) fn no_access(what: &str, id: &str) -> Self {
        StoreError::new(
            "NO_ACCESS_RIGHTS",
            format!(
                "[noAccessRights] {what} {id}: it does not exist or you do not have access to it"
            ),
        )
    }

    /// Makes a `BAD_INPUT` error.
    pub(crate) fn bad_input(message: impl Into<String>) -> Self {
        StoreError::new("BAD_INPUT", message)
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
