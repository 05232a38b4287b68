//! Independent, deliberately naive references for corral-core, used by the property tests and
//! the benchmarks.
//!
//! Nothing here calls corral-core's parser or matcher. The host-ACL reference takes
//! *structured* entries ([`EntrySpec`]), which can render themselves as the text a user would
//! write (for corral to parse) and turn themselves into address ranges on their own, with
//! `ipnet` and `std` arithmetic. [`NaiveAcl::decide`] then scans every range linearly. The only
//! things shared with corral-core are the plain output types `Access` and `Policy`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use corral_core::acl::{Access, Policy};
use ipnet::{IpNet, Ipv4Net};

/// An inclusive range of one family, as the reference understands an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NaiveRange {
    V4(Ipv4Addr, Ipv4Addr),
    V6(Ipv6Addr, Ipv6Addr),
}

impl NaiveRange {
    fn from_net(net: IpNet) -> Self {
        match net {
            IpNet::V4(net) => NaiveRange::V4(net.network(), net.broadcast()),
            IpNet::V6(net) => NaiveRange::V6(net.network(), net.broadcast()),
        }
    }

    /// An IPv6 range lying wholly in `::ffff:0:0/96` denotes IPv4 addresses (peers there are
    /// judged as IPv4); anything else stays as it is.
    fn mapped_to_v4(self) -> Self {
        match self {
            NaiveRange::V6(first, last) => match (first.to_ipv4_mapped(), last.to_ipv4_mapped()) {
                (Some(first), Some(last)) => NaiveRange::V4(first, last),
                _ => self,
            },
            NaiveRange::V4(..) => self,
        }
    }

    /// Family-strict membership: an IPv6 address is never in an IPv4 range.
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self, addr) {
            (NaiveRange::V4(first, last), IpAddr::V4(a)) => *first <= a && a <= *last,
            (NaiveRange::V6(first, last), IpAddr::V6(a)) => *first <= a && a <= *last,
            _ => false,
        }
    }

    pub fn first(&self) -> IpAddr {
        match self {
            NaiveRange::V4(first, _) => IpAddr::V4(*first),
            NaiveRange::V6(first, _) => IpAddr::V6(*first),
        }
    }

    pub fn last(&self) -> IpAddr {
        match self {
            NaiveRange::V4(_, last) => IpAddr::V4(*last),
            NaiveRange::V6(_, last) => IpAddr::V6(*last),
        }
    }
}

/// How an entry is laid out around its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Spacing {
    /// Whitespace before and after the entry (corral trims it; Proxmox VE would refuse it).
    pub around: bool,
    /// Spaces around the `-` of a range.
    pub around_dash: bool,
}

/// One entry in a structured form, covering every syntax corral accepts without refusal.
/// Constructors keep the invariants the text needs (see each variant); the strategies in
/// `tests/acl.rs` build only valid ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntrySpec {
    /// A single address: `10.0.0.1`, `2001:db8::1` (std's canonical text).
    Addr(IpAddr),
    /// A network with host bits clear: `10.0.0.0/8`, `2001:db8::/32`.
    Cidr(IpNet),
    /// An IPv4 short form alone: 1 to 3 parts, the rest zeros (`10.1` is 10.1.0.0).
    ShortForm(Vec<u8>),
    /// A short-form network: `10/8`, `10.1.2/24`. Host bits of the filled address are clear.
    ShortCidr { parts: Vec<u8>, prefix: u8 },
    /// An IPv4 address with zero-padded parts: `010.001.002.003`.
    LeadingZeros(Ipv4Addr),
    /// `a - b` (same family, `a <= b`).
    Range(IpAddr, IpAddr),
    /// `a + n` (no overflow past the family's last address).
    PlusN(IpAddr, u128),
    /// `all`.
    All,
    /// `::ffff:a.b.c.d`.
    MappedV4(Ipv4Addr),
    /// `::ffff:hhhh:hhhh`, the same address in hex groups.
    MappedHex(Ipv4Addr),
    /// `::ffff:a.b.c.d/(96 + p)` for an IPv4 network `a.b.c.d/p`.
    MappedCidr(Ipv4Net),
    /// `a.b.c.d/255.255.255.0`: an IPv4 network in netmask notation.
    Netmask(Ipv4Net),
    /// An IPv6 address written out in full, all eight groups zero-padded.
    V6Full(Ipv6Addr),
}

