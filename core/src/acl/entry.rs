//! One list entry, and a whole comma-separated list, read the way Proxmox VE reads them
//! (`PVE::APIServer::Utils::read_proxy_config` with Net::IP 1.26), minus the cases where that
//! reading is silently wrong. Every deliberate difference is listed in
//! `core/tests/netip_compat.rs` (`DEVIATIONS`), which checks it against Net::IP's own output.
//!
//! The entry forms, tried in Net::IP's order:
//! 1. prefix: no whitespace and a `/` — `10.0.0.0/8`, `10/8`, `2001:db8::/32`, and (ours only)
//!    a contiguous netmask `10.0.0.0/255.255.255.0`;
//! 2. range: `a-b`, whitespace allowed around the first `-`;
//! 3. count: `a + n`, whitespace required around `+`;
//! 4. a single address.

use std::net::IpAddr;

use thiserror::Error;

use super::addr::{self, Addr, AddressProblem, WrittenAddr};
use super::{AclEntry, AddrRange, Family};
use crate::config::display::printable;
use crate::perl::is_space as is_perl_space;

/// The IPv4-mapped block `::ffff:0:0/96`: peers in it are judged as IPv4, so entries in it are
/// read as the IPv4 range they denote.
const MAPPED_FIRST: u128 = 0xffff_0000_0000;
const MAPPED_LAST: u128 = 0xffff_ffff_ffff;

/// Why one entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EntryError {
    #[error("empty entry: remove the extra comma (only a trailing comma is allowed)")]
    Empty,
    #[error("'{}' is not recognised: write 'all' in lowercase", printable(.written))]
    AllNotLowercase { written: String },
    #[error("'{}' is not an IP address: {problem}", printable(.text))]
    InvalidAddress {
        text: String,
        problem: AddressProblem,
    },
    #[error(
        "zone ids ('%{}') are not allowed: write the address without them",
        printable(.zone)
    )]
    ZoneId { zone: String },
    #[error(
        "'{}' contains whitespace: separate entries with commas only",
        printable(.text)
    )]
    InnerWhitespace { text: String },
    #[error(
        "'{}' contains '{separator}': separate entries with commas only",
        printable(.text)
    )]
    Separator { text: String, separator: char },
    #[error(
        "'{}': write an address plus a count as 'a + n', with spaces around '+'",
        printable(.text)
    )]
    PlusWithoutSpaces { text: String },
    #[error(
        "'/{}' is neither a prefix length nor a netmask (write e.g. /24 or /255.255.255.0)",
        printable(.suffix)
    )]
    InvalidPrefix { suffix: String },
    #[error("prefix /{prefix} is longer than the {} bits of an {family} address", .family.bits())]
    PrefixTooLong { prefix: String, family: Family },
    #[error(
        "netmask {} is not contiguous: it must be ones followed by zeros, like 255.255.255.0",
        printable(.mask)
    )]
    NonContiguousNetmask { mask: String },
    #[error(
        "host bits set: {address}/{prefix} has bits set after the first {prefix}; did you mean \
         the network {network}/{prefix}, or the single address {address}?"
    )]
    HostBitsSet {
        address: IpAddr,
        prefix: u8,
        network: IpAddr,
    },
    #[error("range runs backwards: {first} comes after {last}; write '{last} - {first}'")]
    ReversedRange { first: IpAddr, last: IpAddr },
    #[error(
        "range '{} - {}' mixes an IPv4 and an IPv6 address",
        printable(.first),
        printable(.last)
    )]
    MixedFamilies { first: String, last: String },
    #[error(
        "'{}' in a range is a short form that Net::IP reads as {expanded} (missing parts are \
         zeros); write both ends of a range in full",
        printable(.part)
    )]
    ShortFormInRange { part: String, expanded: IpAddr },
    #[error("count '{}' in 'a + n' is not a decimal number", printable(.count))]
    CountNotDecimal { count: String },
    #[error("{start} + {count} runs past the last {family} address")]
    CountOverflow {
        start: IpAddr,
        count: String,
        family: Family,
    },
}

