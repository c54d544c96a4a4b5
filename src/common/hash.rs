//! Fast non-cryptographic hashing, one word (8 bytes) at a time: the label-id maps of a label
//! feed, the digest of a label version that checkpoints store, and the keys a webhook receiver
//! remembers.
//!
//! Label ids come from the server the client already trusts with its data, so hash flooding is
//! not a concern here; speed is, since every event is hashed several times.

use std::hash::Hasher;

/// Multiplier of the word mix (FxHash's).
const K: u64 = 0x517c_c1b7_2722_0a95;

/// A hasher that mixes 8-byte words and finishes with an avalanche: stable across processes,
/// platforms and versions of this crate (digests in checkpoints depend on it).
#[derive(Debug, Clone, Copy)]
pub(crate) struct WordHasher(u64);

impl Default for WordHasher {
    fn default() -> Self {
        WordHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl WordHasher {
    /// Mixes one word.
    pub(crate) fn word(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
    }

    /// Mixes bytes as little-endian words, the last one zero-padded (callers mix the length
    /// first where it matters).
    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.word(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.word(u64::from_le_bytes(w));
        }
    }
}

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.word(bytes.len() as u64);
        self.bytes(bytes);
    }

    fn write_u8(&mut self, i: u8) {
        self.word(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.word(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.word(i as u64);
    }

    /// Mixes the state through MurmurHash3's 64-bit finaliser, so every input bit reaches every
    /// output bit.
    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(bytes: &[u8]) -> u64 {
        let mut h = WordHasher::default();
        h.write(bytes);
        h.finish()
    }

    #[test]
    fn lengths_and_padding_are_told_apart() {
        assert_ne!(hash(b"ab"), hash(b"ab\0"));
        assert_ne!(hash(b""), hash(b"\0"));
        assert_ne!(hash(b"abcdefgh"), hash(b"abcdefgh\0"));
        assert_eq!(hash(b"abcdefghi"), hash(b"abcdefghi"));
    }

    #[test]
    fn single_bit_changes_spread() {
        let base = hash(b"clabel000000000000000001");
        for i in 0..24 {
            let mut v = *b"clabel000000000000000001";
            v[i] ^= 1;
            let diff = (hash(&v) ^ base).count_ones();
            assert!((12..=52).contains(&diff), "byte {i}: {diff} bits differ");
        }
    }
}
