//! ACL paths: how Proxmox normalises them (`normalize_path`) and which ones it lets an ACL be
//! set on (`check_path`), both in pve-access-control `src/PVE/AccessControl.pm`.

use std::fmt;

use super::ids::{POOL_DEPTH_MAX, is_name, is_name_char};

/// Why a text is not an ACL path one can set permissions on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error(
        "invalid ACL path '{0}': only letters, digits, '.', '-', '_' and '/' may appear in a path"
    )]
    BadChars(String),
    #[error(
        "invalid ACL path '{0}': permissions can be set on '/', '/access[/groups[/<group>]]', \
         '/access/realm[/<realm>]', '/nodes[/<node>]', '/pool[/<pool>[/<sub>[/<sub>]]]', \
         '/sdn[/controllers|/dns|/ipams[/<id>]]', '/sdn/zones[/<zone>[/<vnet>[/<vlan>]]]', \
         '/storage[/<storage>]', '/vms[/<vmid>]' and '/mapping[/<type>[/<id>]]'"
    )]
    NotAnAclPath(String),
}

/// Normalises a path as Proxmox's `normalize_path`: runs of `/` become one, one trailing `/` is
/// dropped, a missing leading `/` is added, and the result must only hold letters, digits, `.`,
/// `-`, `_` and `/`. `None` for an empty or otherwise invalid path.
pub fn normalize_path(text: &str) -> Option<String> {
    if text.is_empty() {
        return None;
    }
    let mut path = String::with_capacity(text.len() + 1);
    if !text.starts_with('/') {
        path.push('/');
    }
    for c in text.chars() {
        if c == '/' && path.ends_with('/') {
            continue;
        }
        path.push(c);
    }
    if path.len() > 1 && path.ends_with('/') {
        path.pop();
    }
    path.chars()
        .all(|c| is_name_char(c) || c == '/')
        .then_some(path)
}

/// Whether permissions can be set on this (normalised) path: Proxmox VE 9's `check_path`.
///
/// Difference: `/mapping/<type>` accepts any name, as Proxmox does, not only the types that
/// exist today (`pci`, `usb`, `dir`).
pub fn check_path(path: &str) -> bool {
    if path == "/" {
        return true;
    }
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    let parts: Vec<&str> = rest.split('/').collect();
    match parts.as_slice() {
        ["access"] | ["access", "groups" | "realm"] => true,
        ["access", "groups" | "realm", id] => is_name(id),
        ["nodes" | "pool" | "storage" | "vms" | "mapping" | "sdn"] => true,
        ["nodes" | "storage", id] => is_name(id),
        ["pool", pools @ ..] => pools.len() <= POOL_DEPTH_MAX && pools.iter().all(|p| is_name(p)),
        ["vms", vmid] => is_vmid(vmid),
        ["mapping", kind] => is_name(kind),
        ["mapping", kind, id] => is_name(kind) && is_name(id),
        ["sdn", "controllers" | "dns" | "ipams" | "zones"] => true,
        ["sdn", "controllers", id] => is_controller_id(id),
        ["sdn", "dns" | "ipams", id] => is_alnum(id),
        ["sdn", "zones", zone] => is_name(zone),
        ["sdn", "zones", zone, vnet] => is_name(zone) && is_name(vnet),
        ["sdn", "zones", zone, vnet, vlan] => is_name(zone) && is_name(vnet) && is_vlan(vlan),
        _ => false,
    }
}

/// `[[:alnum:]]+`.
fn is_alnum(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric())
}

/// `[[:alnum:]_\-]+`.
fn is_controller_id(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
}

/// `[1-9][0-9]{2,}`: guest ids start at 100.
fn is_vmid(text: &str) -> bool {
    text.len() >= 3 && !text.starts_with('0') && text.chars().all(|c| c.is_ascii_digit())
}

/// `[1-9][0-9]{0,3}`.
fn is_vlan(text: &str) -> bool {
    (1..=4).contains(&text.len())
        && !text.starts_with('0')
        && text.chars().all(|c| c.is_ascii_digit())
}

/// A normalised path permissions can be set on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AclPath(String);

