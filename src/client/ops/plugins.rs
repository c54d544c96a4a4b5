//! Plugins, webhooks among them: `create_webhook`, `update_webhook`,
//! `activate_plugin_on_project`, `deactivate_plugin_on_project`, `delete_plugin`,
//! `list_plugins`, `get_plugin_logs`, with the SDK's documents and variables. Uses no other
//! operation file.
//!
//! Kili's plugin mutations answer with a message, not an object: a plugin is named by its name
//! in every operation, so the writes return that name.

use std::time::SystemTime;

use serde_json::{Map, Value, json};

use crate::client::Kili;
use crate::client::fields::Selection;
use crate::client::retry::Safety;
use crate::common::time::format_iso8601;
use crate::error::{Error, Result};
use crate::models::{Plugin, PluginLog, WebhookHandler};

pub(crate) const CREATE_WEBHOOK: &str = "mutation(
  $eventMatcher: [String!]
  $handlerTypes: [PluginHandlerType!]
  $pluginName: String!
  $webhookUrl: String!
  $header: String
  ) {
  data: createWebhook(
    data: {
      eventMatcher: $eventMatcher
      handlerTypes: $handlerTypes
      header: $header
      pluginName: $pluginName
      webhookUrl: $webhookUrl
    }
  )
}";

pub(crate) const UPDATE_WEBHOOK: &str = "mutation(
  $eventMatcher: [String!]
  $handlerTypes: [PluginHandlerType!]
  $pluginName: String!
  $webhookUrl: String!
  $header: String
  ) {
  data: updateWebhook(
    data: {
      eventMatcher: $eventMatcher
      handlerTypes: $handlerTypes
      header: $header
      pluginName: $pluginName
      webhookUrl: $webhookUrl
    }
  )
}";

pub(crate) const ACTIVATE_PLUGIN_ON_PROJECT: &str = "mutation(
  $pluginName: String!
  $projectId: ID!
  ) {
  data: activatePluginOnProject(
    where: {
      pluginName: $pluginName
      projectId: $projectId
    }
  )
}";

pub(crate) const DEACTIVATE_PLUGIN_ON_PROJECT: &str = "mutation(
  $pluginName: String!
  $projectId: ID!
  ) {
  data: deactivatePluginOnProject(
    where: {
      pluginName: $pluginName
      projectId: $projectId
    }
  )
}";

pub(crate) const DELETE_PLUGIN: &str = "mutation(
  $pluginName: String!
  ) {
  data: deletePlugin(
    where: {
      pluginName: $pluginName
    }
  )
}";

pub(crate) const GET_PLUGIN_LOGS: &str = "query getPluginLogs(
        $projectId: ID!
        $pluginName: String!
        $createdAt: DateTime
        $limit: Int
        $skip: Int
    ) {
        data: getPluginLogs(
            data: {
                projectId: $projectId
                pluginName: $pluginName
                createdAt: $createdAt
                limit: $limit
                skip: $skip
            }
        ) {
            content
            createdAt
            logType
            metadata {
                assetId
                labelId
            }
            pluginName
            projectId
            runId
        }
    }";

/// What Kili answers when a plugin is activated on a project where it already is (the SDK's
/// `DUPLICATE_ACTIVATE_ERROR_SUBSTRING`).
const ALREADY_ACTIVATED: &str = "an entity Project already exists with value";

/// The fields read when none are given (the SDK's defaults).
///
/// # Examples
///
/// ```
/// assert!(kili::DEFAULT_PLUGIN_FIELDS.contains(&"projectIds"));
/// ```
pub const DEFAULT_PLUGIN_FIELDS: &[&str] = &["name", "projectIds", "id", "createdAt", "updatedAt"];

/// A webhook to register with [`Kili::create_webhook`], or the new settings of one with
/// [`Kili::update_webhook`]: Kili POSTs the events of the projects it is activated on to its
/// URL.
///
/// # Examples
///
/// ```no_run
/// use kili::{Kili, NewWebhook, WebhookHandler};
/// let kili = Kili::from_env()?;
/// let hook = NewWebhook::new("my-webhook", "https://example.com/kili-events")
///     .header("Bearer my-secret")
///     .handler_types([WebhookHandler::OnSubmit]);
/// let name = kili.create_webhook(&hook)?;
/// kili.activate_plugin_on_project(&name, "project-id")?;
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct NewWebhook {
    plugin_name: String,
    webhook_url: String,
    header: Option<String>,
    handler_types: Option<Vec<WebhookHandler>>,
    event_matcher: Option<Vec<String>>,
}

