//! The GraphQL errors resolvers return, each with Kili's `extensions.code`.

use async_graphql::{Error, ErrorExtensions};

use crate::store::StoreError;

/// Makes a `BAD_USER_INPUT` error.
pub(super) fn bad_input(message: impl Into<String>) -> Error {
    Error::new(message).extend_with(|_, e| e.set("code", "BAD_USER_INPUT"))
}

/// Makes a `NO_ACCESS_RIGHTS` error about the `what` of this id.
pub(super) fn no_access(what: &str, id: &str) -> Error {
    store_error(StoreError::no_access(what, id))
}

/// Turns the store's refusal into a GraphQL error, with its code.
pub(super) fn store_error(e: StoreError) -> Error {
    Error::new(e.message).extend_with(|_, ext| ext.set("code", e.code))
}

/// Makes the error that refuses a filter: `[unsupportedFilter] Type.field ...`, code
/// `UNSUPPORTED_FILTER`.
pub(super) fn unsupported(field: &str, why: &str) -> Error {
    Error::new(format!(
        "[unsupportedFilter] {field} is not supported by the local Kili emulator: {why}"
    ))
    .extend_with(|_, e| e.set("code", "UNSUPPORTED_FILTER"))
}
