//! Property tests of corral's host ACL against the naive reference in `corral_proptests`.
//!
//! Configurations are random lists (0–50 entries each, every entry form, both families, both
//! policies) built from structured `EntrySpec`s: corral parses their text, the reference works
//! out their ranges on its own. Peers lean on range edges (first, last, one below, one above),
//! in plain and `::ffff:`-mapped form, plus random addresses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use corral_core::acl::{AddrList, AddrRange, HostAcl, Policy, parse_entry};
use corral_proptests::{EntrySpec, NaiveAcl, NaiveRange, Spacing, render_list};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use proptest::prelude::*;
use proptest::sample::Index;

type List = Vec<(EntrySpec, Spacing)>;

// ---------------------------------------------------------------------------------------------
// Addresses: uniform, plus clusters that make entries overlap and sit on interesting edges.

fn v4_addr() -> impl Strategy<Value = Ipv4Addr> {
    prop_oneof![
        3 => any::<u32>(),
        3 => (0u32..0x1_0000).prop_map(|low| 0x0a00_0000 | low), // 10.0.0.0/16
        1 => (0u32..256).prop_map(|low| u32::MAX - low),         // the top of the space
        1 => 0u32..256,                                          // the bottom
    ]
    .prop_map(Ipv4Addr::from)
}

fn v6_addr() -> impl Strategy<Value = Ipv6Addr> {
    const MAPPED: u128 = 0xffff_0000_0000;
    prop_oneof![
        2 => any::<u128>(),
        3 => (0u128..0x1_0000).prop_map(|low| (0x2001_0db8_u128 << 96) | low),
        2 => 0u128..1 << 20,                                        // near ::
        2 => (0u128..1 << 34).prop_map(|x| MAPPED - (1 << 33) + x), // around ::ffff:0:0/96
        1 => (0u128..1 << 34).prop_map(|x| MAPPED + 0xffff_ffff - (1 << 33) + x),
        1 => (0u128..256).prop_map(|low| u128::MAX - low),
    ]
    .prop_map(Ipv6Addr::from)
}

fn ip_addr() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        v4_addr().prop_map(IpAddr::V4),
        v6_addr().prop_map(IpAddr::V6),
    ]
}

// ---------------------------------------------------------------------------------------------
// Entries.

fn v4_net() -> impl Strategy<Value = Ipv4Net> {
    (v4_addr(), 0u8..=32).prop_map(|(addr, prefix)| {
        Ipv4Net::new(addr, prefix)
            .expect("prefix is at most 32")
            .trunc()
    })
}

fn v6_net() -> impl Strategy<Value = Ipv6Net> {
    (v6_addr(), 0u8..=128).prop_map(|(addr, prefix)| {
        Ipv6Net::new(addr, prefix)
            .expect("prefix is at most 128")
            .trunc()
    })
}

fn cidr() -> impl Strategy<Value = EntrySpec> {
    prop_oneof![
        v4_net().prop_map(|net| EntrySpec::Cidr(IpNet::V4(net))),
        v6_net().prop_map(|net| EntrySpec::Cidr(IpNet::V6(net))),
    ]
}

/// `10/8`, `10.1.2/24`: a network of prefix ≤ 24 written with just enough parts (or more).
fn short_cidr() -> impl Strategy<Value = EntrySpec> {
    (v4_addr(), 0u8..=24, 0usize..3).prop_map(|(addr, prefix, extra)| {
        let net = Ipv4Net::new(addr, prefix)
            .expect("prefix is at most 24")
            .trunc();
        let needed = usize::from(prefix).div_ceil(8).max(1);
        let count = (needed + extra).min(3);
        let parts = net.network().octets()[..count].to_vec();
        EntrySpec::ShortCidr { parts, prefix }
    })
}

fn range() -> impl Strategy<Value = EntrySpec> {
    let ordered = |a: IpAddr, b: IpAddr| {
        if a <= b {
            EntrySpec::Range(a, b)
        } else {
            EntrySpec::Range(b, a)
        }
    };
    prop_oneof![
        (v4_addr(), v4_addr()).prop_map(move |(a, b)| ordered(a.into(), b.into())),
        (v6_addr(), v6_addr()).prop_map(move |(a, b)| ordered(a.into(), b.into())),
        // Short ranges, so that edges of neighbouring entries interleave.
        (v4_addr(), 0u32..512).prop_map(move |(a, n)| {
            let b = Ipv4Addr::from(u32::from(a).saturating_add(n));
            ordered(a.into(), b.into())
        }),
    ]
}

