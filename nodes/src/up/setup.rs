//! The cluster directory: what is in it, checking it, and making what is missing.
//!
//! ```text
//! DIR/cluster.json            the facts for scripts (0600), written last: its presence says
//!                             the cluster is complete
//! DIR/pve/                    the shared /etc/pve of all nodes
//! DIR/nodes/<node>/           node <node>'s --root: etc/pve -> ../../../pve, etc/default,
//!                             var/log, run
//! ```

use std::fs::{self, File};
use std::io;
use std::net::Ipv4Addr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use corral_core::access::{UserConfig, Userid};
use corral_core::cluster::corosync::{self, Member, Membership};
use corral_io::access::USER_CFG;
use corral_io::authkey;
use corral_io::files::{
    Access, CONFIG_LEN_MAX, PARENT_DIR_MODE, RealFiles, Root, create_dir_all, secure_private_dir,
    write_as, write_atomic,
};
use nix::fcntl::{Flock, FlockArg};
use nix::unistd::{Gid, User};
use serde::{Deserialize, Serialize};

use crate::daemon::RootArgs;
use crate::usercli::{self, AclCommand, AclSetArgs, UserAddArgs, UserCommand, UserPasswdArgs};

/// The cluster's name in `corosync.conf`.
pub const CLUSTER_NAME: &str = "corral";
/// The administrator `corral up` makes.
pub const ADMIN: &str = "admin@pve";
/// Its role, on `/`.
pub const ADMIN_ROLE: &str = "Administrator";
/// Mode of `cluster.json`: it holds the password.
const CLUSTER_FILE_MODE: u32 = 0o600;
const CLUSTER_FILE: &str = "cluster.json";
/// What a cluster directory holds at its top (anything else means it is not one).
const OWN_ENTRIES: [&str; 3] = [CLUSTER_FILE, "pve", "nodes"];

/// One node: `pve<N>`, node id N, at 127.0.0.N.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    pub nodeid: u8,
    pub address: Ipv4Addr,
}

impl Node {
    /// Nodes 1 to `count`.
    pub fn all(count: u8) -> Vec<Node> {
        (1..=count)
            .map(|n| Node {
                name: format!("pve{n}"),
                nodeid: n,
                address: Ipv4Addr::new(127, 0, 0, n),
            })
            .collect()
    }
}

/// Where the cluster's files are.
#[derive(Debug, Clone)]
pub struct Layout {
    pub dir: PathBuf,
}

impl Layout {
    pub fn cluster_file(&self) -> PathBuf {
        self.dir.join(CLUSTER_FILE)
    }

    /// The shared `/etc/pve`.
    pub fn pve(&self) -> PathBuf {
        self.dir.join("pve")
    }

    /// The node's `--root`.
    pub fn node_root(&self, node: &Node) -> PathBuf {
        self.dir.join("nodes").join(&node.name)
    }

    /// Where a daemon of the node writes its output.
    pub fn log(&self, node: &Node, daemon: &str) -> PathBuf {
        self.node_root(node)
            .join("var/log")
            .join(format!("{daemon}.log"))
    }

    pub fn ca_cert(&self) -> PathBuf {
        self.pve().join(super::certs::CA_CERT)
    }
}

/// `cluster.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterFile {
    pub cluster: String,
    pub dir: PathBuf,
    pub port: u16,
    pub daemon_port: u16,
    pub ca: PathBuf,
    pub nodes: Vec<NodeEntry>,
    pub admin: Admin,
    /// Logs in as the admin and lists the nodes.
    pub curl: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeEntry {
    pub name: String,
    pub nodeid: u8,
    pub address: Ipv4Addr,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Admin {
    pub userid: String,
    pub password: String,
}

/// What the directory holds.
#[derive(Debug)]
pub enum Found {
    /// Nothing (missing or empty).
    Nothing,
    /// A creation that did not finish; the node count, when `corosync.conf` was written.
    Partial { nodes: Option<u8> },
    /// A complete cluster.
    Cluster(ClusterFile),
}

/// Looks at `dir` (which exists) without changing anything.
pub fn inspect(layout: &Layout) -> Result<Found> {
    let path = layout.cluster_file();
    if path.exists() {
        return read_cluster_file(&path).map(Found::Cluster);
    }
    let dir = &layout.dir;
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        entries.push(entry.file_name().to_string_lossy().into_owned());
    }
    if entries.is_empty() {
        return Ok(Found::Nothing);
    }
    let ours = |name: &String| {
        OWN_ENTRIES.contains(&name.as_str()) || name.starts_with(&format!(".{CLUSTER_FILE}.tmp."))
    };
    if let Some(stranger) = entries.iter().find(|name| !ours(name)) {
        bail!(
            "{} is not empty and not a corral cluster (it has no {CLUSTER_FILE}, and '{stranger}' \
             is not from corral up); choose a new or empty directory with --dir",
            dir.display()
        );
    }
    let corosync = layout.pve().join("corosync.conf");
    let nodes = match fs::read_to_string(&corosync) {
        Ok(text) => Some(corosync_node_count(&text).with_context(|| {
            format!(
                "{}: not a corosync.conf corral up wrote",
                corosync.display()
            )
        })?),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", corosync.display())),
    };
    Ok(Found::Partial { nodes })
}

