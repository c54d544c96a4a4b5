//! The label subscribers: one channel per live subscription, by project. Label writes publish
//! to them while they hold the data's write lock, so every subscriber sees writes in the order
//! they happen.

use std::sync::Arc;

use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use parking_lot::Mutex;

use super::records::LabelRec;

/// The live subscriptions to the labels of each project.
#[derive(Default)]
pub(crate) struct Subscribers {
    list: Mutex<Vec<Subscriber>>,
}

struct Subscriber {
    project_id: String,
    tx: UnboundedSender<Arc<LabelRec>>,
}

impl Subscribers {
    /// Registers a subscriber for the labels of a project; dropping the receiver ends it.
    pub(crate) fn subscribe(&self, project_id: &str) -> UnboundedReceiver<Arc<LabelRec>> {
        let (tx, rx) = unbounded();
        let mut subs = self.list.lock();
        subs.retain(|s| !s.tx.is_closed());
        subs.push(Subscriber {
            project_id: project_id.to_owned(),
            tx,
        });
        rx
    }

    /// Sends each label to its project's subscribers, dropping the ones that went away. Call it
    /// with the data's write lock held.
    pub(crate) fn publish(&self, labels: &[Arc<LabelRec>]) {
        let mut subs = self.list.lock();
        for label in labels {
            subs.retain(|s| {
                s.project_id != label.project_id || s.tx.unbounded_send(Arc::clone(label)).is_ok()
            });
        }
    }

    /// Counts the live subscriptions (forgetting the ones whose receiver was dropped).
    pub(crate) fn count(&self) -> usize {
        let mut subs = self.list.lock();
        subs.retain(|s| !s.tx.is_closed());
        subs.len()
    }
}
