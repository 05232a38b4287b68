//! One address as Net::IP 1.26 reads it (`ip_is_ipv4`, `ip_is_ipv6`, `ip_expand_address`).
//!
//! Net::IP accepts forms the std parsers reject, and Proxmox users rely on some of them:
//! - IPv4 short forms: `10.1` is 10.1.0.0 and `10` is 10.0.0.0 (missing parts are zeros, on the
//!   right), up to four dotted parts of 1–3 decimal digits each, leading zeros allowed
//!   (`010` is ten, not octal).
//! - IPv6 with an embedded IPv4 short form as the last group: `::1.2` is `::102:0`.
//!
//! It also refuses a form std accepts: an address with more than seven colons, i.e. `::`
//! standing for a single group at either end (`1:2:3:4:5:6:7::`). We refuse it too, so that an
//! entry corral accepts is an entry Proxmox VE accepts.

use thiserror::Error;

use crate::config::display::printable;

/// An address value, without the text it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Addr {
    V4(u32),
    V6(u128),
}

/// An address as written: its value, and whether it was an IPv4 short form (fewer than four
/// dotted parts), which matters for ranges (see `EntryError::ShortFormInRange`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct WrittenAddr {
    pub(super) addr: Addr,
    pub(super) short_v4: bool,
}

/// Why a dotted IPv4 address (alone or embedded in IPv6) was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum V4Problem {
    #[error(
        "'{}' is not allowed: an IPv4 address is digits and dots, an IPv6 address hex digits \
         and colons (host names are not resolved)",
        printable(.ch.encode_utf8(&mut [0; 4]))
    )]
    InvalidChar { ch: char },
    #[error("more than four dotted parts")]
    TooManyParts,
    #[error("a dotted part is empty (a leading, trailing or doubled '.')")]
    EmptyPart,
    #[error("'{part}' has more than three digits")]
    PartTooLong { part: String },
    #[error("{part} is larger than 255")]
    PartTooLarge { part: String },
}

/// Why an address was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AddressProblem {
    #[error("nothing where an address should be")]
    Missing,
    #[error("{0}")]
    V4(V4Problem),
    #[error(
        "more than seven colons; Proxmox VE's Net::IP refuses this even where '::' stands for a \
         single group: write that group as 0 instead"
    )]
    TooManyColons,
    #[error("'::' may appear only once")]
    SeveralDoubleColons,
    #[error("it starts with a single ':'")]
    LeadingColon,
    #[error("it ends with a single ':'")]
    TrailingColon,
    #[error("'{}' is not a group of 1 to 4 hex digits", printable(.group))]
    BadGroup { group: String },
    #[error("the embedded IPv4 address '{}' must be the last group", printable(.v4))]
    EmbeddedV4NotLast { v4: String },
    #[error("embedded IPv4 address '{}': {problem}", printable(.v4))]
    EmbeddedV4 { v4: String, problem: V4Problem },
    #[error("{groups} groups where an IPv6 address has 8 (use '::' for a run of zero groups)")]
    WrongGroupCount { groups: usize },
    #[error("'::' must stand for at least one group, but 8 groups are already written")]
    NothingForDoubleColon,
}

/// Reads `text` as Net::IP would: IPv6 if it contains a colon, IPv4 otherwise.
pub(super) fn parse_addr(text: &str) -> Result<WrittenAddr, AddressProblem> {
    if text.is_empty() {
        return Err(AddressProblem::Missing);
    }
    if text.contains(':') {
        let value = parse_v6(text)?;
        return Ok(WrittenAddr {
            addr: Addr::V6(value),
            short_v4: false,
        });
    }
    let v4 = parse_v4(text).map_err(AddressProblem::V4)?;
    Ok(WrittenAddr {
        addr: Addr::V4(v4.value),
        short_v4: v4.parts < 4,
    })
}

/// A dotted IPv4 address and how many parts it was written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct DottedV4 {
    pub(super) value: u32,
    pub(super) parts: usize,
}

/// IPv4 in Net::IP's grammar: 1 to 4 dotted parts of 1–3 decimal digits, each at most 255;
/// missing parts are zeros on the right.
pub(super) fn parse_v4(text: &str) -> Result<DottedV4, V4Problem> {
    if let Some(ch) = text.chars().find(|c| !c.is_ascii_digit() && *c != '.') {
        return Err(V4Problem::InvalidChar { ch });
    }
    let parts: Vec<&str> = text.split('.').collect();
    // Net::IP reports a stray dot before counting parts; so do we (`1.2.3.4.` is a stray dot).
    if parts.iter().any(|part| part.is_empty()) {
        return Err(V4Problem::EmptyPart);
    }
    if parts.len() > 4 {
        return Err(V4Problem::TooManyParts);
    }
    let mut value: u32 = 0;
    for (index, part) in parts.iter().enumerate() {
        let octet = parse_octet(part)?;
        // Part 0 is the top byte; absent parts stay zero.
        value |= u32::from(octet) << (8 * (3 - index));
    }
    Ok(DottedV4 {
        value,
        parts: parts.len(),
    })
}

fn parse_octet(part: &str) -> Result<u8, V4Problem> {
    if part.is_empty() {
        return Err(V4Problem::EmptyPart);
    }
    if part.len() > 3 {
        return Err(V4Problem::PartTooLong {
            part: part.to_owned(),
        });
    }
    // The caller has checked that the part is ASCII digits, so overflow is the only failure.
    part.parse::<u8>().map_err(|_| V4Problem::PartTooLarge {
        part: part.to_owned(),
    })
}

