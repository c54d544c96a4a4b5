//! What the client knows about the objects it lists and counts (projects, assets, labels,
//! issues), with no request in it: their list and count documents as the SDK writes them, the
//! fields read by default, and the fields, `first` and `skip` of a read.
//!
//! Uses only `fields`; the reader (`paginate`) and the operations (`ops`) build on it.

use crate::client::fields::Selection;
use crate::error::Result;

/// Rows per page of a read, as in the SDK (`QUERY_BATCH_SIZE`).
pub(crate) const PAGE_SIZE: usize = 100;
/// The largest page Kili's `PageSize` scalar accepts.
pub(crate) const MAX_PAGE_SIZE: u64 = 500;

/// The fields read when none are given.
///
/// # Examples
///
/// ```
/// assert!(kili::DEFAULT_PROJECT_FIELDS.contains(&"title"));
/// ```
pub const DEFAULT_PROJECT_FIELDS: &[&str] = &[
    "id",
    "title",
    "description",
    "inputType",
    "jsonInterface",
    "createdAt",
];

/// The fields read when none are given.
///
/// # Examples
///
/// ```
/// assert!(kili::DEFAULT_ASSET_FIELDS.contains(&"externalId"));
/// ```
pub const DEFAULT_ASSET_FIELDS: &[&str] =
    &["id", "externalId", "content", "jsonMetadata", "createdAt"];

/// The fields read when none are given.
///
/// # Examples
///
/// ```
/// assert!(kili::DEFAULT_LABEL_FIELDS.contains(&"jsonResponse"));
/// ```
pub const DEFAULT_LABEL_FIELDS: &[&str] = &[
    "id",
    "author.id",
    "author.email",
    "assetId",
    "labelType",
    "jsonResponse",
    "createdAt",
    "modelName",
    "secondsToLabel",
    "isLatestLabelForUser",
];

/// The fields read when none are given (the SDK's defaults).
///
/// # Examples
///
/// ```
/// assert!(kili::DEFAULT_ISSUE_FIELDS.contains(&"status"));
/// ```
pub const DEFAULT_ISSUE_FIELDS: &[&str] = &["id", "createdAt", "status", "type", "assetId"];

/// One kind of object the API lists and counts.
#[derive(Debug)]
pub(crate) struct Resource {
    /// The list field (`labels`).
    name: &'static str,
    /// The count field (`countLabels`).
    count: &'static str,
    /// The filter's input type (`LabelWhere`).
    where_type: &'static str,
    /// The list field's arguments, in the SDK's order.
    arguments: &'static str,
    /// The fields read when the query names none.
    pub(crate) defaults: &'static [&'static str],
    /// Leaves always read: `id` at the root, `id` inside these objects when they are selected.
    ids_inside: &'static [&'static str],
}

/// Projects.
pub(crate) static PROJECTS: Resource = Resource {
    name: "projects",
    count: "countProjects",
    where_type: "ProjectWhere",
    arguments: "where: $where, first: $first, skip: $skip",
    defaults: DEFAULT_PROJECT_FIELDS,
    ids_inside: &[],
};

/// Assets (the SDK writes `skip` before `first` here).
pub(crate) static ASSETS: Resource = Resource {
    name: "assets",
    count: "countAssets",
    where_type: "AssetWhere",
    arguments: "where: $where, skip: $skip, first: $first",
    defaults: DEFAULT_ASSET_FIELDS,
    ids_inside: &["labels"],
};

/// Labels.
pub(crate) static LABELS: Resource = Resource {
    name: "labels",
    count: "countLabels",
    where_type: "LabelWhere",
    arguments: "where: $where, first: $first, skip: $skip",
    defaults: DEFAULT_LABEL_FIELDS,
    ids_inside: &[],
};

/// Issues (and questions).
pub(crate) static ISSUES: Resource = Resource {
    name: "issues",
    count: "countIssues",
    where_type: "IssueWhere",
    arguments: "where: $where, first: $first, skip: $skip",
    defaults: DEFAULT_ISSUE_FIELDS,
    ids_inside: &[],
};

