//! The text helpers `user.cfg` and `domains.cfg` are written with (pve-common
//! `src/PVE/Tools.pm` `encode_text`, `decode_text`, `split_list`).

use crate::escape::{escape_bytes, uri_unescape_lossy};

/// Percent-encodes a free-text field (comment, first and last name) for a `:`-separated line:
/// every byte of its UTF-8 that is a control character (0x00–0x1f), 0x7f or above, `:` or `%`
/// becomes `%XX` (upper-case hex); everything else is kept.
pub fn encode_text(text: &str) -> String {
    escape_bytes(text, |byte| {
        !(0x20..0x7f).contains(&byte) || byte == b':' || byte == b'%'
    })
}

/// Reverses [`encode_text`] as Proxmox does (`uri_unescape`, then UTF-8 decoding): every `%XX`
/// with two hex digits becomes that byte, any other `%` stays as it is, and bytes that are not
/// valid UTF-8 become U+FFFD.
pub fn decode_text(text: &str) -> String {
    uri_unescape_lossy(text)
}

/// Splits a list field as Proxmox's `split_list`: `,`, `;` and whitespace all separate, empty
/// items are dropped.
pub fn split_list(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|item| !item.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_control_high_bit_colon_and_percent() {
        assert_eq!(encode_text("plain text-1.2"), "plain text-1.2");
        assert_eq!(encode_text("a:b%c"), "a%3Ab%25c");
        assert_eq!(encode_text("line\nbreak\t"), "line%0Abreak%09");
        assert_eq!(encode_text("Zoë"), "Zo%C3%AB");
        assert_eq!(encode_text("\u{7f}"), "%7F");
    }

    #[test]
    fn decodes_what_it_encodes() {
        for text in ["", "a:b%c", "Zoë – 東京", "tab\there", "%41 literal"] {
            assert_eq!(decode_text(&encode_text(text)), text, "{text}");
        }
    }

    #[test]
    fn decodes_like_uri_unescape() {
        assert_eq!(decode_text("100%"), "100%");
        assert_eq!(decode_text("%zz%4"), "%zz%4");
        assert_eq!(decode_text("%41%42c"), "ABc");
        assert_eq!(decode_text("%c3%a9"), "é");
        // A byte that is not UTF-8 becomes the replacement character.
        assert_eq!(decode_text("%FF"), "\u{fffd}");
    }

    #[test]
    fn splits_lists_on_commas_semicolons_and_whitespace() {
        let items: Vec<&str> = split_list(" a,b;c  d,,\te ").collect();
        assert_eq!(items, ["a", "b", "c", "d", "e"]);
        assert_eq!(split_list("").count(), 0);
    }
}
