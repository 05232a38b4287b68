//! Identifiers of the access-control model: users, API tokens, groups, roles, pools, realms.
//!
//! The grammars are pve-access-control's (`src/PVE/Auth/Plugin.pm` `verify_username`,
//! `$realm_regex`, `$user_regex`; `src/PVE/AccessControl.pm` `$token_full_regex`,
//! `verify_groupname`, `verify_rolename`, `verify_poolname`). A parsed id is valid by
//! construction, so code that holds one never re-checks it.

use std::fmt;
use std::str::FromStr;

/// Longest user id Proxmox accepts (`verify_username`), in bytes.
pub const USERID_LEN_MAX: usize = 64;
/// Shortest user id Proxmox accepts (`verify_username`): `a@b` cannot be written shorter.
const USERID_LEN_MIN: usize = 3;
/// Pools nest at most this deep (`a/b/c`), as Proxmox VE 8.1+ allows.
pub const POOL_DEPTH_MAX: usize = 3;

/// Why a text is not a valid identifier. The message names the text and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("user name '{0}' is too short")]
    UseridTooShort(String),
    #[error("user name '{id}' is too long ({len} > {USERID_LEN_MAX})")]
    UseridTooLong { id: String, len: usize },
    #[error("user name '{0}' has no '@realm' part (write it as 'name@realm', e.g. 'alice@pve')")]
    UseridWithoutRealm(String),
    #[error("user name '{0}' has an empty name before '@'")]
    UseridEmptyName(String),
    #[error("user name '{0}' contains whitespace, ':' or '/', which user names cannot contain")]
    UseridBadChar(String),
    #[error(
        "realm '{realm}' in '{id}' is not valid: a realm starts with a letter and has at least 2 \
         characters out of letters, digits, '.', '-' and '_'"
    )]
    BadRealm { id: String, realm: String },
    #[error("value '{0}' does not look like a valid token ID (write 'user@realm!name')")]
    TokenidWithoutName(String),
    #[error(
        "token name '{name}' in '{id}' is not valid: a token name starts with a letter and has at \
         least 2 characters out of letters, digits, '.', '-' and '_'"
    )]
    BadTokenName { id: String, name: String },
    #[error(
        "group name '{0}' contains invalid characters (allowed: letters, digits, '.', '-', '_')"
    )]
    BadGroupName(String),
    #[error(
        "role name '{0}' contains invalid characters (allowed: letters, digits, '.', '-', '_')"
    )]
    BadRoleName(String),
    #[error("pool name '{0}' nested too deeply (max levels = {POOL_DEPTH_MAX})")]
    PoolTooDeep(String),
    #[error(
        "pool name '{0}' contains invalid characters (allowed: letters, digits, '.', '-', '_', and \
         '/' between nested pool names)"
    )]
    BadPoolName(String),
}

/// `[A-Za-z][A-Za-z0-9.\-_]+`: Proxmox's realm grammar, reused for token names.
fn is_realm_like(text: &str) -> bool {
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    first.is_ascii_alphabetic() && text.len() >= 2 && chars.all(is_name_char)
}

/// `[A-Za-z0-9.\-_]`: the characters of group, role and pool names, of realms and of ACL path
/// segments.
pub(super) fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')
}

/// `[A-Za-z0-9.\-_]+`.
pub(super) fn is_name(text: &str) -> bool {
    !text.is_empty() && text.chars().all(is_name_char)
}

/// Checks a realm id (`pve_verify_realm`): `[A-Za-z][A-Za-z0-9.\-_]+`.
pub fn is_valid_realm(realm: &str) -> bool {
    is_realm_like(realm)
}