impl NewWebhook {
    /// Creates a webhook named `plugin_name` that POSTs to `webhook_url`. As in the SDK, an
    /// empty name stands for the URL (the webhook is then named by its URL).
    pub fn new(plugin_name: impl Into<String>, webhook_url: impl Into<String>) -> NewWebhook {
        NewWebhook {
            plugin_name: plugin_name.into(),
            webhook_url: webhook_url.into(),
            header: None,
            handler_types: None,
            event_matcher: None,
        }
    }

    /// Sets the value Kili sends as the `Authorization` header of every POST.
    ///
    /// Defaults to none (not sent).
    pub fn header(mut self, header: impl Into<String>) -> NewWebhook {
        self.header = Some(header.into());
        self
    }

    /// Sets the events the webhook is called for.
    ///
    /// Defaults to not sent: Kili then calls it for [`WebhookHandler::OnSubmit`] and
    /// [`WebhookHandler::OnReview`].
    pub fn handler_types<I>(mut self, handlers: I) -> NewWebhook
    where
        I: IntoIterator<Item = WebhookHandler>,
    {
        self.handler_types = Some(handlers.into_iter().collect());
        self
    }

    /// Sets the patterns of the events the webhook is called for (Kili's `eventMatcher`).
    ///
    /// Defaults to not sent.
    pub fn event_matcher<I, S>(mut self, patterns: I) -> NewWebhook
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.event_matcher = Some(patterns.into_iter().map(Into::into).collect());
        self
    }

    /// Returns the name the webhook goes by: its name, or its URL when the name is empty.
    fn name(&self) -> &str {
        if self.plugin_name.is_empty() {
            &self.webhook_url
        } else {
            &self.plugin_name
        }
    }
}

/// Builds the variables of `createWebhook` and `updateWebhook`, as the SDK sends them once it
/// strips nulls, after checking the URL.
pub(crate) fn webhook_variables(webhook: &NewWebhook) -> Result<Value> {
    if webhook.webhook_url.trim().is_empty() {
        return Err(Error::invalid("the webhook URL is empty"));
    }
    let mut vars = Map::new();
    if let Some(patterns) = &webhook.event_matcher {
        vars.insert("eventMatcher".into(), json!(patterns));
    }
    if let Some(handlers) = &webhook.handler_types {
        let names: Vec<&str> = handlers.iter().map(WebhookHandler::as_str).collect();
        vars.insert("handlerTypes".into(), json!(names));
    }
    vars.insert("pluginName".into(), json!(webhook.name()));
    vars.insert("webhookUrl".into(), json!(webhook.webhook_url));
    if let Some(header) = &webhook.header {
        vars.insert("header".into(), json!(header));
    }
    Ok(Value::Object(vars))
}

/// Builds the variables of `activatePluginOnProject` and `deactivatePluginOnProject`, after
/// checking that neither is empty.
pub(crate) fn plugin_project_variables(plugin_name: &str, project_id: &str) -> Result<Value> {
    if plugin_name.trim().is_empty() {
        return Err(Error::invalid("the plugin name is empty"));
    }
    if project_id.trim().is_empty() {
        return Err(Error::invalid("the project id is empty"));
    }
    Ok(json!({"pluginName": plugin_name, "projectId": project_id}))
}

/// Tells whether an error is Kili's answer to activating a plugin where it already is, which
/// the SDK takes as done (`check_errors_plugin_activation` reads the first error).
pub(crate) fn is_already_activated(error: &Error) -> bool {
    error
        .graphql_errors()
        .and_then(<[_]>::first)
        .is_some_and(|e| e.message.contains(ALREADY_ACTIVATED))
}

/// Which plugins' fields to read with [`Kili::list_plugins`] (every plugin of the
/// organization is listed).
///
/// # Examples
///
/// ```no_run
/// use kili::{Kili, PluginQuery};
/// let kili = Kili::from_env()?;
/// for plugin in kili.list_plugins(&PluginQuery::new().fields(["name", "projectIds"]))? {
///     println!("{} on {:?}", plugin.name(), plugin.project_ids());
/// }
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct PluginQuery {
    fields: Option<Vec<String>>,
}

impl PluginQuery {
    /// Creates a query of every plugin of the organization.
    pub fn new() -> PluginQuery {
        PluginQuery::default()
    }

