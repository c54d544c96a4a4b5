//! What the reads (`projects`, `assets`, `labels`) share: each resource's documents as the SDK
//! writes them, and the fields, `first` and `skip` of a query.

use serde_json::{Value, json};

use crate::client::Kili;
use crate::client::fields::Selection;
use crate::client::retry::Safety;
use crate::error::{Error, Result};

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
    defaults: crate::client::ops::projects::DEFAULT_PROJECT_FIELDS,
    ids_inside: &[],
};

/// Assets (the SDK writes `skip` before `first` here).
pub(crate) static ASSETS: Resource = Resource {
    name: "assets",
    count: "countAssets",
    where_type: "AssetWhere",
    arguments: "where: $where, skip: $skip, first: $first",
    defaults: crate::client::ops::assets::DEFAULT_ASSET_FIELDS,
    ids_inside: &["labels"],
};

/// Labels.
pub(crate) static LABELS: Resource = Resource {
    name: "labels",
    count: "countLabels",
    where_type: "LabelWhere",
    arguments: "where: $where, first: $first, skip: $skip",
    defaults: crate::client::ops::labels::DEFAULT_LABEL_FIELDS,
    ids_inside: &[],
};

impl Resource {
    /// The list document, `query labels($where: LabelWhere!, ...) { data: labels(...) { .. } }`.
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

    /// The count document, `query countLabels($where: LabelWhere!) { data: countLabels(..) }`.
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

    /// The selection set of dotted `fields` (the defaults if `None`), ids included.
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

impl Kili {
    /// Counts the objects of `resource` that match `where_`.
    ///
    /// # Errors
    ///
    /// The request errors of [`Kili::graphql`]; [`Error::Decode`] if the count is not a
    /// non-negative integer.
    pub(crate) fn count(&self, resource: &Resource, where_: &Value) -> Result<u64> {
        let vars = json!({ "where": where_ });
        let v = self.execute_data(&resource.count_document(), &vars, Safety::Idempotent)?;
        v.as_u64().ok_or_else(|| {
            Error::decode(
                "a count",
                format!("expected a non-negative integer, got {v}"),
            )
        })
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
            #[doc = concat!("The fields to read, as dotted paths (`author.email`); `id` is always read.\n\nDefaults to [`", $defaults, "`](crate::", $defaults, "). Ignored by counts.")]
            pub fn fields<I, S>(mut self, fields: I) -> Self
            where
                I: IntoIterator<Item = S>,
                S: Into<String>,
            {
                self.page.fields = Some(fields.into_iter().map(Into::into).collect());
                self
            }

            #[doc = concat!("Reads at most `n` ", $things, ".\n\nDefaults to all of them. Ignored by counts.")]
            pub fn first(mut self, n: u64) -> Self {
                self.page.first = Some(n);
                self
            }

            #[doc = concat!("Skips the first `n` ", $things, ".\n\nDefaults to 0. Ignored by counts.")]
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
