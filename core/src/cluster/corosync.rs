//! `/etc/pve/corosync.conf`: the cluster's name, configuration version and member list, read as
//! pve-cluster's `PVE::Corosync::parse_conf` reads it.
//!
//! The format, as Proxmox writes it:
//!
//! ```text
//! nodelist {
//!   node {
//!     name: pve1
//!     nodeid: 1
//!     quorum_votes: 1
//!     ring0_addr: 192.168.1.11
//!   }
//! }
//!
//! totem {
//!   cluster_name: demo
//!   config_version: 3
//! }
//! ```
//!
//! Sections (`name {` … `}`) nest; inside them are `key: value` lines, `#` comment lines and
//! blank lines, with free whitespace around every token. Only `node` and `interface` sections
//! may repeat (Proxmox's `$conf_array_sections`). A node is known by its `name`, else (as
//! Proxmox falls back) by its `ring0_addr`; `quorum_votes` defaults to 1.
//!
//! Where Proxmox's token reader and corosync's line reader would read a line differently (a
//! `#` after a value, a value with a space, an empty value that Proxmox would fill with the next
//! token), or where the file is ambiguous (a key set twice, a duplicate node name or id), the
//! file is refused with the line and the problem: a wrong member list is worse than none.

use std::collections::BTreeMap;

use crate::api::schema::is_node_name;
use crate::config::display::printable;

/// Where Proxmox keeps the file (the cluster-wide copy pmxcfs serves).
pub const PATH: &str = "/etc/pve/corosync.conf";

/// Sections that may appear more than once in one parent (Proxmox's `$conf_array_sections`).
const REPEATABLE_SECTIONS: [&str; 2] = ["node", "interface"];

/// The deepest nesting accepted. Proxmox writes two levels (`nodelist { node { … } }`); the
/// bound only keeps garbage from building an arbitrarily deep tree.
pub const DEPTH_MAX: usize = 8;

/// Who is in the cluster, as `corosync.conf` says (or a cluster of one without it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// `totem.cluster_name`; empty for a single node without `corosync.conf`.
    pub cluster_name: String,
    /// `totem.config_version` (0 when the file does not set it, as corosync defaults).
    pub config_version: u64,
    /// Every `nodelist.node`, sorted by name.
    pub nodes: Vec<Member>,
}

/// One `nodelist.node` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// `name`, else `ring0_addr`; always a valid node name.
    pub name: String,
    /// `nodeid` (never 0 in a parsed file; 0 for [`Membership::single`]).
    pub nodeid: u32,
    /// `quorum_votes`, 1 when not set.
    pub votes: u32,
    /// `ring0_addr` as written (address or host name); empty when not set.
    pub ring0_addr: String,
}

impl Membership {
    /// The membership of a node without `corosync.conf`: a cluster of one, nodeid 0, one vote,
    /// no address, no cluster name.
    pub fn single(node: &str) -> Membership {
        Membership {
            cluster_name: String::new(),
            config_version: 0,
            nodes: vec![Member {
                name: node.to_owned(),
                nodeid: 0,
                votes: 1,
                ring0_addr: String::new(),
            }],
        }
    }

    /// The member called `name`.
    pub fn member(&self, name: &str) -> Option<&Member> {
        self.nodes.iter().find(|member| member.name == name)
    }

    /// Whether this came from a `corosync.conf` (which always names the cluster) rather than
    /// [`Membership::single`].
    pub fn is_cluster(&self) -> bool {
        !self.cluster_name.is_empty()
    }

    /// The sum of every member's votes (saturating: votes come from the file).
    pub fn total_votes(&self) -> u32 {
        self.nodes
            .iter()
            .fold(0u32, |sum, member| sum.saturating_add(member.votes))
    }
}

