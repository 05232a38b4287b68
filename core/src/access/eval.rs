//! What a user or token may do: Proxmox's ACL evaluation (pve-access-control
//! `AccessControl.pm` `roles`, `RPCEnvironment.pm` `permissions`, `$compile_acl_path`,
//! `get_effective_permissions`, `compute_api_permission`) and the account checks login and
//! token authentication make (`check_user_enabled`, `verify_token`).
//!
//! The walk, for a user or token and a path:
//! 1. From `/` down to the path, segment by segment, the entries of each level that apply
//!    *replace* what was gathered so far. Entries on the path itself always apply; entries on
//!    an ancestor only when they propagate.
//! 2. On a level, a token's own entries are all it sees; a user's entries beat the entries of
//!    the groups it is in (the groups' roles are merged).
//! 3. If the result holds `NoAccess`, only `NoAccess` remains.
//! 4. On `/vms/<id>` and `/storage/<id>`, the roles the same walk finds on `/pool/<p>` of each
//!    pool holding the guest or storage are added, without propagation, for roles the path's
//!    own walk did not set. A `NoAccess` from the path's own walk beats pool roles; a `NoAccess`
//!    from a pool beats the path's own roles.
//! 5. The privileges are the union over the roles; a privilege propagates if any role granting
//!    it does.
//!
//! root@pam has every privilege on every path. A token without privilege separation has
//! exactly its user's privileges; a token with it has its own privileges intersected with its
//! user's.
//!
//! [`UserConfig::permissions`] does not look at whether the user is enabled or expired, as
//! Proxmox's `permissions()` does not: authentication refuses such users first
//! ([`UserConfig::check_user_enabled`], [`UserConfig::check_token`]).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::ids::{Authid, Tokenid, Userid};
use super::path::{normalize_path, walk};
use super::privs::{NO_ACCESS, PrivSet};
use super::user_cfg::{AclNode, Pool, RoleFlags, Token, User, UserConfig};
use crate::time::UnixTime;

/// Why a user or token may not authenticate. The messages are Proxmox's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error("no such user ('{0}')")]
    NoSuchUser(Userid),
    #[error("user '{0}' is disabled")]
    UserDisabled(Userid),
    #[error("user '{0}' access expired")]
    UserExpired(Userid),
    #[error("no such token '{}' for user '{}'", .0.name(), .0.user())]
    NoSuchToken(Tokenid),
    #[error("token '{}' access expired", .0.name())]
    TokenExpired(Tokenid),
}

/// The privileges on one path with their propagate flags (`propagate` ⊆ `privs`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Privileges {
    pub privs: PrivSet,
    pub propagate: PrivSet,
}

impl Privileges {
    fn everything() -> Privileges {
        Privileges {
            privs: PrivSet::all(),
            propagate: PrivSet::all(),
        }
    }

    fn intersect(self, other: Privileges) -> Privileges {
        let privs = self.privs.intersection(other.privs);
        Privileges {
            privs,
            propagate: self
                .propagate
                .intersection(other.propagate)
                .intersection(privs),
        }
    }

    /// Privilege name → propagate flag, as Proxmox's `permissions()` returns them.
    pub fn to_map(self) -> BTreeMap<String, bool> {
        self.privs
            .names()
            .map(|name| (name.to_owned(), self.propagate.contains(name)))
            .collect()
    }
}

