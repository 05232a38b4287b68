//! The production pveproxy front door (corral-io's `ProxyServer`, `proxy_settings::load`, TLS,
//! ACL, access log) on turmoil's simulated network: the same code that serves real sockets
//! serves simulated ones, applies the host ACL by the simulated client's address, authenticates
//! with a ticket, delays a 401 in simulated time, and dates its replies and log lines from the
//! simulated clock — so a run is the same every time.

use std::cell::RefCell;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, UNIX_EPOCH};

use corral_core::api::Role;
use corral_core::auth::keyage::Quorum;
use corral_core::auth::ticket::SignDigest;
use corral_core::http::api::VersionInfo;
use corral_core::time::UnixTime;
use corral_io::access::AccessFiles;
use corral_io::access_log::MemoryLog;
use corral_io::api::{ApiService, ApiSettings, UNAUTHORIZED_DELAY};
use corral_io::authkey;
use corral_io::clock::{ManualClock, RustlsTime, WallClock};
use corral_io::files::{MemFiles, MemFs, Root};
use corral_io::net::Network;
use corral_io::proxy::ProxyServer;
use corral_io::proxy_settings;
use corral_sim::{SimClock, TurmoilNet};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SERVER: &str = "10.0.0.1";
const ALLOWED_CLIENT: &str = "10.0.1.5";
/// Also on the management network, but without credentials.
const ANONYMOUS_CLIENT: &str = "10.0.1.6";
const DENIED_CLIENT: &str = "10.0.2.5";
/// 2026-11-24T00:00:00Z: every run starts at the same simulated instant.
const EPOCH_SECS: u64 = 1_795_478_400;

/// The node's files: only the management network may connect.
fn node_files(cert_pem: &str, key_pem: &str) -> MemFiles {
    let mut files = MemFiles::default();
    let config = "ALLOW_FROM=\"10.0.1.0/24\"\nDENY_FROM=\"all\"\n";
    files
        .0
        .insert("/etc/default/pveproxy".into(), config.as_bytes().to_vec());
    files.0.insert(
        "/etc/pve/nodes/pve1/pve-ssl.pem".into(),
        cert_pem.as_bytes().to_vec(),
    );
    files.0.insert(
        "/etc/pve/nodes/pve1/pve-ssl.key".into(),
        key_pem.as_bytes().to_vec(),
    );
    files
}

fn version() -> VersionInfo {
    VersionInfo {
        version: "9.2.11".into(),
        release: "9.2".into(),
        repoid: "corral-test".into(),
    }
}

/// The simulation's first instant, as a clock outside the simulation shows it.
fn epoch() -> UnixTime {
    UnixTime(i64::try_from(EPOCH_SECS).expect("fits"))
}

/// The key files pvedaemon makes (ticket key pair, `pve-www.key`) and a ticket for root@pam
/// issued at the simulation's start. RSA key generation is slow: once for all runs.
struct Keys {
    /// The node's files: copy with [`MemFs::detached`].
    files: MemFs,
    ticket: String,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let fs = MemFs::new(Arc::new(ManualClock::new(epoch())));
        let root = Root::default();
        authkey::ensure_keys(&fs, &root).expect("the key files are made");
        let ticket = authkey::issue_ticket(
            &fs,
            &root,
            "root@pam",
            epoch(),
            Quorum::Quorate,
            SignDigest::Sha256,
        )
        .expect("a ticket");
        Keys { files: fs, ticket }
    })
}

/// pveproxy's API (no pvedaemon) over the key files, with Proxmox's 3 s 401 delay.
fn api_service(clock: &Arc<dyn WallClock>) -> Rc<ApiService> {
    let fs = keys().files.detached();
    let settings = ApiSettings {
        role: Role::Proxy,
        node: "pve1".into(),
        version: version(),
        unauthorized_delay: UNAUTHORIZED_DELAY,
        sign_digest: SignDigest::Sha256,
    };
    let access = AccessFiles::new(Rc::new(fs), Root::default()).with_ttl(Duration::ZERO);
    Rc::new(ApiService::new(settings, access, Arc::clone(clock), None))
}

