//! GraphQL input objects and the `PageSize` scalar, named as Kili's.
//!
//! Every field any version of the official SDK may send is declared (async-graphql rejects
//! unknown input fields), even when the local server gives it no meaning; the crate's
//! `README.md` lists the filters honoured.

use async_graphql::{
    ID, InputObject, InputValueError, InputValueResult, Json, Scalar, ScalarType, Value,
};

use crate::store::{AssetStatus, InputType, IssueStatus, IssueType, LabelType};

/// The largest page a query may ask for.
pub(crate) const MAX_PAGE_SIZE: i32 = 500;

/// A page size: an `Int` from 0 to 500.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PageSize(pub(crate) i32);

#[Scalar(name = "PageSize")]
impl ScalarType for PageSize {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::Number(n) => match n.as_i64() {
                Some(x) if (0..=i64::from(MAX_PAGE_SIZE)).contains(&x) => {
                    Ok(PageSize(i32::try_from(x).unwrap_or(MAX_PAGE_SIZE)))
                }
                _ => Err(InputValueError::custom(format!(
                    "PageSize must be an Int from 0 to {MAX_PAGE_SIZE}"
                ))),
            },
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::Number(self.0.into())
    }
}

type Strings = Option<Vec<String>>;

/// An organization: by id, or by a member (`user: {email}`, as the SDK asks before uploads).
#[derive(InputObject, Default, Clone, Debug)]
#[graphql(name = "OrganizationWhere")]
pub(crate) struct OrganizationWhere {
    pub(crate) id: Option<ID>,
    pub(crate) user: Option<Box<UserWhere>>,
}

#[derive(InputObject, Default, Clone, Debug)]
#[graphql(name = "UserWhere")]
pub(crate) struct UserWhere {
    pub(crate) activated: Option<bool>,
    pub(crate) api_key: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) id: Option<ID>,
    pub(crate) id_in: Option<Vec<ID>>,
    pub(crate) organization: Option<OrganizationWhere>,
}

#[derive(InputObject, Default, Clone, Debug)]
#[graphql(name = "ApiKeyWhere")]
pub(crate) struct ApiKeyWhere {
    pub(crate) id: Option<ID>,
    pub(crate) key: Option<String>,
    pub(crate) user: Option<UserWhere>,
}

#[derive(InputObject, Default, Clone, Debug)]
#[graphql(name = "ProjectWhere")]
pub(crate) struct ProjectWhere {
    pub(crate) id: Option<ID>,
    pub(crate) id_in: Option<Vec<ID>>,
    pub(crate) search_query: Option<String>,
    pub(crate) should_relaunch_kpi_computation: Option<bool>,
    pub(crate) starred: Option<bool>,
    pub(crate) updated_at_gte: Option<String>,
    pub(crate) updated_at_lte: Option<String>,
    pub(crate) created_at_gte: Option<String>,
    pub(crate) created_at_lte: Option<String>,
    pub(crate) organization_id: Option<String>,
    pub(crate) tag_ids: Option<Vec<ID>>,
    pub(crate) deleted: Option<bool>,
    pub(crate) archived: Option<bool>,
}

/// The `label` part of an `AssetWhere`: the asset must have a label matching all of these.
#[derive(InputObject, Default, Clone, Debug)]
#[graphql(name = "AssetLabelWhere")]
pub(crate) struct AssetLabelWhere {
    pub(crate) type_in: Option<Vec<LabelType>>,
    pub(crate) author_in: Strings,
    pub(crate) consensus_mark_gte: Option<f64>,
    pub(crate) consensus_mark_lte: Option<f64>,
    pub(crate) created_at: Option<String>,
    pub(crate) created_at_gte: Option<String>,
    pub(crate) created_at_lte: Option<String>,
    pub(crate) honeypot_mark_gte: Option<f64>,
    pub(crate) honeypot_mark_lte: Option<f64>,
    pub(crate) search: Option<String>,
    pub(crate) labeler_in: Strings,
    pub(crate) labeler_not_in: Strings,
    pub(crate) reviewer_in: Strings,
    pub(crate) reviewer_not_in: Strings,
    pub(crate) json_response_contains: Strings,
}