impl Resource {
    /// Returns the list document,
    /// `query labels($where: LabelWhere!, ...) { data: labels(...) { .. } }`.
    pub(crate) fn list_document(&self, selection: &str) -> String {
        let Resource {
            name,
            where_type,
            arguments,
            ..
        } = self;
        format!(
            "query {name}($where: {where_type}!, $first: PageSize!, $skip: Int!) {{
    data: {name}({arguments}) {{
        {selection}
    }}
}}"
        )
    }

    /// Returns the count document,
    /// `query countLabels($where: LabelWhere!) { data: countLabels(..) }`.
    pub(crate) fn count_document(&self) -> String {
        let Resource {
            count, where_type, ..
        } = self;
        format!(
            "query {count}($where: {where_type}!) {{
    data: {count}(where: $where)
}}"
        )
    }

    /// Returns the selection set of dotted `fields` (the defaults if `None`), ids included.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) for malformed field paths.
    pub(crate) fn selection(&self, fields: Option<&[String]>) -> Result<String> {
        let mut sel = match fields {
            Some(f) => Selection::parse(f)?,
            None => Selection::parse(self.defaults)?,
        };
        sel.ensure("id");
        for parent in self.ids_inside {
            sel.ensure_in(parent, "id");
        }
        Ok(sel.render())
    }
}

/// The fields, `first` and `skip` of a read.
#[derive(Debug, Clone, Default)]
pub(crate) struct Page {
    pub(crate) fields: Option<Vec<String>>,
    pub(crate) first: Option<u64>,
    pub(crate) skip: u64,
}

/// The `fields`, `first` and `skip` setters of a query builder holding a `page: Page`.
macro_rules! page_setters {
    ($query:ident, $things:literal, $defaults:literal) => {
        impl $query {
            #[doc = concat!("Sets the fields to read, as dotted paths (`author.email`); `id` is always read. Ignored by counts.\n\nDefaults to [`", $defaults, "`](crate::", $defaults, ").")]
            pub fn fields<I, S>(mut self, fields: I) -> Self
            where
                I: IntoIterator<Item = S>,
                S: Into<String>,
            {
                self.page.fields = Some(fields.into_iter().map(Into::into).collect());
                self
            }

            #[doc = concat!("Reads at most `n` ", $things, ". Ignored by counts.\n\nDefaults to all of them.")]
            pub fn first(mut self, n: u64) -> Self {
                self.page.first = Some(n);
                self
            }

            #[doc = concat!("Skips the first `n` ", $things, ". Ignored by counts.\n\nDefaults to 0.")]
            pub fn skip(mut self, n: u64) -> Self {
                self.page.skip = n;
                self
            }
        }
    };
}
pub(crate) use page_setters;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_have_the_sdk_shapes() {
        assert_eq!(
            LABELS.list_document("id"),
            "query labels($where: LabelWhere!, $first: PageSize!, $skip: Int!) {
    data: labels(where: $where, first: $first, skip: $skip) {
        id
    }
}"
        );
        assert!(
            ASSETS
                .list_document("id")
                .contains("data: assets(where: $where, skip: $skip, first: $first)")
        );
        assert_eq!(
            ISSUES.list_document("id"),
            "query issues($where: IssueWhere!, $first: PageSize!, $skip: Int!) {
    data: issues(where: $where, first: $first, skip: $skip) {
        id
    }
}"
        );
        assert_eq!(
            ISSUES.count_document(),
            "query countIssues($where: IssueWhere!) {
    data: countIssues(where: $where)
}"
        );
        assert_eq!(
            PROJECTS.count_document(),
            "query countProjects($where: ProjectWhere!) {
    data: countProjects(where: $where)
}"
        );
    }

    #[test]
    fn selections_always_hold_ids() {
        let fields = ["externalId".to_owned(), "labels.author.email".to_owned()];
        assert_eq!(
            ASSETS.selection(Some(&fields)).unwrap(),
            "id externalId labels { id author { email } }"
        );
        assert_eq!(
            PROJECTS.selection(Some(&["title".to_owned()])).unwrap(),
            "id title"
        );
        assert!(LABELS.selection(None).unwrap().starts_with("id "));
        assert!(LABELS.selection(Some(&["a b".to_owned()])).is_err());
    }
}
