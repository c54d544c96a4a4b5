//! The body of a webhook POST, as Kili's SDK documents it: `eventType`, `logPayload` (`runId`,
//! `projectId`) and `payload` (`label`, `asset_id`). The label carries the technical fields
//! Kili's plugin documentation lists, its `jsonResponse` parsed (as plugins receive it) and its
//! `search` counts.

use serde_json::{Value, json};

use super::hooks::HandlerType;
use super::kinds::LabelType;
use super::records::LabelRec;
use super::search::label_search;
use crate::time::format_ms;

/// Returns the JSON body of the delivery `run_id` of `event` for a label just written.
pub(super) fn body(event: HandlerType, run_id: &str, label: &LabelRec) -> String {
    let json_response: Value = serde_json::from_str(&label.json_response).unwrap_or(Value::Null);
    let search = label_search(&label.json_response);
    let label_type = label.label_type;
    let body = json!({
        "eventType": event.wire_name(),
        "logPayload": {"runId": run_id, "projectId": label.project_id},
        "payload": {
            "label": {
                "id": label.id,
                "labelType": label_type.wire_name(),
                "jsonResponse": json_response,
                "numberOfAnnotations": search["numberOfAnnotations"],
                "search": search,
                "authorId": label.author_id,
                "assetId": label.asset_id,
                "projectId": label.project_id,
                "modelName": label.model_name,
                "secondsToLabel": label.seconds_to_label,
                "totalSecondsToLabel": label.seconds_to_label,
                "clientVersion": label.client_version,
                "isSentBackToQueue": label.is_sent_back_to_queue,
                "skipped": label.skipped,
                "createdAt": format_ms(label.created_at),
                "updatedAt": format_ms(label.updated_at),
                "version": label.version,
                "isLatestLabelForUser": true,
                "isLatestDefaultLabelForUser": label_type == LabelType::Default,
                "isLatestReviewLabelForUser": label_type == LabelType::Review,
                "readPermissionsFromProject": true,
            },
            "asset_id": label.asset_id,
        },
    });
    body.to_string()
}