/// Something worth telling about an entry that was accepted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EntryWarning {
    #[error(
        "{range} includes the IPv4-mapped block ::ffff:0:0/96, but IPv4 clients (which arrive as \
         ::ffff:a.b.c.d) are judged as IPv4 and never match an IPv6 entry: list them as IPv4 (or \
         use 'all'); Proxmox VE refuses this entry"
    )]
    V6CoversMappedV4 { range: AddrRange },
    #[error(
        "read as the IPv4 range {range}; Proxmox VE refuses or misreads this IPv4-mapped \
         notation: write {range} instead"
    )]
    MappedReadAsV4 { range: AddrRange },
    #[error(
        "netmask read as {range}; Proxmox VE reads netmask notation as the single address \
         {proxmox_reads}: write {range} instead"
    )]
    NetmaskNotation {
        range: AddrRange,
        proxmox_reads: IpAddr,
    },
    #[error("whitespace around the entry is ignored here, but Proxmox VE refuses it")]
    SurroundingWhitespace,
    #[error(
        "an element of only whitespace at the end of the list is ignored here, but Proxmox VE \
         refuses it: remove it"
    )]
    WhitespaceOnlyLast,
}

impl EntryError {
    /// Every [`EntryError::code`], so tests can check that a corpus shows each one.
    pub const CODES: &'static [&'static str] = &[
        "empty",
        "all-not-lowercase",
        "invalid-address",
        "zone-id",
        "inner-whitespace",
        "separator",
        "plus-without-spaces",
        "invalid-prefix",
        "prefix-too-long",
        "non-contiguous-netmask",
        "host-bits-set",
        "reversed-range",
        "mixed-families",
        "short-form-in-range",
        "count-not-decimal",
        "count-overflow",
    ];

    /// A short stable name for the kind of error.
    pub fn code(&self) -> &'static str {
        match self {
            EntryError::Empty => "empty",
            EntryError::AllNotLowercase { .. } => "all-not-lowercase",
            EntryError::InvalidAddress { .. } => "invalid-address",
            EntryError::ZoneId { .. } => "zone-id",
            EntryError::InnerWhitespace { .. } => "inner-whitespace",
            EntryError::Separator { .. } => "separator",
            EntryError::PlusWithoutSpaces { .. } => "plus-without-spaces",
            EntryError::InvalidPrefix { .. } => "invalid-prefix",
            EntryError::PrefixTooLong { .. } => "prefix-too-long",
            EntryError::NonContiguousNetmask { .. } => "non-contiguous-netmask",
            EntryError::HostBitsSet { .. } => "host-bits-set",
            EntryError::ReversedRange { .. } => "reversed-range",
            EntryError::MixedFamilies { .. } => "mixed-families",
            EntryError::ShortFormInRange { .. } => "short-form-in-range",
            EntryError::CountNotDecimal { .. } => "count-not-decimal",
            EntryError::CountOverflow { .. } => "count-overflow",
        }
    }
}

impl EntryWarning {
    /// Every [`EntryWarning::code`], so tests can check that a corpus shows each one.
    pub const CODES: &'static [&'static str] = &[
        "v6-covers-mapped-v4",
        "mapped-read-as-v4",
        "netmask-notation",
        "surrounding-whitespace",
        "whitespace-only-last",
    ];

    /// A short stable name for the kind of warning.
    pub fn code(&self) -> &'static str {
        match self {
            EntryWarning::V6CoversMappedV4 { .. } => "v6-covers-mapped-v4",
            EntryWarning::MappedReadAsV4 { .. } => "mapped-read-as-v4",
            EntryWarning::NetmaskNotation { .. } => "netmask-notation",
            EntryWarning::SurroundingWhitespace => "surrounding-whitespace",
            EntryWarning::WhitespaceOnlyLast => "whitespace-only-last",
        }
    }
}

/// An entry of a list that was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("entry {position} '{}': {reason}", printable(.entry))]
pub struct ListError {
    /// 1-based position in the comma-separated list.
    pub position: usize,
    /// The entry as written, without surrounding whitespace.
    pub entry: String,
    pub reason: EntryError,
}

/// An accepted entry of a list that deserves a remark.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("entry {position} '{}': {warning}", printable(.entry))]
pub struct ListWarning {
    /// 1-based position in the comma-separated list.
    pub position: usize,
    /// The entry as written, without surrounding whitespace (for
    /// [`EntryWarning::WhitespaceOnlyLast`], the whitespace).
    pub entry: String,
    pub warning: EntryWarning,
}

