//! Listings: the caller's matching assets or labels, one page (`first`/`skip`) or all of them,
//! paged by the store's remembered positions (see the store's `paging`); and `first`/`skip`
//! over the short lists (users, projects, keys) that need no index.

use std::sync::Arc;

use async_graphql::{Context, ID, Result};

use super::context::{label_settings, state, viewer};
use super::errors::bad_input;
use super::filters::{
    asset_matches, asset_where_sees_label_writes, check_asset_where, check_label_where,
    label_matches,
};
use super::inputs::{AssetWhere, LabelWhere, PageSize};
use crate::store::paging::{self, Epochs, PageRequest, Position};
use crate::store::{AssetRec, Candidates, Data, LabelRec, UserRec};
use crate::time::parse_iso;

/// Reads `skip` and `first` as counts: `first` defaults to 100; a negative `skip` is refused.
pub(super) fn page_bounds(first: Option<PageSize>, skip: Option<i32>) -> Result<(usize, usize)> {
    let skip = skip.unwrap_or(0);
    let skip = usize::try_from(skip).map_err(|_| bad_input("skip must not be negative"))?;
    let first = first.map_or(100, |f| usize::try_from(f.0).unwrap_or(0));
    Ok((skip, first))
}

/// Keeps `items[skip..skip+first]`; `first` defaults to 100.
pub(super) fn page<T>(
    items: impl Iterator<Item = T>,
    first: Option<PageSize>,
    skip: Option<i32>,
) -> Result<Vec<T>> {
    let (skip, first) = page_bounds(first, skip)?;
    Ok(items.skip(skip).take(first).collect())
}

/// Returns the project a listing is confined to, if its filter names one; `Err(())` if the caller
/// does not own that project (nothing matches).
fn scope<'a>(d: &Data, me: &UserRec, project: Option<&'a ID>) -> Result<Option<&'a str>, ()> {
    match project {
        Some(p) if d.owned_project(&me.id, p).is_some() => Ok(Some(p.as_str())),
        Some(_) => Err(()),
        None => Ok(None),
    }
}

fn epochs(d: &Data, project: Option<&str>) -> Epochs {
    match project {
        Some(p) => d.project_epochs.get(p).copied().unwrap_or_default(),
        None => d.epochs,
    }
}

/// Returns whether a record of `project_id` is the caller's: always, when the listing is confined
/// to one of the caller's projects (`scope` checked it).
fn owned(d: &Data, me: &UserRec, scope: Option<&str>, project_id: &str) -> bool {
    scope.is_some() || d.owned_project(&me.id, project_id).is_some()
}

/// Keeps the items of `source` that `matches` accepts, in order: a listing without a page.
fn all_matching<T, I>(source: I, mut matches: impl FnMut(&T) -> Result<bool>) -> Result<Vec<T>>
where
    I: Iterator<Item = (Position, T)>,
{
    let mut out = Vec::new();
    for (_, item) in source {
        if matches(&item)? {
            out.push(item);
        }
    }
    Ok(out)
}

/// Returns the ids named by an `id` or `idIn` filter.
fn named_ids(id: &Option<ID>, id_in: &Option<Vec<ID>>) -> Option<Vec<String>> {
    match (id, id_in) {
        (Some(id), _) => Some(vec![id.0.clone()]),
        (None, Some(ids)) => Some(ids.iter().map(|i| i.0.clone()).collect()),
        (None, None) => None,
    }
}

/// Lists the matching assets of the caller: one page (`Some((skip, first))`) or all of them.
pub(super) fn asset_page(
    ctx: &Context<'_>,
    w: &AssetWhere,
    window: Option<(usize, usize)>,
) -> Result<Vec<AssetRec>> {
    let me = viewer(ctx)?;
    check_asset_where(w, "AssetWhere")?;
    let st = state(ctx)?;
    let d = st.read();
    let project = w.project.as_ref().and_then(|p| p.id.as_ref());
    let Ok(project) = scope(&d, me, project) else {
        return Ok(Vec::new());
    };
    let candidates = named_ids(&w.id, &w.id_in);
    let matches = |a: &&AssetRec| -> Result<bool> {
        Ok(owned(&d, me, project, &a.project_id) && asset_matches(&d, a, w)?)
    };
    let source = |after| d.asset_source(project, candidates.as_deref(), after);
    let found = match window {
        None => all_matching(source(None), matches)?,
        Some((skip, first)) => {
            let req = PageRequest {
                key: format!("assets|{}|{w:?}", me.id),
                skip,
                first,
                epochs: epochs(&d, project),
                label_appends_keep_order: !asset_where_sees_label_writes(w),
                asset_appends_keep_order: true,
            };
            paging::page(&st.inner.cursors, req, source, matches)?
        }
    };
    Ok(found.into_iter().cloned().collect())
}

