//! Asset actions that move an asset's status: send it back to the labeling queue (ONGOING), or
//! add it to review (TO_REVIEW). Each reports every asset it was given as succeeded or
//! declined, as Kili's actions do.

use super::changes::Change;
use super::error::StoreError;
use super::kinds::AssetStatus;
use super::records::AssetRec;
use super::state::ServerState;

/// An asset action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AssetAction {
    /// To ONGOING; declined for an asset still to do (TODO).
    SendBackToQueue,
    /// To TO_REVIEW; declined for an asset not labeled yet (TODO or ONGOING).
    AddToReview,
}

impl AssetAction {
    /// Returns the status the action moves an asset in `status` to, or `None` to decline it.
    fn target(self, status: AssetStatus) -> Option<AssetStatus> {
        match (self, status) {
            (AssetAction::SendBackToQueue, AssetStatus::Todo) => None,
            (AssetAction::SendBackToQueue, _) => Some(AssetStatus::Ongoing),
            (AssetAction::AddToReview, AssetStatus::Todo | AssetStatus::Ongoing) => None,
            (AssetAction::AddToReview, _) => Some(AssetStatus::ToReview),
        }
    }
}

/// What an action did: `(asset id, external id)` of each asset, the external id `None` for an
/// asset that does not exist or is not the caller's.
#[derive(Debug, Default)]
pub(crate) struct ActionOutcome {
    pub(crate) succeeded: Vec<(String, Option<String>)>,
    pub(crate) declined: Vec<(String, Option<String>)>,
}

impl ServerState {
    /// Applies `action` to these assets of `user_id`'s projects; an asset the action does not
    /// apply to, or that is not the caller's, is declined; the others change in one write.
    pub(crate) fn asset_action(
        &self,
        user_id: &str,
        action: AssetAction,
        ids: &[String],
    ) -> Result<ActionOutcome, StoreError> {
        let mut d = self.write();
        let now = d.now();
        let mut outcome = ActionOutcome::default();
        let mut changed = Vec::new();
        for id in ids {
            let Some(asset) = d.owned_asset(user_id, id) else {
                outcome.declined.push((id.clone(), None));
                continue;
            };
            let external = Some(asset.external_id.clone());
            match action.target(asset.status) {
                Some(status) => {
                    if asset.status != status && !changed.iter().any(|a: &AssetRec| a.id == *id) {
                        let mut new = asset.clone();
                        new.status = status;
                        new.updated_at = now;
                        changed.push(new);
                    }
                    outcome.succeeded.push((id.clone(), external));
                }
                None => outcome.declined.push((id.clone(), external)),
            }
        }
        if !changed.is_empty() {
            self.commit(&mut d, &[Change::UpdateAssets { assets: changed }])?;
        }
        Ok(outcome)
    }
}
