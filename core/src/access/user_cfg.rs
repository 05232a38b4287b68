//! `/etc/pve/user.cfg`: users, API tokens, groups, pools, custom roles and ACLs, read and
//! written as pve-access-control's `parse_user_config` / `write_user_config`.
//!
//! Reading never fails: a line Proxmox would skip is skipped with a [`LineWarning`] naming its
//! line, and everything else still loads. What Proxmox reads, corral reads the same way; the
//! warnings only explain. [`UserConfig::render`] writes Proxmox's layout, so a file written by
//! either reads the same in both.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::ids::{
    IdError, Tokenid, Userid, is_valid_storage_id, verify_group_name, verify_pool_name,
    verify_role_name,
};
use super::path::{check_path, normalize_path};
use super::privs::{PrivSet, builtin_role, is_builtin_role};
use super::text::{decode_text, encode_text, split_list};
use crate::perl;

/// A problem on one line of a file that was skipped or read in a way worth knowing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineWarning {
    /// 1-based line number.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for LineWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// A file that was read, with what was skipped or is worth knowing about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed<T> {
    pub config: T,
    pub warnings: Vec<LineWarning>,
}

/// One user (`user:` line) and its API tokens (`token:` lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub enable: bool,
    /// Seconds since the epoch after which the user cannot log in; 0 = never.
    pub expire: i64,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    pub email: Option<String>,
    pub comment: Option<String>,
    /// The legacy per-user TFA field (`x` or `x!<type>` once migrated to `tfa.cfg`), kept as
    /// written.
    pub keys: Option<String>,
    /// Token name → token.
    pub tokens: BTreeMap<String, Token>,
}

impl User {
    /// An enabled user that never expires, with nothing else set.
    pub fn enabled() -> User {
        User {
            enable: true,
            expire: 0,
            firstname: None,
            lastname: None,
            email: None,
            comment: None,
            keys: None,
            tokens: BTreeMap::new(),
        }
    }
}

/// An API token (`token:` line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Seconds since the epoch after which the token is refused; 0 = never.
    pub expire: i64,
    /// Privilege separation: the token has only its own ACL privileges (within the user's).
    pub privsep: bool,
    pub comment: Option<String>,
}

impl Default for Token {
    /// Never expiring, with privilege separation (Proxmox's defaults for a new token).
    fn default() -> Token {
        Token {
            expire: 0,
            privsep: true,
            comment: None,
        }
    }
}

/// A group (`group:` line).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Group {
    /// Members. Proxmox keeps members that are not (yet) defined users; so does corral.
    pub users: BTreeSet<Userid>,
    pub comment: Option<String>,
}

/// A resource pool (`pool:` line).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pool {
    pub comment: Option<String>,
    /// Member guests. A guest is in at most one pool.
    pub vms: BTreeSet<u32>,
    /// Member storages.
    pub storage: BTreeSet<String>,
}

/// Role name → propagate flag, for one member on one path.
pub type RoleFlags = BTreeMap<String, bool>;

/// The ACL entries on one path.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AclNode {
    pub users: BTreeMap<Userid, RoleFlags>,
    /// Group name → roles.
    pub groups: BTreeMap<String, RoleFlags>,
    pub tokens: BTreeMap<Tokenid, RoleFlags>,
}

impl AclNode {
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.groups.is_empty() && self.tokens.is_empty()
    }

    /// Gives `member` each of `roles` on this path with the `propagate` flag (a role it
    /// already has takes the new flag).
    pub(crate) fn grant<'r>(
        &mut self,
        member: &AclMember,
        roles: impl IntoIterator<Item = &'r str>,
        propagate: bool,
    ) {
        let flags = match member {
            AclMember::User(user) => self.users.entry(user.clone()).or_default(),
            AclMember::Group(group) => self.groups.entry(group.clone()).or_default(),
            AclMember::Token(token) => self.tokens.entry(token.clone()).or_default(),
        };
        for role in roles {
            flags.insert(role.to_owned(), propagate);
        }
    }
}

