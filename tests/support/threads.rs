//! The process's threads, read from `/proc/self/task`, for the tests that check that nothing is
//! left running. Linux keeps 15 bytes of a thread's name; the helpers truncate as it does.
//!
//! A test binary runs its tests on several threads at once, so a count of every thread moves
//! with the other tests. Tests check the threads they named ([`thread_alive`],
//! [`threads_named`]); the reliability tests, which compare whole counts ([`worker_threads`]),
//! run one at a time ([`serial`]).

use parking_lot::{Mutex, MutexGuard};

use kili_local_server::LocalServer;

use crate::support::wait::{PATIENCE, wait_for};

/// Linux's limit on a thread name, in bytes (names here are ASCII).
const NAME_MAX: usize = 15;

fn truncated(name: &str) -> &str {
    &name[..name.len().min(NAME_MAX)]
}

/// The kernel's flag for a task that is exiting (`PF_EXITING`, in `/proc/.../stat`).
const PF_EXITING: u64 = 0x4;

/// The names of the process's live threads.
///
/// A thread that has exited may still be listed for a moment after `join` returns (the kernel
/// wakes the joiner before it removes the task): such a thread is marked exiting in its `stat`
/// and is left out, so that "joined" reads as "gone" without waiting.
pub fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("stat")).ok())
        .filter_map(|stat| live_name(&stat))
        .collect()
}

/// The name in a task's `stat` line (`tid (name) state ppid pgrp session tty tpgid flags ...`),
/// unless the task is exiting.
fn live_name(stat: &str) -> Option<String> {
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    let flags: u64 = fields.get(6)?.parse().ok()?;
    let exiting = flags & PF_EXITING != 0 || matches!(fields.first(), Some(&("Z" | "X")));
    (!exiting).then(|| stat[open + 1..close].to_owned())
}

/// Whether the thread named `name` (a subscription's), or its socket reader (`{name}-rd`), is
/// alive. Exact names: `kili-sub-1` is not `kili-sub-12`.
pub fn thread_alive(name: &str) -> bool {
    let reader = format!("{name}-rd");
    let (name, reader) = (truncated(name), truncated(&reader));
    thread_names().iter().any(|n| n == name || n == reader)
}

/// How many threads have a name starting with `prefix`.
pub fn threads_named(prefix: &str) -> usize {
    let prefix = truncated(prefix);
    thread_names()
        .iter()
        .filter(|n| n.starts_with(prefix))
        .count()
}

/// How many of the process's threads are not the test harness's.
///
/// The harness names its threads after the tests (Rust paths, no `-`) and starts the next
/// test's thread whenever one finishes, which would move a plain count while a test waits for
/// its turn. Every thread of the crate (server, subscriptions, their readers), of the fault
/// proxy and of the writers has a `-` in its name.
pub fn worker_threads() -> usize {
    thread_names().iter().filter(|n| n.contains('-')).count()
}

/// [`worker_threads`] once the threads named by the `started` prefixes run: a thread takes its
/// name itself when it starts, so a count taken right after spawning may miss it.
pub fn worker_baseline(started: &[&str]) -> usize {
    assert!(
        wait_for(PATIENCE, || started.iter().all(|p| threads_named(p) > 0)),
        "not started: {started:?} in {:?}",
        thread_names()
    );
    worker_threads()
}

/// Waits until the worker threads are back to `baseline` (see [`worker_threads`]), no thread
/// named like `prefix` lives, and the server has no open connection.
pub fn assert_no_leak(baseline: usize, server: &LocalServer, prefix: &str) {
    assert!(
        wait_for(PATIENCE, || server.connection_count() == 0),
        "server connections still open: {}",
        server.connection_count()
    );
    assert!(
        wait_for(PATIENCE, || threads_named(prefix) == 0),
        "a thread named {prefix}* is still alive"
    );
    assert!(
        wait_for(PATIENCE, || worker_threads() <= baseline),
        "threads: {} > baseline {baseline}: {:?}",
        worker_threads(),
        thread_names()
    );
}

/// Serialises the tests of a binary that compare whole thread counts: every test of such a
/// binary holds this guard while it runs.
pub fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = parking_lot::const_mutex(());
    SERIAL.lock()
}
