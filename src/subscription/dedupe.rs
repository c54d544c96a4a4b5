//! Bounded-memory "seen" set: the keys of the last N items.

use std::collections::{HashSet, VecDeque};

/// Remembers the last `capacity` keys; older ones are forgotten first in, first out.
///
/// Memory grows with use up to `capacity` keys (16 bytes each plus the set's overhead), so an
/// idle subscription costs nothing.
#[derive(Debug)]
pub(crate) struct Dedupe {
    capacity: usize,
    order: VecDeque<u64>,
    set: HashSet<u64>,
}

impl Dedupe {
    /// A set that remembers up to `capacity` keys (at least one).
    pub(crate) fn new(capacity: usize) -> Dedupe {
        Dedupe {
            capacity: capacity.max(1),
            order: VecDeque::new(),
            set: HashSet::new(),
        }
    }

    /// Records `key`; returns `true` if it was not already remembered.
    pub(crate) fn insert(&mut self, key: u64) -> bool {
        if !self.set.insert(key) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        true
    }

    /// Whether `key` is remembered.
    #[cfg(test)]
    pub(crate) fn contains(&self, key: u64) -> bool {
        self.set.contains(&key)
    }

    /// How many keys are remembered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_last_n() {
        let mut d = Dedupe::new(3);
        assert!(d.insert(1));
        assert!(!d.insert(1));
        assert!(d.insert(2) && d.insert(3));
        assert!(d.insert(4), "evicts 1");
        assert!(!d.contains(1));
        assert!(d.contains(2) && d.contains(4));
        assert_eq!(d.len(), 3);
        assert!(d.insert(1), "1 was forgotten");
        assert!(!d.contains(2));
    }

    #[test]
    fn capacity_zero_means_one() {
        let mut d = Dedupe::new(0);
        assert!(d.insert(7));
        assert!(!d.insert(7));
        assert!(d.insert(8));
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn bounded_under_load() {
        let mut d = Dedupe::new(100);
        for k in 0..10_000 {
            d.insert(k);
        }
        assert_eq!(d.len(), 100);
        assert_eq!(d.set.len(), 100);
    }
}
