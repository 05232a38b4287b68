//! Privileges and the built-in roles, derived as Proxmox derives them.
//!
//! Proxmox's `$privgroups` (pve-access-control `src/PVE/AccessControl.pm`) sorts every
//! privilege of a category into `root` (only root / Administrator), `admin`, `user` and `audit`;
//! `create_roles` then builds `PVE<Cat>Admin` (admin+user+audit), `PVE<Cat>User` (user+audit,
//! only where the category has user privileges), `PVEAdmin` (every admin+user+audit, minus
//! `Mapping.Modify`), `PVEAuditor` (every audit), and adds `PVETemplateUser`, `Administrator`
//! (everything, including `Permissions.Modify`, which is in no category) and `NoAccess`
//! (nothing). [`PRIV_GROUPS`] is that table for Proxmox VE 9, and the roles are computed from it
//! the same way; the tests pin every role to the explicit lists of the reference (§4).

use std::fmt;

/// Every privilege Proxmox VE 9 knows, in sorted order (the order privileges are listed in).
pub const PRIVILEGES: [&str; 47] = [
    "Datastore.Allocate",
    "Datastore.AllocateSpace",
    "Datastore.AllocateTemplate",
    "Datastore.Audit",
    "Group.Allocate",
    "Mapping.Audit",
    "Mapping.Modify",
    "Mapping.Use",
    "Permissions.Modify",
    "Pool.Allocate",
    "Pool.Audit",
    "Realm.Allocate",
    "Realm.AllocateUser",
    "SDN.Allocate",
    "SDN.Audit",
    "SDN.Use",
    "Sys.AccessNetwork",
    "Sys.Audit",
    "Sys.Console",
    "Sys.Incoming",
    "Sys.Modify",
    "Sys.PowerMgmt",
    "Sys.Syslog",
    "User.Modify",
    "VM.Allocate",
    "VM.Audit",
    "VM.Backup",
    "VM.Clone",
    "VM.Config.CDROM",
    "VM.Config.CPU",
    "VM.Config.Cloudinit",
    "VM.Config.Disk",
    "VM.Config.HWType",
    "VM.Config.Memory",
    "VM.Config.Network",
    "VM.Config.Options",
    "VM.Console",
    "VM.GuestAgent.Audit",
    "VM.GuestAgent.FileRead",
    "VM.GuestAgent.FileSystemMgmt",
    "VM.GuestAgent.FileWrite",
    "VM.GuestAgent.Unrestricted",
    "VM.Migrate",
    "VM.PowerMgmt",
    "VM.Replicate",
    "VM.Snapshot",
    "VM.Snapshot.Rollback",
];

/// One category of Proxmox's `$privgroups`.
#[derive(Debug, Clone, Copy)]
pub struct PrivGroup {
    pub category: &'static str,
    pub root: &'static [&'static str],
    pub admin: &'static [&'static str],
    pub user: &'static [&'static str],
    pub audit: &'static [&'static str],
}

