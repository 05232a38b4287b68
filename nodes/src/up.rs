//! `corral up [--dir DIR] [--nodes N] [--port P] [--daemon-port D]`: a development cluster of
//! N nodes (default 3) on this machine, running until Ctrl-C.
//!
//! The first run creates the cluster in DIR, as `pvecm create` / `pvecm add` / `pvecm
//! updatecerts` would leave a real one: a `corosync.conf` naming nodes pve1…pveN on 127.0.0.1…
//! 127.0.0.N, the cluster CA and each node's certificate, the ticket and CSRF keys, and an
//! administrator `admin@pve` (role Administrator on `/`) with a generated password, printed
//! this once. Every run then starts pvedaemon (127.0.0.N:D) and pveproxy (127.0.0.N:P) for
//! each node, waits until each pveproxy answers HTTPS, and prints the URLs, the credentials and
//! a curl command that logs in and lists `/nodes`; `DIR/cluster.json` (0600) holds the same
//! for scripts. Ctrl-C stops the daemons (pveproxy first) and exits 0; running `corral up`
//! again on DIR brings the same cluster back (same keys, users and password; the ports it last
//! ran with unless given).
//!
//! Layout (see [`setup`]): `DIR/pve/` is the shared `/etc/pve`; `DIR/nodes/<node>/` is each
//! node's `--root`, its `etc/pve` a link to the shared directory. A creation that was
//! interrupted is finished by the next run; a non-empty directory that is not a cluster is
//! refused.
//!
//! As root, pveproxy runs as `www-data`: every directory on the way to DIR must let that user
//! through, which is checked first (the default DIR for root is `/var/lib/corral/cluster`).
//! And as root, no one else may be able to change what root's daemons use (sshd's
//! StrictModes): DIR (its links resolved) and every directory above it must be owned by root
//! and writable only by root (sticky ones like `/tmp` excepted), and an existing cluster's
//! `pve`, `nodes`, `nodes/<node>` and `nodes/<node>/etc` root's real directories, with
//! `etc/pve` the link corral up made; otherwise it refuses, naming the path.

mod certs;
mod daemons;
mod setup;

use std::borrow::Cow;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use corral_io::files::{PARENT_DIR_MODE, create_dir_all};

use self::daemons::{Binaries, Cluster, Ending, Plan};
use self::setup::{ADMIN, ADMIN_ROLE, Admin, ClusterFile, Found, Layout, Node, NodeEntry};

/// Nodes of a new cluster unless `--nodes` says otherwise.
pub const DEFAULT_NODES: u8 = 3;
/// pveproxy's port on every node unless `--port` (or the cluster's last run) says otherwise.
pub const DEFAULT_PORT: u16 = 8006;
/// pvedaemon's port on every node unless `--daemon-port` says otherwise.
pub const DEFAULT_DAEMON_PORT: u16 = 8085;
/// Node N listens on 127.0.0.N.
pub const MAX_NODES: u8 = 254;

/// `corral up`'s options.
#[derive(Debug, clap::Args)]
pub struct UpArgs {
    /// The cluster's directory, created on the first run [default: $XDG_STATE_HOME/corral/cluster
    /// or ~/.local/state/corral/cluster; as root /var/lib/corral/cluster].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// How many nodes a new cluster has: pve1…pveN on 127.0.0.1…127.0.0.N [default: 3; an
    /// existing cluster keeps its own].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=i64::from(MAX_NODES)))]
    pub nodes: Option<u8>,
    /// pveproxy's port, the same on every node [default: 8006, or the port of the cluster's
    /// last run].
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// pvedaemon's port, the same on every node [default: 8085, or the port of the cluster's
    /// last run].
    #[arg(long, value_name = "PORT")]
    pub daemon_port: Option<u16>,
}

/// Runs `corral up` to its end (Ctrl-C): 0 when stopped so, 1 on failure.
pub fn run(args: &UpArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match up(args, out, err) {
        Ok(Ending::Stopped) => 0,
        Ok(Ending::Failed) => 1,
        Err(e) => {
            let _ = writeln!(err, "corral up: {e:#}");
            1
        }
    }
}

