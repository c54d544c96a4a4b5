//! Assets: `append_many_to_dataset`, `assets`, `count_assets`, `delete_many_from_dataset`.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::client::ops::{BATCH_SIZE, batches, send_reconciled};
use crate::client::paginate::Paginated;
use crate::client::read::{ASSETS, Page, page_setters};
use crate::client::retry::{Failure, Safety};
use crate::client::{Kili, take_data};
use crate::error::{Error, Result};
use crate::ids;
use crate::models::Asset;
use crate::progress::Progress;

pub(crate) const APPEND_MANY_ASSETS: &str = "mutation appendManyAssets(
    $data: AppendManyAssetsData!,
    $where: ProjectWhere!
  ) {
  data: appendManyAssets(
    data: $data,
    where: $where
  ) {
      id
  }
}";

pub(crate) const FILTER_EXISTING_ASSETS: &str =
    "query FilterExistingAssets($projectID: ID!, $externalIDs: [String!]!) {
  external_ids: filterExistingAssets(projectID: $projectID, externalIDs: $externalIDs)
}";

pub(crate) const DELETE_MANY_FROM_DATASET: &str = "mutation($where: AssetWhere!) {
  data: deleteManyFromDataset(where: $where) {
    id
  }
}";

/// External ids checked per `filterExistingAssets` request, as in the SDK.
const FILTER_EXISTING_BATCH: usize = 1000;

/// The fields read when none are given.
///
/// # Examples
///
/// ```
/// assert!(kili::DEFAULT_ASSET_FIELDS.contains(&"externalId"));
/// ```
pub const DEFAULT_ASSET_FIELDS: &[&str] =
    &["id", "externalId", "content", "jsonMetadata", "createdAt"];

/// Assets to add to a project with [`Kili::append_many_to_dataset`].
///
/// Arrays are matched by position: the i-th external id and metadata go with the i-th content.
///
/// # Examples
///
/// ```no_run
/// use kili::{Kili, NewAssets};
/// let kili = Kili::from_env()?;
/// let assets = NewAssets::new("project-id", ["https://example.com/car_1.jpg"])
///     .external_ids(["car_1"])
///     .json_metadata([serde_json::json!({"source": "tutorial"})])
///     .progress(|done, total| eprintln!("{done}/{total}"));
/// let asset_ids = kili.append_many_to_dataset(&assets)?;
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Clone)]
#[must_use]
pub struct NewAssets {
    project_id: String,
    contents: Vec<String>,
    external_ids: Option<Vec<String>>,
    json_metadata: Option<Vec<Value>>,
    progress: Option<Arc<dyn Progress>>,
}

impl std::fmt::Debug for NewAssets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAssets")
            .field("project_id", &self.project_id)
            .field("contents", &self.contents.len())
            .field("external_ids", &self.external_ids.as_ref().map(Vec::len))
            .field("json_metadata", &self.json_metadata.as_ref().map(Vec::len))
            .finish_non_exhaustive()
    }
}

impl NewAssets {
    /// Assets with these contents (URLs of hosted data, sent as they are) in `project_id`.
    pub fn new<I, S>(project_id: impl Into<String>, contents: I) -> NewAssets
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        NewAssets {
            project_id: project_id.into(),
            contents: contents.into_iter().map(Into::into).collect(),
            external_ids: None,
            json_metadata: None,
            progress: None,
        }
    }

    /// The assets' external ids, one per content.
    ///
    /// Defaults to random ones (32 hex digits, like the SDK's `uuid4().hex`).
    pub fn external_ids<I, S>(mut self, external_ids: I) -> NewAssets
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.external_ids = Some(external_ids.into_iter().map(Into::into).collect());
        self
    }

    /// The assets' metadata, one JSON value per content, sent as JSON strings.
    ///
    /// Defaults to `{}` for each.
    pub fn json_metadata<I>(mut self, metadata: I) -> NewAssets
    where
        I: IntoIterator<Item = Value>,
    {
        self.json_metadata = Some(metadata.into_iter().collect());
        self
    }

    /// Reports progress (assets imported, assets to import) after each batch.
    ///
    /// Defaults to none.
    pub fn progress(mut self, observer: impl Progress + 'static) -> NewAssets {
        self.progress = Some(Arc::new(observer));
        self
    }
}

/// One asset ready to send.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PreparedAsset {
    pub(crate) id: String,
    pub(crate) content: String,
    pub(crate) external_id: String,
    pub(crate) json_metadata: String,
}

