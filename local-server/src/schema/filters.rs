//! The `where` filters, as pure predicates over the store's records.
//!
//! Filters on things the local server does not model (consensus/honeypot/inference marks,
//! assignees, workflow steps, issues, tags, groups, starred/archived/deleted projects) match
//! nothing when they ask for something to be present, and are ignored when they exclude
//! (`...NotIn`) or are organisation scoped.

use async_graphql::{ID, Result};

use super::inputs::{AssetLabelWhere, AssetWhere, LabelWhere, ProjectWhere, UserWhere};
use crate::store::{AssetRec, Data, LabelRec, ProjectRec, UserRec};
use crate::time::parse_iso;

/// A `[lower, upper]` time range from optional ISO strings; an unparsable string is an error.
fn range(name: &str, gte: &Option<String>, lte: &Option<String>) -> Result<(i64, i64)> {
    let parse = |field: &str, v: &Option<String>, default: i64| -> Result<i64> {
        match v {
            None => Ok(default),
            Some(s) => parse_iso(s).ok_or_else(|| {
                super::bad_input(format!("{name}{field}: not an ISO 8601 date: {s:?}"))
            }),
        }
    };
    Ok((parse("Gte", gte, i64::MIN)?, parse("Lte", lte, i64::MAX)?))
}

fn in_range(t: i64, (lo, hi): (i64, i64)) -> bool {
    lo <= t && t <= hi
}

fn id_in(list: &Option<Vec<ID>>, id: &str) -> bool {
    list.as_ref()
        .is_none_or(|l| l.iter().any(|x| x.as_str() == id))
}

fn eq_id(want: &Option<ID>, id: &str) -> bool {
    want.as_ref().is_none_or(|w| w.as_str() == id)
}

/// Whether a list filter asks for something that never exists locally.
fn wants_any<T>(list: &Option<Vec<T>>) -> bool {
    list.as_ref().is_some_and(|l| !l.is_empty())
}

/// Whether `user` is one of `names`: by id, email, first name, last name or full name.
fn user_named(d: &Data, user_id: &str, names: &Option<Vec<String>>) -> bool {
    let Some(names) = names else { return true };
    let Some(u) = d.user(user_id) else {
        return false;
    };
    let full = format!("{} {}", u.firstname, u.lastname);
    names.iter().any(|n| {
        n == &u.id
            || n.eq_ignore_ascii_case(&u.email)
            || n.eq_ignore_ascii_case(&u.firstname)
            || n.eq_ignore_ascii_case(&u.lastname)
            || n.eq_ignore_ascii_case(&full)
    })
}

/// `UserWhere` against a user.
pub(crate) fn user_matches(u: &UserRec, w: &UserWhere) -> bool {
    eq_id(&w.id, &u.id)
        && id_in(&w.id_in, &u.id)
        && w.email
            .as_ref()
            .is_none_or(|e| e.eq_ignore_ascii_case(&u.email))
        && w.api_key.as_ref().is_none_or(|k| k == &u.api_key)
        && w.activated != Some(false)
}

/// `ProjectWhere` against a project (ownership is checked by the caller).
pub(crate) fn project_matches(p: &ProjectRec, w: &ProjectWhere) -> Result<bool> {
    let created = range("createdAt", &w.created_at_gte, &w.created_at_lte)?;
    let updated = range("updatedAt", &w.updated_at_gte, &w.updated_at_lte)?;
    let search = w
        .search_query
        .as_ref()
        .map(|s| s.trim_matches('%').to_lowercase());
    Ok(eq_id(&w.id, &p.id)
        && id_in(&w.id_in, &p.id)
        && search.is_none_or(|s| p.title.to_lowercase().contains(&s))
        && in_range(p.created_at, created)
        && in_range(p.updated_at, updated)
        && w.starred != Some(true)
        && w.archived != Some(true)
        && w.deleted != Some(true)
        && !wants_any(&w.tag_ids))
}