/// Who an ACL entry is for: `user@realm`, `@group` or `user@realm!token`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum AclMember {
    User(Userid),
    Group(String),
    Token(Tokenid),
}

impl AclMember {
    /// Reads the forms of an `acl:` line: `@name` is a group, else a user id, else a token id.
    pub fn parse(text: &str) -> Result<AclMember, IdError> {
        if let Some(group) = text.strip_prefix('@')
            && verify_group_name(group).is_ok()
        {
            return Ok(AclMember::Group(group.to_owned()));
        }
        match Userid::parse(text) {
            Ok(user) => Ok(AclMember::User(user)),
            Err(error) if text.contains('!') => Tokenid::parse(text)
                .map(AclMember::Token)
                .map_err(|_| error),
            Err(error) => Err(error),
        }
    }
}

/// The whole of `user.cfg`, with Proxmox's defaults applied (root@pam always exists).
///
/// Invariants kept by [`UserConfig::parse`] and the editing methods: every ACL role is a
/// built-in or custom role; every ACL token exists; a guest is in at most one pool; no ACL
/// entry names root@pam (it has every privilege anyway, and Proxmox never saves such entries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserConfig {
    pub(crate) users: BTreeMap<Userid, User>,
    pub(crate) groups: BTreeMap<String, Group>,
    pub(crate) pools: BTreeMap<String, Pool>,
    /// Custom roles only; built-in roles come from [`builtin_role`].
    pub(crate) roles: BTreeMap<String, PrivSet>,
    /// Normalised path → entries; paths without entries are not kept.
    pub(crate) acl: BTreeMap<String, AclNode>,
}

impl Default for UserConfig {
    /// The configuration of a missing `user.cfg`: root@pam, enabled, and nothing else.
    fn default() -> UserConfig {
        let mut users = BTreeMap::new();
        users.insert(Userid::root(), User::enabled());
        UserConfig {
            users,
            groups: BTreeMap::new(),
            pools: BTreeMap::new(),
            roles: BTreeMap::new(),
            acl: BTreeMap::new(),
        }
    }
}

/// How many `:`-separated fields each line type has, its type included.
const USER_FIELDS: usize = 9;
const TOKEN_FIELDS: usize = 5;
const GROUP_FIELDS: usize = 4;
const POOL_FIELDS: usize = 5;
const ROLE_FIELDS: usize = 3;
const ACL_FIELDS: usize = 5;

impl UserConfig {
    /// Reads `user.cfg`. `None` (or an empty text) is a missing file: only root@pam exists.
    ///
    /// Lines are trimmed, empty lines skipped, fields split on `:` and trimmed. Users and tokens
    /// must come before the groups, ACLs and tokens that refer to them, and roles before the
    /// ACLs that use them, as Proxmox writes them.
    ///
    /// Difference: more warnings than Proxmox gives (flags other than 0/1, more fields than the
    /// line type has, a keys field that looks like the end of a comment, ACL paths no ACL can be
    /// set on, undefined group members and ACL users or groups, a user defined twice), each
    /// about something read exactly as Proxmox reads it. Two things Proxmox reads are ignored
    /// with a warning instead: ACL entries for root@pam (Proxmox keeps them in memory but never
    /// saves them; root@pam has every privilege anyway) and `role:` lines naming a built-in
    /// role (Proxmox merges them into the built-in role until the daemon restarts). A guest id
    /// above 4294967295 is refused (no Proxmox guest id is that large).
    pub fn parse(text: Option<&str>) -> Parsed<UserConfig> {
        let mut parser = Parser::default();
        for (index, raw) in text.unwrap_or("").split('\n').enumerate() {
            let line = raw.trim();
            if !line.is_empty() {
                parser.line(index + 1, line);
            }
        }
        parser
            .config
            .users
            .entry(Userid::root())
            .or_insert_with(User::enabled);
        Parsed {
            config: parser.config,
            warnings: parser.warnings,
        }
    }

