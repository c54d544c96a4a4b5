//! The `Subscription` root: labels pushed as they are created or updated.

use async_graphql::{Context, Error, ErrorExtensions, ID, Result, Subscription};
use futures::{Stream, StreamExt};

use super::context::{label_settings, state, viewer};
use super::errors::no_access;
use super::objects::Label;
use crate::store::Overflowed;

/// The `extensions.code` of the error that ends a subscription whose client fell too far behind:
/// the transport ends the operation with an `error` frame.
pub(crate) const OVERFLOW_CODE: &str = "SUBSCRIPTION_OVERFLOW";

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
    ) -> Result<impl Stream<Item = Result<Label>> + use<>> {
        let me = viewer(ctx)?;
        let st = state(ctx)?;
        if st.read().owned_project(&me.id, &project_id).is_none() {
            return Err(no_access("project", &project_id));
        }
        let capacity = label_settings(ctx)?.subscriber_queue;
        Ok(st.subscribe(&project_id, capacity).map(|item| match item {
            Ok(label) => Ok(Label(label)),
            Err(Overflowed { capacity }) => Err(Error::new(format!(
                "[subscriptionOverflow] more than {capacity} labels were waiting for this \
                 subscription: it is dropped; subscribe again and catch up"
            ))
            .extend_with(|_, e| e.set("code", OVERFLOW_CODE))),
        }))
    }
}