/// What one entry denotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedEntry {
    /// One range, or two for `all` (all IPv4, then all IPv6).
    pub ranges: Vec<AddrRange>,
    pub warnings: Vec<EntryWarning>,
}

/// Reads one list element. Surrounding whitespace is ignored (with a warning).
pub fn parse_entry(written: &str) -> Result<ParsedEntry, EntryError> {
    let text = trim_perl_space(written);
    if text.is_empty() {
        return Err(EntryError::Empty);
    }
    let mut warnings = Vec::new();
    if text.len() != written.len() {
        warnings.push(EntryWarning::SurroundingWhitespace);
    }
    if text == "all" {
        return Ok(ParsedEntry {
            ranges: vec![AddrRange::ALL_V4, AddrRange::ALL_V6],
            warnings,
        });
    }
    if text.eq_ignore_ascii_case("all") {
        return Err(EntryError::AllNotLowercase {
            written: text.to_owned(),
        });
    }
    if let Some((_, zone)) = text.split_once('%') {
        return Err(EntryError::ZoneId {
            zone: zone.to_owned(),
        });
    }
    let denoted = read_form(text)?;
    let range = judge_mapped(text, denoted.first, denoted.last, &mut warnings);
    if let Some(proxmox_reads) = denoted.netmask_of {
        let as_proxmox = AddrRange::single(proxmox_reads);
        if range != as_proxmox {
            warnings.push(EntryWarning::NetmaskNotation {
                range,
                proxmox_reads,
            });
        }
    }
    Ok(ParsedEntry {
        ranges: vec![range],
        warnings,
    })
}

/// Splits a list value into entries, parses each, and collects every refusal.
pub(super) fn parse_list(value: &str) -> Result<(Vec<AclEntry>, Vec<ListWarning>), Vec<ListError>> {
    let mut fields: Vec<&str> = value.split(',').collect();
    // Perl's `split` drops trailing empty fields, so a trailing comma is harmless.
    while fields.last().is_some_and(|field| field.is_empty()) {
        fields.pop();
    }
    // It keeps a last field of only whitespace (`"a, "`), which Net::IP then refuses. What it
    // means is plain, so it is ignored, with a warning; anywhere else it is an empty entry.
    let whitespace_last = fields
        .last()
        .filter(|field| trim_perl_space(field).is_empty())
        .map(|field| ListWarning {
            position: fields.len(),
            entry: (*field).to_owned(),
            warning: EntryWarning::WhitespaceOnlyLast,
        });
    if whitespace_last.is_some() {
        fields.pop();
    }
    let mut entries = Vec::with_capacity(fields.len());
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    for (index, field) in fields.iter().enumerate() {
        let position = index + 1;
        let text = trim_perl_space(field);
        match parse_entry(field) {
            Ok(parsed) => {
                entries.extend(parsed.ranges.into_iter().map(|range| AclEntry {
                    text: text.to_owned(),
                    position,
                    range,
                }));
                warnings.extend(parsed.warnings.into_iter().map(|warning| ListWarning {
                    position,
                    entry: text.to_owned(),
                    warning,
                }));
            }
            Err(reason) => errors.push(ListError {
                position,
                entry: text.to_owned(),
                reason,
            }),
        }
    }
    warnings.extend(whitespace_last);
    if errors.is_empty() {
        Ok((entries, warnings))
    } else {
        Err(errors)
    }
}

fn trim_perl_space(text: &str) -> &str {
    text.trim_matches(is_perl_space)
}

/// The inclusive range an entry's text denotes, before the IPv4-mapped rule is applied.
struct Denoted {
    first: Addr,
    last: Addr,
    /// Set when a netmask was written: the address Proxmox would read instead (Net::IP ignores
    /// a suffix that is not `/digits`).
    netmask_of: Option<IpAddr>,
}

impl Denoted {
    fn single(addr: Addr) -> Self {
        Self {
            first: addr,
            last: addr,
            netmask_of: None,
        }
    }
}

