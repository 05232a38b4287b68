//! Response compression, as Proxmox decides it.
//!
//! Reference: `../shared/reference/pveproxy-pvedaemon.md` §4. io does the compressing (flate2)
//! and sets `Content-Encoding` from [`Encoding::header_value`]; proxied responses never come
//! here (they are relayed as upstream compressed them).
//!
//! Difference: corral sends `Vary: Accept-Encoding` with compressible replies (io adds it);
//! Proxmox omits it, which lets shared caches hand gzip to clients that did not ask for it.

/// A `Content-Encoding` corral produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Encoding {
    /// gzip (RFC 1952), preferred.
    Gzip,
    /// zlib-wrapped deflate (RFC 1950), as HTTP's `deflate` means and Proxmox sends.
    Deflate,
}

impl Encoding {
    pub fn header_value(self) -> &'static str {
        match self {
            Encoding::Gzip => "gzip",
            Encoding::Deflate => "deflate",
        }
    }
}

/// Bodies of at most this many bytes go out uncompressed.
const MIN_COMPRESSED_LEN: usize = 1024;

/// Proxmox: case-sensitive substring test for "gzip" (preferred) then "deflate" in
/// Accept-Encoding (q-values ignored, so `gzip;q=0` still counts); only when enabled
/// (COMPRESSION) and body_len > 1024 and the reply is compressible.
pub fn choose_encoding(
    accept_encoding: Option<&[u8]>,
    body_len: usize,
    enabled: bool,
    compressible: bool,
) -> Option<Encoding> {
    if !enabled || !compressible || body_len <= MIN_COMPRESSED_LEN {
        return None;
    }
    accepted_encoding(accept_encoding?)
}

/// The encoding a client takes, by Proxmox's substring test: gzip if `Accept-Encoding` contains
/// "gzip", else deflate if it contains "deflate". pveproxy also forwards this (normalised)
/// to pvedaemon.
pub fn accepted_encoding(accept: &[u8]) -> Option<Encoding> {
    if contains(accept, b"gzip") {
        Some(Encoding::Gzip)
    } else if contains(accept, b"deflate") {
        Some(Encoding::Deflate)
    } else {
        None
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choose(accept: &str, len: usize) -> Option<Encoding> {
        choose_encoding(Some(accept.as_bytes()), len, true, true)
    }

    #[test]
    fn only_above_1024_bytes() {
        assert_eq!(choose("gzip", 0), None);
        assert_eq!(choose("gzip", 1024), None);
        assert_eq!(choose("gzip", 1025), Some(Encoding::Gzip));
        assert_eq!(choose("deflate", 1024), None);
        assert_eq!(choose("deflate", 1025), Some(Encoding::Deflate));
    }

    #[test]
    fn gzip_preferred_by_substring() {
        assert_eq!(choose("gzip, deflate, br", 2000), Some(Encoding::Gzip));
        assert_eq!(choose("deflate, gzip", 2000), Some(Encoding::Gzip));
        assert_eq!(choose("deflate", 2000), Some(Encoding::Deflate));
        assert_eq!(choose("br, deflate;q=0.5", 2000), Some(Encoding::Deflate));
        assert_eq!(choose("x-gzip", 2000), Some(Encoding::Gzip));
        assert_eq!(choose("br, zstd", 2000), None);
        assert_eq!(choose("", 2000), None);
        assert_eq!(choose("identity", 2000), None);
    }

    #[test]
    fn q_values_are_ignored() {
        assert_eq!(choose("gzip;q=0", 2000), Some(Encoding::Gzip));
        assert_eq!(choose("gzip;q=0, deflate", 2000), Some(Encoding::Gzip));
    }

    #[test]
    fn case_sensitive_as_proxmox() {
        assert_eq!(choose("GZIP", 2000), None);
        assert_eq!(choose("Deflate", 2000), None);
    }

    #[test]
    fn off_when_disabled_not_compressible_or_not_asked() {
        assert_eq!(choose_encoding(Some(b"gzip"), 2000, false, true), None);
        assert_eq!(choose_encoding(Some(b"gzip"), 2000, true, false), None);
        assert_eq!(choose_encoding(None, 2000, true, true), None);
        assert_eq!(
            choose_encoding(Some(b"\xff\xfegzip\x00"), 2000, true, true),
            Some(Encoding::Gzip)
        );
    }

    #[test]
    fn header_values() {
        assert_eq!(Encoding::Gzip.header_value(), "gzip");
        assert_eq!(Encoding::Deflate.header_value(), "deflate");
    }
}
