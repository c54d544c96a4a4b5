//! The shared secret a webhook carries: Kili sends the `header` given at registration as the
//! request's `Authorization` header, and the receiver compares it in constant time.

/// Returns whether `given` equals `expected`, in a time that depends only on their lengths
/// (not on where they first differ), so that a caller cannot find the secret byte by byte.
pub(crate) fn same_secret(expected: &[u8], given: &[u8]) -> bool {
    let mut diff = u8::from(expected.len() != given.len());
    for (i, e) in expected.iter().enumerate() {
        diff |= e ^ given.get(i).copied().unwrap_or(!e);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_secret_passes() {
        assert!(same_secret(b"Bearer s3cret", b"Bearer s3cret"));
        for wrong in [
            &b""[..],
            b"Bearer s3cre",
            b"Bearer s3cret ",
            b"bearer s3cret",
            b"x",
        ] {
            assert!(!same_secret(b"Bearer s3cret", wrong), "{wrong:?}");
        }
        assert!(same_secret(b"", b""));
        assert!(!same_secret(b"", b"a"));
    }
}