impl EntrySpec {
    /// The text a user would write for this entry.
    pub fn render(&self, spacing: Spacing) -> String {
        let core = self.render_core(spacing);
        if spacing.around {
            format!(" {core}\t")
        } else {
            core
        }
    }

    fn render_core(&self, spacing: Spacing) -> String {
        match self {
            EntrySpec::Addr(addr) => addr.to_string(),
            EntrySpec::Cidr(net) => net.to_string(),
            EntrySpec::ShortForm(parts) => join_parts(parts),
            EntrySpec::ShortCidr { parts, prefix } => format!("{}/{prefix}", join_parts(parts)),
            EntrySpec::LeadingZeros(addr) => {
                let [a, b, c, d] = addr.octets();
                format!("{a:03}.{b:03}.{c:03}.{d:03}")
            }
            EntrySpec::Range(first, last) if spacing.around_dash => format!("{first} - {last}"),
            EntrySpec::Range(first, last) => format!("{first}-{last}"),
            EntrySpec::PlusN(start, count) => format!("{start} + {count}"),
            EntrySpec::All => "all".to_owned(),
            EntrySpec::MappedV4(addr) => format!("::ffff:{addr}"),
            EntrySpec::MappedHex(addr) => {
                let bits = u32::from(*addr);
                format!("::ffff:{:x}:{:x}", bits >> 16, bits & 0xffff)
            }
            EntrySpec::MappedCidr(net) => {
                format!("::ffff:{}/{}", net.network(), 96 + net.prefix_len())
            }
            EntrySpec::Netmask(net) => format!("{}/{}", net.network(), net.netmask()),
            EntrySpec::V6Full(addr) => {
                let groups: Vec<String> =
                    addr.segments().iter().map(|g| format!("{g:04x}")).collect();
                groups.join(":")
            }
        }
    }

    /// The ranges this entry denotes, worked out without corral.
    pub fn ranges(&self) -> Vec<NaiveRange> {
        let raw = match self {
            EntrySpec::All => {
                return vec![
                    NaiveRange::V4(Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST),
                    NaiveRange::V6(Ipv6Addr::UNSPECIFIED, Ipv6Addr::from(u128::MAX)),
                ];
            }
            EntrySpec::Addr(addr) => single(*addr),
            EntrySpec::Cidr(net) => NaiveRange::from_net(*net),
            EntrySpec::ShortForm(parts) => single(IpAddr::V4(fill_parts(parts))),
            EntrySpec::ShortCidr { parts, prefix } => {
                match Ipv4Net::new(fill_parts(parts), *prefix) {
                    Ok(net) => NaiveRange::from_net(IpNet::V4(net)),
                    Err(_) => single(IpAddr::V4(fill_parts(parts))),
                }
            }
            EntrySpec::LeadingZeros(addr)
            | EntrySpec::MappedV4(addr)
            | EntrySpec::MappedHex(addr) => single(IpAddr::V4(*addr)),
            EntrySpec::Range(first, last) => match (first, last) {
                (IpAddr::V4(first), IpAddr::V4(last)) => NaiveRange::V4(*first, *last),
                (IpAddr::V6(first), IpAddr::V6(last)) => NaiveRange::V6(*first, *last),
                _ => single(*first),
            },
            EntrySpec::PlusN(start, count) => plus(*start, *count),
            EntrySpec::MappedCidr(net) | EntrySpec::Netmask(net) => {
                NaiveRange::from_net(IpNet::V4(*net))
            }
            EntrySpec::V6Full(addr) => single(IpAddr::V6(*addr)),
        };
        vec![raw.mapped_to_v4()]
    }
}

fn single(addr: IpAddr) -> NaiveRange {
    match addr {
        IpAddr::V4(a) => NaiveRange::V4(a, a),
        IpAddr::V6(a) => NaiveRange::V6(a, a),
    }
}

/// `start + count`, saturating at the family's last address (specs never overflow).
fn plus(start: IpAddr, count: u128) -> NaiveRange {
    match start {
        IpAddr::V4(a) => {
            let last = u128::from(u32::from(a))
                .saturating_add(count)
                .min(u128::from(u32::MAX));
            let last = u32::try_from(last).unwrap_or(u32::MAX);
            NaiveRange::V4(a, Ipv4Addr::from(last))
        }
        IpAddr::V6(a) => NaiveRange::V6(a, Ipv6Addr::from(u128::from(a).saturating_add(count))),
    }
}

