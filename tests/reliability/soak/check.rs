//! The soak's verdict: each consumer's runs against the writer's history.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use super::writer::{History, LabelHistory};
use super::{End, Print, RESTARTS, Report, Run, STAYED_CURRENT, secs};

/// Where a print is: (run, line of the run).
type At = (usize, usize);

/// Checks every consumer; prints what they did; panics with the details if anything is wrong.
pub(super) fn assert_reports(history: &History, reports: &[Report], t0: Instant, cuts: usize) {
    let versions: usize = history.labels.values().map(|l| l.versions.len()).sum();
    let lasting = (history.labels.values().flat_map(|l| &l.versions))
        .filter(|v| v.current_for().is_none_or(|d| d >= STAYED_CURRENT))
        .count();
    eprintln!(
        "soak: {} labels in {} appends, {} updates ({versions} versions, {lasting} current \
         for {STAYED_CURRENT:?} or more), {cuts} cuts by the proxy, over {}",
        history.labels.len(),
        history.appends,
        history.updates,
        secs(t0.elapsed())
    );
    let mut failures = String::new();
    for report in reports {
        summary(history, report, t0);
        let (mut problems, concerned) = check(history, report, t0);
        let connected = report.runs.iter().filter(|r| r.connected).count();
        if connected <= RESTARTS {
            problems.push(format!("only {connected} runs connected"));
        }
        if problems.is_empty() {
            if let Some(dir) = &report.state_dir {
                let _ = std::fs::remove_dir_all(dir);
            }
        } else {
            failures += &failure(history, report, t0, &problems, &concerned);
        }
    }
    assert!(failures.is_empty(), "soak failed:{failures}");
}

/// One consumer's figures.
fn summary(history: &History, report: &Report, t0: Instant) {
    let count = |e: End| report.runs.iter().filter(|r| r.end == e).count();
    let prints: Vec<&Print> = report.runs.iter().flat_map(|r| &r.prints).collect();
    let distinct: HashSet<(&str, u64)> = prints.iter().map(|p| (p.id.as_str(), p.v)).collect();
    let versions: usize = history.labels.values().map(|l| l.versions.len()).sum();
    // The longest a version that was never printed stayed current.
    let longest_missed = (history.labels.iter())
        .flat_map(|(id, l)| l.versions.iter().map(move |v| (id, v)))
        .filter(|(id, v)| !distinct.contains(&(id.as_str(), v.v)))
        .filter_map(|(_, v)| v.current_for())
        .max()
        .unwrap_or_default();
    eprintln!(
        "{}: {} runs ({} connected, {} killed, {} terminated, {} first connections failed), \
         {} lines ({} again after a kill) for {} versions ({} never printed, current {} at \
         most), printed {} after being written (median; at most {}), slowest stop {}",
        report.name,
        report.runs.len(),
        report.runs.iter().filter(|r| r.connected).count(),
        count(End::Killed),
        count(End::Terminated),
        report.startup_failures.len(),
        prints.len(),
        prints.len() - distinct.len(),
        distinct.len(),
        versions - distinct.len(),
        secs(longest_missed),
        secs(lag(history, &prints, t0, 0.5)),
        secs(lag(history, &prints, t0, 1.0)),
        secs(report.slowest_stop)
    );
    for cause in report.startup_failures.iter().take(3) {
        eprintln!("  a first connection failed: {cause}");
    }
}

/// A quantile of how long after being written versions were first printed: the consumers'
/// backlog (and the gaps).
fn lag(history: &History, prints: &[&Print], t0: Instant, q: f64) -> Duration {
    let mut seen = HashSet::new();
    let mut lags: Vec<Duration> = (prints.iter())
        .filter(|p| seen.insert((p.id.as_str(), p.v)))
        .filter_map(|p| {
            let label = history.labels.get(&p.id)?;
            let v = label.versions.iter().find(|v| v.v == p.v)?;
            Some(p.at.saturating_sub(v.from - t0))
        })
        .collect();
    lags.sort();
    let i = ((lags.len().max(1) - 1) as f64 * q) as usize;
    lags.get(i).copied().unwrap_or_default()
}

/// Checks a consumer's runs against the writer's history; returns what is wrong, and the
/// labels concerned (oldest first).
fn check(history: &History, report: &Report, t0: Instant) -> (Vec<String>, Vec<String>) {
    let mut problems = report.problems.clone();
    let mut concerned = Vec::new();
    // Every print, per label, in order across runs.
    let mut per_label: HashMap<&str, Vec<(At, &Print)>> = HashMap::new();
    for (r, run) in report.runs.iter().enumerate() {
        for (k, p) in run.prints.iter().enumerate() {
            per_label.entry(&p.id).or_default().push(((r, k), p));
        }
    }
    let mut unknown: Vec<&str> = (per_label.keys())
        .filter(|id| !history.labels.contains_key(**id))
        .copied()
        .collect();
    unknown.sort_unstable();
    for id in unknown {
        problems.push(format!("{id}: printed, never written"));
    }
    for id in &history.order {
        let prints = per_label.get(id.as_str()).map_or(&[][..], Vec::as_slice);
        let found = check_label(id, &history.labels[id], prints, &report.runs, t0);
        if !found.is_empty() {
            problems.extend(found);
            concerned.push(id.clone());
        }
    }
    (problems, concerned)
}

