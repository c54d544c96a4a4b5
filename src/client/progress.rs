//! Progress reporting for long operations.
//!
//! The library never prints: a caller who wants a progress bar attaches a [`Progress`]
//! observer to the operation (any `Fn(done, total) + Send + Sync` closure is one) and renders
//! it as it likes, e.g. with `indicatif` (see `examples/`).

/// Receives progress updates from a long operation: `done` items out of `total`.
///
/// Called once with `done == 0` when the total is known, then after each batch or page;
/// the last call has `done == total` when the operation completes. Calls come from the
/// thread running the operation.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use kili::Progress;
///
/// let seen = AtomicU64::new(0);
/// let observer = |done: u64, _total: u64| seen.store(done, Ordering::Relaxed);
/// observer.update(100, 250);
/// assert_eq!(seen.load(Ordering::Relaxed), 100);
/// ```
pub trait Progress: Send + Sync {
    /// Reports that `done` items of `total` are finished.
    fn update(&self, done: u64, total: u64);
}

impl<F> Progress for F
where
    F: Fn(u64, u64) + Send + Sync,
{
    fn update(&self, done: u64, total: u64) {
        self(done, total)
    }
}
