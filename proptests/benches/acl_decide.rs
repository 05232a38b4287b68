//! Decisions per second: corral's `HostAcl::decide` against the naive linear reference, at 10,
//! 1,000 and 100,000 entries per list.
//!
//! Both lists hold a seeded mix of IPv4 and IPv6 entries (CIDR blocks and short ranges spread
//! over the space, so they rarely overlap). Both deciders get the same fixed set of peers: edges
//! of entries, addresses just outside them, `::ffff:`-mapped forms and random addresses. One
//! iteration decides every peer once; the group's throughput is set to the number of peers, so
//! `bench/acl.sh` can turn criterion's estimates into nanoseconds per decision.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use corral_core::acl::{Access, AddrList, HostAcl, Policy};
use corral_proptests::{EntrySpec, NaiveAcl, Spacing, render_list};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// Peers decided per iteration (read back by `bench/acl.sh` from criterion's throughput).
const PEERS: usize = 256;
const SIZES: [usize; 3] = [10, 1_000, 100_000];

/// splitmix64: a tiny seeded generator, so every run benchmarks the same lists and peers.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }

    fn v4(&mut self) -> Ipv4Addr {
        Ipv4Addr::from((self.next() >> 32) as u32)
    }

    /// Somewhere in 2001:db8::/32, where the IPv6 entries live.
    fn v6(&mut self) -> Ipv6Addr {
        let low = (u128::from(self.next()) << 32) | u128::from(self.next() >> 32);
        Ipv6Addr::from((0x2001_0db8_u128 << 96) | low)
    }
}

fn random_entry(rng: &mut SplitMix) -> EntrySpec {
    match rng.below(4) {
        0 => {
            let prefix = 24 + rng.below(9) as u8;
            let net = Ipv4Net::new(rng.v4(), prefix)
                .expect("prefix at most 32")
                .trunc();
            EntrySpec::Cidr(IpNet::V4(net))
        }
        1 => {
            let first = rng.v4();
            let last = u32::from(first).saturating_add(rng.below(256) as u32);
            EntrySpec::Range(first.into(), Ipv4Addr::from(last).into())
        }
        2 => {
            let prefix = 64 + rng.below(65) as u8;
            let net = Ipv6Net::new(rng.v6(), prefix)
                .expect("prefix at most 128")
                .trunc();
            EntrySpec::Cidr(IpNet::V6(net))
        }
        _ => EntrySpec::PlusN(rng.v6().into(), u128::from(rng.below(1 << 16))),
    }
}

fn random_list(rng: &mut SplitMix, size: usize) -> Vec<EntrySpec> {
    (0..size).map(|_| random_entry(rng)).collect()
}

/// Peers: a first or last address of an entry, one past its end, its mapped form, or random.
fn peers(rng: &mut SplitMix, lists: [&[EntrySpec]; 2]) -> Vec<IpAddr> {
    (0..PEERS)
        .map(|_| {
            let list = lists[rng.below(2) as usize];
            let range = list[rng.below(list.len() as u64) as usize].ranges()[0];
            match rng.below(6) {
                0 => range.first(),
                1 => range.last(),
                2 => next_address(range.last()),
                3 => match range.first() {
                    IpAddr::V4(v4) => IpAddr::V6(v4.to_ipv6_mapped()),
                    v6 => v6,
                },
                4 => IpAddr::V4(rng.v4()),
                _ => IpAddr::V6(rng.v6()),
            }
        })
        .collect()
}

fn next_address(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(a) => IpAddr::V4(u32::from(a).wrapping_add(1).into()),
        IpAddr::V6(a) => IpAddr::V6(u128::from(a).wrapping_add(1).into()),
    }
}

struct Setup {
    corral: HostAcl,
    naive: NaiveAcl,
    peers: Vec<IpAddr>,
}

fn setup(size: usize) -> Setup {
    let mut rng = SplitMix(0x00c0_5a11_ac10_u64 ^ size as u64);
    let allow = random_list(&mut rng, size);
    let deny = random_list(&mut rng, size);
    let text = |list: &[EntrySpec]| {
        let spaced: Vec<(EntrySpec, Spacing)> = list
            .iter()
            .map(|spec| (spec.clone(), Spacing::default()))
            .collect();
        render_list(&spaced)
    };
    let parse = |value: String| {
        AddrList::parse(&value)
            .expect("generated lists are valid")
            .list
    };
    let corral = HostAcl {
        allow: parse(text(&allow)),
        deny: parse(text(&deny)),
        policy: Policy::Deny,
    };
    let naive = NaiveAcl::from_specs(&allow, &deny, Policy::Deny);
    let peers = peers(&mut rng, [&allow, &deny]);
    // Same answers, or the comparison would be meaningless.
    for peer in &peers {
        assert_eq!(corral.decide(*peer), naive.decide(*peer), "peer {peer}");
    }
    Setup {
        corral,
        naive,
        peers,
    }
}

fn count_allowed(peers: &[IpAddr], decide: impl Fn(IpAddr) -> Access) -> usize {
    peers
        .iter()
        .filter(|peer| decide(black_box(**peer)) == Access::Allow)
        .count()
}

fn bench_decide(c: &mut Criterion) {
    for size in SIZES {
        let Setup {
            corral,
            naive,
            peers,
        } = setup(size);
        let mut group = c.benchmark_group(format!("acl_decide_{size}"));
        group.throughput(Throughput::Elements(PEERS as u64));
        if size >= 100_000 {
            // One naive iteration takes tens of milliseconds; keep the run short.
            group.sample_size(10);
            group.warm_up_time(Duration::from_secs(1));
            group.measurement_time(Duration::from_secs(4));
        }
        group.bench_function("corral", |b| {
            b.iter(|| count_allowed(&peers, |peer| corral.decide(peer)));
        });
        group.bench_function("naive", |b| {
            b.iter(|| count_allowed(&peers, |peer| naive.decide(peer)));
        });
        group.finish();
    }
}

criterion_group!(benches, bench_decide);
criterion_main!(benches);