fn up(args: &UpArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<Ending> {
    // First: from here on, Ctrl-C must reach us as a message, not end us.
    let signals = daemons::catch_stop_signals()?;
    let root = nix::unistd::geteuid().is_root();
    let dir = match &args.dir {
        Some(dir) => {
            std::path::absolute(dir).with_context(|| format!("cannot resolve {}", dir.display()))?
        }
        None => setup::default_dir(root)?,
    };
    // As root, the directory with its links resolved: what is checked is what is used.
    let dir = if root {
        setup::resolve_for_root(&dir)?
    } else {
        dir
    };
    if dir.to_str().is_none() {
        bail!("{}: the directory's path must be UTF-8", dir.display());
    }
    let binaries = Binaries::locate(err)?;
    if root {
        setup::check_reachable(&dir, &setup::www_data()?)?;
        setup::check_root_owned_path(&dir)?;
    }
    if dir.exists() && !dir.is_dir() {
        bail!("{} exists and is not a directory", dir.display());
    }
    create_dir_all(&dir, PARENT_DIR_MODE)?;
    if root {
        // Also what was just made (root's, 0755).
        setup::check_root_owned_path(&dir)?;
    }
    let _lock = setup::lock(&dir)?;
    let layout = Layout { dir };

    let found = setup::inspect(&layout)?;
    let count = node_count(&layout, &found, args.nodes)?;
    let nodes = Node::all(count);
    let (port, daemon_port) = match &found {
        Found::Cluster(file) => (
            args.port.unwrap_or(file.port),
            args.daemon_port.unwrap_or(file.daemon_port),
        ),
        _ => (
            args.port.unwrap_or(DEFAULT_PORT),
            args.daemon_port.unwrap_or(DEFAULT_DAEMON_PORT),
        ),
    };
    if port == daemon_port {
        bail!("--port and --daemon-port must differ (both are {port})");
    }
    let created = !matches!(found, Found::Cluster(_));
    match found {
        Found::Cluster(_) => {}
        Found::Nothing => writeln!(
            out,
            "Creating a {count}-node cluster in {} …",
            layout.dir.display()
        )?,
        Found::Partial { .. } => writeln!(
            out,
            "Finishing the {count}-node cluster whose creation in {} was interrupted …",
            layout.dir.display()
        )?,
    }
    out.flush()?;
    if root {
        setup::check_root_owned_entries(&layout, &nodes)?;
    }
    // Also on reuse: puts back anything missing (nothing that exists is replaced).
    setup::ensure_files(&layout, &nodes)?;
    let password = match found {
        Found::Cluster(file) => file.admin.password,
        _ => setup::create_admin(&layout.node_root(&nodes[0]))?,
    };
    let file = cluster_file(&layout, &nodes, port, daemon_port, password);
    setup::write_cluster_file(&layout, &file)?;

    daemons::stop_leftovers(&layout, &nodes, out)?;
    daemons::check_ports_free(&nodes, port, daemon_port)?;
    writeln!(out, "Starting pvedaemon and pveproxy on {count} nodes …")?;
    out.flush()?;
    let mut cluster = Cluster::new(Plan {
        layout: &layout,
        nodes: &nodes,
        port,
        daemon_port,
        binaries: &binaries,
    });
    if let Some(ending) = cluster.start(&signals, out, err)? {
        return Ok(ending);
    }
    write!(out, "{}", ready_text(&file, created))?;
    out.flush()?;
    let ending = cluster.watch(&signals, err)?;
    if ending == Ending::Stopped {
        writeln!(out, "Stopped.")?;
    }
    Ok(ending)
}

/// The cluster's size: an existing cluster's own (`--nodes` must agree), else `--nodes` or 3.
fn node_count(layout: &Layout, found: &Found, asked: Option<u8>) -> Result<u8> {
    let existing = match found {
        Found::Nothing | Found::Partial { nodes: None } => None,
        Found::Partial { nodes: Some(n) } => Some((*n, "a partly created cluster")),
        Found::Cluster(file) => Some((
            u8::try_from(file.nodes.len()).unwrap_or(u8::MAX),
            "a cluster",
        )),
    };
    match (existing, asked) {
        (Some((have, _)), None) => Ok(have),
        (Some((have, what)), Some(asked)) if asked != have => bail!(
            "{} holds {what} of {have} node{}, not {asked}: leave out --nodes (or say \
             --nodes {have}) to use it, or choose another --dir for a cluster of {asked}",
            layout.dir.display(),
            if have == 1 { "" } else { "s" }
        ),
        (_, asked) => Ok(asked.unwrap_or(DEFAULT_NODES)),
    }
}

fn url(node: &Node, port: u16) -> String {
    format!("https://{}:{port}/", node.address)
}

fn cluster_file(
    layout: &Layout,
    nodes: &[Node],
    port: u16,
    daemon_port: u16,
    password: String,
) -> ClusterFile {
    let password_arg = format!("'password={password}'");
    ClusterFile {
        cluster: setup::CLUSTER_NAME.to_owned(),
        dir: layout.dir.clone(),
        port,
        daemon_port,
        ca: layout.ca_cert(),
        nodes: nodes
            .iter()
            .map(|node| NodeEntry {
                name: node.name.clone(),
                nodeid: node.nodeid,
                address: node.address,
                url: url(node, port),
            })
            .collect(),
        admin: Admin {
            userid: ADMIN.to_owned(),
            password,
        },
        curl: curl_command(&layout.ca_cert(), &url(&nodes[0], port), &password_arg),
    }
}

/// Logs in as the admin on the node at `url` and lists `/nodes`; `password_arg` is the shell
/// word for `--data-urlencode` (`'password=…'`).
fn curl_command(ca: &Path, url: &str, password_arg: &str) -> String {
    let ca = shell_quote(&ca.to_string_lossy()).into_owned();
    format!(
        "T=$(curl -sS --cacert {ca} --data-urlencode username={ADMIN} --data-urlencode \
         {password_arg} {url}api2/json/access/ticket | sed -n \
         's/.*\"ticket\":\"\\([^\"]*\\)\".*/\\1/p'); curl -sS --cacert {ca} -b \
         \"PVEAuthCookie=$T\" {url}api2/json/nodes"
    )
}

/// `text` as one shell word.
fn shell_quote(text: &str) -> Cow<'_, str> {
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"/._-+,:@=%".contains(&b);
    if !text.is_empty() && text.bytes().all(plain) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(format!("'{}'", text.replace('\'', r"'\''")))
    }
}

