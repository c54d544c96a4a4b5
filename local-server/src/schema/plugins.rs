//! Webhooks (Kili's plugins of the webhook kind): the mutations that register, update,
//! activate, deactivate and delete them, and the queries that list them and read their logs.
//! Webhooks belong to the organization (every user of the local server); activating one needs
//! access to the project. A URL the server may not POST to is refused here, with the rule.

use async_graphql::{Context, Object, Result};

use super::context::{state, viewer};
use super::errors::{bad_input, no_access, store_error, unsupported};
use super::plugin_types::{
    Plugin, PluginLog, PluginLogsData, PluginNameWhere, PluginProjectWhere, PluginWhere,
    WebhookData,
};
use crate::store::{HandlerType, NewWebhook, StoreError};
use crate::webhook_targets::WebhookTargets;

/// The webhook mutations of Kili's `Mutation` type.
#[derive(Default)]
pub(crate) struct PluginMutation;

#[Object]
impl PluginMutation {
    /// Registers a webhook: events of the projects it is activated on are POSTed to its URL,
    /// with its header as `Authorization`. Returns a message.
    async fn create_webhook(&self, ctx: &Context<'_>, data: WebhookData) -> Result<String> {
        viewer(ctx)?;
        let new = checked(ctx, data)?;
        let rec = state(ctx)?.create_webhook(new).map_err(store_error)?;
        Ok(done(&rec.name, "created"))
    }

    /// Changes the URL, header and events of the webhook `pluginName`; deliveries still pending
    /// go to the new URL with the new header. Returns a message.
    async fn update_webhook(&self, ctx: &Context<'_>, data: WebhookData) -> Result<String> {
        viewer(ctx)?;
        let new = checked(ctx, data)?;
        let rec = state(ctx)?.update_webhook(new).map_err(store_error)?;
        Ok(done(&rec.name, "updated"))
    }

    /// Activates a webhook on a project (again: no change, no error). Returns a message.
    async fn activate_plugin_on_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: PluginProjectWhere,
    ) -> Result<String> {
        let me = viewer(ctx)?;
        let rec = state(ctx)?
            .activate_webhook(&me.id, &where_.plugin_name, &where_.project_id)
            .map_err(store_error)?;
        Ok(done(&rec.name, "activated"))
    }

    /// Deactivates a webhook on a project (no error if it was not active): no new event of the
    /// project is POSTed, and its deliveries still pending are dropped. Returns a message.
    async fn deactivate_plugin_on_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: PluginProjectWhere,
    ) -> Result<String> {
        let me = viewer(ctx)?;
        let rec = state(ctx)?
            .deactivate_webhook(&me.id, &where_.plugin_name, &where_.project_id)
            .map_err(store_error)?;
        Ok(done(&rec.name, "deactivated"))
    }

    /// Deletes a webhook with its activations, pending deliveries and logs. Returns a message.
    async fn delete_plugin(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: PluginNameWhere,
    ) -> Result<String> {
        viewer(ctx)?;
        let rec = state(ctx)?
            .delete_webhook(&where_.plugin_name)
            .map_err(store_error)?;
        Ok(done(&rec.name, "deleted"))
    }
}

/// Returns Kili's answer to a plugin mutation: "Plugin with name NAME successfully VERB".
fn done(name: &str, verb: &str) -> String {
    format!("Plugin with name {name} successfully {verb}")
}