/// IPv6 in Net::IP's grammar (see the module comment for where it differs from RFC 4291).
fn parse_v6(text: &str) -> Result<u128, AddressProblem> {
    check_v6_colons(text)?;
    let (head, tail) = match text.split_once("::") {
        Some((head, tail)) => (head, Some(tail)),
        None => (text, None),
    };
    let head_groups = parse_groups(head, tail.is_none())?;
    let tail_groups = match tail {
        Some(tail) => parse_groups(tail, true)?,
        None => Vec::new(),
    };
    let written = head_groups.len() + tail_groups.len();
    match tail {
        None if written != 8 => Err(AddressProblem::WrongGroupCount { groups: written }),
        Some(_) if written > 7 => Err(AddressProblem::NothingForDoubleColon),
        _ => Ok(assemble_v6(&head_groups, &tail_groups)),
    }
}

/// The checks Net::IP makes on the colons before looking at the groups.
fn check_v6_colons(text: &str) -> Result<(), AddressProblem> {
    if text.matches(':').count() > 7 {
        return Err(AddressProblem::TooManyColons);
    }
    let double_colons = text
        .as_bytes()
        .windows(2)
        .filter(|pair| pair == b"::")
        .count();
    if double_colons > 1 {
        return Err(AddressProblem::SeveralDoubleColons);
    }
    if text.starts_with(':') && !text.starts_with("::") {
        return Err(AddressProblem::LeadingColon);
    }
    if text.ends_with(':') && !text.ends_with("::") {
        return Err(AddressProblem::TrailingColon);
    }
    Ok(())
}

/// The 16-bit groups of one side of `::` (or of the whole address). `ends_address` says whether
/// this side's last group is the address's last group, the only place an IPv4 part may stand.
fn parse_groups(side: &str, ends_address: bool) -> Result<Vec<u16>, AddressProblem> {
    if side.is_empty() {
        return Ok(Vec::new());
    }
    let fields: Vec<&str> = side.split(':').collect();
    let mut groups = Vec::with_capacity(fields.len() + 1);
    for (index, field) in fields.iter().enumerate() {
        if let Some(group) = parse_hex_group(field) {
            groups.push(group);
            continue;
        }
        let is_last = ends_address && index + 1 == fields.len();
        let looks_v4 = field.contains('.') || field.bytes().all(|b| b.is_ascii_digit());
        if !looks_v4 || field.is_empty() {
            return Err(AddressProblem::BadGroup {
                group: (*field).to_owned(),
            });
        }
        if !is_last {
            return Err(AddressProblem::EmbeddedV4NotLast {
                v4: (*field).to_owned(),
            });
        }
        let v4 = parse_v4(field).map_err(|problem| AddressProblem::EmbeddedV4 {
            v4: (*field).to_owned(),
            problem,
        })?;
        // An embedded IPv4 address fills the last two groups.
        groups.push((v4.value >> 16) as u16);
        groups.push((v4.value & 0xffff) as u16);
    }
    Ok(groups)
}

fn parse_hex_group(field: &str) -> Option<u16> {
    let well_formed =
        (1..=4).contains(&field.len()) && field.bytes().all(|b| b.is_ascii_hexdigit());
    if well_formed {
        u16::from_str_radix(field, 16).ok()
    } else {
        None
    }
}

/// Head groups from the top, tail groups at the bottom, zeros in between (the `::`).
fn assemble_v6(head: &[u16], tail: &[u16]) -> u128 {
    let mut groups = [0u16; 8];
    for (slot, group) in groups.iter_mut().zip(head) {
        *slot = *group;
    }
    let tail_start = 8 - tail.len();
    for (slot, group) in groups[tail_start..].iter_mut().zip(tail) {
        *slot = *group;
    }
    groups
        .iter()
        .fold(0u128, |acc, group| (acc << 16) | u128::from(*group))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(text: &str) -> Option<u32> {
        match parse_addr(text).ok()?.addr {
            Addr::V4(value) => Some(value),
            Addr::V6(_) => None,
        }
    }

    fn v6(text: &str) -> Option<u128> {
        match parse_addr(text).ok()?.addr {
            Addr::V6(value) => Some(value),
            Addr::V4(_) => None,
        }
    }

    #[test]
    fn v4_short_forms_fill_zeros_on_the_right() {
        assert_eq!(v4("10"), Some(0x0a00_0000));
        assert_eq!(v4("10.1"), Some(0x0a01_0000));
        assert_eq!(v4("10.1.2"), Some(0x0a01_0200));
        assert_eq!(v4("010.001.002.003"), Some(0x0a01_0203));
    }

    #[test]
    fn v4_refusals() {
        for bad in [
            "256",
            "1.2.3.4.5",
            "1..2",
            ".1",
            "1.",
            "0001",
            "1.2.3.a",
            "-1",
        ] {
            assert!(v4(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn v6_forms() {
        assert_eq!(v6("::"), Some(0));
        assert_eq!(v6("::1"), Some(1));
        assert_eq!(v6("1::"), Some(1 << 112));
        assert_eq!(v6("::ffff:1.2.3.4"), Some(0xffff_0102_0304));
        assert_eq!(v6("::1.2"), Some(0x0102_0000));
        assert_eq!(v6("1::2:3:4:5:6:7"), v6("1:0:2:3:4:5:6:7"));
        assert_eq!(v6("1:2:3:4:5:6:1.2.3.4"), v6("1:2:3:4:5:6:102:304"));
    }

    #[test]
    fn v6_refusals_match_net_ip() {
        for bad in [
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "1::2::3",
            ":::",
            ":1::",
            "1::1:",
            "1:2:3:4:5:6:7",
            "12345::",
            "1.2.3.4::",
            "::1.2.3.4:5",
            "1::2:3:4:5:6:1.2.3.4",
            "::00010",
            "::ffff:0010.0.0.1",
            "g::1",
        ] {
            assert!(v6(bad).is_none(), "{bad}");
        }
    }
}
