//! The `Mutation` root: project and asset mutations here, label ones in
//! [`label_mutation`](super::label_mutation), webhook ones in `plugins`, issue ones in `issues`,
//! and the status-moving asset actions in `asset_actions`. Every mutation validates its whole input before
//! writing anything.

use async_graphql::{Context, ID, MergedObject, Object, Result};

use super::asset_actions::AssetActionMutation;
use super::context::{state, viewer};
use super::errors::{bad_input, no_access, store_error};
use super::inputs::{
    AppendManyAssetsData, AppendManyToDatasetData, AssetData, AssetWhere, CreateProjectData,
    ProjectWhere,
};
use super::issues::IssueMutation;
use super::label_mutation::LabelMutation;
use super::limits::check_rows;
use super::listing::asset_page;
use super::objects::{Asset, Project};
use super::plugins::PluginMutation;
use crate::store::{AssetUpdate, InputType, NewAsset, NewProject};

/// Kili's `Mutation` type (the subset the SDK uses).
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub(crate) struct MutationRoot(
    DataMutation,
    LabelMutation,
    PluginMutation,
    IssueMutation,
    AssetActionMutation,
);

/// The project and asset mutations.
#[derive(Default)]
pub(crate) struct DataMutation;

#[Object]
impl DataMutation {
    /// Creates a project owned by the caller.
    async fn create_project(&self, ctx: &Context<'_>, data: CreateProjectData) -> Result<Project> {
        let me = viewer(ctx)?;
        if data.title.trim().is_empty() {
            return Err(bad_input("title must not be empty"));
        }
        let json_interface = data.json_interface.unwrap_or_else(|| "{}".to_owned());
        if serde_json::from_str::<serde_json::Value>(&json_interface).is_err() {
            return Err(bad_input("jsonInterface is not valid JSON"));
        }
        let rec = state(ctx)?
            .create_project(
                &me.id,
                NewProject {
                    title: data.title,
                    description: data.description.unwrap_or_default(),
                    input_type: data.input_type.unwrap_or(InputType::Image),
                    json_interface,
                    compliance_tags: data.compliance_tags.unwrap_or_default(),
                },
            )
            .map_err(store_error)?;
        Ok(Project(rec))
    }

    /// Deletes a project (at once, despite the name); returns its id.
    async fn delete_project_asynchronously(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: ProjectWhere,
    ) -> Result<ID> {
        let me = viewer(ctx)?;
        let id = project_id(where_)?;
        state(ctx)?
            .delete_project(&me.id, &id)
            .map(ID)
            .map_err(store_error)
    }

    /// Deletes a project; returns it as it was.
    async fn delete_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: ProjectWhere,
    ) -> Result<Project> {
        let me = viewer(ctx)?;
        let id = project_id(where_)?;
        let st = state(ctx)?;
        let before = st.read().owned_project(&me.id, &id).cloned();
        let before = before.ok_or_else(|| no_access("project", &id))?;
        st.delete_project(&me.id, &id).map_err(store_error)?;
        Ok(Project(before))
    }

    /// Appends assets to the project `where.id`: parallel arrays of equal length.
    async fn append_many_assets(
        &self,
        ctx: &Context<'_>,
        data: AppendManyAssetsData,
        #[graphql(name = "where")] where_: ProjectWhere,
    ) -> Result<Vec<Asset>> {
        append_assets(ctx, data, where_)
    }

    /// Appends assets (the older name of `appendManyAssets`).
    async fn append_many_to_dataset(
        &self,
        ctx: &Context<'_>,
        data: AppendManyToDatasetData,
        #[graphql(name = "where")] where_: ProjectWhere,
    ) -> Result<Vec<Asset>> {
        append_assets(ctx, data.into(), where_)
    }

    /// Deletes the caller's assets matching `where`, with their labels; returns their project.
    async fn delete_many_from_dataset(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: AssetWhere,
    ) -> Result<Option<Project>> {
        let assets = asset_page(ctx, &where_, None)?;
        let st = state(ctx)?;
        let project = assets
            .first()
            .and_then(|a| st.read().project(&a.project_id).cloned());
        let ids: Vec<String> = assets.into_iter().map(|a| a.id).collect();
        st.delete_assets(&ids).map_err(store_error)?;
        Ok(project.map(Project))
    }

    /// Changes properties of assets: the i-th `data` goes to the asset `where[i].id` (of the
    /// caller's projects); properties left out or null are not changed. All or nothing.
    async fn update_properties_in_assets(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: Vec<AssetWhere>,
        data: Vec<AssetData>,
    ) -> Result<Vec<Asset>> {
        let me = viewer(ctx)?;
        check_rows("where", where_.len())?;
        if where_.len() != data.len() {
            return Err(bad_input(format!(
                "where and data must have the same length: {} and {}",
                where_.len(),
                data.len()
            )));
        }
        let mut updates = Vec::with_capacity(data.len());
        for (i, (w, d)) in where_.into_iter().zip(data).enumerate() {
            let Some(id) = w.id else {
                return Err(bad_input(format!(
                    "where[{i}].id is required: the local server updates assets by id"
                )));
            };
            updates.push((
                id.0,
                AssetUpdate::try_from(d).map_err(|m| bad_input(format!("data[{i}]: {m}")))?,
            ));
        }
        let done = state(ctx)?
            .update_assets(&me.id, updates)
            .map_err(store_error)?;
        Ok(done.into_iter().map(Asset).collect())
    }
}