/// Lists the matching labels of the caller: one page (`Some((skip, first))`) or all of them.
pub(super) fn label_page(
    ctx: &Context<'_>,
    w: &LabelWhere,
    window: Option<(usize, usize)>,
) -> Result<Vec<Arc<LabelRec>>> {
    let me = viewer(ctx)?;
    check_label_where(w)?;
    let shuffled = label_settings(ctx)?.shuffle_pages;
    let st = state(ctx)?;
    let d = st.read();
    let project = w.project.as_ref().and_then(|p| p.id.as_ref()).or_else(|| {
        w.asset
            .as_ref()
            .and_then(|a| a.project.as_ref())
            .and_then(|p| p.id.as_ref())
    });
    let Ok(project) = scope(&d, me, project) else {
        return Ok(Vec::new());
    };
    let label_ids = named_ids(&w.id, &w.id_in);
    let asset_ids = w.asset.as_ref().and_then(|a| named_ids(&a.id, &a.id_in));
    let candidates = match (&label_ids, &asset_ids) {
        (Some(ids), _) => Some(Candidates::Labels(ids)),
        (None, Some(ids)) => Some(Candidates::Assets(ids)),
        (None, None) => None,
    };
    // A `createdAt` window of one project is read from its index; the rest of the filter is
    // matched on the window's labels only.
    let indexed = match (project, candidates) {
        (Some(p), None) => created_window(w).map(|(span, rest)| (p, span, rest)),
        _ => None,
    };
    let rest = indexed.as_ref().map_or(w, |(_, _, rest)| rest);
    let matches = |l: &&Arc<LabelRec>| -> Result<bool> {
        Ok(owned(&d, me, project, &l.project_id) && label_matches(&d, l, rest)?)
    };
    // Unpaged (a count): creation order, whatever the page order.
    let order = window.is_some() && shuffled;
    let source = |after| match &indexed {
        Some((p, span, _)) => d.label_window(p, *span, order, after),
        None => d.label_source(project, candidates, order, after),
    };
    let found = match window {
        None => all_matching(source(None), matches)?,
        Some((skip, first)) => {
            let req = PageRequest {
                key: format!("labels|{}|{shuffled}|{w:?}", me.id),
                skip,
                first,
                epochs: epochs(&d, project),
                label_appends_keep_order: !shuffled
                    && !w.asset.as_ref().is_some_and(asset_where_sees_label_writes),
                asset_appends_keep_order: true,
            };
            paging::page(&st.inner.cursors, req, source, matches)?
        }
    };
    Ok(found.into_iter().map(Arc::clone).collect())
}

/// Returns the `createdAt` span of a label filter (`createdAt`, `createdAtGte`, `createdAtLte`),
/// with the filter less those fields; `None` when it has no span or a date does not parse (the
/// scan then answers, with the same errors as ever).
fn created_window(w: &LabelWhere) -> Option<((i64, i64), LabelWhere)> {
    if w.created_at.is_none() && w.created_at_gte.is_none() && w.created_at_lte.is_none() {
        return None;
    }
    let parse = |v: &Option<String>, default: i64| match v {
        None => Some(default),
        Some(s) => parse_iso(s),
    };
    let (mut from, mut to) = (
        parse(&w.created_at_gte, i64::MIN)?,
        parse(&w.created_at_lte, i64::MAX)?,
    );
    if let Some(at) = &w.created_at {
        let at = parse_iso(at)?;
        (from, to) = (from.max(at), to.min(at));
    }
    let rest = LabelWhere {
        created_at: None,
        created_at_gte: None,
        created_at_lte: None,
        ..w.clone()
    };
    Some(((from, to), rest))
}