fn plus_n() -> impl Strategy<Value = EntrySpec> {
    prop_oneof![
        (v4_addr(), any::<u32>(), any::<bool>()).prop_map(|(a, n, small)| {
            let room = u32::MAX - u32::from(a);
            let n = if small { n % 1024 } else { n };
            EntrySpec::PlusN(a.into(), u128::from(n.min(room)))
        }),
        (v6_addr(), any::<u128>(), any::<bool>()).prop_map(|(a, n, small)| {
            let room = u128::MAX - u128::from(a);
            let n = if small { n % 65_536 } else { n };
            EntrySpec::PlusN(a.into(), n.min(room))
        }),
    ]
}

fn entry() -> impl Strategy<Value = EntrySpec> {
    prop_oneof![
        4 => ip_addr().prop_map(EntrySpec::Addr),
        4 => cidr(),
        1 => prop::collection::vec(any::<u8>(), 1..=3).prop_map(EntrySpec::ShortForm),
        2 => short_cidr(),
        1 => v4_addr().prop_map(EntrySpec::LeadingZeros),
        4 => range(),
        2 => plus_n(),
        1 => Just(EntrySpec::All),
        1 => v4_addr().prop_map(EntrySpec::MappedV4),
        1 => v4_addr().prop_map(EntrySpec::MappedHex),
        1 => v4_net().prop_map(EntrySpec::MappedCidr),
        1 => v4_net().prop_map(EntrySpec::Netmask),
        1 => v6_addr().prop_map(EntrySpec::V6Full),
    ]
}

fn spacing() -> impl Strategy<Value = Spacing> {
    (prop::bool::weighted(0.2), any::<bool>()).prop_map(|(around, around_dash)| Spacing {
        around,
        around_dash,
    })
}

/// A list of up to 50 entries: up to 42 independent ones, then up to 8 placed right next to
/// earlier ones (0, 1 or 2 addresses apart), where merging and off-by-one mistakes would show.
fn list() -> impl Strategy<Value = List> {
    let neighbour = (
        any::<Index>(),
        0u128..3,
        0u128..300,
        any::<bool>(),
        spacing(),
    );
    (
        prop::collection::vec((entry(), spacing()), 0..=42),
        prop::collection::vec(neighbour, 0..=8),
    )
        .prop_map(|(mut list, neighbours)| {
            for (index, gap, len, after, spacing) in neighbours {
                if list.is_empty() {
                    break;
                }
                let (spec, _) = &list[index.index(list.len())];
                if let Some(next) = spec
                    .ranges()
                    .first()
                    .and_then(|r| beside(*r, gap, len, after))
                {
                    list.push((next, spacing));
                }
            }
            list
        })
}

/// A range of `len + 1` addresses starting `gap` addresses after `range` (or ending `gap`
/// before it), if that fits in the family.
fn beside(range: NaiveRange, gap: u128, len: u128, after: bool) -> Option<EntrySpec> {
    let (first, last, top) = match range {
        NaiveRange::V4(first, last) => (
            u128::from(u32::from(first)),
            u128::from(u32::from(last)),
            u128::from(u32::MAX),
        ),
        NaiveRange::V6(first, last) => (u128::from(first), u128::from(last), u128::MAX),
    };
    let (start, end) = if after {
        let start = last.checked_add(gap + 1)?;
        (start, start.checked_add(len)?.min(top))
    } else {
        let end = first.checked_sub(gap + 1)?;
        (end.saturating_sub(len), end)
    };
    if start > top {
        return None;
    }
    let addr = |bits: u128| match range {
        NaiveRange::V4(..) => IpAddr::V4(Ipv4Addr::from(u32::try_from(bits).unwrap_or(u32::MAX))),
        NaiveRange::V6(..) => IpAddr::V6(Ipv6Addr::from(bits)),
    };
    Some(if start == end {
        EntrySpec::Addr(addr(start))
    } else {
        EntrySpec::Range(addr(start), addr(end))
    })
}

fn policy() -> impl Strategy<Value = Policy> {
    prop_oneof![Just(Policy::Allow), Just(Policy::Deny)]
}

