//! The library's callback form as a consumer, in this process: a callback that sleeps a few
//! milliseconds per event (and now and then much longer), saving the event's checkpoint now
//! and then as a service saves after a batch. "Killed": the handle dropped and the events since
//! the last save forgotten (the next run resumes from that save); "terminated": closed, the next
//! run resuming from the last event's checkpoint.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kili::{
    Checkpoint, EventOrigin, Kili, Subscription, SubscriptionOptions, SubscriptionState, WsProtocol,
};
use parking_lot::Mutex;

use super::{Consumer, End, Print, Report, Run, Soak, between, secs};
use crate::support::{resilient_client, wait_for};

/// The callback's sleep per event (ms), and now and then a longer one (load, not
/// synchronisation).
const CALLBACK_MS: (u64, u64) = (2, 12);
const CALLBACK_STALL: Duration = Duration::from_millis(300);

/// What a run's callback did.
#[derive(Default)]
struct Record {
    prints: Vec<Print>,
    /// The run was killed: its callback does nothing more.
    dead: bool,
    /// The checkpoint of the last event handled.
    last: Option<Checkpoint>,
    /// The checkpoint saved last, and how many events it covers.
    saved: Option<(Checkpoint, usize)>,
    notes: Vec<String>,
}

/// Subscriptions, one at a time, each resuming from what the previous one saved.
pub(super) struct CallbackConsumer {
    kili: Kili,
    resume: Option<Checkpoint>,
    running: Option<(Subscription, Arc<Mutex<Record>>, Duration)>,
}

impl CallbackConsumer {
    pub(super) fn new(soak: &Soak) -> CallbackConsumer {
        CallbackConsumer {
            kili: resilient_client(&soak.api_key, &soak.endpoint),
            resume: None,
            running: None,
        }
    }

    fn subscribe(
        &self,
        soak: &Soak,
        rec: &Arc<Mutex<Record>>,
        rng: &mut fastrand::Rng,
    ) -> kili::Result<Subscription> {
        let protocol = if rng.bool() {
            WsProtocol::GraphqlWs
        } else {
            WsProtocol::GraphqlTransportWs
        };
        let (notes, t0) = (rec.clone(), soak.t0);
        rec.lock()
            .notes
            .push(format!("{} subscribing, {protocol:?}", secs(t0.elapsed())));
        let mut options = SubscriptionOptions::new()
            .protocol(protocol)
            .thread_name("soak-callback")
            .on_lifecycle(move |e| {
                notes
                    .lock()
                    .notes
                    .push(format!("{} {e:?}", secs(t0.elapsed())))
            });
        if let Some(cp) = &self.resume {
            options = options.resume_from(cp.clone());
        }
        let r = rec.clone();
        let mut rng = fastrand::Rng::with_seed(rng.u64(..));
        (self
            .kili
            .labels_subscription(&soak.project)
            .options(options))
        .callback(move |e| {
            // The consumer's work (load, not synchronisation).
            std::thread::sleep(if rng.u8(..50) == 0 {
                CALLBACK_STALL
            } else {
                between(&mut rng, CALLBACK_MS)
            });
            let mut r = r.lock();
            if r.dead {
                return;
            }
            let origin = match e.origin() {
                EventOrigin::CatchUp => "catch-up",
                _ => "live",
            };
            let (id, v) = (e.label().id().to_owned(), version_of(e.label()));
            r.prints.push(Print {
                id,
                v,
                origin,
                at: t0.elapsed(),
            });
            r.last = Some(e.checkpoint().clone());
            if rng.u8(..4) == 0 {
                let n = r.prints.len();
                r.saved = Some((e.checkpoint().clone(), n));
            }
        })
    }
}

/// The version a label carries in its `jsonResponse` (`u64::MAX` if none: never written).
fn version_of(label: &kili::Label) -> u64 {
    (label.json_response().and_then(|r| r.parse().ok()))
        .and_then(|v| v["v"].as_u64())
        .unwrap_or(u64::MAX)
}

impl Consumer for CallbackConsumer {
    fn start(&mut self, soak: &Soak, rng: &mut fastrand::Rng) -> Result<(), Run> {
        let rec = Arc::new(Mutex::new(Record::default()));
        let started = soak.t0.elapsed();
        match self.subscribe(soak, &rec, rng) {
            Ok(sub) => {
                self.running = Some((sub, rec, started));
                Ok(())
            }
            // The first connection's failure is the caller's (a cut during the handshake).
            Err(e) => {
                let mut notes = std::mem::take(&mut rec.lock().notes);
                notes.push(format!("subscribing failed: {e}"));
                Err(Run {
                    started,
                    ended: soak.t0.elapsed(),
                    end: End::Exited(Some(1)),
                    prints: Vec::new(),
                    saved: Some(0),
                    connected: false,
                    notes,
                })
            }
        }
    }

    fn exited_within(&mut self, within: Duration) -> Option<Option<i32>> {
        let (sub, _, _) = self.running.as_ref().expect("a subscription runs");
        let failed = || matches!(sub.state(), SubscriptionState::Failed(_));
        wait_for(within, failed).then_some(Some(1))
    }

    fn connected(&self) -> bool {
        self.running.is_some()
    }

    fn printed_since(&self, from: &mut usize) -> Vec<(String, u64)> {
        let (_, rec, _) = self.running.as_ref().expect("a subscription runs");
        let r = rec.lock();
        let new = (r.prints[*from..].iter())
            .map(|p| (p.id.clone(), p.v))
            .collect();
        *from = r.prints.len();
        new
    }

    fn stop(&mut self, end: End, soak: &Soak, report: &mut Report) -> Run {
        let (sub, rec, started) = self.running.take().expect("a subscription runs");
        if end == End::Killed {
            rec.lock().dead = true;
            // Dropped, not closed: nothing of it is waited for, as after a SIGKILL.
            drop(sub);
        } else {
            let asked = Instant::now();
            if let Err(e) = sub.close() {
                let run = report.runs.len();
                report
                    .problems
                    .push(format!("run {run}: close failed: {e}"));
            }
            report.slowest_stop = report.slowest_stop.max(asked.elapsed());
        }
        let mut r = rec.lock();
        let (resume, saved) = match (end, &r.saved) {
            (End::Killed, Some((cp, n))) => (Some(cp.clone()), *n),
            (End::Killed, None) => (None, 0),
            _ => (r.last.clone(), r.prints.len()),
        };
        self.resume = resume.or(self.resume.take());
        Run {
            started,
            ended: soak.t0.elapsed(),
            end,
            prints: std::mem::take(&mut r.prints),
            saved: Some(saved),
            connected: true,
            notes: std::mem::take(&mut r.notes),
        }
    }
}
