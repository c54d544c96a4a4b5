//! The one wait helper of the tests: a condition polled until a deadline. (A channel is waited
//! on with its own `recv_timeout` / `recv_deadline`, with [`PATIENCE`].) Nothing sleeps to let
//! something else happen.

use std::time::{Duration, Instant};

/// Generous: the machine is shared and slow; nothing here waits this long when things work.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// How often a condition is polled.
const POLL: Duration = Duration::from_millis(5);

/// Polls `cond` until it holds (`true`) or `within` passes (`false`).
pub fn wait_for(within: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(POLL);
    }
}

/// Polls `cond` for `during`: `true` if it held every time, `false` as soon as it did not.
/// For what must stay true (a healthy connection), where [`wait_for`] waits for a change.
pub fn holds_for(during: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + during;
    while Instant::now() < deadline {
        if !cond() {
            return false;
        }
        std::thread::sleep(POLL);
    }
    cond()
}

/// Returns `PROPTEST_CASES` if set, else `default`: how many cases a property test runs.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
