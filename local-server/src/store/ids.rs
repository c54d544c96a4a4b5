//! Identifiers and API keys: cuid-like strings, unique within one store and unlikely to collide
//! across stores.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// Generates ids such as `clq2x9k1m000004f9c2a1b7d` (a `c`, the time, a sequence, random digits).
#[derive(Debug)]
pub(crate) struct IdGen {
    seq: u64,
    rng: u64,
}

impl IdGen {
    /// Makes a generator with a per-process random seed.
    pub(crate) fn new() -> Self {
        IdGen {
            seq: 0,
            rng: seed(),
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

    /// Draws the next random number (splitmix64).
    fn random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Makes a per-process random seed, from std's randomly keyed hasher and the clock.
fn seed() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_i64(crate::time::now_ms());
    h.write_u32(std::process::id());
    h.finish()
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
