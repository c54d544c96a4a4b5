//! The label subscription's document and the label fields it selects, which the catch-up's
//! label query selects too.

use crate::client::fields::Selection;
use crate::error::Result;

/// The label fields that label events carry: the SDK's subscription fields, plus `createdAt`
/// for the catch-up. The subscription document and the catch-up read both select these.
pub(crate) const LABEL_EVENT_FIELDS: &[&str] = &[
    "id",
    "author.email",
    "labelOf.id",
    "labelType",
    "jsonResponse",
    "createdAt",
];

/// Returns the label subscription's document: the SDK's, with [`LABEL_EVENT_FIELDS`].
pub(crate) fn label_subscription_document() -> Result<String> {
    let selection = Selection::parse(LABEL_EVENT_FIELDS)?.render();
    Ok(format!(
        "subscription($projectID: ID!) {{\n  data: labelCreatedOrUpdated(projectID: $projectID) {{\n    {selection}\n  }}\n}}\n"
    ))
}
