//! Property tests of corral's ACL evaluation against a naive reference written from the
//! reference's rules (`statd-spice-permissions.md` §4), in the shape of Proxmox's older
//! `roles()`: instead of walking the path segment by segment, it sorts every ACL path as text
//! and keeps those that are `/`, the path itself, or a prefix of it followed by `/`.
//!
//! Configurations are random `user.cfg` files over a small universe (two users, two groups,
//! two tokens, two nested pools, a custom role, built-in roles including NoAccess, paths chosen
//! so that `/vms/100` and `/vms/1000` must not be confused): corral parses the text, the
//! reference reads the same entries from the structured spec.

use std::collections::{BTreeMap, BTreeSet};

use corral_core::access::{Authid, PrivSet, UserConfig, builtin_role};
use proptest::prelude::*;

const USERS: [&str; 2] = ["u1@pve", "u2@pve"];
const GROUPS: [&str; 2] = ["g1", "g2"];
const TOKENS: [(usize, &str); 2] = [(0, "u1@pve!t1"), (1, "u2@pve!t2")];
const POOLS: [&str; 2] = ["a", "a/b"];
const VMIDS: [u32; 3] = [100, 101, 1000];
const STORAGES: [&str; 2] = ["local", "nfs"];
const ROLES: [&str; 6] = [
    "NoAccess",
    "PVEVMUser",
    "PVEAuditor",
    "PVEDatastoreUser",
    "Administrator",
    "Custom1",
];
const CUSTOM1: [&str; 3] = ["VM.Audit", "Datastore.Audit", "Sys.Modify"];
const ACL_PATHS: [&str; 12] = [
    "/",
    "/vms",
    "/vms/100",
    "/vms/101",
    "/vms/1000",
    "/storage",
    "/storage/local",
    "/pool",
    "/pool/a",
    "/pool/a/b",
    "/nodes",
    "/nodes/n1",
];
const EXTRA_QUERY_PATHS: [&str; 3] = ["/vms/102", "/storage/nfs", "/nodes/n1/x"];

/// Who an ACL entry is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Member {
    User(usize),
    Group(usize),
    Token(usize),
}

#[derive(Debug, Clone)]
struct Spec {
    /// Per group, which users are members.
    groups: [[bool; 2]; 2],
    /// Per token, privilege separation.
    privsep: [bool; 2],
    /// Per guest, the pool it is in (index into POOLS), if any.
    vm_pool: [Option<usize>; 3],
    /// Per pool, which storages are members.
    pool_storage: [[bool; 2]; 2],
    /// ACL lines in file order: (propagate, path, member, role).
    acl: Vec<(bool, usize, Member, usize)>,
}

fn member() -> impl Strategy<Value = Member> {
    prop_oneof![
        (0..2usize).prop_map(Member::User),
        (0..2usize).prop_map(Member::Group),
        (0..2usize).prop_map(Member::Token),
    ]
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        any::<[[bool; 2]; 2]>(),
        any::<[bool; 2]>(),
        proptest::array::uniform3(proptest::option::of(0..2usize)),
        any::<[[bool; 2]; 2]>(),
        proptest::collection::vec(
            (any::<bool>(), 0..ACL_PATHS.len(), member(), 0..ROLES.len()),
            0..14,
        ),
    )
        .prop_map(|(groups, privsep, vm_pool, pool_storage, acl)| Spec {
            groups,
            privsep,
            vm_pool,
            pool_storage,
            acl,
        })
}

fn member_text(member: Member) -> String {
    match member {
        Member::User(i) => USERS[i].to_owned(),
        Member::Group(i) => format!("@{}", GROUPS[i]),
        Member::Token(i) => TOKENS[i].1.to_owned(),
    }
}

fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(",")
}