/// Tries the forms in Net::IP's order (`ip_normalize`): prefix, range, count, single.
fn read_form(text: &str) -> Result<Denoted, EntryError> {
    if !text.contains(is_perl_space)
        && let Some((address, suffix)) = text.split_once('/')
    {
        return read_prefix(address, suffix);
    }
    if let Some((first, last)) = split_range(text) {
        return read_range(first, last);
    }
    if let Some((start, count)) = split_count(text) {
        return read_count(start, count);
    }
    address_part(text).map(|written| Denoted::single(written.addr))
}

/// Net::IP's `^(.+?)\s*-\s*(.+)$`: the first `-` after the first character, with something
/// after it.
fn split_range(text: &str) -> Option<(&str, &str)> {
    let (dash, _) = text.char_indices().skip(1).find(|(_, c)| *c == '-')?;
    let after = &text[dash + 1..];
    if after.is_empty() {
        return None;
    }
    Some((
        text[..dash].trim_end_matches(is_perl_space),
        after.trim_start_matches(is_perl_space),
    ))
}

/// Net::IP's `^(.+?)\s+\+\s+(.+)$`: the first `+` with whitespace on both sides and something
/// beyond the whitespace on both sides.
fn split_count(text: &str) -> Option<(&str, &str)> {
    text.char_indices()
        .filter(|(_, c)| *c == '+')
        .find_map(|(plus, _)| {
            let before = &text[..plus];
            let after = &text[plus + 1..];
            let start = before.trim_end_matches(is_perl_space);
            let count = after.trim_start_matches(is_perl_space);
            let spaced = start.len() < before.len() && count.len() < after.len();
            (spaced && !start.is_empty() && !count.is_empty()).then_some((start, count))
        })
}

/// One address inside an entry, with the errors a user most likely needs.
fn address_part(part: &str) -> Result<WrittenAddr, EntryError> {
    if let Some(separator) = part.chars().find(|c| matches!(c, ';' | '|')) {
        return Err(EntryError::Separator {
            text: part.to_owned(),
            separator,
        });
    }
    if part.char_indices().any(|(index, c)| c == '+' && index > 0) {
        return Err(EntryError::PlusWithoutSpaces {
            text: part.to_owned(),
        });
    }
    if part.contains(is_perl_space) {
        return Err(EntryError::InnerWhitespace {
            text: part.to_owned(),
        });
    }
    addr::parse_addr(part).map_err(|problem| EntryError::InvalidAddress {
        text: part.to_owned(),
        problem,
    })
}

fn read_prefix(address: &str, suffix: &str) -> Result<Denoted, EntryError> {
    let written = address_part(address)?;
    let family = family_of(written.addr);
    let (prefix, netmask) = prefix_length(suffix, family)?;
    let host_bits = host_mask(family, prefix);
    let value = as_u128(written.addr);
    if value & host_bits != 0 {
        return Err(EntryError::HostBitsSet {
            address: to_ip(written.addr),
            prefix,
            network: to_ip(from_u128(family, value & !host_bits)),
        });
    }
    Ok(Denoted {
        first: written.addr,
        last: from_u128(family, value | host_bits),
        netmask_of: netmask.then(|| to_ip(written.addr)),
    })
}

/// The prefix length a suffix gives, and whether it was written as a netmask.
fn prefix_length(suffix: &str, family: Family) -> Result<(u8, bool), EntryError> {
    let bits = family.bits();
    if !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_digit()) {
        let significant = suffix.trim_start_matches('0');
        // Leading zeros are fine (`/008`); more than three significant digits is certainly too
        // long, and checking that first keeps the parse from overflowing on absurd input.
        let length: Option<u16> = match significant.len() {
            0 => Some(0),
            1..=3 => significant.parse().ok(),
            _ => None,
        };
        return match length {
            Some(length) if length <= u16::from(bits) => {
                Ok((u8::try_from(length).unwrap_or(bits), false))
            }
            _ => Err(EntryError::PrefixTooLong {
                prefix: suffix.to_owned(),
                family,
            }),
        };
    }
    netmask_length(suffix, family).map(|length| (length, true))
}

