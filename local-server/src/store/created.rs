//! The labels of each project by (`createdAt`, `seq`): what makes a `createdAt` window (the
//! catch-up's `countLabels` and `labels` with `createdAtGte`/`createdAtLte`) cost in proportion
//! to the window, not to the project.
//!
//! Timestamps never go backwards while one server runs, so a project's labels are usually in the
//! same order by (`createdAt`, `seq`) as by `seq` (creation order): a window is then read in
//! creation order straight from the index. A label stamped before the project's latest one (a
//! restart on the same state with a coarser `created_at_resolution`, a clock set back) marks the
//! project as out of order, and its windows are sorted by `seq` when read: still correct, at
//! O(w log w) for a window of w labels.

use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;

/// One project's labels by (`createdAt`, `seq`).
#[derive(Debug, Default)]
struct ProjectTimes {
    keys: BTreeSet<(i64, u64)>,
    /// The latest `createdAt` inserted so far.
    latest: i64,
    /// Whether (`createdAt`, `seq`) order has always been `seq` order for this project.
    in_order: bool,
}

/// The labels of every project by (`createdAt`, `seq`).
#[derive(Debug, Default)]
pub(crate) struct CreatedIndex {
    projects: HashMap<String, ProjectTimes>,
}

impl CreatedIndex {
    /// Adds a label.
    pub(crate) fn insert(&mut self, project_id: &str, created_at: i64, seq: u64) {
        let p = match self.projects.get_mut(project_id) {
            Some(p) => p,
            None => self
                .projects
                .entry(project_id.to_owned())
                .or_insert_with(|| ProjectTimes {
                    in_order: true,
                    latest: i64::MIN,
                    ..ProjectTimes::default()
                }),
        };
        let last_seq = p.keys.last().map(|&(_, s)| s);
        if created_at < p.latest || last_seq.is_some_and(|s| s > seq) {
            p.in_order = false;
        }
        p.latest = p.latest.max(created_at);
        p.keys.insert((created_at, seq));
    }

    /// Removes a label.
    pub(crate) fn remove(&mut self, project_id: &str, created_at: i64, seq: u64) {
        if let Some(p) = self.projects.get_mut(project_id) {
            p.keys.remove(&(created_at, seq));
        }
    }

    /// Forgets a deleted project.
    pub(crate) fn remove_project(&mut self, project_id: &str) {
        self.projects.remove(project_id);
    }

    /// Returns whether a project's windows come out of the index in creation order.
    pub(crate) fn in_order(&self, project_id: &str) -> bool {
        self.projects.get(project_id).is_none_or(|p| p.in_order)
    }

    /// Returns the `seq`s of the project's labels created in `[from, to]` (inclusive), starting
    /// just after the label (`created_at`, `seq`) `after` if given; in (`createdAt`, `seq`) order.
    pub(crate) fn window<'a>(
        &'a self,
        project_id: &str,
        (from, to): (i64, i64),
        after: Option<(i64, u64)>,
    ) -> impl Iterator<Item = u64> + use<'a> {
        let lower = match after {
            Some(a) if a >= (from, 0) => Bound::Excluded(a),
            _ => Bound::Included((from, 0)),
        };
        let upper = Bound::Included((to, u64::MAX));
        let valid = from <= to && lower_below_upper(lower, to);
        self.projects
            .get(project_id)
            .filter(|_| valid)
            .into_iter()
            .flat_map(move |p| p.keys.range((lower, upper)))
            .map(|&(_, seq)| seq)
    }
}

/// Returns whether a range from `lower` to `(to, u64::MAX)` is not empty (`BTreeSet::range`
/// panics on a range whose start is after its end).
fn lower_below_upper(lower: Bound<(i64, u64)>, to: i64) -> bool {
    match lower {
        Bound::Included(l) => l <= (to, u64::MAX),
        Bound::Excluded(l) => l < (to, u64::MAX),
        Bound::Unbounded => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_inclusive_and_resume_after_a_label() {
        let mut idx = CreatedIndex::default();
        for (t, s) in [(10, 1), (10, 2), (20, 3), (30, 4), (30, 5)] {
            idx.insert("p", t, s);
        }
        fn all(idx: &CreatedIndex, from: i64, to: i64, after: Option<(i64, u64)>) -> Vec<u64> {
            idx.window("p", (from, to), after).collect()
        }
        assert_eq!(all(&idx, 10, 30, None), [1, 2, 3, 4, 5]);
        assert_eq!(all(&idx, 11, 29, None), [3]);
        assert_eq!(all(&idx, 10, 10, None), [1, 2]);
        assert_eq!(all(&idx, 10, 30, Some((10, 2))), [3, 4, 5]);
        assert_eq!(all(&idx, 30, 30, Some((30, 5))), Vec::<u64>::new());
        assert_eq!(all(&idx, 31, 10, None), Vec::<u64>::new(), "an empty span");
        assert_eq!(all(&idx, i64::MIN, i64::MAX, None).len(), 5);
        assert!(idx.window("q", (0, 99), None).next().is_none());
        assert!(idx.in_order("p"));
        idx.remove("p", 20, 3);
        assert_eq!(all(&idx, 0, 99, None), [1, 2, 4, 5]);
    }

    #[test]
    fn a_label_stamped_before_the_latest_marks_the_project_out_of_order() {
        let mut idx = CreatedIndex::default();
        idx.insert("p", 20, 1);
        idx.insert("p", 10, 2);
        assert!(!idx.in_order("p"));
        assert_eq!(idx.window("p", (0, 99), None).collect::<Vec<_>>(), [2, 1]);
        idx.remove_project("p");
        assert!(idx.in_order("p"));
    }
}
