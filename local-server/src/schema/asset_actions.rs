//! `sendAssetsBackToQueue` and `addAssetsToReview`: the asset actions that move an asset's
//! status (to ONGOING, to TO_REVIEW), reporting every asset given as succeeded or declined, as
//! Kili's `AssetActionOutcome` does. The SDK sends `where: {idIn: [...]}`.

use async_graphql::{Context, ID, Object, Result, SimpleObject};

use super::context::{state, viewer};
use super::errors::{bad_input, store_error};
use super::inputs::AssetWhere;
use super::listing::asset_page;
use crate::store::{ActionOutcome, AssetAction};

/// An asset an action reports.
#[derive(SimpleObject, Clone)]
#[graphql(name = "AssetActionRef")]
pub(crate) struct AssetActionRef {
    asset_id: ID,
    external_id: Option<String>,
}

/// An asset whose write failed (the local server's writes do not fail one by one: always empty).
#[derive(SimpleObject, Clone)]
#[graphql(name = "AssetActionFailure")]
pub(crate) struct AssetActionFailure {
    asset_id: ID,
    external_id: Option<String>,
    details: Option<String>,
}

/// What an asset action did: each asset given is under exactly one key.
#[derive(SimpleObject)]
#[graphql(name = "AssetActionOutcome")]
pub(crate) struct AssetActionOutcome {
    succeeded: Vec<AssetActionRef>,
    declined: Vec<AssetActionRef>,
    failed: Vec<AssetActionFailure>,
}

/// The asset actions of Kili's `Mutation` type.
#[derive(Default)]
pub(crate) struct AssetActionMutation;

#[Object]
impl AssetActionMutation {
    /// Sends assets back to the labeling queue: their status becomes ONGOING (until their next
    /// submitted label); an asset still to do (TODO) is declined.
    async fn send_assets_back_to_queue(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: AssetWhere,
    ) -> Result<AssetActionOutcome> {
        act(ctx, &where_, AssetAction::SendBackToQueue)
    }

    /// Adds labeled assets to review: their status becomes TO_REVIEW (until a REVIEW label);
    /// an asset not labeled yet (TODO, ONGOING) is declined.
    async fn add_assets_to_review(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: AssetWhere,
    ) -> Result<AssetActionOutcome> {
        act(ctx, &where_, AssetAction::AddToReview)
    }
}

/// Applies an action to the assets `where` names (`idIn` or `id`, in that order) or else
/// matches; a named asset that does not match the rest of `where` (or is not the caller's) is
/// declined.
fn act(ctx: &Context<'_>, w: &AssetWhere, action: AssetAction) -> Result<AssetActionOutcome> {
    let me = viewer(ctx)?;
    let matching: Vec<String> = asset_page(ctx, w, None)?
        .into_iter()
        .map(|a| a.id)
        .collect();
    let named: Vec<String> = match (&w.id_in, &w.id) {
        (Some(ids), _) => ids.iter().map(|i| i.0.clone()).collect(),
        (None, Some(id)) => vec![id.0.clone()],
        (None, None) => matching.clone(),
    };
    if named.is_empty() {
        return Err(bad_input("where matches no asset"));
    }
    let (found, missing): (Vec<String>, Vec<String>) =
        named.into_iter().partition(|id| matching.contains(id));
    let mut outcome = state(ctx)?
        .asset_action(&me.id, action, &found)
        .map_err(store_error)?;
    outcome
        .declined
        .extend(missing.into_iter().map(|id| (id, None)));
    Ok(shaped(outcome))
}

/// Returns the outcome as GraphQL objects.
fn shaped(o: ActionOutcome) -> AssetActionOutcome {
    let refs = |list: Vec<(String, Option<String>)>| {
        list.into_iter()
            .map(|(id, external_id)| AssetActionRef {
                asset_id: ID(id),
                external_id,
            })
            .collect()
    };
    AssetActionOutcome {
        succeeded: refs(o.succeeded),
        declined: refs(o.declined),
        failed: Vec::new(),
    }
}