/// Issues: of a project, of an asset (or one of `assetIn`), of a type, in a status. Inside an
/// `AssetWhere` (`issue`), only `type` and `status` apply: the asset must have such an issue.
#[derive(InputObject, Default, Clone, Debug)]
#[graphql(name = "IssueWhere")]
pub(crate) struct IssueWhere {
    pub(crate) id: Option<ID>,
    pub(crate) project: Option<ProjectWhere>,
    pub(crate) asset: Option<Box<AssetWhere>>,
    pub(crate) asset_in: Option<Vec<ID>>,
    #[graphql(name = "type")]
    pub(crate) type_: Option<IssueType>,
    pub(crate) status: Option<IssueStatus>,
}

#[derive(InputObject, Clone, Debug)]
#[graphql(name = "StepIdAndStatus")]
pub(crate) struct StepIdAndStatus {
    pub(crate) step_id: Option<ID>,
    pub(crate) status: Option<String>,
}

#[derive(InputObject, Default, Clone, Debug)]
#[graphql(name = "DatasetAssetWhere")]
pub(crate) struct DatasetAssetWhere {
    pub(crate) id: Option<ID>,
}

#[derive(InputObject, Default, Clone, Debug)]
#[graphql(name = "AssetWhere")]
pub(crate) struct AssetWhere {
    pub(crate) id: Option<ID>,
    pub(crate) project: Option<ProjectWhere>,
    pub(crate) external_id_strictly_in: Strings,
    pub(crate) external_id_in: Strings,
    pub(crate) status_in: Option<Vec<AssetStatus>>,
    pub(crate) consensus_mark_gte: Option<f64>,
    pub(crate) consensus_mark_lte: Option<f64>,
    pub(crate) honeypot_mark_gte: Option<f64>,
    pub(crate) honeypot_mark_lte: Option<f64>,
    pub(crate) id_in: Option<Vec<ID>>,
    pub(crate) id_not_in: Option<Vec<ID>>,
    pub(crate) metadata: Option<Json<serde_json::Value>>,
    pub(crate) assignee_in: Strings,
    pub(crate) assignee_not_in: Strings,
    pub(crate) label: Option<AssetLabelWhere>,
    pub(crate) skipped: Option<bool>,
    pub(crate) updated_at_gte: Option<String>,
    pub(crate) updated_at_lte: Option<String>,
    pub(crate) created_at_gte: Option<String>,
    pub(crate) created_at_lte: Option<String>,
    pub(crate) inference_mark_gte: Option<f64>,
    pub(crate) inference_mark_lte: Option<f64>,
    pub(crate) issue: Option<IssueWhere>,
    pub(crate) step_id_in: Option<Vec<ID>>,
    pub(crate) step_id_not_in: Option<Vec<ID>>,
    pub(crate) step_status_in: Strings,
    pub(crate) step_status_not_in: Strings,
    pub(crate) step_id_and_status_in: Option<Vec<StepIdAndStatus>>,
    pub(crate) step_id_and_status_not_in: Option<Vec<StepIdAndStatus>>,
    pub(crate) group_name_in: Strings,
    pub(crate) group_name_not_in: Strings,
    pub(crate) dataset_asset: Option<DatasetAssetWhere>,
}

#[derive(InputObject, Default, Clone, Debug)]
#[graphql(name = "LabelWhere")]
pub(crate) struct LabelWhere {
    pub(crate) asset: Option<AssetWhere>,
    pub(crate) author_in: Strings,
    pub(crate) consensus_mark_gte: Option<f64>,
    pub(crate) consensus_mark_lte: Option<f64>,
    pub(crate) created_at: Option<String>,
    pub(crate) created_at_gte: Option<String>,
    pub(crate) created_at_lte: Option<String>,
    pub(crate) honeypot_mark_gte: Option<f64>,
    pub(crate) honeypot_mark_lte: Option<f64>,
    pub(crate) id: Option<ID>,
    pub(crate) id_in: Option<Vec<ID>>,
    pub(crate) labeler_in: Strings,
    pub(crate) project: Option<ProjectWhere>,
    pub(crate) reviewer_in: Strings,
    pub(crate) search: Option<String>,
    pub(crate) type_in: Option<Vec<LabelType>>,
    pub(crate) user: Option<UserWhere>,
    pub(crate) json_response_contains: Strings,
    pub(crate) skipped: Option<bool>,
}

