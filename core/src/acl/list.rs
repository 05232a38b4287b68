//! `AddrList`: a parsed list, answered from merged interval sets.

use std::net::IpAddr;

use super::entry::{self, ListError};
use super::set::IntervalSet;
use super::{AclEntry, AddrList, AddrRange, ParsedList, normalize_peer};

impl AddrList {
    /// Parses an `ALLOW_FROM` / `DENY_FROM` / `PROXY_REAL_IP_ALLOW_FROM` value. Entries are split
    /// on `,` only; a trailing comma is harmless; an empty value is an empty list. On failure
    /// every refused entry is reported, not just the first.
    pub fn parse(value: &str) -> Result<ParsedList, Vec<ListError>> {
        let (entries, warnings) = entry::parse_list(value)?;
        Ok(ParsedList {
            list: Self::from_entries(entries),
            warnings,
        })
    }

    /// A list of the given ranges, as if each had been written as one entry (in canonical text,
    /// positions from 1). Each range is [`AddrRange::normalized`] first.
    pub fn from_ranges(ranges: impl IntoIterator<Item = AddrRange>) -> Self {
        let entries = ranges
            .into_iter()
            .zip(1..)
            .map(|(range, position)| {
                let range = range.normalized();
                AclEntry {
                    text: range.to_string(),
                    position,
                    range,
                }
            })
            .collect();
        Self::from_entries(entries)
    }

    fn from_entries(entries: Vec<AclEntry>) -> Self {
        let v4 =
            IntervalSet::from_intervals(entries.iter().filter_map(|entry| match entry.range {
                AddrRange::V4 { first, last } => Some((first.to_bits(), last.to_bits())),
                AddrRange::V6 { .. } => None,
            }));
        let v6 =
            IntervalSet::from_intervals(entries.iter().filter_map(|entry| match entry.range {
                AddrRange::V6 { first, last } => Some((first.to_bits(), last.to_bits())),
                AddrRange::V4 { .. } => None,
            }));
        Self { entries, v4, v6 }
    }

    /// The entries in list order (`all` contributes two with the same position).
    pub fn entries(&self) -> &[AclEntry] {
        &self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether any entry matches `peer`, judged as [`normalize_peer`] says. O(log n), no
    /// allocation.
    pub fn contains(&self, peer: IpAddr) -> bool {
        match normalize_peer(peer) {
            IpAddr::V4(v4) => self.v4.contains(v4.to_bits()),
            IpAddr::V6(v6) => self.v6.contains(v6.to_bits()),
        }
    }

    /// Whether any address of `range` is in the list, within `range`'s family (an IPv6 range
    /// inside `::ffff:0:0/96` is not normalised: use [`AddrRange::normalized`] first). O(log n),
    /// no allocation.
    pub fn overlaps(&self, range: AddrRange) -> bool {
        match range {
            AddrRange::V4 { first, last } => self.v4.overlaps(first.to_bits(), last.to_bits()),
            AddrRange::V6 { first, last } => self.v6.overlaps(first.to_bits(), last.to_bits()),
        }
    }

    /// The entries matching `peer` (normalised), in list order. Linear: for explanations, not
    /// for the per-connection decision.
    pub fn matching(&self, peer: IpAddr) -> impl Iterator<Item = &AclEntry> {
        let peer = normalize_peer(peer);
        self.entries
            .iter()
            .filter(move |entry| entry.range.contains(peer))
    }

    /// The union of the entries as sorted, merged, non-touching ranges (IPv4 first): what the
    /// list matches, independent of how it was written.
    pub fn merged_ranges(&self) -> impl Iterator<Item = AddrRange> + '_ {
        let v4 = self.v4.intervals().map(|(first, last)| AddrRange::V4 {
            first: first.into(),
            last: last.into(),
        });
        let v6 = self.v6.intervals().map(|(first, last)| AddrRange::V6 {
            first: first.into(),
            last: last.into(),
        });
        v4.chain(v6)
    }

