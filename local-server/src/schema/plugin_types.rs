//! The GraphQL types of webhooks (Kili's plugins): the inputs of their mutations and of
//! `getPluginLogs`, the `DateTime` scalar it takes, and the `Plugin` and `PluginLog` objects.

use async_graphql::{
    ID, InputObject, InputValueError, InputValueResult, Object, Scalar, ScalarType, SimpleObject,
    Value,
};

use super::objects::ORGANIZATION_ID;
use crate::store::{HandlerType, PluginLogRec, PluginRec};
use crate::time::{format_ms, parse_iso};

/// An instant, as an ISO 8601 string (`2024-05-01T12:34:56.789Z`, an offset, or a date).
#[derive(Clone, Copy, Debug)]
pub(crate) struct DateTime(pub(crate) i64);

#[Scalar(name = "DateTime")]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => parse_iso(s)
                .map(DateTime)
                .ok_or_else(|| InputValueError::custom(format!("not an ISO 8601 date: {s:?}"))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(format_ms(self.0))
    }
}

/// A webhook to register or update (`createWebhook`, `updateWebhook`).
#[derive(InputObject, Clone, Debug)]
#[graphql(name = "WebhookData")]
pub(crate) struct WebhookData {
    /// Unique in the organization.
    pub(crate) plugin_name: String,
    /// A plain `http://` URL the server may POST to (see its allow-list).
    pub(crate) webhook_url: String,
    /// Sent as the `Authorization` header of every POST.
    pub(crate) header: Option<String>,
    /// The events to POST (`onSubmit`, `onReview`); both when left out.
    pub(crate) handler_types: Option<Vec<HandlerType>>,
    /// Not emulated: refused unless empty.
    pub(crate) event_matcher: Option<Vec<String>>,
}

/// A webhook and a project (`activatePluginOnProject`, `deactivatePluginOnProject`).
#[derive(InputObject, Clone, Debug)]
#[graphql(name = "PluginProjectWhere")]
pub(crate) struct PluginProjectWhere {
    pub(crate) plugin_name: String,
    pub(crate) project_id: ID,
}

/// A webhook by name (`deletePlugin`).
#[derive(InputObject, Clone, Debug)]
#[graphql(name = "PluginNameWhere")]
pub(crate) struct PluginNameWhere {
    pub(crate) plugin_name: String,
}

/// Webhooks to count (`countPlugins`): by id or name, all when both are left out.
#[derive(InputObject, Clone, Debug, Default)]
#[graphql(name = "PluginWhere")]
pub(crate) struct PluginWhere {
    pub(crate) id: Option<ID>,
    pub(crate) name: Option<String>,
}

/// Which log lines to read (`getPluginLogs`): a page, from `createdAt` on.
#[derive(InputObject, Clone, Debug)]
#[graphql(name = "PluginLogsData")]
pub(crate) struct PluginLogsData {
    pub(crate) project_id: ID,
    pub(crate) plugin_name: String,
    /// Lines at or after this instant; all when left out.
    pub(crate) created_at: Option<DateTime>,
    /// At most this many lines (100 when left out).
    pub(crate) limit: Option<i32>,
    pub(crate) skip: Option<i32>,
}

/// A webhook of the organization.
pub(crate) struct Plugin(pub(crate) PluginRec);

#[Object(name = "Plugin")]
impl Plugin {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The projects it is activated on.
    async fn project_ids(&self) -> Vec<ID> {
        self.0.project_ids.iter().cloned().map(ID).collect()
    }
    async fn created_at(&self) -> String {
        format_ms(self.0.created_at)
    }
    async fn updated_at(&self) -> String {
        format_ms(self.0.updated_at)
    }
    async fn organization_id(&self) -> &str {
        ORGANIZATION_ID
    }
    /// Where it POSTs (its header is not readable).
    async fn webhook_url(&self) -> &str {
        &self.0.webhook_url
    }
    async fn handler_types(&self) -> &[HandlerType] {
        &self.0.handler_types
    }
    /// `true`: every plugin of the local server is a webhook.
    async fn is_webhook(&self) -> bool {
        true
    }
}

/// The asset and label a log line is about.
#[derive(SimpleObject)]
#[graphql(name = "PluginLogMetadata")]
pub(crate) struct PluginLogMetadata {
    asset_id: ID,
    label_id: ID,
}

/// One line of a webhook's log on a project: an attempt to deliver an event, or a dropped
/// delivery.
pub(crate) struct PluginLog {
    pub(crate) rec: PluginLogRec,
    pub(crate) plugin_name: String,
}

#[Object(name = "PluginLog")]
impl PluginLog {
    /// What happened: the URL, the answer or the failure, and what comes next.
    async fn content(&self) -> &str {
        &self.rec.content
    }
    async fn created_at(&self) -> String {
        format_ms(self.rec.created_at)
    }
    /// `INFO` (delivered) or `ERROR` (failed, given up or dropped).
    async fn log_type(&self) -> &str {
        &self.rec.log_type
    }
    async fn metadata(&self) -> PluginLogMetadata {
        PluginLogMetadata {
            asset_id: ID(self.rec.asset_id.clone()),
            label_id: ID(self.rec.label_id.clone()),
        }
    }
    async fn plugin_name(&self) -> &str {
        &self.plugin_name
    }
    async fn project_id(&self) -> ID {
        ID(self.rec.project_id.clone())
    }
    /// The delivery's `runId` (the same for every attempt at it).
    async fn run_id(&self) -> ID {
        ID(self.rec.run_id.clone())
    }
}
