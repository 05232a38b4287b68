//! Host-based access control, as pveproxy and spiceproxy apply it to every accepted connection.
//!
//! Reference: `../shared/reference/pveproxy-pvedaemon.md` §1. Lists (`ALLOW_FROM`, `DENY_FROM`,
//! `PROXY_REAL_IP_ALLOW_FROM`) are parsed by [`AddrList::parse`]; [`HostAcl::decide`] applies the
//! 4×2 table:
//!
//! | match      | POLICY=allow | POLICY=deny |
//! |------------|--------------|-------------|
//! | allow only | allow        | allow       |
//! | deny only  | deny         | deny        |
//! | neither    | allow        | deny        |
//! | both       | allow        | deny        |
//!
//! A peer `::ffff:a.b.c.d` is judged as `a.b.c.d`; IPv4 entries never match IPv6 peers and vice
//! versa.
//!
//! Entries use Net::IP's syntax as Proxmox VE reads it (addresses, CIDR, short forms like `10/8`
//! and `10.1`, `a - b`, `a + n`, `all`), checked entry by entry against Net::IP 1.26 in
//! `core/tests/netip_compat.rs`. Where Proxmox's reading is silently wrong or needlessly fatal,
//! corral deliberately differs; that file's `DEVIATIONS` table lists every case and why
//! (surrounding whitespace trimmed; `::/0`-like IPv6 entries accepted with a warning; entries in
//! `::ffff:0:0/96` read as IPv4; contiguous netmasks read as prefixes and other suffixes refused;
//! short forms in ranges, unvalidated range ends and non-decimal counts refused; and, in its
//! `LIST_DEVIATIONS`, a last element of only whitespace ignored). Accepted entries that Proxmox
//! VE would refuse or read differently carry an [`EntryWarning`].
//!
//! [`HostAcl::decide`] is O(log n) and allocation-free (two binary searches over merged
//! intervals); [`HostAcl::explain`] lists the matching entries for humans.

// Implementation lives in submodules; this file fixes the public contract:
// - `addr`: one address in Net::IP's grammar;
// - `entry`: one entry and a whole list, with their errors and warnings;
// - `set`: the merged interval sets membership is answered from;
// - `list`: `AddrList` (parse, match, render);
// - `decide`: `Policy`, `Row`, `HostAcl` (decide, explain);
// - `range`: `AddrRange` and `Family` helpers and display.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

mod addr;
mod decide;
mod entry;
mod list;
mod range;
mod set;

pub use addr::{AddressProblem, V4Problem};
pub use decide::PolicyError;
pub use entry::{EntryError, EntryWarning, ListError, ListWarning, ParsedEntry, parse_entry};

/// `POLICY` in `/etc/default/pveproxy`: what happens when neither or both lists match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Policy {
    /// Proxmox's default.
    #[default]
    Allow,
    Deny,
}

/// The outcome of a host-ACL decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Allow,
    Deny,
}

/// Which row of the 4×2 table decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    AllowOnly,
    DenyOnly,
    Neither,
    Both,
}

/// An address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    V4,
    V6,
}

/// An inclusive address range one entry denotes. Every entry form (address, CIDR, short form,
/// `a-b`, `a + n`) reduces to one of these; `all` yields one of each family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AddrRange {
    V4 { first: Ipv4Addr, last: Ipv4Addr },
    V6 { first: Ipv6Addr, last: Ipv6Addr },
}

/// One entry of a list, as the user wrote it and as it was understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclEntry {
    /// The entry's text as written, without surrounding whitespace.
    pub text: String,
    /// 1-based position in the comma-separated list.
    pub position: usize,
    /// What the entry denotes (`all` gives two entries with the same text and position).
    pub range: AddrRange,
}

/// A parsed `ALLOW_FROM` / `DENY_FROM` / `PROXY_REAL_IP_ALLOW_FROM` list.
///
/// Membership is answered in O(log n) over sorted, merged intervals, without allocating.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddrList {
    entries: Vec<AclEntry>,
    v4: set::IntervalSet<u32>,
    v6: set::IntervalSet<u128>,
}

/// A list that parsed, with the warnings it deserves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedList {
    pub list: AddrList,
    pub warnings: Vec<ListWarning>,
}

/// The host ACL: two lists and a policy. [`HostAcl::decide`] is the pure decision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostAcl {
    pub allow: AddrList,
    pub deny: AddrList,
    pub policy: Policy,
}

/// Why a peer got its decision: for `pveproxy check-access` and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation<'a> {
    /// The peer as judged (`::ffff:a.b.c.d` becomes `a.b.c.d`).
    pub peer: IpAddr,
    pub access: Access,
    pub row: Row,
    pub policy: Policy,
    pub allow_matches: Vec<&'a AclEntry>,
    pub deny_matches: Vec<&'a AclEntry>,
}

/// The address a peer is judged as: an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is IPv4.
pub fn normalize_peer(peer: IpAddr) -> IpAddr {
    match peer {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(peer, IpAddr::V4),
        IpAddr::V4(_) => peer,
    }
}
