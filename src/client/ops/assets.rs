//! Assets: `append_many_to_dataset`, `assets`, `count_assets`, `delete_many_from_dataset`,
//! with the SDK's documents and variables; imports that are not URLs go through `upload`, and
//! the look-ups through `lookup`.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::client::ops::lookup::asset_where;
use crate::client::ops::upload::{self, AssetContent, Body, Upload};
use crate::client::ops::{BATCH_SIZE, batches, batches_of, ids_given, send_reconciled};
use crate::client::paginate::Paginated;
use crate::client::progress::Progress;
use crate::client::resources::{ASSETS, Page, page_setters};
use crate::client::retry::{Failure, Safety};
use crate::client::{Kili, take_data};
use crate::common::ids;
use crate::error::{Error, Result};
use crate::models::{Asset, InputType};

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

/// Assets to add to a project with [`Kili::append_many_to_dataset`].
///
/// Arrays are matched by position: the i-th external id and metadata go with the i-th content.
/// Contents are URLs of hosted data, local files, or raw text for `TEXT` projects; the last two
/// are uploaded to Kili's storage first, as the SDK does (see [`AssetContent`]). JSON contents
/// (rich text, video frames) come with [`NewAssets::from_json_contents`].
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
    contents: Vec<Content>,
    external_ids: Option<Vec<String>>,
    json_metadata: Option<Vec<Value>>,
    json_contents: Option<Vec<Value>>,
    progress: Option<Arc<dyn Progress>>,
}

/// One asset's content as given.
#[derive(Debug, Clone, PartialEq)]
enum Content {
    /// A string, told apart as the SDK does once the project's input type is known.
    Given(String),
    Explicit(AssetContent),
    /// None: the asset has a JSON content.
    Empty,
}

impl Content {
    /// Returns the content when it needs no project look-up: a URL (or nothing).
    fn as_hosted(&self) -> Option<&str> {
        match self {
            Content::Given(s) if upload::is_url(s) => Some(s),
            Content::Explicit(AssetContent::Url(u)) => Some(u),
            Content::Empty => Some(""),
            _ => None,
        }
    }
}

impl std::fmt::Debug for NewAssets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAssets")
            .field("project_id", &self.project_id)
            .field("contents", &self.contents.len())
            .field("external_ids", &self.external_ids.as_ref().map(Vec::len))
            .field("json_metadata", &self.json_metadata.as_ref().map(Vec::len))
            .field("json_contents", &self.json_contents.as_ref().map(Vec::len))
            .finish_non_exhaustive()
    }
}