/// What `corral up` prints once every node answers. The password only when just `created`;
/// afterwards the curl command reads it from `cluster.json`.
fn ready_text(file: &ClusterFile, created: bool) -> String {
    let cluster_json = file.dir.join("cluster.json");
    let mut text = format!(
        "\nCluster \"{}\" is up: {} node{} in {}\n\n",
        file.cluster,
        file.nodes.len(),
        if file.nodes.len() == 1 { "" } else { "s" },
        file.dir.display()
    );
    for node in &file.nodes {
        text.push_str(&format!("  {:<6} {}\n", node.name, node.url));
    }
    text.push_str(&format!(
        "\n  user      {} (role {ADMIN_ROLE} on /)\n",
        file.admin.userid
    ));
    let curl = if created {
        text.push_str(&format!(
            "  password  {}  (shown only now; scripts find it in {})\n",
            file.admin.password,
            cluster_json.display()
        ));
        file.curl.clone()
    } else {
        text.push_str(&format!(
            "  password  in {} (shown when the cluster was made)\n",
            cluster_json.display()
        ));
        let quoted = shell_quote(&cluster_json.to_string_lossy()).into_owned();
        let from_file = format!(
            "\"password=$(sed -n 's/.*\"password\": *\"\\([^\"]*\\)\".*/\\1/p' {quoted})\""
        );
        curl_command(&file.ca, &file.nodes[0].url, &from_file)
    };
    text.push_str(&format!("  CA        {}\n", file.ca.display()));
    text.push_str(&format!(
        "\nLog in and list the nodes:\n\n  {curl}\n\nLogs: {}/nodes/<node>/var/log/\n\
         Ctrl-C stops the cluster; the same command brings it back.\n",
        file.dir.display()
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(dir: &str) -> ClusterFile {
        let layout = Layout {
            dir: PathBuf::from(dir),
        };
        cluster_file(
            &layout,
            &Node::all(2),
            8006,
            8085,
            "abcde-fghij-kmnop-qrstu".to_owned(),
        )
    }

    #[test]
    fn the_ready_text_shows_the_password_only_when_created() {
        let file = example("/tmp/c");
        assert_eq!(
            ready_text(&file, true),
            r#"
Cluster "corral" is up: 2 nodes in /tmp/c

  pve1   https://127.0.0.1:8006/
  pve2   https://127.0.0.2:8006/

  user      admin@pve (role Administrator on /)
  password  abcde-fghij-kmnop-qrstu  (shown only now; scripts find it in /tmp/c/cluster.json)
  CA        /tmp/c/pve/pve-root-ca.pem

Log in and list the nodes:

  T=$(curl -sS --cacert /tmp/c/pve/pve-root-ca.pem --data-urlencode username=admin@pve --data-urlencode 'password=abcde-fghij-kmnop-qrstu' https://127.0.0.1:8006/api2/json/access/ticket | sed -n 's/.*"ticket":"\([^"]*\)".*/\1/p'); curl -sS --cacert /tmp/c/pve/pve-root-ca.pem -b "PVEAuthCookie=$T" https://127.0.0.1:8006/api2/json/nodes

Logs: /tmp/c/nodes/<node>/var/log/
Ctrl-C stops the cluster; the same command brings it back.
"#
        );
        let again = ready_text(&file, false);
        assert!(!again.contains("abcde"), "{again}");
        assert!(
            again.contains(
                r#"--data-urlencode "password=$(sed -n 's/.*"password": *"\([^"]*\)".*/\1/p' /tmp/c/cluster.json)" "#
            ),
            "{again}"
        );
    }

    #[test]
    fn paths_with_spaces_or_quotes_are_quoted_for_the_shell() {
        assert_eq!(shell_quote("/tmp/a-b_c.d"), "/tmp/a-b_c.d");
        assert_eq!(shell_quote("/tmp/my dir"), "'/tmp/my dir'");
        assert_eq!(shell_quote("/tmp/it's"), r"'/tmp/it'\''s'");
        assert_eq!(shell_quote(""), "''");
        let file = example("/tmp/my dir");
        assert!(
            file.curl
                .contains("--cacert '/tmp/my dir/pve/pve-root-ca.pem' "),
            "{}",
            file.curl
        );
    }

    #[test]
    fn an_existing_cluster_keeps_its_size() {
        let layout = Layout {
            dir: PathBuf::from("/tmp/c"),
        };
        let found = Found::Cluster(example("/tmp/c"));
        assert_eq!(node_count(&layout, &found, None).expect("reuse"), 2);
        assert_eq!(node_count(&layout, &found, Some(2)).expect("same"), 2);
        let error = node_count(&layout, &found, Some(3)).expect_err("different");
        assert_eq!(
            error.to_string(),
            "/tmp/c holds a cluster of 2 nodes, not 3: leave out --nodes (or say --nodes 2) to \
             use it, or choose another --dir for a cluster of 3"
        );
        assert_eq!(node_count(&layout, &Found::Nothing, None).expect("new"), 3);
        assert_eq!(
            node_count(&layout, &Found::Nothing, Some(5)).expect("new"),
            5
        );
    }
}