    /// Writes `user.cfg` as Proxmox's `write_user_config`: users (each followed by its tokens),
    /// groups, pools, custom roles, then the ACLs path by path (a walk of the path tree, children
    /// in sorted order), each section followed by an empty line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (userid, user) in &self.users {
            out.push_str(&user_line(userid, user));
            for (name, token) in &user.tokens {
                out.push_str(&token_line(userid, name, token));
            }
        }
        out.push('\n');
        for (name, group) in &self.groups {
            let members: Vec<&str> = group.users.iter().map(Userid::as_str).collect();
            let comment = encoded(group.comment.as_deref());
            out.push_str(&format!("group:{name}:{}:{comment}:\n", members.join(",")));
        }
        out.push('\n');
        for (name, pool) in &self.pools {
            out.push_str(&pool_line(name, pool));
        }
        out.push('\n');
        for (name, privs) in &self.roles {
            out.push_str(&format!("role:{name}:{privs}:\n"));
        }
        out.push('\n');
        for path in self.acl_paths_in_tree_order() {
            if let Some(node) = self.acl.get(path) {
                out.push_str(&acl_lines(path, node));
            }
        }
        out
    }

    /// The ACL paths in the order Proxmox's tree walk visits them: depth first, children
    /// sorted by name (so `/sdn/zones/z/v` comes before `/sdn/zones/z-1`).
    ///
    /// Difference: Proxmox visits children in Perl hash order, so its order varies between
    /// writes; corral's is stable. Both read back the same.
    pub(crate) fn acl_paths_in_tree_order(&self) -> Vec<&str> {
        let mut paths: Vec<&str> = self.acl.keys().map(String::as_str).collect();
        paths.sort_by_key(|path| path_segments(path));
        paths
    }

    /// Every user, root@pam included.
    pub fn users(&self) -> &BTreeMap<Userid, User> {
        &self.users
    }

    pub fn user(&self, userid: &Userid) -> Option<&User> {
        self.users.get(userid)
    }

    /// A token of an existing user.
    pub fn token(&self, token: &Tokenid) -> Option<&Token> {
        self.users.get(token.user())?.tokens.get(token.name())
    }

    pub fn groups(&self) -> &BTreeMap<String, Group> {
        &self.groups
    }

    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.get(name)
    }

    /// The groups a user is a member of, sorted.
    pub fn groups_of(&self, userid: &Userid) -> Vec<&str> {
        self.groups
            .iter()
            .filter(|(_, group)| group.users.contains(userid))
            .map(|(name, _)| name.as_str())
            .collect()
    }

    pub fn pools(&self) -> &BTreeMap<String, Pool> {
        &self.pools
    }

    pub fn pool(&self, name: &str) -> Option<&Pool> {
        self.pools.get(name)
    }

    /// The custom roles (`role:` lines); built-in roles are not in this map.
    pub fn custom_roles(&self) -> &BTreeMap<String, PrivSet> {
        &self.roles
    }

    /// The privileges of a built-in or custom role.
    pub fn role(&self, name: &str) -> Option<PrivSet> {
        builtin_role(name).or_else(|| self.roles.get(name).copied())
    }

    /// The ACL, normalised path → entries.
    pub fn acl(&self) -> &BTreeMap<String, AclNode> {
        &self.acl
    }
}

/// The segments of a normalised path, for sorting in tree order (`/` has none).
fn path_segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|part| !part.is_empty()).collect()
}

fn encoded(text: Option<&str>) -> String {
    text.map(encode_text).unwrap_or_default()
}

fn user_line(userid: &Userid, user: &User) -> String {
    format!(
        "user:{userid}:{}:{}:{}:{}:{}:{}:{}:\n",
        u8::from(user.enable),
        user.expire,
        encoded(user.firstname.as_deref()),
        encoded(user.lastname.as_deref()),
        user.email.as_deref().unwrap_or(""),
        encoded(user.comment.as_deref()),
        user.keys.as_deref().unwrap_or(""),
    )
}