impl AclPath {
    /// Normalises `text` and checks it is a path Proxmox lets ACLs be set on.
    pub fn parse(text: &str) -> Result<AclPath, PathError> {
        let path = normalize_path(text).ok_or_else(|| PathError::BadChars(text.to_owned()))?;
        if check_path(&path) {
            Ok(AclPath(path))
        } else {
            Err(PathError::NotAnAclPath(text.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AclPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The prefixes of a normalised path the ACL walk visits, from `/` down to the path itself:
/// `/vms/100` gives `/`, `/vms`, `/vms/100`.
pub(crate) fn walk(path: &str) -> impl Iterator<Item = &str> {
    let below_root = (path != "/").then_some(path);
    std::iter::once("/").chain(below_root.into_iter().flat_map(|path| {
        path.match_indices('/')
            .skip(1)
            .map(move |(index, _)| &path[..index])
            .chain(std::iter::once(path))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_proxmox() {
        assert_eq!(normalize_path("/").as_deref(), Some("/"));
        assert_eq!(normalize_path("//").as_deref(), Some("/"));
        assert_eq!(normalize_path("vms/100").as_deref(), Some("/vms/100"));
        assert_eq!(normalize_path("/vms//100/").as_deref(), Some("/vms/100"));
        assert_eq!(normalize_path("///storage///").as_deref(), Some("/storage"));
        assert_eq!(normalize_path(""), None);
        assert_eq!(normalize_path("/vms/1 00"), None);
        assert_eq!(normalize_path("/vms/{vmid}"), None);
        assert_eq!(normalize_path("/nodes/é"), None);
    }

    #[test]
    fn accepts_every_path_form_proxmox_accepts() {
        for path in [
            "/",
            "/access",
            "/access/groups",
            "/access/groups/admins",
            "/access/realm",
            "/access/realm/pve",
            "/nodes",
            "/nodes/pve1",
            "/pool",
            "/pool/prod",
            "/pool/prod/web",
            "/pool/prod/web/eu",
            "/sdn",
            "/sdn/controllers",
            "/sdn/controllers/evpn_1",
            "/sdn/dns",
            "/sdn/dns/pdns1",
            "/sdn/ipams",
            "/sdn/ipams/netbox",
            "/sdn/zones",
            "/sdn/zones/zone1",
            "/sdn/zones/zone1/vnet1",
            "/sdn/zones/zone1/vnet1/4094",
            "/storage",
            "/storage/local-lvm",
            "/vms",
            "/vms/100",
            "/vms/999999999",
            "/mapping",
            "/mapping/pci",
            "/mapping/usb/stick",
            "/mapping/dir/share",
        ] {
            assert!(check_path(path), "{path}");
            assert_eq!(
                AclPath::parse(path).map(|p| p.to_string()),
                Ok(path.to_owned())
            );
        }
    }

    #[test]
    fn refuses_what_proxmox_refuses() {
        for path in [
            "/vm",
            "/vms/99",
            "/vms/0100",
            "/vms/abc",
            "/vms/100/disk",
            "/pool/a/b/c/d",
            "/sdn/vnets/v1",
            "/sdn/dns/pdns-1",
            "/sdn/zones/z/v/0",
            "/sdn/zones/z/v/40941",
            "/storage/a/b",
            "/mapping/pci/a/b",
            "/access/users",
            "/nodes/pve1/qemu",
        ] {
            assert!(!check_path(path), "{path}");
        }
        assert_eq!(
            AclPath::parse("/vms/x y"),
            Err(PathError::BadChars("/vms/x y".into()))
        );
        assert_eq!(
            AclPath::parse("/vm/100"),
            Err(PathError::NotAnAclPath("/vm/100".into()))
        );
        assert_eq!(
            AclPath::parse("vms//100/").map(|p| p.to_string()),
            Ok("/vms/100".into())
        );
    }

    #[test]
    fn walks_from_the_root_down() {
        assert_eq!(walk("/").collect::<Vec<_>>(), ["/"]);
        assert_eq!(walk("/vms").collect::<Vec<_>>(), ["/", "/vms"]);
        assert_eq!(
            walk("/sdn/zones/z/v").collect::<Vec<_>>(),
            ["/", "/sdn", "/sdn/zones", "/sdn/zones/z", "/sdn/zones/z/v"]
        );
    }
}
