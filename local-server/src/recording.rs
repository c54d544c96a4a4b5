//! What [`LocalServerBuilder::record_requests`](crate::LocalServerBuilder::record_requests)
//! keeps of each GraphQL request, for tests that check what a client sent.

use async_graphql::parser::types::{OperationType, Selection};

/// A GraphQL request the server received over HTTP (see
/// [`LocalServerBuilder::record_requests`](crate::LocalServerBuilder::record_requests)).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The `operationName`, if the body had one.
    pub operation_name: Option<String>,
    /// The GraphQL document.
    pub query: String,
    /// The `variables` (`Null` if absent).
    pub variables: serde_json::Value,
    /// The HTTP request headers, in the order received.
    pub headers: Vec<(String, String)>,
}

impl RecordedRequest {
    /// Returns the first header with this name (case-insensitive).
    ///
    /// ```
    /// # use kili_local_server::RecordedRequest;
    /// # fn check(r: &RecordedRequest) {
    /// let auth = r.header("authorization");
    /// # }
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The first operation of a recorded document, parsed: what a wire comparison looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OperationSummary {
    /// `"query"`, `"mutation"` or `"subscription"`.
    pub kind: &'static str,
    /// The operation's name, if it has one.
    pub name: Option<String>,
    /// The first root field it calls (`projects` in `data: projects(...)`).
    pub root_field: String,
    /// That field's alias (`data` in `data: projects(...)`).
    pub alias: Option<String>,
}

impl RecordedRequest {
    /// Returns the document's first operation and root field; `None` if the document does not parse
    /// or selects no field.
    pub fn operation(&self) -> Option<OperationSummary> {
        let doc = async_graphql::parser::parse_query(&self.query).ok()?;
        let (name, op) = doc.operations.iter().next()?;
        let kind = match op.node.ty {
            OperationType::Query => "query",
            OperationType::Mutation => "mutation",
            OperationType::Subscription => "subscription",
        };
        let field = op
            .node
            .selection_set
            .node
            .items
            .iter()
            .find_map(|s| match &s.node {
                Selection::Field(f) => Some(f),
                _ => None,
            })?;
        Some(OperationSummary {
            kind,
            name: name.map(|n| n.to_string()),
            root_field: field.node.name.node.to_string(),
            alias: field.node.alias.as_ref().map(|a| a.node.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(query: &str) -> RecordedRequest {
        RecordedRequest {
            operation_name: None,
            query: query.into(),
            variables: serde_json::Value::Null,
            headers: vec![("Authorization".into(), "X-API-Key: k".into())],
        }
    }

    #[test]
    fn summarises_the_first_operation() {
        let r =
            recorded("query countAssets($where: AssetWhere!) { data: countAssets(where: $where) }");
        let op = r.operation().unwrap();
        assert_eq!(
            (op.kind, op.name.as_deref()),
            ("query", Some("countAssets"))
        );
        assert_eq!(
            (op.root_field.as_str(), op.alias.as_deref()),
            ("countAssets", Some("data"))
        );
        assert_eq!(r.header("authorization"), Some("X-API-Key: k"));
        let m = recorded("mutation { deleteLabels(ids: []) }")
            .operation()
            .unwrap();
        assert_eq!((m.kind, m.name, m.alias), ("mutation", None, None));
        assert!(recorded("not graphql").operation().is_none());
    }
}