fn token_line(userid: &Userid, name: &str, token: &Token) -> String {
    format!(
        "token:{userid}!{name}:{}:{}:{}:\n",
        token.expire,
        u8::from(token.privsep),
        encoded(token.comment.as_deref()),
    )
}

fn pool_line(name: &str, pool: &Pool) -> String {
    // Proxmox sorts the guest ids as text (`sort keys`): 1000 before 200.
    let mut vms: Vec<String> = pool.vms.iter().map(u32::to_string).collect();
    vms.sort();
    let storage: Vec<&str> = pool.storage.iter().map(String::as_str).collect();
    format!(
        "pool:{name}:{}:{}:{}:\n",
        encoded(pool.comment.as_deref()),
        vms.join(","),
        storage.join(",")
    )
}

/// A path's `acl:` lines as `write_user_config` groups them: members with the same roles and
/// propagate flag share a line; non-propagating lines first, then by role list.
fn acl_lines(path: &str, node: &AclNode) -> String {
    // propagate → role list → members
    let mut grouped: [BTreeMap<String, BTreeSet<String>>; 2] = Default::default();
    let members = node
        .groups
        .iter()
        .map(|(name, roles)| (format!("@{name}"), roles))
        .chain(
            node.users
                .iter()
                .filter(|(userid, _)| !userid.is_root())
                .map(|(userid, roles)| (userid.to_string(), roles)),
        )
        .chain(
            node.tokens
                .iter()
                .map(|(token, roles)| (token.to_string(), roles)),
        );
    for (member, roles) in members {
        for propagate in [false, true] {
            let list: Vec<&str> = roles
                .iter()
                .filter(|(_, flag)| **flag == propagate)
                .map(|(role, _)| role.as_str())
                .collect();
            if !list.is_empty() {
                grouped[usize::from(propagate)]
                    .entry(list.join(","))
                    .or_default()
                    .insert(member.clone());
            }
        }
    }
    let mut out = String::new();
    for (propagate, by_roles) in grouped.iter().enumerate() {
        for (roles, members) in by_roles {
            let members: Vec<&str> = members.iter().map(String::as_str).collect();
            out.push_str(&format!(
                "acl:{propagate}:{path}:{}:{roles}:\n",
                members.join(",")
            ));
        }
    }
    out
}

/// Whether the legacy `keys` field holds what Proxmox puts there: `x` or `x!<type>` (keys moved
/// to `tfa.cfg`), or old TOTP secrets (base32 of 16, hex of 40, `v2-…`) and Yubico key ids
/// (12 modhex characters). Anything else is most likely a comment cut at an unescaped `:`.
fn looks_like_tfa_keys(keys: &str) -> bool {
    if keys == "x" || keys.starts_with("x!") {
        return true;
    }
    let base32 = |text: &str| {
        !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c) || c == '=')
    };
    let hex = |text: &str| !text.is_empty() && text.chars().all(|c| c.is_ascii_hexdigit());
    split_list(keys).all(|key| {
        (key.len() == 16 && base32(key))
            || (key.len() == 40 && hex(key))
            || key.strip_prefix("v2-0x").is_some_and(hex)
            || key.strip_prefix("v2-").is_some_and(base32)
            || (key.len() == 12 && key.chars().all(|c| "cbdefghijklnrtuv".contains(c)))
    })
}

/// An optional free-text field: empty is absent.
///
/// Difference: a comment or name of `0` is kept; Proxmox drops it, as `0` is false in Perl.
fn text_field(field: &str) -> Option<String> {
    (!field.is_empty()).then(|| decode_text(field))
}

#[derive(Default)]
struct Parser {
    config: UserConfig,
    warnings: Vec<LineWarning>,
    line: usize,
    /// Where each user was defined, to name it when it is defined again.
    user_lines: BTreeMap<Userid, usize>,
}