/// Why `corosync.conf` was refused. Display names the line (1-based) where there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CorosyncError {
    #[error("line {line}: unbalanced '}}'")]
    UnbalancedClose { line: usize },
    #[error("line {line}: section '{name}' is never closed")]
    Unclosed { line: usize, name: String },
    #[error("line {line}: '{}' is neither 'key: value', 'name {{' nor '}}'", printable(.text))]
    Garbled { line: usize, text: String },
    #[error(
        "line {line}: '#' after '{}': corosync keeps it in the value, Proxmox drops it as a \
         comment; put comments on lines of their own",
        printable(.text)
    )]
    TrailingComment { line: usize, text: String },
    #[error("line {line}: '{}' has no value", printable(.key))]
    NoValue { line: usize, key: String },
    #[error(
        "line {line}: the value of '{key}' has a space ('{}'); corosync.conf values are single \
         words",
        printable(.value)
    )]
    ValueWithSpace {
        line: usize,
        key: String,
        value: String,
    },
    #[error("line {line}: '{key}' is set again in this section (first on line {first})")]
    DuplicateKey {
        line: usize,
        key: String,
        first: usize,
    },
    #[error(
        "line {line}: a second '{name}' section (first on line {first}); only 'node' and \
         'interface' may repeat"
    )]
    DuplicateSection {
        line: usize,
        name: String,
        first: usize,
    },
    #[error("line {line}: a '{name}' section belongs {expected}")]
    Misplaced {
        line: usize,
        name: String,
        expected: &'static str,
    },
    #[error("line {line}: sections nest deeper than {DEPTH_MAX} levels")]
    TooDeep { line: usize },
    #[error("no totem section")]
    NoTotem,
    #[error("line {line}: totem has no cluster_name")]
    NoClusterName { line: usize },
    #[error("no nodelist section")]
    NoNodelist,
    #[error("line {line}: nodelist has no node")]
    NoNodes { line: usize },
    #[error("line {line}: node has neither name nor ring0_addr")]
    Nameless { line: usize },
    #[error("line {line}: node name '{}' is not a valid node name", printable(.name))]
    InvalidName { line: usize, name: String },
    #[error("line {line}: node '{node}': no nodeid")]
    NoNodeid { line: usize, node: String },
    #[error("line {line}: node '{node}': nodeid 0 is reserved (ids start at 1)")]
    NodeidZero { line: usize, node: String },
    #[error("line {line}: {key} '{}' is not a number from 0 to {max}", printable(.value))]
    NotANumber {
        line: usize,
        key: &'static str,
        value: String,
        max: u64,
    },
    #[error("line {line}: node name '{name}' used twice (first on line {first})")]
    DuplicateName {
        line: usize,
        name: String,
        first: usize,
    },
    #[error("line {line}: nodeid {nodeid} used by {first} and {second}")]
    DuplicateNodeid {
        line: usize,
        nodeid: u32,
        first: String,
        second: String,
    },
}

impl CorosyncError {
    /// The 1-based line the problem is on, when it is on one.
    pub fn line(&self) -> Option<usize> {
        match self {
            CorosyncError::NoTotem | CorosyncError::NoNodelist => None,
            CorosyncError::UnbalancedClose { line }
            | CorosyncError::Unclosed { line, .. }
            | CorosyncError::Garbled { line, .. }
            | CorosyncError::TrailingComment { line, .. }
            | CorosyncError::NoValue { line, .. }
            | CorosyncError::ValueWithSpace { line, .. }
            | CorosyncError::DuplicateKey { line, .. }
            | CorosyncError::DuplicateSection { line, .. }
            | CorosyncError::Misplaced { line, .. }
            | CorosyncError::TooDeep { line }
            | CorosyncError::NoClusterName { line }
            | CorosyncError::NoNodes { line }
            | CorosyncError::Nameless { line }
            | CorosyncError::InvalidName { line, .. }
            | CorosyncError::NoNodeid { line, .. }
            | CorosyncError::NodeidZero { line, .. }
            | CorosyncError::NotANumber { line, .. }
            | CorosyncError::DuplicateName { line, .. }
            | CorosyncError::DuplicateNodeid { line, .. } => Some(*line),
        }
    }
}