    /// Sets the fields to read, as dotted paths; `name` is always read.
    ///
    /// Defaults to [`DEFAULT_PLUGIN_FIELDS`](crate::DEFAULT_PLUGIN_FIELDS).
    pub fn fields<I, S>(mut self, fields: I) -> PluginQuery
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.fields = Some(fields.into_iter().map(Into::into).collect());
        self
    }

    /// Builds the `listPlugins` document, as the SDK writes it, with the selection.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for malformed field paths.
    pub(crate) fn document(&self) -> Result<String> {
        let mut sel = match &self.fields {
            Some(f) => Selection::parse(f)?,
            None => Selection::parse(DEFAULT_PLUGIN_FIELDS)?,
        };
        sel.ensure("name");
        let selection = sel.render();
        Ok(format!(
            "query listPlugins{{
    data: listPlugins {{
        {selection}
    }}
}}"
        ))
    }
}

/// Which lines of a plugin's log on a project to read with [`Kili::get_plugin_logs`]: a page
/// of them, oldest first.
///
/// # Examples
///
/// ```no_run
/// use std::time::{Duration, SystemTime};
/// use kili::{Kili, PluginLogQuery};
/// let kili = Kili::from_env()?;
/// let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
/// let q = PluginLogQuery::new("project-id", "my-webhook").start_date(an_hour_ago).limit(20);
/// for line in kili.get_plugin_logs(&q)? {
///     println!("{:?} {:?}", line.log_type(), line.content());
/// }
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct PluginLogQuery {
    project_id: String,
    plugin_name: String,
    start_date: Option<SystemTime>,
    limit: u32,
    skip: u32,
}

impl PluginLogQuery {
    /// Creates a query of the log of the plugin `plugin_name` on a project.
    pub fn new(project_id: impl Into<String>, plugin_name: impl Into<String>) -> PluginLogQuery {
        PluginLogQuery {
            project_id: project_id.into(),
            plugin_name: plugin_name.into(),
            start_date: None,
            limit: 100,
            skip: 0,
        }
    }

    /// Keeps only the lines written at or after this instant (sent as the SDK does,
    /// `2024-01-01T00:00:00.000Z`, milliseconds, UTC).
    ///
    /// Defaults to none (Kili then starts at the plugin's creation).
    pub fn start_date(mut self, instant: SystemTime) -> PluginLogQuery {
        self.start_date = Some(instant);
        self
    }

    /// Reads at most `n` lines.
    ///
    /// Defaults to 100, as in the SDK.
    pub fn limit(mut self, n: u32) -> PluginLogQuery {
        self.limit = n;
        self
    }

    /// Skips the first `n` lines.
    ///
    /// Defaults to 0.
    pub fn skip(mut self, n: u32) -> PluginLogQuery {
        self.skip = n;
        self
    }

    /// Builds the variables of `getPluginLogs`, as the SDK sends them, after checking the ids.
    pub(crate) fn variables(&self) -> Result<Value> {
        if self.project_id.trim().is_empty() {
            return Err(Error::invalid("the project id is empty"));
        }
        if self.plugin_name.trim().is_empty() {
            return Err(Error::invalid("the plugin name is empty"));
        }
        let mut vars = Map::new();
        vars.insert("projectId".into(), json!(self.project_id));
        vars.insert("pluginName".into(), json!(self.plugin_name));
        vars.insert("limit".into(), json!(self.limit));
        vars.insert("skip".into(), json!(self.skip));
        if let Some(t) = self.start_date {
            vars.insert("createdAt".into(), json!(format_iso8601(t)));
        }
        Ok(Value::Object(vars))
    }
}

/// Decodes the list a plugin query answers with.
fn decode_list<T>(answer: Value, what: &str, decode: fn(&Value) -> Result<T>) -> Result<Vec<T>> {
    match answer {
        Value::Array(items) => items.iter().map(decode).collect(),
        other => Err(Error::decode(
            what.to_owned(),
            format!("expected a list, got {other}"),
        )),
    }
}

