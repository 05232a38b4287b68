//! corral reads every list entry the way Proxmox VE does (Net::IP 1.26 through
//! `PVE::APIServer::Utils::read_proxy_config`), except for the deliberate deviations listed in
//! [`DEVIATIONS`] (entries) and [`LIST_DEVIATIONS`] (whole values) — and for those, it does
//! exactly what the tables say instead.
//!
//! The oracle is `fixtures/netip-oracle.tsv`, produced by `tools/netip-oracle.pl` from
//! `fixtures/netip-entries.txt` on a machine with Net::IP (CI does not run Perl):
//!
//! ```sh
//! perl tools/netip-oracle.pl < core/tests/fixtures/netip-entries.txt \
//!   > core/tests/fixtures/netip-oracle.tsv
//! ```

use std::collections::BTreeMap;
use std::net::IpAddr;

use corral_core::acl::{AddrRange, EntryWarning, parse_entry};

const ORACLE: &str = include_str!("fixtures/netip-oracle.tsv");

/// What corral does with an entry where it deliberately differs from Proxmox VE.
#[derive(Debug, Clone, Copy)]
enum Instead {
    /// Accepts it as these ranges (in `AddrRange`'s display form), with a warning whose text
    /// contains the given words ("" for no particular warning).
    Accept(&'static [&'static str], &'static str),
    /// Refuses it, with an error whose text contains the given words.
    Refuse(&'static str),
}

use Instead::{Accept, Refuse};

/// Why we deviate. Each reason is written once and shared by its rows; these sentences are
/// meant for the user documentation.
const WHITESPACE: &str = "Whitespace around an entry (\"a, b\") is ignored. Proxmox VE refuses to \
     start; nothing can be misread by trimming it. Whitespace inside an address is still an \
     error. A warning says Proxmox VE would refuse it.";
const V6_OVER_MAPPED: &str = "IPv6 prefixes and ranges that overlap ::ffff:0:0/96 without lying \
     inside it (::/0, ::/64, ::/80, ...) are ordinary IPv6 ranges. Proxmox VE refuses them \
     (normalize_v4_in_v6 finds no embedded IPv4) or, for ranges, silently reads the text after \
     the last colon as an IPv4 address. A warning says that IPv4 clients, which arrive as \
     ::ffff:a.b.c.d and are judged as IPv4, never match them.";
const MAPPED: &str = "An entry inside ::ffff:0:0/96 is the IPv4 range it denotes, whatever its \
     notation. Proxmox VE only handles a single address whose last group is dotted IPv4; it \
     refuses mapped prefixes and counts, and silently misreads hex notation (::ffff:a00:1 \
     becomes 1.0.0.0) and ranges (only the last address is kept).";
const NETMASK: &str = "Netmask notation is read as the prefix it denotes when the mask is \
     contiguous (host bits set is the same error as for CIDR). Net::IP silently ignores any \
     suffix that is not /digits, so Proxmox VE reads 10.0.0.0/255.255.255.0 as the single \
     address 10.0.0.0.";
const SUFFIX: &str = "Any other suffix after '/' that is not a prefix length (/24;x, /24x, /abc, \
     /8/16, //8, /+8, /0x18, /8#comment, /8-10.0.0.5) is an error. Net::IP silently ignores it \
     and Proxmox VE reads the entry as a single address.";
const SHORT_RANGE: &str = "Short forms are not allowed as the ends of a range. Net::IP fills the \
     missing parts with zeros, so 10.0.0.5-20 means 10.0.0.5 to 20.0.0.0 — almost certainly not \
     what was meant. (A short form alone, like 10.1 = 10.1.0.0, is still accepted.)";
const RANGE_END: &str = "The end of a range must be a valid address, like the start. Net::IP \
     does not validate the end before expanding it, so it accepts 10.0.0.1-10.0.1. (as \
     10.0.1.0), 1::1-1.2.3.4:: (as 1::1-102:304::) and 1:2:3:4:5:6:7:: only in that position.";
const COUNT: &str = "The count in 'a + n' must be decimal. Net::IP reads it with Math::BigInt, \
     which turns anything it cannot read (abc, 5.5, inf, '5 + 6') into 0 without an error, and \
     also takes hex, binary, exponents and underscores; we accept only the form that cannot be \
     misread.";

struct Deviation {
    entry: &'static str,
    instead: Instead,
    why: &'static str,
}

const fn dev(entry: &'static str, instead: Instead, why: &'static str) -> Deviation {
    Deviation {
        entry,
        instead,
        why,
    }
}

/// Every entry of the corpus where corral deliberately does not do what Proxmox VE does.
#[rustfmt::skip]
const DEVIATIONS: &[Deviation] = &[
    // Whitespace around an entry: trimmed, with a warning.
    dev(" all", Accept(&["0.0.0.0/0", "::/0"], "Proxmox VE refuses it"), WHITESPACE),
    dev("all ", Accept(&["0.0.0.0/0", "::/0"], "Proxmox VE refuses it"), WHITESPACE),
    dev(" 10.0.0.1", Accept(&["10.0.0.1"], "Proxmox VE refuses it"), WHITESPACE),
    dev("10.0.0.1 ", Accept(&["10.0.0.1"], "Proxmox VE refuses it"), WHITESPACE),
    dev("\t10.0.0.1\t", Accept(&["10.0.0.1"], "Proxmox VE refuses it"), WHITESPACE),
    dev("  10.0.0.0/8  ", Accept(&["10.0.0.0/8"], "Proxmox VE refuses it"), WHITESPACE),
    dev(" ::1", Accept(&["::1"], "Proxmox VE refuses it"), WHITESPACE),
    dev(" 10.0.0.1 - 10.0.0.9 ", Accept(&["10.0.0.1-10.0.0.9"], "Proxmox VE refuses it"), WHITESPACE),

    // IPv6 over the mapped block: an IPv6 range, with a warning.
    dev("::/0", Accept(&["::/0"], "never match"), V6_OVER_MAPPED),
    dev("::/1", Accept(&["::/1"], "never match"), V6_OVER_MAPPED),
    dev("::/64", Accept(&["::/64"], "never match"), V6_OVER_MAPPED),
    dev("::/80", Accept(&["::/80"], "never match"), V6_OVER_MAPPED),
    dev(":: - ::ffff:0:0", Accept(&["::-::ffff:0.0.0.0"], "never match"), V6_OVER_MAPPED),
    dev("::1 - ffff::", Accept(&["::1-ffff::"], "never match"), V6_OVER_MAPPED),
    dev("::fffe:ffff:ffff - ::ffff:0:5", Accept(&["::fffe:ffff:ffff-::ffff:0.0.0.5"], "never match"), V6_OVER_MAPPED),
    dev("::ffff:ffff:ffff - ::1:0:0:0", Accept(&["::ffff:255.255.255.255-::1:0:0:0"], "never match"), V6_OVER_MAPPED),
    dev("::ffff:0:0 - ::1:0:0:0", Accept(&["::ffff:0.0.0.0-::1:0:0:0"], "never match"), V6_OVER_MAPPED),
    dev("::ffff:ffff:ffff + 1", Accept(&["::ffff:255.255.255.255-::1:0:0:0"], "never match"), V6_OVER_MAPPED),
    dev("::ffff:255.255.255.0 + 256", Accept(&["::ffff:255.255.255.0-::1:0:0:0"], "never match"), V6_OVER_MAPPED),
    dev(":: - ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Accept(&["::/0"], "never match"), V6_OVER_MAPPED),
    dev(":: + 340282366920938463463374607431768211455", Accept(&["::/0"], "never match"), V6_OVER_MAPPED),
    dev(":: + 18446744073709551616", Accept(&["::-0:0:0:1::"], "never match"), V6_OVER_MAPPED),

    // Inside the mapped block: the IPv4 range it denotes, with a warning where Proxmox differs.
    dev("::ffff:a00:1", Accept(&["10.0.0.1"], "read as the IPv4 range"), MAPPED),
    dev("::ffff:A00:1", Accept(&["10.0.0.1"], "read as the IPv4 range"), MAPPED),
    dev("::ffff:0a00:0001", Accept(&["10.0.0.1"], "read as the IPv4 range"), MAPPED),
    dev("0:0:0:0:0:ffff:a00:1", Accept(&["10.0.0.1"], "read as the IPv4 range"), MAPPED),
    dev("0000:0000:0000:0000:0000:ffff:0a00:0001", Accept(&["10.0.0.1"], "read as the IPv4 range"), MAPPED),
    dev("::ffff:ffff:ffff", Accept(&["255.255.255.255"], "read as the IPv4 range"), MAPPED),
    dev("::ffff:0:0/96", Accept(&["0.0.0.0/0"], "read as the IPv4 range"), MAPPED),
    dev("::ffff:10.0.0.0/104", Accept(&["10.0.0.0/8"], "read as the IPv4 range"), MAPPED),
    dev("::ffff:10.0.0.0/120", Accept(&["10.0.0.0/24"], "read as the IPv4 range"), MAPPED),
    dev("::ffff:a00:0/120", Accept(&["10.0.0.0/24"], "read as the IPv4 range"), MAPPED),
    dev("::ffff:10.0.0.1/128", Accept(&["10.0.0.1"], "read as the IPv4 range"), MAPPED),
    dev("::ffff:1.2.3.4/128", Accept(&["1.2.3.4"], "read as the IPv4 range"), MAPPED),
    dev("::ffff:10.0.0.1-::ffff:10.0.0.9", Accept(&["10.0.0.1-10.0.0.9"], "read as the IPv4 range"), MAPPED),
    dev("::ffff:10.0.0.1 - ::ffff:10.0.0.9", Accept(&["10.0.0.1-10.0.0.9"], "read as the IPv4 range"), MAPPED),
    dev("::ffff:a00:1-::ffff:a00:9", Accept(&["10.0.0.1-10.0.0.9"], "read as the IPv4 range"), MAPPED),
    dev("::ffff:10.0.0.0 + 0", Accept(&["10.0.0.0"], "read as the IPv4 range"), MAPPED),
    dev("::ffff:10.0.0.0 + 255", Accept(&["10.0.0.0/24"], "read as the IPv4 range"), MAPPED),
    dev("::ffff:255.255.255.0 + 255", Accept(&["255.255.255.0/24"], "read as the IPv4 range"), MAPPED),

    // Netmasks: the prefix they denote when contiguous, an error otherwise.
    dev("10.0.0.0/255.255.255.0", Accept(&["10.0.0.0/24"], "netmask read as 10.0.0.0/24"), NETMASK),
    dev("10.0.0.0/255.0.0.0", Accept(&["10.0.0.0/8"], "netmask read as"), NETMASK),
    dev("10.0.0.0/255.255.255.254", Accept(&["10.0.0.0/31"], "netmask read as"), NETMASK),
    dev("0.0.0.0/0.0.0.0", Accept(&["0.0.0.0/0"], "netmask read as"), NETMASK),
    dev("::/ffff::", Accept(&["::/16"], "netmask read as"), NETMASK),
    dev("2001:db8::/ffff:ffff::", Accept(&["2001:db8::/32"], "netmask read as"), NETMASK),
    dev("2001:db8::/ffff:ffff:0:0:0:0:0:0", Accept(&["2001:db8::/32"], "netmask read as"), NETMASK),
    dev("10.0.0.0/0.0.0.0", Refuse("host bits set"), NETMASK),
    dev("192.168.1.5/255.255.255.0", Refuse("did you mean the network 192.168.1.0/24"), NETMASK),
    dev("10.0.0.0/255.0.255.0", Refuse("not contiguous"), NETMASK),
    dev("10.0.0.0/0.255.255.255", Refuse("not contiguous"), NETMASK),
    dev("2001:db8::/ffff:0:ffff::", Refuse("not contiguous"), NETMASK),

    // Any other suffix after '/': an error, never a silent /32.
    dev("10.0.0.0/24;x", Refuse("neither a prefix length nor a netmask"), SUFFIX),
    dev("10.0.0.0/24;", Refuse("neither a prefix length nor a netmask"), SUFFIX),
    dev("10.0.0.0/24x", Refuse("neither a prefix length nor a netmask"), SUFFIX),
    dev("10.0.0.0/abc", Refuse("neither a prefix length nor a netmask"), SUFFIX),
    dev("10.0.0.0//8", Refuse("neither a prefix length nor a netmask"), SUFFIX),
    dev("10.0.0.0/8/", Refuse("neither a prefix length nor a netmask"), SUFFIX),
    dev("10.0.0.0/8/16", Refuse("neither a prefix length nor a netmask"), SUFFIX),
    dev("10.0.0.0/-8", Refuse("neither a prefix length nor a netmask"), SUFFIX),
    dev("10.0.0.0/+8", Refuse("neither a prefix length nor a netmask"), SUFFIX),
    dev("10.0.0.0/0x18", Refuse("neither a prefix length nor a netmask"), SUFFIX),
    dev("10.0.0.0/8#comment", Refuse("neither a prefix length nor a netmask"), SUFFIX),
    dev("10.0.0.0/8-10.0.0.5", Refuse("neither a prefix length nor a netmask"), SUFFIX),
    dev("10.0.0.0/24-10.0.1.0", Refuse("neither a prefix length nor a netmask"), SUFFIX),
    dev("10.0.0.0/255.255.255.256", Refuse("neither a prefix length nor a netmask"), SUFFIX),
    dev("10.0.0.0/255.255", Refuse("neither a prefix length nor a netmask"), SUFFIX),
    dev("2001:db8::/64/", Refuse("neither a prefix length nor a netmask"), SUFFIX),

    // Short forms as range ends.
    dev("10.0.0.5-20", Refuse("reads as 20.0.0.0"), SHORT_RANGE),
    dev("10.1-10.2", Refuse("short form"), SHORT_RANGE),
    dev("0.0.0.0-0", Refuse("short form"), SHORT_RANGE),

    // Range ends Net::IP does not validate.
    dev("10.0.0.1-10.0.1.", Refuse("a dotted part is empty"), RANGE_END),
    dev("10.0.0.1-10.0.0.9.", Refuse("a dotted part is empty"), RANGE_END),
    dev("1::1-1.2.3.4::", Refuse("must be the last group"), RANGE_END),

    // Counts that are not plain decimal.
    dev("10.0.0.0 + abc", Refuse("not a decimal number"), COUNT),
    dev("10.0.0.0 + 5.5", Refuse("not a decimal number"), COUNT),
    dev("10.0.0.0 + inf", Refuse("not a decimal number"), COUNT),
    dev("10.0.0.0 + NaN", Refuse("not a decimal number"), COUNT),
    dev("10.0.0.0 + 5 + 6", Refuse("not a decimal number"), COUNT),
    dev("10.0.0.0 + 0x10", Refuse("not a decimal number"), COUNT),
    dev("10.0.0.0 + 0X1f", Refuse("not a decimal number"), COUNT),
    dev(":: + 0xffff", Refuse("not a decimal number"), COUNT),
    dev("10.0.0.0 + 0b101", Refuse("not a decimal number"), COUNT),
    dev("10.0.0.0 + 1e3", Refuse("not a decimal number"), COUNT),
    dev("10.0.0.0 + 1_000", Refuse("not a decimal number"), COUNT),
    dev("10.0.0.0 + 5.0", Refuse("not a decimal number"), COUNT),
    dev("10.0.0.0 + +5", Refuse("not a decimal number"), COUNT),
];

/// What Proxmox VE (per the oracle) or corral does with one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Accepted(Vec<AddrRange>),
    Refused(String),
}

fn unescape(field: &str) -> String {
    if field == "\\e" {
        return String::new();
    }
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('s') => out.push(' '),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

fn oracle_range(family: &str, first: &str, last: &str) -> AddrRange {
    let first: IpAddr = first.parse().expect("oracle address");
    let last: IpAddr = last.parse().expect("oracle address");
    match (family, first, last) {
        ("v4", IpAddr::V4(first), IpAddr::V4(last)) => AddrRange::V4 { first, last },
        ("v6", IpAddr::V6(first), IpAddr::V6(last)) => AddrRange::V6 { first, last },
        _ => panic!("oracle line with family {family} and {first} - {last}"),
    }
}

/// The oracle's verdicts, in corpus order.
fn oracle() -> Vec<(String, Outcome)> {
    ORACLE
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let entry = unescape(fields[0]);
            let outcome = match fields[1] {
                "ok" => Outcome::Accepted(
                    fields[2..]
                        .chunks(3)
                        .map(|range| oracle_range(range[0], range[1], range[2]))
                        .collect(),
                ),
                "err" => Outcome::Refused(fields[2..].join(" ")),
                other => panic!("oracle line with verdict {other}: {line}"),
            };
            (entry, outcome)
        })
        .collect()
}