    /// A canonical comma-separated text for the list: each entry's range in canonical form
    /// ([`AddrRange`]'s `Display`), `all` as `all`. Parsing it gives the same ranges in the same
    /// order, hence the same decisions.
    pub fn render(&self) -> String {
        let mut parts: Vec<String> = Vec::with_capacity(self.entries.len());
        let mut previous_all_position = None;
        for entry in &self.entries {
            if entry.text == "all" {
                // `all` yields two entries at one position; write it once.
                if previous_all_position != Some(entry.position) {
                    parts.push("all".to_owned());
                    previous_all_position = Some(entry.position);
                }
                continue;
            }
            parts.push(entry.range.to_string());
        }
        parts.join(",")
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    fn list(value: &str) -> AddrList {
        AddrList::parse(value)
            .unwrap_or_else(|errors| panic!("{value}: {errors:?}"))
            .list
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("test literal")
    }

    #[test]
    fn families_are_separate() {
        let v4_only = list("0.0.0.0/0");
        assert!(v4_only.contains(ip("10.0.0.1")));
        assert!(!v4_only.contains(ip("2001:db8::1")));
        let v6_only = list("::/0");
        assert!(v6_only.contains(ip("2001:db8::1")));
        assert!(!v6_only.contains(ip("10.0.0.1")));
    }

    #[test]
    fn mapped_peers_are_judged_as_ipv4() {
        let v4 = list("10.0.0.0/8");
        assert!(v4.contains(IpAddr::V6(Ipv4Addr::new(10, 1, 2, 3).to_ipv6_mapped())));
        // `::/0` covers the mapped block, but a mapped peer is IPv4 and does not match it.
        let v6 = list("::/0");
        assert!(!v6.contains(IpAddr::V6(Ipv4Addr::new(10, 1, 2, 3).to_ipv6_mapped())));
        assert!(v6.contains(IpAddr::V6(Ipv6Addr::LOCALHOST)));
    }

    #[test]
    fn all_matches_everything() {
        let all = list("all");
        assert_eq!(all.entries().len(), 2);
        for peer in [
            "0.0.0.0",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:1.2.3.4",
            "fe80::1",
        ] {
            assert!(all.contains(ip(peer)), "{peer}");
        }
    }

    #[test]
    fn matching_lists_every_matching_entry() {
        let l = list("10.0.0.0/8, 10.1.0.0/16,192.168.0.1,all");
        let texts: Vec<&str> = l
            .matching(ip("10.1.2.3"))
            .map(|e| e.text.as_str())
            .collect();
        assert_eq!(texts, vec!["10.0.0.0/8", "10.1.0.0/16", "all"]);
    }

    #[test]
    fn overlaps_stays_within_a_family() {
        let l = list("10.0.0.0/8,192.168.1.1 - 192.168.1.9,2001:db8::/32");
        let v4 = |first: &str, last: &str| AddrRange::V4 {
            first: first.parse().expect("test literal"),
            last: last.parse().expect("test literal"),
        };
        assert!(l.overlaps(v4("9.0.0.0", "10.0.0.0")));
        assert!(l.overlaps(v4("192.168.1.9", "192.168.1.20")));
        assert!(!l.overlaps(v4("11.0.0.0", "192.168.1.0")));
        assert!(l.overlaps(AddrRange::ALL_V6));
        assert!(!list("10.0.0.0/8").overlaps(AddrRange::ALL_V6));
        assert!(!list("").overlaps(AddrRange::ALL_V4));
    }

    #[test]
    fn render_round_trips() {
        let value = "all, 10.0.0.0/255.0.0.0,10.0.0.1 - 10.0.0.9,::ffff:a00:0/120,2001:db8::/32,::/64,10 + 3";
        let original = list(value);
        let rendered = original.render();
        assert_eq!(
            rendered,
            "all,10.0.0.0/8,10.0.0.1-10.0.0.9,10.0.0.0/24,2001:db8::/32,::/64,10.0.0.0/30"
        );
        let reparsed = list(&rendered);
        let ranges = |l: &AddrList| l.entries().iter().map(|e| e.range).collect::<Vec<_>>();
        assert_eq!(ranges(&original), ranges(&reparsed));
        let merged: Vec<String> = original.merged_ranges().map(|r| r.to_string()).collect();
        assert_eq!(merged, vec!["0.0.0.0/0", "::/0"]);
    }

    #[test]
    fn from_ranges_normalises() {
        let l = AddrList::from_ranges([
            AddrRange::V4 {
                first: Ipv4Addr::new(10, 0, 0, 9),
                last: Ipv4Addr::new(10, 0, 0, 1),
            },
            AddrRange::single(IpAddr::V6(Ipv4Addr::new(1, 2, 3, 4).to_ipv6_mapped())),
        ]);
        assert_eq!(l.render(), "10.0.0.1-10.0.0.9,1.2.3.4");
        assert_eq!(l.entries()[1].position, 2);
        assert!(l.contains(ip("1.2.3.4")));
    }
}