impl Kili {
    /// Registers a webhook with `createWebhook`, as the SDK's `create_webhook` does, and
    /// returns its name (the name that the other plugin operations take).
    ///
    /// Not retried when the outcome is unknown (a timeout after sending): Kili refuses a
    /// second plugin of the same name. Connection failures before sending and 429 are retried.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty URL, before any request; the request errors of
    /// [`Kili::graphql`] (a name already taken is a GraphQL error).
    ///
    /// # Examples
    ///
    /// ```
    /// use kili::{NewWebhook, WebhookHandler};
    /// # let server = kili_local_server::LocalServer::start().unwrap();
    /// # let kili = kili::Kili::new(server.api_key(), server.endpoint())?;
    /// let hook = NewWebhook::new("my-webhook", "http://127.0.0.1:9/kili-events")
    ///     .header("Bearer my-secret")
    ///     .handler_types([WebhookHandler::OnSubmit, WebhookHandler::OnReview]);
    /// assert_eq!(kili.create_webhook(&hook)?, "my-webhook");
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn create_webhook(&self, webhook: &NewWebhook) -> Result<String> {
        let vars = webhook_variables(webhook)?;
        self.execute_data(CREATE_WEBHOOK, &vars, Safety::NotIdempotent)?;
        Ok(webhook.name().to_owned())
    }

    /// Changes the URL, header and events of the webhook named `webhook`'s name with
    /// `updateWebhook`, as the SDK's `update_webhook` does, and returns its name. Settings
    /// left unset are not sent.
    ///
    /// Sending the same settings twice changes nothing more, so it is retried like a query.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty URL, before any request; the request errors of
    /// [`Kili::graphql`] (an unknown plugin is a GraphQL error).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let kili = kili::Kili::from_env()?;
    /// let new = kili::NewWebhook::new("my-webhook", "https://example.com/v2").header("Bearer new");
    /// kili.update_webhook(&new)?;
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn update_webhook(&self, webhook: &NewWebhook) -> Result<String> {
        let vars = webhook_variables(webhook)?;
        self.execute_data(UPDATE_WEBHOOK, &vars, Safety::Idempotent)?;
        Ok(webhook.name().to_owned())
    }

    /// Activates a plugin on a project with `activatePluginOnProject` and returns the plugin's
    /// name. A plugin already active there is not an error: Kili's answer to that ("an entity
    /// Project already exists") is taken as done, as the SDK means to (it warns), and logged at
    /// `warn`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty name or id, before any request; the other request
    /// errors of [`Kili::graphql`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let kili = kili::Kili::from_env()?;
    /// kili.activate_plugin_on_project("my-webhook", "project-id")?;
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn activate_plugin_on_project(
        &self,
        plugin_name: &str,
        project_id: &str,
    ) -> Result<String> {
        let vars = plugin_project_variables(plugin_name, project_id)?;
        match self.execute_data(ACTIVATE_PLUGIN_ON_PROJECT, &vars, Safety::Idempotent) {
            Ok(_) => Ok(plugin_name.to_owned()),
            Err(e) if is_already_activated(&e) => {
                log::warn!("plugin {plugin_name:?} is already activated on project {project_id}");
                Ok(plugin_name.to_owned())
            }
            Err(e) => Err(e),
        }
    }

    /// Deactivates a plugin on a project with `deactivatePluginOnProject` and returns the
    /// plugin's name.
    ///
    /// Retried like a query; if the server answers a retry with an error because the first
    /// attempt already deactivated it, that error is returned.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty name or id, before any request; the request errors
    /// of [`Kili::graphql`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let kili = kili::Kili::from_env()?;
    /// kili.deactivate_plugin_on_project("my-webhook", "project-id")?;
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn deactivate_plugin_on_project(
        &self,
        plugin_name: &str,
        project_id: &str,
    ) -> Result<String> {
        let vars = plugin_project_variables(plugin_name, project_id)?;
        self.execute_data(DEACTIVATE_PLUGIN_ON_PROJECT, &vars, Safety::Idempotent)?;
        Ok(plugin_name.to_owned())
    }

    /// Deletes a plugin with `deletePlugin` and returns its name.
    ///
    /// Retried like a query; if the server answers a retry with an error because the first
    /// attempt already deleted it, that error is returned.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty name, before any request; the request errors of
    /// [`Kili::graphql`] (an unknown plugin is a GraphQL error).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let kili = kili::Kili::from_env()?;
    /// kili.delete_plugin("my-webhook")?;
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn delete_plugin(&self, plugin_name: &str) -> Result<String> {
        if plugin_name.trim().is_empty() {
            return Err(Error::invalid("the plugin name is empty"));
        }
        let vars = json!({ "pluginName": plugin_name });
        self.execute_data(DELETE_PLUGIN, &vars, Safety::Idempotent)?;
        Ok(plugin_name.to_owned())
    }