impl Parser {
    fn warn(&mut self, message: impl Into<String>) {
        self.warnings.push(LineWarning {
            line: self.line,
            message: message.into(),
        });
    }

    fn line(&mut self, number: usize, line: &str) {
        self.line = number;
        let mut fields: Vec<&str> = line.split(':').map(str::trim).collect();
        // Perl's split drops trailing empty fields.
        while fields.last().is_some_and(|field| field.is_empty()) {
            fields.pop();
        }
        let kind = fields.first().copied().unwrap_or("");
        let expected = match kind {
            "user" => USER_FIELDS,
            "token" => TOKEN_FIELDS,
            "group" => GROUP_FIELDS,
            "pool" => POOL_FIELDS,
            "role" => ROLE_FIELDS,
            "acl" => ACL_FIELDS,
            _ => {
                self.unknown_line(line);
                return;
            }
        };
        if fields.len() > expected {
            self.warn(format!(
                "{kind} line has {} fields where {expected} are expected: a ':' inside a value \
                 must be written as %3A; the fields after the {expected}th are ignored",
                fields.len()
            ));
        }
        fields.resize(expected.max(fields.len()), "");
        let data = &fields[1..];
        match kind {
            "user" => self.user(data),
            "token" => self.token(data),
            "group" => self.group(data),
            "pool" => self.pool(data),
            "role" => self.role(data),
            _ => self.acl(data),
        }
    }

    fn unknown_line(&mut self, line: &str) {
        if line.starts_with('#') {
            self.warn(
                "ignoring comment line: user.cfg has no comments (Proxmox VE warns about this \
                 line too, and drops it the next time it writes the file)",
            );
        } else {
            let kind = line.split(':').next().unwrap_or("").trim();
            self.warn(format!(
                "ignoring line of unknown type '{kind}' (known: user, token, group, pool, role, \
                 acl)"
            ));
        }
    }

    /// A 0/1 flag read with Perl truthiness, warning when it is neither.
    fn flag(&mut self, what: &str, name: &str, field: &str) -> bool {
        // Perl truthiness, as Proxmox reads flags.
        let value = !perl::is_false(field);
        if !matches!(field, "" | "0" | "1") {
            self.warn(format!(
                "{what} '{name}': '{field}' is not 0 or 1; read as {}, as Proxmox VE does",
                u8::from(value)
            ));
        }
        value
    }

    /// An expiry field: empty or 0 is never; otherwise digits only.
    fn expire(&mut self, what: &str, name: &str, field: &str) -> Option<i64> {
        if field.is_empty() {
            return Some(0);
        }
        let value = field
            .chars()
            .all(|c| c.is_ascii_digit())
            .then(|| field.parse::<i64>().ok())
            .flatten();
        if value.is_none() {
            self.warn(format!(
                "ignoring {what} '{name}': expire '{field}' is not a number of seconds since \
                 1970 (0 = never)"
            ));
        }
        value
    }

    fn user(&mut self, data: &[&str]) {
        let [
            id,
            enable,
            expire,
            firstname,
            lastname,
            email,
            comment,
            keys,
            ..,
        ] = *data
        else {
            return;
        };
        let userid = match Userid::parse(id) {
            Ok(userid) => userid,
            Err(error) => {
                self.warn(format!("ignoring user: {error}"));
                return;
            }
        };
        let enable = self.flag("user", id, enable);
        let Some(expire) = self.expire("user", id, expire) else {
            return;
        };
        if !keys.is_empty() && !looks_like_tfa_keys(keys) {
            self.warn(format!(
                "user '{id}': the TFA keys field '{keys}' does not look like TFA keys (kept, as \
                 Proxmox VE does); if it is the end of the comment, write the comment's ':' as \
                 %3A"
            ));
        }
        let user = User {
            enable,
            expire,
            firstname: text_field(firstname),
            lastname: text_field(lastname),
            email: (!email.is_empty()).then(|| email.to_owned()),
            comment: text_field(comment),
            keys: (!keys.is_empty()).then(|| keys.to_owned()),
            tokens: BTreeMap::new(),
        };
        if let Some(earlier) = self.user_lines.insert(userid.clone(), self.line) {
            let dropped = self
                .config
                .users
                .get(&userid)
                .map_or(0, |user| user.tokens.len());
            let tokens = if dropped > 0 {
                format!(" and drops its {dropped} token(s)")
            } else {
                String::new()
            };
            self.warn(format!(
                "user '{id}' is defined again: this line replaces line {earlier}{tokens}, as \
                 Proxmox VE does"
            ));
        }
        self.config.users.insert(userid, user);
    }