/// The spec as a `user.cfg`, in the order Proxmox writes one.
fn user_cfg(spec: &Spec) -> String {
    let mut out = String::new();
    for (index, user) in USERS.iter().enumerate() {
        out.push_str(&format!("user:{user}:1:0::::::\n"));
        let (_, token) = TOKENS[index];
        out.push_str(&format!(
            "token:{token}:0:{}::\n",
            u8::from(spec.privsep[index])
        ));
    }
    for (index, group) in GROUPS.iter().enumerate() {
        let members = USERS
            .iter()
            .zip(spec.groups[index])
            .filter(|(_, is)| *is)
            .map(|(user, _)| *user);
        out.push_str(&format!("group:{group}:{}::\n", join(members)));
    }
    for (index, pool) in POOLS.iter().enumerate() {
        let vms: Vec<String> = VMIDS
            .iter()
            .zip(spec.vm_pool)
            .filter(|(_, owner)| *owner == Some(index))
            .map(|(vmid, _)| vmid.to_string())
            .collect();
        let storages = STORAGES
            .iter()
            .zip(spec.pool_storage[index])
            .filter(|(_, is)| *is)
            .map(|(id, _)| *id);
        out.push_str(&format!(
            "pool:{pool}::{}:{}:\n",
            vms.join(","),
            join(storages)
        ));
    }
    out.push_str(&format!("role:Custom1:{}:\n", CUSTOM1.join(",")));
    for (propagate, path, member, role) in &spec.acl {
        out.push_str(&format!(
            "acl:{}:{}:{}:{}:\n",
            u8::from(*propagate),
            ACL_PATHS[*path],
            member_text(*member),
            ROLES[*role]
        ));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The naive reference.

/// Who is asking: a user, or a token (index into TOKENS).
#[derive(Debug, Clone, Copy)]
enum Who {
    User(usize),
    Token(usize),
}

struct Naive<'a> {
    spec: &'a Spec,
    /// (path, member, role) → propagate; later lines win.
    entries: BTreeMap<(&'static str, Member, &'static str), bool>,
}

impl<'a> Naive<'a> {
    fn new(spec: &'a Spec) -> Naive<'a> {
        let mut entries = BTreeMap::new();
        for (propagate, path, member, role) in &spec.acl {
            entries.insert((ACL_PATHS[*path], *member, ROLES[*role]), *propagate);
        }
        Naive { spec, entries }
    }

    fn role_privs(role: &str) -> PrivSet {
        if role == "Custom1" {
            PrivSet::of(CUSTOM1)
        } else {
            builtin_role(role).unwrap_or_default()
        }
    }

    /// Roles on one ACL path for one member, filtered by "applies here".
    fn member_roles(&self, path: &str, member: Member, last: bool) -> BTreeMap<String, bool> {
        self.entries
            .iter()
            .filter(|((p, m, _), propagate)| *p == path && *m == member && (last || **propagate))
            .map(|((_, _, role), propagate)| ((*role).to_owned(), *propagate))
            .collect()
    }

    fn roles(&self, who: Who, path: &str) -> BTreeMap<String, bool> {
        let mut ancestors: Vec<&str> = ACL_PATHS
            .iter()
            .copied()
            .filter(|p| *p == "/" || *p == path || path.starts_with(&format!("{p}/")))
            .collect();
        ancestors.sort();
        let mut roles = BTreeMap::new();
        for p in ancestors {
            let last = p == path;
            let found = match who {
                Who::Token(t) => self.member_roles(p, Member::Token(t), last),
                Who::User(u) => {
                    let own = self.member_roles(p, Member::User(u), last);
                    if own.is_empty() {
                        let mut merged = BTreeMap::new();
                        for g in 0..GROUPS.len() {
                            if self.spec.groups[g][u] {
                                for (role, flag) in self.member_roles(p, Member::Group(g), last) {
                                    *merged.entry(role).or_insert(false) |= flag;
                                }
                            }
                        }
                        merged
                    } else {
                        own
                    }
                }
            };
            if !found.is_empty() {
                roles = found;
            }
        }
        match roles.get("NoAccess") {
            Some(flag) => BTreeMap::from([("NoAccess".to_owned(), *flag)]),
            None => roles,
        }
    }

    fn pools_holding(&self, path: &str) -> Vec<usize> {
        let mut out = Vec::new();
        for (index, vmid) in VMIDS.iter().enumerate() {
            if path == format!("/vms/{vmid}") {
                out.extend(self.spec.vm_pool[index]);
            }
        }
        for (index, id) in STORAGES.iter().enumerate() {
            if path == format!("/storage/{id}") {
                out.extend((0..POOLS.len()).filter(|p| self.spec.pool_storage[*p][index]));
            }
        }
        out
    }

    /// Privilege name → propagate flag.
    fn compiled(&self, who: Who, path: &str) -> BTreeMap<String, bool> {
        let mut roles = self.roles(who, path);
        let pool_roles: BTreeSet<String> = self
            .pools_holding(path)
            .into_iter()
            .flat_map(|pool| {
                self.roles(who, &format!("/pool/{}", POOLS[pool]))
                    .into_keys()
            })
            .collect();
        if !pool_roles.is_empty() && !roles.contains_key("NoAccess") {
            if pool_roles.contains("NoAccess") {
                roles = BTreeMap::from([("NoAccess".to_owned(), false)]);
            } else {
                for role in pool_roles {
                    roles.entry(role).or_insert(false);
                }
            }
        }
        let mut privs: BTreeMap<String, bool> = BTreeMap::new();
        for (role, flag) in roles {
            for name in Naive::role_privs(&role).names() {
                *privs.entry(name.to_owned()).or_insert(false) |= flag;
            }
        }
        privs
    }

    fn permissions(&self, who: Who, path: &str) -> BTreeMap<String, bool> {
        match who {
            Who::User(_) => self.compiled(who, path),
            Who::Token(t) => {
                let user = self.compiled(Who::User(TOKENS[t].0), path);
                if !self.spec.privsep[t] {
                    return user;
                }
                self.compiled(who, path)
                    .into_iter()
                    .filter_map(|(name, flag)| {
                        let user_flag = user.get(&name)?;
                        Some((name, flag && *user_flag))
                    })
                    .collect()
            }
        }
    }
}

fn whos() -> [(Who, Authid); 4] {
    let id = |text: &str| Authid::parse(text).expect("valid auth id");
    [
        (Who::User(0), id(USERS[0])),
        (Who::User(1), id(USERS[1])),
        (Who::Token(0), id(TOKENS[0].1)),
        (Who::Token(1), id(TOKENS[1].1)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn permissions_match_the_naive_reference(spec in spec()) {
        let text = user_cfg(&spec);
        let parsed = UserConfig::parse(Some(&text));
        prop_assert_eq!(&parsed.warnings, &Vec::new(), "{}", text);
        let cfg = parsed.config;
        let naive = Naive::new(&spec);
        for (who, authid) in whos() {
            for path in ACL_PATHS.iter().chain(&EXTRA_QUERY_PATHS) {
                prop_assert_eq!(
                    cfg.permissions(&authid, path),
                    naive.permissions(who, path),
                    "{} on {}\n{}", authid, path, text
                );
            }
        }
    }

    #[test]
    fn render_reads_back_the_same(spec in spec()) {
        let cfg = UserConfig::parse(Some(&user_cfg(&spec))).config;
        let written = cfg.render();
        let again = UserConfig::parse(Some(&written));
        prop_assert_eq!(&again.warnings, &Vec::new());
        prop_assert_eq!(again.config, cfg);
    }

    #[test]
    fn privsep_tokens_never_exceed_their_user(spec in spec()) {
        let cfg = UserConfig::parse(Some(&user_cfg(&spec))).config;
        let ids = whos();
        for (token, user) in [(&ids[2].1, &ids[0].1), (&ids[3].1, &ids[1].1)] {
            for path in ACL_PATHS {
                let token_privs = cfg.privileges(token, path).privs;
                let user_privs = cfg.privileges(user, path).privs;
                prop_assert_eq!(token_privs.intersection(user_privs), token_privs);
            }
        }
    }
}
