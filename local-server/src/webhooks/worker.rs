//! A webhook's worker: POSTs its pending deliveries, oldest first (each one held until it is
//! delivered or given up, so that deliveries keep their order), or newest first without holding
//! when the server reorders; logs every attempt in the store; retries a failure (a non-2xx
//! answer, no connection, no answer in time) after a backoff, until the delivery is older than
//! the retry bound.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::post::{Request, post};
use super::shared::EngineShared;
use crate::store::{AttemptLog, DeliveryRec, PluginRec};
use crate::time::now_ms;

/// The retry state of a pending delivery (in memory: a restarted server tries at once).
struct Retry {
    attempts: u32,
    next_at: Instant,
    /// Whether it was delivered once already (with the redelivery test setting).
    delivered: bool,
}

/// What to do next.
enum Pick {
    /// Attempt the pending delivery at this index.
    Ready(usize),
    /// Wait for the doorbell, or until then.
    Wait(Option<Instant>),
}

/// Runs a webhook's worker until the server stops or the webhook is deleted.
pub(super) fn run(shared: &EngineShared, plugin_id: &str) {
    let mut retries: HashMap<String, Retry> = HashMap::new();
    let mut seen = shared.state.outbox_rings();
    while !shared.is_stopping() {
        let reorder = shared.settings.reorder;
        let Some((plugin, pending)) = shared.state.webhook_work(plugin_id, reorder) else {
            return;
        };
        retries.retain(|id, _| pending.iter().any(|p| p.id == *id));
        match pick(&pending, &retries, reorder, Instant::now()) {
            Pick::Ready(i) => attempt(shared, &plugin, &pending[i], &mut retries),
            Pick::Wait(until) => seen = shared.state.wait_outbox(seen, until),
        }
    }
}

/// Chooses the next delivery: the oldest, once its backoff is over; or, reordering, the newest
/// whose backoff is over.
fn pick(
    pending: &[DeliveryRec],
    retries: &HashMap<String, Retry>,
    reorder: bool,
    now: Instant,
) -> Pick {
    let ready_at = |d: &DeliveryRec| retries.get(&d.id).map_or(now, |r| r.next_at);
    if reorder {
        if let Some(i) = (0..pending.len())
            .rev()
            .find(|&i| ready_at(&pending[i]) <= now)
        {
            return Pick::Ready(i);
        }
        return Pick::Wait(pending.iter().map(ready_at).min());
    }
    match pending.first() {
        None => Pick::Wait(None),
        Some(d) if ready_at(d) <= now => Pick::Ready(0),
        Some(d) => Pick::Wait(Some(ready_at(d))),
    }
}

/// Why an attempt failed.
enum Failure {
    /// The target is not allowed (any more): retrying cannot help.
    Refused(String),
    /// No connection, no answer, or an answer that is not 2xx.
    Failed(String),
}

/// Makes one attempt at `delivery` and logs it, unless the server stopped during it.
fn attempt(
    shared: &EngineShared,
    plugin: &PluginRec,
    delivery: &DeliveryRec,
    retries: &mut HashMap<String, Retry>,
) {
    let retry = retries.entry(delivery.id.clone()).or_insert(Retry {
        attempts: 0,
        next_at: Instant::now(),
        delivered: false,
    });
    retry.attempts = retry.attempts.saturating_add(1);
    let started = Instant::now();
    let result = send(shared, plugin, delivery);
    if shared.is_stopping() && !matches!(result, Ok(200..=299)) {
        return; // interrupted: the delivery stays pending for the next start
    }
    let what = format!(
        "POST {} ({} attempt {}, {} ms)",
        plugin.webhook_url,
        delivery.event_type.wire_name(),
        retry.attempts,
        started.elapsed().as_millis()
    );
    let log = match result {
        Ok(status @ 200..=299) => delivered(shared, retry, &what, status),
        Ok(status) => failed(
            shared,
            delivery,
            retry,
            &what,
            &format!("answered {status}"),
        ),
        Err(Failure::Failed(why)) => failed(shared, delivery, retry, &what, &why),
        Err(Failure::Refused(why)) => AttemptLog {
            log_type: "ERROR",
            content: format!("{what}: gave up: {why}"),
            done: true,
        },
    };
    if let Err(e) = shared.state.record_webhook_attempt(delivery, log) {
        log::warn!(
            "local server: cannot record a webhook attempt: {}",
            e.message
        );
    }
}

/// POSTs a delivery to its webhook as it is now (URL and header).
fn send(shared: &EngineShared, plugin: &PluginRec, delivery: &DeliveryRec) -> Result<u16, Failure> {
    let (target, addrs) = shared
        .settings
        .targets
        .check(&plugin.webhook_url)
        .map_err(Failure::Refused)?;
    let req = Request {
        target: &target,
        addrs: &addrs,
        authorization: plugin.header.as_deref(),
        body: delivery.body.as_bytes(),
        timeout: shared.settings.timeout,
    };
    let result = post(&req, |stream| shared.begin(&plugin.id, stream));
    shared.end(&plugin.id);
    result.map_err(Failure::Failed)
}

/// Logs a delivered attempt; with the redelivery setting, the first success is sent again.
fn delivered(shared: &EngineShared, retry: &mut Retry, what: &str, status: u16) -> AttemptLog {
    if shared.settings.redeliver && !retry.delivered {
        retry.delivered = true;
        retry.next_at = Instant::now();
        return AttemptLog {
            log_type: "INFO",
            content: format!("{what}: answered {status}; POSTing it once more (redelivery)"),
            done: false,
        };
    }
    AttemptLog {
        log_type: "INFO",
        content: format!("{what}: answered {status}: delivered"),
        done: true,
    }
}

/// Logs a failed attempt: retried after a backoff, or given up past the retry bound.
fn failed(
    shared: &EngineShared,
    delivery: &DeliveryRec,
    retry: &mut Retry,
    what: &str,
    why: &str,
) -> AttemptLog {
    let age = Duration::from_millis(u64::try_from(now_ms() - delivery.created_at).unwrap_or(0));
    if age >= shared.settings.retry_for {
        return AttemptLog {
            log_type: "ERROR",
            content: format!(
                "{what}: {why}; gave up after {} attempts over {} s",
                retry.attempts,
                age.as_secs()
            ),
            done: true,
        };
    }
    let wait = shared.settings.backoff(retry.attempts);
    retry.next_at = Instant::now() + wait;
    AttemptLog {
        log_type: "ERROR",
        content: format!("{what}: {why}; next attempt in {} ms", wait.as_millis()),
        done: false,
    }
}
