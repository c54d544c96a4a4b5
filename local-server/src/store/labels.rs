//! Label writes (append, update, delete), which publish to the label subscribers, and the
//! ordered sources of `labels` pages.
//!
//! Every write validates all of its input before changing anything, and publishes while it still
//! holds the data's write lock, so every subscriber sees writes in the order they happen.

use std::collections::HashSet;
use std::sync::Arc;

use super::changes::Change;
use super::data::Data;
use super::deliveries::deliveries_for;
use super::error::StoreError;
use super::kinds::LabelType;
use super::paging::Position;
use super::records::{LabelRec, is_json};
use super::state::ServerState;
use crate::settings::{LabelSettings, shuffle_key};

/// A label to append.
pub(crate) struct NewLabel {
    pub(crate) asset_id: String,
    pub(crate) author_id: Option<String>,
    pub(crate) label_type: LabelType,
    pub(crate) json_response: String,
    pub(crate) model_name: Option<String>,
    pub(crate) seconds_to_label: Option<f64>,
    pub(crate) skipped: bool,
    pub(crate) client_version: Option<i32>,
    pub(crate) referenced_label_id: Option<String>,
}

/// One append call: its labels, and its options.
pub(crate) struct NewLabels {
    pub(crate) rows: Vec<NewLabel>,
    /// Every asset must be in this project.
    pub(crate) project_id: Option<String>,
    /// Deletes the labels of the same type and model name on the same assets first
    /// (`PREDICTION` and `INFERENCE` only).
    pub(crate) overwrite: bool,
}

impl NewLabels {
    /// Makes an append of these labels, in no given project, without overwriting.
    pub(crate) fn new(rows: Vec<NewLabel>) -> Self {
        NewLabels {
            rows,
            project_id: None,
            overwrite: false,
        }
    }
}

/// Changes to one label (`LabelData`); `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub(crate) struct LabelUpdate {
    pub(crate) is_sent_back_to_queue: Option<bool>,
    pub(crate) json_response: Option<String>,
    pub(crate) model_name: Option<String>,
    pub(crate) seconds_to_label: Option<f64>,
}

impl Data {
    /// Returns the labels to page through, from just after `after`: the given candidates (label
    /// ids, or the labels of the given assets, when the filter names them), else the project's,
    /// else every label; in creation order, or in shuffled order.
    pub(crate) fn label_source<'a>(
        &'a self,
        project: Option<&str>,
        candidates: Option<Candidates<'_>>,
        shuffled: bool,
        after: Option<Position>,
    ) -> Box<dyn Iterator<Item = (Position, &'a Arc<LabelRec>)> + 'a> {
        let position = move |l: &LabelRec| {
            if shuffled {
                (shuffle_key(&l.id), l.seq)
            } else {
                (l.seq, l.seq)
            }
        };
        if let Some(c) = candidates {
            let mut found: Vec<(Position, &'a Arc<LabelRec>)> = match c {
                Candidates::Labels(ids) => ids
                    .iter()
                    .filter_map(|id| self.label(id))
                    .map(|l| (position(l), l))
                    .collect(),
                Candidates::Assets(ids) => ids
                    .iter()
                    .flat_map(|a| self.labels_of_asset(a))
                    .map(|l| (position(l), l))
                    .collect(),
            };
            found.sort_unstable_by_key(|(p, _)| *p);
            found.dedup_by_key(|(p, _)| *p);
            found.retain(|(p, _)| after.is_none_or(|a| *p > a));
            return Box::new(found.into_iter());
        }
        let by_seq = move |seq: &u64| self.labels.get(seq).map(|l| ((*seq, *seq), l));
        let by_key = move |k: &(u64, u64)| self.labels.get(&k.1).map(|l| (*k, l));
        let from = after.map_or(0, |(_, s)| s.saturating_add(1));
        let after_key = std::ops::Bound::Excluded(after.unwrap_or((0, 0)));
        let after_key = if after.is_some() {
            after_key
        } else {
            std::ops::Bound::Unbounded
        };
        let range = (after_key, std::ops::Bound::Unbounded);
        match (project, shuffled) {
            (Some(p), false) => Box::new(
                self.project_labels
                    .get(p)
                    .into_iter()
                    .flat_map(move |s| s.range(from..))
                    .filter_map(by_seq),
            ),
            (Some(p), true) => Box::new(
                self.project_shuffled
                    .get(p)
                    .into_iter()
                    .flat_map(move |s| s.range(range))
                    .filter_map(by_key),
            ),
            (None, false) => Box::new(self.labels.range(from..).map(|(s, l)| ((*s, *s), l))),
            (None, true) => Box::new(self.shuffled.range(range).filter_map(by_key)),
        }
    }
}