fn read_cluster_file(path: &Path) -> Result<ClusterFile> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file: ClusterFile = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not what corral up writes; remove its directory to start over",
            path.display()
        )
    })?;
    let count = file.nodes.len();
    let expected = u8::try_from(count).ok().map(Node::all);
    let matches = expected.is_some_and(|nodes| {
        nodes
            .iter()
            .zip(&file.nodes)
            .all(|(node, entry)| node.name == entry.name && node.address == entry.address)
    });
    if count == 0 || !matches {
        bail!(
            "{}: the nodes are not pve1…pveN on 127.0.0.1…127.0.0.N as corral up makes them",
            path.display()
        );
    }
    Ok(file)
}

/// The number of nodes in a `corosync.conf` of [`corosync_conf`]'s making.
fn corosync_node_count(text: &str) -> Option<u8> {
    let count = text
        .lines()
        .filter(|line| line.trim_start().starts_with("ring0_addr:"))
        .count();
    u8::try_from(count).ok().filter(|&n| n > 0)
}

/// Proxmox's `corosync.conf`, as `pvecm create` and `pvecm add` leave it (sections sorted):
/// cluster [`CLUSTER_NAME`], config version 1, one vote per node.
pub fn corosync_conf(nodes: &[Node]) -> String {
    corosync::render(&Membership {
        cluster_name: CLUSTER_NAME.to_owned(),
        config_version: 1,
        nodes: nodes
            .iter()
            .map(|node| Member {
                name: node.name.clone(),
                nodeid: node.nodeid.into(),
                votes: 1,
                ring0_addr: node.address.to_string(),
            })
            .collect(),
    })
}

/// Holds the directory's lock while alive: one `corral up` per cluster.
#[derive(Debug)]
pub struct DirLock {
    _flock: Flock<File>,
}

pub fn lock(dir: &Path) -> Result<DirLock> {
    let file = File::open(dir).with_context(|| format!("cannot open {}", dir.display()))?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(flock) => Ok(DirLock { _flock: flock }),
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => bail!(
            "another corral up runs the cluster in {} already (stop it with Ctrl-C first)",
            dir.display()
        ),
        Err((_, errno)) => Err(errno).with_context(|| format!("cannot lock {}", dir.display())),
    }
}

/// Makes whatever is missing of the directories, `corosync.conf`, the ticket and CSRF keys and
/// the certificates; nothing that exists is replaced.
pub fn ensure_files(layout: &Layout, nodes: &[Node]) -> Result<()> {
    let pve = layout.pve();
    create_dir_all(&pve, PARENT_DIR_MODE)?;
    let euid = nix::unistd::geteuid().as_raw();
    secure_private_dir(&pve.join("priv"), euid)?;
    for node in nodes {
        let shared = pve.join("nodes").join(&node.name);
        // As pvecm's gen_local_dirs.
        for sub in ["lxc", "qemu-server", "openvz"] {
            create_dir_all(&shared.join(sub), PARENT_DIR_MODE)?;
        }
        secure_private_dir(&shared.join("priv"), euid)?;
        let root = layout.node_root(node);
        for sub in ["etc/default", "var/log", "run"] {
            create_dir_all(&root.join(sub), PARENT_DIR_MODE)?;
        }
        link_shared_dir(&root.join("etc/pve"))?;
    }
    let corosync = pve.join("corosync.conf");
    if !corosync.exists() {
        write_as(&corosync, corosync_conf(nodes).as_bytes(), Access::Shared)?;
    }
    let root = Root::new(layout.node_root(&nodes[0]));
    authkey::ensure_keys(&RealFiles, &root).context("cannot create the ticket and CSRF keys")?;
    super::certs::ensure(&pve, nodes)
}

/// Where a node root's `etc/pve` points: the shared directory, relatively, so the cluster
/// directory can move.
const SHARED_LINK_TARGET: &str = "../../../pve";

