//! Identifiers, API keys and upload tokens: cuid-like ids, unique within one store and unlikely
//! to collide across stores, and keys and tokens of random digits. Every random digit comes from
//! the operating system's random source (`getrandom`), read 64 bytes at a time: what grants
//! access (a key, a signed URL's token) cannot be guessed from what a client has seen.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// Random bytes read from the operating system at a time.
const POOL: usize = 64;

/// Generates ids such as `clq2x9k1m000004f9c2a1b7d` (a `c`, the time, a sequence, random digits).
pub(crate) struct IdGen {
    seq: u64,
    pool: [u8; POOL],
    used: usize,
}

impl std::fmt::Debug for IdGen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdGen")
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

impl IdGen {
    /// Makes a generator.
    pub(crate) fn new() -> Self {
        IdGen {
            seq: 0,
            pool: [0; POOL],
            used: POOL,
        }
    }

    /// Makes a new id; `now_ms` keeps ids roughly sortable by creation time.
    pub(crate) fn next(&mut self, now_ms: i64) -> String {
        self.seq += 1;
        let mut id = String::with_capacity(25);
        id.push('c');
        push_base36(&mut id, u64::try_from(now_ms).unwrap_or(0), 8);
        push_base36(&mut id, self.seq, 6);
        let r = self.random();
        push_base36(&mut id, r % 36u64.pow(8), 8);
        id
    }

    /// Makes a new random API key (32 base-36 characters).
    pub(crate) fn api_key(&mut self) -> String {
        let mut key = String::with_capacity(32);
        for _ in 0..4 {
            let r = self.random();
            push_base36(&mut key, r % 36u64.pow(8), 8);
        }
        key
    }

    /// Draws the next random number: 8 bytes of the operating system's random source, each used
    /// once.
    fn random(&mut self) -> u64 {
        if self.used + 8 > POOL {
            refill(&mut self.pool);
            self.used = 0;
        }
        let mut word = [0u8; 8];
        word.copy_from_slice(&self.pool[self.used..self.used + 8]);
        self.used += 8;
        u64::from_le_bytes(word)
    }
}

/// Fills `pool` from the operating system's random source. Should that ever fail, from std's
/// randomly keyed hasher (which std seeds from the same source), with an error logged.
fn refill(pool: &mut [u8; POOL]) {
    if let Err(e) = getrandom::fill(pool) {
        log::error!("local server: the system's random source failed ({e}); using std's keys");
        for chunk in pool.chunks_mut(8) {
            let mut h = RandomState::new().build_hasher();
            h.write_i64(crate::time::now_ms());
            chunk.copy_from_slice(&h.finish().to_le_bytes()[..chunk.len()]);
        }
    }
}

/// Appends `value` in base 36, left-padded with zeros to `width` digits.
fn push_base36(out: &mut String, mut value: u64, width: usize) {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut buf = Vec::with_capacity(13);
    while value > 0 {
        buf.push(DIGITS[(value % 36) as usize]);
        value /= 36;
    }
    while buf.len() < width {
        buf.push(b'0');
    }
    out.extend(buf.iter().rev().map(|&b| char::from(b)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_shaped() {
        let mut g = IdGen::new();
        let ids: std::collections::HashSet<String> =
            (0..1000).map(|_| g.next(1_700_000_000_000)).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids.iter().all(|i| i.len() == 23 && i.starts_with('c')));
        let key = g.api_key();
        assert_eq!(key.len(), 32);
        assert_ne!(key, g.api_key());
    }
}