fn ours(entry: &str) -> (Outcome, Vec<EntryWarning>) {
    match parse_entry(entry) {
        Ok(parsed) => (Outcome::Accepted(parsed.ranges), parsed.warnings),
        Err(error) => (Outcome::Refused(error.to_string()), Vec::new()),
    }
}

fn agrees(oracle: &Outcome, ours: &Outcome) -> bool {
    match (oracle, ours) {
        (Outcome::Accepted(theirs), Outcome::Accepted(ours)) => theirs == ours,
        (Outcome::Refused(_), Outcome::Refused(_)) => true,
        _ => false,
    }
}

fn show(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Accepted(ranges) => {
            let ranges: Vec<String> = ranges.iter().map(ToString::to_string).collect();
            format!("accepts {}", ranges.join(" and "))
        }
        Outcome::Refused(message) => format!("refuses ({message})"),
    }
}

/// Whether we did exactly what the deviation row says.
fn does_instead(
    instead: Instead,
    outcome: &Outcome,
    warnings: &[EntryWarning],
) -> Result<(), String> {
    match (instead, outcome) {
        (Accept(expected, warning), Outcome::Accepted(ranges)) => {
            let shown: Vec<String> = ranges.iter().map(ToString::to_string).collect();
            if shown != expected {
                return Err(format!("accepted as {shown:?}, table says {expected:?}"));
            }
            let texts: Vec<String> = warnings.iter().map(ToString::to_string).collect();
            if !warning.is_empty() && !texts.iter().any(|text| text.contains(warning)) {
                return Err(format!("warnings {texts:?} do not mention {warning:?}"));
            }
            Ok(())
        }
        (Refuse(words), Outcome::Refused(message)) if message.contains(words) => Ok(()),
        (Refuse(words), Outcome::Refused(message)) => Err(format!(
            "refused with {message:?}, which does not mention {words:?}"
        )),
        (_, outcome) => Err(format!("{}, table says {instead:?}", show(outcome))),
    }
}