/// A netmask of the entry's family written out in full (`255.255.255.0`, `ffff:ffff::`).
fn netmask_length(suffix: &str, family: Family) -> Result<u8, EntryError> {
    let invalid = || EntryError::InvalidPrefix {
        suffix: suffix.to_owned(),
    };
    let mask = addr::parse_addr(suffix).map_err(|_| invalid())?;
    if family_of(mask.addr) != family || mask.short_v4 {
        return Err(invalid());
    }
    let bits = u32::from(family.bits());
    // Left-align the mask in 128 bits so one contiguity test serves both families.
    let aligned = as_u128(mask.addr) << (128 - bits);
    let ones = aligned.leading_ones();
    let contiguous = u128::MAX.checked_shl(128 - ones).unwrap_or(0);
    if aligned != contiguous {
        return Err(EntryError::NonContiguousNetmask {
            mask: suffix.to_owned(),
        });
    }
    Ok(u8::try_from(ones).unwrap_or(0))
}

fn read_range(first: &str, last: &str) -> Result<Denoted, EntryError> {
    let start = address_part(first)?;
    let end = address_part(last)?;
    if family_of(start.addr) != family_of(end.addr) {
        return Err(EntryError::MixedFamilies {
            first: first.to_owned(),
            last: last.to_owned(),
        });
    }
    for (part, written) in [(first, start), (last, end)] {
        if written.short_v4 {
            return Err(EntryError::ShortFormInRange {
                part: part.to_owned(),
                expanded: to_ip(written.addr),
            });
        }
    }
    if as_u128(start.addr) > as_u128(end.addr) {
        return Err(EntryError::ReversedRange {
            first: to_ip(start.addr),
            last: to_ip(end.addr),
        });
    }
    Ok(Denoted {
        first: start.addr,
        last: end.addr,
        netmask_of: None,
    })
}

fn read_count(start: &str, count: &str) -> Result<Denoted, EntryError> {
    let written = address_part(start)?;
    let family = family_of(written.addr);
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EntryError::CountNotDecimal {
            count: count.to_owned(),
        });
    }
    let overflow = || EntryError::CountOverflow {
        start: to_ip(written.addr),
        count: count.to_owned(),
        family,
    };
    let significant = count.trim_start_matches('0');
    let amount: u128 = if significant.is_empty() {
        0
    } else {
        significant.parse().map_err(|_| overflow())?
    };
    let top = host_mask(family, 0);
    let last = as_u128(written.addr)
        .checked_add(amount)
        .filter(|last| *last <= top)
        .ok_or_else(overflow)?;
    Ok(Denoted {
        first: written.addr,
        last: from_u128(family, last),
        netmask_of: None,
    })
}

/// Applies the IPv4-mapped rule: an IPv6 range inside `::ffff:0:0/96` is the IPv4 range it
/// denotes; one that only overlaps the block stays IPv6, with a warning that IPv4 clients will
/// never match it.
fn judge_mapped(
    text: &str,
    first: Addr,
    last: Addr,
    warnings: &mut Vec<EntryWarning>,
) -> AddrRange {
    let (Addr::V6(first), Addr::V6(last)) = (first, last) else {
        return make_range(first, last);
    };
    if first >= MAPPED_FIRST && last <= MAPPED_LAST {
        // Inside the block: the low 32 bits are the IPv4 address (truncation intended).
        let range = AddrRange::V4 {
            first: (first as u32).into(),
            last: (last as u32).into(),
        };
        if proxmox_mapped_reading(text) != Some(range) {
            warnings.push(EntryWarning::MappedReadAsV4 { range });
        }
        return range;
    }
    let range = AddrRange::V6 {
        first: first.into(),
        last: last.into(),
    };
    if first <= MAPPED_LAST && last >= MAPPED_FIRST {
        warnings.push(EntryWarning::V6CoversMappedV4 { range });
    }
    range
}

/// What Proxmox's `normalize_v4_in_v6` makes of an entry inside the mapped block: the text after
/// the last colon, read as an IPv4 address, if it is one (`ip_get_embedded_ipv4`).
fn proxmox_mapped_reading(text: &str) -> Option<AddrRange> {
    let last_field = text.rsplit(':').next()?;
    let v4 = addr::parse_v4(last_field).ok()?;
    Some(AddrRange::single(IpAddr::V4(v4.value.into())))
}