/// A TLS client trusting only the node's certificate, on the simulated clock.
fn tls_client(cert: CertificateDer<'static>) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(cert)
        .expect("the node certificate is a valid trust anchor");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let time = Arc::new(RustlsTime(Arc::new(SimClock)));
    let config = rustls::ClientConfig::builder_with_details(provider, time)
        .with_safe_default_protocol_versions()
        .expect("default versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// One GET of the version over TLS, with the ticket cookie when `ticket` is given; returns the
/// whole response (the server closes or we read to the end) and how long it took in simulated
/// time.
async fn get_version(
    cert: CertificateDer<'static>,
    ticket: Option<&str>,
) -> std::io::Result<(String, Duration)> {
    let tcp = turmoil::net::TcpStream::connect((SERVER, 8006)).await?;
    let name = ServerName::try_from("pve1").expect("valid name");
    let mut tls = tls_client(cert).connect(name, tcp).await?;
    let cookie = ticket
        .map(|ticket| format!("Cookie: PVEAuthCookie={}\r\n", ticket.replace(':', "%3A")))
        .unwrap_or_default();
    let request = format!(
        "GET /api2/json/version HTTP/1.1\r\nHost: pve1:8006\r\n{cookie}Connection: close\r\n\r\n"
    );
    let sent = tokio::time::Instant::now();
    tls.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    tls.read_to_end(&mut response).await?;
    let took = sent.elapsed();
    Ok((String::from_utf8_lossy(&response).into_owned(), took))
}

/// Connects and reads; a denied peer must see the connection closed without a single byte.
async fn bytes_seen_by_denied_peer() -> std::io::Result<usize> {
    let mut tcp = turmoil::net::TcpStream::connect((SERVER, 8006)).await?;
    // A TLS ClientHello's first bytes: the server must not answer, not even with an alert.
    tcp.write_all(&[0x16, 0x03, 0x01, 0x00, 0x05]).await?;
    let mut buf = [0u8; 64];
    match tcp.read(&mut buf).await {
        Ok(n) => Ok(n),
        // A reset is also "closed without a reply".
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Ok(0),
        Err(e) => Err(e),
    }
}

/// What one run observed.
#[derive(Debug, PartialEq)]
struct Observed {
    /// The allowed client's reply (with a ticket).
    reply: String,
    /// The reply to the client without credentials, and how long it took (simulated time).
    anonymous: (String, Duration),
    /// The bytes the denied client saw.
    denied_bytes: usize,
    /// The server's access log.
    log: Vec<String>,
}

/// Runs the scenario and returns what was observed.
fn run_scenario(seed: u64) -> Observed {
    let certified = rcgen::generate_simple_self_signed(vec!["pve1".to_owned()])
        .expect("rcgen makes a certificate");
    let cert_der = certified.cert.der().clone();
    let files = node_files(
        &certified.cert.pem(),
        &certified.signing_key.serialize_pem(),
    );

    let mut sim = turmoil::Builder::new()
        .rng_seed(seed)
        .epoch(UNIX_EPOCH + Duration::from_secs(EPOCH_SECS))
        .simulation_duration(Duration::from_secs(60))
        .build();

    let log = MemoryLog::default();
    let server_log = log.clone();
    sim.host(SERVER, move || {
        let files = files.clone();
        let log = server_log.clone();
        async move {
            let clock: Arc<dyn WallClock> = Arc::new(SimClock);
            let loaded =
                proxy_settings::load(&files, &Root::default(), "pve1", Arc::clone(&clock))?;
            let listen = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 8006));
            let listener = TurmoilNet.bind(listen).await?;
            let api = api_service(&clock);
            ProxyServer::new(listener, loaded.settings, api, clock, Rc::new(log))
                .run()
                .await;
            Ok(())
        }
    });

    let reply = Rc::new(RefCell::new(String::new()));
    let reply_out = Rc::clone(&reply);
    let allowed_cert = cert_der.clone();
    sim.client(ALLOWED_CLIENT, async move {
        let (reply, _) = get_version(allowed_cert, Some(&keys().ticket)).await?;
        *reply_out.borrow_mut() = reply;
        Ok(())
    });
    let anonymous = Rc::new(RefCell::new((String::new(), Duration::ZERO)));
    let anonymous_out = Rc::clone(&anonymous);
    let anonymous_cert = cert_der.clone();
    sim.client(ANONYMOUS_CLIENT, async move {
        *anonymous_out.borrow_mut() = get_version(anonymous_cert, None).await?;
        Ok(())
    });
    let denied_bytes = Rc::new(RefCell::new(usize::MAX));
    let denied_out = Rc::clone(&denied_bytes);
    sim.client(DENIED_CLIENT, async move {
        *denied_out.borrow_mut() = bytes_seen_by_denied_peer().await?;
        Ok(())
    });

    sim.run().expect("the simulation runs to completion");
    let lines = log.0.borrow().clone();
    Observed {
        reply: reply.take(),
        anonymous: anonymous.take(),
        denied_bytes: denied_bytes.take(),
        log: lines,
    }
}

#[test]
fn the_production_front_door_serves_tls_and_applies_the_acl_on_simulated_sockets() {
    let Observed {
        reply,
        anonymous: (anonymous, anonymous_took),
        denied_bytes,
        log,
    } = run_scenario(7);

    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    assert!(
        reply.contains("\r\ndate: Tue, 24 Nov 2026 00:00:"),
        "simulated clock in Date: {reply}"
    );
    let body = "{\"data\":{\"release\":\"9.2\",\"repoid\":\"corral-test\",\"version\":\"9.2.11\"}}";
    assert!(reply.ends_with(body), "{reply}");
    assert_eq!(denied_bytes, 0, "a denied peer is closed without a reply");

    let denied: IpAddr = DENIED_CLIENT.parse().expect("literal");
    let denied_line = format!("::ffff:{denied} - - [24/11/2026:00:00:");
    assert!(
        log.iter()
            .any(|l| l.starts_with(&denied_line) && l.ends_with("\"-\" 403 -\n")),
        "{log:?}"
    );
    // The ticket's user is logged.
    let allowed_line = format!("::ffff:{ALLOWED_CLIENT} - root@pam [24/11/2026:00:00:");
    assert!(
        log.iter().any(|l| l.starts_with(&allowed_line)
            && l.ends_with(&format!(
                "\"GET /api2/json/version HTTP/1.1\" 200 {}\n",
                body.len()
            ))),
        "{log:?}"
    );

    // Without credentials: 401 after Proxmox's 3 s, in simulated time.
    assert!(
        anonymous.starts_with("HTTP/1.1 401 No ticket\r\n"),
        "{anonymous}"
    );
    assert!(
        anonymous_took >= UNAUTHORIZED_DELAY && anonymous_took < Duration::from_secs(4),
        "{anonymous_took:?}"
    );
    let anonymous_line = format!("::ffff:{ANONYMOUS_CLIENT} - - [24/11/2026:00:00:0");
    assert!(
        log.iter().any(|l| l.starts_with(&anonymous_line)
            && l.ends_with("\"GET /api2/json/version HTTP/1.1\" 401 10\n")),
        "{log:?}"
    );
}

#[test]
fn the_same_seed_gives_the_same_run() {
    assert_eq!(run_scenario(42), run_scenario(42));
}