    fn token(&mut self, data: &[&str]) {
        let [id, expire, privsep, comment, ..] = *data else {
            return;
        };
        let token = match Tokenid::parse(id) {
            Ok(token) => token,
            Err(error) => {
                self.warn(format!("ignoring token: {error}"));
                return;
            }
        };
        let privsep = self.flag("token", id, privsep);
        let Some(expire) = self.expire("token", id, expire) else {
            return;
        };
        let Some(user) = self.config.users.get_mut(token.user()) else {
            self.warn(format!(
                "ignoring token '{id}': user '{}' is not defined before it (a token line must \
                 follow its user's line)",
                token.user()
            ));
            return;
        };
        user.tokens.insert(
            token.name().to_owned(),
            Token {
                expire,
                privsep,
                comment: text_field(comment),
            },
        );
    }

    fn group(&mut self, data: &[&str]) {
        let [name, members, comment, ..] = *data else {
            return;
        };
        if let Err(error) = verify_group_name(name) {
            self.warn(format!("ignoring group: {error}"));
            return;
        }
        let mut users = BTreeSet::new();
        for member in split_list(members) {
            match Userid::parse(member) {
                Err(error) => self.warn(format!("group '{name}': ignoring member: {error}")),
                Ok(userid) => {
                    if !self.config.users.contains_key(&userid) {
                        self.warn(format!(
                            "group '{name}': member '{member}' is not a defined user (kept, as \
                             Proxmox VE does)"
                        ));
                    }
                    users.insert(userid);
                }
            }
        }
        let group = self.config.groups.entry(name.to_owned()).or_default();
        if let Some(comment) = text_field(comment) {
            group.comment = Some(comment);
        }
        group.users.extend(users);
    }

    fn pool(&mut self, data: &[&str]) {
        let [name, comment, vms, storages, ..] = *data else {
            return;
        };
        if let Err(error) = verify_pool_name(name) {
            self.warn(format!("ignoring pool: {error}"));
            return;
        }
        let mut members = BTreeSet::new();
        for vmid in split_list(vms) {
            let parsed = vmid
                .chars()
                .all(|c| c.is_ascii_digit())
                .then(|| vmid.parse::<u32>().ok())
                .flatten();
            let Some(parsed) = parsed else {
                self.warn(format!("pool '{name}': ignoring invalid guest id '{vmid}'"));
                continue;
            };
            let owner = self
                .config
                .pools
                .iter()
                .find(|(_, pool)| pool.vms.contains(&parsed))
                .map(|(owner, _)| owner.clone());
            if let Some(owner) = owner.or_else(|| members.contains(&parsed).then(|| name.into())) {
                self.warn(format!(
                    "pool '{name}': ignoring guest {parsed}: it is already in pool '{owner}' (a \
                     guest can be in one pool only)"
                ));
                continue;
            }
            members.insert(parsed);
        }
        let mut storage = BTreeSet::new();
        for id in split_list(storages) {
            if is_valid_storage_id(id) {
                storage.insert(id.to_owned());
            } else {
                self.warn(format!("pool '{name}': ignoring invalid storage id '{id}'"));
            }
        }
        let pool = self.config.pools.entry(name.to_owned()).or_default();
        if let Some(comment) = text_field(comment) {
            pool.comment = Some(comment);
        }
        pool.vms.extend(members);
        pool.storage.extend(storage);
    }

