//! User writes and look-ups by key: every user has one API key, which is how requests are
//! authenticated.

use super::changes::Change;
use super::error::StoreError;
use super::records::UserRec;
use super::state::ServerState;

impl ServerState {
    /// Returns the user with this API key, if any.
    pub(crate) fn user_by_key(&self, key: &str) -> Option<UserRec> {
        self.read().users.iter().find(|u| u.api_key == key).cloned()
    }

    /// Returns the key of the first user with this email, if any (a restarted server keeps its
    /// key).
    pub(crate) fn key_of(&self, email: &str) -> Option<String> {
        self.read().user_by_email(email).map(|u| u.api_key.clone())
    }

    /// Returns the user with this key; else gives the user with this email this key, replacing
    /// their old one (which stops working: a warning says so); else adds a user with this key
    /// and email. A user has one key.
    ///
    /// # Errors
    ///
    /// When the journal cannot be written.
    pub(crate) fn ensure_user(&self, key: &str, email: &str) -> Result<UserRec, StoreError> {
        let mut d = self.write();
        if let Some(u) = d.users.iter().find(|u| u.api_key == key) {
            return Ok(u.clone());
        }
        let now = d.now();
        if let Some(old) = d.user_by_email(email).cloned() {
            let user = UserRec {
                api_key: key.to_owned(),
                api_key_id: d.new_id(now),
                ..old
            };
            self.commit(&mut d, &[Change::User(user.clone())])?;
            log::warn!(
                "local server: the API key of {email} was replaced; its previous key no longer \
                 works"
            );
            return Ok(user);
        }
        let local = email.split('@').next().unwrap_or(email);
        let user = UserRec {
            id: d.new_id(now),
            email: email.to_owned(),
            api_key: key.to_owned(),
            api_key_id: d.new_id(now),
            firstname: local.to_owned(),
            lastname: "Local".to_owned(),
            created_at: now,
        };
        self.commit(&mut d, &[Change::User(user.clone())])?;
        Ok(user)
    }

    /// Makes a fresh random API key.
    pub(crate) fn generate_key(&self) -> String {
        self.write().ids_token()
    }
}
