//! Property tests of corral's `corosync.conf` reader against a naive reference: a random
//! membership is rendered as Proxmox writes the file (with random indentation, blank and
//! comment lines, section and key order, and the `ring0_addr` fallback for nameless nodes),
//! read back, and compared with the membership it came from, sorted by name.
//!
//! A second property feeds the reader mangled files: it must refuse or accept them, never
//! panic, and every line it blames must exist.

use corral_core::cluster::corosync::{Member, Membership, parse};
use proptest::prelude::*;

/// One node as generated: whether its `name` line is written (otherwise its name is its
/// `ring0_addr`, which is then a host name), and whether `quorum_votes` is written.
#[derive(Debug, Clone)]
struct NodeSpec {
    member: Member,
    write_name: bool,
    write_votes: bool,
    /// The order of the node's key lines, as a rotation.
    rotate: usize,
}

#[derive(Debug, Clone)]
struct Layout {
    indent: &'static str,
    totem_first: bool,
    comments: bool,
    blank_lines: bool,
    crlf: bool,
}

fn node_name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,10}[a-z0-9]"
}

fn address() -> impl Strategy<Value = String> {
    prop_oneof![
        (1u8..=254, 0u8..=255).prop_map(|(a, b)| format!("10.{a}.{b}.1")),
        (1u16..=0xfffe).prop_map(|x| format!("fd00::{x:x}")),
    ]
}

/// Up to 9 nodes with distinct names and nodeids.
fn nodes() -> impl Strategy<Value = Vec<NodeSpec>> {
    let node = (
        node_name(),
        address(),
        0u32..=3,
        any::<bool>(),
        any::<bool>(),
        0usize..4,
    );
    (
        prop::collection::vec(node, 1..=9),
        prop::sample::subsequence((1u32..=64).collect::<Vec<_>>(), 9).prop_shuffle(),
    )
        .prop_map(|(specs, ids)| {
            let mut seen = std::collections::BTreeSet::new();
            specs
                .into_iter()
                .zip(ids)
                .filter(|((name, ..), _)| seen.insert(name.clone()))
                .map(
                    |((name, addr, votes, by_addr, write_votes, rotate), nodeid)| {
                        // A nameless node is known by its ring0_addr, so that holds its name.
                        let write_name = !by_addr;
                        NodeSpec {
                            member: Member {
                                ring0_addr: if write_name { addr } else { name.clone() },
                                name,
                                nodeid,
                                votes: if write_votes { votes } else { 1 },
                            },
                            write_name,
                            write_votes,
                            rotate,
                        }
                    },
                )
                .collect()
        })
}

fn layout() -> impl Strategy<Value = Layout> {
    (
        prop::sample::select(vec!["  ", "    ", "\t", " \t "]),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(indent, totem_first, comments, blank_lines, crlf)| Layout {
                indent,
                totem_first,
                comments,
                blank_lines,
                crlf,
            },
        )
}

fn render(cluster_name: &str, version: u64, nodes: &[NodeSpec], layout: &Layout) -> String {
    let i1 = layout.indent;
    let i2 = layout.indent.repeat(2);
    let mut nodelist = vec!["nodelist {".to_owned()];
    for spec in nodes {
        let m = &spec.member;
        let mut keys = vec![
            format!("nodeid: {}", m.nodeid),
            format!("ring0_addr: {}", m.ring0_addr),
        ];
        if spec.write_name {
            keys.push(format!("name: {}", m.name));
        }
        if spec.write_votes {
            keys.push(format!("quorum_votes: {}", m.votes));
        }
        let turn = spec.rotate % keys.len();
        keys.rotate_left(turn);
        nodelist.push(format!("{i1}node {{"));
        if layout.comments {
            nodelist.push(format!("{i2}# {}", m.name));
        }
        nodelist.extend(keys.into_iter().map(|key| format!("{i2}{key}")));
        nodelist.push(format!("{i1}}}"));
    }
    nodelist.push("}".to_owned());
    let totem = vec![
        "totem {".to_owned(),
        format!("{i1}cluster_name: {cluster_name}"),
        format!("{i1}config_version: {version}"),
        format!("{i1}interface {{"),
        format!("{i2}linknumber: 0"),
        format!("{i1}}}"),
        format!("{i1}secauth: on"),
        "}".to_owned(),
    ];
    let quorum = vec![
        "quorum {".to_owned(),
        format!("{i1}provider: corosync_votequorum"),
        "}".to_owned(),
    ];
    let sections = if layout.totem_first {
        [totem, nodelist, quorum]
    } else {
        [quorum, nodelist, totem]
    };
    let separator = if layout.blank_lines { "\n\n" } else { "\n" };
    let text = sections.map(|lines| lines.join("\n")).join(separator);
    if layout.crlf {
        text.replace('\n', "\r\n")
    } else {
        text
    }
}

/// The reference: the members as generated, in name order.
fn expected(cluster_name: &str, version: u64, nodes: &[NodeSpec]) -> Membership {
    let mut members: Vec<Member> = nodes.iter().map(|spec| spec.member.clone()).collect();
    members.sort_by(|a, b| a.name.cmp(&b.name));
    Membership {
        cluster_name: cluster_name.to_owned(),
        config_version: version,
        nodes: members,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn rendered_memberships_read_back(
        cluster_name in "[a-z][a-z0-9-]{0,14}",
        version in 0u64..1000,
        nodes in nodes(),
        layout in layout(),
    ) {
        let text = render(&cluster_name, version, &nodes, &layout);
        let parsed = parse(&text);
        prop_assert_eq!(parsed, Ok(expected(&cluster_name, version, &nodes)), "{}", text);
    }

    #[test]
    fn mangled_files_are_refused_or_read_never_panicking(
        nodes in nodes(),
        layout in layout(),
        cut in any::<prop::sample::Index>(),
        junk in prop::sample::select(vec!["", "}", "{", "x", ":", "# c", "a: b c", "node {", "\u{1b}"]),
    ) {
        let text = render("demo", 1, &nodes, &layout);
        let mut lines: Vec<&str> = text.lines().collect();
        let at = cut.index(lines.len());
        lines[at] = junk;
        let mangled = lines.join("\n");
        if let Err(error) = parse(&mangled)
            && let Some(line) = error.line()
        {
            prop_assert!(line >= 1 && line <= lines.len(), "{}: {}", error, mangled);
        }
    }
}