/// `AssetWhere` against an asset whose project the caller may see.
pub(crate) fn asset_matches(d: &Data, a: &AssetRec, w: &AssetWhere) -> Result<bool> {
    if let Some(pw) = &w.project {
        match d.project(&a.project_id) {
            Some(p) if project_matches(p, pw)? => {}
            _ => return Ok(false),
        }
    }
    let created = range("createdAt", &w.created_at_gte, &w.created_at_lte)?;
    let updated = range("updatedAt", &w.updated_at_gte, &w.updated_at_lte)?;
    let basic = eq_id(&w.id, &a.id)
        && id_in(&w.id_in, &a.id)
        && w.id_not_in
            .as_ref()
            .is_none_or(|l| !l.iter().any(|x| x.as_str() == a.id))
        && w.external_id_strictly_in
            .as_ref()
            .is_none_or(|l| l.contains(&a.external_id))
        && w.external_id_in
            .as_ref()
            .is_none_or(|l| l.iter().any(|x| a.external_id.contains(x.as_str())))
        && w.status_in.as_ref().is_none_or(|l| l.contains(&a.status))
        && w.skipped != Some(true)
        && in_range(a.created_at, created)
        && in_range(a.updated_at, updated)
        && metadata_matches(&a.json_metadata, w.metadata.as_ref().map(|j| &j.0))
        && no_marks(&[
            w.consensus_mark_gte,
            w.consensus_mark_lte,
            w.honeypot_mark_gte,
        ])
        && no_marks(&[
            w.honeypot_mark_lte,
            w.inference_mark_gte,
            w.inference_mark_lte,
        ])
        && !wants_any(&w.assignee_in)
        && !wants_any(&w.step_id_in)
        && !wants_any(&w.step_status_in)
        && !wants_any(&w.step_id_and_status_in)
        && !wants_any(&w.group_name_in)
        && w.issue
            .as_ref()
            .is_none_or(|i| i.type_.is_none() && i.status.is_none())
        && w.dataset_asset.as_ref().is_none_or(|x| x.id.is_none());
    if !basic {
        return Ok(false);
    }
    match &w.label {
        Some(lw) if asset_label_where_is_set(lw) => {
            for l in d.labels.iter().filter(|l| l.asset_id == a.id) {
                if asset_label_matches(d, l, lw)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        _ => Ok(true),
    }
}

fn no_marks(marks: &[Option<f64>]) -> bool {
    marks.iter().all(Option::is_none)
}

/// Every key of the filter object equals the asset's metadata value for that key.
fn metadata_matches(json_metadata: &str, filter: Option<&serde_json::Value>) -> bool {
    let Some(serde_json::Value::Object(want)) = filter else {
        return true;
    };
    let have: serde_json::Value = serde_json::from_str(json_metadata).unwrap_or_default();
    want.iter().all(|(k, v)| have.get(k) == Some(v))
}

fn asset_label_where_is_set(w: &AssetLabelWhere) -> bool {
    w.type_in.is_some()
        || w.author_in.is_some()
        || w.created_at.is_some()
        || w.created_at_gte.is_some()
        || w.created_at_lte.is_some()
        || w.search.is_some()
        || w.labeler_in.is_some()
        || w.reviewer_in.is_some()
        || w.json_response_contains.is_some()
        || !no_marks(&[w.consensus_mark_gte, w.consensus_mark_lte])
        || !no_marks(&[w.honeypot_mark_gte, w.honeypot_mark_lte])
}

fn asset_label_matches(d: &Data, l: &LabelRec, w: &AssetLabelWhere) -> Result<bool> {
    let created = range("label.createdAt", &w.created_at_gte, &w.created_at_lte)?;
    Ok(w.type_in.as_ref().is_none_or(|t| t.contains(&l.label_type))
        && user_named(d, &l.author_id, &w.author_in)
        && user_named(d, &l.author_id, &w.labeler_in)
        && !wants_any(&w.reviewer_in)
        && exact_time(&w.created_at, l.created_at)?
        && in_range(l.created_at, created)
        && w.search
            .as_ref()
            .is_none_or(|s| l.json_response.contains(s.as_str()))
        && contains_all(&l.json_response, &w.json_response_contains)
        && no_marks(&[w.consensus_mark_gte, w.consensus_mark_lte])
        && no_marks(&[w.honeypot_mark_gte, w.honeypot_mark_lte]))
}

fn exact_time(want: &Option<String>, t: i64) -> Result<bool> {
    match want {
        None => Ok(true),
        Some(s) => parse_iso(s)
            .map(|w| w == t)
            .ok_or_else(|| super::bad_input(format!("createdAt: not an ISO 8601 date: {s:?}"))),
    }
}

fn contains_all(text: &str, parts: &Option<Vec<String>>) -> bool {
    parts
        .as_ref()
        .is_none_or(|p| p.iter().all(|x| text.contains(x.as_str())))
}

/// `LabelWhere` against a label whose project the caller may see.
pub(crate) fn label_matches(d: &Data, l: &LabelRec, w: &LabelWhere) -> Result<bool> {
    if let Some(pw) = &w.project {
        match d.project(&l.project_id) {
            Some(p) if project_matches(p, pw)? => {}
            _ => return Ok(false),
        }
    }
    if let Some(aw) = &w.asset {
        match d.asset(&l.asset_id) {
            Some(a) if asset_matches(d, a, aw)? => {}
            _ => return Ok(false),
        }
    }
    if let Some(uw) = &w.user {
        match d.user(&l.author_id) {
            Some(u) if user_matches(u, uw) => {}
            _ => return Ok(false),
        }
    }
    let created = range("createdAt", &w.created_at_gte, &w.created_at_lte)?;
    Ok(eq_id(&w.id, &l.id)
        && id_in(&w.id_in, &l.id)
        && w.type_in.as_ref().is_none_or(|t| t.contains(&l.label_type))
        && user_named(d, &l.author_id, &w.author_in)
        && user_named(d, &l.author_id, &w.labeler_in)
        && !wants_any(&w.reviewer_in)
        && exact_time(&w.created_at, l.created_at)?
        && in_range(l.created_at, created)
        && w.skipped.is_none_or(|s| s == l.skipped)
        && w.search
            .as_ref()
            .is_none_or(|s| l.json_response.contains(s.as_str()))
        && contains_all(&l.json_response, &w.json_response_contains)
        && no_marks(&[w.consensus_mark_gte, w.consensus_mark_lte])
        && no_marks(&[w.honeypot_mark_gte, w.honeypot_mark_lte]))
}

/// Keeps `items[skip..skip+first]`; `first` defaults to 100.
pub(crate) fn page<T>(
    items: impl Iterator<Item = T>,
    first: Option<super::inputs::PageSize>,
    skip: Option<i32>,
) -> Result<Vec<T>> {
    let skip = skip.unwrap_or(0);
    let skip = usize::try_from(skip).map_err(|_| super::bad_input("skip must not be negative"))?;
    let first = first.map_or(100, |f| usize::try_from(f.0).unwrap_or(0));
    Ok(items.skip(skip).take(first).collect())
}