    /// Lists every plugin of the organization with `listPlugins` (one request: Kili does not
    /// page it).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for malformed field paths, before any request; the request
    /// errors of [`Kili::graphql`]; [`Error::Decode`] for an answer that is not a list of
    /// plugins.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let kili = kili::Kili::from_env()?;
    /// let plugins = kili.list_plugins(&kili::PluginQuery::new())?;
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn list_plugins(&self, query: &PluginQuery) -> Result<Vec<Plugin>> {
        let document = query.document()?;
        let answer = self.execute_data(&document, &Value::Null, Safety::Idempotent)?;
        decode_list(answer, "the plugins", Plugin::from_json)
    }

    /// Reads a page of a plugin's log on a project with `getPluginLogs`, oldest first.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty id or name, before any request; the request errors
    /// of [`Kili::graphql`]; [`Error::Decode`] for an answer that is not a list of lines.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let kili = kili::Kili::from_env()?;
    /// let lines = kili.get_plugin_logs(&kili::PluginLogQuery::new("project-id", "my-webhook"))?;
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn get_plugin_logs(&self, query: &PluginLogQuery) -> Result<Vec<PluginLog>> {
        let vars = query.variables()?;
        let answer = self.execute_data(GET_PLUGIN_LOGS, &vars, Safety::Idempotent)?;
        decode_list(answer, "the plugin logs", PluginLog::from_json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::GraphQlError;

    #[test]
    fn webhook_variables_have_the_sdk_shape() {
        let bare = NewWebhook::new("hook", "http://h/x");
        assert_eq!(
            webhook_variables(&bare).unwrap(),
            json!({"pluginName": "hook", "webhookUrl": "http://h/x"})
        );
        let full = NewWebhook::new("hook", "http://h/x")
            .header("Bearer k")
            .handler_types([WebhookHandler::OnSubmit, WebhookHandler::OnReview])
            .event_matcher(["project.*"]);
        assert_eq!(
            webhook_variables(&full).unwrap(),
            json!({
                "eventMatcher": ["project.*"], "handlerTypes": ["onSubmit", "onReview"],
                "pluginName": "hook", "webhookUrl": "http://h/x", "header": "Bearer k"
            })
        );
        let unnamed = NewWebhook::new("", "http://h/x");
        assert_eq!(
            webhook_variables(&unnamed).unwrap()["pluginName"],
            "http://h/x"
        );
        assert!(webhook_variables(&NewWebhook::new("hook", " ")).is_err());
    }

    #[test]
    fn plugin_project_variables_have_the_sdk_shape() {
        assert_eq!(
            plugin_project_variables("hook", "p").unwrap(),
            json!({"pluginName": "hook", "projectId": "p"})
        );
        assert!(plugin_project_variables("", "p").is_err());
        assert!(plugin_project_variables("hook", " ").is_err());
    }

    #[test]
    fn already_activated_is_read_from_the_first_error() {
        let answer = |messages: &[&str]| Error::GraphQl {
            errors: messages.iter().map(|m| GraphQlError::new(*m)).collect(),
        };
        let dup = "[alreadyExists] an entity Project already exists with value clp1";
        assert!(is_already_activated(&answer(&[dup])));
        assert!(!is_already_activated(&answer(&["no access", dup])));
        assert!(!is_already_activated(&Error::invalid(dup)));
    }

    #[test]
    fn list_plugins_document_has_the_sdk_shape() {
        assert_eq!(
            PluginQuery::new().document().unwrap(),
            "query listPlugins{
    data: listPlugins {
        name projectIds id createdAt updatedAt
    }
}"
        );
        let named = PluginQuery::new()
            .fields(["projectIds"])
            .document()
            .unwrap();
        assert!(named.contains("name projectIds"), "{named}");
        assert!(PluginQuery::new().fields(["a b"]).document().is_err());
    }

    #[test]
    fn plugin_log_variables_have_the_sdk_shape() {
        let q = PluginLogQuery::new("p", "hook");
        assert_eq!(
            q.variables().unwrap(),
            json!({"projectId": "p", "pluginName": "hook", "limit": 100, "skip": 0})
        );
        let since = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_704_067_200_123);
        let q = q.start_date(since).limit(5).skip(10);
        assert_eq!(
            q.variables().unwrap(),
            json!({
                "projectId": "p", "pluginName": "hook", "limit": 5, "skip": 10,
                "createdAt": "2024-01-01T00:00:00.123Z"
            })
        );
        assert!(PluginLogQuery::new("", "hook").variables().is_err());
        assert!(PluginLogQuery::new("p", "").variables().is_err());
    }
}
