//! The decision: `Policy`, `Row`, `HostAcl::decide` and `HostAcl::explain`.

use std::fmt;
use std::net::IpAddr;

use thiserror::Error;

use super::{Access, AclEntry, Explanation, HostAcl, Policy, Row, normalize_peer};
use crate::config::display::printable;

/// `POLICY` was neither `allow` nor `deny`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "unknown policy '{}': use 'allow' or 'deny'{}",
    printable(.value),
    lowercase_hint(.value)
)]
pub struct PolicyError {
    pub value: String,
}

fn lowercase_hint(value: &str) -> &'static str {
    let lower = value.to_ascii_lowercase();
    if lower == "allow" || lower == "deny" {
        " (in lowercase)"
    } else {
        ""
    }
}

impl Policy {
    /// Exactly `allow` or `deny`, as Proxmox's `m/^(allow|deny)$/` (which dies otherwise).
    pub fn parse(value: &str) -> Result<Policy, PolicyError> {
        match value {
            "allow" => Ok(Policy::Allow),
            "deny" => Ok(Policy::Deny),
            _ => Err(PolicyError {
                value: value.to_owned(),
            }),
        }
    }

    fn access(self) -> Access {
        match self {
            Policy::Allow => Access::Allow,
            Policy::Deny => Access::Deny,
        }
    }
}

impl Row {
    /// The row for whether the allow list and the deny list matched.
    pub const fn from_matches(allow: bool, deny: bool) -> Row {
        match (allow, deny) {
            (true, false) => Row::AllowOnly,
            (false, true) => Row::DenyOnly,
            (false, false) => Row::Neither,
            (true, true) => Row::Both,
        }
    }

    /// The table's cell: one list matching decides; neither or both defer to the policy.
    pub fn access(self, policy: Policy) -> Access {
        match self {
            Row::AllowOnly => Access::Allow,
            Row::DenyOnly => Access::Deny,
            Row::Neither | Row::Both => policy.access(),
        }
    }
}

impl HostAcl {
    /// The decision for a connection from `peer`. Pure, O(log n), no allocation.
    pub fn decide(&self, peer: IpAddr) -> Access {
        self.row(peer).access(self.policy)
    }

    /// Which row of the table `peer` falls in.
    pub fn row(&self, peer: IpAddr) -> Row {
        Row::from_matches(self.allow.contains(peer), self.deny.contains(peer))
    }

    /// The decision with its reasons: the matching entries of both lists. Allocates; meant for
    /// `check-access` and logs.
    pub fn explain(&self, peer: IpAddr) -> Explanation<'_> {
        let allow_matches: Vec<&AclEntry> = self.allow.matching(peer).collect();
        let deny_matches: Vec<&AclEntry> = self.deny.matching(peer).collect();
        let row = Row::from_matches(!allow_matches.is_empty(), !deny_matches.is_empty());
        Explanation {
            peer: normalize_peer(peer),
            access: row.access(self.policy),
            row,
            policy: self.policy,
            allow_matches,
            deny_matches,
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Policy::Allow => "allow",
            Policy::Deny => "deny",
        })
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Access::Allow => "allow",
            Access::Deny => "deny",
        })
    }
}

impl fmt::Display for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Row::AllowOnly => "allow entry only",
            Row::DenyOnly => "deny entry only",
            Row::Neither => "no entry",
            Row::Both => "allow and deny entries",
        })
    }
}

/// `allow|deny  why  [row: …]`: which entries matched and which row of the table decided, as
/// `pveproxy check-access` prints it after the address.
impl fmt::Display for Explanation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let allow = MatchList("ALLOW_FROM", &self.allow_matches);
        let deny = MatchList("DENY_FROM", &self.deny_matches);
        let policy = self.policy;
        write!(f, "{}  ", self.access)?;
        match self.row {
            Row::AllowOnly => write!(f, "{allow} {}, no DENY_FROM entry does", allow.verb())?,
            Row::DenyOnly => write!(f, "{deny} {}, no ALLOW_FROM entry does", deny.verb())?,
            Row::Neither => write!(
                f,
                "no ALLOW_FROM or DENY_FROM entry matches, so POLICY={policy} decides"
            )?,
            Row::Both => write!(
                f,
                "{allow} and {deny} both match, so POLICY={policy} decides"
            )?,
        }
        write!(f, "  [row: {}]", self.row)
    }
}

/// `KEY entry 1 'text', entry 3 'text'`; `all` (two ranges, one position) is named once.
struct MatchList<'a>(&'static str, &'a [&'a AclEntry]);

impl MatchList<'_> {
    fn verb(&self) -> &'static str {
        let first = self.1.first().map(|entry| entry.position);
        let several = self.1.iter().any(|entry| Some(entry.position) != first);
        if several { "match" } else { "matches" }
    }
}