    fn role(&mut self, data: &[&str]) {
        let [name, privs, ..] = *data else {
            return;
        };
        if let Err(error) = verify_role_name(name) {
            self.warn(format!("ignoring role: {error}"));
            return;
        }
        if is_builtin_role(name) {
            self.warn(format!(
                "ignoring role '{name}': it is a built-in role, whose privileges cannot be \
                 changed"
            ));
            return;
        }
        let mut set = PrivSet::EMPTY;
        for privilege in split_list(privs) {
            match PrivSet::single(privilege) {
                Some(one) => set = set.union(one),
                None => self.warn(format!(
                    "role '{name}': ignoring unknown privilege '{privilege}'"
                )),
            }
        }
        let role = self.config.roles.entry(name.to_owned()).or_default();
        *role = role.union(set);
    }

    fn acl(&mut self, data: &[&str]) {
        let [propagate, path_text, members, roles, ..] = *data else {
            return;
        };
        let propagate = self.flag("ACL propagate flag of path", path_text, propagate);
        let Some(path) = normalize_path(path_text) else {
            self.warn(format!(
                "ignoring ACL line: invalid path '{path_text}' (letters, digits, '.', '-', '_' \
                 and '/' only)"
            ));
            return;
        };
        if !check_path(&path) {
            self.warn(format!(
                "ACL path '{path}' is not one permissions can be set on (kept, as Proxmox VE \
                 does)"
            ));
        }
        let roles = self.acl_roles(&path, roles);
        let members = self.acl_members(&path, members);
        if roles.is_empty() || members.is_empty() {
            return;
        }
        let node = self.config.acl.entry(path).or_default();
        for member in &members {
            node.grant(member, roles.iter().map(String::as_str), propagate);
        }
    }

    fn acl_roles(&mut self, path: &str, roles: &str) -> Vec<String> {
        let mut valid = Vec::new();
        for role in split_list(roles) {
            if let Err(error) = verify_role_name(role) {
                self.warn(format!("ACL on '{path}': ignoring role: {error}"));
            } else if self.config.role(role).is_none() {
                self.warn(format!(
                    "ACL on '{path}': ignoring role '{role}': no such role (a custom role must \
                     be defined before the ACL lines that use it)"
                ));
            } else {
                valid.push(role.to_owned());
            }
        }
        valid
    }

    fn acl_members(&mut self, path: &str, members: &str) -> Vec<AclMember> {
        let mut valid = Vec::new();
        for text in split_list(members) {
            let Ok(member) = AclMember::parse(text) else {
                self.warn(format!(
                    "ACL on '{path}': ignoring '{text}': not a user id, '@group' or token id"
                ));
                continue;
            };
            match &member {
                AclMember::Group(group) if !self.config.groups.contains_key(group) => {
                    self.warn(format!(
                        "ACL on '{path}': group '{group}' does not exist (entry kept, as \
                         Proxmox VE does)"
                    ));
                }
                AclMember::User(userid) if userid.is_root() => {
                    self.warn(format!(
                        "ACL on '{path}': ignoring entry for root@pam: root@pam always has \
                         every privilege (Proxmox VE never saves such entries)"
                    ));
                    continue;
                }
                AclMember::User(userid) if !self.config.users.contains_key(userid) => {
                    self.warn(format!(
                        "ACL on '{path}': user '{text}' does not exist (entry kept, as \
                         Proxmox VE does)"
                    ));
                }
                AclMember::Token(token) if self.config.token(token).is_none() => {
                    self.warn(format!(
                        "ACL on '{path}': ignoring token '{text}': no such token (a token \
                         must be defined before the ACL lines that use it)"
                    ));
                    continue;
                }
                _ => {}
            }
            valid.push(member);
        }
        valid
    }
}
