//! The `where` filters, as pure predicates over the store's records.
//!
//! A filter on something the local server does not model (inference marks, label marks,
//! reviews, workflow steps, tags, groups, data sets, starred/archived/deleted
//! projects, skipped assets) is refused with a clear error by the `check_*` functions, before
//! any matching, rather than silently matching everything or nothing. A flag that asks for
//! what the server never has but excludes nothing (`deleted: false`, `skipped: false`) is
//! accepted: its answer is exact.

use async_graphql::{ID, Result};

use super::errors::{bad_input, unsupported};
use super::inputs::{AssetLabelWhere, AssetWhere, IssueWhere, LabelWhere, ProjectWhere, UserWhere};
use super::objects::ORGANIZATION_ID;
use crate::store::{AssetRec, Data, LabelRec, ProjectRec, UserRec};
use crate::time::parse_iso;

/// Parses a `[lower, upper]` time range from optional ISO strings; an unparsable string is an
/// error.
fn range(name: &str, gte: &Option<String>, lte: &Option<String>) -> Result<(i64, i64)> {
    let parse = |field: &str, v: &Option<String>, default: i64| -> Result<i64> {
        match v {
            None => Ok(default),
            Some(s) => parse_iso(s)
                .ok_or_else(|| bad_input(format!("{name}{field}: not an ISO 8601 date: {s:?}"))),
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

/// Returns whether `user` is one of `names`: by id, email, first name, last name or full name.
fn user_named(d: &Data, user_id: &str, names: &Option<Vec<String>>) -> bool {
    names.as_ref().is_none_or(|names| named(d, user_id, names))
}

/// Returns whether `user` is one of `names` (see [`user_named`]).
fn named(d: &Data, user_id: &str, names: &[String]) -> bool {
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

fn refuse_if(set: bool, field: &str, why: &str) -> Result<()> {
    if set {
        Err(unsupported(field, why))
    } else {
        Ok(())
    }
}

fn given<T>(v: &Option<Vec<T>>) -> bool {
    v.as_ref().is_some_and(|l| !l.is_empty())
}

const NO_STEPS: &str = "its projects have no workflow steps (workflowVersion V1)";

/// Refuses any bound on a label's consensus or honeypot mark (the four bounds of `at`), which
/// the server never computes.
fn refuse_label_marks(bounds: [Option<f64>; 4], at: &str) -> Result<()> {
    refuse_if(
        bounds.iter().any(Option::is_some),
        &format!("{at}.consensusMark/honeypotMark"),
        "it computes no consensus or honeypot marks for labels",
    )
}

/// Refuses the `ProjectWhere` filters the local server cannot answer.
pub(crate) fn check_project_where(w: &ProjectWhere, at: &str) -> Result<()> {
    refuse_if(given(&w.tag_ids), &format!("{at}.tagIds"), "it has no tags")?;
    refuse_if(
        w.starred == Some(true),
        &format!("{at}.starred"),
        "it has no starred projects",
    )?;
    refuse_if(
        w.archived == Some(true),
        &format!("{at}.archived"),
        "it has no archived projects",
    )?;
    refuse_if(
        w.deleted == Some(true),
        &format!("{at}.deleted"),
        "it keeps no deleted projects",
    )
}

fn check_asset_label_where(w: &AssetLabelWhere, at: &str) -> Result<()> {
    refuse_label_marks(
        [
            w.consensus_mark_gte,
            w.consensus_mark_lte,
            w.honeypot_mark_gte,
            w.honeypot_mark_lte,
        ],
        at,
    )?;
    refuse_if(
        given(&w.reviewer_in) || given(&w.reviewer_not_in),
        &format!("{at}.reviewerIn/reviewerNotIn"),
        "it has no reviews",
    )
}

/// Refuses the `AssetWhere` filters the local server cannot answer.
pub(crate) fn check_asset_where(w: &AssetWhere, at: &str) -> Result<()> {
    if let Some(p) = &w.project {
        check_project_where(p, &format!("{at}.project"))?;
    }
    if let Some(l) = &w.label {
        check_asset_label_where(l, &format!("{at}.label"))?;
    }
    refuse_if(
        w.inference_mark_gte.is_some() || w.inference_mark_lte.is_some(),
        &format!("{at}.inferenceMarkGte/Lte"),
        "it computes no inference marks",
    )?;
    refuse_if(
        given(&w.step_id_in)
            || given(&w.step_id_not_in)
            || given(&w.step_status_in)
            || given(&w.step_status_not_in)
            || given(&w.step_id_and_status_in)
            || given(&w.step_id_and_status_not_in),
        &format!("{at}.step..."),
        NO_STEPS,
    )?;
    refuse_if(
        given(&w.group_name_in) || given(&w.group_name_not_in),
        &format!("{at}.groupNameIn/NotIn"),
        "it has no labeler groups",
    )?;
    refuse_if(
        w.issue.as_ref().is_some_and(|i| {
            i.id.is_some() || i.project.is_some() || i.asset.is_some() || i.asset_in.is_some()
        }),
        &format!("{at}.issue.id/project/asset/assetIn"),
        "an asset's issue filter is its type and status",
    )?;
    refuse_if(
        w.dataset_asset.as_ref().is_some_and(|x| x.id.is_some()),
        &format!("{at}.datasetAsset"),
        "it has no data sets",
    )?;
    refuse_if(
        w.skipped == Some(true),
        &format!("{at}.skipped"),
        "it never skips assets",
    )
}

/// Refuses the `LabelWhere` filters the local server cannot answer.
pub(crate) fn check_label_where(w: &LabelWhere) -> Result<()> {
    if let Some(a) = &w.asset {
        check_asset_where(a, "LabelWhere.asset")?;
    }
    if let Some(p) = &w.project {
        check_project_where(p, "LabelWhere.project")?;
    }
    refuse_label_marks(
        [
            w.consensus_mark_gte,
            w.consensus_mark_lte,
            w.honeypot_mark_gte,
            w.honeypot_mark_lte,
        ],
        "LabelWhere",
    )?;
    refuse_if(
        given(&w.reviewer_in),
        "LabelWhere.reviewerIn",
        "it has no reviews",
    )
}

/// Returns whether a user matches a `UserWhere`.
pub(crate) fn user_matches(u: &UserRec, w: &UserWhere) -> bool {
    eq_id(&w.id, &u.id)
        && id_in(&w.id_in, &u.id)
        && w.email
            .as_ref()
            .is_none_or(|e| e.eq_ignore_ascii_case(&u.email))
        && w.api_key.as_ref().is_none_or(|k| k == &u.api_key)
        && w.activated != Some(false)
        && w.organization
            .as_ref()
            .and_then(|o| o.id.as_ref())
            .is_none_or(|id| id.as_str() == ORGANIZATION_ID)
}

/// Returns whether a project matches a `ProjectWhere` (ownership is checked by the caller).
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
        && w.organization_id
            .as_ref()
            .is_none_or(|o| o == ORGANIZATION_ID))
}

/// Returns whether an asset, of a project the caller may see, matches an `AssetWhere`.
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
        && mark_in(a.consensus_mark, w.consensus_mark_gte, w.consensus_mark_lte)
        && mark_in(a.honeypot_mark, w.honeypot_mark_gte, w.honeypot_mark_lte)
        && w.assignee_in
            .as_ref()
            .is_none_or(|l| a.to_be_labeled_by.iter().any(|u| named(d, u, l)))
        && w.assignee_not_in
            .as_ref()
            .is_none_or(|l| !a.to_be_labeled_by.iter().any(|u| named(d, u, l)))
        && w.issue.as_ref().is_none_or(|i| has_issue(d, a, i));
    if !basic {
        return Ok(false);
    }
    match &w.label {
        Some(lw) if asset_label_where_is_set(lw) => {
            for l in d.labels_of_asset(&a.id) {
                if asset_label_matches(d, l, lw)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        _ => Ok(true),
    }
}

/// Returns whether the asset has an issue of the filter's type and status (any issue when the
/// filter gives neither).
fn has_issue(d: &Data, a: &AssetRec, w: &IssueWhere) -> bool {
    if w.type_.is_none() && w.status.is_none() {
        return true;
    }
    d.issues.of_asset(&a.id).any(|i| {
        w.type_.is_none_or(|t| t == i.issue_type) && w.status.is_none_or(|s| s == i.status)
    })
}

/// Returns whether a mark is within `[gte, lte]`; an asset without a mark matches no bound.
fn mark_in(mark: Option<f64>, gte: Option<f64>, lte: Option<f64>) -> bool {
    match mark {
        Some(m) => gte.is_none_or(|g| m >= g) && lte.is_none_or(|l| m <= l),
        None => gte.is_none() && lte.is_none(),
    }
}

/// Returns whether every key of the filter object equals the asset's metadata value for that key.
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
        || w.labeler_not_in.is_some()
}

fn asset_label_matches(d: &Data, l: &LabelRec, w: &AssetLabelWhere) -> Result<bool> {
    let created = range("label.createdAt", &w.created_at_gte, &w.created_at_lte)?;
    Ok(w.type_in.as_ref().is_none_or(|t| t.contains(&l.label_type))
        && user_named(d, &l.author_id, &w.author_in)
        && user_named(d, &l.author_id, &w.labeler_in)
        && (w.labeler_not_in.is_none() || !user_named(d, &l.author_id, &w.labeler_not_in))
        && exact_time(&w.created_at, l.created_at)?
        && in_range(l.created_at, created)
        && w.search
            .as_ref()
            .is_none_or(|s| l.json_response.contains(s.as_str()))
        && contains_all(&l.json_response, &w.json_response_contains))
}

fn exact_time(want: &Option<String>, t: i64) -> Result<bool> {
    match want {
        None => Ok(true),
        Some(s) => parse_iso(s)
            .map(|w| w == t)
            .ok_or_else(|| bad_input(format!("createdAt: not an ISO 8601 date: {s:?}"))),
    }
}

fn contains_all(text: &str, parts: &Option<Vec<String>>) -> bool {
    parts
        .as_ref()
        .is_none_or(|p| p.iter().all(|x| text.contains(x.as_str())))
}

/// Returns whether a label, of a project the caller may see, matches a `LabelWhere`.
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
        && exact_time(&w.created_at, l.created_at)?
        && in_range(l.created_at, created)
        && w.skipped.is_none_or(|s| s == l.skipped)
        && w.search
            .as_ref()
            .is_none_or(|s| l.json_response.contains(s.as_str()))
        && contains_all(&l.json_response, &w.json_response_contains))
}

/// Returns whether a label append may change which assets match `w`: it changes its asset's status,
/// `updatedAt` and labels.
pub(crate) fn asset_where_sees_label_writes(w: &AssetWhere) -> bool {
    w.status_in.is_some()
        || w.updated_at_gte.is_some()
        || w.updated_at_lte.is_some()
        || w.label.as_ref().is_some_and(asset_label_where_is_set)
}
