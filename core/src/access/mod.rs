//! Users, API tokens, groups, roles, pools and ACLs: who may do what, as Proxmox VE decides it.
//!
//! Reference: `../shared/reference/statd-spice-permissions.md` §4 (permission model) and §5
//! (login files); sources pve-access-control `src/PVE/AccessControl.pm`,
//! `src/PVE/RPCEnvironment.pm`, `src/PVE/Auth/*.pm`, pve-common `src/PVE/Tools.pm`,
//! `src/PVE/SectionConfig.pm`.
//!
//! The files, each read from its text (core opens no file) and written back as text:
//! - [`UserConfig`]: `/etc/pve/user.cfg`, with [`UserConfig::parse`] (never fails; skipped
//!   lines come back as [`LineWarning`]s) and [`UserConfig::render`] (Proxmox's layout);
//! - [`TokenSecrets`]: `/etc/pve/priv/token.cfg`; [`Shadow`]: `/etc/pve/priv/shadow.cfg`;
//! - [`Domains`]: `/etc/pve/domains.cfg` (read only); [`TfaConfig`]: `/etc/pve/priv/tfa.cfg`
//!   (read only).
//!
//! The decisions, all on [`UserConfig`]:
//! - [`UserConfig::permissions`], [`UserConfig::check`]: privileges of a user or token on a
//!   path (the walk is described in `eval.rs`);
//! - [`UserConfig::effective_permissions`] (`GET /access/permissions`),
//!   [`UserConfig::compute_api_permission`] (the login reply's `cap`);
//! - [`UserConfig::check_user_enabled`], [`UserConfig::check_token`]: may this account log in.
//!
//! Differences from Proxmox (each also documented, under "Difference:", where it is made):
//! - Reading `user.cfg`, corral keeps everything Proxmox keeps and skips everything it skips,
//!   but warns in more cases (flags other than 0/1, extra fields from an unescaped `:`, a keys
//!   field that looks like the end of a comment, ACL paths no ACL can be set on, undefined group
//!   members and ACL users or groups, a user defined twice). ACL entries for root@pam and
//!   `role:` lines naming a built-in role are ignored with a warning (Proxmox keeps the former
//!   in memory without ever saving them, and merges the latter into the built-in role until
//!   the daemon restarts). A comment or name of `0` is kept (Proxmox drops it as Perl-false).
//! - `user.cfg` ACLs are written depth first with children sorted (Proxmox: hash order);
//!   `shadow.cfg` lines sorted by user (Proxmox: hash order).
//! - Editing: an ACL entry for root@pam is refused (Proxmox accepts and never saves it); a path
//!   left without entries is dropped at once (Proxmox keeps the empty node until re-read).
//! - A role given by two of a user's groups on the same path with different propagate flags
//!   propagates (Proxmox: whichever group its hash order visits last; only the informational
//!   flag can differ).
//! - `domains.cfg`: keys other than `comment`, `default` and `tfa` are kept unchecked; the
//!   first `default` realm in the file wins (Proxmox: first in hash order); `GET
//!   /access/domains` is sorted by realm (Proxmox: hash order).
//! - `/mapping/<type>` accepts any type name, as Proxmox does.

mod domains;
mod edit;
mod eval;
mod ids;
mod path;
mod privs;
mod secrets;
mod text;
mod tfa;
mod user_cfg;

pub use domains::{Domains, Realm, RealmTfa};
pub use edit::{EditError, NewUser};
pub use eval::{AccessError, Privileges};
pub use ids::{
    Authid, IdError, POOL_DEPTH_MAX, Tokenid, USERID_LEN_MAX, Userid, is_valid_realm,
    is_valid_storage_id, verify_group_name, verify_pool_name, verify_role_name,
};
pub use path::{AclPath, PathError, check_path, normalize_path};
pub use privs::{
    BUILTIN_ROLES, NO_ACCESS, PRIV_GROUPS, PRIVILEGES, PrivGroup, PrivSet, builtin_role,
    is_builtin_role, is_privilege,
};
pub use secrets::{BadHash, Shadow, TokenSecrets};
pub use text::{decode_text, encode_text, split_list};
pub use tfa::{TfaConfig, TfaError};
pub use user_cfg::{
    AclMember, AclNode, Group, LineWarning, Parsed, Pool, RoleFlags, Token, User, UserConfig,
};

#[cfg(test)]
mod tests;