impl NewAssets {
    /// Creates assets with these contents in `project_id`, each told apart as the SDK does: an
    /// `http(s)://` URL is hosted data, sent as it is; an existing local file is uploaded; any
    /// other string is raw text, uploaded, in a `TEXT` project (and an error elsewhere).
    pub fn new<I, S>(project_id: impl Into<String>, contents: I) -> NewAssets
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        NewAssets::of(
            project_id.into(),
            contents
                .into_iter()
                .map(|c| Content::Given(c.into()))
                .collect(),
        )
    }

    /// Creates assets with these contents in `project_id`, each of a kind named explicitly.
    ///
    /// # Examples
    ///
    /// ```
    /// use kili::{AssetContent, NewAssets};
    /// let assets = NewAssets::with_contents(
    ///     "project-id",
    ///     [AssetContent::text("maybe/a/path.txt"), AssetContent::file("car.png")],
    /// );
    /// # let _ = assets;
    /// ```
    pub fn with_contents<I>(project_id: impl Into<String>, contents: I) -> NewAssets
    where
        I: IntoIterator<Item = AssetContent>,
    {
        NewAssets::of(
            project_id.into(),
            contents.into_iter().map(Content::Explicit).collect(),
        )
    }

    /// Creates assets with a JSON content each and no content, as the SDK's `json_content_array`:
    /// rich text for a `TEXT` project, or a video's frames for a `VIDEO` project (an array of
    /// frame URLs or local image files, uploaded, then indexed `{"0": url, ...}`). In those
    /// projects the JSON content is uploaded and the asset's `jsonContent` holds its URL; in
    /// others it is sent as JSON text.
    ///
    /// # Examples
    ///
    /// ```
    /// use kili::NewAssets;
    /// use serde_json::json;
    /// let rich_text = NewAssets::from_json_contents(
    ///     "text-project-id",
    ///     [json!([{"type": "p", "children": [{"text": "Hello", "bold": true}]}])],
    /// );
    /// let video = NewAssets::from_json_contents(
    ///     "video-project-id",
    ///     [json!(["frames/0001.png", "frames/0002.png"])],
    /// );
    /// # let _ = (rich_text, video);
    /// ```
    pub fn from_json_contents<I>(project_id: impl Into<String>, json_contents: I) -> NewAssets
    where
        I: IntoIterator<Item = Value>,
    {
        let json: Vec<Value> = json_contents.into_iter().collect();
        let mut new = NewAssets::of(project_id.into(), vec![Content::Empty; json.len()]);
        new.json_contents = Some(json);
        new
    }

    fn of(project_id: String, contents: Vec<Content>) -> NewAssets {
        NewAssets {
            project_id,
            contents,
            external_ids: None,
            json_metadata: None,
            json_contents: None,
            progress: None,
        }
    }

    /// Sets the assets' external ids, one per content.
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

    /// Sets the assets' metadata, one JSON value per content, sent as JSON strings.
    ///
    /// Defaults to `{}` for each.
    pub fn json_metadata<I>(mut self, metadata: I) -> NewAssets
    where
        I: IntoIterator<Item = Value>,
    {
        self.json_metadata = Some(metadata.into_iter().collect());
        self
    }

    /// Reports progress (assets imported, assets to import) once the total is known and after
    /// each batch.
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
    /// What `contentArray` gets: the URL, or the signed URL once uploaded.
    pub(crate) content: String,
    pub(crate) external_id: String,
    pub(crate) json_metadata: String,
    /// What `jsonContentArray` gets: JSON text, or the signed URL once uploaded.
    pub(crate) json_content: String,
    /// The content as given, until it is uploaded.
    source: Content,
    /// The JSON content as given, until it is uploaded.
    json: Option<Value>,
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
        .map(|i| {
            let source = new.contents[i].clone();
            let json = new.json_contents.as_ref().map(|j| j[i].clone());
            PreparedAsset {
                id: ids::new_cuid(),
                content: match &source {
                    Content::Given(s) => s.clone(),
                    Content::Explicit(AssetContent::Url(u)) => u.clone(),
                    _ => String::new(),
                },
                external_id: match &new.external_ids {
                    Some(e) => e[i].clone(),
                    None => ids::new_external_id(),
                },
                json_metadata: match &new.json_metadata {
                    Some(m) => m[i].to_string(),
                    None => "{}".to_owned(),
                },
                json_content: json.as_ref().map(json_text).unwrap_or_default(),
                source,
                json,
            }
        })
        .collect())
}

/// Returns a JSON content as the SDK sends it: a string as it is, anything else as JSON text.
fn json_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn is_video(input_type: &InputType) -> bool {
    match input_type {
        InputType::Video => true,
        InputType::Other(s) => s == "VIDEO_LEGACY",
        _ => false,
    }
}