#[test]
fn every_entry_matches_net_ip_or_its_listed_deviation() {
    let deviations: BTreeMap<&str, &Deviation> =
        DEVIATIONS.iter().map(|row| (row.entry, row)).collect();
    assert_eq!(
        deviations.len(),
        DEVIATIONS.len(),
        "an entry is listed twice in DEVIATIONS"
    );
    let oracle = oracle();
    assert!(
        oracle.len() >= 150,
        "the corpus has shrunk to {} entries",
        oracle.len()
    );

    let mut failures = Vec::new();
    for (entry, theirs) in &oracle {
        let (ours, warnings) = ours(entry);
        let verdict = match deviations.get(entry.as_str()) {
            // Where Proxmox VE reads an entry the same way, there is nothing to warn about.
            None if agrees(theirs, &ours) && !warnings.is_empty() => {
                Err(format!("agrees with Net::IP but warns {warnings:?}"))
            }
            None if agrees(theirs, &ours) => Ok(()),
            None => Err(format!("Net::IP {}, we {}", show(theirs), show(&ours))),
            Some(_) if agrees(theirs, &ours) => Err(format!(
                "listed as a deviation, but we agree with Net::IP ({})",
                show(theirs)
            )),
            Some(row) => does_instead(row.instead, &ours, &warnings),
        };
        if let Err(why) = verdict {
            failures.push(format!("{entry:?}: {why}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_deviation_is_in_the_corpus() {
    let entries: Vec<String> = oracle().into_iter().map(|(entry, _)| entry).collect();
    for row in DEVIATIONS {
        assert!(
            entries.iter().any(|entry| entry == row.entry),
            "{:?} is in DEVIATIONS but not in fixtures/netip-entries.txt",
            row.entry
        );
        assert!(!row.why.is_empty());
    }
}

/// Where both refuse, our message should help more than "Invalid chars in IP".
#[test]
fn refusals_name_the_problem() {
    let expectations = [
        ("ALL", "write 'all' in lowercase"),
        ("All", "write 'all' in lowercase"),
        ("192.168.1.5/24", "did you mean the network 192.168.1.0/24"),
        ("10.0.0.9-10.0.0.1", "runs backwards"),
        ("1.2.3.4/33", "longer than the 32 bits"),
        ("fe80::1%eth0", "zone id"),
        ("10.0.0.0+5", "'a + n'"),
        ("10.0.0.1 10.0.0.2", "separate entries with commas"),
        ("10.0.0.1;10.0.0.2", "separate entries with commas"),
        ("10.0.0.1-::1", "mixes an IPv4 and an IPv6"),
        ("1:2:3:4:5:6:7::", "write that group as 0"),
        ("255.255.255.250 + 10", "runs past the last IPv4 address"),
        ("", "empty entry"),
    ];
    for (entry, words) in expectations {
        let message = parse_entry(entry)
            .map(|_| String::new())
            .unwrap_or_else(|e| e.to_string());
        assert!(
            message.contains(words),
            "{entry:?}: {message:?} should mention {words:?}"
        );
    }
}

const WHITESPACE_LAST: &str = "A last element of only whitespace (\"a, \", or a value of only \
     whitespace) is ignored. Perl's split keeps it and Net::IP refuses it, so Proxmox VE refuses \
     to start; its meaning is plain. A warning says Proxmox VE would refuse it. Anywhere else an \
     element of only whitespace is an empty entry, an error in both.";

/// Whole list values where corral deliberately does not do what Proxmox VE does (`split(/,/)`
/// then Net::IP on every element): the value, how many entries corral reads, and the words of
/// the warning it gives instead of refusing.
#[rustfmt::skip]
const LIST_DEVIATIONS: &[(&str, usize, &str, &str)] = &[
    ("10.0.0.1, ", 1, "only whitespace at the end of the list is ignored here, but Proxmox VE refuses it", WHITESPACE_LAST),
    ("10.0.0.1,\t", 1, "Proxmox VE refuses it", WHITESPACE_LAST),
    ("10.0.0.1, ,", 1, "Proxmox VE refuses it", WHITESPACE_LAST),
    (" ", 0, "Proxmox VE refuses it", WHITESPACE_LAST),
];

#[test]
fn every_list_deviation_is_read_as_listed() {
    use corral_core::acl::AddrList;

    for (value, count, words, why) in LIST_DEVIATIONS {
        let parsed = AddrList::parse(value).unwrap_or_else(|e| panic!("{value:?}: {e:?}"));
        assert_eq!(parsed.list.entries().len(), *count, "{value:?}");
        let warnings: Vec<String> = parsed.warnings.iter().map(ToString::to_string).collect();
        assert!(
            warnings.iter().any(|w| w.contains(words)),
            "{value:?}: {warnings:?} should mention {words:?}"
        );
        assert!(!why.is_empty());
    }
}

/// The list around the entries: `split(/,/, $value)`, which drops trailing empty fields.
#[test]
fn list_splitting_matches_perl_split() {
    use corral_core::acl::AddrList;

    let entries = |value: &str| {
        AddrList::parse(value)
            .unwrap_or_else(|errors| panic!("{value:?}: {errors:?}"))
            .list
            .entries()
            .len()
    };
    assert_eq!(entries(""), 0, "an empty value is an empty list");
    assert_eq!(entries("10.0.0.1,"), 1, "a trailing comma is harmless");
    assert_eq!(entries("10.0.0.1,,,"), 1, "so are several");
    assert_eq!(entries("10.0.0.1,all"), 3, "'all' is one entry per family");
    // A last element of only whitespace: see LIST_DEVIATIONS.

    for (value, position) in [
        (",10.0.0.1", 1),
        (" ,10.0.0.1", 1),
        ("10.0.0.1,,10.0.0.2", 2),
        ("10.0.0.1, ,10.0.0.2", 2),
        ("10.0.0.1,, ", 2),
    ] {
        let errors = AddrList::parse(value).expect_err(value);
        assert_eq!(errors[0].position, position, "{value:?}");
        assert!(errors[0].to_string().contains("empty entry"), "{value:?}");
    }
    let errors = AddrList::parse(",ALL,10.0.0.1,192.168.1.5/24").expect_err("three bad entries");
    let positions: Vec<usize> = errors.iter().map(|error| error.position).collect();
    assert_eq!(positions, vec![1, 2, 4], "every bad entry is reported");
}
