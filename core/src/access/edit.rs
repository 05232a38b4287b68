//! Changes the CLI and API make to `user.cfg`, each checked first and applied whole or not at
//! all, with the checks and messages of pve-access-control's API (`API2/User.pm`,
//! `API2/Group.pm`, `API2/Role.pm`, `API2/ACL.pm`).

use std::collections::BTreeSet;

use super::ids::{IdError, Tokenid, Userid, verify_group_name, verify_role_name};
use super::path::{AclPath, PathError};
use super::privs::{PrivSet, is_builtin_role};
use super::user_cfg::{AclMember, Group, Token, User, UserConfig};

/// Why a change to `user.cfg` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error(transparent)]
    Id(#[from] IdError),
    #[error(transparent)]
    Path(#[from] PathError),
    #[error("user '{0}' already exists")]
    UserExists(Userid),
    #[error("user '{0}' does not exist")]
    NoSuchUser(Userid),
    #[error("group '{0}' already exists")]
    GroupExists(String),
    #[error("group '{0}' does not exist")]
    NoSuchGroup(String),
    #[error("role '{0}' already exists")]
    RoleExists(String),
    #[error("role '{0}' does not exist")]
    NoSuchRole(String),
    #[error("invalid privilege '{0}'")]
    UnknownPrivilege(String),
    #[error("token '{0}' already exists")]
    TokenExists(Tokenid),
    #[error("no such token '{}' for user '{}'", .0.name(), .0.user())]
    NoSuchToken(Tokenid),
    #[error("invalid email address '{0}'")]
    BadEmail(String),
    #[error("expire must be 0 (never) or seconds since 1970, not {0}")]
    BadExpire(i64),
    #[error("no role given")]
    NoRoles,
    #[error("no user, group or token given")]
    NoMembers,
    #[error(
        "ACL entries for root@pam are never saved: root@pam always has every privilege on every \
         path"
    )]
    RootAcl,
}

/// A new user's settings (`pveum user add`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub enable: bool,
    /// 0 = never.
    pub expire: i64,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    pub email: Option<String>,
    pub comment: Option<String>,
    /// Groups to add the user to; each must exist.
    pub groups: Vec<String>,
}

impl Default for NewUser {
    /// Enabled, never expiring (Proxmox's defaults).
    fn default() -> NewUser {
        NewUser {
            enable: true,
            expire: 0,
            firstname: None,
            lastname: None,
            email: None,
            comment: None,
            groups: Vec::new(),
        }
    }
}

impl UserConfig {
    /// Adds a user (`pveum user add`). The password lives elsewhere (`shadow.cfg` or the realm).
    pub fn add_user(&mut self, userid: &Userid, new: NewUser) -> Result<(), EditError> {
        if self.users.contains_key(userid) {
            return Err(EditError::UserExists(userid.clone()));
        }
        check_expire(new.expire)?;
        let email = non_empty(new.email);
        if let Some(email) = &email {
            check_email(email)?;
        }
        for group in &new.groups {
            if !self.groups.contains_key(group) {
                return Err(EditError::NoSuchGroup(group.clone()));
            }
        }
        let user = User {
            enable: new.enable,
            expire: new.expire,
            firstname: non_empty(new.firstname),
            lastname: non_empty(new.lastname),
            email,
            comment: non_empty(new.comment),
            ..User::enabled()
        };
        self.users.insert(userid.clone(), user);
        for group in &new.groups {
            if let Some(group) = self.groups.get_mut(group) {
                group.users.insert(userid.clone());
            }
        }
        Ok(())
    }

    /// Adds an API token to an existing user (`pveum user token add`). The secret is written
    /// to `token.cfg` by the caller.
    pub fn add_token(&mut self, token: &Tokenid, new: Token) -> Result<(), EditError> {
        check_expire(new.expire)?;
        let user = self
            .users
            .get_mut(token.user())
            .ok_or_else(|| EditError::NoSuchUser(token.user().clone()))?;
        if user.tokens.contains_key(token.name()) {
            return Err(EditError::TokenExists(token.clone()));
        }
        let new = Token {
            comment: non_empty(new.comment),
            ..new
        };
        user.tokens.insert(token.name().to_owned(), new);
        Ok(())
    }

    /// Adds an empty group (`pveum group add`).
    pub fn add_group(&mut self, name: &str, comment: Option<String>) -> Result<(), EditError> {
        verify_group_name(name)?;
        if self.groups.contains_key(name) {
            return Err(EditError::GroupExists(name.to_owned()));
        }
        let group = Group {
            users: BTreeSet::new(),
            comment: non_empty(comment),
        };
        self.groups.insert(name.to_owned(), group);
        Ok(())
    }

    /// Makes an existing user a member of an existing group (`pveum user modify --groups`
    /// with `--append`). Adding a member twice changes nothing.
    pub fn add_group_member(&mut self, group: &str, userid: &Userid) -> Result<(), EditError> {
        if !self.users.contains_key(userid) {
            return Err(EditError::NoSuchUser(userid.clone()));
        }
        let group = self
            .groups
            .get_mut(group)
            .ok_or_else(|| EditError::NoSuchGroup(group.to_owned()))?;
        group.users.insert(userid.clone());
        Ok(())
    }

