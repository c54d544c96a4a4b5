//! Label writes (append, update, delete) and the subscribers they notify.
//!
//! Every write validates all of its input before changing anything, and publishes while it still
//! holds the data's write lock, so every subscriber sees writes in the order they happen.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures::channel::mpsc::{UnboundedReceiver, unbounded};

use super::{Data, LabelRec, ServerState, StoreError, Subscriber};
use crate::schema::enums::{AssetStatus, LabelType};
use crate::settings::LabelSettings;

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

/// Changes to one label (`LabelData`); `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub(crate) struct LabelUpdate {
    pub(crate) is_sent_back_to_queue: Option<bool>,
    pub(crate) json_response: Option<String>,
    pub(crate) model_name: Option<String>,
    pub(crate) seconds_to_label: Option<f64>,
}

fn is_json(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok()
}

impl Data {
    /// Whether a label of the same author on the same asset was inserted after `label` (of type
    /// `DEFAULT` only, if `default_only`). By insertion sequence, not by timestamp: labels may
    /// share a `createdAt`. Constant time, so reading `isLatestLabelForUser` on every label of a
    /// large project stays linear.
    pub(crate) fn has_newer(&self, label: &LabelRec, default_only: bool) -> bool {
        let key = (label.asset_id.clone(), label.author_id.clone());
        match self.latest.get(&key) {
            Some((any, default)) => {
                let newest = if default_only { *default } else { Some(*any) };
                newest.is_some_and(|seq| seq > label.seq)
            }
            None => false,
        }
    }

    /// The label with this id if `user_id` owns its project.
    pub(crate) fn owned_label(&self, user_id: &str, id: &str) -> Option<&Arc<LabelRec>> {
        self.labels
            .iter()
            .find(|l| l.id == id)
            .filter(|l| self.owned_project(user_id, &l.project_id).is_some())
    }

    fn note_latest(&mut self, label: &LabelRec) {
        let latest = self
            .latest
            .entry((label.asset_id.clone(), label.author_id.clone()))
            .or_insert((label.seq, None));
        latest.0 = latest.0.max(label.seq);
        if label.label_type == LabelType::Default {
            latest.1 = latest.1.max(Some(label.seq));
        }
    }

