//! The label mutations: `appendManyLabels`, `appendToLabels`, `updatePropertiesInLabel`,
//! `deleteLabels`. Creations and updates are pushed to the project's subscribers by the store.

use async_graphql::{Context, ID, Object, Result};

use super::context::{label_settings, state, viewer};
use super::errors::{bad_input, no_access, store_error, unsupported};
use super::filters::{asset_matches, check_asset_where, check_label_where, label_matches};
use super::inputs::{AppendManyLabelsData, AppendToLabelsData, AssetWhere, LabelData, LabelWhere};
use super::limits::check_rows;
use super::listing::asset_page;
use super::objects::Label;
use crate::store::{LabelType, NewLabel, NewLabels, StoreError};

/// The label mutations of Kili's `Mutation` type.
#[derive(Default)]
pub(crate) struct LabelMutation;

#[Object]
impl LabelMutation {
    /// Appends labels, one per `labelsData` entry; each asset must match `where`. All of them
    /// share one `createdAt`.
    async fn append_many_labels(
        &self,
        ctx: &Context<'_>,
        data: AppendManyLabelsData,
        #[graphql(name = "where")] where_: AssetWhere,
    ) -> Result<Vec<Label>> {
        let me = viewer(ctx)?;
        if data.step_id.is_some() || data.step_name.is_some() {
            return Err(unsupported(
                "AppendManyLabelsData.stepId/stepName",
                "its projects have no workflow steps (workflowVersion V1)",
            ));
        }
        check_rows("labelsData", data.labels_data.len())?;
        let rows: Vec<NewLabel> = data
            .labels_data
            .into_iter()
            .map(|l| NewLabel {
                asset_id: l.asset_id.0,
                author_id: l.author_id.map(|a| a.0),
                label_type: data.label_type,
                json_response: l.json_response,
                model_name: l.model_name,
                seconds_to_label: l.seconds_to_label,
                skipped: l.skipped.unwrap_or(false),
                client_version: l.client_version,
                referenced_label_id: l.referenced_label_id.map(|r| r.0),
            })
            .collect();
        check_assets_match(ctx, &rows, &where_)?;
        let new = NewLabels {
            rows,
            project_id: None,
            overwrite: data.overwrite.unwrap_or(false),
        };
        let made = state(ctx)?
            .append_labels(&me.id, new, label_settings(ctx)?)
            .map_err(store_error)?;
        Ok(made.into_iter().map(Label).collect())
    }

    /// Appends one label to the asset matching `where` (the older single-label mutation).
    async fn append_to_labels(
        &self,
        ctx: &Context<'_>,
        data: AppendToLabelsData,
        #[graphql(name = "where")] where_: AssetWhere,
    ) -> Result<Label> {
        let me = viewer(ctx)?;
        let assets = asset_page(ctx, &where_, None)?;
        let asset = match assets.as_slice() {
            [one] => one.id.clone(),
            [] => {
                return Err(no_access(
                    "asset",
                    where_.id.as_ref().map_or("(none)", |i| i.as_str()),
                ));
            }
            _ => return Err(bad_input("where matches more than one asset")),
        };
        let row = NewLabel {
            asset_id: asset,
            author_id: data.author_id.map(|a| a.0),
            label_type: data.label_type.unwrap_or(LabelType::Default),
            json_response: data.json_response,
            model_name: data.model_name,
            seconds_to_label: data.seconds_to_label,
            skipped: data.skipped.unwrap_or(false),
            client_version: data.client_version,
            referenced_label_id: None,
        };
        let mut made = state(ctx)?
            .append_labels(&me.id, NewLabels::new(vec![row]), label_settings(ctx)?)
            .map_err(store_error)?;
        made.pop()
            .map(Label)
            .ok_or_else(|| bad_input("no label was created"))
    }

    /// Changes the given fields of the label `where.id` (which must also match the rest of
    /// `where`), bumps its `version`, sets its `updatedAt`, and pushes it to the project's
    /// subscribers as `labelCreatedOrUpdated`, even when no field changed.
    async fn update_properties_in_label(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: LabelWhere,
        data: LabelData,
    ) -> Result<Option<Label>> {
        let me = viewer(ctx)?;
        let Some(id) = where_.id.clone() else {
            return Err(store_error(StoreError::new(
                "BAD_INPUT",
                "[badInput] updatePropertiesInLabel needs where.id",
            )));
        };
        check_label_where(&where_)?;
        let st = state(ctx)?;
        let found = {
            let d = st.read();
            match d.owned_label(&me.id, &id) {
                Some(label) => label_matches(&d, label, &where_)?,
                None => false,
            }
        };
        if !found {
            return Err(no_access("label", &id));
        }
        let updated = st
            .update_label(&me.id, &id, data.into(), label_settings(ctx)?)
            .map_err(store_error)?;
        Ok(Some(Label(updated)))
    }

    /// Deletes labels of the caller's projects, all or nothing; returns their ids. Only
    /// `PREDICTION` and `INFERENCE` labels can be deleted, as on Kili. Nothing is pushed.
    async fn delete_labels(&self, ctx: &Context<'_>, ids: Vec<ID>) -> Result<Vec<ID>> {
        let me = viewer(ctx)?;
        check_rows("ids", ids.len())?;
        let ids: Vec<String> = ids.into_iter().map(|i| i.0).collect();
        let deleted = state(ctx)?
            .delete_labels(&me.id, &ids)
            .map_err(store_error)?;
        Ok(deleted.into_iter().map(ID).collect())
    }
}

/// Checks that every label's asset is one of the caller's and matches `where`.
fn check_assets_match(ctx: &Context<'_>, rows: &[NewLabel], w: &AssetWhere) -> Result<()> {
    let me = viewer(ctx)?;
    check_asset_where(w, "AssetWhere")?;
    let d = state(ctx)?.read();
    for row in rows {
        match d.owned_asset(&me.id, &row.asset_id) {
            Some(a) if asset_matches(&d, a, w)? => {}
            Some(_) => {
                return Err(bad_input(format!(
                    "asset {} does not match the mutation's where",
                    row.asset_id
                )));
            }
            None => return Err(no_access("asset", &row.asset_id)),
        }
    }
    Ok(())
}
