//! Showing what a user wrote without letting it act on the terminal.
//!
//! Values and entries are echoed in messages and in `check-config`'s output. A value may hold
//! anything a file can: an escape sequence (`\e[2K` erases the line the message is on), a
//! right-to-left override (U+202E reverses the rest of the line), a byte-order mark or a
//! zero-width space (an entry that looks right but is refused). [`printable`] shows each of
//! those as an escape instead, so what is printed is what the file holds.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` can be shown as itself: not a control character (C0, DEL, C1), not a Unicode
/// format character (Cf: bidirectional controls, zero-width characters, the byte-order mark,
/// tags…), not a line or paragraph separator, and not a space other than U+0020 (a no-break
/// space looks like a space but is not one to an address parser).
pub fn is_printable(c: char) -> bool {
    !(c.is_control() || is_format(c) || is_odd_space(c))
}

/// `text` with every character that is not [`is_printable`] written as an escape: `\t`, `\n`,
/// `\r`, `\x1b` for the other ASCII controls, `\u{feff}` for the rest. Borrowed when nothing
/// needed escaping. A backslash is not escaped, so applying it twice changes nothing.
pub fn printable(text: &str) -> Cow<'_, str> {
    if text.chars().all(is_printable) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\t' => shown.push_str("\\t"),
            '\n' => shown.push_str("\\n"),
            '\r' => shown.push_str("\\r"),
            c if is_printable(c) => shown.push(c),
            c if c.is_ascii() => {
                let _ = write!(shown, "\\x{:02x}", u32::from(c));
            }
            c => {
                let _ = write!(shown, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    Cow::Owned(shown)
}

/// Unicode general categories Cf (format), Zl and Zp (Unicode 15.1).
fn is_format(c: char) -> bool {
    matches!(
        u32::from(c),
        0x00ad
            | 0x0600..=0x0605
            | 0x061c
            | 0x06dd
            | 0x070f
            | 0x0890..=0x0891
            | 0x08e2
            | 0x180e
            | 0x200b..=0x200f
            | 0x2028..=0x202e
            | 0x2060..=0x2064
            | 0x2066..=0x206f
            | 0xfeff
            | 0xfff9..=0xfffb
            | 0x110bd
            | 0x110cd
            | 0x13430..=0x1343f
            | 0x1bca0..=0x1bca3
            | 0x1d173..=0x1d17a
            | 0xe0001
            | 0xe0020..=0xe007f
    )
}

/// Unicode category Zs other than the ASCII space.
fn is_odd_space(c: char) -> bool {
    matches!(
        u32::from(c),
        0x00a0 | 0x1680 | 0x2000..=0x200a | 0x202f | 0x205f | 0x3000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_text_is_borrowed() {
        assert!(matches!(
            printable("10.0.0.0/8, é ü ∞ 中"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn controls_and_format_characters_are_escaped() {
        assert_eq!(printable("a\x1b[2Kb"), "a\\x1b[2Kb");
        assert_eq!(printable("\t\n\r\0\x7f"), "\\t\\n\\r\\x00\\x7f");
        assert_eq!(printable("\u{feff}10.0.0.1"), "\\u{feff}10.0.0.1");
        assert_eq!(printable("1\u{202e}2"), "1\\u{202e}2");
        assert_eq!(
            printable("a\u{200b}b\u{a0}c\u{85}"),
            "a\\u{200b}b\\u{a0}c\\u{85}"
        );
        assert_eq!(printable("\u{e0041}"), "\\u{e0041}");
    }

    #[test]
    fn escaping_twice_changes_nothing() {
        let once = printable("x\x1by").into_owned();
        assert_eq!(printable(&once), once);
    }
}
