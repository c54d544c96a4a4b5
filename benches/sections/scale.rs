//! Section 7, Scale: many label subscriptions in this process (one thread each, 512 KiB stacks),
//! against local servers in child processes (so that only the client side is measured), which
//! send `ka` frames every 10 s. The emulator holds three file descriptors per WebSocket, so it
//! runs as one process per 5,000 subscriptions, within a usual limit of 20,000 descriptors; the
//! client holds one per subscription. Measured: the time to open them all, resident memory per
//! subscription, CPU over an idle window, that each receives the label appended to its project,
//! and the time to close them all. The idle CPU's anchor is the floor of the design: threads that
//! do nothing but block in `read()` on a socket each, woken by the same `ka` frames at the same
//! rate.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kili::{LabelEvent, Subscription};

use crate::support::child::ChildServer;
use crate::support::procfs;
use crate::support::report::{Report, Verdict, dur, kib, rate, table};
use crate::support::setup;

const SECTION: &str = "7. Scale";
/// Subscriptions per project.
const PER_PROJECT: usize = 100;
/// Subscriptions per emulator process.
const PER_SERVER: usize = 5000;
/// The server's keep-alive interval: the local server's default, so that the idle window
/// holds about one `ka` frame per subscription.
const SERVER_KA_SECS: u64 = 10;

/// Threads of the wake-up floor (two file descriptors each, in this process).
const FLOOR_THREADS: usize = 5000;

/// Runs the section: `subs` subscriptions, idle for `window`.
pub fn run(report: &mut Report, subs: usize, window: Duration) {
    println!(
        "\n[{SECTION}] {subs} subscriptions, idle {} s",
        window.as_secs()
    );
    let floor = match wake_floor(FLOOR_THREADS.min(subs), window) {
        Ok(per_wake) => Some(per_wake),
        Err(e) => {
            println!("  the wake-up floor failed: {e}");
            None
        }
    };
    // Every subscription is one WebSocket; the HTTP client needs a few more.
    let servers: Vec<ChildServer> = (0..subs.div_ceil(PER_SERVER))
        .map(|_| ChildServer::spawn_with(PER_SERVER + 64, Some(SERVER_KA_SECS)))
        .collect();
    let clients: Vec<kili::Kili> = servers
        .iter()
        .map(|s| setup::client(&s.endpoint, &s.api_key))
        .collect();
    // Each project with its one asset, on the server of its subscriptions.
    let projects: Vec<(usize, String, Vec<String>)> = (0..subs.div_ceil(PER_PROJECT))
        .map(|i| {
            let server = i * PER_PROJECT / PER_SERVER;
            let (p, a) = setup::project(&clients[server], &format!("scale-{i}"), 1);
            (server, p, a)
        })
        .collect();
    // One subscription first, so that what every subscription shares is in the baseline.
    drop(
        clients[0]
            .label_created_or_updated(&projects[0].1, |_e: &LabelEvent| {})
            .expect("subscribing"),
    );
    let threads_before = procfs::thread_count();
    let rss_before = procfs::rss_kib();

    let received: Arc<Vec<AtomicUsize>> =
        Arc::new((0..subs).map(|_| AtomicUsize::new(0)).collect());
    let (all_in, got_all) = crossbeam_channel::bounded::<()>(1);
    let total = Arc::new(AtomicUsize::new(0));
    let t0 = Instant::now();
    let mut handles: Vec<Subscription> = Vec::with_capacity(subs);
    for i in 0..subs {
        let (received, total, all_in) = (received.clone(), total.clone(), all_in.clone());
        let (server, project, _) = &projects[i / PER_PROJECT];
        let kili = &clients[*server];
        let callback = move |_e: &LabelEvent| {
            received[i].fetch_add(1, Ordering::Relaxed);
            if total.fetch_add(1, Ordering::AcqRel) + 1 == subs {
                let _ = all_in.try_send(());
            }
        };
        match kili.label_created_or_updated(project, callback) {
            Ok(s) => handles.push(s),
            Err(e) => {
                println!("  subscription {i} failed: {e}");
                break;
            }
        }
    }
    let open_time = t0.elapsed();
    let opened = handles.len();
    // Let the start-up settle, then watch.
    std::thread::sleep(Duration::from_secs(1));
    let rss_open = procfs::rss_kib();
    let threads = procfs::thread_count().saturating_sub(threads_before);
    let cpu0 = procfs::cpu_time();
    let w0 = Instant::now();
    std::thread::sleep(window);
    let cpu = procfs::cpu_time().saturating_sub(cpu0);
    let wall = w0.elapsed();
    let active = handles.iter().filter(|h| h.state().is_active()).count();

    // One label per project: every subscription gets exactly one event.
    let t1 = Instant::now();
    for (server, project, assets) in &projects {
        let labels = setup::labels(project, assets, 1);
        if let Err(e) = clients[*server].append_labels(&labels) {
            println!("  appending to {project} failed: {e}");
        }
    }
    let delivered_all = got_all.recv_timeout(Duration::from_secs(120)).is_ok();
    let delivery_time = t1.elapsed();
    let exactly_one = received
        .iter()
        .take(opened)
        .filter(|n| n.load(Ordering::Relaxed) == 1)
        .count();

    let t2 = Instant::now();
    for h in &handles {
        let _ = h.close();
    }
    let close_time = t2.elapsed();
    drop(handles);

    let per_sub = rss_open.saturating_sub(rss_before) as f64 / opened.max(1) as f64;
    let cpu_share = cpu.as_secs_f64() / wall.as_secs_f64();
    let server_rss: u64 = servers.iter().map(|s| procfs::rss_kib_of(s.pid())).sum();
    table(
        &format!("{SECTION}: {opened} subscriptions"),
        &["measure", "value"],
        &[
            vec!["opened".into(), format!("{opened} / {subs}")],
            vec![
                "opened in (one after the other)".into(),
                format!(
                    "{} ({})",
                    dur(open_time),
                    rate(opened as f64 / open_time.as_secs_f64())
                ),
            ],
            vec!["threads added".into(), threads.to_string()],
            vec![
                "active after the idle window".into(),
                format!("{active} / {opened}"),
            ],
            vec![
                format!("CPU over {} s idle", window.as_secs()),
                format!("{} ({:.3} % of a core)", dur(cpu), cpu_share * 100.0),
            ],
            vec![
                "RSS before / with all open".into(),
                format!("{} / {}", kib(rss_before as f64), kib(rss_open as f64)),
            ],
            vec!["RSS per subscription".into(), kib(per_sub)],
            vec![
                "one label per project: all delivered in".into(),
                if delivered_all {
                    dur(delivery_time)
                } else {
                    "not all".into()
                },
            ],
            vec![
                "subscriptions that got exactly one event".into(),
                format!("{exactly_one} / {opened}"),
            ],
            vec!["closed in (one after the other)".into(), dur(close_time)],
            vec![
                format!("servers' RSS ({} child processes)", servers.len()),
                kib(server_rss as f64),
            ],
        ],
    );
    report.add(
        SECTION,
        format!("{subs} subscriptions: each receives its project's label"),
        format!("{exactly_one} / {subs}"),
        "all",
        Verdict::of(exactly_one == subs),
    );
    report.add(
        SECTION,
        "resident memory per subscription (thread stack included)",
        kib(per_sub),
        "< 128 KiB",
        Verdict::of(opened == subs && per_sub < 128.0),
    );
    // The local server sends each subscription a `ka` every `SERVER_KA_SECS`.
    let kas = opened as f64 * wall.as_secs_f64() / SERVER_KA_SECS as f64;
    let per_ka = cpu.as_secs_f64() / kas.max(1.0);
    report.add(
        SECTION,
        format!("idle CPU over {} s", window.as_secs()),
        format!(
            "{:.3} % of a core ({:.1} µs per `ka`)",
            cpu_share * 100.0,
            per_ka * 1e6
        ),
        "< 1 %",
        Verdict::of(active == subs && cpu_share < 0.01),
    );
    if let Some(floor) = floor {
        let floor_share = floor.as_secs_f64() * kas / wall.as_secs_f64();
        report.info(
            SECTION,
            "the floor of a thread per connection: a thread blocked in `read()` woken by each `ka` (ratio)",
            format!(
                "{:.1} µs per wake-up, {:.3} % of a core at this rate ({:.2})",
                floor.as_secs_f64() * 1e6,
                floor_share * 100.0,
                per_ka / floor.as_secs_f64()
            ),
        );
    }
    report.info(
        SECTION,
        "time to open / to close them all, one after the other",
        format!("{} / {}", dur(open_time), dur(close_time)),
    );
}