/// A user id, `<name>@<realm>` (e.g. `root@pam`, `alice@pve`).
///
/// The name may contain anything but whitespace, `:` and `/` (even `@` or `!`: the realm is what
/// follows the last `@`); the realm is `[A-Za-z][A-Za-z0-9.\-_]+`; the whole id is 3 to 64 bytes.
/// Ordered as its text (Perl's `sort`), which is the order `user.cfg` is written in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Userid {
    full: String,
    /// Byte offset of the `@` before the realm.
    at: usize,
}

impl Userid {
    /// Parses a user id with Proxmox's `verify_username` rules.
    pub fn parse(text: &str) -> Result<Userid, IdError> {
        let len = text.len();
        if len < USERID_LEN_MIN {
            return Err(IdError::UseridTooShort(text.to_owned()));
        }
        if len > USERID_LEN_MAX {
            return Err(IdError::UseridTooLong {
                id: text.to_owned(),
                len,
            });
        }
        let at = text
            .rfind('@')
            .ok_or_else(|| IdError::UseridWithoutRealm(text.to_owned()))?;
        let (name, realm) = (&text[..at], &text[at + 1..]);
        if name.is_empty() {
            return Err(IdError::UseridEmptyName(text.to_owned()));
        }
        if name
            .chars()
            .any(|c| c.is_whitespace() || c == ':' || c == '/')
        {
            return Err(IdError::UseridBadChar(text.to_owned()));
        }
        if !is_realm_like(realm) {
            return Err(IdError::BadRealm {
                id: text.to_owned(),
                realm: realm.to_owned(),
            });
        }
        Ok(Userid {
            full: text.to_owned(),
            at,
        })
    }

    /// `root@pam`, the superuser: every privilege everywhere, ACL entries never saved.
    pub fn root() -> Userid {
        Userid {
            full: "root@pam".to_owned(),
            at: 4,
        }
    }

    /// Whether this is `root@pam`.
    pub fn is_root(&self) -> bool {
        self.full == "root@pam"
    }

    /// The whole id as written.
    pub fn as_str(&self) -> &str {
        &self.full
    }

    /// The part before the last `@` (the name the realm knows the user by).
    pub fn name(&self) -> &str {
        &self.full[..self.at]
    }

    /// The realm after the last `@`.
    pub fn realm(&self) -> &str {
        &self.full[self.at + 1..]
    }
}

impl fmt::Display for Userid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

impl FromStr for Userid {
    type Err = IdError;
    fn from_str(text: &str) -> Result<Userid, IdError> {
        Userid::parse(text)
    }
}

/// An API token id, `<userid>!<name>` (e.g. `monitor@pve!grafana`).
///
/// The token name follows the realm grammar, `[A-Za-z][A-Za-z0-9.\-_]+`. Ordered as its text:
/// comparing (user, name) gives the same order, because every character a realm may hold sorts
/// after `!`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tokenid {
    user: Userid,
    name: String,
}

impl Tokenid {
    /// Parses `user@realm!name` (Proxmox's `split_tokenid`, plus `verify_username`'s length
    /// limits on the user part, which Proxmox applies when it looks the user up).
    pub fn parse(text: &str) -> Result<Tokenid, IdError> {
        let bang = text
            .rfind('!')
            .ok_or_else(|| IdError::TokenidWithoutName(text.to_owned()))?;
        let user = Userid::parse(&text[..bang])?;
        Tokenid::new(user, &text[bang + 1..])
    }

    /// Joins a user and a token name (`join_tokenid`), checking the name.
    pub fn new(user: Userid, name: &str) -> Result<Tokenid, IdError> {
        if !is_realm_like(name) {
            return Err(IdError::BadTokenName {
                id: format!("{user}!{name}"),
                name: name.to_owned(),
            });
        }
        Ok(Tokenid {
            user,
            name: name.to_owned(),
        })
    }

    /// The user owning the token.
    pub fn user(&self) -> &Userid {
        &self.user
    }

    /// The token's name (after `!`).
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for Tokenid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}!{}", self.user, self.name)
    }
}