    /// Recomputes the newest-label entries of these (asset, author) pairs from the labels left.
    fn recompute_latest(&mut self, keys: HashSet<(String, String)>) {
        let mut fresh: HashMap<(String, String), (u64, Option<u64>)> = HashMap::new();
        for l in &self.labels {
            let key = (l.asset_id.clone(), l.author_id.clone());
            if !keys.contains(&key) {
                continue;
            }
            let entry = fresh.entry(key).or_insert((l.seq, None));
            entry.0 = entry.0.max(l.seq);
            if l.label_type == LabelType::Default {
                entry.1 = entry.1.max(Some(l.seq));
            }
        }
        for key in keys {
            match fresh.remove(&key) {
                Some(entry) => self.latest.insert(key, entry),
                None => self.latest.remove(&key),
            };
        }
    }
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
        project_id: Option<&str>,
        rows: Vec<NewLabel>,
        settings: &LabelSettings,
    ) -> Result<Vec<Arc<LabelRec>>, StoreError> {
        let mut d = self.inner.data.write();
        let mut targets = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let asset = d
                .owned_asset(user_id, &row.asset_id)
                .filter(|a| project_id.is_none_or(|p| p == a.project_id))
                .ok_or_else(|| StoreError::no_access("asset", &row.asset_id))?;
            if !is_json(&row.json_response) {
                return Err(StoreError::new(
                    "BAD_INPUT",
                    format!("label {i}: jsonResponse is not valid JSON"),
                ));
            }
            if let Some(author) = &row.author_id
                && d.user(author).is_none()
            {
                return Err(StoreError::new(
                    "BAD_INPUT",
                    format!("label {i}: unknown author {author}"),
                ));
            }
            targets.push(asset.project_id.clone());
        }
        let now = d.now();
        let stamp = settings.stamp(now);
        let mut out = Vec::with_capacity(rows.len());
        for (row, project) in rows.into_iter().zip(targets) {
            d.last_label_seq += 1;
            let label = Arc::new(LabelRec {
                id: d.ids.next(now),
                seq: d.last_label_seq,
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
            });
            if let Some(&i) = d.asset_index.get(&label.asset_id)
                && let Some(asset) = d.assets.get_mut(i)
            {
                asset.updated_at = now;
                asset.status = match label.label_type {
                    LabelType::Default => AssetStatus::Labeled,
                    LabelType::Review => AssetStatus::Reviewed,
                    _ => asset.status,
                };
            }
            d.note_latest(&label);
            d.labels.push(Arc::clone(&label));
            out.push(label);
        }
        self.publish(&out);
        drop(d); // only now: publishing under the lock keeps subscribers in write order
        Ok(out)
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
        let mut d = self.inner.data.write();
        let Some(old) = d.owned_label(user_id, id).cloned() else {
            return Err(StoreError::no_access("label", id));
        };
        if let Some(json) = &update.json_response
            && !is_json(json)
        {
            return Err(StoreError::new(
                "BAD_INPUT",
                format!("label {id}: jsonResponse is not valid JSON"),
            ));
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
        let new = Arc::new(new);
        if let Some(slot) = d.labels.iter_mut().find(|l| l.id == id) {
            *slot = Arc::clone(&new);
        }
        self.publish(std::slice::from_ref(&new));
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
        let mut d = self.inner.data.write();
        let mut out: Vec<String> = Vec::with_capacity(ids.len());
        let mut keys = HashSet::new();
        for id in ids {
            let label = d
                .owned_label(user_id, id)
                .ok_or_else(|| StoreError::no_access("label", id))?;
            if !label.label_type.is_deletable() {
                return Err(StoreError::new(
                    "BAD_INPUT",
                    format!(
                        "[labelNotDeletable] label {id} is a {} label: only PREDICTION and \
                         INFERENCE labels can be deleted",
                        label.label_type.wire_name()
                    ),
                ));
            }
            keys.insert((label.asset_id.clone(), label.author_id.clone()));
            if !out.contains(id) {
                out.push(id.clone());
            }
        }
        let gone: HashSet<&String> = out.iter().collect();
        d.labels.retain(|l| !gone.contains(&l.id));
        d.recompute_latest(keys);
        Ok(out)
    }

    /// Registers a subscriber for the labels of a project (access is checked by the caller).
    pub(crate) fn subscribe(&self, project_id: &str) -> UnboundedReceiver<Arc<LabelRec>> {
        let (tx, rx) = unbounded();
        let mut subs = self.inner.subscribers.lock();
        subs.retain(|s| !s.tx.is_closed());
        subs.push(Subscriber {
            project_id: project_id.to_owned(),
            tx,
        });
        rx
    }

    /// Sends each label to its project's subscribers, dropping the ones that went away. Call it
    /// with the data's write lock held.
    fn publish(&self, labels: &[Arc<LabelRec>]) {
        let mut subs = self.inner.subscribers.lock();
        for label in labels {
            subs.retain(|s| {
                s.project_id != label.project_id || s.tx.unbounded_send(Arc::clone(label)).is_ok()
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{asset, setup};
    use super::*;
    use std::time::Duration;

    fn label(asset_id: &str, json: &str, label_type: LabelType) -> NewLabel {
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

    fn default(asset_id: &str, json: &str) -> NewLabel {
        label(asset_id, json, LabelType::Default)
    }

    const MS: LabelSettings = LabelSettings::DEFAULT;

    #[test]
    fn a_bad_label_rejects_the_whole_batch_and_publishes_nothing() {
        let (s, u, p) = setup();
        s.append_assets(&u.id, &p.id, vec![asset(Some("a1"))])
            .unwrap();
        let mut rx = s.subscribe(&p.id);
        let err = s
            .append_labels(
                &u.id,
                None,
                vec![default("a1", "{}"), default("a1", "{")],
                &MS,
            )
            .unwrap_err();
        assert_eq!(err.code, "BAD_INPUT");
        assert_eq!(s.label_count(), 0);
        assert!(rx.try_recv().is_err(), "nothing published");
        let made = s
            .append_labels(
                &u.id,
                None,
                vec![default("a1", "{}"), default("a1", "{}")],
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
        let (s, u, p) = setup();
        s.append_assets(&u.id, &p.id, vec![asset(Some("a1"))])
            .unwrap();
        let hour = LabelSettings::new(Duration::from_secs(3600), false, 0).unwrap();
        let first = s
            .append_labels(&u.id, None, vec![default("a1", "{}")], &hour)
            .unwrap();
        let second = s
            .append_labels(
                &u.id,
                None,
                vec![label("a1", "{}", LabelType::Prediction)],
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
        let (s, u, p) = setup();
        s.append_assets(&u.id, &p.id, vec![asset(Some("a1"))])
            .unwrap();
        let made = s
            .append_labels(
                &u.id,
                None,
                vec![default("a1", "{}"), default("a1", "{}")],
                &MS,
            )
            .unwrap();
        let mut rx = s.subscribe(&p.id);
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
        let ids: Vec<&str> = d.labels.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(
            ids,
            [made[0].id.as_str(), made[1].id.as_str()],
            "keeps its place"
        );
        assert_eq!(d.labels[0].version, 2);
    }

    #[test]
    fn refused_updates_change_and_publish_nothing() {
        let (s, u, p) = setup();
        s.append_assets(&u.id, &p.id, vec![asset(Some("a1"))])
            .unwrap();
        let made = s
            .append_labels(&u.id, None, vec![default("a1", "{}")], &MS)
            .unwrap();
        let mut rx = s.subscribe(&p.id);
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
        let other = s.ensure_user("k2", "x@y.z");
        let err = s
            .update_label(&other.id, &made[0].id, LabelUpdate::default(), &MS)
            .unwrap_err();
        assert_eq!(err.code, "NO_ACCESS_RIGHTS");
        let err = s
            .update_label(&u.id, "nope", LabelUpdate::default(), &MS)
            .unwrap_err();
        assert_eq!(err.code, "NO_ACCESS_RIGHTS");
        assert!(rx.try_recv().is_err(), "nothing published");
        assert_eq!(s.read().labels[0].version, 0);
    }

    #[test]
    fn delete_is_all_or_nothing_and_only_for_predictions_and_inferences() {
        let (s, u, p) = setup();
        s.append_assets(&u.id, &p.id, vec![asset(Some("a1"))])
            .unwrap();
        let made = s
            .append_labels(
                &u.id,
                None,
                vec![
                    label("a1", "{}", LabelType::Prediction),
                    label("a1", "{}", LabelType::Inference),
                    default("a1", "{}"),
                ],
                &MS,
            )
            .unwrap();
        let ids: Vec<String> = made.iter().map(|l| l.id.clone()).collect();
        let mut rx = s.subscribe(&p.id);
        let err = s.delete_labels(&u.id, &ids).unwrap_err();
        assert_eq!(err.code, "BAD_INPUT");
        assert!(err.message.contains("DEFAULT"), "{err}");
        let unknown = [ids[0].clone(), "nope".to_owned()];
        assert_eq!(
            s.delete_labels(&u.id, &unknown).unwrap_err().code,
            "NO_ACCESS_RIGHTS"
        );
        let other = s.ensure_user("k2", "x@y.z");
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