/// Validates the input and lines it up, before any request.
pub(crate) fn prepare(new: &NewAssets) -> Result<Vec<PreparedAsset>> {
    if new.project_id.trim().is_empty() {
        return Err(Error::invalid("the project id is empty"));
    }
    let n = new.contents.len();
    if let Some(e) = &new.external_ids
        && e.len() != n
    {
        return Err(Error::invalid(format!(
            "{n} contents but {} external ids: the arrays must have the same length",
            e.len()
        )));
    }
    if let Some(m) = &new.json_metadata
        && m.len() != n
    {
        return Err(Error::invalid(format!(
            "{n} contents but {} metadata: the arrays must have the same length",
            m.len()
        )));
    }
    Ok((0..n)
        .map(|i| PreparedAsset {
            id: ids::new_cuid(),
            content: new.contents[i].clone(),
            external_id: match &new.external_ids {
                Some(e) => e[i].clone(),
                None => ids::new_external_id(),
            },
            json_metadata: match &new.json_metadata {
                Some(m) => m[i].to_string(),
                None => "{}".to_owned(),
            },
        })
        .collect())
}

/// Drops later duplicates of an external id, warning about each.
pub(crate) fn drop_duplicate_external_ids(assets: &mut Vec<PreparedAsset>) {
    let mut seen = HashSet::new();
    assets.retain(|a| {
        let first = seen.insert(a.external_id.clone());
        if !first {
            log::warn!(
                "external id {:?} appears twice in the input; importing it once",
                a.external_id
            );
        }
        first
    });
}

/// The variables of one `appendManyAssets` batch, as the SDK sends them.
pub(crate) fn append_many_assets_variables(project_id: &str, batch: &[PreparedAsset]) -> Value {
    let col = |f: fn(&PreparedAsset) -> Value| Value::Array(batch.iter().map(f).collect());
    json!({
        "data": {
            "contentArray": col(|a| json!(a.content)),
            "externalIDArray": col(|a| json!(a.external_id)),
            "idArray": col(|a| json!(a.id)),
            "isHoneypotArray": col(|_| json!(false)),
            "jsonContentArray": col(|_| json!("")),
            "jsonMetadataArray": col(|a| json!(a.json_metadata)),
        },
        "where": {"id": project_id},
    })
}

/// Which assets to read or count, and how.
///
/// # Examples
///
/// ```no_run
/// use kili::{AssetQuery, Kili};
/// let kili = Kili::from_env()?;
/// let q = AssetQuery::new("project-id")
///     .external_ids(["car_1", "car_2"])
///     .fields(["id", "externalId", "labels.author.email"])
///     .first(10);
/// for asset in kili.assets(&q)? {
///     println!("{:?}", asset?.external_id);
/// }
/// println!("{} in all", kili.count_assets(&q)?);
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct AssetQuery {
    project_id: String,
    asset_ids: Option<Vec<String>>,
    external_ids: Option<Vec<String>>,
    page: Page,
}

impl AssetQuery {
    /// All the assets of a project.
    pub fn new(project_id: impl Into<String>) -> AssetQuery {
        AssetQuery {
            project_id: project_id.into(),
            asset_ids: None,
            external_ids: None,
            page: Page::default(),
        }
    }

    /// Only the assets with these ids (`idIn`).
    pub fn asset_ids<I, S>(mut self, ids: I) -> AssetQuery
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.asset_ids = Some(ids.into_iter().map(Into::into).collect());
        self
    }

    /// Only the assets with exactly these external ids (`externalIdStrictlyIn`).
    pub fn external_ids<I, S>(mut self, ids: I) -> AssetQuery
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.external_ids = Some(ids.into_iter().map(Into::into).collect());
        self
    }

    /// The `AssetWhere`, shaped as the SDK's after it strips nulls (the empty `label` and
    /// `issue` objects stay).
    pub(crate) fn where_(&self) -> Result<Value> {
        if self.project_id.trim().is_empty() {
            return Err(Error::invalid("the project id is empty"));
        }
        Ok(asset_where(
            Some(&self.project_id),
            self.asset_ids.as_deref(),
            self.external_ids.as_deref(),
        ))
    }
}

page_setters!(AssetQuery, "assets", "DEFAULT_ASSET_FIELDS");

/// An `AssetWhere` with the SDK's shape.
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