/// Reads `corosync.conf` into the membership, or says which line is wrong and why.
pub fn parse(text: &str) -> Result<Membership, CorosyncError> {
    let root = read_tree(text)?;
    let totem = root.only_child("totem").ok_or(CorosyncError::NoTotem)?;
    let nodelist = root
        .only_child("nodelist")
        .ok_or(CorosyncError::NoNodelist)?;
    let cluster_name = totem
        .value("cluster_name")
        .ok_or(CorosyncError::NoClusterName { line: totem.line })?
        .to_owned();
    let config_version = match totem.entry("config_version") {
        Some(entry) => parse_number(entry, "config_version", u64::MAX)?,
        None => 0,
    };
    Ok(Membership {
        cluster_name,
        config_version,
        nodes: members(nodelist)?,
    })
}

/// `corosync.conf` for `membership`, as `pvecm create` and `pvecm add` leave it: the format
/// of this module's example with sections sorted and Proxmox's `logging`, `quorum` and
/// `totem` settings; the nodes in the order given, each with its `quorum_votes` and, when it
/// has one, its `ring0_addr`. [`parse`] reads it back (to the nodes sorted by name) for any
/// membership it could have read.
pub fn render(membership: &Membership) -> String {
    let mut text = String::from("logging {\n  debug: off\n  to_syslog: yes\n}\n\nnodelist {\n");
    for member in &membership.nodes {
        text.push_str(&format!(
            "  node {{\n    name: {}\n    nodeid: {}\n    quorum_votes: {}\n",
            member.name, member.nodeid, member.votes
        ));
        if !member.ring0_addr.is_empty() {
            text.push_str(&format!("    ring0_addr: {}\n", member.ring0_addr));
        }
        text.push_str("  }\n");
    }
    text.push_str(&format!(
        "}}\n\nquorum {{\n  provider: corosync_votequorum\n}}\n\ntotem {{\n  cluster_name: \
         {}\n  config_version: {}\n  interface {{\n    linknumber: 0\n  }}\n  \
         ip_version: ipv4-6\n  link_mode: passive\n  secauth: on\n  version: 2\n}}\n",
        membership.cluster_name, membership.config_version
    ));
    text
}

/// One `name { … }` section; the root is the nameless section holding the whole file.
#[derive(Debug, Default)]
struct Section {
    name: String,
    /// Where it was opened (0 for the root).
    line: usize,
    /// Key → value and line, each key at most once.
    entries: BTreeMap<String, Entry>,
    /// Nested sections in file order.
    children: Vec<Section>,
}

#[derive(Debug)]
struct Entry {
    value: String,
    line: usize,
}

impl Section {
    fn only_child(&self, name: &str) -> Option<&Section> {
        self.children.iter().find(|child| child.name == name)
    }

    fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.get(key)
    }

    fn value(&self, key: &str) -> Option<&str> {
        self.entry(key).map(|entry| entry.value.as_str())
    }
}

/// What one line of the file is.
enum Line<'a> {
    Blank,
    Open(&'a str),
    Close,
    Pair(&'a str, &'a str),
}

/// The file as a tree of sections, with every structural problem refused.
fn read_tree(text: &str) -> Result<Section, CorosyncError> {
    // stack[0] is the root; the last element is the section being read.
    let mut stack = vec![Section::default()];
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        match classify(line, raw)? {
            Line::Blank => {}
            Line::Open(name) => open_section(&mut stack, line, name)?,
            Line::Close => close_section(&mut stack, line)?,
            Line::Pair(key, value) => add_entry(&mut stack, line, key, value)?,
        }
    }
    if let [_, .., open] = stack.as_slice() {
        return Err(CorosyncError::Unclosed {
            line: open.line,
            name: open.name.clone(),
        });
    }
    Ok(stack.into_iter().next().unwrap_or_default())
}