/// Who walks the ACL tree: a user, or a privilege-separated token.
#[derive(Debug, Clone, Copy)]
enum Walker<'a> {
    User(&'a Userid),
    Token(&'a Tokenid),
}

/// The paths `get_effective_permissions` always lists.
const EFFECTIVE_PATHS: [&str; 8] = [
    "/",
    "/access",
    "/access/groups",
    "/nodes",
    "/pool",
    "/sdn",
    "/storage",
    "/vms",
];

/// The paths `compute_api_permission` always checks.
const CAP_PATHS: [&str; 7] = [
    "/",
    "/nodes",
    "/access/groups",
    "/vms",
    "/storage",
    "/sdn",
    "/mapping",
];

/// The top-level keys of the login reply's `cap`.
const CAP_KEYS: [&str; 7] = ["access", "dc", "mapping", "nodes", "sdn", "storage", "vms"];

impl UserConfig {
    /// Privilege name → propagate flag on `path` (normalised first; an invalid path has none),
    /// as Proxmox's `permissions()`. The flag is informational: propagation is already applied.
    pub fn permissions(&self, who: &Authid, path: &str) -> BTreeMap<String, bool> {
        self.privileges(who, path).to_map()
    }

    /// Like [`UserConfig::permissions`], as sets.
    pub fn privileges(&self, who: &Authid, path: &str) -> Privileges {
        let Some(path) = normalize_path(path) else {
            return Privileges::default();
        };
        match who {
            Authid::User(user) => self.user_privileges(user, &path),
            Authid::Token(token) => self.token_privileges(token, &path),
        }
    }

    /// Whether `who` has all of `privs` on `path` (or any of them, with `any`). Privilege names
    /// Proxmox does not know are never held.
    pub fn check(&self, who: &Authid, path: &str, privs: &[&str], any: bool) -> bool {
        let held = self.privileges(who, path).privs;
        if any {
            privs.iter().any(|name| held.contains(name))
        } else {
            privs.iter().all(|name| held.contains(name))
        }
    }

    /// Every path with its privileges, as `get_effective_permissions` (`GET
    /// /access/permissions`): the fixed top-level paths, every path of the ACL tree (with its
    /// ancestors) and every pool member's `/vms/<id>` and `/storage/<id>`; paths without any
    /// privilege are left out.
    pub fn effective_permissions(&self, who: &Authid) -> BTreeMap<String, BTreeMap<String, bool>> {
        let mut paths: BTreeSet<String> = EFFECTIVE_PATHS.iter().map(|p| (*p).to_owned()).collect();
        paths.extend(self.acl_tree_paths());
        for pool in self.pools.values() {
            paths.extend(pool.vms.iter().map(|vmid| format!("/vms/{vmid}")));
            paths.extend(pool.storage.iter().map(|id| format!("/storage/{id}")));
        }
        paths
            .into_iter()
            .filter_map(|path| {
                let privileges = self.privileges(who, &path);
                (!privileges.privs.is_empty()).then(|| (path, privileges.to_map()))
            })
            .collect()
    }

    /// The login reply's `cap`, as Proxmox's `compute_api_permission`: for each top-level
    /// section, the privileges of that kind held on any checked path (`/`, `/nodes`,
    /// `/access/groups`, `/vms`, `/storage`, `/sdn`, `/mapping` and every ACL tree path), each
    /// with the value 1. `/` counts for `dc`; `/pool/...` gives `VM.*` to `vms`, `Datastore.*`
    /// to `storage` and `Permissions.Modify` to both.
    pub fn compute_api_permission(&self, who: &Authid) -> Value {
        let mut cap: BTreeMap<&str, BTreeSet<&'static str>> =
            CAP_KEYS.iter().map(|key| (*key, BTreeSet::new())).collect();
        let mut paths: BTreeSet<String> = CAP_PATHS.iter().map(|p| (*p).to_owned()).collect();
        paths.extend(self.acl_tree_paths());
        for path in paths {
            let privs = self.privileges(who, &path).privs;
            let toplevel = toplevel(&path);
            for name in privs.names() {
                for key in cap_sections(toplevel, name) {
                    if let Some(set) = cap.get_mut(key) {
                        set.insert(name);
                    }
                }
            }
        }
        let mut out = Map::new();
        for (key, privs) in cap {
            let section: Map<String, Value> = privs
                .into_iter()
                .map(|name| (name.to_owned(), Value::from(1)))
                .collect();
            out.insert(key.to_owned(), Value::Object(section));
        }
        Value::Object(out)
    }

    /// Checks a user may log in (Proxmox's `check_user_enabled`): it exists, is enabled, and
    /// its `expire` (0 = never) has not passed. An expiry equal to `now` still admits, as in
    /// Proxmox. root@pam is no exception: `user.cfg` can disable it.
    pub fn check_user_enabled(&self, userid: &Userid, now: UnixTime) -> Result<&User, AccessError> {
        let user = self
            .users
            .get(userid)
            .ok_or_else(|| AccessError::NoSuchUser(userid.clone()))?;
        if !user.enable {
            return Err(AccessError::UserDisabled(userid.clone()));
        }
        if user.expire != 0 && user.expire < now.0 {
            return Err(AccessError::UserExpired(userid.clone()));
        }
        Ok(user)
    }

    /// Checks an API token may authenticate (Proxmox's `verify_token`, before the secret is
    /// compared): its user may log in, the token exists and its `expire` has not passed.
    pub fn check_token(&self, token: &Tokenid, now: UnixTime) -> Result<&Token, AccessError> {
        let user = self.check_user_enabled(token.user(), now)?;
        let info = user
            .tokens
            .get(token.name())
            .ok_or_else(|| AccessError::NoSuchToken(token.clone()))?;
        if info.expire != 0 && info.expire < now.0 {
            return Err(AccessError::TokenExpired(token.clone()));
        }
        Ok(info)
    }

    /// Every node of Proxmox's ACL tree: each ACL path and all its ancestors.
    fn acl_tree_paths(&self) -> BTreeSet<String> {
        self.acl
            .keys()
            .flat_map(|path| walk(path).map(str::to_owned))
            .collect()
    }

    fn user_privileges(&self, user: &Userid, path: &str) -> Privileges {
        if user.is_root() {
            return Privileges::everything();
        }
        self.compile(Walker::User(user), path)
    }

    fn token_privileges(&self, token: &Tokenid, path: &str) -> Privileges {
        let Some(info) = self.token(token) else {
            return Privileges::default();
        };
        let user = self.user_privileges(token.user(), path);
        if !info.privsep {
            return user;
        }
        self.compile(Walker::Token(token), path).intersect(user)
    }

    /// `$compile_acl_path`: the walk's roles, plus pool roles, turned into privileges.
    fn compile(&self, walker: Walker<'_>, path: &str) -> Privileges {
        let mut roles = self.roles(walker, path);
        let pool_roles = self.pool_roles(walker, path);
        if !pool_roles.is_empty() && !roles.contains_key(NO_ACCESS) {
            if pool_roles.contains(NO_ACCESS) {
                roles = RoleFlags::from([(NO_ACCESS.to_owned(), false)]);
            } else {
                for role in pool_roles {
                    roles.entry(role).or_insert(false);
                }
            }
        }
        let mut out = Privileges::default();
        for (role, propagate) in &roles {
            // A role removed after the ACL was written grants nothing.
            let Some(privs) = self.role(role) else {
                continue;
            };
            out.privs = out.privs.union(privs);
            if *propagate {
                out.propagate = out.propagate.union(privs);
            }
        }
        out
    }

    /// Proxmox's `roles()`: the roles gathered walking from `/` to `path`.
    fn roles(&self, walker: Walker<'_>, path: &str) -> RoleFlags {
        let mut roles = RoleFlags::new();
        for level in walk(path) {
            let Some(node) = self.acl.get(level) else {
                continue;
            };
            let found = self.level_roles(node, walker, level == path);
            if !found.is_empty() {
                roles = found;
            }
        }
        match roles.get(NO_ACCESS) {
            Some(&propagate) => RoleFlags::from([(NO_ACCESS.to_owned(), propagate)]),
            None => roles,
        }
    }

    /// The roles that apply on one level: a token's own entries; else a user's own entries;
    /// else those of the user's groups, merged.
    ///
    /// Difference: when two of a user's groups give the same role on the path itself with
    /// different propagate flags, the role propagates; Proxmox keeps whichever group its hash
    /// order visits last. Only the informational flag differs, never the privileges.
    fn level_roles(&self, node: &AclNode, walker: Walker<'_>, last: bool) -> RoleFlags {
        let applies = |flags: &RoleFlags| -> RoleFlags {
            flags
                .iter()
                .filter(|(_, propagate)| last || **propagate)
                .map(|(role, propagate)| (role.clone(), *propagate))
                .collect()
        };
        match walker {
            Walker::Token(token) => node.tokens.get(token).map(applies).unwrap_or_default(),
            Walker::User(user) => {
                let own = node.users.get(user).map(applies).unwrap_or_default();
                if !own.is_empty() {
                    return own;
                }
                let mut merged = RoleFlags::new();
                for (group, flags) in &node.groups {
                    let member = self
                        .groups
                        .get(group)
                        .is_some_and(|g| g.users.contains(user));
                    if member {
                        for (role, propagate) in applies(flags) {
                            *merged.entry(role).or_insert(false) |= propagate;
                        }
                    }
                }
                merged
            }
        }
    }

    /// The roles found on `/pool/<p>` for every pool holding the guest or storage `path` names.
    fn pool_roles(&self, walker: Walker<'_>, path: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let Some(member) = PoolMember::of(path) else {
            return out;
        };
        for (name, pool) in &self.pools {
            if member.is_in(pool) {
                out.extend(self.roles(walker, &format!("/pool/{name}")).into_keys());
            }
        }
        out
    }
}

