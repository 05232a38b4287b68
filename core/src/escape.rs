//! Percent-escaping as Perl's URI::Escape does it: what Proxmox applies to request paths, form
//! bodies, ticket data, credentials in headers, and the free-text fields of `user.cfg`. The one
//! implementation every module of core uses.

use std::fmt::Write as _;

/// `uri_unescape`: every `%` followed by two hex digits (either case) becomes that byte;
/// anything else, including a lone or malformed `%`, stays as it is.
pub(crate) fn uri_unescape(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let byte = input[i];
        let escaped = match input.get(i + 1..i + 3) {
            Some([hi, lo]) if byte == b'%' => hex_value(*hi).zip(hex_value(*lo)),
            _ => None,
        };
        match escaped {
            Some((hi, lo)) => {
                out.push(hi << 4 | lo);
                i += 3;
            }
            None => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

/// [`uri_unescape`], the bytes then read as UTF-8 with invalid sequences replaced (U+FFFD).
pub(crate) fn uri_unescape_lossy(input: impl AsRef<[u8]>) -> String {
    String::from_utf8_lossy(&uri_unescape(input.as_ref())).into_owned()
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

/// `uri_escape` with its default set: every byte except RFC 3986's unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`) becomes `%XX` with uppercase hex.
pub(crate) fn uri_escape(input: &str) -> String {
    escape_bytes(input, |byte| {
        !(byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~'))
    })
}

/// Ticket data as corral escapes it: `:` (the ticket's field separator, as Proxmox's
/// `uri_escape($data, ':')`) and `%`.
///
/// Difference: Proxmox escapes only `:`, yet its verifier unescapes every `%XX`, so a user id
/// containing e.g. `%41` comes back from a Proxmox ticket as a different user id (`A`).
/// Escaping `%` as well makes every user id come back unchanged, from corral's verifier and
/// from Proxmox's alike. User ids without `%` give byte-identical tickets.
pub(crate) fn escape_ticket_data(data: &str) -> String {
    escape_bytes(data, |byte| matches!(byte, b':' | b'%'))
}

/// Every character with a byte that `escape` picks becomes `%XX` for each of its UTF-8 bytes
/// (upper-case hex); the others are kept.
pub(crate) fn escape_bytes(input: &str, escape: impl Fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(input.len());
    for (index, ch) in input.char_indices() {
        let bytes = &input.as_bytes()[index..index + ch.len_utf8()];
        if bytes.iter().any(|&byte| escape(byte)) {
            for byte in bytes {
                // Writing to a String cannot fail.
                let _ = write!(out, "%{byte:02X}");
            }
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_decodes_every_valid_sequence_and_keeps_the_rest() {
        assert_eq!(uri_unescape(b"a%3Ab%3ac"), b"a:b:c");
        assert_eq!(uri_unescape(b"100%"), b"100%");
        assert_eq!(uri_unescape(b"%zz%4"), b"%zz%4");
        assert_eq!(uri_unescape(b"%%41"), b"%A");
        assert_eq!(uri_unescape(b"%FF"), [0xFF]);
        assert_eq!(uri_unescape(b""), b"");
    }

    #[test]
    fn escape_keeps_only_unreserved_characters() {
        assert_eq!(uri_escape("root@pam!t=1-2._~"), "root%40pam%21t%3D1-2._~");
        assert_eq!(uri_escape("a+/b="), "a%2B%2Fb%3D");
        assert_eq!(uri_escape("ü"), "%C3%BC");
    }

    #[test]
    fn ticket_data_escapes_colon_and_percent_only() {
        assert_eq!(escape_ticket_data("a:b@pve"), "a%3Ab@pve");
        assert_eq!(escape_ticket_data("50%@pve"), "50%25@pve");
        assert_eq!(escape_ticket_data("root@pam"), "root@pam");
        assert_eq!(escape_ticket_data("jürgen@pve"), "jürgen@pve");
        for userid in ["a:b%41:%3A@pve", "%", "::", "x"] {
            let round = uri_unescape(escape_ticket_data(userid).as_bytes());
            assert_eq!(round, userid.as_bytes());
        }
    }
}
