//! Comparing secrets without leaking where they differ.

/// Whether `a` and `b` are equal, in time that does not depend on where they differ (OpenSSL's
/// `CRYPTO_memcmp`). The lengths are compared first: the length of a hash, signature or token
/// secret reveals nothing secret.
pub(crate) fn eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && openssl::memcmp::eq(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_whole_strings() {
        assert!(eq(b"abc", b"abc"));
        assert!(!eq(b"abc", b"abd"));
        assert!(!eq(b"abc", b"ab"));
        assert!(eq(b"", b""));
    }
}
