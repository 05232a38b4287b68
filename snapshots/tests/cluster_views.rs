//! The cluster views a user reads: `GET /nodes`, `GET /cluster/status` and
//! `GET /nodes/{node}/status` on pve1 of a three-node cluster (`tests/cluster/corosync.conf`,
//! fixed node certificates), on a machine with fixed `/proc` figures; and the errors for a node
//! that is not a member and for a `corosync.conf` that does not parse.
//!
//! No peer has been probed yet, so pve2 and pve3 are `unknown` (the loopback tests in
//! `nodes/tests/cluster.rs` watch them come online and go offline).
//!
//! Review changes with `cargo insta review` (or `INSTA_UPDATE=always cargo test -p
//! corral-snapshots --test cluster_views` and `git diff`).

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use corral_core::api::Role;
use corral_core::auth::ticket::SignDigest;
use corral_core::http::api::VersionInfo;
use corral_core::http::http::Request;
use corral_core::time::UnixTime;
use corral_io::access::{AccessFiles, COROSYNC_CONF, USER_CFG};
use corral_io::api::{ApiRequest, ApiService, ApiSettings};
use corral_io::authkey::SHARED_MODE;
use corral_io::clock::{ManualClock, WallClock};
use corral_io::files::{MemFs, Root};
use corral_sim::host::FixedHost;

/// 2026-11-24 21:30:00 UTC.
const NOW: UnixTime = UnixTime(1_795_555_800);

const COROSYNC: &str = include_str!("cluster/corosync.conf");
const CERTS: [(&str, &str); 3] = [
    ("pve1", include_str!("cluster/pve1-ssl.pem")),
    ("pve2", include_str!("cluster/pve2-ssl.pem")),
    ("pve3", include_str!("cluster/pve3-ssl.pem")),
];

/// root@pam may do anything; auditor@pve may audit pve1 only.
const USERS: &str = "\
user:root@pam:1:0:::::
user:auditor@pve:1:0:::::
acl:1:/nodes/pve1:auditor@pve:PVEAuditor:
";

fn clock() -> Arc<dyn WallClock> {
    Arc::new(ManualClock::new(NOW))
}

fn cluster_files(corosync: &str) -> MemFs {
    let files = MemFs::new(clock());
    files.insert(USER_CFG, USERS, SHARED_MODE);
    files.insert(COROSYNC_CONF, corosync, SHARED_MODE);
    for (node, pem) in CERTS {
        files.insert(
            format!("/etc/pve/nodes/{node}/pve-ssl.pem"),
            pem,
            SHARED_MODE,
        );
    }
    files
}

/// pvedaemon's API of pve1 (no peers probed), on the simulator's machine of pve1 (up a day;
/// two CPUs, 4 GiB of memory, a 32 GiB root file system; knows `Europe/Vienna`, not
/// `Mars/Olympus_Mons`).
fn pve1(files: &MemFs) -> ApiService {
    let settings = ApiSettings {
        role: Role::Daemon,
        node: "pve1".to_owned(),
        version: VersionInfo {
            version: "9.1.1".to_owned(),
            release: "9.1".to_owned(),
            repoid: "42d4b0f1".to_owned(),
        },
        unauthorized_delay: Duration::ZERO,
        sign_digest: SignDigest::Sha256,
    };
    let access = AccessFiles::new(Rc::new(files.clone()), Root::default()).with_ttl(Duration::ZERO);
    ApiService::new(settings, access, clock(), None).with_host(Box::new(FixedHost::of_node(1)))
}

/// The reply to `GET <path>` by `userid` (pvedaemon believes its trusted caller's ticket check;
/// here the ticket is one signed with core's test key).
fn get(api: &ApiService, files: &MemFs, userid: &str, path: &str) -> String {
    call(api, files, userid, "GET", path, "")
}