/// Checks a webhook's settings: a name, events the server emulates, no event matcher, a header
/// that fits in one HTTP header line, and a URL the server may POST to.
fn checked(ctx: &Context<'_>, data: WebhookData) -> Result<NewWebhook> {
    if data.plugin_name.trim().is_empty() {
        return Err(bad_input("pluginName must not be empty"));
    }
    if data.event_matcher.as_ref().is_some_and(|m| !m.is_empty()) {
        return Err(unsupported(
            "WebhookData.eventMatcher",
            "its webhooks receive handler types (onSubmit, onReview) only",
        ));
    }
    let mut handler_types = Vec::new();
    for h in data
        .handler_types
        .unwrap_or_else(|| vec![HandlerType::Submit, HandlerType::Review])
    {
        if !matches!(h, HandlerType::Submit | HandlerType::Review) {
            return Err(unsupported(
                "WebhookData.handlerTypes",
                &format!("it emits onSubmit and onReview only, not {}", h.wire_name()),
            ));
        }
        if !handler_types.contains(&h) {
            handler_types.push(h);
        }
    }
    if let Some(h) = &data.header
        && h.bytes().any(|b| b.is_ascii_control() && b != b'\t')
    {
        return Err(bad_input(
            "header must not contain line breaks or control characters",
        ));
    }
    ctx.data::<WebhookTargets>()?
        .check(&data.webhook_url)
        .map_err(target_refused)?;
    Ok(NewWebhook {
        name: data.plugin_name,
        webhook_url: data.webhook_url,
        header: data.header,
        handler_types,
    })
}

/// Turns a refused URL into a GraphQL error: `FORBIDDEN` for a target outside the allow-list,
/// `BAD_INPUT` for a URL the server cannot use.
fn target_refused(message: String) -> async_graphql::Error {
    let code = if message.starts_with("[webhookTargetNotAllowed]") {
        "FORBIDDEN"
    } else {
        "BAD_INPUT"
    };
    store_error(StoreError::new(code, message))
}

/// The webhook queries of Kili's `Query` type.
#[derive(Default)]
pub(crate) struct PluginQuery;

#[Object]
impl PluginQuery {
    /// Every webhook of the organization, oldest first.
    async fn list_plugins(&self, ctx: &Context<'_>) -> Result<Vec<Plugin>> {
        viewer(ctx)?;
        let d = state(ctx)?.read();
        Ok(d.hooks.plugins.iter().cloned().map(Plugin).collect())
    }

    /// Counts the webhooks of the organization matching `where`.
    async fn count_plugins(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: PluginWhere,
    ) -> Result<i32> {
        viewer(ctx)?;
        let d = state(ctx)?.read();
        let n = d
            .hooks
            .plugins
            .iter()
            .filter(|p| where_.id.as_ref().is_none_or(|id| id.as_str() == p.id))
            .filter(|p| where_.name.as_ref().is_none_or(|n| *n == p.name))
            .count();
        Ok(i32::try_from(n).unwrap_or(i32::MAX))
    }

    /// The log of a webhook on one of the caller's projects, oldest first: one line per
    /// attempt to deliver an event, and per delivery dropped. The latest 1000 lines are kept.
    async fn get_plugin_logs(
        &self,
        ctx: &Context<'_>,
        data: PluginLogsData,
    ) -> Result<Vec<PluginLog>> {
        let me = viewer(ctx)?;
        let (skip, first) = log_window(data.skip, data.limit).map_err(bad_input)?;
        let d = state(ctx)?.read();
        if d.owned_project(&me.id, &data.project_id).is_none() {
            return Err(no_access("project", &data.project_id));
        }
        let plugin = d.hooks.by_name(&data.plugin_name).ok_or_else(|| {
            store_error(StoreError::new(
                "NOT_FOUND",
                format!("[pluginNotFound] no plugin is named {:?}", data.plugin_name),
            ))
        })?;
        let since = data.created_at.map_or(i64::MIN, |t| t.0);
        let key = (plugin.id.clone(), data.project_id.to_string());
        Ok(d.hooks
            .logs
            .get(&key)
            .into_iter()
            .flatten()
            .filter(|l| l.created_at >= since)
            .skip(skip)
            .take(first)
            .map(|l| PluginLog {
                rec: l.clone(),
                plugin_name: plugin.name.clone(),
            })
            .collect())
    }
}

/// Reads `skip` and `limit` as counts: `limit` defaults to 100; negative ones are refused.
fn log_window(skip: Option<i32>, limit: Option<i32>) -> Result<(usize, usize), &'static str> {
    let skip = usize::try_from(skip.unwrap_or(0)).map_err(|_| "skip must not be negative")?;
    let limit = usize::try_from(limit.unwrap_or(100)).map_err(|_| "limit must not be negative")?;
    Ok((skip, limit))
}
