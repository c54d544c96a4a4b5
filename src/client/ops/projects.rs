//! Projects: `create_project`, `projects`, `count_projects`, `delete_project`, with the SDK's
//! documents and variables. Uses no other operation file.

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::client::Kili;
use crate::client::ops::id_of;
use crate::client::paginate::Paginated;
use crate::client::resources::{PROJECTS, Page, page_setters};
use crate::client::retry::Safety;
use crate::error::{Error, Result};
use crate::models::{InputType, Project};

pub(crate) const CREATE_PROJECT: &str = "mutation($data: CreateProjectData!) {
    data: createProject(data: $data) {
        id
    }
}";

pub(crate) const DELETE_PROJECT: &str = "mutation($where: ProjectWhere!) {
  data: deleteProjectAsynchronously(where: $where)
}";

/// How long [`Kili::create_project`] waits for a new project to become readable.
const VISIBLE_DEADLINE: Duration = Duration::from_secs(60);

/// A project to create with [`Kili::create_project`].
///
/// # Examples
///
/// ```no_run
/// use kili::{InputType, Kili, NewProject};
/// let kili = Kili::from_env()?;
/// let p = NewProject::new("Webhook project", InputType::Image)
///     .json_interface(serde_json::json!({"jobs": {}}))
///     .description("cars");
/// let project_id = kili.create_project(&p)?;
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct NewProject {
    title: String,
    input_type: InputType,
    json_interface: Value,
    description: String,
}

impl NewProject {
    /// Creates a project titled `title` labeling `input_type` data, with no interface and an
    /// empty description.
    pub fn new(title: impl Into<String>, input_type: InputType) -> NewProject {
        NewProject {
            title: title.into(),
            input_type,
            json_interface: Value::Null,
            description: String::new(),
        }
    }

    /// Sets the labeling interface (`{"jobs": {...}}`), sent as a JSON string.
    ///
    /// Defaults to none (`null`, as the SDK sends it).
    pub fn json_interface(mut self, interface: Value) -> NewProject {
        self.json_interface = interface;
        self
    }

    /// Sets the description.
    ///
    /// Defaults to `""`.
    pub fn description(mut self, description: impl Into<String>) -> NewProject {
        self.description = description.into();
        self
    }
}

/// Builds the variables of `createProject`, as the SDK sends them, once the title is checked.
pub(crate) fn create_project_variables(p: &NewProject) -> Result<Value> {
    if p.title.trim().is_empty() {
        return Err(Error::invalid("a project needs a title"));
    }
    Ok(json!({
        "data": {
            "description": p.description,
            "inputType": p.input_type.as_str(),
            "jsonInterface": p.json_interface.to_string(),
            "title": p.title,
        }
    }))
}

/// Which projects to read or count, and how.
///
/// # Examples
///
/// ```no_run
/// use kili::{Kili, ProjectQuery};
/// let kili = Kili::from_env()?;
/// let q = ProjectQuery::new().search_query("car%").fields(["id", "title"]).first(10).skip(20);
/// for project in kili.projects(&q)? {
///     println!("{:?}", project?.title());
/// }
/// let one = kili.projects(&ProjectQuery::new().id("project-id"))?.collect_all()?;
/// # Ok::<(), kili::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct ProjectQuery {
    id: Option<String>,
    search_query: Option<String>,
    page: Page,
}

impl ProjectQuery {
    /// Creates a query of all the projects the key can see.
    pub fn new() -> ProjectQuery {
        ProjectQuery::default()
    }

    /// Keeps only the project with this id.
    ///
    /// Defaults to all the projects the key can see.
    pub fn id(mut self, id: impl Into<String>) -> ProjectQuery {
        self.id = Some(id.into());
        self
    }

    /// Keeps only the projects whose title matches this pattern (Kili's `searchQuery`, `%` is
    /// a wildcard).
    ///
    /// Defaults to all the projects the key can see.
    pub fn search_query(mut self, pattern: impl Into<String>) -> ProjectQuery {
        self.search_query = Some(pattern.into());
        self
    }

    /// Builds the `ProjectWhere`, with no nulls.
    pub(crate) fn where_(&self) -> Value {
        let mut w = Map::new();
        if let Some(id) = &self.id {
            w.insert("id".into(), json!(id));
        }
        if let Some(s) = &self.search_query {
            w.insert("searchQuery".into(), json!(s));
        }
        Value::Object(w)
    }
}

page_setters!(ProjectQuery, "projects", "DEFAULT_PROJECT_FIELDS");

