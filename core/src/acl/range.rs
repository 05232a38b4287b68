//! `AddrRange` and `Family`: constructors, membership and canonical text.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{AddrRange, Family};

impl Family {
    /// Address width in bits: 32 or 128.
    pub const fn bits(self) -> u8 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }

    pub fn of(addr: IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        })
    }
}

impl AddrRange {
    /// Every IPv4 address (`0.0.0.0/0`), half of what `all` means.
    pub const ALL_V4: AddrRange = AddrRange::V4 {
        first: Ipv4Addr::UNSPECIFIED,
        last: Ipv4Addr::BROADCAST,
    };

    /// Every IPv6 address (`::/0`), the other half of `all`.
    pub const ALL_V6: AddrRange = AddrRange::V6 {
        first: Ipv6Addr::UNSPECIFIED,
        last: Ipv6Addr::new(
            0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
        ),
    };

    /// The range holding exactly `addr`.
    pub fn single(addr: IpAddr) -> AddrRange {
        match addr {
            IpAddr::V4(v4) => AddrRange::V4 {
                first: v4,
                last: v4,
            },
            IpAddr::V6(v6) => AddrRange::V6 {
                first: v6,
                last: v6,
            },
        }
    }

    /// The range as an entry would denote it: ends in order, and an IPv6 range inside
    /// `::ffff:0:0/96` taken as the IPv4 range it denotes (such a range could never match a
    /// peer otherwise, since mapped peers are judged as IPv4).
    pub fn normalized(self) -> AddrRange {
        match self {
            AddrRange::V4 { first, last } => AddrRange::V4 {
                first: first.min(last),
                last: first.max(last),
            },
            AddrRange::V6 { first, last } => {
                let (first, last) = (first.min(last), first.max(last));
                match (first.to_ipv4_mapped(), last.to_ipv4_mapped()) {
                    (Some(first), Some(last)) => AddrRange::V4 { first, last },
                    _ => AddrRange::V6 { first, last },
                }
            }
        }
    }

    pub fn family(&self) -> Family {
        match self {
            AddrRange::V4 { .. } => Family::V4,
            AddrRange::V6 { .. } => Family::V6,
        }
    }

    pub fn first(&self) -> IpAddr {
        match self {
            AddrRange::V4 { first, .. } => IpAddr::V4(*first),
            AddrRange::V6 { first, .. } => IpAddr::V6(*first),
        }
    }

    pub fn last(&self) -> IpAddr {
        match self {
            AddrRange::V4 { last, .. } => IpAddr::V4(*last),
            AddrRange::V6 { last, .. } => IpAddr::V6(*last),
        }
    }

    /// Whether `addr` lies in the range. No normalisation: an IPv6 address never lies in an
    /// IPv4 range (use [`super::normalize_peer`] first for peers).
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self, addr) {
            (AddrRange::V4 { first, last }, IpAddr::V4(a)) => *first <= a && a <= *last,
            (AddrRange::V6 { first, last }, IpAddr::V6(a)) => *first <= a && a <= *last,
            _ => false,
        }
    }

    /// The prefix length when the range is exactly one CIDR block.
    pub fn cidr_prefix(&self) -> Option<u8> {
        match *self {
            AddrRange::V4 { first, last } => {
                cidr_prefix(u128::from(first.to_bits()), u128::from(last.to_bits()), 32)
            }
            AddrRange::V6 { first, last } => cidr_prefix(first.to_bits(), last.to_bits(), 128),
        }
    }
}

/// `[first, last]` is one CIDR block iff its size is a power of two and `first` is aligned to
/// it, i.e. `last - first` is all ones in the low bits and `first` has none of them set.
fn cidr_prefix(first: u128, last: u128, bits: u8) -> Option<u8> {
    let span = last.checked_sub(first)?;
    let all_low_ones = span & span.wrapping_add(1) == 0;
    if !all_low_ones || first & span != 0 {
        return None;
    }
    let host_bits = u8::try_from(span.count_ones()).ok()?;
    bits.checked_sub(host_bits)
}

/// `10.0.0.1` for one address, `10.0.0.0/8` for exactly one CIDR block, `a-b` otherwise. Every
/// form parses back (with `AddrList::parse`) to the same range.
impl fmt::Display for AddrRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (first, last) = (self.first(), self.last());
        if first == last {
            return write!(f, "{first}");
        }
        match self.cidr_prefix() {
            Some(prefix) => write!(f, "{first}/{prefix}"),
            None => write!(f, "{first}-{last}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(first: [u8; 4], last: [u8; 4]) -> AddrRange {
        AddrRange::V4 {
            first: first.into(),
            last: last.into(),
        }
    }

    #[test]
    fn display_prefers_single_then_cidr_then_range() {
        assert_eq!(v4([10, 0, 0, 1], [10, 0, 0, 1]).to_string(), "10.0.0.1");
        assert_eq!(
            v4([10, 0, 0, 0], [10, 255, 255, 255]).to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            v4([10, 0, 0, 1], [10, 0, 0, 9]).to_string(),
            "10.0.0.1-10.0.0.9"
        );
        assert_eq!(
            v4([10, 0, 0, 1], [10, 0, 0, 2]).to_string(),
            "10.0.0.1-10.0.0.2"
        );
        assert_eq!(AddrRange::ALL_V4.to_string(), "0.0.0.0/0");
        assert_eq!(AddrRange::ALL_V6.to_string(), "::/0");
    }

    #[test]
    fn normalized_orders_ends_and_maps_v4() {
        assert_eq!(
            v4([10, 0, 0, 9], [10, 0, 0, 1]).normalized(),
            v4([10, 0, 0, 1], [10, 0, 0, 9])
        );
        let mapped = AddrRange::V6 {
            first: Ipv4Addr::new(10, 0, 0, 0).to_ipv6_mapped(),
            last: Ipv4Addr::new(10, 0, 0, 255).to_ipv6_mapped(),
        };
        assert_eq!(mapped.normalized(), v4([10, 0, 0, 0], [10, 0, 0, 255]));
    }

    #[test]
    fn contains_is_family_strict() {
        let range = v4([10, 0, 0, 0], [10, 0, 0, 255]);
        assert!(range.contains(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7))));
        assert!(!range.contains(IpAddr::V6(Ipv4Addr::new(10, 0, 0, 7).to_ipv6_mapped())));
    }
}