/// `etc/pve` of a node root: the link to [`SHARED_LINK_TARGET`].
fn link_shared_dir(link: &Path) -> Result<()> {
    const TARGET: &str = SHARED_LINK_TARGET;
    match fs::read_link(link) {
        Ok(target) if target == Path::new(TARGET) => Ok(()),
        Ok(target) => bail!(
            "{} points to {}, not to {TARGET}; remove it",
            link.display(),
            target.display()
        ),
        Err(e) if e.kind() == io::ErrorKind::NotFound => std::os::unix::fs::symlink(TARGET, link)
            .with_context(|| format!("cannot create the link {}", link.display())),
        Err(e) => Err(e).with_context(|| {
            format!(
                "{} is not the link to the shared /etc/pve corral up makes",
                link.display()
            )
        }),
    }
}

/// Makes the administrator (or, finishing an interrupted creation, gives it a new password)
/// with the `corral user add` / `user passwd` / `acl set` code; returns its password.
pub fn create_admin(node_root: &Path) -> Result<String> {
    let password = new_password()?;
    let root = || RootArgs {
        root: node_root.to_owned(),
    };
    let command = if admin_exists(node_root)? {
        UserCommand::Passwd(UserPasswdArgs {
            userid: ADMIN.to_owned(),
            root: root(),
        })
    } else {
        UserCommand::Add(UserAddArgs {
            userid: ADMIN.to_owned(),
            password: true,
            comment: Some("made by corral up".to_owned()),
            email: None,
            firstname: None,
            lastname: None,
            expire: 0,
            enable: true,
            groups: None,
            root: root(),
        })
    };
    let mut give = || Ok(password.clone());
    usercli_ok(|out, err| usercli::run_user_command(command, &mut give, out, err))?;
    let acl = AclCommand::Set(AclSetArgs {
        path: "/".to_owned(),
        user: vec![ADMIN.to_owned()],
        token: Vec::new(),
        group: Vec::new(),
        role: vec![ADMIN_ROLE.to_owned()],
        propagate: true,
        root: root(),
    });
    usercli_ok(|out, err| usercli::run_acl_command(acl, out, err))?;
    Ok(password)
}

/// Runs a `corral` credential command; its messages only matter when it fails.
fn usercli_ok(command: impl FnOnce(&mut Vec<u8>, &mut Vec<u8>) -> u8) -> Result<()> {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    if command(&mut out, &mut err) != 0 {
        let message = String::from_utf8_lossy(&err);
        let message = message.trim().trim_start_matches("corral: ");
        bail!("cannot make the administrator {ADMIN}: {message}");
    }
    Ok(())
}

fn admin_exists(node_root: &Path) -> Result<bool> {
    let path = Root::new(node_root).path(USER_CFG);
    let text = corral_io::files::read_text(&RealFiles, &path, CONFIG_LEN_MAX)?;
    let config = UserConfig::parse(text.as_deref()).config;
    Ok(config.user(&Userid::parse(ADMIN)?).is_some())
}

/// Characters of generated passwords: letters and digits without the look-alikes 0 O 1 l I,
/// nothing a shell treats specially.
const PASSWORD_ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// Four groups of five (about 116 bits).
const PASSWORD_GROUPS: usize = 4;
const PASSWORD_GROUP_LEN: usize = 5;

/// A new random password, e.g. `Hk7tq-mZ3wa-…`.
pub fn new_password() -> Result<String> {
    let len = PASSWORD_ALPHABET.len();
    // Bytes at or above the largest multiple of the alphabet's size are drawn again, so every
    // character is equally likely.
    let limit = 256 - 256 % len;
    let mut chars = Vec::new();
    while chars.len() < PASSWORD_GROUPS * PASSWORD_GROUP_LEN {
        let mut bytes = [0u8; 32];
        openssl::rand::rand_bytes(&mut bytes).context("cannot draw random bytes")?;
        for byte in bytes.into_iter().map(usize::from).filter(|&b| b < limit) {
            chars.push(char::from(PASSWORD_ALPHABET[byte % len]));
        }
    }
    let groups: Vec<String> = chars
        .chunks(PASSWORD_GROUP_LEN)
        .take(PASSWORD_GROUPS)
        .map(|group| group.iter().collect())
        .collect();
    Ok(groups.join("-"))
}

/// Writes `cluster.json` (0600, replaced atomically).
pub fn write_cluster_file(layout: &Layout, file: &ClusterFile) -> Result<()> {
    let mut text = serde_json::to_string_pretty(file).context("cannot encode cluster.json")?;
    text.push('\n');
    write_atomic(&layout.cluster_file(), text.as_bytes(), CLUSTER_FILE_MODE)?;
    Ok(())
}

