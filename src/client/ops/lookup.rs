//! The filter and the look-ups that several operations share: the SDK's `AssetWhere`, which
//! asset ids exist, the asset ids of external ids, a project's input type. Each look-up is one
//! read, sent as the SDK sends it.
//!
//! Uses the reader (`paginate`, `resources`) and the models; the operation files use it.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use crate::client::Kili;
use crate::client::ops::BATCH_SIZE;
use crate::client::paginate::Paginated;
use crate::client::resources::{ASSETS, PROJECTS, Page};
use crate::error::{Error, Result};
use crate::models::{Asset, InputType, Project};

/// External ids resolved per `assets` request, as in the SDK.
const EXTERNAL_IDS_PER_LOOKUP: usize = 1000;

/// Builds an `AssetWhere` with the SDK's shape once it strips nulls: the project, the external
/// ids and the ids when given, and the empty `label` and `issue` objects it always keeps.
pub(crate) fn asset_where(
    project_id: Option<&str>,
    asset_ids: Option<&[String]>,
    external_ids: Option<&[String]>,
) -> Value {
    let mut w = Map::new();
    if let Some(p) = project_id {
        w.insert("project".into(), json!({ "id": p }));
    }
    if let Some(e) = external_ids {
        w.insert("externalIdStrictlyIn".into(), json!(e));
    }
    if let Some(ids) = asset_ids {
        w.insert("idIn".into(), json!(ids));
    }
    w.insert("label".into(), json!({}));
    w.insert("issue".into(), json!({}));
    Value::Object(w)
}

/// Builds the [`Page`] that reads only these fields.
fn only(fields: &[&str]) -> Page {
    Page {
        fields: Some(fields.iter().map(|f| (*f).to_owned()).collect()),
        ..Page::default()
    }
}

impl Kili {
    /// Returns which of these asset ids exist (at most [`BATCH_SIZE`] ids), in the project if
    /// one is given.
    pub(crate) fn existing_asset_ids(
        &self,
        project_id: Option<&str>,
        ids: &[String],
    ) -> Result<HashSet<String>> {
        debug_assert!(ids.len() <= BATCH_SIZE);
        let where_ = asset_where(project_id, Some(ids), None);
        Paginated::new(self, &ASSETS, &only(&["id"]), where_, |v| {
            v.get("id")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| Error::decode("an asset", "missing id"))
        })?
        .collect()
    }

    /// Returns the ids of the assets with these external ids in a project, in the same order,
    /// read 1000 external ids a request (`externalIdStrictlyIn`), as the SDK does.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the external ids that are not in the project; the
    /// request errors of [`Kili::graphql`].
    pub(crate) fn asset_ids_of_external_ids(
        &self,
        project_id: &str,
        external_ids: &[String],
    ) -> Result<Vec<String>> {
        let page = only(&["id", "externalId"]);
        let mut by_external: HashMap<String, String> = HashMap::new();
        for chunk in external_ids.chunks(EXTERNAL_IDS_PER_LOOKUP) {
            let where_ = asset_where(Some(project_id), None, Some(chunk));
            for asset in Paginated::new(self, &ASSETS, &page, where_, Asset::from_json)? {
                let asset = asset?;
                if let Some(e) = asset.external_id() {
                    by_external.insert(e.to_owned(), asset.id().to_owned());
                }
            }
        }
        let missing: Vec<&str> = external_ids
            .iter()
            .filter(|e| !by_external.contains_key(*e))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(Error::invalid(format!(
                "external ids not found in project {project_id}: {missing:?}"
            )));
        }
        Ok(external_ids
            .iter()
            .filter_map(|e| by_external.get(e).cloned())
            .collect())
    }

    /// Returns the project's input type, read as the SDK reads it before an import
    /// (`projects(where: {id}, first: 1, skip: 0) { id inputType }`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] if the project does not exist or is not the key's;
    /// [`Error::Decode`] if it has no input type; the request errors of [`Kili::graphql`].
    pub(crate) fn input_type_of(&self, project_id: &str) -> Result<InputType> {
        let page = Page {
            first: Some(1),
            ..only(&["inputType"])
        };
        let where_ = json!({ "id": project_id });
        let project = Paginated::new(self, &PROJECTS, &page, where_, Project::from_json)?
            .next()
            .transpose()?
            .ok_or_else(|| {
                Error::invalid(format!(
                    "project {project_id} does not exist or you do not have access to it"
                ))
            })?;
        project
            .input_type()
            .cloned()
            .ok_or_else(|| Error::decode("a project", "no inputType"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_where_keeps_the_sdk_shape() {
        assert_eq!(
            asset_where(Some("p"), None, None),
            json!({"project": {"id": "p"}, "label": {}, "issue": {}})
        );
        assert_eq!(
            asset_where(Some("p"), Some(&["a".into()]), Some(&["e".into()])),
            json!({"project": {"id": "p"}, "idIn": ["a"], "externalIdStrictlyIn": ["e"], "label": {}, "issue": {}})
        );
        assert_eq!(
            asset_where(None, Some(&["a".into()]), None),
            json!({"idIn": ["a"], "label": {}, "issue": {}})
        );
    }
}
