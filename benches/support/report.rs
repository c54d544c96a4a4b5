//! Figures: statistics, formatting, per-section tables and the final Markdown summary.

use std::time::Duration;

/// Whether a figure meets its goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The goal is met.
    Met,
    /// The goal is missed.
    Missed,
    /// A figure without a goal (context, comparison).
    Info,
}

impl Verdict {
    /// `Met` if `ok`, else `Missed`.
    pub fn of(ok: bool) -> Verdict {
        if ok { Verdict::Met } else { Verdict::Missed }
    }

    fn mark(self) -> &'static str {
        match self {
            Verdict::Met => "yes",
            Verdict::Missed => "**no**",
            Verdict::Info => "",
        }
    }
}

/// One line of the summary.
#[derive(Debug, Clone)]
pub struct Row {
    pub section: String,
    pub measure: String,
    pub value: String,
    pub goal: String,
    pub verdict: Verdict,
}

/// The summary of a run.
#[derive(Debug, Default)]
pub struct Report {
    rows: Vec<Row>,
    notes: Vec<String>,
}

impl Report {
    /// Adds a figure.
    pub fn add(
        &mut self,
        section: &str,
        measure: impl Into<String>,
        value: impl Into<String>,
        goal: impl Into<String>,
        verdict: Verdict,
    ) {
        self.rows.push(Row {
            section: section.to_owned(),
            measure: measure.into(),
            value: value.into(),
            goal: goal.into(),
            verdict,
        });
    }

    /// Adds a figure without a goal.
    pub fn info(&mut self, section: &str, measure: impl Into<String>, value: impl Into<String>) {
        self.add(section, measure, value, "", Verdict::Info);
    }

    /// Adds a line printed under the summary table (a skipped section, a caveat).
    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// The Markdown summary, for the README.
    pub fn markdown(&self) -> String {
        let mut out =
            String::from("| Section | Measure | Result | Goal | Met |\n|---|---|---|---|---|\n");
        for r in &self.rows {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                r.section,
                r.measure,
                r.value,
                r.goal,
                r.verdict.mark()
            ));
        }
        for n in &self.notes {
            out.push_str(&format!("\n{n}\n"));
        }
        out
    }
}

/// Prints a plain-text table with aligned columns under a title.
pub fn table(title: &str, headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                if i == 0 {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect();
        println!("  {}", parts.join("  "));
    };
    println!("\n== {title}");
    line(headers.to_vec());
    println!(
        "  {}",
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("  ")
    );
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

/// Latency statistics of a sample.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub count: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub mean: Duration,
}

impl Stats {
    /// The statistics of `samples` (any order); all zero if empty.
    pub fn of(samples: &[Duration]) -> Stats {
        let mut s = samples.to_vec();
        s.sort();
        let pick = |q: f64| -> Duration {
            if s.is_empty() {
                return Duration::ZERO;
            }
            // Nearest rank.
            let rank = ((q * s.len() as f64).ceil() as usize).clamp(1, s.len());
            s[rank - 1]
        };
        let total: Duration = s.iter().sum();
        Stats {
            count: s.len(),
            p50: pick(0.50),
            p99: pick(0.99),
            max: s.last().copied().unwrap_or_default(),
            mean: if s.is_empty() {
                Duration::ZERO
            } else {
                total / s.len() as u32
            },
        }
    }
}

/// The median of some values (0 if none).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() { 0.0 } else { v[v.len() / 2] }
}

/// `1.234 ms`, `87 µs`, `2.50 s`.
pub fn dur(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.0} µs")
    } else if us < 1e6 {
        format!("{:.3} ms", us / 1e3)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// A count with thousands separators: `123,456`.
pub fn count(n: f64) -> String {
    let n = n.round() as u64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A rate per second: `123,456/s`, or `0.98/s` below 10.
pub fn rate(per_sec: f64) -> String {
    if per_sec < 10.0 {
        format!("{per_sec:.2}/s")
    } else {
        format!("{}/s", count(per_sec))
    }
}

/// KiB as `12.3 MiB` or `512 KiB`.
pub fn kib(k: f64) -> String {
    if k.abs() >= 10.0 * 1024.0 {
        format!("{:.1} MiB", k / 1024.0)
    } else {
        format!("{k:.0} KiB")
    }
}
