//! Asset writes: append, update properties, delete; and the ordered sources of `assets` pages.

use std::collections::HashSet;

use super::changes::Change;
use super::data::Data;
use super::error::StoreError;
use super::kinds::AssetStatus;
use super::paging::Position;
use super::records::{AssetRec, PageResolution, Resolution, is_json};
use super::state::ServerState;

/// An asset to append; `id` is the client's (for idempotent retries) or generated.
pub(crate) struct NewAsset {
    pub(crate) id: Option<String>,
    pub(crate) content: String,
    pub(crate) external_id: Option<String>,
    pub(crate) json_content: String,
    pub(crate) json_metadata: String,
    pub(crate) is_honeypot: bool,
    pub(crate) status: Option<AssetStatus>,
}

/// Changes to one asset (`AssetData`); `None` leaves a property as it is.
#[derive(Debug, Default, Clone)]
pub(crate) struct AssetUpdate {
    pub(crate) priority: Option<i32>,
    pub(crate) json_metadata: Option<String>,
    pub(crate) consensus_mark: Option<f64>,
    pub(crate) honeypot_mark: Option<f64>,
    /// Emails or ids of users.
    pub(crate) to_be_labeled_by: Option<Vec<String>>,
    pub(crate) should_reset_to_be_labeled_by: Option<bool>,
    pub(crate) content: Option<String>,
    pub(crate) json_content: Option<String>,
    pub(crate) is_used_for_consensus: Option<bool>,
    pub(crate) is_honeypot: Option<bool>,
    pub(crate) resolution: Option<Resolution>,
    pub(crate) page_resolutions: Option<Vec<PageResolution>>,
    pub(crate) external_id: Option<String>,
}

impl Data {
    /// Returns the assets to page through, in creation order from just after `after`: the given
    /// candidate ids (when the filter names them), else the project's, else every asset.
    pub(crate) fn asset_source<'a>(
        &'a self,
        project: Option<&str>,
        candidates: Option<&[String]>,
        after: Option<Position>,
    ) -> Box<dyn Iterator<Item = (Position, &'a AssetRec)> + 'a> {
        let from = after.map_or(0, |(_, seq)| seq.saturating_add(1));
        if let Some(ids) = candidates {
            let mut seqs: Vec<u64> = ids
                .iter()
                .filter_map(|id| self.asset_ids.get(id).copied())
                .filter(|s| *s >= from)
                .collect();
            seqs.sort_unstable();
            seqs.dedup();
            return Box::new(
                seqs.into_iter()
                    .filter_map(move |s| self.assets.get(&s).map(|a| ((s, s), a))),
            );
        }
        match project {
            Some(p) => Box::new(
                self.project_assets
                    .get(p)
                    .into_iter()
                    .flat_map(move |set| set.range(from..))
                    .filter_map(move |s| self.assets.get(s).map(|a| ((*s, *s), a))),
            ),
            None => Box::new(self.assets.range(from..).map(|(s, a)| ((*s, *s), a))),
        }
    }
}

impl ServerState {
    /// Appends assets to a project, all or nothing.
    ///
    /// An asset whose client id already exists in this project is returned as is, not duplicated,
    /// so a retried batch is harmless.
    pub(crate) fn append_assets(
        &self,
        user_id: &str,
        project_id: &str,
        rows: Vec<NewAsset>,
    ) -> Result<Vec<AssetRec>, StoreError> {
        let mut d = self.write();
        check_new_assets(&d, user_id, project_id, &rows)?;
        let now = d.now();
        let mut out = Vec::with_capacity(rows.len());
        let mut new = Vec::new();
        for row in rows {
            if let Some(existing) = row.id.as_deref().and_then(|id| d.asset(id)) {
                out.push(existing.clone());
                continue;
            }
            let rec = new_record(&mut d, project_id, row, now);
            new.push(rec.clone());
            out.push(rec);
        }
        if !new.is_empty() {
            self.commit(&mut d, &[Change::Assets { assets: new }])?;
        }
        Ok(out)
    }