/// Proxmox VE 9's `$privgroups`. `Permissions.Modify` belongs to no category.
pub const PRIV_GROUPS: [PrivGroup; 7] = [
    PrivGroup {
        category: "VM",
        root: &[],
        admin: &[
            "VM.Allocate",
            "VM.Clone",
            "VM.Config.CPU",
            "VM.Config.Disk",
            "VM.Config.HWType",
            "VM.Config.Memory",
            "VM.Config.Network",
            "VM.Config.Options",
            "VM.GuestAgent.Unrestricted",
            "VM.Migrate",
            "VM.Replicate",
            "VM.Snapshot",
            "VM.Snapshot.Rollback",
        ],
        user: &[
            "VM.Backup",
            "VM.Config.CDROM",
            "VM.Config.Cloudinit",
            "VM.Console",
            "VM.GuestAgent.FileRead",
            "VM.GuestAgent.FileSystemMgmt",
            "VM.GuestAgent.FileWrite",
            "VM.PowerMgmt",
        ],
        audit: &["VM.Audit", "VM.GuestAgent.Audit"],
    },
    PrivGroup {
        category: "Sys",
        root: &[
            "Sys.PowerMgmt",
            "Sys.Modify",
            "Sys.Incoming",
            "Sys.AccessNetwork",
        ],
        admin: &["Sys.Console", "Sys.Syslog"],
        user: &[],
        audit: &["Sys.Audit"],
    },
    PrivGroup {
        category: "Datastore",
        root: &[],
        admin: &["Datastore.Allocate", "Datastore.AllocateTemplate"],
        user: &["Datastore.AllocateSpace"],
        audit: &["Datastore.Audit"],
    },
    PrivGroup {
        category: "SDN",
        root: &[],
        admin: &["SDN.Allocate", "SDN.Audit"],
        user: &["SDN.Use"],
        audit: &["SDN.Audit"],
    },
    PrivGroup {
        category: "User",
        root: &["Realm.Allocate"],
        admin: &["User.Modify", "Group.Allocate", "Realm.AllocateUser"],
        user: &[],
        audit: &[],
    },
    PrivGroup {
        category: "Pool",
        root: &[],
        admin: &["Pool.Allocate"],
        user: &["Pool.Audit"],
        audit: &["Pool.Audit"],
    },
    PrivGroup {
        category: "Mapping",
        root: &[],
        admin: &["Mapping.Modify"],
        user: &["Mapping.Use"],
        audit: &["Mapping.Audit"],
    },
];

/// Names of the built-in ("special") roles, sorted. They are never written to `user.cfg` and
/// cannot be redefined there.
pub const BUILTIN_ROLES: [&str; 17] = [
    "Administrator",
    "NoAccess",
    "PVEAdmin",
    "PVEAuditor",
    "PVEDatastoreAdmin",
    "PVEDatastoreUser",
    "PVEMappingAdmin",
    "PVEMappingUser",
    "PVEPoolAdmin",
    "PVEPoolUser",
    "PVESDNAdmin",
    "PVESDNUser",
    "PVESysAdmin",
    "PVETemplateUser",
    "PVEUserAdmin",
    "PVEVMAdmin",
    "PVEVMUser",
];

/// The role that wins over everything gathered with it.
pub const NO_ACCESS: &str = "NoAccess";

/// A set of privileges, as a bit per entry of [`PRIVILEGES`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PrivSet(u64);

impl PrivSet {
    /// No privilege.
    pub const EMPTY: PrivSet = PrivSet(0);

    /// Every privilege (`Administrator`, root@pam).
    pub fn all() -> PrivSet {
        PrivSet((1u64 << PRIVILEGES.len()) - 1)
    }

    /// The set holding `name`, or `None` for a name Proxmox does not know.
    pub fn single(name: &str) -> Option<PrivSet> {
        priv_index(name).map(|index| PrivSet(1 << index))
    }

    /// The set of the given names; unknown names are left out.
    pub fn of<'a>(names: impl IntoIterator<Item = &'a str>) -> PrivSet {
        names
            .into_iter()
            .filter_map(PrivSet::single)
            .fold(PrivSet::EMPTY, PrivSet::union)
    }

    pub fn union(self, other: PrivSet) -> PrivSet {
        PrivSet(self.0 | other.0)
    }

    pub fn intersection(self, other: PrivSet) -> PrivSet {
        PrivSet(self.0 & other.0)
    }

    pub fn without(self, other: PrivSet) -> PrivSet {
        PrivSet(self.0 & !other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Whether the set holds the privilege `name` (false for unknown names).
    pub fn contains(self, name: &str) -> bool {
        PrivSet::single(name).is_some_and(|one| self.0 & one.0 != 0)
    }

    /// The names in the set, sorted.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        PRIVILEGES
            .iter()
            .enumerate()
            .filter(move |(index, _)| self.0 & (1 << index) != 0)
            .map(|(_, name)| *name)
    }
}