/// Returns a video's metadata as the SDK sends it with frames: with `processingParameters`
/// (kept if given, else `{}`).
fn with_processing_parameters(json_metadata: &str) -> String {
    match serde_json::from_str::<Value>(json_metadata) {
        Ok(Value::Object(mut m)) => {
            m.entry("processingParameters").or_insert_with(|| json!({}));
            Value::Object(m).to_string()
        }
        _ => json_metadata.to_owned(),
    }
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

/// Builds the variables of one `appendManyAssets` batch, as the SDK sends them.
pub(crate) fn append_many_assets_variables(project_id: &str, batch: &[PreparedAsset]) -> Value {
    let col = |f: fn(&PreparedAsset) -> Value| Value::Array(batch.iter().map(f).collect());
    json!({
        "data": {
            "contentArray": col(|a| json!(a.content)),
            "externalIDArray": col(|a| json!(a.external_id)),
            "idArray": col(|a| json!(a.id)),
            "isHoneypotArray": col(|_| json!(false)),
            "jsonContentArray": col(|a| json!(a.json_content)),
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
///     println!("{:?}", asset?.external_id());
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
    /// Creates a query of all the assets of a project.
    pub fn new(project_id: impl Into<String>) -> AssetQuery {
        AssetQuery {
            project_id: project_id.into(),
            asset_ids: None,
            external_ids: None,
            page: Page::default(),
        }
    }

    /// Keeps only the assets with these ids (`idIn`).
    ///
    /// Defaults to all the assets of the project.
    pub fn asset_ids<I, S>(mut self, ids: I) -> AssetQuery
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.asset_ids = Some(ids.into_iter().map(Into::into).collect());
        self
    }

    /// Keeps only the assets with exactly these external ids (`externalIdStrictlyIn`).
    ///
    /// Defaults to all the assets of the project.
    pub fn external_ids<I, S>(mut self, ids: I) -> AssetQuery
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.external_ids = Some(ids.into_iter().map(Into::into).collect());
        self
    }

    /// Builds the `AssetWhere`, shaped as the SDK's after it strips nulls (the empty `label` and
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

impl Kili {
    /// Adds assets to a project and returns the new assets' ids, in input order.
    ///
    /// Like the SDK: when external ids are given, those that already exist in the project are
    /// skipped (checked with `filterExistingAssets` first, each one logged with `log::warn!`),
    /// as are repeats within the input; the rest is sent with `appendManyAssets` in batches of
    /// 100, each asset with an id generated here (`idArray`). If every external id already
    /// exists, nothing is sent and the list is empty.
    ///
    /// URLs are sent as they are. Anything else is uploaded first, as the SDK does: the
    /// project's input type is read (`projects`), the organization's license is checked
    /// (`viewer`, `countOrganizations`, `organizations`: `license.uploadLocalData`) when there
    /// are local files or raw text, signed URLs are asked for each batch
    /// (`createUploadBucketSignedUrls`, 30 paths per request, `projects/<id>/assets/<assetId>/...`),
    /// each body is `PUT` to its URL (cut before `&id=`) with its content type, and the asset's
    /// `content` (or `jsonContent`) is the signed URL. Video frames go one asset per batch, as
    /// in the SDK.
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
    /// differ in length; after the project look-up, if a content is raw text outside a `TEXT`
    /// project or neither a URL nor a file, or the license forbids local data;
    /// [`Error::Io`] if a file cannot be read; [`Error::Http`] if an upload is refused; the
    /// request errors of [`Kili::graphql`]. A failure in a later batch leaves the earlier
    /// batches imported.
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
        let input_type = self.resolve_contents(assets, &mut prepared)?;
        drop_duplicate_external_ids(&mut prepared);
        if assets.external_ids.is_some() {
            self.drop_existing_external_ids(&assets.project_id, &mut prepared)?;
        }
        let total = prepared.len() as u64;
        if let Some(p) = &assets.progress {
            p.update(0, total);
        }
        if prepared.is_empty() {
            log::warn!("no assets to import: all external ids already exist");
            return Ok(Vec::new());
        }
        let frames = input_type.as_ref().is_some_and(is_video) && assets.json_contents.is_some();
        let batch_size = if frames { 1 } else { BATCH_SIZE };
        for range in batches_of(prepared.len(), batch_size) {
            if let Some(input_type) = &input_type {
                self.upload_batch(&assets.project_id, input_type, &mut prepared[range.clone()])?;
            }
            self.append_asset_batch(&assets.project_id, &prepared[range.clone()])?;
            if let Some(p) = &assets.progress {
                p.update(range.end as u64, total);
            }
        }
        Ok(prepared.into_iter().map(|a| a.id).collect())
    }

    /// Tells the contents apart as the SDK's importers do once they know the project's input
    /// type, and checks the license when something is to be uploaded. Returns the input type,
    /// or `None` for an import of hosted URLs only: as in the SDK's importers, only what needs
    /// an upload needs the look-up, so a hosted import sends the SDK's requests.
    fn resolve_contents(
        &self,
        assets: &NewAssets,
        prepared: &mut [PreparedAsset],
    ) -> Result<Option<InputType>> {
        let hosted = assets.json_contents.is_none()
            && assets.contents.iter().all(|c| c.as_hosted().is_some());
        if hosted {
            return Ok(None);
        }
        let input_type = self.input_type_of(&assets.project_id)?;
        for a in prepared.iter_mut() {
            if let Content::Given(s) = &a.source {
                a.source = Content::Explicit(upload::classify(s, &input_type)?);
            }
            if let Content::Explicit(AssetContent::Text(_)) = &a.source
                && input_type != InputType::Text
            {
                return Err(Error::invalid(format!(
                    "raw text is for TEXT projects; project {} is {input_type}",
                    assets.project_id
                )));
            }
        }
        let local = prepared.iter().any(|a| {
            matches!(
                a.source,
                Content::Explicit(AssetContent::File(_) | AssetContent::Text(_))
            )
        });
        if local {
            self.check_upload_allowed()?;
        }
        Ok(Some(input_type))
    }

    /// Drops the assets whose external id already exists in the project (asked with
    /// `filterExistingAssets`), each one logged with `log::warn!`, as the SDK does.
    fn drop_existing_external_ids(
        &self,
        project_id: &str,
        prepared: &mut Vec<PreparedAsset>,
    ) -> Result<()> {
        let existing = self.existing_external_ids(project_id, prepared)?;
        if existing.is_empty() {
            return Ok(());
        }
        prepared.retain(|a| {
            let exists = existing.contains(&a.external_id);
            if exists {
                log::warn!(
                    "external id {:?} already exists in project {project_id}; skipping it",
                    a.external_id,
                );
            }
            !exists
        });
        Ok(())
    }

    /// Sends one batch with `appendManyAssets`, reconciled: after an attempt whose outcome is
    /// unknown, the batch's assets that exist (by id) are not sent again.
    fn append_asset_batch(&self, project_id: &str, batch: &[PreparedAsset]) -> Result<()> {
        let mut pending: Vec<PreparedAsset> = batch.to_vec();
        send_reconciled(self, "appendManyAssets", |maybe_applied| {
            if maybe_applied {
                let ids: Vec<String> = pending.iter().map(|a| a.id.clone()).collect();
                let there = self
                    .existing_asset_ids(Some(project_id), &ids)
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
            let vars = append_many_assets_variables(project_id, &pending);
            self.attempt(APPEND_MANY_ASSETS, &vars).map(drop)
        })
    }

    /// Uploads the local contents and JSON contents of one batch, as the SDK's importers do,
    /// and puts their signed URLs in the assets' `content` and `jsonContent`.
    fn upload_batch(
        &self,
        project_id: &str,
        input_type: &InputType,
        batch: &mut [PreparedAsset],
    ) -> Result<()> {
        let base = format!("projects/{project_id}/assets");
        let file_name = if *input_type == InputType::Geospatial {
            "content.tif"
        } else {
            "content"
        };
        // Contents: one request for the batch's signed URLs.
        let mut uploads = Vec::new();
        let mut owners = Vec::new();
        for (i, a) in batch.iter().enumerate() {
            let (body, content_type) = match &a.source {
                Content::Explicit(AssetContent::File(path)) => (
                    Body::File(path.clone()),
                    upload::content_type_of(path).map(str::to_owned),
                ),
                Content::Explicit(AssetContent::Text(text)) => (
                    Body::Bytes(text.as_bytes().to_vec()),
                    Some("text/plain; charset=utf-8".to_owned()),
                ),
                _ => continue,
            };
            uploads.push(Upload {
                path: format!("{base}/{}/{file_name}", a.id),
                body,
                content_type,
            });
            owners.push(i);
        }
        for (i, url) in owners.into_iter().zip(self.upload_all(&uploads)?) {
            batch[i].content = url;
        }
        // JSON contents: uploaded for rich text and videos (frames first), else sent inline.
        let uploaded_json = *input_type == InputType::Text || is_video(input_type);
        if !uploaded_json {
            return Ok(());
        }
        let mut uploads = Vec::new();
        let mut owners = Vec::new();
        for (i, a) in batch.iter_mut().enumerate() {
            let Some(json) = a.json.clone() else {
                continue;
            };
            let json = if is_video(input_type) {
                a.json_metadata = with_processing_parameters(&a.json_metadata);
                Value::Object(self.frame_index(&base, &a.id, &json)?)
            } else {
                json
            };
            uploads.push(Upload {
                path: format!("{base}/{}/jsonContent", a.id),
                body: Body::Bytes(json_text(&json).into_bytes()),
                content_type: Some("text/plain; charset=utf-8".to_owned()),
            });
            owners.push(i);
        }
        for (i, url) in owners.into_iter().zip(self.upload_all(&uploads)?) {
            batch[i].json_content = url;
        }
        Ok(())
    }

    /// Indexes a video's frames as the SDK does, `{"0": url, "1": url, ...}`: local files are
    /// uploaded (`.../frame/<i>`) and named by their file URL, URLs are kept.
    fn frame_index(&self, base: &str, asset_id: &str, json: &Value) -> Result<Map<String, Value>> {
        let Value::Array(frames) = json else {
            return Err(Error::invalid(
                "a video's JSON content is the list of its frames (URLs or local files)",
            ));
        };
        let mut urls: Vec<Option<String>> = Vec::with_capacity(frames.len());
        let mut uploads = Vec::new();
        let mut owners = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            let Some(f) = f.as_str() else {
                return Err(Error::invalid(format!("frame {i} is not a string")));
            };
            if upload::is_url(f) {
                urls.push(Some(f.to_owned()));
                continue;
            }
            let path = std::path::PathBuf::from(f);
            if !path.is_file() {
                return Err(Error::invalid(format!(
                    "frame {i} ({f:?}) is neither a URL nor an existing file"
                )));
            }
            uploads.push(Upload {
                path: format!("{base}/{asset_id}/frame/{i}"),
                content_type: upload::content_type_of(&path).map(str::to_owned),
                body: Body::File(path),
            });
            owners.push(i);
            urls.push(None);
        }
        let endpoint = self.endpoint().to_owned();
        for (i, signed) in owners.into_iter().zip(self.upload_all(&uploads)?) {
            urls[i] = Some(upload::frame_url(&endpoint, &signed));
        }
        Ok(urls
            .into_iter()
            .enumerate()
            .map(|(i, u)| (i.to_string(), Value::String(u.unwrap_or_default())))
            .collect())
    }

    /// Returns the given assets' external ids that already exist in the project.
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
    ///     println!("{}: {} labels", a.id(), a.labels().map_or(0, <[_]>::len));
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

    /// Deletes assets by id, with `deleteManyFromDataset` in batches of 100, and returns the
    /// ids of the assets deleted, in input order.
    ///
    /// Kili answers `deleteManyFromDataset` with the assets' project, not with the assets: a
    /// batch answered with a project is deleted, one answered with `null` matched none of the
    /// caller's assets and contributes no id. So an id that matched nothing is left out when
    /// its whole batch matched nothing, and listed when it was sent beside ids that did match
    /// (telling them apart would cost a query per batch).
    ///
    /// A batch whose outcome is unknown is reconciled before it is resent: the assets that no
    /// longer exist count as deleted, and only those that still exist are sent again.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] if an id is empty, before any request; the request errors of
    /// [`Kili::graphql`]. A failure in a later batch leaves the earlier batches deleted.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let kili = kili::Kili::from_env()?;
    /// let deleted = kili.delete_many_from_dataset(["asset-1", "asset-2"])?;
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn delete_many_from_dataset<I, S>(&self, asset_ids: I) -> Result<Vec<String>>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let ids = ids_given(asset_ids, "an asset id is empty")?;
        let mut deleted = Vec::with_capacity(ids.len());
        for range in batches(ids.len()) {
            deleted.extend(self.delete_asset_batch(&ids[range])?);
        }
        Ok(deleted)
    }

    /// Deletes one batch of assets, reconciled; returns the ids deleted, in input order.
    fn delete_asset_batch(&self, batch: &[String]) -> Result<Vec<String>> {
        let mut pending = batch.to_vec();
        let mut gone: HashSet<String> = HashSet::new();
        send_reconciled(self, "deleteManyFromDataset", |maybe_applied| {
            if maybe_applied {
                let there = self
                    .existing_asset_ids(None, &pending)
                    .map_err(Failure::failed)?;
                let (left, lost): (Vec<String>, Vec<String>) =
                    pending.drain(..).partition(|id| there.contains(id));
                gone.extend(lost);
                pending = left;
            }
            if pending.is_empty() {
                return Ok(());
            }
            let vars = json!({"where": {"idIn": pending}});
            let mut data = self.attempt(DELETE_MANY_FROM_DATASET, &vars)?;
            let project = take_data(&mut data).map_err(Failure::failed)?;
            // The assets' project, or null when the batch matched none of the caller's assets.
            if !project.is_null() {
                gone.extend(pending.drain(..));
            }
            Ok(())
        })?;
        Ok(batch
            .iter()
            .filter(|id| gone.contains(*id))
            .cloned()
            .collect())
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