fn make_range(first: Addr, last: Addr) -> AddrRange {
    match (first, last) {
        (Addr::V4(first), Addr::V4(last)) => AddrRange::V4 {
            first: first.into(),
            last: last.into(),
        },
        // Callers check families; mixed ends cannot reach here, but widen rather than panic.
        _ => AddrRange::V6 {
            first: as_u128(first).into(),
            last: as_u128(last).into(),
        },
    }
}

fn family_of(addr: Addr) -> Family {
    match addr {
        Addr::V4(_) => Family::V4,
        Addr::V6(_) => Family::V6,
    }
}

fn as_u128(addr: Addr) -> u128 {
    match addr {
        Addr::V4(value) => u128::from(value),
        Addr::V6(value) => value,
    }
}

/// `value` must fit the family (callers mask or bound it first).
fn from_u128(family: Family, value: u128) -> Addr {
    match family {
        Family::V4 => Addr::V4(u32::try_from(value).unwrap_or(u32::MAX)),
        Family::V6 => Addr::V6(value),
    }
}

fn to_ip(addr: Addr) -> IpAddr {
    match addr {
        Addr::V4(value) => IpAddr::V4(value.into()),
        Addr::V6(value) => IpAddr::V6(value.into()),
    }
}

/// The host part of a `/prefix` network of `family`, as a mask in the low bits.
fn host_mask(family: Family, prefix: u8) -> u128 {
    let host_bits = u32::from(family.bits().saturating_sub(prefix));
    u128::MAX.checked_shr(128 - host_bits).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    fn v4(first: &str, last: &str) -> AddrRange {
        AddrRange::V4 {
            first: first.parse().expect("test literal"),
            last: last.parse().expect("test literal"),
        }
    }

    fn v6(first: &str, last: &str) -> AddrRange {
        AddrRange::V6 {
            first: first.parse().expect("test literal"),
            last: last.parse().expect("test literal"),
        }
    }

    fn one(text: &str) -> AddrRange {
        let parsed = parse_entry(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(parsed.ranges.len(), 1, "{text}");
        parsed.ranges[0]
    }

    fn refused(text: &str) -> EntryError {
        match parse_entry(text) {
            Err(error) => error,
            Ok(parsed) => panic!("{text} accepted as {parsed:?}"),
        }
    }

    #[test]
    fn forms() {
        assert_eq!(one("10.0.0.0/8"), v4("10.0.0.0", "10.255.255.255"));
        assert_eq!(one("10/8"), v4("10.0.0.0", "10.255.255.255"));
        assert_eq!(one("10.1"), v4("10.1.0.0", "10.1.0.0"));
        assert_eq!(one("10.0.0.1 - 10.0.0.9"), v4("10.0.0.1", "10.0.0.9"));
        assert_eq!(one("10.0.0.0 + 255"), v4("10.0.0.0", "10.0.0.255"));
        assert_eq!(
            one("2001:db8::/32"),
            v6("2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")
        );
        assert_eq!(one("0/0"), AddrRange::ALL_V4);
        assert_eq!(one("::/128"), v6("::", "::"));
    }

    #[test]
    fn all_is_both_families_and_only_in_lowercase() {
        let all = parse_entry("all").expect("all");
        assert_eq!(all.ranges, vec![AddrRange::ALL_V4, AddrRange::ALL_V6]);
        for shout in ["ALL", "All", "aLl"] {
            let error = refused(shout);
            assert!(
                error.to_string().contains("write 'all' in lowercase"),
                "{error}"
            );
        }
    }

    #[test]
    fn host_bits_suggest_the_network() {
        let error = refused("192.168.1.5/24");
        assert_eq!(
            error,
            EntryError::HostBitsSet {
                address: IpAddr::V4(Ipv4Addr::new(192, 168, 1, 5)),
                prefix: 24,
                network: IpAddr::V4(Ipv4Addr::new(192, 168, 1, 0)),
            }
        );
        assert!(error.to_string().contains("192.168.1.0/24"), "{error}");
    }

    #[test]
    fn netmasks() {
        assert_eq!(one("10.0.0.0/255.255.255.0"), v4("10.0.0.0", "10.0.0.255"));
        assert_eq!(one("0.0.0.0/0.0.0.0"), AddrRange::ALL_V4);
        assert_eq!(one("2001:db8::/ffff:ffff::"), one("2001:db8::/32"));
        assert!(matches!(
            refused("10.0.0.0/255.0.255.0"),
            EntryError::NonContiguousNetmask { .. }
        ));
        assert!(matches!(
            refused("192.168.1.5/255.255.255.0"),
            EntryError::HostBitsSet { .. }
        ));
        for junk in [
            "10.0.0.0/24;x",
            "10.0.0.0/abc",
            "10.0.0.0/8/16",
            "10.0.0.0/255.255",
        ] {
            assert!(
                matches!(refused(junk), EntryError::InvalidPrefix { .. }),
                "{junk}"
            );
        }
        let warned = parse_entry("10.0.0.0/255.0.0.0").expect("netmask");
        assert!(matches!(
            warned.warnings[..],
            [EntryWarning::NetmaskNotation { .. }]
        ));
        let exact = parse_entry("10.0.0.1/255.255.255.255").expect("netmask /32");
        assert!(
            exact.warnings.is_empty(),
            "Proxmox reads a /32 netmask the same"
        );
    }

    #[test]
    fn mapped_entries_are_ipv4() {
        assert_eq!(one("::ffff:10.0.0.1"), v4("10.0.0.1", "10.0.0.1"));
        assert!(
            parse_entry("::ffff:10.0.0.1")
                .expect("mapped")
                .warnings
                .is_empty()
        );
        assert_eq!(one("::ffff:a00:1"), v4("10.0.0.1", "10.0.0.1"));
        assert_eq!(one("::ffff:10.0.0.0/120"), v4("10.0.0.0", "10.0.0.255"));
        assert_eq!(
            one("::ffff:10.0.0.1-::ffff:10.0.0.9"),
            v4("10.0.0.1", "10.0.0.9")
        );
        assert_eq!(one("::ffff:0:0/96"), AddrRange::ALL_V4);
        let hex = parse_entry("::ffff:a00:1").expect("hex mapped");
        assert!(matches!(
            hex.warnings[..],
            [EntryWarning::MappedReadAsV4 { .. }]
        ));
    }

    #[test]
    fn ipv6_covering_the_mapped_block_warns() {
        for text in ["::/0", "::/64", "::/80", "::1 - ffff::"] {
            let parsed = parse_entry(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert!(
                matches!(parsed.warnings[..], [EntryWarning::V6CoversMappedV4 { .. }]),
                "{text}: {:?}",
                parsed.warnings
            );
        }
        assert_eq!(one("::/0"), AddrRange::ALL_V6);
        assert!(
            parse_entry("::/96")
                .expect("below the block")
                .warnings
                .is_empty()
        );
    }

    #[test]
    fn refusals_say_why() {
        assert!(matches!(refused(""), EntryError::Empty));
        assert!(matches!(refused("  "), EntryError::Empty));
        assert!(matches!(
            refused("10.0.0.9-10.0.0.1"),
            EntryError::ReversedRange { .. }
        ));
        assert!(matches!(
            refused("1.2.3.4/33"),
            EntryError::PrefixTooLong { .. }
        ));
        assert!(matches!(
            refused("::1/129"),
            EntryError::PrefixTooLong { .. }
        ));
        assert!(matches!(refused("fe80::1%eth0"), EntryError::ZoneId { .. }));
        assert!(matches!(
            refused("10.0.0.0+5"),
            EntryError::PlusWithoutSpaces { .. }
        ));
        assert!(matches!(
            refused("10.0.0.1-::1"),
            EntryError::MixedFamilies { .. }
        ));
        assert!(matches!(
            refused("10.0.0.5-20"),
            EntryError::ShortFormInRange { .. }
        ));
        assert!(matches!(
            refused("10.0.0.1 10.0.0.2"),
            EntryError::InnerWhitespace { .. }
        ));
        assert!(matches!(
            refused("10.0.0.1;10.0.0.2"),
            EntryError::Separator { .. }
        ));
        assert!(matches!(
            refused("10.0.0.0 + abc"),
            EntryError::CountNotDecimal { .. }
        ));
        assert!(matches!(
            refused("255.255.255.255 + 1"),
            EntryError::CountOverflow { .. }
        ));
        assert!(matches!(
            refused("localhost"),
            EntryError::InvalidAddress { .. }
        ));
        let plus = refused("10.0.0.0+5").to_string();
        assert!(plus.contains("'a + n'"), "{plus}");
    }

    #[test]
    fn surrounding_whitespace_is_trimmed_with_a_warning() {
        let parsed = parse_entry(" \t10.0.0.1 ").expect("trimmed");
        assert_eq!(parsed.ranges, vec![v4("10.0.0.1", "10.0.0.1")]);
        assert_eq!(parsed.warnings, vec![EntryWarning::SurroundingWhitespace]);
    }

    #[test]
    fn list_splitting_follows_perl_split() {
        let (entries, _) = parse_list("10.0.0.1,").expect("trailing comma");
        assert_eq!(entries.len(), 1);
        let (entries, warnings) = parse_list("10.0.0.1, ").expect("trailing comma and space");
        assert_eq!(entries.len(), 1);
        assert_eq!(
            warnings,
            [ListWarning {
                position: 2,
                entry: " ".into(),
                warning: EntryWarning::WhitespaceOnlyLast
            }]
        );
        assert_eq!(
            warnings[0].to_string(),
            "entry 2 ' ': an element of only whitespace at the end of the list is ignored \
             here, but Proxmox VE refuses it: remove it"
        );
        let (entries, warnings) = parse_list(" \t").expect("only whitespace");
        assert!(entries.is_empty());
        assert_eq!(warnings[0].to_string().get(..14), Some("entry 1 ' \\t':"));
        assert!(parse_list("").expect("empty value").0.is_empty());
        assert!(parse_list(",").expect("lone comma").0.is_empty());
        let errors = parse_list(",10.0.0.1").expect_err("leading comma");
        assert_eq!(errors[0].position, 1);
        let errors = parse_list("10.0.0.1,,10.0.0.2").expect_err("empty middle");
        assert_eq!(errors[0].position, 2);
        for (value, position) in [
            (" ,10.0.0.1", 1),
            ("10.0.0.1, ,10.0.0.2", 2),
            ("10.0.0.1,, ", 2),
        ] {
            let errors = parse_list(value).expect_err(value);
            assert_eq!(errors[0].position, position, "{value:?}");
            assert_eq!(errors[0].reason, EntryError::Empty, "{value:?}");
        }
    }

    #[test]
    fn list_errors_collect_every_bad_entry() {
        let errors = parse_list("10.0.0.1,192.168.1.5/24,ok?,10.0.0.0/8").expect_err("bad");
        let positions: Vec<usize> = errors.iter().map(|e| e.position).collect();
        assert_eq!(positions, vec![2, 3]);
        let first = errors[0].to_string();
        assert!(
            first.starts_with("entry 2 '192.168.1.5/24': host bits set"),
            "{first}"
        );
    }

    #[test]
    fn control_characters_are_shown_escaped() {
        let errors = parse_list("10.0.0.1\x1b[2K,\u{feff}10.0.0.2").expect_err("controls");
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert!(
            shown[0].starts_with("entry 1 '10.0.0.1\\x1b[2K': '10.0.0.1\\x1b[2K'"),
            "{}",
            shown[0]
        );
        assert!(
            shown[1].starts_with("entry 2 '\\u{feff}10.0.0.2'"),
            "{}",
            shown[1]
        );
        assert!(
            shown
                .iter()
                .all(|s| !s.contains('\x1b') && !s.contains('\u{feff}'))
        );
    }

    #[test]
    fn every_code_is_listed_once() {
        for codes in [EntryError::CODES, EntryWarning::CODES] {
            let unique: std::collections::BTreeSet<_> = codes.iter().collect();
            assert_eq!(unique.len(), codes.len());
        }
        assert!(EntryError::CODES.contains(&EntryError::Empty.code()));
        assert!(EntryWarning::CODES.contains(&EntryWarning::WhitespaceOnlyLast.code()));
    }

    #[test]
    fn ipv6_display_in_errors_is_plain() {
        let error = refused("2001:db8::1/32");
        assert_eq!(
            error,
            EntryError::HostBitsSet {
                address: IpAddr::V6("2001:db8::1".parse::<Ipv6Addr>().expect("literal")),
                prefix: 32,
                network: IpAddr::V6("2001:db8::".parse::<Ipv6Addr>().expect("literal")),
            }
        );
    }
}