/// The default cluster directory: `/var/lib/corral/cluster` for root, else under
/// `$XDG_STATE_HOME` (or `~/.local/state`).
pub fn default_dir(root: bool) -> Result<PathBuf> {
    if root {
        return Ok(PathBuf::from("/var/lib/corral/cluster"));
    }
    let absolute = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|path| path.is_absolute())
    };
    if let Some(state) = absolute("XDG_STATE_HOME") {
        return Ok(state.join("corral/cluster"));
    }
    let home = absolute("HOME")
        .context("neither XDG_STATE_HOME nor HOME is set: name the directory with --dir DIR")?;
    Ok(home.join(".local/state/corral/cluster"))
}

/// The account pveproxy becomes when started as root.
pub fn www_data() -> Result<User> {
    const NAME: &str = "www-data";
    User::from_name(NAME)
        .context("cannot look up the user www-data")?
        .with_context(|| {
            format!(
                "running as root, pveproxy serves as the user {NAME} (never as root), and there \
                 is no such user; add it (Debian's base-passwd has it) or run corral up as a \
                 normal user"
            )
        })
}

/// The cluster directory as root uses it: `dir` with every symbolic link resolved (in the part
/// that exists), so that only real directories lead to it and [`check_root_owned_path`] sees
/// them all.
pub fn resolve_for_root(dir: &Path) -> Result<PathBuf> {
    let existing = dir
        .ancestors()
        .find(|path| path.exists())
        .unwrap_or(Path::new("/"));
    let rest = dir.strip_prefix(existing).unwrap_or(Path::new(""));
    if rest
        .components()
        .any(|part| !matches!(part, std::path::Component::Normal(_)))
    {
        bail!(
            "{}: name the directory without '..' in the part that does not exist yet",
            dir.display()
        );
    }
    let canonical = existing
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", existing.display()))?;
    if rest.as_os_str().is_empty() {
        Ok(canonical)
    } else {
        Ok(canonical.join(rest))
    }
}

/// Why root must not use a directory another user can change.
const ROOT_OWNED_WHY: &str = "as root, corral up runs the cluster's daemons as root on the \
                              files in the cluster directory, so another user who could rename \
                              or replace them could make root's daemons accept tickets they \
                              forged or write outside the cluster";

/// As root (sshd's StrictModes, for the same reason): `dir` (once it exists) and every
/// directory above it must be owned by root and writable by no one else; above `dir`, a
/// directory with the sticky bit (as `/tmp`) may be writable by all, since there only an entry's
/// owner can rename it. `dir` has no symbolic links (see [`resolve_for_root`]).
pub fn check_root_owned_path(dir: &Path) -> Result<()> {
    for path in dir.ancestors() {
        let metadata = match fs::symlink_metadata(path) {
            Ok(metadata) => metadata,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot check {}", path.display())),
        };
        let mode = metadata.mode();
        let sticky = mode & 0o1000 != 0 && path != dir;
        let problem = if metadata.file_type().is_symlink() {
            "is a symbolic link"
        } else if !metadata.is_dir() {
            "is not a directory"
        } else if metadata.uid() != 0 {
            "is not owned by root"
        } else if mode & 0o022 != 0 && !sticky {
            "is writable by others than root"
        } else {
            continue;
        };
        bail!(
            "{path} ({found}) {problem}: {ROOT_OWNED_WHY}. {dir} and every directory above it \
             must be owned by root and writable only by root (those with the sticky bit, like \
             /tmp, excepted). Fix it with 'chown root:root {path} && chmod go-w {path}', or choose \
             another --dir (the default as root is /var/lib/corral/cluster)",
            path = path.display(),
            found = describe(path, &metadata),
            dir = dir.display(),
        );
    }
    Ok(())
}