impl Kili {
    /// Creates a project and returns its id, once the project can be read (like the SDK, it
    /// polls `projects` for up to 60 s, since a new project is not always visible at once).
    ///
    /// Not retried when the outcome is unknown (a timeout after sending): resending could
    /// create a second project. Connection failures before sending and 429 are retried.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty title (before any request); the request errors
    /// of [`Kili::graphql`]; [`Error::Timeout`] if the project never becomes readable.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use kili::{InputType, Kili, NewProject};
    /// let kili = Kili::from_env()?;
    /// let interface = serde_json::json!({"jobs": {"JOB_0": {
    ///     "mlTask": "CLASSIFICATION", "required": 1,
    ///     "content": {"categories": {"OBJECT_A": {"name": "Object A", "children": []}}, "input": "radio"}
    /// }}});
    /// let id = kili.create_project(
    ///     &NewProject::new("Webhook project", InputType::Image).json_interface(interface),
    /// )?;
    /// println!("created {id}");
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn create_project(&self, project: &NewProject) -> Result<String> {
        let vars = create_project_variables(project)?;
        let data = self.execute_data(CREATE_PROJECT, &vars, Safety::NotIdempotent)?;
        let id = id_of(&data, "the created project")?;
        self.wait_until_project_visible(&id)?;
        Ok(id)
    }

    fn wait_until_project_visible(&self, id: &str) -> Result<()> {
        let query = PROJECTS.list_document("id");
        let vars = json!({"where": {"id": id}, "first": 1, "skip": 0});
        let start = Instant::now();
        loop {
            let rows = self.execute_data(&query, &vars, Safety::Idempotent)?;
            if rows.as_array().is_some_and(|r| !r.is_empty()) {
                return Ok(());
            }
            if start.elapsed() >= VISIBLE_DEADLINE {
                return Err(Error::Timeout {
                    operation: format!("waiting for project {id} to be readable"),
                    after: VISIBLE_DEADLINE,
                });
            }
            log::debug!("project {id} not readable yet");
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    /// Reads projects lazily, 100 per request (see [`Paginated`]).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for malformed field paths, before any request. Request errors
    /// come from the iterator.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let kili = kili::Kili::from_env()?;
    /// for project in kili.projects(&kili::ProjectQuery::new())? {
    ///     let project = project?;
    ///     println!("{} {:?}", project.id(), project.title());
    /// }
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn projects(&self, query: &ProjectQuery) -> Result<Paginated<Project>> {
        Paginated::new(
            self,
            &PROJECTS,
            &query.page,
            query.where_(),
            Project::from_json,
        )
    }

    /// Counts the projects matching the query's filters.
    ///
    /// # Errors
    ///
    /// The request errors of [`Kili::graphql`]; [`Error::Decode`] if the count is not a number.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let kili = kili::Kili::from_env()?;
    /// let n = kili.count_projects(&kili::ProjectQuery::new())?;
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn count_projects(&self, query: &ProjectQuery) -> Result<u64> {
        self.count(&PROJECTS, &query.where_())
    }

    /// Deletes a project (asynchronously on Kili's side) and returns what the server returns
    /// (the project id).
    ///
    /// Deleting is idempotent, so it is retried like a query; if the server answers a retry with
    /// an error because the first attempt already deleted the project, that error is returned.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty id; the request errors of [`Kili::graphql`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let kili = kili::Kili::from_env()?;
    /// kili.delete_project("project-id")?;
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn delete_project(&self, project_id: &str) -> Result<String> {
        if project_id.trim().is_empty() {
            return Err(Error::invalid("the project id is empty"));
        }
        let vars = json!({"where": {"id": project_id}});
        let v = self.execute_data(DELETE_PROJECT, &vars, Safety::Idempotent)?;
        Ok(match v {
            Value::String(s) => s,
            Value::Object(ref o) => o
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or(project_id)
                .to_owned(),
            _ => project_id.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_project_variables_match_the_sdk() {
        let p = NewProject::new("t", InputType::Image).json_interface(json!({"jobs": {}}));
        assert_eq!(
            create_project_variables(&p).unwrap(),
            json!({"data": {"description": "", "inputType": "IMAGE", "jsonInterface": "{\"jobs\":{}}", "title": "t"}})
        );
        let bare = create_project_variables(&NewProject::new("t", InputType::Text)).unwrap();
        assert_eq!(bare["data"]["jsonInterface"], "null");
        assert!(create_project_variables(&NewProject::new(" ", InputType::Text)).is_err());
    }

    #[test]
    fn project_where_has_no_nulls() {
        assert_eq!(ProjectQuery::new().where_(), json!({}));
        assert_eq!(
            ProjectQuery::new().id("p").search_query("c%").where_(),
            json!({"id": "p", "searchQuery": "c%"})
        );
    }
}