impl fmt::Display for PrivSet {
    /// Comma-separated names, as `user.cfg` writes a role.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (position, name) in self.names().enumerate() {
            if position > 0 {
                f.write_str(",")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

/// Whether Proxmox knows the privilege `name` (`verify_privname`).
pub fn is_privilege(name: &str) -> bool {
    priv_index(name).is_some()
}

fn priv_index(name: &str) -> Option<usize> {
    PRIVILEGES.binary_search(&name).ok()
}

/// Whether `name` is a built-in role.
pub fn is_builtin_role(name: &str) -> bool {
    builtin_role(name).is_some()
}

/// The privileges of a built-in role, computed from [`PRIV_GROUPS`] as `create_roles` does.
pub fn builtin_role(name: &str) -> Option<PrivSet> {
    match name {
        "Administrator" => Some(PrivSet::all()),
        NO_ACCESS => Some(PrivSet::EMPTY),
        "PVETemplateUser" => Some(PrivSet::of(["VM.Clone", "VM.Audit"])),
        "PVEAuditor" => Some(union_over_groups(|group| group.audit.iter().copied())),
        "PVEAdmin" => {
            Some(union_over_groups(admin_user_audit).without(PrivSet::of(["Mapping.Modify"])))
        }
        _ => category_role(name),
    }
}

/// `PVE<Cat>Admin` or `PVE<Cat>User`.
fn category_role(name: &str) -> Option<PrivSet> {
    let rest = name.strip_prefix("PVE")?;
    PRIV_GROUPS.iter().find_map(|group| {
        let kind = rest.strip_prefix(group.category)?;
        match kind {
            "Admin" => Some(PrivSet::of(admin_user_audit(group))),
            // Proxmox creates PVE<Cat>User only for categories with user privileges.
            "User" if !group.user.is_empty() => {
                Some(PrivSet::of(group.user.iter().chain(group.audit).copied()))
            }
            _ => None,
        }
    })
}

fn admin_user_audit(group: &PrivGroup) -> impl Iterator<Item = &'static str> + use<> {
    let PrivGroup {
        admin, user, audit, ..
    } = *group;
    admin.iter().chain(user).chain(audit).copied()
}

fn union_over_groups<I>(pick: impl Fn(&PrivGroup) -> I) -> PrivSet
where
    I: IntoIterator<Item = &'static str>,
{
    PRIV_GROUPS.iter().fold(PrivSet::EMPTY, |set, group| {
        set.union(PrivSet::of(pick(group)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn names(role: &str) -> Vec<&'static str> {
        builtin_role(role)
            .unwrap_or_else(|| panic!("{role} is built in"))
            .names()
            .collect()
    }

    /// Expands the reference's `VM.Config.{CDROM,CPU}` shorthand.
    fn expand(list: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        for item in list {
            match (item.find('{'), item.strip_suffix('}')) {
                (Some(open), Some(inner)) => {
                    let prefix = &item[..open];
                    for part in inner[open + 1..].split(',') {
                        out.push(format!("{prefix}{part}"));
                    }
                }
                _ => out.push((*item).to_owned()),
            }
        }
        out.sort();
        out
    }

    fn assert_role(role: &str, expected: &[&str]) {
        let actual: Vec<String> = names(role).into_iter().map(str::to_owned).collect();
        assert_eq!(actual, expand(expected), "{role}");
    }

    #[test]
    fn privilege_list_is_sorted_unique_and_complete() {
        let mut sorted = PRIVILEGES.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, PRIVILEGES.to_vec());
        let mut from_groups: BTreeSet<&str> = PRIV_GROUPS
            .iter()
            .flat_map(|g| g.root.iter().chain(g.admin).chain(g.user).chain(g.audit))
            .copied()
            .collect();
        from_groups.insert("Permissions.Modify");
        assert_eq!(
            from_groups.into_iter().collect::<Vec<_>>(),
            PRIVILEGES.to_vec()
        );
    }

    #[test]
    fn vm_roles_match_the_reference() {
        assert_role(
            "PVEVMAdmin",
            &[
                "VM.Allocate",
                "VM.Audit",
                "VM.Backup",
                "VM.Clone",
                "VM.Config.{CDROM,CPU,Cloudinit,Disk,HWType,Memory,Network,Options}",
                "VM.Console",
                "VM.GuestAgent.{Audit,FileRead,FileSystemMgmt,FileWrite,Unrestricted}",
                "VM.Migrate",
                "VM.PowerMgmt",
                "VM.Replicate",
                "VM.Snapshot",
                "VM.Snapshot.Rollback",
            ],
        );
        assert_role(
            "PVEVMUser",
            &[
                "VM.Audit",
                "VM.Backup",
                "VM.Config.CDROM",
                "VM.Config.Cloudinit",
                "VM.Console",
                "VM.GuestAgent.{Audit,FileRead,FileSystemMgmt,FileWrite}",
                "VM.PowerMgmt",
            ],
        );
        assert_role("PVETemplateUser", &["VM.Clone", "VM.Audit"]);
    }

    #[test]
    fn other_category_roles_match_the_reference() {
        assert_role(
            "PVEDatastoreAdmin",
            &["Datastore.{Allocate,AllocateSpace,AllocateTemplate,Audit}"],
        );
        assert_role("PVEDatastoreUser", &["Datastore.{AllocateSpace,Audit}"]);
        assert_role("PVESysAdmin", &["Sys.{Audit,Console,Syslog}"]);
        assert_role(
            "PVEUserAdmin",
            &["User.Modify", "Group.Allocate", "Realm.AllocateUser"],
        );
        assert_role("PVEPoolAdmin", &["Pool.{Allocate,Audit}"]);
        assert_role("PVEPoolUser", &["Pool.Audit"]);
        assert_role("PVESDNAdmin", &["SDN.{Allocate,Audit,Use}"]);
        assert_role("PVESDNUser", &["SDN.{Audit,Use}"]);
        assert_role("PVEMappingAdmin", &["Mapping.{Audit,Modify,Use}"]);
        assert_role("PVEMappingUser", &["Mapping.{Audit,Use}"]);
        // Categories without user privileges have no PVE<Cat>User role.
        assert_eq!(builtin_role("PVESysUser"), None);
        assert_eq!(builtin_role("PVEUserUser"), None);
    }

    #[test]
    fn global_roles_match_the_reference() {
        assert_role(
            "PVEAuditor",
            &[
                "Datastore.Audit",
                "Mapping.Audit",
                "Pool.Audit",
                "SDN.Audit",
                "Sys.Audit",
                "VM.Audit",
                "VM.GuestAgent.Audit",
            ],
        );
        assert_eq!(names("Administrator"), PRIVILEGES.to_vec());
        assert!(names("NoAccess").is_empty());
        let missing: Vec<&str> = PrivSet::all()
            .without(builtin_role("PVEAdmin").unwrap_or_default())
            .names()
            .collect();
        assert_eq!(
            missing,
            expand(&[
                "Sys.PowerMgmt",
                "Sys.Modify",
                "Sys.Incoming",
                "Sys.AccessNetwork",
                "Realm.Allocate",
                "Permissions.Modify",
                "Mapping.Modify",
            ])
        );
    }

    #[test]
    fn the_builtin_list_names_exactly_the_builtin_roles() {
        let listed: BTreeSet<&str> = BUILTIN_ROLES.into_iter().collect();
        assert_eq!(
            listed.iter().copied().collect::<Vec<_>>(),
            BUILTIN_ROLES.to_vec()
        );
        for role in &listed {
            assert!(is_builtin_role(role), "{role}");
        }
        for group in PRIV_GROUPS {
            let admin = format!("PVE{}Admin", group.category);
            assert!(listed.contains(admin.as_str()), "{admin}");
        }
        assert!(!is_builtin_role("PVEVMOperator"));
        assert!(!is_builtin_role("PVE"));
    }

    #[test]
    fn priv_sets() {
        let set = PrivSet::of(["VM.Audit", "Sys.Audit", "No.Such"]);
        assert_eq!(set.len(), 2);
        assert!(set.contains("VM.Audit"));
        assert!(!set.contains("No.Such"));
        assert_eq!(set.to_string(), "Sys.Audit,VM.Audit");
        assert_eq!(PrivSet::all().len(), 47);
        assert!(is_privilege("Permissions.Modify"));
        assert!(!is_privilege("VM.Monitor"), "removed in Proxmox VE 9");
    }
}