impl FromStr for Tokenid {
    type Err = IdError;
    fn from_str(text: &str) -> Result<Tokenid, IdError> {
        Tokenid::parse(text)
    }
}

/// Who a request runs as: a user (ticket) or an API token.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Authid {
    User(Userid),
    Token(Tokenid),
}

impl Authid {
    /// Parses a user id or a token id (Proxmox's `$userid_or_token_regex`). A text that is a
    /// valid user id is one, even when its name contains `!`.
    pub fn parse(text: &str) -> Result<Authid, IdError> {
        match Userid::parse(text) {
            Ok(user) => Ok(Authid::User(user)),
            Err(user_error) => {
                // A token id's part after the last '@' holds the '!'; a user id's never does.
                let after_at = text.rfind('@').map_or("", |at| &text[at + 1..]);
                if after_at.contains('!') {
                    Tokenid::parse(text).map(Authid::Token)
                } else {
                    Err(user_error)
                }
            }
        }
    }

    /// The user itself, or the token's owner.
    pub fn user(&self) -> &Userid {
        match self {
            Authid::User(user) => user,
            Authid::Token(token) => token.user(),
        }
    }

    /// Whether this is an API token.
    pub fn is_token(&self) -> bool {
        matches!(self, Authid::Token(_))
    }
}

impl fmt::Display for Authid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Authid::User(user) => user.fmt(f),
            Authid::Token(token) => token.fmt(f),
        }
    }
}

impl FromStr for Authid {
    type Err = IdError;
    fn from_str(text: &str) -> Result<Authid, IdError> {
        Authid::parse(text)
    }
}

impl From<Userid> for Authid {
    fn from(user: Userid) -> Authid {
        Authid::User(user)
    }
}

impl From<Tokenid> for Authid {
    fn from(token: Tokenid) -> Authid {
        Authid::Token(token)
    }
}

/// Checks a group name (`verify_groupname`): `[A-Za-z0-9.\-_]+`.
pub fn verify_group_name(name: &str) -> Result<(), IdError> {
    if is_name(name) {
        Ok(())
    } else {
        Err(IdError::BadGroupName(name.to_owned()))
    }
}

/// Checks a role name (`verify_rolename`): `[A-Za-z0-9.\-_]+`.
pub fn verify_role_name(name: &str) -> Result<(), IdError> {
    if is_name(name) {
        Ok(())
    } else {
        Err(IdError::BadRoleName(name.to_owned()))
    }
}

/// Checks a pool name (`verify_poolname`): up to three `[A-Za-z0-9.\-_]+` parts joined by `/`.
pub fn verify_pool_name(name: &str) -> Result<(), IdError> {
    let parts: Vec<&str> = name.split('/').collect();
    if parts.len() > POOL_DEPTH_MAX {
        return Err(IdError::PoolTooDeep(name.to_owned()));
    }
    if parts.iter().all(|part| is_name(part)) {
        Ok(())
    } else {
        Err(IdError::BadPoolName(name.to_owned()))
    }
}