    /// Adds a custom role with the given privileges (`pveum role add`).
    pub fn add_role(&mut self, name: &str, privs: &[&str]) -> Result<(), EditError> {
        verify_role_name(name)?;
        if is_builtin_role(name) || self.roles.contains_key(name) {
            return Err(EditError::RoleExists(name.to_owned()));
        }
        let mut set = PrivSet::EMPTY;
        for privilege in privs {
            let one = PrivSet::single(privilege)
                .ok_or_else(|| EditError::UnknownPrivilege((*privilege).to_owned()))?;
            set = set.union(one);
        }
        self.roles.insert(name.to_owned(), set);
        Ok(())
    }

    /// Grants `roles` on `path` to `members` (`pveum acl modify PATH --roles … --users/--groups
    /// /--tokens …`): each (member, role) is set to `propagate`, other entries stay. Proxmox's
    /// CLI and API default `propagate` to true; the caller decides.
    ///
    /// Difference: an entry for root@pam is refused; Proxmox accepts it and silently never
    /// writes it.
    pub fn set_acl(
        &mut self,
        path: &str,
        members: &[AclMember],
        roles: &[&str],
        propagate: bool,
    ) -> Result<(), EditError> {
        let path = self.check_acl_change(path, members, roles)?;
        let node = self.acl.entry(path.as_str().to_owned()).or_default();
        for member in members {
            node.grant(member, roles.iter().copied(), propagate);
        }
        Ok(())
    }

    /// Takes `roles` on `path` away from `members` (`pveum acl delete`). Entries that are not
    /// there are no error, as in Proxmox.
    ///
    /// Difference: a path left without entries is dropped; Proxmox keeps its empty tree node,
    /// which then still counts as an ACL path for `GET /access/permissions` and the login `cap`
    /// (without granting anything) until the file is read again.
    pub fn delete_acl(
        &mut self,
        path: &str,
        members: &[AclMember],
        roles: &[&str],
    ) -> Result<(), EditError> {
        let path = self.check_acl_change(path, members, roles)?;
        let Some(node) = self.acl.get_mut(path.as_str()) else {
            return Ok(());
        };
        for member in members {
            let flags = match member {
                AclMember::User(user) => node.users.get_mut(user),
                AclMember::Group(group) => node.groups.get_mut(group),
                AclMember::Token(token) => node.tokens.get_mut(token),
            };
            if let Some(flags) = flags {
                for role in roles {
                    flags.remove(*role);
                }
            }
        }
        node.users.retain(|_, flags| !flags.is_empty());
        node.groups.retain(|_, flags| !flags.is_empty());
        node.tokens.retain(|_, flags| !flags.is_empty());
        if node.is_empty() {
            self.acl.remove(path.as_str());
        }
        Ok(())
    }

    /// The checks of Proxmox's `update_acl`: a settable path, existing roles, existing users,
    /// groups and tokens.
    fn check_acl_change(
        &self,
        path: &str,
        members: &[AclMember],
        roles: &[&str],
    ) -> Result<AclPath, EditError> {
        let path = AclPath::parse(path)?;
        if roles.is_empty() {
            return Err(EditError::NoRoles);
        }
        if members.is_empty() {
            return Err(EditError::NoMembers);
        }
        for role in roles {
            if self.role(role).is_none() {
                return Err(EditError::NoSuchRole((*role).to_owned()));
            }
        }
        for member in members {
            match member {
                AclMember::User(user) if user.is_root() => return Err(EditError::RootAcl),
                AclMember::User(user) if !self.users.contains_key(user) => {
                    return Err(EditError::NoSuchUser(user.clone()));
                }
                AclMember::Group(group) if !self.groups.contains_key(group) => {
                    return Err(EditError::NoSuchGroup(group.clone()));
                }
                AclMember::Token(token) if self.token(token).is_none() => {
                    return Err(EditError::NoSuchToken(token.clone()));
                }
                _ => {}
            }
        }
        Ok(path)
    }
}

fn non_empty(text: Option<String>) -> Option<String> {
    text.filter(|text| !text.is_empty())
}

fn check_expire(expire: i64) -> Result<(), EditError> {
    if expire < 0 {
        Err(EditError::BadExpire(expire))
    } else {
        Ok(())
    }
}

/// Proxmox's `pve-email` format: `[\w+\-~]+(\.[\w+\-~]+)*@[a-zA-Z0-9\-]+(\.[a-zA-Z0-9\-]+)*`.
/// It also keeps `:` and line breaks, which would break the file, out of the raw email field.
fn check_email(email: &str) -> Result<(), EditError> {
    let bad = || EditError::BadEmail(email.to_owned());
    let (local, domain) = email.rsplit_once('@').ok_or_else(bad)?;
    let local_ok = local.split('.').all(|part| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '+' | '-' | '~'))
    });
    let domain_ok = domain.split('.').all(|part| {
        !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    });
    if local_ok && domain_ok {
        Ok(())
    } else {
        Err(bad())
    }
}