fn join_parts(parts: &[u8]) -> String {
    let texts: Vec<String> = parts.iter().map(u8::to_string).collect();
    texts.join(".")
}

/// Net::IP's short form: the given parts from the left, zeros for the rest.
fn fill_parts(parts: &[u8]) -> Ipv4Addr {
    let mut octets = [0u8; 4];
    for (slot, part) in octets.iter_mut().zip(parts) {
        *slot = *part;
    }
    Ipv4Addr::from(octets)
}

/// The peer as judged: an IPv4-mapped IPv6 address is its IPv4 address.
pub fn naive_normalize(peer: IpAddr) -> IpAddr {
    match peer {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => peer,
        },
        IpAddr::V4(_) => peer,
    }
}

/// The host ACL, as plainly as it can be written: two vectors of ranges scanned in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NaiveAcl {
    pub allow: Vec<NaiveRange>,
    pub deny: Vec<NaiveRange>,
    pub policy: Policy,
}

impl NaiveAcl {
    pub fn from_specs(allow: &[EntrySpec], deny: &[EntrySpec], policy: Policy) -> Self {
        Self {
            allow: allow.iter().flat_map(EntrySpec::ranges).collect(),
            deny: deny.iter().flat_map(EntrySpec::ranges).collect(),
            policy,
        }
    }

    /// Proxmox's rule: if exactly one list matches, it decides; otherwise the policy does.
    pub fn decide(&self, peer: IpAddr) -> Access {
        let peer = naive_normalize(peer);
        let allowed = self.allow.iter().any(|range| range.contains(peer));
        let denied = self.deny.iter().any(|range| range.contains(peer));
        let by_policy = match self.policy {
            Policy::Allow => Access::Allow,
            Policy::Deny => Access::Deny,
        };
        match (allowed, denied) {
            (true, false) => Access::Allow,
            (false, true) => Access::Deny,
            _ => by_policy,
        }
    }
}

/// Renders a list of specs as a comma-separated value.
pub fn render_list(specs: &[(EntrySpec, Spacing)]) -> String {
    let texts: Vec<String> = specs
        .iter()
        .map(|(spec, spacing)| spec.render(*spacing))
        .collect();
    texts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_what_users_write() {
        let plain = Spacing::default();
        let net = Ipv4Net::new(Ipv4Addr::new(10, 0, 0, 0), 24).expect("valid prefix");
        assert_eq!(
            EntrySpec::Netmask(net).render(plain),
            "10.0.0.0/255.255.255.0"
        );
        assert_eq!(
            EntrySpec::MappedCidr(net).render(plain),
            "::ffff:10.0.0.0/120"
        );
        assert_eq!(
            EntrySpec::MappedHex(Ipv4Addr::new(10, 0, 0, 1)).render(plain),
            "::ffff:a00:1"
        );
        assert_eq!(
            EntrySpec::ShortCidr {
                parts: vec![10],
                prefix: 8
            }
            .render(plain),
            "10/8"
        );
        assert_eq!(
            EntrySpec::LeadingZeros(Ipv4Addr::new(10, 1, 2, 3)).render(plain),
            "010.001.002.003"
        );
        let spaced = Spacing {
            around: true,
            around_dash: true,
        };
        let range = EntrySpec::Range(
            IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4)),
            IpAddr::V4(Ipv4Addr::new(1, 2, 3, 9)),
        );
        assert_eq!(range.render(spaced), " 1.2.3.4 - 1.2.3.9\t");
    }

    #[test]
    fn decides_by_the_table() {
        let ten = EntrySpec::Cidr("10.0.0.0/8".parse().expect("net"));
        let acl = NaiveAcl::from_specs(std::slice::from_ref(&ten), &[EntrySpec::All], Policy::Deny);
        assert_eq!(
            acl.decide("10.1.1.1".parse().expect("ip")),
            Access::Deny,
            "both: policy"
        );
        assert_eq!(
            acl.decide("::1".parse().expect("ip")),
            Access::Deny,
            "deny only"
        );
        let acl = NaiveAcl::from_specs(&[ten], &[], Policy::Deny);
        assert_eq!(
            acl.decide("::ffff:10.1.1.1".parse().expect("ip")),
            Access::Allow,
            "mapped"
        );
    }
}