impl fmt::Display for MatchList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let MatchList(key, entries) = self;
        write!(f, "{key}")?;
        let mut last_position = None;
        for entry in entries.iter() {
            if last_position == Some(entry.position) {
                continue;
            }
            let separator = if last_position.is_none() { " " } else { ", " };
            let text = printable(&entry.text);
            write!(f, "{separator}entry {} '{text}'", entry.position)?;
            last_position = Some(entry.position);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::AddrList;

    fn list(value: &str) -> AddrList {
        AddrList::parse(value).expect("test list").list
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("test literal")
    }

    /// The 4×2 table from the reference, every cell, through real lists and peers.
    #[test]
    fn every_cell_of_the_table() {
        let acl = |policy| HostAcl {
            allow: list("10.0.0.0/8"),
            deny: list("10.0.0.0/16,192.168.0.0/16"),
            policy,
        };
        let cells = [
            ("10.1.0.1", Row::AllowOnly, Policy::Allow, Access::Allow),
            ("10.1.0.1", Row::AllowOnly, Policy::Deny, Access::Allow),
            ("192.168.0.1", Row::DenyOnly, Policy::Allow, Access::Deny),
            ("192.168.0.1", Row::DenyOnly, Policy::Deny, Access::Deny),
            ("172.16.0.1", Row::Neither, Policy::Allow, Access::Allow),
            ("172.16.0.1", Row::Neither, Policy::Deny, Access::Deny),
            ("10.0.0.1", Row::Both, Policy::Allow, Access::Allow),
            ("10.0.0.1", Row::Both, Policy::Deny, Access::Deny),
        ];
        for (peer, row, policy, access) in cells {
            let acl = acl(policy);
            assert_eq!(acl.row(ip(peer)), row, "{peer} {policy}");
            assert_eq!(acl.decide(ip(peer)), access, "{peer} {policy}");
            let explanation = acl.explain(ip(peer));
            assert_eq!(
                (explanation.row, explanation.access),
                (row, access),
                "{peer} {policy}"
            );
        }
    }

    #[test]
    fn allow_from_alone_restricts_nothing_under_the_default_policy() {
        let acl = HostAcl {
            allow: list("10.0.0.0/8"),
            ..HostAcl::default()
        };
        assert_eq!(acl.decide(ip("203.0.113.9")), Access::Allow);
    }

    #[test]
    fn the_documented_example_works_because_allowed_hosts_match_both() {
        let acl = HostAcl {
            allow: list("192.168.2.0/24"),
            deny: list("all"),
            policy: Policy::Allow,
        };
        assert_eq!(acl.decide(ip("192.168.2.7")), Access::Allow);
        assert_eq!(acl.decide(ip("::ffff:192.168.2.7")), Access::Allow);
        assert_eq!(acl.decide(ip("192.168.3.7")), Access::Deny);
        assert_eq!(acl.decide(ip("2001:db8::1")), Access::Deny);
    }

    #[test]
    fn mapped_peers_and_families() {
        let acl = HostAcl {
            allow: list("10.0.0.0/8"),
            deny: list("::/0"),
            policy: Policy::Deny,
        };
        // A mapped peer is IPv4: it matches the IPv4 allow entry, never the IPv6 `::/0`.
        assert_eq!(acl.row(ip("::ffff:10.0.0.1")), Row::AllowOnly);
        assert_eq!(acl.row(ip("::ffff:11.0.0.1")), Row::Neither);
        assert_eq!(acl.row(ip("::1")), Row::DenyOnly);
    }

    #[test]
    fn explanation_names_the_entries() {
        let acl = HostAcl {
            allow: list("192.168.2.0/24"),
            deny: list("all"),
            policy: Policy::Deny,
        };
        let explanation = acl.explain(ip("::ffff:192.168.2.7"));
        assert_eq!(explanation.peer, ip("192.168.2.7"));
        assert_eq!(explanation.allow_matches.len(), 1);
        assert_eq!(
            explanation.deny_matches.len(),
            1,
            "only the IPv4 half of 'all'"
        );
        assert_eq!(
            explanation.to_string(),
            "deny  ALLOW_FROM entry 1 '192.168.2.0/24' and DENY_FROM entry 1 'all' both match, \
             so POLICY=deny decides  [row: allow and deny entries]"
        );
        let empty = HostAcl::default();
        let nobody = empty.explain(ip("10.0.0.1"));
        assert_eq!(
            nobody.to_string(),
            "allow  no ALLOW_FROM or DENY_FROM entry matches, so POLICY=allow decides  [row: no entry]"
        );
        let everyone = HostAcl {
            deny: list("all,10.0.0.0/8"),
            ..HostAcl::default()
        };
        assert_eq!(
            everyone.explain(ip("10.0.0.1")).to_string(),
            "deny  DENY_FROM entry 1 'all', entry 2 '10.0.0.0/8' match, no ALLOW_FROM entry \
             does  [row: deny entry only]"
        );
    }

    #[test]
    fn policy_is_exact() {
        assert_eq!(Policy::parse("allow"), Ok(Policy::Allow));
        assert_eq!(Policy::parse("deny"), Ok(Policy::Deny));
        for bad in ["Allow", "DENY", " allow", "allow ", "", "reject"] {
            assert!(Policy::parse(bad).is_err(), "{bad:?}");
        }
        let message = Policy::parse("Deny").expect_err("capitalised").to_string();
        assert_eq!(
            message,
            "unknown policy 'Deny': use 'allow' or 'deny' (in lowercase)"
        );
    }

    #[test]
    fn displays() {
        assert_eq!(Policy::Allow.to_string(), "allow");
        assert_eq!(Access::Deny.to_string(), "deny");
        assert_eq!(Row::Both.to_string(), "allow and deny entries");
        assert_eq!(Row::Neither.to_string(), "no entry");
    }
}
