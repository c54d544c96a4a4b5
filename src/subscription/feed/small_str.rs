//! [`SmallStr`]: an id kept inline when short, so that copying it allocates nothing and sharing
//! it between threads touches no reference count.
//!
//! Label ids (25-character cuids) and operation ids (6 characters) fit inline. A label event
//! crosses to the reader's thread in the pull form: an `Arc<str>` there would cost an
//! allocation on one thread freed on the other, or a reference count both threads write.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

use crate::common::hash::WordHasher;

/// A map keyed by label id.
pub(crate) type IdMap<V> = HashMap<SmallStr, V, BuildHasherDefault<WordHasher>>;

/// The longest string kept inline.
const INLINE: usize = 30;

/// A short immutable string: inline up to 30 bytes, shared beyond.
#[derive(Clone)]
pub(crate) enum SmallStr {
    Inline { len: u8, bytes: [u8; INLINE] },
    Shared(Arc<str>),
}

impl SmallStr {
    pub(crate) fn new(s: &str) -> SmallStr {
        match u8::try_from(s.len()) {
            Ok(len) if s.len() <= INLINE => {
                let mut bytes = [0; INLINE];
                bytes[..s.len()].copy_from_slice(s.as_bytes());
                SmallStr::Inline { len, bytes }
            }
            _ => SmallStr::Shared(Arc::from(s)),
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            // The bytes of a whole `str`: always UTF-8, the fallback is never taken.
            SmallStr::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            SmallStr::Shared(s) => s,
        }
    }
}

impl Deref for SmallStr {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for SmallStr {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for SmallStr {
    fn eq(&self, other: &SmallStr) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for SmallStr {}

/// Hashes as the `str` it holds, so that maps keyed by it are searched with a `&str`.
impl Hash for SmallStr {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for SmallStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_str().fmt(f)
    }
}

impl fmt::Display for SmallStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn short_strings_are_inline_long_ones_shared_and_both_read_back() {
        for s in [
            "",
            "a",
            "c0123456789abcdefghijklmn",
            "é漢字",
            &"x".repeat(30),
        ] {
            let small = SmallStr::new(s);
            assert!(matches!(small, SmallStr::Inline { .. }), "{s}");
            assert_eq!(small.as_str(), s);
        }
        let long = "y".repeat(31);
        let small = SmallStr::new(&long);
        assert!(matches!(small, SmallStr::Shared(_)));
        assert_eq!(&*small, long);
        assert_eq!(small, SmallStr::new(&long));
    }

    #[test]
    fn maps_keyed_by_it_are_searched_with_a_str() {
        let mut m = HashMap::new();
        m.insert(SmallStr::new("id-1"), 1);
        m.insert(SmallStr::new(&"z".repeat(40)), 2);
        assert_eq!(m.get("id-1"), Some(&1));
        assert_eq!(m.get("z".repeat(40).as_str()), Some(&2));
        assert_eq!(m.get("id-2"), None);
    }
}