fn classify(line: usize, raw: &str) -> Result<Line<'_>, CorosyncError> {
    let text = raw.trim();
    if text.is_empty() || text.starts_with('#') {
        return Ok(Line::Blank);
    }
    if let Some((before, _)) = text.split_once('#') {
        return Err(CorosyncError::TrailingComment {
            line,
            text: before.trim_end().to_owned(),
        });
    }
    let garbled = || CorosyncError::Garbled {
        line,
        text: text.to_owned(),
    };
    if text == "}" {
        return Ok(Line::Close);
    }
    if let Some(name) = text.strip_suffix('{') {
        let name = name.trim_end();
        return if is_word(name) {
            Ok(Line::Open(name))
        } else {
            Err(garbled())
        };
    }
    let Some((key, value)) = text.split_once(':') else {
        return Err(garbled());
    };
    let (key, value) = (key.trim_end(), value.trim_start());
    if !is_word(key) || value.contains(['{', '}']) {
        return Err(garbled());
    }
    if value.is_empty() {
        return Err(CorosyncError::NoValue {
            line,
            key: key.to_owned(),
        });
    }
    if value.contains(char::is_whitespace) {
        return Err(CorosyncError::ValueWithSpace {
            line,
            key: key.to_owned(),
            value: value.to_owned(),
        });
    }
    Ok(Line::Pair(key, value))
}

/// A section name or key: one word without the characters that structure the file.
fn is_word(text: &str) -> bool {
    !text.is_empty()
        && !text.contains(|c: char| c.is_whitespace() || matches!(c, '{' | '}' | ':' | '#'))
}

fn open_section(stack: &mut Vec<Section>, line: usize, name: &str) -> Result<(), CorosyncError> {
    if stack.len() > DEPTH_MAX {
        return Err(CorosyncError::TooDeep { line });
    }
    let Some(parent) = stack.last() else {
        return Err(CorosyncError::UnbalancedClose { line });
    };
    check_placement(parent, stack.len(), line, name)?;
    if !REPEATABLE_SECTIONS.contains(&name)
        && let Some(first) = parent.only_child(name)
    {
        return Err(CorosyncError::DuplicateSection {
            line,
            name: name.to_owned(),
            first: first.line,
        });
    }
    stack.push(Section {
        name: name.to_owned(),
        line,
        ..Section::default()
    });
    Ok(())
}

/// `nodelist` only at the top and `node` only inside it, as corosync requires: a node anywhere
/// else would be silently left out of the membership.
fn check_placement(
    parent: &Section,
    depth: usize,
    line: usize,
    name: &str,
) -> Result<(), CorosyncError> {
    let misplaced = |expected| {
        Err(CorosyncError::Misplaced {
            line,
            name: name.to_owned(),
            expected,
        })
    };
    match name {
        "nodelist" if depth != 1 => misplaced("at the top level"),
        "node" if depth != 2 || parent.name != "nodelist" => misplaced("inside nodelist"),
        _ => Ok(()),
    }
}

fn close_section(stack: &mut Vec<Section>, line: usize) -> Result<(), CorosyncError> {
    if stack.len() < 2 {
        return Err(CorosyncError::UnbalancedClose { line });
    }
    let closed = stack.pop();
    match (closed, stack.last_mut()) {
        (Some(closed), Some(parent)) => {
            parent.children.push(closed);
            Ok(())
        }
        _ => Err(CorosyncError::UnbalancedClose { line }),
    }
}

fn add_entry(
    stack: &mut [Section],
    line: usize,
    key: &str,
    value: &str,
) -> Result<(), CorosyncError> {
    let Some(section) = stack.last_mut() else {
        return Err(CorosyncError::UnbalancedClose { line });
    };
    if let Some(first) = section.entries.get(key) {
        return Err(CorosyncError::DuplicateKey {
            line,
            key: key.to_owned(),
            first: first.line,
        });
    }
    section.entries.insert(
        key.to_owned(),
        Entry {
            value: value.to_owned(),
            line,
        },
    );
    Ok(())
}

/// Every `nodelist.node`, checked and sorted by name.
fn members(nodelist: &Section) -> Result<Vec<Member>, CorosyncError> {
    let sections: Vec<&Section> = nodelist
        .children
        .iter()
        .filter(|child| child.name == "node")
        .collect();
    if sections.is_empty() {
        return Err(CorosyncError::NoNodes {
            line: nodelist.line,
        });
    }
    // name → line, nodeid → name: the first of each, for the duplicate messages.
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    let mut ids: BTreeMap<u32, String> = BTreeMap::new();
    let mut nodes = Vec::with_capacity(sections.len());
    for section in sections {
        let member = member(section)?;
        if let Some(first) = names.insert(member.name.clone(), section.line) {
            return Err(CorosyncError::DuplicateName {
                line: section.line,
                name: member.name,
                first,
            });
        }
        if let Some(first) = ids.insert(member.nodeid, member.name.clone()) {
            return Err(CorosyncError::DuplicateNodeid {
                line: section.line,
                nodeid: member.nodeid,
                first,
                second: member.name,
            });
        }
        nodes.push(member);
    }
    nodes.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(nodes)
}