// ---------------------------------------------------------------------------------------------
// Peers.

/// A peer to ask about: an edge of some entry (resolved against the generated lists) or a
/// random address. `mapped` asks with the `::ffff:` form where the peer is IPv4.
#[derive(Debug, Clone)]
enum PeerPick {
    Edge {
        deny_list: bool,
        entry: Index,
        edge: u8,
        mapped: bool,
    },
    Random {
        addr: IpAddr,
        mapped: bool,
    },
}

fn peer_picks() -> impl Strategy<Value = Vec<PeerPick>> {
    let edge = (
        any::<bool>(),
        any::<Index>(),
        0u8..4,
        prop::bool::weighted(0.3),
    )
        .prop_map(|(deny_list, entry, edge, mapped)| PeerPick::Edge {
            deny_list,
            entry,
            edge,
            mapped,
        });
    let random = (ip_addr(), prop::bool::weighted(0.3))
        .prop_map(|(addr, mapped)| PeerPick::Random { addr, mapped });
    prop::collection::vec(prop_oneof![3 => edge, 1 => random], 1..=24)
}

fn step(addr: IpAddr, up: bool) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let moved = if up {
                bits.checked_add(1)
            } else {
                bits.checked_sub(1)
            };
            IpAddr::V4(moved.unwrap_or(bits).into())
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let moved = if up {
                bits.checked_add(1)
            } else {
                bits.checked_sub(1)
            };
            IpAddr::V6(moved.unwrap_or(bits).into())
        }
    }
}

fn mapped_form(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => IpAddr::V6(v4.to_ipv6_mapped()),
        IpAddr::V6(_) => addr,
    }
}

