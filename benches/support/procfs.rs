//! Process statistics from `/proc` (Linux): resident memory, CPU time, threads.

use std::time::Duration;

/// `/proc` reports CPU times in USER_HZ ticks, 100 per second on Linux.
const USER_HZ: u64 = 100;

fn status_field_kib(pid: &str, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// This process's resident memory (`VmRSS`), KiB.
pub fn rss_kib() -> u64 {
    status_field_kib("self", "VmRSS:")
}

/// Another process's resident memory, KiB.
pub fn rss_kib_of(pid: u32) -> u64 {
    status_field_kib(&pid.to_string(), "VmRSS:")
}

/// This process's peak resident memory since start or the last [`reset_peak`] (`VmHWM`), KiB.
pub fn peak_rss_kib() -> u64 {
    status_field_kib("self", "VmHWM:")
}

/// Resets `VmHWM` to the current RSS (writing 5 to `clear_refs`); `false` if not allowed.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The threads of this process.
pub fn thread_count() -> usize {
    status_field_kib("self", "Threads:") as usize
}

/// User plus system CPU time of this process (all threads), from `/proc/self/stat`
/// (10 ms resolution).
pub fn cpu_time() -> Duration {
    stat_cpu("/proc/self/stat")
}

/// User plus system CPU time of the calling thread, from `/proc/thread-self/stat`.
pub fn thread_cpu_time() -> Duration {
    stat_cpu("/proc/thread-self/stat")
}

/// The `utime` plus `stime` of a `stat` file.
fn stat_cpu(path: &str) -> Duration {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 (utime) and 15 (stime) of the whole line are 12 and 13 after the name.
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|v| v.parse::<u64>().ok()))
        .sum();
    Duration::from_millis(ticks * 1000 / USER_HZ)
}

/// Whether a thread of this process has exactly this name (as Linux truncates it, 15 bytes).
pub fn thread_named(name: &str) -> bool {
    let want: String = name.chars().take(15).collect();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return false;
    };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .any(|comm| comm.trim_end() == want)
}

/// The one-minute load average, as `/proc/loadavg` writes it (`?` if unreadable).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// CPU time (user + system, nanoseconds) the calling thread has run, from its `schedstat`.
pub fn own_thread_cpu_ns() -> u64 {
    schedstat_ns("/proc/thread-self/schedstat").unwrap_or(0)
}

/// CPU time (nanoseconds) of this process's thread with this name (truncated to 15 bytes as
/// Linux does); `None` if no such thread runs.
pub fn thread_cpu_ns(name: &str) -> Option<u64> {
    let want: String = name.chars().take(15).collect();
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    tasks.filter_map(Result::ok).find_map(|t| {
        let comm = std::fs::read_to_string(t.path().join("comm")).ok()?;
        if comm.trim_end() != want {
            return None;
        }
        schedstat_ns(&t.path().join("schedstat").to_string_lossy())
    })
}

/// CPU time (nanoseconds) of all of this process's threads with this name, summed.
pub fn threads_cpu_ns(name: &str) -> u64 {
    let want: String = name.chars().take(15).collect();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|t| {
            let comm = std::fs::read_to_string(t.path().join("comm")).ok()?;
            if comm.trim_end() != want {
                return None;
            }
            schedstat_ns(&t.path().join("schedstat").to_string_lossy())
        })
        .sum()
}

/// The first field of a `schedstat` file: time spent on the CPU, nanoseconds.
fn schedstat_ns(path: &str) -> Option<u64> {
    std::fs::read_to_string(path)
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