fn member(section: &Section) -> Result<Member, CorosyncError> {
    let line = section.line;
    let ring0_addr = section.value("ring0_addr").unwrap_or_default();
    let name = section
        .value("name")
        .or(section.value("ring0_addr"))
        .ok_or(CorosyncError::Nameless { line })?;
    if !is_node_name(name) {
        return Err(CorosyncError::InvalidName {
            line,
            name: name.to_owned(),
        });
    }
    let nodeid_entry = section.entry("nodeid").ok_or(CorosyncError::NoNodeid {
        line,
        node: name.to_owned(),
    })?;
    let nodeid = parse_u32(nodeid_entry, "nodeid")?;
    if nodeid == 0 {
        return Err(CorosyncError::NodeidZero {
            line: nodeid_entry.line,
            node: name.to_owned(),
        });
    }
    let votes = match section.entry("quorum_votes") {
        Some(entry) => parse_u32(entry, "quorum_votes")?,
        None => 1,
    };
    Ok(Member {
        name: name.to_owned(),
        nodeid,
        votes,
        ring0_addr: ring0_addr.to_owned(),
    })
}

fn parse_u32(entry: &Entry, key: &'static str) -> Result<u32, CorosyncError> {
    let number = parse_number(entry, key, u64::from(u32::MAX))?;
    // parse_number keeps to the bound, so this conversion cannot fail.
    Ok(u32::try_from(number).unwrap_or(u32::MAX))
}