/// As root, what an existing (or partly made) cluster holds must still be what corral up made:
/// `pve`, `nodes`, `nodes/<node>` and `nodes/<node>/etc` real directories owned by root and
/// writable only by root, and `nodes/<node>/etc/pve` the link [`SHARED_LINK_TARGET`]. What is
/// missing is fine (it is made, root-owned, 0755).
pub fn check_root_owned_entries(layout: &Layout, nodes: &[Node]) -> Result<()> {
    let mut dirs = vec![layout.pve(), layout.dir.join("nodes")];
    for node in nodes {
        dirs.push(layout.node_root(node));
        dirs.push(layout.node_root(node).join("etc"));
    }
    let refuse = |path: &Path, found: String, problem: &str| {
        anyhow::anyhow!(
            "{path} ({found}) {problem}: {ROOT_OWNED_WHY}. Find out who changed it; to start \
             over, remove {dir}",
            path = path.display(),
            dir = layout.dir.display(),
        )
    };
    for path in &dirs {
        let metadata = match fs::symlink_metadata(path) {
            Ok(metadata) => metadata,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot check {}", path.display())),
        };
        let problem = if metadata.file_type().is_symlink() {
            "is a symbolic link, not the directory corral up made"
        } else if !metadata.is_dir() {
            "is not the directory corral up made"
        } else if metadata.uid() != 0 {
            "is not owned by root"
        } else if metadata.mode() & 0o022 != 0 {
            "is writable by others than root"
        } else {
            continue;
        };
        return Err(refuse(path, describe(path, &metadata), problem));
    }
    for node in nodes {
        let link = layout.node_root(node).join("etc/pve");
        let metadata = match fs::symlink_metadata(&link) {
            Ok(metadata) => metadata,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot check {}", link.display())),
        };
        let expected = metadata.file_type().is_symlink()
            && fs::read_link(&link).is_ok_and(|target| target == Path::new(SHARED_LINK_TARGET));
        if !expected {
            return Err(refuse(
                &link,
                describe(&link, &metadata),
                &format!("is not the link to {SHARED_LINK_TARGET} corral up made"),
            ));
        }
    }
    Ok(())
}

/// `owner nobody, mode 0755`, or `a symbolic link to /etc`.
fn describe(path: &Path, metadata: &fs::Metadata) -> String {
    if metadata.file_type().is_symlink() {
        let target = fs::read_link(path).unwrap_or_default();
        return format!("a symbolic link to {}", target.display());
    }
    let uid = metadata.uid();
    let owner = User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map_or_else(|| format!("uid {uid}"), |user| user.name);
    format!("owner {owner}, mode {:04o}", metadata.mode() & 0o7777)
}

/// As root, pveproxy (as `user`) must get through every directory on the way to `dir`: checks
/// the ones that exist (corral up makes the others 0755).
pub fn check_reachable(dir: &Path, user: &User) -> Result<()> {
    let existing = dir
        .ancestors()
        .find(|path| path.exists())
        .unwrap_or(Path::new("/"));
    let canonical = existing
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", existing.display()))?;
    let name = std::ffi::CString::new(user.name.as_str()).context("user name has a NUL byte")?;
    let groups = nix::unistd::getgrouplist(&name, user.gid)
        .with_context(|| format!("cannot list the groups of {}", user.name))?;
    for path in canonical.ancestors() {
        let metadata =
            fs::metadata(path).with_context(|| format!("cannot check {}", path.display()))?;
        let mode = metadata.mode();
        let search = if metadata.uid() == user.uid.as_raw() {
            0o100
        } else if groups.contains(&Gid::from_raw(metadata.gid())) {
            0o010
        } else {
            0o001
        };
        if mode & search == 0 {
            bail!(
                "pveproxy runs as {user} and could not reach {dir}: {path} (mode {mode:04o}, \
                 owner uid {uid}) does not let {user} through. Choose a directory it can reach \
                 (e.g. --dir /var/lib/corral/cluster, the default as root, or --dir /srv/corral) \
                 or let it through: chmod o+x {path}",
                user = user.name,
                dir = dir.display(),
                path = path.display(),
                mode = mode & 0o7777,
                uid = metadata.uid(),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_four_groups_of_five_safe_characters() {
        let password = new_password().expect("random");
        assert_eq!(password.len(), 23, "{password}");
        for (index, group) in password.split('-').enumerate() {
            assert!(index < 4 && group.len() == 5, "{password}");
            assert!(group.bytes().all(|b| PASSWORD_ALPHABET.contains(&b)));
        }
        assert_ne!(password, new_password().expect("random"));
    }

    #[test]
    fn corosync_conf_is_proxmox_s_format_and_counts_back() {
        let text = corosync_conf(&Node::all(2));
        assert_eq!(
            text,
            "logging {
  debug: off
  to_syslog: yes
}

nodelist {
  node {
    name: pve1
    nodeid: 1
    quorum_votes: 1
    ring0_addr: 127.0.0.1
  }
  node {
    name: pve2
    nodeid: 2
    quorum_votes: 1
    ring0_addr: 127.0.0.2
  }
}

quorum {
  provider: corosync_votequorum
}

totem {
  cluster_name: corral
  config_version: 1
  interface {
    linknumber: 0
  }
  ip_version: ipv4-6
  link_mode: passive
  secauth: on
  version: 2
}
"
        );
        assert_eq!(corosync_node_count(&text), Some(2));
    }
}