impl Kili {
    /// Adds assets to a project and returns the new assets' ids, in input order.
    ///
    /// Like the SDK: when external ids are given, those that already exist in the project are
    /// skipped (checked with `filterExistingAssets` first, each one logged with `log::warn!`),
    /// as are repeats within the input; the rest is sent with `appendManyAssets` in batches of 100, each asset with
    /// an id generated here (`idArray`). Contents are sent as they are (URLs of hosted data).
    /// If every external id already exists, nothing is sent and the list is empty.
    ///
    /// # Retries
    ///
    /// Because the ids are chosen by the client, a batch whose outcome is unknown (timeout,
    /// dropped connection, 5xx from a proxy) is reconciled before it is resent: the assets of
    /// that batch that exist (by id) are dropped from it, and only the others are sent again.
    /// So a retry never creates a duplicate asset, whatever the server does with a repeated id.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] before any request if the project id is empty or the arrays
    /// differ in length; the request errors of [`Kili::graphql`]. A failure in a later batch
    /// leaves the earlier batches imported.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use kili::{Kili, NewAssets};
    /// let kili = Kili::from_env()?;
    /// let ids = kili.append_many_to_dataset(
    ///     &NewAssets::new("project-id", ["https://storage.googleapis.com/label-public-staging/car/car_1.jpg"])
    ///         .external_ids(["car_1"]),
    /// )?;
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn append_many_to_dataset(&self, assets: &NewAssets) -> Result<Vec<String>> {
        let mut prepared = prepare(assets)?;
        if prepared.is_empty() {
            return Ok(Vec::new());
        }
        drop_duplicate_external_ids(&mut prepared);
        if assets.external_ids.is_some() {
            let existing = self.existing_external_ids(&assets.project_id, &prepared)?;
            if !existing.is_empty() {
                prepared.retain(|a| {
                    let exists = existing.contains(&a.external_id);
                    if exists {
                        log::warn!(
                            "external id {:?} already exists in project {}; skipping it",
                            a.external_id,
                            assets.project_id
                        );
                    }
                    !exists
                });
            }
        }
        let total = prepared.len() as u64;
        if let Some(p) = &assets.progress {
            p.update(0, total);
        }
        if prepared.is_empty() {
            log::warn!("no assets to import: all external ids already exist");
            return Ok(Vec::new());
        }
        let mut done = 0;
        for range in batches(prepared.len()) {
            let batch = &prepared[range];
            let mut pending: Vec<PreparedAsset> = batch.to_vec();
            send_reconciled(self, "appendManyAssets", |maybe_applied| {
                if maybe_applied {
                    let ids: Vec<String> = pending.iter().map(|a| a.id.clone()).collect();
                    let there = self
                        .existing_asset_ids(Some(&assets.project_id), &ids)
                        .map_err(Failure::failed)?;
                    pending.retain(|a| !there.contains(&a.id));
                    log::info!(
                        "{} assets of the batch were already created",
                        ids.len() - pending.len()
                    );
                }
                if pending.is_empty() {
                    return Ok(());
                }
                let vars = append_many_assets_variables(&assets.project_id, &pending);
                self.attempt(APPEND_MANY_ASSETS, &vars).map(drop)
            })?;
            done += batch.len() as u64;
            if let Some(p) = &assets.progress {
                p.update(done, total);
            }
        }
        Ok(prepared.into_iter().map(|a| a.id).collect())
    }

    /// The given assets' external ids that already exist in the project.
    fn existing_external_ids(
        &self,
        project_id: &str,
        assets: &[PreparedAsset],
    ) -> Result<HashSet<String>> {
        let mut existing = HashSet::new();
        for chunk in assets.chunks(FILTER_EXISTING_BATCH) {
            let ids: Vec<&str> = chunk.iter().map(|a| a.external_id.as_str()).collect();
            let vars = json!({"projectID": project_id, "externalIDs": ids});
            let mut data = self.execute(FILTER_EXISTING_ASSETS, &vars, Safety::Idempotent)?;
            let list = data
                .get_mut("external_ids")
                .map(Value::take)
                .unwrap_or(Value::Null);
            match list {
                Value::Array(items) => existing.extend(
                    items
                        .into_iter()
                        .filter_map(|v| v.as_str().map(str::to_owned)),
                ),
                Value::Null => {}
                other => {
                    return Err(Error::decode(
                        "filterExistingAssets",
                        format!("expected a list, got {other}"),
                    ));
                }
            }
        }
        Ok(existing)
    }

