//! Perl's notions of whitespace and truth, which Proxmox's parsing and checks inherit.

/// Perl's `\s` on a byte string: space, tab, newline, vertical tab, form feed, carriage return.
/// No other character (and no byte of a multi-byte UTF-8 sequence) is one.
pub(crate) fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// Whether Perl reads the string as false: only `""` and `"0"` are (`"00"`, `" "` are true).
pub(crate) fn is_false(text: &str) -> bool {
    text.is_empty() || text == "0"
}