#[derive(InputObject, Clone, Debug)]
#[graphql(name = "CreateProjectData")]
pub(crate) struct CreateProjectData {
    pub(crate) title: String,
    pub(crate) description: Option<String>,
    pub(crate) input_type: Option<InputType>,
    pub(crate) json_interface: Option<String>,
    pub(crate) project_type: Option<String>,
    pub(crate) from_demo_project: Option<String>,
    pub(crate) compliance_tags: Strings,
    pub(crate) pixel_labeling: Option<bool>,
    pub(crate) author: Option<String>,
}

/// Defines `$main` and `$alias`, two GraphQL input objects with the same fields under their own
/// names (and docs, the schema's descriptions), and the conversion from `$alias` to `$main`, so
/// that one mutation serves both.
macro_rules! twin_inputs {
    (
        $(#[$main_meta:meta])* $main:ident,
        $(#[$alias_meta:meta])* $alias:ident,
        { $( $(#[$field_meta:meta])* $field:ident: $ty:ty, )+ }
    ) => {
        #[derive(InputObject, Clone, Debug, Default)]
        $(#[$main_meta])*
        pub(crate) struct $main {
            $( $(#[$field_meta])* pub(crate) $field: $ty, )+
        }

        #[derive(InputObject, Clone, Debug, Default)]
        $(#[$alias_meta])*
        pub(crate) struct $alias {
            $( $(#[$field_meta])* pub(crate) $field: $ty, )+
        }

        impl From<$alias> for $main {
            fn from(d: $alias) -> Self {
                $main { $( $field: d.$field, )+ }
            }
        }
    };
}

twin_inputs! {
    /// Parallel arrays, one entry per asset (`appendManyAssets`).
    #[graphql(name = "AppendManyAssetsData")]
    AppendManyAssetsData,
    /// Parallel arrays, one entry per asset (the older `appendManyToDataset`).
    #[graphql(name = "AppendManyToDatasetData")]
    AppendManyToDatasetData,
    {
        content_array: Strings,
        #[graphql(name = "externalIDArray")]
        external_id_array: Strings,
        #[graphql(name = "idArray")]
        id_array: Option<Vec<ID>>,
        is_honeypot_array: Option<Vec<bool>>,
        json_content_array: Strings,
        json_metadata_array: Strings,
        status_array: Option<Vec<AssetStatus>>,
        upload_type: Option<String>,
    }
}

/// One label of `appendManyLabels`.
#[derive(InputObject, Clone, Debug)]
#[graphql(name = "AppendLabelData")]
pub(crate) struct AppendLabelData {
    #[graphql(name = "assetID")]
    pub(crate) asset_id: ID,
    #[graphql(name = "authorID")]
    pub(crate) author_id: Option<ID>,
    pub(crate) client_version: Option<i32>,
    pub(crate) json_response: String,
    pub(crate) model_name: Option<String>,
    pub(crate) referenced_label_id: Option<ID>,
    pub(crate) seconds_to_label: Option<f64>,
    pub(crate) skipped: Option<bool>,
}

#[derive(InputObject, Clone, Debug)]
#[graphql(name = "AppendManyLabelsData")]
pub(crate) struct AppendManyLabelsData {
    pub(crate) label_type: LabelType,
    pub(crate) labels_data: Vec<AppendLabelData>,
    pub(crate) overwrite: Option<bool>,
    pub(crate) step_id: Option<ID>,
    pub(crate) step_name: Option<String>,
}

#[derive(InputObject, Clone, Debug)]
#[graphql(name = "AppendToLabelsData")]
pub(crate) struct AppendToLabelsData {
    #[graphql(name = "authorID")]
    pub(crate) author_id: Option<ID>,
    pub(crate) client_version: Option<i32>,
    pub(crate) json_response: String,
    pub(crate) label_type: Option<LabelType>,
    pub(crate) model_name: Option<String>,
    pub(crate) seconds_to_label: Option<f64>,
    pub(crate) skipped: Option<bool>,
}

/// Changes to one label (`updatePropertiesInLabel`); a field left out or null is not changed.
#[derive(InputObject, Clone, Debug, Default)]
#[graphql(name = "LabelData")]
pub(crate) struct LabelData {
    pub(crate) is_sent_back_to_queue: Option<bool>,
    /// The new annotation, as a JSON string.
    pub(crate) json_response: Option<String>,
    pub(crate) model_name: Option<String>,
    pub(crate) seconds_to_label: Option<f64>,
}

impl From<LabelData> for crate::store::LabelUpdate {
    fn from(d: LabelData) -> Self {
        crate::store::LabelUpdate {
            is_sent_back_to_queue: d.is_sent_back_to_queue,
            json_response: d.json_response,
            model_name: d.model_name,
            seconds_to_label: d.seconds_to_label,
        }
    }
}

/// Width and height of an asset (`AssetData.resolution`).
#[derive(InputObject, Clone, Copy, Debug)]
#[graphql(name = "ResolutionInput")]
pub(crate) struct ResolutionInput {
    pub(crate) width: i32,
    pub(crate) height: i32,
}

/// One page of a document (`AssetData.pageResolutions`).
#[derive(InputObject, Clone, Copy, Debug)]
#[graphql(name = "PageResolutionInput")]
pub(crate) struct PageResolutionInput {
    pub(crate) page_number: i32,
    pub(crate) width: i32,
    pub(crate) height: i32,
    pub(crate) rotation: Option<i32>,
}

/// Changes to one asset (`updatePropertiesInAssets`); a property left out or null is not
/// changed. The fields the SDK's `update_properties_in_assets` sends.
#[derive(InputObject, Clone, Debug, Default)]
#[graphql(name = "AssetData")]
pub(crate) struct AssetData {
    pub(crate) priority: Option<i32>,
    /// JSON text.
    pub(crate) json_metadata: Option<String>,
    pub(crate) consensus_mark: Option<f64>,
    pub(crate) honeypot_mark: Option<f64>,
    /// Emails (or ids) of the users who may label the asset.
    pub(crate) to_be_labeled_by: Strings,
    pub(crate) should_reset_to_be_labeled_by: Option<bool>,
    pub(crate) content: Option<String>,
    pub(crate) json_content: Option<String>,
    pub(crate) is_used_for_consensus: Option<bool>,
    pub(crate) is_honeypot: Option<bool>,
    pub(crate) resolution: Option<ResolutionInput>,
    pub(crate) page_resolutions: Option<Vec<PageResolutionInput>>,
    pub(crate) external_id: Option<String>,
    /// Deprecated by Kili, which ignores it: refused here rather than ignored.
    pub(crate) status: Option<AssetStatus>,
}

impl TryFrom<AssetData> for crate::store::AssetUpdate {
    type Error = String;

    fn try_from(d: AssetData) -> Result<Self, String> {
        if d.status.is_some() {
            return Err("status cannot be set: it follows the asset's labels".into());
        }
        Ok(crate::store::AssetUpdate {
            priority: d.priority,
            json_metadata: d.json_metadata,
            consensus_mark: d.consensus_mark,
            honeypot_mark: d.honeypot_mark,
            to_be_labeled_by: d.to_be_labeled_by,
            should_reset_to_be_labeled_by: d.should_reset_to_be_labeled_by,
            content: d.content,
            json_content: d.json_content,
            is_used_for_consensus: d.is_used_for_consensus,
            is_honeypot: d.is_honeypot,
            resolution: d.resolution.map(|r| crate::store::Resolution {
                width: r.width,
                height: r.height,
            }),
            page_resolutions: d.page_resolutions.map(|pages| {
                pages
                    .into_iter()
                    .map(|p| crate::store::PageResolution {
                        page_number: p.page_number,
                        width: p.width,
                        height: p.height,
                        rotation: p.rotation.unwrap_or(0),
                    })
                    .collect()
            }),
            external_id: d.external_id,
        })
    }
}
