//! [`EngineShared`]: what the delivery threads of a server share: the store, the settings,
//! whether the server stops, and the POST in flight of each worker (so that stopping can cut
//! it).

use std::collections::HashMap;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

use super::settings::DeliverySettings;
use crate::store::ServerState;

/// What the delivery threads share.
pub(super) struct EngineShared {
    pub(super) state: ServerState,
    pub(super) settings: DeliverySettings,
    stopping: AtomicBool,
    /// The POST in flight of each worker, by webhook id.
    in_flight: Mutex<HashMap<String, TcpStream>>,
}

impl EngineShared {
    /// Returns whether the server is stopping.
    pub(super) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Notes the POST in flight of a webhook's worker (shut at once if stopping).
    pub(super) fn begin(&self, plugin_id: &str, stream: &TcpStream) {
        let mut in_flight = self.in_flight.lock();
        if self.is_stopping() {
            let _ = stream.shutdown(Shutdown::Both);
        } else if let Ok(clone) = stream.try_clone() {
            in_flight.insert(plugin_id.to_owned(), clone);
        }
    }

    /// Forgets the POST in flight of a webhook's worker.
    pub(super) fn end(&self, plugin_id: &str) {
        self.in_flight.lock().remove(plugin_id);
    }
}

impl EngineShared {
    /// Makes the shared part of the delivery threads.
    pub(super) fn new(state: ServerState, settings: DeliverySettings) -> Self {
        EngineShared {
            state,
            settings,
            stopping: AtomicBool::new(false),
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    /// Marks the threads as stopping, cuts the POSTs in flight, and wakes every thread.
    pub(super) fn stop(&self) {
        {
            let in_flight = self.in_flight.lock();
            self.stopping.store(true, Ordering::SeqCst);
            for s in in_flight.values() {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
        self.state.ring_outbox();
    }
}
