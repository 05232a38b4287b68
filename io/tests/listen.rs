//! Listening on real loopback: the default `[::]` socket is dual-stack (IPv4 peers appear as
//! `::ffff:a.b.c.d`, as with Proxmox's IO::Socket::IP), a bind failure names the address and
//! the cause, and at the connection limit accepting pauses until a connection ends.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use corral_core::api::Role;
use corral_core::auth::ticket::SignDigest;
use corral_core::http::api::VersionInfo;
use corral_io::access::AccessFiles;
use corral_io::access_log::MemoryLog;
use corral_io::api::{ApiService, ApiSettings};
use corral_io::clock::{SystemClock, WallClock};
use corral_io::files::{MemFiles, Root};
use corral_io::net::{Listener, Network, TokioNet, bind_default};
use corral_io::proxy::ProxyServer;
use corral_io::proxy_settings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test(flavor = "current_thread")]
async fn the_default_socket_is_dual_stack() {
    let listener = bind_default(&TokioNet, 0).await.expect("[::] binds");
    let addr = listener.local_addr().expect("bound");
    assert_eq!(addr.ip(), IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    let v4 = SocketAddr::from((Ipv4Addr::LOCALHOST, addr.port()));
    let _client = TcpStream::connect(v4)
        .await
        .expect("an IPv4 client reaches [::]");
    let (_, peer) = listener.accept().await.expect("accepted");
    assert_eq!(
        peer.ip(),
        "::ffff:127.0.0.1".parse::<IpAddr>().expect("literal")
    );
    let v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, addr.port()));
    let _client = TcpStream::connect(v6)
        .await
        .expect("an IPv6 client reaches [::]");
    let (_, peer) = listener.accept().await.expect("accepted");
    assert_eq!(peer.ip(), IpAddr::V6(Ipv6Addr::LOCALHOST));
}

#[tokio::test(flavor = "current_thread")]
async fn a_bind_failure_names_the_address_and_the_cause() {
    let taken = bind_default(&TokioNet, 0).await.expect("binds");
    let port = taken.local_addr().expect("bound").port();
    let error = bind_default(&TokioNet, port)
        .await
        .expect_err("the port is taken");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("cannot listen on [::]:{port}: ")),
        "{message}"
    );
    assert!(message.contains("in use"), "{message}");
}

/// A node whose settings load through the real path (config, certificate, TLS).
fn node_files() -> MemFiles {
    let certified = rcgen::generate_simple_self_signed(vec!["pve1".to_owned()]).expect("rcgen");
    let mut files = MemFiles::default();
    files.0.insert("/etc/default/pveproxy".into(), Vec::new());
    let dir = "/etc/pve/nodes/pve1";
    files.0.insert(
        format!("{dir}/pve-ssl.pem").into(),
        certified.cert.pem().into_bytes(),
    );
    let key = certified.signing_key.serialize_pem().into_bytes();
    files.0.insert(format!("{dir}/pve-ssl.key").into(), key);
    files
}

/// Sends a plain-HTTP request and returns the reply's first line ("" if none within `wait`).
async fn first_line(stream: &mut TcpStream, wait: Duration) -> String {
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: pve1\r\n\r\n")
        .await
        .expect("write");
    let mut buf = vec![0u8; 1024];
    match tokio::time::timeout(wait, stream.read(&mut buf)).await {
        Ok(Ok(n)) => String::from_utf8_lossy(&buf[..n])
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn at_the_connection_limit_accepting_pauses() {
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let clock: Arc<dyn WallClock> = Arc::new(SystemClock);
            let loaded =
                proxy_settings::load(&node_files(), &Root::default(), "pve1", Arc::clone(&clock))
                    .expect("settings load");
            let listener = TokioNet
                .bind((Ipv4Addr::LOCALHOST, 0).into())
                .await
                .expect("binds");
            let addr = listener.local_addr().expect("bound");
            // Only redirects are asked for: the API never runs, so it needs no key files.
            let settings = ApiSettings {
                role: Role::Proxy,
                node: "pve1".into(),
                version: VersionInfo {
                    version: "9.2.11".into(),
                    release: "9.2".into(),
                    repoid: "t".into(),
                },
                unauthorized_delay: Duration::from_millis(100),
                sign_digest: SignDigest::Sha256,
            };
            let access = AccessFiles::new(Rc::new(MemFiles::default()), Root::default());
            let api = Rc::new(ApiService::new(settings, access, Arc::clone(&clock), None));
            let server = ProxyServer::new(
                listener,
                loaded.settings,
                api,
                clock,
                Rc::new(MemoryLog::default()),
            )
            .with_connection_limit(1);
            tokio::task::spawn_local(server.run());

            // The first connection takes the only slot (it sends nothing yet).
            let mut first = TcpStream::connect(addr).await.expect("connects");
            tokio::time::sleep(Duration::from_millis(100)).await;
            // The second is queued by the kernel but not accepted: no reply while the first is open.
            let mut second = TcpStream::connect(addr)
                .await
                .expect("the kernel queues it");
            assert_eq!(
                first_line(&mut second, Duration::from_millis(300)).await,
                ""
            );
            // The first one finishes (the redirect closes it); the second is then served.
            assert_eq!(
                first_line(&mut first, Duration::from_secs(2)).await,
                "HTTP/1.1 301 Moved Permanently"
            );
            drop(first);
            let mut reply = vec![0u8; 1024];
            let n = tokio::time::timeout(Duration::from_secs(2), second.read(&mut reply))
                .await
                .expect("served after the first ended")
                .expect("read");
            assert!(reply[..n].starts_with(b"HTTP/1.1 301 Moved Permanently"));
        })
        .await;
}
