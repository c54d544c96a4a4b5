//! Webhooks end to end: the local server registers a webhook with the client's operations,
//! POSTs each submitted label to a receiver on loopback, retries what failed, and keeps what
//! is pending across its own restart. The receiver must be right whatever the sender does:
//! down for a while, redelivering, reordering.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use kili::{Kili, LabelType, NewLabels, NewWebhook, PluginLogQuery, WebhookEvent, WebhookReceiver};
use kili_local_server::{LocalServer, LocalServerBuilder};
use parking_lot::Mutex;
use serde_json::json;

use crate::support::*;

const SECRET: &str = "Bearer e2e";
const PLUGIN: &str = "e2e-webhook";

/// A server whose webhooks retry every 100 ms to 500 ms.
fn fast() -> LocalServerBuilder {
    LocalServer::builder()
        .webhook_backoff(Duration::from_millis(100), Duration::from_millis(500))
        .webhook_timeout(Duration::from_secs(5))
}

/// What the receiver handed on: label ids, in order.
type Got = Arc<Mutex<Vec<String>>>;

fn receiver_on(addr: &str, got: &Got) -> WebhookReceiver {
    let got = got.clone();
    WebhookReceiver::builder(addr, SECRET)
        .path("/hook")
        .callback(move |e: &WebhookEvent| {
            got.lock()
                .push(e.label().map(|l| l.id().to_owned()).unwrap_or_default());
            Ok::<(), std::io::Error>(())
        })
        .unwrap()
}

/// Registers and activates the webhook to `addr` on `project`.
fn register(kili: &Kili, project: &str, addr: SocketAddr) {
    let url = format!("http://{addr}/hook");
    kili.create_webhook(&NewWebhook::new(PLUGIN, &url).header(SECRET))
        .unwrap();
    kili.activate_plugin_on_project(PLUGIN, project).unwrap();
}

/// Submits one DEFAULT label on `asset`; returns its id.
fn submit(kili: &Kili, project: &str, asset: &str) -> String {
    let label = NewLabels::for_assets(
        project,
        [asset],
        [json!({"JOB_0": {"categories": [{"name": "A"}]}})],
    )
    .label_type(LabelType::Default);
    kili.append_labels(&label).unwrap().remove(0)
}

/// A free loopback port (bound, then released for the receiver to take later).
fn free_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// Failed delivery attempts in the webhook's log, with when each was made.
fn failures(kili: &Kili, project: &str) -> Vec<SystemTime> {
    kili.get_plugin_logs(&PluginLogQuery::new(project, PLUGIN).limit(1000))
        .unwrap()
        .iter()
        .filter(|l| l.log_type().is_some_and(|t| t.as_str() == "ERROR"))
        .filter_map(|l| l.created_at().and_then(parse_time))
        .collect()
}

fn parse_time(iso: &str) -> Option<SystemTime> {
    // `2026-12-07T06:41:31.123Z`: seconds since the epoch, from the civil date.
    let (date, time) = iso.trim_end_matches('Z').split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let mut t = time.split(':');
    let (h, min, s) = (
        t.next()?.parse::<f64>().ok()?,
        t.next()?.parse::<f64>().ok()?,
        t.next()?.parse::<f64>().ok()?,
    );
    let secs = days as f64 * 86_400.0 + h * 3600.0 + min * 60.0 + s;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs_f64(secs))
}

#[test]
fn a_receiver_down_for_five_seconds_loses_nothing() {
    let server = fast().start().unwrap();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let addr = free_port();
    register(&kili, &project, addr);
    // Nothing listens: every label submitted now fails its first attempts.
    let sent: Vec<String> = (0..10).map(|_| submit(&kili, &project, &asset)).collect();
    // Down for at least five seconds of the sender's retries (its log says when it tried).
    assert!(
        wait_for(Duration::from_secs(60), || {
            let f = failures(&kili, &project);
            match (f.iter().min(), f.iter().max()) {
                (Some(a), Some(b)) => {
                    b.duration_since(*a).unwrap_or_default() >= Duration::from_secs(5)
                }
                _ => false,
            }
        }),
        "the sender kept trying for five seconds"
    );
    let got: Got = Arc::default();
    let receiver = receiver_on(&addr.to_string(), &got);
    assert!(
        wait_for(PATIENCE, || got.lock().len() >= sent.len()),
        "{} of {} delivered",
        got.lock().len(),
        sent.len()
    );
    assert!(holds_for(Duration::from_millis(500), || got.lock().len()
        == sent.len()));
    assert_eq!(*got.lock(), sent, "each once, in the order submitted");
    receiver.close().unwrap();
}

#[test]
fn deliveries_to_one_webhook_keep_their_order() {
    let server = fast().start().unwrap();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let got: Got = Arc::default();
    let receiver = receiver_on("127.0.0.1:0", &got);
    register(&kili, &project, receiver.local_addr());
    let sent: Vec<String> = (0..30).map(|_| submit(&kili, &project, &asset)).collect();
    assert!(wait_for(PATIENCE, || got.lock().len() >= sent.len()));
    assert_eq!(*got.lock(), sent);
    receiver.close().unwrap();
}

#[test]
fn redelivered_and_reordered_events_are_handled_once_each() {
    let server = fast()
        .webhook_redeliver(true)
        .webhook_reorder(true)
        .start()
        .unwrap();
    let kili = client(&server);
    let (project, asset) = project_with_asset(&kili);
    let got: Got = Arc::default();
    let receiver = receiver_on("127.0.0.1:0", &got);
    register(&kili, &project, receiver.local_addr());
    // Ten labels in one call: the server sends them newest first, and every one twice.
    let label = NewLabels::for_assets(
        &project,
        std::iter::repeat_n(asset.as_str(), 10),
        (0..10).map(|n| json!({"JOB_0": {"categories": [{"name": "A"}]}, "n": n})),
    )
    .label_type(LabelType::Default);
    let sent = kili.append_labels(&label).unwrap();
    assert!(
        wait_for(PATIENCE, || receiver.stats().duplicates >= 10),
        "{:?}",
        receiver.stats()
    );
    let mut seen: HashMap<String, usize> = HashMap::new();
    for id in got.lock().iter() {
        *seen.entry(id.clone()).or_default() += 1;
    }
    assert_eq!(seen.len(), sent.len(), "every label handed on");
    assert!(seen.values().all(|n| *n == 1), "none twice: {seen:?}");
    receiver.close().unwrap();
}

#[test]
fn pending_deliveries_survive_a_restart_of_the_server() {
    let dir = std::env::temp_dir().join(format!("kili-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("kili.jsonl");
    let _ = std::fs::remove_file(&data);
    let addr = free_port();
    let (project, sent, key) = {
        let server = fast().data_file(&data).start().unwrap();
        let kili = client(&server);
        let (project, asset) = project_with_asset(&kili);
        register(&kili, &project, addr);
        let sent: Vec<String> = (0..5).map(|_| submit(&kili, &project, &asset)).collect();
        assert!(wait_for(PATIENCE, || !failures(&kili, &project).is_empty()));
        let key = server.api_key().to_owned();
        server.stop();
        (project, sent, key)
    };
    // The receiver comes up, then the server on the same data: what was pending is sent.
    let got: Got = Arc::default();
    let receiver = receiver_on(&addr.to_string(), &got);
    let server = fast().data_file(&data).api_key(&key).start().unwrap();
    assert!(
        wait_for(PATIENCE, || got.lock().len() >= sent.len()),
        "{} of {} after the restart",
        got.lock().len(),
        sent.len()
    );
    assert_eq!(*got.lock(), sent);
    let _ = project;
    drop(server);
    receiver.close().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