    /// Which of these asset ids exist (at most [`BATCH_SIZE`] ids).
    pub(crate) fn existing_asset_ids(
        &self,
        project_id: Option<&str>,
        ids: &[String],
    ) -> Result<HashSet<String>> {
        debug_assert!(ids.len() <= BATCH_SIZE);
        let where_ = asset_where(project_id, Some(ids), None);
        let page = Page {
            fields: Some(vec!["id".to_owned()]),
            ..Page::default()
        };
        Paginated::new(self, &ASSETS, &page, where_, |v| {
            v.get("id")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| Error::decode("an asset", "missing id"))
        })?
        .collect()
    }

    /// Reads assets lazily, 100 per request (see [`Paginated`]).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty project id or malformed field paths, before any
    /// request. Request errors come from the iterator.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use kili::{AssetQuery, Kili};
    /// let kili = Kili::from_env()?;
    /// let assets = kili
    ///     .assets(&AssetQuery::new("project-id").fields(["id", "labels.author.email"]))?
    ///     .collect_all()?;
    /// for a in &assets {
    ///     println!("{}: {} labels", a.id, a.labels.as_ref().map_or(0, Vec::len));
    /// }
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn assets(&self, query: &AssetQuery) -> Result<Paginated<Asset>> {
        Paginated::new(
            self,
            &ASSETS,
            &query.page,
            query.where_()?,
            Asset::from_json,
        )
    }

    /// Counts the assets matching the query's filters.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty project id; the request errors of
    /// [`Kili::graphql`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let kili = kili::Kili::from_env()?;
    /// let n = kili.count_assets(&kili::AssetQuery::new("project-id").external_ids(["car_1"]))?;
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn count_assets(&self, query: &AssetQuery) -> Result<u64> {
        self.count(&ASSETS, &query.where_()?)
    }

    /// Deletes assets by id, with `deleteManyFromDataset` in batches of 100.
    ///
    /// A batch whose outcome is unknown is reconciled before it is resent: only the assets
    /// that still exist are sent again.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] if an id is empty, before any request; the request errors of
    /// [`Kili::graphql`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let kili = kili::Kili::from_env()?;
    /// kili.delete_many_from_dataset(["asset-1", "asset-2"])?;
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn delete_many_from_dataset<I, S>(&self, asset_ids: I) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let ids: Vec<String> = asset_ids.into_iter().map(Into::into).collect();
        if ids.iter().any(|i| i.trim().is_empty()) {
            return Err(Error::invalid("an asset id is empty"));
        }
        for range in batches(ids.len()) {
            let mut pending = ids[range].to_vec();
            send_reconciled(self, "deleteManyFromDataset", |maybe_applied| {
                if maybe_applied {
                    let there = self
                        .existing_asset_ids(None, &pending)
                        .map_err(Failure::failed)?;
                    pending.retain(|id| there.contains(id));
                }
                if pending.is_empty() {
                    return Ok(());
                }
                let vars = json!({"where": {"idIn": pending}});
                let mut data = self.attempt(DELETE_MANY_FROM_DATASET, &vars)?;
                take_data(&mut data).map(drop).map_err(Failure::failed)
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_checked_before_anything() {
        let e = prepare(&NewAssets::new("p", ["a", "b"]).external_ids(["x"])).unwrap_err();
        assert!(
            e.to_string().contains("2 contents but 1 external ids"),
            "{e}"
        );
        let e =
            prepare(&NewAssets::new("p", ["a"]).json_metadata([json!(1), json!(2)])).unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }));
        assert!(prepare(&NewAssets::new("", ["a"])).is_err());
    }

    #[test]
    fn defaults_match_the_sdk() {
        let p = prepare(&NewAssets::new("p", ["https://x/1.jpg"])).unwrap();
        assert_eq!(p[0].json_metadata, "{}");
        assert_eq!(p[0].external_id.len(), 32);
        assert_eq!(p[0].id.len(), 25);
    }

    #[test]
    fn append_variables_have_the_sdk_shape() {
        let mut p = prepare(
            &NewAssets::new("p", ["https://x/1.jpg"])
                .external_ids(["car_1"])
                .json_metadata([json!({"k": 1})]),
        )
        .unwrap();
        p[0].id = "cid".into();
        assert_eq!(
            append_many_assets_variables("p", &p),
            json!({
                "data": {
                    "contentArray": ["https://x/1.jpg"], "externalIDArray": ["car_1"], "idArray": ["cid"],
                    "isHoneypotArray": [false], "jsonContentArray": [""], "jsonMetadataArray": ["{\"k\":1}"]
                },
                "where": {"id": "p"}
            })
        );
    }

    #[test]
    fn duplicates_in_the_input_are_dropped() {
        let mut p =
            prepare(&NewAssets::new("p", ["a", "b", "c"]).external_ids(["x", "y", "x"])).unwrap();
        drop_duplicate_external_ids(&mut p);
        let ext: Vec<&str> = p.iter().map(|a| a.external_id.as_str()).collect();
        assert_eq!(ext, ["x", "y"]);
    }

    #[test]
    fn asset_where_keeps_the_sdk_shape() {
        assert_eq!(
            AssetQuery::new("p").where_().unwrap(),
            json!({"project": {"id": "p"}, "label": {}, "issue": {}})
        );
        assert_eq!(
            AssetQuery::new("p")
                .asset_ids(["a"])
                .external_ids(["e"])
                .where_()
                .unwrap(),
            json!({"project": {"id": "p"}, "idIn": ["a"], "externalIdStrictlyIn": ["e"], "label": {}, "issue": {}})
        );
        assert!(AssetQuery::new(" ").where_().is_err());
    }

    #[test]
    fn batches_are_hundreds() {
        let b: Vec<_> = batches(201).collect();
        assert_eq!(b, [0..100, 100..200, 200..201]);
        assert_eq!(batches(0).count(), 0);
    }
}
