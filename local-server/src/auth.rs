//! Where clients put their API key: the HTTP `Authorization: X-API-Key: <key>` header, and the
//! WebSocket `connection_init` payload (`Authorization` or `headers.Authorization`).

/// The key in an `Authorization` header value `X-API-Key: <key>` (prefix case-insensitive).
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

/// The key in a `connection_init` payload: `Authorization`, else `headers.Authorization`
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
    fn header_forms() {
        assert_eq!(key_from_authorization("X-API-Key: abc"), Some("abc"));
        assert_eq!(key_from_authorization("x-api-key:abc "), Some("abc"));
        assert_eq!(key_from_authorization("Bearer abc"), None);
        assert_eq!(key_from_authorization("X-API-Key: "), None);
        assert_eq!(key_from_authorization("é"), None);
    }

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
