//! The label subscribers: one bounded queue per live subscription, by project. Label writes
//! publish to them while they hold the data's write lock, so every subscriber sees writes in the
//! order they happen. Publishing never waits: a subscriber whose queue is full (its client reads
//! slower than labels are written, for longer than the queue holds) is dropped, and its feed
//! ends with [`Overflowed`] once it has handed over what was queued.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use futures::Stream;
use futures::channel::mpsc::{Receiver, Sender, channel};
use parking_lot::Mutex;

use super::records::LabelRec;

/// The live subscriptions to the labels of each project.
#[derive(Default)]
pub(crate) struct Subscribers {
    list: Mutex<Vec<Subscriber>>,
}

struct Subscriber {
    project_id: String,
    tx: Sender<Arc<LabelRec>>,
    overflowed: Arc<AtomicBool>,
}

/// A subscriber was dropped because its queue was full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Overflowed {
    /// How many labels its queue held.
    pub(crate) capacity: usize,
}

/// One subscription's labels, in write order; dropping it ends the subscription.
pub(crate) struct LabelFeed {
    rx: Receiver<Arc<LabelRec>>,
    overflowed: Arc<AtomicBool>,
    capacity: usize,
    told: bool,
}

#[cfg(test)]
impl LabelFeed {
    /// Takes the next queued label, if any, without waiting.
    pub(crate) fn try_recv(&mut self) -> Result<Arc<LabelRec>, ()> {
        match self.rx.try_recv() {
            Ok(label) => Ok(label),
            _ => Err(()),
        }
    }
}

impl Stream for LabelFeed {
    type Item = Result<Arc<LabelRec>, Overflowed>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match Pin::new(&mut self.rx).poll_next(cx) {
            Poll::Ready(Some(label)) => Poll::Ready(Some(Ok(label))),
            Poll::Ready(None) if !self.told && self.overflowed.load(Ordering::SeqCst) => {
                self.told = true;
                let capacity = self.capacity;
                Poll::Ready(Some(Err(Overflowed { capacity })))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Subscribers {
    /// Registers a subscriber for the labels of a project, with a queue of `capacity` labels.
    pub(crate) fn subscribe(&self, project_id: &str, capacity: usize) -> LabelFeed {
        let capacity = capacity.max(1);
        // The channel holds its buffer plus one per sender.
        let (tx, rx) = channel(capacity - 1);
        let overflowed = Arc::new(AtomicBool::new(false));
        let mut subs = self.list.lock();
        subs.retain(|s| !s.tx.is_closed());
        subs.push(Subscriber {
            project_id: project_id.to_owned(),
            tx,
            overflowed: Arc::clone(&overflowed),
        });
        LabelFeed {
            rx,
            overflowed,
            capacity,
            told: false,
        }
    }

    /// Sends each label to its project's subscribers, dropping the ones that went away and the
    /// ones whose queue is full. Call it with the data's write lock held.
    pub(crate) fn publish(&self, labels: &[Arc<LabelRec>]) {
        let mut subs = self.list.lock();
        for label in labels {
            subs.retain_mut(|s| {
                if s.project_id != label.project_id {
                    return true;
                }
                match s.tx.try_send(Arc::clone(label)) {
                    Ok(()) => true,
                    Err(e) if e.is_full() => {
                        log::warn!(
                            "local server: a subscriber of project {} reads too slowly; dropped",
                            s.project_id
                        );
                        s.overflowed.store(true, Ordering::SeqCst);
                        false
                    }
                    Err(_) => false,
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    fn label(project: &str, seq: u64) -> Arc<LabelRec> {
        let json = format!(
            r#"{{"id":"l{seq}","seq":{seq},"project_id":"{project}","asset_id":"a","author_id":"u",
            "label_type":"DEFAULT","json_response":"{{}}","created_at":0,"updated_at":0,
            "version":0,"is_sent_back_to_queue":false,"model_name":null,"seconds_to_label":null,
            "skipped":false,"client_version":null,"referenced_label_id":null}}"#
        );
        Arc::new(serde_json::from_str(&json).unwrap())
    }

    #[test]
    fn a_full_queue_drops_its_subscriber_who_is_told_after_the_queued_labels() {
        let subs = Subscribers::default();
        let mut slow = subs.subscribe("p", 3);
        let mut other = subs.subscribe("q", 3);
        let labels: Vec<_> = (1..=5).map(|i| label("p", i)).collect();
        subs.publish(&labels);
        assert_eq!(subs.count(), 1, "the full one is dropped");
        let got: Vec<_> = futures::executor::block_on_stream(&mut slow).collect();
        let seqs: Vec<_> = got.into_iter().map(|r| r.map(|l| l.seq)).collect();
        assert_eq!(seqs, [Ok(1), Ok(2), Ok(3), Err(Overflowed { capacity: 3 })]);
        subs.publish(&[label("q", 9)]);
        assert_eq!(
            futures::executor::block_on(other.next()).map(|r| r.map(|l| l.seq)),
            Some(Ok(9))
        );
    }
}