/// A decimal number of ASCII digits up to `max` (no sign, no spaces, no hex: what Proxmox
/// writes, and nothing corosync's and Perl's readings could disagree on).
fn parse_number(entry: &Entry, key: &'static str, max: u64) -> Result<u64, CorosyncError> {
    let refuse = || CorosyncError::NotANumber {
        line: entry.line,
        key,
        value: entry.value.clone(),
        max,
    };
    if !entry.value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refuse());
    }
    match entry.value.parse::<u64>() {
        Ok(number) if number <= max => Ok(number),
        _ => Err(refuse()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A three-node cluster as `pvecm create` / `pvecm add` write it (PVE 8).
    const THREE_NODES: &str = "\
logging {
  debug: off
  to_syslog: yes
}

nodelist {
  node {
    name: pve1
    nodeid: 1
    quorum_votes: 1
    ring0_addr: 192.168.1.11
  }
  node {
    name: pve3
    nodeid: 3
    quorum_votes: 1
    ring0_addr: 192.168.1.13
  }
  node {
    name: pve2
    nodeid: 2
    quorum_votes: 1
    ring0_addr: 192.168.1.12
  }
}

quorum {
  provider: corosync_votequorum
}

totem {
  cluster_name: demo
  config_version: 3
  interface {
    linknumber: 0
  }
  ip_version: ipv4-6
  link_mode: passive
  secauth: on
  version: 2
}
";

    fn error(text: &str) -> String {
        match parse(text) {
            Ok(membership) => panic!("parsed, expected an error: {membership:?}"),
            Err(error) => error.to_string(),
        }
    }

    /// THREE_NODES with one line replaced (1-based).
    fn with_line(line: usize, replacement: &str) -> String {
        let mut lines: Vec<&str> = THREE_NODES.lines().collect();
        lines[line - 1] = replacement;
        lines.join("\n")
    }

    #[test]
    fn reads_a_cluster_as_proxmox_writes_it() {
        let membership = parse(THREE_NODES).expect("reads");
        assert_eq!(membership.cluster_name, "demo");
        assert_eq!(membership.config_version, 3);
        let names: Vec<&str> = membership.nodes.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["pve1", "pve2", "pve3"], "sorted by name");
        assert_eq!(
            membership.member("pve2"),
            Some(&Member {
                name: "pve2".into(),
                nodeid: 2,
                votes: 1,
                ring0_addr: "192.168.1.12".into(),
            })
        );
        assert!(membership.is_cluster());
        assert_eq!(membership.total_votes(), 3);
        assert_eq!(membership.member("pve4"), None);
    }

    #[test]
    fn render_writes_proxmox_s_format_and_parse_reads_it_back() {
        let membership = parse(THREE_NODES).expect("reads");
        let mut lines: Vec<&str> = THREE_NODES.lines().collect();
        // Lines 13 to 24 are pve3's and pve2's node sections: pve2's first.
        lines[12..24].rotate_left(6);
        let sorted = lines.join("\n") + "\n";
        assert_eq!(
            render(&membership),
            sorted,
            "the file with its nodes sorted"
        );
        let odd = Membership {
            cluster_name: "lab".into(),
            config_version: u64::MAX,
            nodes: vec![
                Member {
                    name: "n2".into(),
                    nodeid: u32::MAX,
                    votes: 0,
                    ring0_addr: String::new(),
                },
                Member {
                    name: "n1".into(),
                    nodeid: 7,
                    votes: 3,
                    ring0_addr: "fe80::1".into(),
                },
            ],
        };
        let mut read = parse(&render(&odd)).expect("reads");
        read.nodes.reverse();
        assert_eq!(read, odd);
    }

    #[test]
    fn whitespace_comments_and_crlf_are_free() {
        let text = "# written by hand\r\n\
                    totem{\r\n\
                    \tcluster_name:lab\r\n\
                    \t  config_version :  12  \r\n\
                    }\r\n\
                    \r\n\
                    nodelist {\n\
                    \x20   # the only node\n\
                    \x20   node {\n\
                    \x20     ring0_addr: fe80::1\n\
                    \x20     name: n1\n\
                    \x20     nodeid: 7\n\
                    \x20     quorum_votes: 3\n\
                    \x20   }\n\
                    }";
        let membership = parse(text).expect("reads");
        assert_eq!(membership.cluster_name, "lab");
        assert_eq!(membership.config_version, 12);
        assert_eq!(
            membership.nodes,
            [Member {
                name: "n1".into(),
                nodeid: 7,
                votes: 3,
                ring0_addr: "fe80::1".into(),
            }]
        );
        assert_eq!(membership.total_votes(), 3);
    }

    #[test]
    fn a_node_without_name_is_known_by_its_ring0_addr_and_votes_default_to_one() {
        let text = "totem {\n cluster_name: old\n}\nnodelist {\n node {\n  ring0_addr: oldhost\n  nodeid: 4\n }\n}\n";
        let membership = parse(text).expect("reads");
        assert_eq!(membership.config_version, 0, "corosync's default");
        assert_eq!(
            membership.nodes,
            [Member {
                name: "oldhost".into(),
                nodeid: 4,
                votes: 1,
                ring0_addr: "oldhost".into(),
            }]
        );
    }

    #[test]
    fn single_is_a_cluster_of_one() {
        let membership = Membership::single("pve1");
        assert!(!membership.is_cluster());
        assert_eq!(membership.cluster_name, "");
        assert_eq!(membership.total_votes(), 1);
        assert_eq!(
            membership.member("pve1"),
            Some(&Member {
                name: "pve1".into(),
                nodeid: 0,
                votes: 1,
                ring0_addr: String::new(),
            })
        );
    }

    #[test]
    fn structural_errors_name_their_line() {
        assert_eq!(error("totem {\n}\n}\n"), "line 3: unbalanced '}'");
        assert_eq!(
            error("totem {\n cluster_name: x\n}\nnodelist {\n node {\n"),
            "line 5: section 'node' is never closed"
        );
        assert_eq!(
            error(&with_line(9, "    nodeid 1")),
            "line 9: 'nodeid 1' is neither 'key: value', 'name {' nor '}'"
        );
        assert_eq!(
            error(&with_line(9, "    nodeid: 1 }")),
            "line 9: 'nodeid: 1 }' is neither 'key: value', 'name {' nor '}'"
        );
        assert_eq!(
            error(&with_line(9, "    nodeid:")),
            "line 9: 'nodeid' has no value"
        );
        assert_eq!(
            error(&with_line(32, "  cluster_name: my cluster")),
            "line 32: the value of 'cluster_name' has a space ('my cluster'); corosync.conf \
             values are single words"
        );
        assert_eq!(
            error(&with_line(9, "    nodeid: 1 # first")),
            "line 9: '#' after 'nodeid: 1': corosync keeps it in the value, Proxmox drops it as \
             a comment; put comments on lines of their own"
        );
        assert_eq!(
            error(&with_line(10, "    nodeid: 1")),
            "line 10: 'nodeid' is set again in this section (first on line 9)"
        );
        assert_eq!(
            error(&with_line(29, "}\nquorum {\n  provider: x\n}")),
            "line 30: a second 'quorum' section (first on line 27); only 'node' and 'interface' \
             may repeat"
        );
        assert_eq!(
            error("totem {\n cluster_name: x\n node {\n  name: a\n  nodeid: 1\n }\n}\n"),
            "line 3: a 'node' section belongs inside nodelist"
        );
        assert_eq!(
            error(&"a {\n".repeat(DEPTH_MAX + 1)),
            format!("line {}: sections nest deeper than 8 levels", DEPTH_MAX + 1)
        );
    }

    #[test]
    fn missing_pieces_are_named() {
        assert_eq!(error(""), "no totem section");
        assert_eq!(
            error("totem {\n cluster_name: x\n}\n"),
            "no nodelist section"
        );
        assert_eq!(
            error(&with_line(32, "  version_of_cluster: 1")),
            "line 31: totem has no cluster_name"
        );
        assert_eq!(
            error("nodelist {\n}\ntotem {\n cluster_name: x\n}\n"),
            "line 1: nodelist has no node"
        );
    }

    #[test]
    fn bad_nodes_are_refused() {
        assert_eq!(
            error(&with_line(21, "    ring1_addr: 10.0.0.12")),
            "line 19: node 'pve2': no nodeid"
        );
        assert_eq!(
            error(&with_line(8, "    ring1_addr: 10.0.0.11")),
            "line 7: node name '192.168.1.11' is not a valid node name"
        );
        assert_eq!(
            error(
                &with_line(8, "    ring1_addr: 10.0.0.1")
                    .replace("    ring0_addr: 192.168.1.11\n", "")
            ),
            "line 7: node has neither name nor ring0_addr"
        );
        assert_eq!(
            error(&with_line(8, "    name: pve_1")),
            "line 7: node name 'pve_1' is not a valid node name"
        );
        assert_eq!(
            error(&with_line(15, "    nodeid: 2")),
            "line 19: nodeid 2 used by pve3 and pve2"
        );
        assert_eq!(
            error(&with_line(14, "    name: pve1")),
            "line 13: node name 'pve1' used twice (first on line 7)"
        );
        assert_eq!(
            error(&with_line(9, "    nodeid: one")),
            "line 9: nodeid 'one' is not a number from 0 to 4294967295"
        );
        assert_eq!(
            error(&with_line(9, "    nodeid: 4294967296")),
            "line 9: nodeid '4294967296' is not a number from 0 to 4294967295"
        );
        assert_eq!(
            error(&with_line(9, "    nodeid: 0")),
            "line 9: node 'pve1': nodeid 0 is reserved (ids start at 1)"
        );
        assert_eq!(
            error(&with_line(10, "    quorum_votes: -1")),
            "line 10: quorum_votes '-1' is not a number from 0 to 4294967295"
        );
        assert_eq!(
            error(&with_line(33, "  config_version: 3a")),
            "line 33: config_version '3a' is not a number from 0 to 18446744073709551615"
        );
    }

    #[test]
    fn errors_carry_their_line() {
        assert_eq!(parse("}").expect_err("refused").line(), Some(1));
        assert_eq!(parse("").expect_err("refused").line(), None);
    }

    #[test]
    fn controls_in_values_are_shown_escaped() {
        let message = error(&with_line(8, "    name: pve\u{1b}[2K1"));
        assert_eq!(
            message,
            "line 7: node name 'pve\\x1b[2K1' is not a valid node name"
        );
    }
}
