//! Section 10, Catch-up: what resuming after a long gap costs. A subscription is opened and
//! closed to take a checkpoint; N labels are then appended (the gap); a new subscription resumes
//! from the checkpoint and its catch-up delivers the N labels. Reported: labels per second from
//! the resume to the last catch-up event, this process's CPU per 1,000 labels, and the growth of
//! its peak resident memory during the catch-up (the server runs in a child process).
//!
//! The anchor, in the same run and on the same project: a lazy `labels` read of the same labels
//! (section 8's read: pages of 100, the default fields), its rows per second and CPU per 1,000.
//! The goals: at least 10,000 labels/s, and at most 1.5 times the read's CPU per label.
//!
//! `KILI_BENCH_CATCHUP_BIG_GAP=N` adds a second resume, after a gap of N labels (the issue's
//! 1,000,000), reporting its rate and the client's peak RSS growth (goal: under 32 MiB).

use std::time::{Duration, Instant};

use crossbeam_channel::bounded;
use kili::{DEFAULT_LABEL_FIELDS, EventOrigin, Kili, LabelQuery, SubscriptionOptions};

use crate::support::child::ChildServer;
use crate::support::procfs;
use crate::support::report::{Report, Verdict, dur, kib, rate, table};
use crate::support::setup;

const SECTION: &str = "10. Catch-up";
const PATIENCE: Duration = Duration::from_secs(600);

/// What one resume measured.
struct Resume {
    labels: usize,
    elapsed: Duration,
    cpu: Duration,
    peak_growth_kib: u64,
}

impl Resume {
    fn per_sec(&self) -> f64 {
        self.labels as f64 / self.elapsed.as_secs_f64()
    }
    fn cpu_per_k(&self) -> Duration {
        per_thousand(self.cpu, self.labels)
    }
}

fn per_thousand(cpu: Duration, n: usize) -> Duration {
    cpu.div_f64((n as f64 / 1000.0).max(1.0))
}

/// Runs the section with a gap of `labels` labels (and the big gap of the environment, if any).
pub fn run(report: &mut Report, labels: usize) {
    println!("\n[{SECTION}] a resume after a gap of {labels} labels");
    let server = ChildServer::spawn(64);
    let kili = setup::client(&server.endpoint, &server.api_key);
    let (project, assets) = setup::project(&kili, "catch-up", 100);
    let Some(resume) = gap_and_resume(&kili, &project, &assets, labels) else {
        println!("  FAILED: the catch-up did not deliver {labels} labels");
        report.add(SECTION, "catch-up", "failed", "", Verdict::Missed);
        return;
    };
    let (read_time, read_cpu, rows) = lazy_read(&kili, &project);
    let read_per_sec = rows as f64 / read_time.as_secs_f64();
    let read_per_k = per_thousand(read_cpu, rows);
    let ratio = resume.cpu_per_k().as_secs_f64() / read_per_k.as_secs_f64().max(1e-9);
    table(
        &format!("{SECTION}: resume after a gap of {labels} labels"),
        &["measure", "value"],
        &[
            vec!["resume → last catch-up event".into(), dur(resume.elapsed)],
            vec!["labels/s".into(), rate(resume.per_sec())],
            vec![
                "client CPU per 1,000 labels".into(),
                dur(resume.cpu_per_k()),
            ],
            vec![
                "client peak RSS growth during the catch-up".into(),
                kib(resume.peak_growth_kib as f64),
            ],
            vec![
                format!("lazy `labels` read of the same {rows}"),
                dur(read_time),
            ],
            vec!["lazy read: rows/s".into(), rate(read_per_sec)],
            vec![
                "lazy read: client CPU per 1,000 rows".into(),
                dur(read_per_k),
            ],
        ],
    );
    report.add(
        SECTION,
        format!("resume after a gap of {labels}: catch-up labels/s"),
        rate(resume.per_sec()),
        "≥ 10,000/s",
        Verdict::of(resume.per_sec() >= 10_000.0),
    );
    report.add(
        SECTION,
        "client CPU per 1,000 caught-up labels",
        dur(resume.cpu_per_k()),
        format!(
            "lazy `labels` read of the same labels: {} ({} rows/s); ratio {ratio:.2}, goal ≤ 1.5",
            dur(read_per_k),
            rate(read_per_sec)
        ),
        Verdict::of(ratio <= 1.5),
    );
    report.add(
        SECTION,
        "client peak RSS growth during that catch-up",
        kib(resume.peak_growth_kib as f64),
        "bounded (≤ 16 MiB)",
        Verdict::of(resume.peak_growth_kib <= 16 * 1024),
    );
    big_gap(report, &kili, &project, &assets);
}

