//! Where an HTTP client puts its API key, `Authorization: X-API-Key: <key>`, and the user it
//! names. A WebSocket client sends the same header value in its `connection_init` payload.

use super::message::{RequestHead, Response};
use crate::shared::Shared;
use crate::store::UserRec;

/// Returns the key in an `Authorization` header value `X-API-Key: <key>` (prefix case-insensitive).
pub(crate) fn key_from_authorization(value: &str) -> Option<&str> {
    let value = value.trim();
    let prefix = "x-api-key:";
    let head = value.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let key = value[prefix.len()..].trim();
    (!key.is_empty()).then_some(key)
}

/// Returns the user whose key the request's `Authorization` header carries, or the `401` to answer.
pub(crate) fn authenticate(head: &RequestHead, shared: &Shared) -> Result<UserRec, Response> {
    head.header("authorization")
        .and_then(key_from_authorization)
        .and_then(|key| shared.state.user_by_key(key))
        .ok_or_else(|| {
            Response::graphql_error(
                401,
                "UNAUTHENTICATED",
                "[unauthenticated] send your key as `Authorization: X-API-Key: <key>`",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_forms() {
        assert_eq!(key_from_authorization("X-API-Key: abc"), Some("abc"));
        assert_eq!(key_from_authorization("x-api-key:abc "), Some("abc"));
        assert_eq!(key_from_authorization("Bearer abc"), None);
        assert_eq!(key_from_authorization("X-API-Key: "), None);
        assert_eq!(key_from_authorization("é"), None);
    }
}