impl Data {
    /// Returns the labels of `project` created in `[from, to]` (inclusive), from just after
    /// `after`, in creation order or in shuffled order, as [`label_source`](Self::label_source)
    /// would; from the `createdAt` index, so in proportion to the window, not to the project.
    pub(crate) fn label_window<'a>(
        &'a self,
        project: &str,
        span: (i64, i64),
        shuffled: bool,
        after: Option<Position>,
    ) -> Box<dyn Iterator<Item = (Position, &'a Arc<LabelRec>)> + 'a> {
        let by_seq = move |seq: u64| self.labels.get(&seq).map(|l| ((seq, seq), l));
        if !shuffled && self.created.in_order(project) {
            // In creation order already: resume just after the label the last page ended on.
            let resume = match after {
                None => Some(None),
                Some((_, seq)) => self.labels.get(&seq).map(|l| Some((l.created_at, seq))),
            };
            if let Some(resume) = resume {
                return Box::new(
                    self.created
                        .window(project, span, resume)
                        .filter_map(by_seq),
                );
            }
        }
        let position = move |l: &LabelRec| {
            if shuffled {
                (shuffle_key(&l.id), l.seq)
            } else {
                (l.seq, l.seq)
            }
        };
        let mut found: Vec<(Position, &'a Arc<LabelRec>)> = self
            .created
            .window(project, span, None)
            .filter_map(|seq| self.labels.get(&seq))
            .map(|l| (position(l), l))
            .filter(|(p, _)| after.is_none_or(|a| *p > a))
            .collect();
        found.sort_unstable_by_key(|(p, _)| *p);
        Box::new(found.into_iter())
    }
}

/// A small set of labels a filter names: by label id, or by asset id.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Candidates<'a> {
    Labels(&'a [String]),
    Assets(&'a [String]),
}

impl ServerState {
    /// Appends labels, all or nothing, then pushes each to its project's subscribers.
    ///
    /// Every asset must belong to one of `user_id`'s projects (and to `project_id` if given);
    /// every `json_response` must be JSON; every author must exist. All the labels of one call
    /// share one `created_at` (the call's instant, floored to the settings' resolution).
    pub(crate) fn append_labels(
        &self,
        user_id: &str,
        new: NewLabels,
        settings: &LabelSettings,
    ) -> Result<Vec<Arc<LabelRec>>, StoreError> {
        let mut d = self.write();
        let targets = target_projects(&d, user_id, &new)?;
        let replaced = if new.overwrite {
            overwritten(&d, &new.rows)?
        } else {
            Vec::new()
        };
        let now = d.now();
        let stamp = settings.stamp(now);
        let mut out = Vec::with_capacity(new.rows.len());
        for (row, project) in new.rows.into_iter().zip(targets) {
            out.push(new_record(&mut d, user_id, row, project, now, stamp));
        }
        // The webhook deliveries these labels cause go in the same journal line.
        let deliveries = deliveries_for(&mut d, &out, now);
        let rings = deliveries.is_some();
        let mut changes = vec![Change::Labels {
            now,
            labels: out,
            replaced,
        }];
        changes.extend(deliveries);
        self.commit(&mut d, &changes)?;
        let Some(Change::Labels { labels, .. }) = changes.first() else {
            return Ok(Vec::new());
        };
        let made: Vec<Arc<LabelRec>> = labels
            .iter()
            .filter_map(|l| d.label(&l.id).cloned())
            .collect();
        self.inner.subscribers.publish(&made);
        drop(d); // only now: publishing under the lock keeps subscribers in write order
        if rings {
            self.ring_outbox();
        }
        Ok(made)
    }

    /// Updates the given fields of one of `user_id`'s labels, bumps its `version`, sets its
    /// `updated_at` to now (floored to the settings' resolution, never before `created_at`),
    /// and pushes the updated label to its project's subscribers, even if nothing changed.
    /// The label keeps its place, `created_at`, and its asset's `updatedAt`.
    pub(crate) fn update_label(
        &self,
        user_id: &str,
        id: &str,
        update: LabelUpdate,
        settings: &LabelSettings,
    ) -> Result<Arc<LabelRec>, StoreError> {
        let mut d = self.write();
        let Some(old) = d.owned_label(user_id, id).cloned() else {
            return Err(StoreError::no_access("label", id));
        };
        if let Some(json) = &update.json_response
            && !is_json(json)
        {
            return Err(StoreError::bad_input(format!(
                "label {id}: jsonResponse is not valid JSON"
            )));
        }
        let now = d.now();
        let mut new = LabelRec::clone(&old);
        new.updated_at = settings.stamp(now).max(old.updated_at).max(old.created_at);
        new.version = old.version.saturating_add(1);
        if let Some(v) = update.is_sent_back_to_queue {
            new.is_sent_back_to_queue = v;
        }
        if let Some(v) = update.json_response {
            new.json_response = v;
        }
        if let Some(v) = update.model_name {
            new.model_name = Some(v);
        }
        if let Some(v) = update.seconds_to_label {
            new.seconds_to_label = Some(v);
        }
        self.commit(&mut d, &[Change::UpdateLabel { label: new }])?;
        let Some(new) = d.label(id).cloned() else {
            return Err(StoreError::no_access("label", id));
        };
        self.inner.subscribers.publish(std::slice::from_ref(&new));
        drop(d); // only now: publishing under the lock keeps subscribers in write order
        Ok(new)
    }

    /// Deletes labels of `user_id`'s projects, all or nothing; returns their ids in the order
    /// given, each once. Only `PREDICTION` and `INFERENCE` labels can be deleted, as on Kili.
    /// Nothing is pushed to subscribers.
    pub(crate) fn delete_labels(
        &self,
        user_id: &str,
        ids: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let mut d = self.write();
        let mut out: Vec<String> = Vec::with_capacity(ids.len());
        let mut seen = HashSet::new();
        for id in ids {
            let label = d
                .owned_label(user_id, id)
                .ok_or_else(|| StoreError::no_access("label", id))?;
            if !label.label_type.is_deletable() {
                return Err(StoreError::bad_input(format!(
                    "[labelNotDeletable] label {id} is a {} label: only PREDICTION and \
                     INFERENCE labels can be deleted",
                    label.label_type.wire_name()
                )));
            }
            if seen.insert(id.as_str()) {
                out.push(id.clone());
            }
        }
        if !out.is_empty() {
            self.commit(&mut d, &[Change::DeleteLabels { ids: out.clone() }])?;
        }
        Ok(out)
    }
}

/// Checks every row of an append (its asset is the user's, and in the call's project if it
/// names one; its `jsonResponse` is JSON; its author exists); returns each row's project.
fn target_projects(d: &Data, user_id: &str, new: &NewLabels) -> Result<Vec<String>, StoreError> {
    let mut targets = Vec::with_capacity(new.rows.len());
    for (i, row) in new.rows.iter().enumerate() {
        let asset = d
            .owned_asset(user_id, &row.asset_id)
            .filter(|a| new.project_id.as_ref().is_none_or(|p| *p == a.project_id))
            .ok_or_else(|| StoreError::no_access("asset", &row.asset_id))?;
        if !is_json(&row.json_response) {
            return Err(StoreError::bad_input(format!(
                "label {i}: jsonResponse is not valid JSON"
            )));
        }
        if let Some(author) = &row.author_id
            && d.user(author).is_none()
        {
            return Err(StoreError::bad_input(format!(
                "label {i}: unknown author {author}"
            )));
        }
        targets.push(asset.project_id.clone());
    }
    Ok(targets)
}

/// Returns the ids of the labels an `overwrite` append replaces: those of the same asset, type and
/// model name as a new one. Refuses types other than `PREDICTION` and `INFERENCE`.
fn overwritten(d: &Data, rows: &[NewLabel]) -> Result<Vec<String>, StoreError> {
    if let Some(row) = rows.iter().find(|r| !r.label_type.is_deletable()) {
        return Err(StoreError::bad_input(format!(
            "[badOverwrite] overwrite replaces PREDICTION and INFERENCE labels only, \
             not {} labels",
            row.label_type.wire_name()
        )));
    }
    let keys: HashSet<(&str, LabelType, Option<&str>)> = rows
        .iter()
        .map(|r| (r.asset_id.as_str(), r.label_type, r.model_name.as_deref()))
        .collect();
    let mut replaced = Vec::new();
    for (asset, label_type, model) in &keys {
        replaced.extend(
            d.labels_of_asset(asset)
                .filter(|l| l.label_type == *label_type && l.model_name.as_deref() == *model)
                .map(|l| l.id.clone()),
        );
    }
    Ok(replaced)
}

/// Builds the record of a new label of `project`, made at `now` and stamped `stamp`, with the
/// next `seq`; its author is the row's, else the caller.
fn new_record(
    d: &mut Data,
    user_id: &str,
    row: NewLabel,
    project: String,
    now: i64,
    stamp: i64,
) -> LabelRec {
    LabelRec {
        id: d.new_id(now),
        seq: d.next_seq(),
        project_id: project,
        author_id: row.author_id.unwrap_or_else(|| user_id.to_owned()),
        label_type: row.label_type,
        json_response: row.json_response,
        created_at: stamp,
        updated_at: stamp,
        version: 0,
        is_sent_back_to_queue: false,
        model_name: row.model_name,
        seconds_to_label: row.seconds_to_label,
        skipped: row.skipped,
        client_version: row.client_version,
        referenced_label_id: row.referenced_label_id,
        asset_id: row.asset_id,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::records::{ProjectRec, UserRec};
    use super::super::tests::{asset, setup};
    use super::*;
    use std::time::Duration;

    pub(crate) fn label(asset_id: &str, json: &str, label_type: LabelType) -> NewLabel {
        NewLabel {
            asset_id: asset_id.into(),
            author_id: None,
            label_type,
            json_response: json.into(),
            model_name: None,
            seconds_to_label: None,
            skipped: false,
            client_version: None,
            referenced_label_id: None,
        }
    }

    /// Makes a store with one user, one project, and its asset `a1`.
    fn with_asset() -> (ServerState, UserRec, ProjectRec) {
        let (s, u, p) = setup();
        s.append_assets(&u.id, &p.id, vec![asset(Some("a1"))])
            .unwrap();
        (s, u, p)
    }

    fn default(asset_id: &str, json: &str) -> NewLabel {
        label(asset_id, json, LabelType::Default)
    }

    const MS: LabelSettings = LabelSettings::DEFAULT;

    #[test]
    fn a_bad_label_rejects_the_whole_batch_and_publishes_nothing() {
        let (s, u, p) = with_asset();
        let mut rx = s.subscribe(&p.id, 1000);
        let err = s
            .append_labels(
                &u.id,
                NewLabels::new(vec![default("a1", "{}"), default("a1", "{")]),
                &MS,
            )
            .unwrap_err();
        assert_eq!(err.code, "BAD_INPUT");
        assert_eq!(s.label_count(), 0);
        assert!(rx.try_recv().is_err(), "nothing published");
        let made = s
            .append_labels(
                &u.id,
                NewLabels::new(vec![default("a1", "{}"), default("a1", "{}")]),
                &MS,
            )
            .unwrap();
        assert_eq!(
            made[0].created_at, made[1].created_at,
            "one call, one instant"
        );
        assert!(made[0].seq < made[1].seq);
        assert_eq!(
            (made[0].version, made[0].updated_at),
            (0, made[0].created_at)
        );
        assert_eq!(rx.try_recv().unwrap().id, made[0].id);
        assert_eq!(rx.try_recv().unwrap().id, made[1].id);
    }

    #[test]
    fn latest_for_user_follows_insertion_even_with_equal_timestamps() {
        let (s, u, _) = with_asset();
        let hour = LabelSettings::new(Duration::from_secs(3600), false, 0).unwrap();
        let first = s
            .append_labels(&u.id, NewLabels::new(vec![default("a1", "{}")]), &hour)
            .unwrap();
        let second = s
            .append_labels(
                &u.id,
                NewLabels::new(vec![label("a1", "{}", LabelType::Prediction)]),
                &hour,
            )
            .unwrap();
        assert_eq!(first[0].created_at, second[0].created_at);
        assert_eq!(first[0].created_at % 3_600_000, 0);
        let d = s.read();
        assert!(d.has_newer(&first[0], false), "the prediction is newer");
        assert!(!d.has_newer(&first[0], true), "but not a DEFAULT one");
        assert!(!d.has_newer(&second[0], false));
        drop(d);
        // Deleting the newest gives the first its place back.
        s.delete_labels(&u.id, &[second[0].id.clone()]).unwrap();
        assert!(!s.read().has_newer(&first[0], false));
    }

    #[test]
    fn update_replaces_bumps_version_and_publishes() {
        let (s, u, p) = with_asset();
        let made = s
            .append_labels(
                &u.id,
                NewLabels::new(vec![default("a1", "{}"), default("a1", "{}")]),
                &MS,
            )
            .unwrap();
        let mut rx = s.subscribe(&p.id, 1000);
        let update = LabelUpdate {
            json_response: Some(r#"{"JOB":1}"#.into()),
            model_name: Some("m".into()),
            ..LabelUpdate::default()
        };
        let new = s.update_label(&u.id, &made[0].id, update, &MS).unwrap();
        assert_eq!(
            (new.version, new.json_response.as_str()),
            (1, r#"{"JOB":1}"#)
        );
        assert_eq!(new.model_name.as_deref(), Some("m"));
        assert_eq!((new.created_at, new.seq), (made[0].created_at, made[0].seq));
        assert!(new.updated_at >= new.created_at);
        let pushed = rx.try_recv().unwrap();
        assert_eq!(
            (pushed.id.as_str(), pushed.version),
            (made[0].id.as_str(), 1)
        );
        // Only the queue flag: still a new version, still pushed; other fields kept.
        let flag = LabelUpdate {
            is_sent_back_to_queue: Some(true),
            ..LabelUpdate::default()
        };
        let newer = s.update_label(&u.id, &made[0].id, flag, &MS).unwrap();
        assert_eq!((newer.version, newer.is_sent_back_to_queue), (2, true));
        assert_eq!(newer.json_response, r#"{"JOB":1}"#);
        assert!(newer.updated_at >= new.updated_at);
        assert_eq!(rx.try_recv().unwrap().version, 2);
        let d = s.read();
        let ids: Vec<&str> = d.labels.values().map(|l| l.id.as_str()).collect();
        assert_eq!(
            ids,
            [made[0].id.as_str(), made[1].id.as_str()],
            "keeps its place"
        );
        assert_eq!(d.labels.values().next().unwrap().version, 2);
    }

    #[test]
    fn refused_updates_change_and_publish_nothing() {
        let (s, u, p) = with_asset();
        let made = s
            .append_labels(&u.id, NewLabels::new(vec![default("a1", "{}")]), &MS)
            .unwrap();
        let mut rx = s.subscribe(&p.id, 1000);
        let bad = LabelUpdate {
            json_response: Some("{".into()),
            ..LabelUpdate::default()
        };
        assert_eq!(
            s.update_label(&u.id, &made[0].id, bad, &MS)
                .unwrap_err()
                .code,
            "BAD_INPUT"
        );
        let other = s.ensure_user("k2", "x@y.z").unwrap();
        let err = s
            .update_label(&other.id, &made[0].id, LabelUpdate::default(), &MS)
            .unwrap_err();
        assert_eq!(err.code, "NO_ACCESS_RIGHTS");
        let err = s
            .update_label(&u.id, "nope", LabelUpdate::default(), &MS)
            .unwrap_err();
        assert_eq!(err.code, "NO_ACCESS_RIGHTS");
        assert!(rx.try_recv().is_err(), "nothing published");
        assert_eq!(s.read().labels.values().next().unwrap().version, 0);
    }

    #[test]
    fn delete_is_all_or_nothing_and_only_for_predictions_and_inferences() {
        let (s, u, p) = with_asset();
        let made = s
            .append_labels(
                &u.id,
                NewLabels::new(vec![
                    label("a1", "{}", LabelType::Prediction),
                    label("a1", "{}", LabelType::Inference),
                    default("a1", "{}"),
                ]),
                &MS,
            )
            .unwrap();
        let ids: Vec<String> = made.iter().map(|l| l.id.clone()).collect();
        let mut rx = s.subscribe(&p.id, 1000);
        let err = s.delete_labels(&u.id, &ids).unwrap_err();
        assert_eq!(err.code, "BAD_INPUT");
        assert!(err.message.contains("DEFAULT"), "{err}");
        let unknown = [ids[0].clone(), "nope".to_owned()];
        assert_eq!(
            s.delete_labels(&u.id, &unknown).unwrap_err().code,
            "NO_ACCESS_RIGHTS"
        );
        let other = s.ensure_user("k2", "x@y.z").unwrap();
        assert!(s.delete_labels(&other.id, &ids[..1]).is_err());
        assert_eq!(s.label_count(), 3, "refusals delete nothing");
        let twice = [ids[1].clone(), ids[0].clone(), ids[1].clone()];
        assert_eq!(
            s.delete_labels(&u.id, &twice).unwrap(),
            [ids[1].clone(), ids[0].clone()]
        );
        assert_eq!(s.label_count(), 1);
        assert!(rx.try_recv().is_err(), "deleting pushes nothing");
        assert!(!s.read().has_newer(&made[2], false));
    }
}