/// The reply to `<method> <path>` with a form `body` by `userid`.
fn call(
    api: &ApiService,
    files: &MemFs,
    userid: &str,
    method: &str,
    path: &str,
    body: &str,
) -> String {
    files.insert(
        corral_io::authkey::AUTHKEY_PUBLIC,
        include_bytes!("../../core/src/auth/testdata/key-a.pub").as_slice(),
        SHARED_MODE,
    );
    let key = corral_core::auth::keys::SigningKey::from_pem(include_bytes!(
        "../../core/src/auth/testdata/key-a.pem"
    ))
    .expect("test key A");
    let ticket =
        corral_core::auth::ticket::sign(userid, NOW, &key, SignDigest::Sha256).expect("a ticket");
    let (parts, ()) = Request::builder()
        .method(method)
        .uri(path)
        .header("cookie", format!("PVEAuthCookie={ticket}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(())
        .expect("a request")
        .into_parts();
    let request = ApiRequest {
        parts: &parts,
        body: Bytes::copy_from_slice(body.as_bytes()),
        peer: SocketAddr::from(([127, 0, 0, 1], 41_000)),
        compression: false,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let reply = tokio::task::LocalSet::new().block_on(&runtime, api.handle(request));
    let reply = reply.reply;
    let body = String::from_utf8_lossy(&reply.body);
    let body = serde_json::from_str::<serde_json::Value>(&body)
        .map(|json| serde_json::to_string_pretty(&json).unwrap_or_default())
        .unwrap_or_else(|_| body.into_owned());
    format!("{} {}\n{body}\n", reply.status.as_u16(), reply.reason)
}

#[test]
fn nodes_index_for_root_and_for_an_auditor_of_one_node() {
    let files = cluster_files(COROSYNC);
    let api = pve1(&files);
    insta::assert_snapshot!(
        "nodes_root",
        get(&api, &files, "root@pam", "/api2/json/nodes")
    );
    insta::assert_snapshot!(
        "nodes_auditor",
        get(&api, &files, "auditor@pve", "/api2/json/nodes")
    );
}

#[test]
fn cluster_status_needs_sys_audit_on_the_root() {
    let files = cluster_files(COROSYNC);
    let api = pve1(&files);
    insta::assert_snapshot!(
        "cluster_status",
        get(&api, &files, "root@pam", "/api2/json/cluster/status")
    );
    insta::assert_snapshot!(
        "cluster_status_denied",
        get(&api, &files, "auditor@pve", "/api2/json/cluster/status")
    );
}

#[test]
fn a_cluster_of_one_without_corosync_conf() {
    let files = cluster_files(COROSYNC);
    corral_io::files::Files::remove_file(&files, std::path::Path::new(COROSYNC_CONF))
        .expect("removed");
    let api = pve1(&files);
    insta::assert_snapshot!(
        "single_node_cluster_status",
        get(&api, &files, "root@pam", "/api2/json/cluster/status")
    );
}

#[test]
fn node_status_from_the_machine() {
    let files = cluster_files(COROSYNC);
    let api = pve1(&files);
    insta::assert_snapshot!(
        "node_status",
        get(&api, &files, "root@pam", "/api2/json/nodes/pve1/status")
    );
}

#[test]
fn a_corosync_conf_that_does_not_parse_is_an_error_naming_the_line() {
    let broken = COROSYNC.replace("    nodeid: 2\n", "    nodeid: two\n");
    let files = cluster_files(&broken);
    let api = pve1(&files);
    insta::assert_snapshot!(
        "broken_corosync_conf",
        get(&api, &files, "root@pam", "/api2/json/nodes")
    );
}

#[test]
fn setting_the_time_zone_links_localtime_and_names_the_zone() {
    let files = cluster_files(COROSYNC);
    let api = pve1(&files);
    let time = "/api2/json/nodes/pve1/time";
    let set = |zone: &str| {
        call(
            &api,
            &files,
            "root@pam",
            "PUT",
            time,
            &format!("timezone={zone}"),
        )
    };
    insta::assert_snapshot!("set_timezone_unknown", set("Mars/Olympus_Mons"));
    insta::assert_snapshot!("set_timezone_not_a_name", set("..%2F..%2Fetc%2Fshadow"));
    insta::assert_snapshot!("set_timezone", set("Europe/Vienna"));
    let link = files.link(std::path::Path::new("/etc/localtime"));
    assert_eq!(
        link.as_deref(),
        Some(std::path::Path::new("/usr/share/zoneinfo/Europe/Vienna")),
        "/etc/localtime links to the zone"
    );
    let named = files
        .file(std::path::Path::new("/etc/timezone"))
        .expect("/etc/timezone written");
    assert_eq!(named.bytes, b"Europe/Vienna\n");
    assert_eq!(named.mode, 0o644, "/etc/timezone is world-readable");
    assert!(
        get(&api, &files, "root@pam", time).contains("\"timezone\": \"Europe/Vienna\""),
        "GET /time names the new zone at once"
    );
}
