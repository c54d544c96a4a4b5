//! [`Plugin`] and [`PluginLog`]: Kili's plugins (webhooks among them) and the lines of their
//! logs, as `listPlugins` and `getPluginLogs` return them. Decoded by serde's derive through
//! `decode`, read through methods named as the other models'.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::Result;
use crate::models::PluginLogType;
use crate::models::decode;

/// A plugin of the organization (a webhook is one), as `listPlugins` returns it.
///
/// A plugin is named in every operation by its name, which is always read; the other fields
/// are filled when selected.
///
/// # Examples
///
/// ```
/// let p = kili::Plugin::from_json(&serde_json::json!({
///     "name": "my-webhook", "id": "clp1", "projectIds": ["project-1"], "isWebhook": true
/// }))?;
/// assert_eq!(p.name(), "my-webhook");
/// assert_eq!(p.project_ids(), Some(&["project-1".to_owned()][..]));
/// assert_eq!(p.extra()["isWebhook"], true);
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Plugin {
    name: String,
    #[serde(default, deserialize_with = "decode::text")]
    id: Option<String>,
    #[serde(default, deserialize_with = "decode::list")]
    project_ids: Option<Vec<String>>,
    #[serde(default, deserialize_with = "decode::text")]
    created_at: Option<String>,
    #[serde(default, deserialize_with = "decode::text")]
    updated_at: Option<String>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl Plugin {
    /// Decodes a plugin from a Kili JSON object (an item of `listPlugins`).
    ///
    /// # Errors
    ///
    /// [`Error::Decode`](crate::Error::Decode) if `value` is not an object with a string
    /// `name`.
    pub fn from_json(value: &Value) -> Result<Plugin> {
        decode::from_json(value, "a plugin")
    }

    /// Returns the plugin's name: what the operations on plugins take to name it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Returns its id, if selected.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// Returns the ids of the projects it is activated on, if selected.
    pub fn project_ids(&self) -> Option<&[String]> {
        self.project_ids.as_deref()
    }

    /// Returns when it was created (ISO 8601), as Kili sends it, if selected.
    pub fn created_at(&self) -> Option<&str> {
        self.created_at.as_deref()
    }

    /// Returns when it was last changed (ISO 8601), as Kili sends it, if selected.
    pub fn updated_at(&self) -> Option<&str> {
        self.updated_at.as_deref()
    }

    /// Returns the selected fields this type does not model, as received.
    pub fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }
}

/// What a log line is about (`metadata { assetId labelId }`).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogMetadata {
    #[serde(default, deserialize_with = "decode::text")]
    asset_id: Option<String>,
    #[serde(default, deserialize_with = "decode::text")]
    label_id: Option<String>,
}

/// One line of a plugin's log on a project, as `getPluginLogs` returns it (for a webhook: an
/// attempt to deliver an event, or a delivery dropped).
///
/// # Examples
///
/// ```
/// use kili::{PluginLog, PluginLogType};
/// let line = PluginLog::from_json(&serde_json::json!({
///     "content": "delivered", "createdAt": "2026-01-01T00:00:00.000Z", "logType": "INFO",
///     "metadata": {"assetId": "a1", "labelId": "l1"}, "pluginName": "my-webhook",
///     "projectId": "p1", "runId": "r1"
/// }))?;
/// assert_eq!(line.log_type(), Some(PluginLogType::Info));
/// assert_eq!(line.label_id(), Some("l1"));
/// assert_eq!(line.run_id(), Some("r1"));
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PluginLog {
    #[serde(default, deserialize_with = "decode::text")]
    content: Option<String>,
    #[serde(default, deserialize_with = "decode::text")]
    created_at: Option<String>,
    #[serde(default, deserialize_with = "decode::parsed")]
    log_type: Option<PluginLogType>,
    #[serde(default)]
    metadata: Option<LogMetadata>,
    #[serde(default, deserialize_with = "decode::text")]
    plugin_name: Option<String>,
    #[serde(default, deserialize_with = "decode::text")]
    project_id: Option<String>,
    #[serde(default, deserialize_with = "decode::text")]
    run_id: Option<String>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl PluginLog {
    /// Decodes a log line from a Kili JSON object (an item of `getPluginLogs`).
    ///
    /// # Errors
    ///
    /// [`Error::Decode`](crate::Error::Decode) if `value` is not an object, or its `metadata`
    /// is neither an object nor null.
    pub fn from_json(value: &Value) -> Result<PluginLog> {
        decode::from_json(value, "a plugin log line")
    }

    /// Returns what the line says.
    pub fn content(&self) -> Option<&str> {
        self.content.as_deref()
    }

    /// Returns when it was written (ISO 8601), as Kili sends it.
    pub fn created_at(&self) -> Option<&str> {
        self.created_at.as_deref()
    }

    /// Returns its level.
    pub fn log_type(&self) -> Option<PluginLogType> {
        self.log_type.clone()
    }

    /// Returns the id of the asset whose event the line is about.
    pub fn asset_id(&self) -> Option<&str> {
        self.metadata.as_ref()?.asset_id.as_deref()
    }

    /// Returns the id of the label whose event the line is about.
    pub fn label_id(&self) -> Option<&str> {
        self.metadata.as_ref()?.label_id.as_deref()
    }

    /// Returns the plugin's name.
    pub fn plugin_name(&self) -> Option<&str> {
        self.plugin_name.as_deref()
    }

    /// Returns the project's id.
    pub fn project_id(&self) -> Option<&str> {
        self.project_id.as_deref()
    }

    /// Returns the id of the run (for a webhook: the delivery, the same for every attempt).
    pub fn run_id(&self) -> Option<&str> {
        self.run_id.as_deref()
    }

    /// Returns the fields this type does not model, as received.
    pub fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plugins_need_a_name_and_take_the_rest_loosely() {
        assert!(Plugin::from_json(&json!({"id": "p"})).is_err());
        let p =
            Plugin::from_json(&json!({"name": "n", "projectIds": null, "createdAt": 3})).unwrap();
        assert_eq!(p.project_ids(), Some(&[][..]), "selected, none");
        assert_eq!(p.created_at(), None, "not a string");
        assert_eq!(p.id(), None);
    }

    #[test]
    fn log_lines_decode_with_or_without_metadata() {
        let l = PluginLog::from_json(&json!({"logType": "DEBUG", "metadata": null})).unwrap();
        assert_eq!(l.log_type(), Some(PluginLogType::Other("DEBUG".into())));
        assert_eq!(l.asset_id(), None);
        assert!(PluginLog::from_json(&json!({"metadata": 3})).is_err());
        assert!(PluginLog::from_json(&json!([1])).is_err());
    }
}