/// Returns `where.id`, the project these mutations need.
fn project_id(where_: ProjectWhere) -> Result<ID> {
    where_.id.ok_or_else(|| bad_input("where.id is required"))
}

fn append_assets(
    ctx: &Context<'_>,
    data: AppendManyAssetsData,
    where_: ProjectWhere,
) -> Result<Vec<Asset>> {
    let me = viewer(ctx)?;
    let project_id = project_id(where_)?;
    let rows = asset_rows(data)?;
    let made = state(ctx)?
        .append_assets(&me.id, &project_id, rows)
        .map_err(store_error)?;
    Ok(made.into_iter().map(Asset).collect())
}

/// Zips the parallel arrays; every array given must have the same length.
fn asset_rows(data: AppendManyAssetsData) -> Result<Vec<NewAsset>> {
    let lens = [
        ("contentArray", data.content_array.as_ref().map(Vec::len)),
        (
            "externalIDArray",
            data.external_id_array.as_ref().map(Vec::len),
        ),
        ("idArray", data.id_array.as_ref().map(Vec::len)),
        (
            "isHoneypotArray",
            data.is_honeypot_array.as_ref().map(Vec::len),
        ),
        (
            "jsonContentArray",
            data.json_content_array.as_ref().map(Vec::len),
        ),
        (
            "jsonMetadataArray",
            data.json_metadata_array.as_ref().map(Vec::len),
        ),
        ("statusArray", data.status_array.as_ref().map(Vec::len)),
    ];
    let given: Vec<(&str, usize)> = lens
        .iter()
        .filter_map(|(n, l)| l.map(|l| (*n, l)))
        .collect();
    let Some(&(first_name, n)) = given.first() else {
        return Err(bad_input("no asset arrays given"));
    };
    check_rows(first_name, n)?;
    if let Some((name, len)) = given.iter().find(|(_, l)| *l != n) {
        let (first_name, _) = given[0];
        return Err(bad_input(format!(
            "arrays must have the same length: {first_name} has {n}, {name} has {len}"
        )));
    }
    let mut content = data.content_array.unwrap_or_default().into_iter();
    let mut external = data.external_id_array.map(Vec::into_iter);
    let mut ids = data.id_array.map(Vec::into_iter);
    let mut honeypot = data.is_honeypot_array.unwrap_or_default().into_iter();
    let mut json_content = data.json_content_array.unwrap_or_default().into_iter();
    let mut metadata = data.json_metadata_array.unwrap_or_default().into_iter();
    let mut status = data.status_array.map(Vec::into_iter);
    let mut rows = Vec::with_capacity(n);
    for i in 0..n {
        let json_metadata = match metadata.next() {
            Some(m) if !m.trim().is_empty() => m,
            _ => "{}".to_owned(),
        };
        if serde_json::from_str::<serde_json::Value>(&json_metadata).is_err() {
            return Err(bad_input(format!(
                "jsonMetadataArray[{i}] is not valid JSON"
            )));
        }
        rows.push(NewAsset {
            id: ids.as_mut().and_then(Iterator::next).map(|id| id.0),
            content: content.next().unwrap_or_default(),
            external_id: external.as_mut().and_then(Iterator::next),
            json_content: json_content.next().unwrap_or_default(),
            json_metadata,
            is_honeypot: honeypot.next().unwrap_or(false),
            status: status.as_mut().and_then(Iterator::next),
        });
    }
    Ok(rows)
}