/// Checks a storage id as a pool member (`user.cfg` parser): `[a-z][a-z0-9\-_.]*[a-z0-9]`,
/// case-insensitive.
pub fn is_valid_storage_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    bytes.len() >= 2
        && first.is_ascii_alphabetic()
        && last.is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userids_as_proxmox_reads_them() {
        let root = Userid::parse("root@pam").expect("valid");
        assert_eq!((root.name(), root.realm()), ("root", "pam"));
        assert!(root.is_root());
        assert_eq!(root, Userid::root());
        // The realm is what follows the last '@'; the name may hold '@' and '!'.
        let odd = Userid::parse("a@b!c@pve").expect("valid");
        assert_eq!((odd.name(), odd.realm()), ("a@b!c", "pve"));
        assert!(Userid::parse("ab@c").is_err(), "realm needs 2 characters");
        assert_eq!(
            Userid::parse("a@"),
            Err(IdError::UseridTooShort("a@".into()))
        );
        assert_eq!(
            Userid::parse("alice"),
            Err(IdError::UseridWithoutRealm("alice".into()))
        );
        assert_eq!(
            Userid::parse("@pve"),
            Err(IdError::UseridEmptyName("@pve".into()))
        );
        for bad in ["al ice@pve", "al:ice@pve", "al/ice@pve", "al\tice@pve"] {
            assert_eq!(
                Userid::parse(bad),
                Err(IdError::UseridBadChar(bad.into())),
                "{bad}"
            );
        }
        assert!(matches!(
            Userid::parse("alice@1pve"),
            Err(IdError::BadRealm { .. })
        ));
        let long = format!("{}@pve", "a".repeat(60));
        assert_eq!(long.len(), 64);
        assert!(Userid::parse(&long).is_ok());
        let too_long = format!("{}@pve", "a".repeat(61));
        assert_eq!(
            Userid::parse(&too_long).map_err(|e| e.to_string()),
            Err(format!("user name '{too_long}' is too long (65 > 64)"))
        );
    }

    #[test]
    fn token_ids_split_at_the_last_bang() {
        let token = Tokenid::parse("monitor@pve!grafana").expect("valid");
        assert_eq!(token.user().as_str(), "monitor@pve");
        assert_eq!(token.name(), "grafana");
        assert_eq!(token.to_string(), "monitor@pve!grafana");
        assert!(matches!(
            Tokenid::parse("monitor@pve!g"),
            Err(IdError::BadTokenName { .. })
        ));
        assert!(matches!(
            Tokenid::parse("monitor@pve!1abc"),
            Err(IdError::BadTokenName { .. })
        ));
        assert!(matches!(
            Tokenid::parse("monitor@pve"),
            Err(IdError::TokenidWithoutName(_))
        ));
    }

    #[test]
    fn authids_are_users_or_tokens() {
        assert_eq!(
            Authid::parse("alice@pve").expect("valid").to_string(),
            "alice@pve"
        );
        let token = Authid::parse("alice@pve!ci").expect("valid");
        assert!(token.is_token());
        assert_eq!(token.user().as_str(), "alice@pve");
        // A '!' in the name part keeps it a user id.
        assert!(!Authid::parse("a!b@pve").expect("valid").is_token());
        assert!(matches!(
            Authid::parse("alice@pve!x"),
            Err(IdError::BadTokenName { .. })
        ));
        assert!(Authid::parse("nobody").is_err());
    }

    #[test]
    fn token_order_is_text_order() {
        let mut ids = ["a@pve.x!bb", "a@pve!zz", "a@pve-2!aa", "a@pv!qq"]
            .map(|t| Tokenid::parse(t).expect("valid"))
            .to_vec();
        ids.sort();
        let mut texts: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let sorted = texts.clone();
        texts.sort();
        assert_eq!(texts, sorted);
    }

    #[test]
    fn group_role_pool_names() {
        assert!(verify_group_name("ops-team_1.x").is_ok());
        assert!(verify_group_name("ops team").is_err());
        assert!(verify_group_name("").is_err());
        assert!(verify_role_name("VM.Starter").is_ok());
        assert!(verify_role_name("a:b").is_err());
        assert!(verify_pool_name("prod").is_ok());
        assert!(verify_pool_name("prod/web/eu").is_ok());
        assert_eq!(
            verify_pool_name("a/b/c/d"),
            Err(IdError::PoolTooDeep("a/b/c/d".into()))
        );
        assert!(verify_pool_name("a//b").is_err());
        assert!(verify_pool_name("a/").is_err());
        assert!(is_valid_storage_id("local-lvm"));
        assert!(is_valid_storage_id("NFS.1"));
        assert!(!is_valid_storage_id("a"));
        assert!(!is_valid_storage_id("1local"));
        assert!(!is_valid_storage_id("local-"));
    }
}
