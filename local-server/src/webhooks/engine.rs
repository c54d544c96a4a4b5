//! [`Engine`]: the delivery threads of a running server. A manager thread starts a worker for
//! each webhook (whenever the store's doorbell rings, it looks for new ones); a worker ends when
//! its webhook is deleted. Stopping shuts the POSTs in flight (an interrupted attempt is not
//! recorded: its delivery stays pending, for the next start on the same data) and joins them.

use std::collections::HashMap;
use std::sync::Arc;
use std::thread::JoinHandle;

use super::settings::DeliverySettings;
use super::shared::EngineShared;
use super::worker;
use crate::store::ServerState;

/// The delivery threads of a running server.
pub(crate) struct Engine {
    shared: Arc<EngineShared>,
    manager: Option<JoinHandle<()>>,
}

impl Engine {
    /// Starts delivering the webhooks of `state` (pending deliveries included).
    ///
    /// # Errors
    ///
    /// When the manager thread cannot be spawned.
    pub(crate) fn start(state: ServerState, settings: DeliverySettings) -> std::io::Result<Engine> {
        let shared = Arc::new(EngineShared::new(state, settings));
        let manager_shared = Arc::clone(&shared);
        let manager = std::thread::Builder::new()
            .name("kili-local-webhooks".into())
            .spawn(move || manage(&manager_shared))?;
        Ok(Engine {
            shared,
            manager: Some(manager),
        })
    }

    /// Stops delivering: shuts the POSTs in flight and waits for the threads.
    pub(crate) fn stop(&mut self) {
        self.shared.stop();
        if let Some(manager) = self.manager.take() {
            let _ = manager.join();
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts a worker for each webhook that has none, whenever the doorbell rings; at the stop,
/// joins them.
fn manage(shared: &Arc<EngineShared>) {
    let mut workers: HashMap<String, JoinHandle<()>> = HashMap::new();
    let mut seen = shared.state.outbox_rings();
    while !shared.is_stopping() {
        workers.retain(|_, w| !w.is_finished());
        for id in shared.state.webhook_ids() {
            if workers.contains_key(&id) {
                continue;
            }
            let worker_shared = Arc::clone(shared);
            let plugin_id = id.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("kili-local-webhook-{id}"))
                .spawn(move || worker::run(&worker_shared, &plugin_id));
            match spawned {
                Ok(handle) => {
                    workers.insert(id, handle);
                }
                Err(e) => log::warn!("local server: cannot spawn a webhook thread: {e}"),
            }
        }
        seen = shared.state.wait_outbox(seen, None);
    }
    for (_, w) in workers {
        let _ = w.join();
    }
}