/// The floor of the one-thread-per-connection design: `threads` threads, each blocked in
/// `read()` on its own socket (one system call per frame, nothing else), woken by a `ka` frame
/// of the local server's size every `SERVER_KA_SECS`, spread evenly over `window`. Returns the
/// reading threads' CPU per wake-up (the writer's left out).
fn wake_floor(threads: usize, window: Duration) -> Result<Duration, String> {
    const NAME: &str = "kili-floor";
    let e = |e: std::io::Error| e.to_string();
    let listener = TcpListener::bind("127.0.0.1:0").map_err(e)?;
    let addr = listener.local_addr().map_err(e)?;
    let mut writers = Vec::with_capacity(threads);
    for _ in 0..threads {
        let mut client = TcpStream::connect(addr).map_err(e)?;
        let (server, _) = listener.accept().map_err(e)?;
        server.set_nodelay(true).map_err(e)?;
        writers.push(server);
        std::thread::Builder::new()
            .name(NAME.into())
            .stack_size(64 * 1024)
            .spawn(move || {
                let mut buf = [0u8; 64];
                while matches!(client.read(&mut buf), Ok(n) if n > 0) {}
            })
            .map_err(e)?;
    }
    std::thread::sleep(Duration::from_secs(1));
    // What the local server writes: a text frame holding `{"type":"ka"}`.
    let mut ka = vec![0x81, 13];
    ka.extend_from_slice(br#"{"type":"ka"}"#);
    let before = procfs::threads_cpu_ns(NAME);
    let t0 = Instant::now();
    let mut sent = 0usize;
    while t0.elapsed() < window {
        let due = (threads as f64 * t0.elapsed().as_secs_f64() / SERVER_KA_SECS as f64) as usize;
        while sent < due {
            writers[sent % threads].write_all(&ka).map_err(e)?;
            sent += 1;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    // Let the last frames be read before counting.
    std::thread::sleep(Duration::from_millis(200));
    let cpu = procfs::threads_cpu_ns(NAME).saturating_sub(before);
    drop(writers); // the readers see the end of their streams and stop
    Ok(Duration::from_nanos(cpu / sent.max(1) as u64))
}