fn resolve(picks: &[PeerPick], allow: &List, deny: &List) -> Vec<IpAddr> {
    picks
        .iter()
        .map(|pick| match pick {
            PeerPick::Random { addr, mapped } => {
                if *mapped {
                    mapped_form(*addr)
                } else {
                    *addr
                }
            }
            PeerPick::Edge {
                deny_list,
                entry,
                edge,
                mapped,
            } => {
                let list = if *deny_list { deny } else { allow };
                let ranges: Vec<NaiveRange> =
                    list.iter().flat_map(|(spec, _)| spec.ranges()).collect();
                let Some(range) = (!ranges.is_empty()).then(|| ranges[entry.index(ranges.len())])
                else {
                    return IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
                };
                let addr = match edge {
                    0 => range.first(),
                    1 => range.last(),
                    2 => step(range.first(), false),
                    _ => step(range.last(), true),
                };
                if *mapped { mapped_form(addr) } else { addr }
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Helpers.

fn parse(value: &str) -> Result<AddrList, TestCaseError> {
    AddrList::parse(value)
        .map(|parsed| parsed.list)
        .map_err(|errors| TestCaseError::fail(format!("{value:?} refused: {errors:?}")))
}

fn corral_acl(allow: &List, deny: &List, policy: Policy) -> Result<HostAcl, TestCaseError> {
    Ok(HostAcl {
        allow: parse(&render_list(allow))?,
        deny: parse(&render_list(deny))?,
        policy,
    })
}

fn naive_acl(allow: &List, deny: &List, policy: Policy) -> NaiveAcl {
    let specs = |list: &List| {
        list.iter()
            .map(|(spec, _)| spec.clone())
            .collect::<Vec<_>>()
    };
    NaiveAcl::from_specs(&specs(allow), &specs(deny), policy)
}

fn to_naive(range: AddrRange) -> NaiveRange {
    match range {
        AddrRange::V4 { first, last } => NaiveRange::V4(first, last),
        AddrRange::V6 { first, last } => NaiveRange::V6(first, last),
    }
}

/// A tiny deterministic shuffle (splitmix64), so the permutation comes from the case's seed.
fn shuffled<T: Clone>(items: &[T], mut seed: u64) -> Vec<T> {
    let mut out = items.to_vec();
    for i in (1..out.len()).rev() {
        seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let j = usize::try_from(z % (i as u64 + 1)).unwrap_or(0);
        out.swap(i, j);
    }
    out
}

const CASES: u32 = 512;

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    /// Each entry, parsed alone, denotes exactly the ranges the reference works out.
    #[test]
    fn entries_denote_what_the_reference_says(spec in entry(), spacing in spacing()) {
        let text = spec.render(spacing);
        let parsed = parse_entry(&text)
            .map_err(|error| TestCaseError::fail(format!("{text:?} refused: {error}")))?;
        let ours: Vec<NaiveRange> = parsed.ranges.into_iter().map(to_naive).collect();
        prop_assert_eq!(ours, spec.ranges(), "{:?}", text);
    }

    /// (a) corral decides as the naive reference, (b) a mapped peer as its IPv4 form.
    #[test]
    fn decide_matches_the_naive_reference(
        allow in list(), deny in list(), policy in policy(), picks in peer_picks(),
    ) {
        let corral = corral_acl(&allow, &deny, policy)?;
        let naive = naive_acl(&allow, &deny, policy);
        for peer in resolve(&picks, &allow, &deny) {
            prop_assert_eq!(corral.decide(peer), naive.decide(peer), "peer {}", peer);
            prop_assert_eq!(corral.explain(peer).access, corral.decide(peer), "peer {}", peer);
            if let IpAddr::V4(v4) = peer {
                let mapped = IpAddr::V6(v4.to_ipv6_mapped());
                prop_assert_eq!(corral.decide(mapped), corral.decide(peer), "peer {}", mapped);
            }
        }
    }

    /// (c) Neither entry order nor duplicated entries change any decision.
    #[test]
    fn order_and_duplicates_do_not_matter(
        allow in list(), deny in list(), policy in policy(), picks in peer_picks(),
        seed in any::<u64>(), dup_count in 0usize..10,
    ) {
        let original = corral_acl(&allow, &deny, policy)?;
        let reshape = |list: &List, salt: u64| {
            let mut items = list.clone();
            let copies = items.iter().take(dup_count).cloned().collect::<Vec<_>>();
            items.extend(copies);
            shuffled(&items, seed ^ salt)
        };
        let reshaped = corral_acl(&reshape(&allow, 1), &reshape(&deny, 2), policy)?;
        prop_assert_eq!(
            original.allow.merged_ranges().collect::<Vec<_>>(),
            reshaped.allow.merged_ranges().collect::<Vec<_>>()
        );
        for peer in resolve(&picks, &allow, &deny) {
            prop_assert_eq!(original.decide(peer), reshaped.decide(peer), "peer {}", peer);
        }
    }

    /// (d) `render` then `parse` gives the same ranges, hence the same decisions.
    #[test]
    fn render_then_parse_round_trips(
        allow in list(), deny in list(), policy in policy(), picks in peer_picks(),
    ) {
        let original = corral_acl(&allow, &deny, policy)?;
        let again = HostAcl {
            allow: parse(&original.allow.render())?,
            deny: parse(&original.deny.render())?,
            policy,
        };
        let ranges = |list: &AddrList| list.entries().iter().map(|e| e.range).collect::<Vec<_>>();
        prop_assert_eq!(ranges(&original.allow), ranges(&again.allow));
        prop_assert_eq!(ranges(&original.deny), ranges(&again.deny));
        for peer in resolve(&picks, &allow, &deny) {
            prop_assert_eq!(original.decide(peer), again.decide(peer), "peer {}", peer);
        }
    }
}

/// Whatever parses must render to something that parses to the same union.
fn check_parse_total(value: &str) -> Result<(), TestCaseError> {
    if let Ok(parsed) = AddrList::parse(value) {
        let rendered = parsed.list.render();
        let again = parse(&rendered)?;
        prop_assert_eq!(
            parsed.list.merged_ranges().collect::<Vec<_>>(),
            again.merged_ranges().collect::<Vec<_>>(),
            "{:?} rendered as {:?}",
            value,
            rendered
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4 * CASES, ..ProptestConfig::default() })]

    /// (e) No input makes the parser panic: arbitrary text, arbitrary bytes, and text made of
    /// the characters entries are made of (which reaches far deeper into the grammar).
    #[test]
    fn parse_never_panics_on_text(value in any::<String>()) {
        check_parse_total(&value)?;
    }

    #[test]
    fn parse_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        check_parse_total(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn parse_never_panics_on_entry_like_text(value in "[0-9a-fA-F:./ +,%;\\-\t]{0,64}") {
        check_parse_total(&value)?;
    }
}
