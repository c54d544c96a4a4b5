//! Where a WebSocket client puts its API key: the `connection_init` payload, as `Authorization`
//! or `headers.Authorization`, with the value an HTTP `Authorization` header would have.

use crate::http::key_from_authorization;

/// Returns the key in a `connection_init` payload: `Authorization`, else `headers.Authorization`
/// (header names case-insensitive).
pub(crate) fn key_from_init_payload(payload: &serde_json::Value) -> Option<&str> {
    fn lookup(obj: &serde_json::Value) -> Option<&str> {
        obj.as_object()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            .and_then(|(_, v)| v.as_str())
            .and_then(key_from_authorization)
    }
    lookup(payload).or_else(|| {
        let headers = payload
            .as_object()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("headers"))?
            .1;
        lookup(headers)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn payload_forms() {
        let top = json!({"Authorization": "X-API-Key: k1", "headers": {"Authorization": "X-API-Key: k2"}});
        assert_eq!(key_from_init_payload(&top), Some("k1"));
        assert_eq!(
            key_from_init_payload(&json!({"headers": {"authorization": "X-API-Key: k2"}})),
            Some("k2")
        );
        assert_eq!(key_from_init_payload(&json!({"headers": {}})), None);
        assert_eq!(key_from_init_payload(&json!(null)), None);
        assert_eq!(key_from_init_payload(&json!({"Authorization": 3})), None);
    }
}