    /// Updates properties of the caller's assets, one update per asset, all or nothing;
    /// returns the updated assets in order.
    pub(crate) fn update_assets(
        &self,
        user_id: &str,
        updates: Vec<(String, AssetUpdate)>,
    ) -> Result<Vec<AssetRec>, StoreError> {
        let mut d = self.write();
        let now = d.now();
        let mut out: Vec<AssetRec> = Vec::with_capacity(updates.len());
        for (i, (id, u)) in updates.into_iter().enumerate() {
            // An asset named twice gets both updates, in order.
            let mut a = match out.iter().rposition(|a| a.id == id) {
                Some(pos) => out[pos].clone(),
                None => d
                    .owned_asset(user_id, &id)
                    .cloned()
                    .ok_or_else(|| StoreError::no_access("asset", &id))?,
            };
            check_update(&u, i)?;
            let assignees = match &u.to_be_labeled_by {
                Some(users) => Some(assignee_ids(&d, users, i)?),
                None => None,
            };
            set_properties(&mut a, u, assignees);
            a.updated_at = now;
            out.push(a);
        }
        if !out.is_empty() {
            self.commit(
                &mut d,
                &[Change::UpdateAssets {
                    assets: out.clone(),
                }],
            )?;
        }
        Ok(out)
    }

    /// Deletes these assets (already checked to be the user's), their labels and files.
    pub(crate) fn delete_assets(&self, ids: &[String]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut d = self.write();
        self.commit(&mut d, &[Change::DeleteAssets { ids: ids.to_vec() }])
    }
}

/// Refuses a batch of new assets unless the project is the user's and every client id is
/// usable: not empty, not another project's, not twice in the batch (unless it exists).
fn check_new_assets(
    d: &Data,
    user_id: &str,
    project_id: &str,
    rows: &[NewAsset],
) -> Result<(), StoreError> {
    if d.owned_project(user_id, project_id).is_none() {
        return Err(StoreError::no_access("project", project_id));
    }
    let mut seen = HashSet::new();
    for id in rows.iter().filter_map(|row| row.id.as_ref()) {
        if id.trim().is_empty() {
            return Err(StoreError::bad_input("asset ids must not be empty"));
        }
        if let Some(existing) = d.asset(id)
            && existing.project_id != project_id
        {
            return Err(StoreError::new(
                "ID_ALREADY_USED",
                format!("[assetIdAlreadyUsed] asset id {id} is used by another project"),
            ));
        }
        if !seen.insert(id.as_str()) && d.asset(id).is_none() {
            return Err(StoreError::bad_input(format!(
                "asset id {id} appears twice in idArray"
            )));
        }
    }
    Ok(())
}

/// Builds the record of a new asset of `project_id`, created at `now`, with the next `seq`.
fn new_record(d: &mut Data, project_id: &str, row: NewAsset, now: i64) -> AssetRec {
    let id = match row.id {
        Some(id) => id,
        None => d.new_id(now),
    };
    AssetRec {
        external_id: row.external_id.unwrap_or_else(|| id.clone()),
        id,
        seq: d.next_seq(),
        project_id: project_id.to_owned(),
        content: row.content,
        json_content: row.json_content,
        json_metadata: row.json_metadata,
        is_honeypot: row.is_honeypot,
        status: row.status.unwrap_or(AssetStatus::Todo),
        created_at: now,
        updated_at: now,
        priority: 0,
        consensus_mark: None,
        honeypot_mark: None,
        is_used_for_consensus: false,
        to_be_labeled_by: Vec::new(),
        resolution: None,
        page_resolutions: Vec::new(),
    }
}

