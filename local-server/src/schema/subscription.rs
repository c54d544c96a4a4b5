//! The `Subscription` root: labels pushed as they are created or updated.

use async_graphql::{Context, ID, Result, Subscription};
use futures::{Stream, StreamExt};

use super::context::{state, viewer};
use super::errors::no_access;
use super::objects::Label;

/// Kili's `Subscription` type.
pub(crate) struct SubscriptionRoot;

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Every label created or updated in the project from now on, at once, in the order of the
    /// writes; an update pushes the updated label.
    async fn label_created_or_updated(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "projectID")] project_id: ID,
    ) -> Result<impl Stream<Item = Label> + use<>> {
        let me = viewer(ctx)?;
        let st = state(ctx)?;
        if st.read().owned_project(&me.id, &project_id).is_none() {
            return Err(no_access("project", &project_id));
        }
        Ok(st.subscribe(&project_id).map(Label))
    }
}