/// What a `/vms/<id>` or `/storage/<id>` path names, to look for in pools.
enum PoolMember<'a> {
    Vm(u32),
    Storage(&'a str),
}

impl<'a> PoolMember<'a> {
    /// `None` for any other path, and for a guest id no pool can hold (one that is not a
    /// `u32` written the way it prints, such as `0100`).
    fn of(path: &'a str) -> Option<PoolMember<'a>> {
        let (kind, id) = path.strip_prefix('/')?.split_once('/')?;
        if id.contains('/') {
            return None;
        }
        match kind {
            "vms" => id
                .parse::<u32>()
                .ok()
                .filter(|vmid| vmid.to_string() == id)
                .map(PoolMember::Vm),
            "storage" => Some(PoolMember::Storage(id)),
            _ => None,
        }
    }

    fn is_in(&self, pool: &Pool) -> bool {
        match self {
            PoolMember::Vm(vmid) => pool.vms.contains(vmid),
            PoolMember::Storage(id) => pool.storage.contains(*id),
        }
    }
}

/// The first path segment, or `dc` for `/` (Proxmox: `/^\/(\w+)/`).
fn toplevel(path: &str) -> &str {
    path.trim_start_matches('/')
        .split('/')
        .next()
        .filter(|segment| !segment.is_empty())
        .unwrap_or("dc")
}

/// The `cap` sections a privilege held on a path of this top level counts for.
fn cap_sections(toplevel: &str, privilege: &str) -> Vec<&'static str> {
    let permissions = privilege == "Permissions.Modify";
    if toplevel == "pool" {
        return if privilege.starts_with("VM.") {
            vec!["vms"]
        } else if privilege.starts_with("Datastore.") {
            vec!["storage"]
        } else if permissions {
            vec!["storage", "vms"]
        } else {
            Vec::new()
        };
    }
    let (key, prefixes): (&'static str, &[&str]) = match toplevel {
        "vms" => ("vms", &["VM."]),
        "access" => ("access", &["User.", "Group."]),
        "storage" => ("storage", &["Datastore."]),
        "nodes" => ("nodes", &["Sys."]),
        "sdn" => ("sdn", &["SDN."]),
        "mapping" => ("mapping", &["Mapping."]),
        "dc" => {
            let dc = privilege == "Sys.Audit"
                || privilege == "Sys.Modify"
                || privilege.starts_with("SDN.");
            return if dc { vec!["dc"] } else { Vec::new() };
        }
        _ => return Vec::new(),
    };
    if permissions || prefixes.iter().any(|prefix| privilege.starts_with(prefix)) {
        vec![key]
    } else {
        Vec::new()
    }
}