/// Refuses the `i`-th update if its metadata is not JSON or a mark is outside `[0, 1]`.
fn check_update(u: &AssetUpdate, i: usize) -> Result<(), StoreError> {
    if u.json_metadata.as_deref().is_some_and(|m| !is_json(m)) {
        return Err(StoreError::bad_input(format!(
            "dataArray[{i}].jsonMetadata is not valid JSON"
        )));
    }
    for (name, mark) in [
        ("consensusMark", u.consensus_mark),
        ("honeypotMark", u.honeypot_mark),
    ] {
        if mark.is_some_and(|m| !(0.0..=1.0).contains(&m)) {
            return Err(StoreError::bad_input(format!(
                "dataArray[{i}].{name} must be between 0 and 1"
            )));
        }
    }
    Ok(())
}

/// Resolves the users of the `i`-th update's `toBeLabeledBy` (emails or ids) to ids, each once.
fn assignee_ids(d: &Data, users: &[String], i: usize) -> Result<Vec<String>, StoreError> {
    let mut ids = Vec::with_capacity(users.len());
    for who in users {
        let user = d
            .user_by_email(who)
            .or_else(|| d.user(who))
            .ok_or_else(|| {
                StoreError::bad_input(format!("dataArray[{i}].toBeLabeledBy: no user {who}"))
            })?;
        if !ids.contains(&user.id) {
            ids.push(user.id.clone());
        }
    }
    Ok(ids)
}

/// Sets the properties an update gives (checked already); `assignees` are its users' ids.
fn set_properties(a: &mut AssetRec, u: AssetUpdate, assignees: Option<Vec<String>>) {
    if u.should_reset_to_be_labeled_by == Some(true) {
        a.to_be_labeled_by.clear();
    }
    if let Some(ids) = assignees {
        a.to_be_labeled_by = ids;
    }
    set(&mut a.json_metadata, u.json_metadata);
    set(&mut a.priority, u.priority);
    set(&mut a.consensus_mark, u.consensus_mark.map(Some));
    set(&mut a.honeypot_mark, u.honeypot_mark.map(Some));
    set(&mut a.content, u.content);
    set(&mut a.json_content, u.json_content);
    set(&mut a.is_used_for_consensus, u.is_used_for_consensus);
    set(&mut a.is_honeypot, u.is_honeypot);
    set(&mut a.resolution, u.resolution.map(Some));
    set(&mut a.page_resolutions, u.page_resolutions);
    set(&mut a.external_id, u.external_id);
}

/// Replaces `field` with `value` if there is one.
fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *field = v;
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{asset, setup};
    use super::*;

    #[test]
    fn updates_change_only_what_is_given_all_or_nothing() {
        let (s, u, p) = setup();
        let a = s
            .append_assets(&u.id, &p.id, vec![asset(Some("a1")), asset(Some("a2"))])
            .unwrap();
        let bad = vec![
            (
                "a1".to_owned(),
                AssetUpdate {
                    priority: Some(3),
                    ..AssetUpdate::default()
                },
            ),
            (
                "a2".to_owned(),
                AssetUpdate {
                    json_metadata: Some("{".into()),
                    ..AssetUpdate::default()
                },
            ),
        ];
        assert_eq!(s.update_assets(&u.id, bad).unwrap_err().code, "BAD_INPUT");
        assert_eq!(s.read().asset("a1").unwrap().priority, 0, "nothing written");
        let good = vec![(
            "a2".to_owned(),
            AssetUpdate {
                priority: Some(7),
                json_metadata: Some(r#"{"k":1}"#.into()),
                to_be_labeled_by: Some(vec!["a@b.c".into()]),
                ..AssetUpdate::default()
            },
        )];
        let out = s.update_assets(&u.id, good).unwrap();
        assert_eq!(
            (out[0].priority, out[0].json_metadata.as_str()),
            (7, r#"{"k":1}"#)
        );
        assert_eq!(out[0].to_be_labeled_by, std::slice::from_ref(&u.id));
        assert_eq!(out[0].content, a[1].content, "untouched");
        assert_eq!(out[0].seq, a[1].seq, "same place");
    }
}
