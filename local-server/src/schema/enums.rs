//! GraphQL enums, named and spelled as Kili's.

use async_graphql::Enum;

/// The kind of a label (`LabelType`).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "LabelType")]
pub(crate) enum LabelType {
    Autosave,
    Default,
    Inference,
    Prediction,
    Review,
}

/// The kind of data a project labels (`InputType`), union of the values the SDK has known.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "InputType")]
pub(crate) enum InputType {
    Audio,
    Frame,
    Geospatial,
    Image,
    LlmInstrFollowing,
    LlmRlhf,
    LlmStatic,
    Na,
    Pdf,
    Text,
    TimeSeries,
    Url,
    Video,
    VideoLegacy,
}

/// The workflow status of an asset (`Status`).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "Status")]
pub(crate) enum AssetStatus {
    Todo,
    Ongoing,
    Labeled,
    Reviewed,
    ToReview,
}