/// Takes a checkpoint, appends `labels` labels, resumes and waits for the catch-up of them all.
fn gap_and_resume(kili: &Kili, project: &str, assets: &[String], labels: usize) -> Option<Resume> {
    let sub = kili
        .label_created_or_updated(project, |_| {})
        .expect("subscribing");
    let checkpoint = sub.checkpoint().expect("a checkpoint once established");
    let _ = sub.close();
    for chunk in 0..labels.div_ceil(10_000) {
        let n = (labels - chunk * 10_000).min(10_000);
        kili.append_labels(&setup::labels(project, assets, n))
            .expect("appending labels");
    }
    let (tx, rx) = bounded::<()>(1);
    let mut caught = 0usize;
    procfs::reset_peak();
    let rss_before = procfs::rss_kib();
    let cpu0 = procfs::cpu_time();
    let t0 = Instant::now();
    let options = SubscriptionOptions::new().resume_from(checkpoint);
    let sub = kili
        .labels_subscription(project)
        .options(options)
        .callback(move |e| {
            if e.origin() == EventOrigin::CatchUp {
                caught += 1;
                if caught == labels {
                    let _ = tx.try_send(());
                }
            }
        })
        .expect("resuming");
    let done = rx.recv_timeout(PATIENCE).is_ok();
    let elapsed = t0.elapsed();
    let cpu = procfs::cpu_time().saturating_sub(cpu0);
    let peak_growth_kib = procfs::peak_rss_kib().saturating_sub(rss_before);
    let _ = sub.close();
    done.then_some(Resume {
        labels,
        elapsed,
        cpu,
        peak_growth_kib,
    })
}

/// Reads every label of the project lazily (section 8's read); returns its time, this process's
/// CPU, and the rows.
fn lazy_read(kili: &Kili, project: &str) -> (Duration, Duration, usize) {
    let cpu0 = procfs::cpu_time();
    let t0 = Instant::now();
    let mut rows = 0usize;
    let mut checksum = 0usize;
    for label in kili
        .labels(&LabelQuery::new(project).fields(DEFAULT_LABEL_FIELDS.iter().copied()))
        .expect("a labels query")
    {
        let label = label.expect("a label");
        checksum = checksum.wrapping_add(label.id().len());
        rows += 1;
    }
    std::hint::black_box(checksum);
    (t0.elapsed(), procfs::cpu_time().saturating_sub(cpu0), rows)
}

/// The resume after the environment's big gap, if it asks for one.
fn big_gap(report: &mut Report, kili: &Kili, project: &str, assets: &[String]) {
    let Some(big) = std::env::var("KILI_BENCH_CATCHUP_BIG_GAP")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    else {
        return;
    };
    println!("  and a resume after a gap of {big} labels");
    let Some(resume) = gap_and_resume(kili, project, assets, big) else {
        report.add(SECTION, "big gap", "failed", "", Verdict::Missed);
        return;
    };
    report.add(
        SECTION,
        format!("resume after a gap of {big}: labels/s (client CPU per 1,000)",),
        format!("{} ({})", rate(resume.per_sec()), dur(resume.cpu_per_k())),
        "",
        Verdict::Info,
    );
    report.add(
        SECTION,
        format!("client peak RSS growth during the catch-up of {big}"),
        kib(resume.peak_growth_kib as f64),
        "< 32 MiB",
        Verdict::of(resume.peak_growth_kib < 32 * 1024),
    );
}