/// Checks one label's prints, in order across runs, against its versions.
fn check_label(
    id: &str,
    label: &LabelHistory,
    prints: &[(At, &Print)],
    runs: &[Run],
    t0: Instant,
) -> Vec<String> {
    let mut problems = Vec::new();
    // Where each version was last printed.
    let mut printed_at: HashMap<u64, At> = HashMap::new();
    let mut previous: Option<u64> = None;
    for &((r, k), p) in prints {
        if !label.versions.iter().any(|v| v.v == p.v) {
            problems.push(format!("{id}: v{} printed (run {r}), never written", p.v));
        }
        if let Some(prev) = previous.filter(|prev| p.v < *prev) {
            problems.push(format!(
                "{id}: v{} printed after v{prev} (run {r}, line {k}): out of order",
                p.v
            ));
        }
        if let Some(&earlier) = printed_at.get(&p.v)
            && let Some(why) = repeat_not_allowed(runs, earlier, r)
        {
            let (r0, k0) = earlier;
            problems.push(format!(
                "{id}: v{} printed twice, {why} (run {r0} line {k0}, run {r} line {k})",
                p.v
            ));
        }
        printed_at.insert(p.v, (r, k));
        previous = Some(p.v);
    }
    let final_v = label.last();
    if previous != Some(final_v) {
        problems.push(format!(
            "{id}: the last version printed is {}, the final one v{final_v}",
            previous.map_or("none".into(), |v| format!("v{v}"))
        ));
    }
    for v in &label.versions {
        if let Some(lived) = v.current_for().filter(|d| *d >= STAYED_CURRENT)
            && !printed_at.contains_key(&v.v)
        {
            problems.push(format!(
                "{id}: v{} was current for {} ({}–{}) and never printed",
                v.v,
                secs(lived),
                secs(v.from - t0),
                secs(v.until.unwrap_or(v.from) - t0)
            ));
        }
    }
    problems
}

/// Why a version printed at `earlier` may not be printed again in run `r`, if it may not: only
/// a killed run's lines after its last save come again, in a later run.
fn repeat_not_allowed(runs: &[Run], (r0, k0): At, r: usize) -> Option<String> {
    let first = &runs[r0];
    if r0 == r {
        Some("in the same run".to_owned())
    } else if first.end != End::Killed {
        Some(format!("after run {r0} ended {:?}", first.end))
    } else {
        (first.saved.filter(|s| k0 < *s)).map(|saved| {
            format!("after run {r0} was killed, though it had saved it ({saved} saved)")
        })
    }
}

/// A consumer's problems, with the timelines of the first labels concerned and what the runs
/// around them said.
fn failure(
    history: &History,
    report: &Report,
    t0: Instant,
    problems: &[String],
    concerned: &[String],
) -> String {
    let mut out = format!("\n{}: {} problems\n", report.name, problems.len());
    for p in problems.iter().take(40) {
        out += &format!("  {p}\n");
    }
    let mut runs: Vec<usize> = Vec::new();
    for id in concerned.iter().take(4) {
        out += &timeline(history, report, id, t0, &mut runs);
    }
    for r in runs.into_iter().take(6) {
        out += &format!("  {} said:\n", report.runs[r].describe(r));
        for n in report.runs[r].notes.iter().take(30) {
            out += &format!("    {n}\n");
        }
    }
    if let Some(dir) = &report.state_dir {
        out += &format!("  (its state file is kept in {})\n", dir.display());
    }
    out
}

/// A label's versions and prints, and the runs that printed it (added to `runs`).
fn timeline(
    history: &History,
    report: &Report,
    id: &str,
    t0: Instant,
    runs: &mut Vec<usize>,
) -> String {
    let mut out = String::new();
    if let Some(label) = history.labels.get(id) {
        out += &format!("  {id} (created {}):\n", secs(label.created - t0));
        for v in &label.versions {
            let until = v.until.map_or("end".into(), |u| secs(u - t0));
            out += &format!("    v{} current {}–{until}\n", v.v, secs(v.from - t0));
        }
    }
    for (r, run) in report.runs.iter().enumerate() {
        for (k, p) in run.prints.iter().enumerate().filter(|(_, p)| p.id == id) {
            let at = secs(p.at);
            out += &format!(
                "    printed v{} ({}) at {at}: run {r} line {k}\n",
                p.v, p.origin
            );
            if !runs.contains(&r) {
                runs.push(r);
            }
        }
    }
    out
}
