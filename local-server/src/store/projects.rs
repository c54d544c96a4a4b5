//! Project writes: a project belongs to the user who creates it; deleting it deletes its
//! assets, labels and uploaded files.

use super::changes::Change;
use super::error::StoreError;
use super::kinds::InputType;
use super::records::ProjectRec;
use super::state::ServerState;

/// A project to create.
pub(crate) struct NewProject {
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) input_type: InputType,
    pub(crate) json_interface: String,
    pub(crate) compliance_tags: Vec<String>,
}

impl ServerState {
    /// Creates a project owned by `owner_id`.
    pub(crate) fn create_project(
        &self,
        owner_id: &str,
        p: NewProject,
    ) -> Result<ProjectRec, StoreError> {
        let mut d = self.write();
        let now = d.now();
        let rec = ProjectRec {
            id: d.new_id(now),
            owner_id: owner_id.to_owned(),
            title: p.title,
            description: p.description,
            input_type: p.input_type,
            json_interface: p.json_interface,
            compliance_tags: p.compliance_tags,
            created_at: now,
            updated_at: now,
        };
        self.commit(&mut d, &[Change::Project(rec.clone())])?;
        Ok(rec)
    }

    /// Deletes a project with its assets, labels and files; returns its id.
    pub(crate) fn delete_project(&self, user_id: &str, id: &str) -> Result<String, StoreError> {
        let mut d = self.write();
        if d.owned_project(user_id, id).is_none() {
            return Err(StoreError::no_access("project", id));
        }
        self.commit(&mut d, &[Change::DeleteProject { id: id.to_owned() }])?;
        drop(d);
        self.remove_blobs_of_project(id);
        Ok(id.to_owned())
    }
}
