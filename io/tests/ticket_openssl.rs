//! corral's tickets and CSRF tokens against the `openssl` command line, the tool Proxmox's own
//! key setup uses (`openssl genrsa`, `openssl rsa -pubout`).
//!
//! Tickets are minted in a shell the way Proxmox's `assemble_rsa_ticket` builds them (`PVE:`,
//! user, `%08X` time, `::`, padded base64 of the signature) with each signature scheme a
//! Proxmox release uses, and corral must accept them; corral's tickets must pass `openssl dgst
//! -verify`. The key files sit where Proxmox keeps them, under a temporary root, and are read
//! through `corral_io::authkey` from the real file system.
//!
//! Needs the `openssl` binary (and coreutils' `base64`); without `openssl` the tests say so
//! and pass.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

use corral_core::auth::csrf::CsrfSecret;
use corral_core::auth::keyage::Quorum;
use corral_core::auth::ticket::{self, SignDigest};
use corral_core::time::UnixTime;
use corral_io::authkey;
use corral_io::clock::{SystemClock, WallClock};
use corral_io::files::{RealFiles, Root};

/// A node root under the temp dir with Proxmox's key files made by `openssl`, removed on drop.
struct Node {
    root: PathBuf,
}

impl Node {
    /// `None` (after saying why) when there is no `openssl` binary.
    fn with_openssl_keys(name: &str) -> Option<Node> {
        if Command::new("openssl").arg("version").output().is_err() {
            eprintln!(
                "SKIPPED: the `openssl` command is not installed; install openssl to run this test"
            );
            return None;
        }
        let root =
            std::env::temp_dir().join(format!("corral-ticket-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("etc/pve/priv")).expect("node dirs");
        let node = Node { root };
        // Proxmox's gen_auth_key and gen_pve_www_key.
        node.sh("openssl genrsa -out etc/pve/priv/authkey.key 2048 2>/dev/null");
        node.sh(
            "openssl rsa -in etc/pve/priv/authkey.key -pubout -out etc/pve/authkey.pub 2>/dev/null",
        );
        node.sh("openssl genrsa -out etc/pve/pve-www.key 2048 2>/dev/null");
        Some(node)
    }

    /// Runs a shell command in the node root; it must succeed. Returns its stdout.
    fn sh(&self, script: &str) -> String {
        self.sh_with(script, &[])
    }

    fn sh_with(&self, script: &str, env: &[(&str, &str)]) -> String {
        let output = self.run(script, env);
        assert!(
            output.status.success(),
            "`{script}` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("utf-8 output")
    }

    fn run(&self, script: &str, env: &[(&str, &str)]) -> Output {
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .current_dir(&self.root)
            .envs(env.iter().copied())
            .output()
            .expect("run sh")
    }

    fn root(&self) -> Root {
        Root::new(&self.root)
    }

    /// A ticket for `userid` issued at `time`, built and signed in the shell with the given
    /// `openssl dgst` options.
    fn mint(&self, userid_escaped: &str, time: UnixTime, dgst_options: &str) -> String {
        let script = format!(
            r#"ts=$(printf '%08X' "$TIME")
plain="PVE:$USERID:$ts"
sig=$(printf '%s' "$plain" | openssl dgst {dgst_options} -sign etc/pve/priv/authkey.key | base64 -w0)
printf '%s::%s' "$plain" "$sig""#
        );
        self.sh_with(
            &script,
            &[("TIME", &time.0.to_string()), ("USERID", userid_escaped)],
        )
    }

    /// Whether `openssl dgst <options> -verify authkey.pub` accepts the ticket's signature over
    /// the text before `::`.
    fn openssl_verifies(&self, ticket: &str, dgst_options: &str) -> bool {
        let script = format!(
            r#"printf '%s' "${{TICKET%%::*}}" > plain
printf '%s' "${{TICKET##*::}}" | base64 -d > sig
openssl dgst {dgst_options} -verify etc/pve/authkey.pub -signature sig plain"#
        );
        let output = self.run(&script, &[("TICKET", ticket)]);
        let verdict = String::from_utf8_lossy(&output.stdout);
        output.status.success() && verdict.trim() == "Verified OK"
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

fn now() -> UnixTime {
    SystemClock.now()
}

#[test]
fn corral_accepts_tickets_signed_every_way_proxmox_signs() {
    let Some(node) = Node::with_openssl_keys("accept") else {
        return;
    };
    let keys = authkey::load_public_keys(&RealFiles, &node.root()).expect("openssl's key files");
    let issued = UnixTime(now().0 - 5);
    for options in [
        "-sha1",                                // Crypt::OpenSSL::RSA 0.33
        "-sha256",                              // newer releases
        "-sha256 -sigopt rsa_padding_mode:pss", // PSS, OpenSSL's salt length
        "-sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest", // PSS, 32-byte salt
    ] {
        let minted = node.mint("root@pam", issued, options);
        let verified = ticket::verify(&minted, &keys, now(), Quorum::Quorate)
            .unwrap_or_else(|e| panic!("openssl dgst {options}: {e}: {minted}"));
        assert_eq!(verified.userid, "root@pam", "{options}");
        assert!((5..60).contains(&verified.age), "age {}", verified.age);
    }
    // Proxmox escapes ':' in the user id.
    let minted = node.mint("odd%3Aname@pve", issued, "-sha1");
    let verified = ticket::verify(&minted, &keys, now(), Quorum::Quorate).expect("escaped user");
    assert_eq!(verified.userid, "odd:name@pve");
    // Signed by the wrong key: refused.
    node.sh("openssl genrsa -out etc/pve/priv/authkey.key 2048 2>/dev/null");
    let forged = node.mint("root@pam", issued, "-sha256");
    assert!(ticket::verify(&forged, &keys, now(), Quorum::Quorate).is_err());
}

#[test]
fn openssl_verifies_the_tickets_corral_signs() {
    let Some(node) = Node::with_openssl_keys("sign") else {
        return;
    };
    let key = authkey::load_signing_key(&RealFiles, &node.root()).expect("openssl's private key");

    let sha256 = ticket::sign("root@pam", now(), &key, SignDigest::Sha256).expect("sign");
    assert!(node.openssl_verifies(&sha256, "-sha256"), "{sha256}");
    assert!(
        !node.openssl_verifies(&sha256, "-sha1"),
        "the digests must differ"
    );

    let sha1 = ticket::sign("root@pam", now(), &key, SignDigest::Sha1).expect("sign");
    assert!(node.openssl_verifies(&sha1, "-sha1"), "{sha1}");
    assert!(!node.openssl_verifies(&sha1, "-sha256"));

    // The ticket text is Proxmox's, byte for byte.
    let at = now();
    let escaped = ticket::sign("a:b@pve", at, &key, SignDigest::Sha256).expect("sign");
    assert!(
        escaped.starts_with(&format!("PVE:a%3Ab@pve:{:08X}::", at.0)),
        "{escaped}"
    );
    assert!(node.openssl_verifies(&escaped, "-sha256"));
    // And identical to what the shell recipe makes (PKCS#1 v1.5 is deterministic).
    assert_eq!(
        ticket::sign("root@pam", at, &key, SignDigest::Sha1).expect("sign"),
        node.mint("root@pam", at, "-sha1")
    );
}

#[test]
fn issued_tickets_verify_after_a_rotation_on_disk() {
    let Some(node) = Node::with_openssl_keys("rotate") else {
        return;
    };
    let root = node.root();
    let before = ticket::sign(
        "root@pam",
        now(),
        &authkey::load_signing_key(&RealFiles, &root).expect("key"),
        SignDigest::Sha256,
    )
    .expect("sign");
    // Pretend the key is a day old: the next ticket rotates it, on the real file system.
    node.sh("touch -d '@'$(( $(date +%s) - 86400 )) etc/pve/authkey.pub");
    let after = authkey::issue_ticket(
        &RealFiles,
        &root,
        "alice@pve",
        now(),
        Quorum::Quorate,
        SignDigest::Sha256,
    )
    .expect("issue with rotation");
    assert!(node.root.join("etc/pve/authkey.pub.old").is_file());
    assert!(
        node.openssl_verifies(&after, "-sha256"),
        "openssl checks against the new authkey.pub"
    );
    let mode = |path: &str| {
        use std::os::unix::fs::MetadataExt;
        fs::metadata(node.root.join(path)).expect(path).mode() & 0o777
    };
    assert_eq!(mode("etc/pve/priv/authkey.key"), 0o600);
    assert_eq!(mode("etc/pve/authkey.pub"), 0o640);
    assert_eq!(mode("etc/pve/authkey.pub.old"), 0o640);

    let keys = authkey::load_public_keys(&RealFiles, &root).expect("both keys");
    assert!(keys.old.is_some());
    let verified = ticket::verify(&after, &keys, now(), Quorum::Quorate).expect("new ticket");
    assert_eq!(verified.userid, "alice@pve");
    // The ticket from before the rotation: the new key refuses it, the old one (whose window
    // starts at its age - 300 s, the rotation being seconds old) accepts it.
    let verified = ticket::verify(&before, &keys, now(), Quorum::Quorate).expect("old ticket");
    assert_eq!(verified.userid, "root@pam");
}

#[test]
fn csrf_tokens_match_openssl_hmac() {
    let Some(node) = Node::with_openssl_keys("csrf") else {
        return;
    };
    let secret = authkey::load_csrf_secret(&RealFiles, &node.root()).expect("pve-www.key");
    // Perl's hmac_sha256_base64($contents): the file's bytes are the key, the message is empty.
    let expected_secret = node.sh("printf '' | openssl dgst -sha256 -mac HMAC \
         -macopt hexkey:$(od -An -v -tx1 etc/pve/pve-www.key | tr -d ' \\n') -binary \
         | base64 -w0 | tr -d =");
    assert_eq!(secret.as_str(), expected_secret);

    let at = now();
    let token = secret.token("root@pam", at).expect("token");
    let expected_signature = node.sh_with(
        "printf '%s:%s' \"$TS\" root@pam | openssl dgst -sha256 -hmac \"$SECRET\" -binary \
         | base64 -w0 | tr -d =",
        &[
            ("TS", &format!("{:08X}", at.0)),
            ("SECRET", secret.as_str()),
        ],
    );
    assert_eq!(token, format!("{:08X}:{expected_signature}", at.0));
    secret.verify("root@pam", &token, at).expect("own token");
    assert!(secret.verify("admin@pve", &token, at).is_err());
    // Another www key, another secret.
    let other = CsrfSecret::from_key_file(b"another key\n").expect("secret");
    assert!(other.verify("root@pam", &token, at).is_err());
}
