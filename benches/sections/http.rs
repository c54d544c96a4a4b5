//! Section 8, HTTP: `append_labels` rows per second, and a lazy `labels` read of many rows: rows per
//! second and resident memory while reading (it must stay flat). The local server runs in a
//! child process, so that the memory measured is the client's alone.

use std::time::Instant;

use kili::{DEFAULT_LABEL_FIELDS, LabelQuery};

use crate::support::child::ChildServer;
use crate::support::procfs;
use crate::support::report::{Report, Verdict, dur, kib, rate, table};
use crate::support::setup;

const SECTION: &str = "8. HTTP";
/// How much the RSS may grow between the 10%-point and the end of the read and still be flat.
const FLAT_KIB: u64 = 1024;

/// Runs the section: append `append` labels (timed), fill up to `read` labels, read them.
pub fn run(report: &mut Report, append: usize, read: usize) {
    println!("\n[{SECTION}] append_labels of {append} rows; labels read of {read} rows");
    let server = ChildServer::spawn(64);
    let kili = setup::client(&server.endpoint, &server.api_key);
    let (project, assets) = setup::project(&kili, "http", 100);

    let batch = setup::labels(&project, &assets, append);
    procfs::reset_peak();
    let rss_before_append = procfs::rss_kib();
    let cpu0 = procfs::cpu_time();
    let t0 = Instant::now();
    let ids = kili.append_labels(&batch).expect("appending labels");
    let append_time = t0.elapsed();
    let append_cpu = procfs::cpu_time().saturating_sub(cpu0);
    let append_peak = procfs::peak_rss_kib().saturating_sub(rss_before_append);
    assert_eq!(ids.len(), append, "every label gets an id");
    drop(batch);

    let fill = read.saturating_sub(append);
    let t1 = Instant::now();
    if fill > 0 {
        // In chunks, so that the client's own input does not inflate its memory.
        for chunk in 0..fill.div_ceil(10_000) {
            let n = (fill - chunk * 10_000).min(10_000);
            kili.append_labels(&setup::labels(&project, &assets, n))
                .expect("appending labels");
        }
    }
    let fill_time = t1.elapsed();

    // The read, sampling RSS every 1,000 rows.
    let tenth = (read / 10).max(1);
    procfs::reset_peak();
    let rss_start = procfs::rss_kib();
    let mut rss_tenth = 0;
    let mut rss_max = rss_start;
    let cpu2 = procfs::cpu_time();
    let t2 = Instant::now();
    let mut rows = 0usize;
    let mut checksum = 0usize;
    for label in kili
        .labels(&LabelQuery::new(&project).fields(DEFAULT_LABEL_FIELDS.iter().copied()))
        .expect("a labels query")
    {
        let label = label.expect("a label");
        checksum = checksum.wrapping_add(label.id().len());
        rows += 1;
        if rows.is_multiple_of(1000) {
            let rss = procfs::rss_kib();
            rss_max = rss_max.max(rss);
            if rows == tenth {
                rss_tenth = rss;
            }
        }
    }
    let read_time = t2.elapsed();
    let read_cpu = procfs::cpu_time().saturating_sub(cpu2);
    std::hint::black_box(checksum);
    let rss_end = procfs::rss_kib();
    let peak = procfs::peak_rss_kib();
    let growth = rss_end.saturating_sub(rss_tenth);

    let append_rate = append as f64 / append_time.as_secs_f64();
    let read_rate = rows as f64 / read_time.as_secs_f64();
    table(
        &format!("{SECTION}: client against a local server in a child process"),
        &[
            "measure",
            "rows",
            "time",
            "rows/s",
            "client CPU",
            "rows/client-CPU-s",
        ],
        &[
            vec![
                "append_labels (batches of 100)".into(),
                append.to_string(),
                dur(append_time),
                rate(append_rate),
                dur(append_cpu),
                per_cpu(append, append_cpu),
            ],
            vec![
                "append_labels, filling up (chunks of 10,000)".into(),
                fill.to_string(),
                dur(fill_time),
                rate(fill as f64 / fill_time.as_secs_f64().max(1e-9)),
                String::new(),
                String::new(),
            ],
            vec![
                "labels read, lazy iterator (pages of 100)".into(),
                rows.to_string(),
                dur(read_time),
                rate(read_rate),
                dur(read_cpu),
                per_cpu(rows, read_cpu),
            ],
        ],
    );
    table(
        &format!("{SECTION}: client RSS"),
        &["point", "RSS"],
        &[
            vec![
                format!("append_labels of {append} rows: peak growth"),
                kib(append_peak as f64),
            ],
            vec!["before the read".into(), kib(rss_start as f64)],
            vec![format!("after {tenth} rows"), kib(rss_tenth as f64)],
            vec![format!("after {rows} rows"), kib(rss_end as f64)],
            vec!["max sampled (every 1,000 rows)".into(), kib(rss_max as f64)],
            vec![
                "peak (VmHWM, reset before the read)".into(),
                kib(peak as f64),
            ],
        ],
    );
    report.add(
        SECTION,
        format!(
            "`append_labels` of {} rows: rows/s (client CPU per 1,000 rows)",
            setup_count(append)
        ),
        format!(
            "{} ({})",
            rate(append_rate),
            dur(append_cpu / (append.max(1000) / 1000) as u32)
        ),
        "",
        Verdict::Info,
    );
    report.add(
        SECTION,
        format!(
            "`labels` read of {} rows (lazy): rows/s (client CPU per 1,000 rows)",
            setup_count(rows)
        ),
        format!(
            "{} ({})",
            rate(read_rate),
            dur(read_cpu / (rows.max(1000) / 1000) as u32)
        ),
        "",
        Verdict::Info,
    );
    report.info(
        SECTION,
        format!(
            "client peak RSS growth during `append_labels` of {}",
            setup_count(append)
        ),
        kib(append_peak as f64),
    );
    report.add(
        SECTION,
        format!(
            "client RSS after {} rows → after {} rows (peak)",
            setup_count(tenth),
            setup_count(rows)
        ),
        format!(
            "{} → {} ({})",
            kib(rss_tenth as f64),
            kib(rss_end as f64),
            kib(peak as f64)
        ),
        "flat",
        Verdict::of(rows == read && growth <= FLAT_KIB && peak <= rss_tenth + FLAT_KIB),
    );
}

/// Rows per second of client CPU time (`-` below the 10 ms resolution).
fn per_cpu(rows: usize, cpu: std::time::Duration) -> String {
    if cpu.as_millis() < 10 {
        "-".into()
    } else {
        rate(rows as f64 / cpu.as_secs_f64())
    }
}

fn setup_count(n: usize) -> String {
    crate::support::report::count(n as f64)
}
