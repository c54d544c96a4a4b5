//! The kinds a record carries: a label's type, a project's input type, an asset's status.
//!
//! Named and spelled as Kili's, on the wire and in the data file; they derive GraphQL's `Enum`
//! so that the schema serves them as they are (their docs are the schema's descriptions).

use async_graphql::Enum;
use serde::{Deserialize, Serialize};

/// The kind of a label (`LabelType`).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(name = "LabelType")]
pub(crate) enum LabelType {
    Autosave,
    Default,
    Inference,
    Prediction,
    Review,
}

impl LabelType {
    /// Returns the name on the wire (`DEFAULT`, ...), for messages.
    pub(crate) fn wire_name(self) -> &'static str {
        match self {
            LabelType::Autosave => "AUTOSAVE",
            LabelType::Default => "DEFAULT",
            LabelType::Inference => "INFERENCE",
            LabelType::Prediction => "PREDICTION",
            LabelType::Review => "REVIEW",
        }
    }

    /// Returns whether `deleteLabels` may delete a label of this type (as on Kili: only
    /// `PREDICTION` and `INFERENCE`).
    pub(crate) fn is_deletable(self) -> bool {
        matches!(self, LabelType::Prediction | LabelType::Inference)
    }
}

/// The kind of data a project labels (`InputType`), union of the values the SDK has known.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
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
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(name = "Status")]
pub(crate) enum AssetStatus {
    Todo,
    Ongoing,
    Labeled,
    Reviewed,
    ToReview,
}
