//! Behaviour of `user.cfg` reading, writing, editing and ACL evaluation, as a user of
//! `pveum`, the API or the login form sees it.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::time::UnixTime;

fn userid(text: &str) -> Userid {
    Userid::parse(text).expect("valid user id")
}

fn authid(text: &str) -> Authid {
    Authid::parse(text).expect("valid auth id")
}

fn parse(text: &str) -> UserConfig {
    let parsed = UserConfig::parse(Some(text));
    assert_eq!(parsed.warnings, [], "fixture parses cleanly");
    parsed.config
}

fn warnings(text: &str) -> Vec<String> {
    UserConfig::parse(Some(text))
        .warnings
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// The privileges on a path, as sorted names (propagate flags left out).
fn privs(cfg: &UserConfig, who: &str, path: &str) -> Vec<String> {
    cfg.permissions(&authid(who), path).into_keys().collect()
}

fn names(list: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
    out.sort();
    out
}

fn role_names(cfg: &UserConfig, role: &str) -> Vec<String> {
    cfg.role(role)
        .expect("role exists")
        .names()
        .map(str::to_owned)
        .collect()
}

const FIXTURE: &str = "\
user:root@pam:1:0:::root@example.com:::
user:alice@pve:1:0:Alice:Smith:alice@example.com:Ops%3A lead%25::
token:alice@pve!full:0:0::
token:alice@pve!sep:0:1:CI token:
user:bob@pve:1:0::::::
user:carol@pve:0:0::::::
user:dave@pve:1:1000::::::

group:audit:bob@pve,carol@pve:Read only:
group:ops:alice@pve,bob@pve::

pool:dev::200::
pool:prod:Production:100,101:local,nfs:

role:VMStarter:VM.Audit,VM.PowerMgmt:

acl:1:/:@audit:PVEAuditor:
acl:1:/vms:@ops:PVEVMUser:
acl:0:/vms/100:bob@pve:VMStarter:
acl:1:/vms/101:@ops:NoAccess:
acl:1:/storage:alice@pve!sep:PVEDatastoreUser:
acl:1:/vms:alice@pve!sep:PVEVMAdmin:
acl:1:/pool/prod:bob@pve:PVEDatastoreAdmin:
";

#[test]
fn a_missing_file_has_only_root() {
    for text in [None, Some(""), Some("\n  \n")] {
        let parsed = UserConfig::parse(text);
        assert_eq!(parsed.warnings, []);
        assert_eq!(parsed.config, UserConfig::default());
        let users: Vec<&str> = parsed.config.users().keys().map(Userid::as_str).collect();
        assert_eq!(users, ["root@pam"]);
    }
    assert_eq!(
        UserConfig::default().render(),
        "user:root@pam:1:0::::::\n\n\n\n\n"
    );
}

#[test]
fn reads_every_field() {
    let cfg = parse(FIXTURE);
    let alice = cfg.user(&userid("alice@pve")).expect("defined");
    assert!(alice.enable);
    assert_eq!(alice.firstname.as_deref(), Some("Alice"));
    assert_eq!(alice.lastname.as_deref(), Some("Smith"));
    assert_eq!(alice.email.as_deref(), Some("alice@example.com"));
    assert_eq!(alice.comment.as_deref(), Some("Ops: lead%"));
    let sep = cfg
        .token(&Tokenid::parse("alice@pve!sep").expect("valid"))
        .expect("defined");
    assert!(sep.privsep);
    assert_eq!(sep.comment.as_deref(), Some("CI token"));
    assert!(!cfg.user(&userid("carol@pve")).expect("defined").enable);
    assert_eq!(cfg.user(&userid("dave@pve")).map(|u| u.expire), Some(1000));
    assert_eq!(cfg.groups_of(&userid("bob@pve")), ["audit", "ops"]);
    assert_eq!(
        cfg.group("audit").and_then(|g| g.comment.as_deref()),
        Some("Read only")
    );
    let prod = cfg.pool("prod").expect("defined");
    assert_eq!(prod.vms.iter().copied().collect::<Vec<_>>(), [100, 101]);
    assert_eq!(
        prod.storage.iter().map(String::as_str).collect::<Vec<_>>(),
        ["local", "nfs"]
    );
    assert_eq!(role_names(&cfg, "VMStarter"), ["VM.Audit", "VM.PowerMgmt"]);
    let vms = cfg.acl().get("/vms").expect("entries on /vms");
    assert_eq!(
        vms.groups.get("ops"),
        Some(&BTreeMap::from([("PVEVMUser".to_owned(), true)]))
    );
}

#[test]
fn writes_proxmox_layout_and_reads_it_back() {
    let cfg = parse(FIXTURE);
    let written = cfg.render();
    assert_eq!(
        written,
        "\
user:alice@pve:1:0:Alice:Smith:alice@example.com:Ops%3A lead%25::
token:alice@pve!full:0:0::
token:alice@pve!sep:0:1:CI token:
user:bob@pve:1:0::::::
user:carol@pve:0:0::::::
user:dave@pve:1:1000::::::
user:root@pam:1:0:::root@example.com:::

group:audit:bob@pve,carol@pve:Read only:
group:ops:alice@pve,bob@pve::

pool:dev::200::
pool:prod:Production:100,101:local,nfs:

role:VMStarter:VM.Audit,VM.PowerMgmt:

acl:1:/:@audit:PVEAuditor:
acl:1:/pool/prod:bob@pve:PVEDatastoreAdmin:
acl:1:/storage:alice@pve!sep:PVEDatastoreUser:
acl:1:/vms:alice@pve!sep:PVEVMAdmin:
acl:1:/vms:@ops:PVEVMUser:
acl:0:/vms/100:bob@pve:VMStarter:
acl:1:/vms/101:@ops:NoAccess:
"
    );
    assert_eq!(parse(&written), cfg);
}

#[test]
fn acl_lines_group_members_by_roles_and_propagation() {
    let cfg = parse(
        "user:a@pve:1:0::::::\nuser:b@pve:1:0::::::\ngroup:g:::\n\
         acl:1:/vms:a@pve,b@pve,@g:PVEVMUser:\n\
         acl:0:/vms:a@pve:PVEAuditor:\n\
         acl:1:/vms:b@pve:PVEAuditor:\n",
    );
    let written = cfg.render();
    let acl: Vec<&str> = written.lines().filter(|l| l.starts_with("acl:")).collect();
    assert_eq!(
        acl,
        [
            "acl:0:/vms:a@pve:PVEAuditor:",
            "acl:1:/vms:b@pve:PVEAuditor,PVEVMUser:",
            "acl:1:/vms:@g,a@pve:PVEVMUser:",
        ]
    );
    assert_eq!(parse(&written), cfg);
}

#[test]
fn acl_paths_are_written_in_tree_order_and_vmids_as_text() {
    let cfg = parse(
        "user:a@pve:1:0::::::\n\
         pool:p::1000,200,30000::\n\
         acl:1:/sdn/zones/z-1:a@pve:PVESDNUser:\n\
         acl:1:/sdn/zones/z/v:a@pve:PVESDNUser:\n\
         acl:1:/sdn/zones/z:a@pve:PVESDNUser:\n",
    );
    let written = cfg.render();
    assert!(written.contains("pool:p::1000,200,30000::\n"));
    let paths: Vec<&str> = written
        .lines()
        .filter_map(|l| l.strip_prefix("acl:1:"))
        .map(|l| l.split(':').next().unwrap_or(""))
        .collect();
    assert_eq!(paths, ["/sdn/zones/z", "/sdn/zones/z/v", "/sdn/zones/z-1"]);
}

#[test]
fn broken_lines_are_skipped_with_their_line_numbers() {
    let text = "\
user:alice@pve:1:0::::::
user:bad user@pve:1:0::::::
user:eve@pve:yes:soon::::::
token:ghost@pve!tk:0:1::
token:alice@pve!x:0:0::
# a comment
frob:x:
group:bad group:alice@pve::
group:g:alice@pve,nobody@pve,not-a-user::
pool:p::100,abc,100:local,-bad:
pool:q::100::
role:Custom:VM.Audit,VM.Monitor:
role:PVEAdmin:Sys.Modify:
acl:1:/vms:alice@pve:NoSuchRole,Custom:
acl:1:/vm:alice@pve:Custom:
acl:1:/vms/{id}:alice@pve:Custom:
acl:1:/:root@pam,@nogroup,ghost@pve,alice@pve!nope,!!:Custom:
user:alice@pve:0:0:A:B:a@b:c:d:e:
";
    assert_eq!(
        warnings(text),
        [
            "line 2: ignoring user: user name 'bad user@pve' contains whitespace, ':' or '/', \
             which user names cannot contain",
            "line 3: user 'eve@pve': 'yes' is not 0 or 1; read as 1, as Proxmox VE does",
            "line 3: ignoring user 'eve@pve': expire 'soon' is not a number of seconds since \
             1970 (0 = never)",
            "line 4: ignoring token 'ghost@pve!tk': user 'ghost@pve' is not defined before it (a \
             token line must follow its user's line)",
            "line 5: ignoring token: token name 'x' in 'alice@pve!x' is not valid: a token name \
             starts with a letter and has at least 2 characters out of letters, digits, '.', \
             '-' and '_'",
            "line 6: ignoring comment line: user.cfg has no comments (Proxmox VE warns about \
             this line too, and drops it the next time it writes the file)",
            "line 7: ignoring line of unknown type 'frob' (known: user, token, group, pool, \
             role, acl)",
            "line 8: ignoring group: group name 'bad group' contains invalid characters \
             (allowed: letters, digits, '.', '-', '_')",
            "line 9: group 'g': member 'nobody@pve' is not a defined user (kept, as Proxmox VE \
             does)",
            "line 9: group 'g': ignoring member: user name 'not-a-user' has no '@realm' part \
             (write it as 'name@realm', e.g. 'alice@pve')",
            "line 10: pool 'p': ignoring invalid guest id 'abc'",
            "line 10: pool 'p': ignoring guest 100: it is already in pool 'p' (a guest can be \
             in one pool only)",
            "line 10: pool 'p': ignoring invalid storage id '-bad'",
            "line 11: pool 'q': ignoring guest 100: it is already in pool 'p' (a guest can be \
             in one pool only)",
            "line 12: role 'Custom': ignoring unknown privilege 'VM.Monitor'",
            "line 13: ignoring role 'PVEAdmin': it is a built-in role, whose privileges cannot \
             be changed",
            "line 14: ACL on '/vms': ignoring role 'NoSuchRole': no such role (a custom role \
             must be defined before the ACL lines that use it)",
            "line 15: ACL path '/vm' is not one permissions can be set on (kept, as Proxmox VE \
             does)",
            "line 16: ignoring ACL line: invalid path '/vms/{id}' (letters, digits, '.', '-', \
             '_' and '/' only)",
            "line 17: ACL on '/': ignoring entry for root@pam: root@pam always has every \
             privilege (Proxmox VE never saves such entries)",
            "line 17: ACL on '/': group 'nogroup' does not exist (entry kept, as Proxmox VE \
             does)",
            "line 17: ACL on '/': user 'ghost@pve' does not exist (entry kept, as Proxmox VE \
             does)",
            "line 17: ACL on '/': ignoring token 'alice@pve!nope': no such token (a token must \
             be defined before the ACL lines that use it)",
            "line 17: ACL on '/': ignoring '!!': not a user id, '@group' or token id",
            "line 18: user line has 10 fields where 9 are expected: a ':' inside a value must \
             be written as %3A; the fields after the 9th are ignored",
            "line 18: user 'alice@pve': the TFA keys field 'd' does not look like TFA keys \
             (kept, as Proxmox VE does); if it is the end of the comment, write the comment's \
             ':' as %3A",
            "line 18: user 'alice@pve' is defined again: this line replaces line 1, as Proxmox \
             VE does",
        ]
    );
    // The rest still loads.
    let cfg = UserConfig::parse(Some(text)).config;
    let alice = cfg.user(&userid("alice@pve")).expect("still defined");
    assert!(!alice.enable, "the later line wins");
    assert_eq!(alice.keys.as_deref(), Some("d"));
    assert!(cfg.user(&userid("eve@pve")).is_none());
    assert_eq!(role_names(&cfg, "Custom"), ["VM.Audit"]);
    assert_eq!(
        role_names(&cfg, "PVEAdmin").len(),
        40,
        "built-in role unchanged"
    );
    assert!(cfg.acl().contains_key("/vm"));
    let root_acl = cfg.acl().get("/").expect("entries on /");
    assert!(!root_acl.users.contains_key(&userid("root@pam")));
    assert!(root_acl.users.contains_key(&userid("ghost@pve")));
    assert!(root_acl.groups.contains_key("nogroup"));
    assert!(root_acl.tokens.is_empty());
    assert_eq!(cfg.pool("q").map(|p| p.vms.len()), Some(0));
}

#[test]
fn legacy_tfa_keys_are_kept_and_odd_ones_explained() {
    let text = "user:a@pve:1:0:::::x:\n\
                user:b@pve:1:0:::::x!oath:\n\
                user:c@pve:1:0:::::JBSWY3DPEHPK3PXP,ccccccdefghi:\n\
                user:d@pve:1:0::::my note:with a colon:\n";
    assert_eq!(
        warnings(text),
        [
            "line 4: user 'd@pve': the TFA keys field 'with a colon' does not look like TFA keys \
          (kept, as Proxmox VE does); if it is the end of the comment, write the comment's ':' \
          as %3A"
        ]
    );
    let cfg = UserConfig::parse(Some(text)).config;
    assert_eq!(
        cfg.user(&userid("b@pve")).and_then(|u| u.keys.as_deref()),
        Some("x!oath")
    );
    assert_eq!(
        cfg.user(&userid("d@pve"))
            .and_then(|u| u.comment.as_deref()),
        Some("my note")
    );
}

#[test]
fn flags_are_read_with_perl_truthiness() {
    let cfg = UserConfig::parse(Some("user:a@pve:00:0::::::\nuser:b@pve::0::::::\n")).config;
    assert!(
        cfg.user(&userid("a@pve")).is_some_and(|u| u.enable),
        "'00' is true in Perl"
    );
    assert!(cfg.user(&userid("b@pve")).is_some_and(|u| !u.enable));
}

#[test]
fn root_can_be_disabled_in_the_file_but_keeps_every_privilege() {
    let cfg = parse("user:root@pam:0:0::::::\n");
    let now = UnixTime(2_000_000_000);
    assert_eq!(
        cfg.check_user_enabled(&Userid::root(), now),
        Err(AccessError::UserDisabled(Userid::root()))
    );
    assert_eq!(privs(&cfg, "root@pam", "/vms/100").len(), PRIVILEGES.len());
}

mod evaluation {
    use super::*;

    #[test]
    fn root_has_everything_everywhere() {
        let cfg = parse(FIXTURE);
        for path in ["/", "/vms/101", "/nodes/x", "/no/such/path"] {
            let perms = cfg.permissions(&authid("root@pam"), path);
            assert_eq!(perms.len(), PRIVILEGES.len(), "{path}");
            assert!(perms.values().all(|propagate| *propagate));
        }
    }

    #[test]
    fn propagating_entries_reach_descendants_and_others_only_their_path() {
        let cfg = parse(
            "user:u@pve:1:0::::::\n\
             acl:0:/nodes:u@pve:PVEAuditor:\n\
             acl:1:/storage:u@pve:PVEDatastoreUser:\n",
        );
        assert_eq!(
            privs(&cfg, "u@pve", "/nodes"),
            role_names(&cfg, "PVEAuditor")
        );
        assert_eq!(privs(&cfg, "u@pve", "/nodes/pve1"), Vec::<String>::new());
        assert_eq!(
            privs(&cfg, "u@pve", "/storage/local"),
            names(&["Datastore.AllocateSpace", "Datastore.Audit"])
        );
        let flags = cfg.permissions(&authid("u@pve"), "/nodes");
        assert!(flags.values().all(|propagate| !*propagate));
    }

    #[test]
    fn deeper_entries_replace_what_was_gathered() {
        let cfg = parse(
            "user:u@pve:1:0::::::\n\
             acl:1:/:u@pve:PVEAdmin:\n\
             acl:1:/vms:u@pve:PVEAuditor:\n",
        );
        assert_eq!(
            privs(&cfg, "u@pve", "/vms/100"),
            role_names(&cfg, "PVEAuditor")
        );
        assert_eq!(privs(&cfg, "u@pve", "/nodes"), role_names(&cfg, "PVEAdmin"));
        // A non-propagating entry on an ancestor replaces nothing below it.
        let cfg = parse(
            "user:u@pve:1:0::::::\n\
             acl:1:/:u@pve:PVEAdmin:\n\
             acl:0:/vms:u@pve:PVEAuditor:\n",
        );
        assert_eq!(
            privs(&cfg, "u@pve", "/vms/100"),
            role_names(&cfg, "PVEAdmin")
        );
        assert_eq!(privs(&cfg, "u@pve", "/vms"), role_names(&cfg, "PVEAuditor"));
    }

    #[test]
    fn user_entries_beat_group_entries_on_the_same_level() {
        let cfg = parse(
            "user:u@pve:1:0::::::\ngroup:a:u@pve::\ngroup:o:u@pve::\n\
             role:VMStarter:VM.Audit,VM.PowerMgmt:\n\
             acl:1:/:@a:PVEAuditor:\n\
             acl:1:/vms:@o:PVEVMUser:\n\
             acl:0:/vms/100:u@pve,@o:VMStarter:\n\
             acl:1:/vms/100:@a:PVEVMAdmin:\n",
        );
        assert_eq!(
            privs(&cfg, "u@pve", "/vms/100"),
            names(&["VM.Audit", "VM.PowerMgmt"])
        );
        assert_eq!(
            privs(&cfg, "u@pve", "/vms/102"),
            role_names(&cfg, "PVEVMUser")
        );
        assert_eq!(
            privs(&cfg, "u@pve", "/nodes"),
            role_names(&cfg, "PVEAuditor")
        );
    }

    #[test]
    fn roles_of_several_groups_are_merged() {
        let cfg = parse(
            "user:u@pve:1:0::::::\ngroup:a:u@pve::\ngroup:b:u@pve::\n\
             acl:1:/vms:@a:PVEVMUser:\nacl:1:/vms:@b:PVEDatastoreUser:\n",
        );
        let expected = cfg
            .role("PVEVMUser")
            .unwrap_or_default()
            .union(cfg.role("PVEDatastoreUser").unwrap_or_default());
        assert_eq!(
            privs(&cfg, "u@pve", "/vms/100"),
            expected.names().map(str::to_owned).collect::<Vec<_>>()
        );
    }

    #[test]
    fn no_access_wins_over_everything_on_its_level() {
        let cfg = parse(
            "user:u@pve:1:0::::::\ngroup:g:u@pve::\n\
             acl:1:/:@g:PVEAuditor,NoAccess:\n\
             acl:1:/vms:u@pve:PVEVMUser:\n",
        );
        assert_eq!(privs(&cfg, "u@pve", "/nodes"), Vec::<String>::new());
        assert_eq!(
            cfg.permissions(&authid("u@pve"), "/nodes"),
            BTreeMap::new(),
            "NoAccess has no privileges"
        );
        // A deeper entry replaces the NoAccess.
        assert_eq!(
            privs(&cfg, "u@pve", "/vms/100"),
            role_names(&cfg, "PVEVMUser")
        );
    }

    #[test]
    fn pool_roles_reach_member_guests_and_storages() {
        let cfg = parse(FIXTURE);
        // bob: PVEDatastoreAdmin on /pool/prod (members: VMs 100, 101, storages local, nfs).
        let expected: Vec<String> = role_names(&cfg, "PVEDatastoreAdmin")
            .into_iter()
            .chain(role_names(&cfg, "PVEAuditor"))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(privs(&cfg, "bob@pve", "/storage/local"), expected);
        assert_eq!(
            privs(&cfg, "bob@pve", "/storage/other"),
            role_names(&cfg, "PVEAuditor")
        );
        let on_vm = cfg.permissions(&authid("bob@pve"), "/vms/100");
        assert_eq!(
            on_vm.get("Datastore.Allocate"),
            Some(&false),
            "pool roles never propagate"
        );
        assert_eq!(on_vm.get("VM.PowerMgmt"), Some(&false));
        // Regular NoAccess (@ops on /vms/101) beats the pool's roles.
        assert_eq!(privs(&cfg, "bob@pve", "/vms/101"), Vec::<String>::new());
    }

    #[test]
    fn a_pool_no_access_beats_regular_roles() {
        let cfg = parse(
            "user:u@pve:1:0::::::\npool:p::100::\n\
             acl:1:/vms:u@pve:PVEVMAdmin:\nacl:1:/pool/p:u@pve:NoAccess:\n",
        );
        assert_eq!(privs(&cfg, "u@pve", "/vms/100"), Vec::<String>::new());
        assert_eq!(
            privs(&cfg, "u@pve", "/vms/200"),
            role_names(&cfg, "PVEVMAdmin")
        );
        // The pool path itself: roles walked to /pool/p.
        assert_eq!(privs(&cfg, "u@pve", "/pool/p"), Vec::<String>::new());
    }

    #[test]
    fn nested_pools_inherit_propagating_roles() {
        let cfg = parse(
            "user:u@pve:1:0::::::\npool:p::::\npool:p/q::300::\n\
             acl:1:/pool/p:u@pve:PVEVMUser:\n",
        );
        assert_eq!(
            privs(&cfg, "u@pve", "/vms/300"),
            role_names(&cfg, "PVEVMUser")
        );
    }

    #[test]
    fn tokens_without_privsep_have_their_users_privileges() {
        let cfg = parse(FIXTURE);
        for path in ["/", "/vms/100", "/vms/101", "/storage/local", "/nodes"] {
            assert_eq!(
                cfg.permissions(&authid("alice@pve!full"), path),
                cfg.permissions(&authid("alice@pve"), path),
                "{path}"
            );
        }
    }

    #[test]
    fn privsep_tokens_get_their_own_privileges_within_their_users() {
        let cfg = parse(FIXTURE);
        // Token: PVEVMAdmin on /vms; alice (via @ops): PVEVMUser on /vms.
        assert_eq!(
            privs(&cfg, "alice@pve!sep", "/vms/100"),
            role_names(&cfg, "PVEVMUser")
        );
        // Token: PVEDatastoreUser on /storage; alice has nothing there.
        assert_eq!(
            privs(&cfg, "alice@pve!sep", "/storage/local"),
            Vec::<String>::new()
        );
        // alice has NoAccess on /vms/101 via @ops.
        assert_eq!(
            privs(&cfg, "alice@pve!sep", "/vms/101"),
            Vec::<String>::new()
        );
        // Token entries only: group entries never apply to tokens.
        assert_eq!(privs(&cfg, "alice@pve!sep", "/"), Vec::<String>::new());
    }

    #[test]
    fn token_entries_override_on_their_level_only_for_the_token() {
        let cfg = parse(
            "user:u@pve:1:0::::::\ntoken:u@pve!tk:0:1::\n\
             acl:1:/:u@pve:Administrator:\n\
             acl:1:/vms:u@pve!tk:PVEVMUser:\n\
             acl:1:/vms/100:u@pve!tk:NoAccess:\n",
        );
        assert_eq!(
            privs(&cfg, "u@pve!tk", "/vms/200"),
            role_names(&cfg, "PVEVMUser")
        );
        assert_eq!(privs(&cfg, "u@pve!tk", "/vms/100"), Vec::<String>::new());
        assert_eq!(privs(&cfg, "u@pve", "/vms/100").len(), PRIVILEGES.len());
    }

    #[test]
    fn unknown_users_and_tokens_have_nothing() {
        let cfg = parse(FIXTURE);
        assert_eq!(privs(&cfg, "nobody@pve", "/"), Vec::<String>::new());
        assert_eq!(
            privs(&cfg, "alice@pve!ghost", "/vms/100"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn disabled_and_expired_users_keep_their_acl_privileges() {
        // As Proxmox's permissions(): authentication refuses them before any check.
        let cfg = parse(FIXTURE);
        assert_eq!(
            privs(&cfg, "carol@pve", "/"),
            role_names(&cfg, "PVEAuditor")
        );
    }

    #[test]
    fn paths_are_normalised_and_bad_paths_have_nothing() {
        let cfg = parse(FIXTURE);
        assert_eq!(
            privs(&cfg, "bob@pve", "vms//100/"),
            privs(&cfg, "bob@pve", "/vms/100")
        );
        assert_eq!(privs(&cfg, "bob@pve", "/vms/{vmid}"), Vec::<String>::new());
        assert_eq!(privs(&cfg, "bob@pve", ""), Vec::<String>::new());
    }

    #[test]
    fn check_needs_all_or_any() {
        let cfg = parse(FIXTURE);
        let bob = authid("bob@pve");
        assert!(cfg.check(&bob, "/vms/100", &["VM.Audit", "VM.PowerMgmt"], false));
        assert!(!cfg.check(&bob, "/vms/100", &["VM.Audit", "VM.Console"], false));
        assert!(cfg.check(&bob, "/vms/100", &["VM.Audit", "VM.Console"], true));
        assert!(!cfg.check(&bob, "/vms/100", &["No.Such"], true));
        assert!(cfg.check(&bob, "/vms/100", &[], false));
        assert!(!cfg.check(&bob, "/vms/100", &[], true));
    }

    #[test]
    fn effective_permissions_list_every_path_with_privileges() {
        let cfg = parse(FIXTURE);
        let effective = cfg.effective_permissions(&authid("bob@pve"));
        let paths: Vec<&str> = effective.keys().map(String::as_str).collect();
        assert_eq!(
            paths,
            [
                "/",
                "/access",
                "/access/groups",
                "/nodes",
                "/pool",
                "/pool/prod",
                "/sdn",
                "/storage",
                "/storage/local",
                "/storage/nfs",
                "/vms",
                "/vms/100",
                "/vms/200",
            ]
        );
        let nothing = cfg.effective_permissions(&authid("nobody@pve"));
        assert!(nothing.is_empty());
    }

    #[test]
    fn cap_sorts_privileges_into_sections() {
        let cfg = parse(
            "user:u@pve:1:0::::::\npool:p::::\n\
             acl:1:/:u@pve:PVEAuditor:\n\
             acl:0:/pool/p:u@pve:Administrator:\n",
        );
        let cap = cfg.compute_api_permission(&authid("u@pve"));
        let vm_admin: serde_json::Map<String, serde_json::Value> = role_names(&cfg, "PVEVMAdmin")
            .into_iter()
            .chain(["Permissions.Modify".to_owned()])
            .map(|name| (name, json!(1)))
            .collect();
        assert_eq!(
            cap,
            json!({
                "access": {},
                "dc": {"SDN.Audit": 1, "Sys.Audit": 1},
                "mapping": {"Mapping.Audit": 1},
                "nodes": {"Sys.Audit": 1},
                "sdn": {"SDN.Audit": 1},
                "storage": {
                    "Datastore.Allocate": 1, "Datastore.AllocateSpace": 1,
                    "Datastore.AllocateTemplate": 1, "Datastore.Audit": 1,
                    "Permissions.Modify": 1
                },
                "vms": vm_admin,
            })
        );
        let empty = cfg.compute_api_permission(&authid("nobody@pve"));
        assert_eq!(
            empty,
            json!({"access": {}, "dc": {}, "mapping": {}, "nodes": {}, "sdn": {},
                   "storage": {}, "vms": {}})
        );
    }

    #[test]
    fn root_cap_holds_every_section() {
        let cap = UserConfig::default().compute_api_permission(&authid("root@pam"));
        let section = |key: &str| -> Vec<String> {
            cap[key]
                .as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default()
        };
        assert_eq!(
            section("access"),
            names(&["Group.Allocate", "Permissions.Modify", "User.Modify"])
        );
        assert_eq!(
            section("dc"),
            names(&[
                "SDN.Allocate",
                "SDN.Audit",
                "SDN.Use",
                "Sys.Audit",
                "Sys.Modify"
            ])
        );
        assert!(section("nodes").contains(&"Sys.PowerMgmt".to_owned()));
        assert!(section("mapping").contains(&"Permissions.Modify".to_owned()));
    }
}

mod accounts {
    use super::*;

    #[test]
    fn login_needs_an_enabled_unexpired_user() {
        let cfg = parse(FIXTURE);
        let now = UnixTime(1000);
        assert!(cfg.check_user_enabled(&userid("alice@pve"), now).is_ok());
        assert_eq!(
            cfg.check_user_enabled(&userid("carol@pve"), now)
                .map_err(|e| e.to_string()),
            Err("user 'carol@pve' is disabled".to_owned())
        );
        // Expiry equal to now still admits; one second later it does not.
        assert!(cfg.check_user_enabled(&userid("dave@pve"), now).is_ok());
        assert_eq!(
            cfg.check_user_enabled(&userid("dave@pve"), UnixTime(1001))
                .map_err(|e| e.to_string()),
            Err("user 'dave@pve' access expired".to_owned())
        );
        assert_eq!(
            cfg.check_user_enabled(&userid("nobody@pve"), now)
                .map_err(|e| e.to_string()),
            Err("no such user ('nobody@pve')".to_owned())
        );
    }

    #[test]
    fn tokens_need_their_user_and_their_own_expiry() {
        let cfg = parse(
            "user:u@pve:1:0::::::\ntoken:u@pve!old:500:1::\ntoken:u@pve!ok:0:1::\n\
             user:off@pve:0:0::::::\ntoken:off@pve!tk:0:1::\n",
        );
        let token = |t: &str| Tokenid::parse(t).expect("valid");
        let now = UnixTime(1000);
        assert!(cfg.check_token(&token("u@pve!ok"), now).is_ok());
        let error = |t: &str| cfg.check_token(&token(t), now).map_err(|e| e.to_string());
        assert_eq!(
            error("u@pve!old"),
            Err("token 'old' access expired".to_owned())
        );
        assert_eq!(
            error("u@pve!none"),
            Err("no such token 'none' for user 'u@pve'".to_owned())
        );
        assert_eq!(
            error("off@pve!tk"),
            Err("user 'off@pve' is disabled".to_owned())
        );
    }
}

mod editing {
    use super::*;

    fn members(list: &[&str]) -> Vec<AclMember> {
        list.iter()
            .map(|m| AclMember::parse(m).expect("valid member"))
            .collect()
    }

    #[test]
    fn add_users_tokens_groups_and_roles() {
        let mut cfg = UserConfig::default();
        cfg.add_group("ops", Some("Operators".into()))
            .expect("new group");
        let alice = userid("alice@pve");
        cfg.add_user(
            &alice,
            NewUser {
                email: Some("alice@example.com".into()),
                comment: Some("On call: weekdays".into()),
                groups: vec!["ops".into()],
                ..NewUser::default()
            },
        )
        .expect("new user");
        let token = Tokenid::parse("alice@pve!ci").expect("valid");
        cfg.add_token(&token, Token::default()).expect("new token");
        cfg.add_role("VMStarter", &["VM.PowerMgmt", "VM.Audit"])
            .expect("new role");
        cfg.add_group("audit", None).expect("new group");
        cfg.add_group_member("audit", &alice).expect("member");
        assert_eq!(
            cfg.render(),
            "\
user:alice@pve:1:0:::alice@example.com:On call%3A weekdays::
token:alice@pve!ci:0:1::
user:root@pam:1:0::::::

group:audit:alice@pve::
group:ops:alice@pve:Operators:


role:VMStarter:VM.Audit,VM.PowerMgmt:

"
        );
        assert_eq!(parse(&cfg.render()), cfg);
    }

    #[test]
    fn adding_refuses_duplicates_and_dangling_references() {
        let mut cfg = parse(FIXTURE);
        let error = |result: Result<(), EditError>| result.map_err(|e| e.to_string());
        assert_eq!(
            error(cfg.add_user(&userid("alice@pve"), NewUser::default())),
            Err("user 'alice@pve' already exists".to_owned())
        );
        assert_eq!(
            error(cfg.add_user(
                &userid("new@pve"),
                NewUser {
                    groups: vec!["nope".into()],
                    ..NewUser::default()
                }
            )),
            Err("group 'nope' does not exist".to_owned())
        );
        assert_eq!(
            error(cfg.add_user(
                &userid("new@pve"),
                NewUser {
                    email: Some("a:b@example.com".into()),
                    ..NewUser::default()
                }
            )),
            Err("invalid email address 'a:b@example.com'".to_owned())
        );
        assert!(
            cfg.user(&userid("new@pve")).is_none(),
            "nothing half-applied"
        );
        let token = Tokenid::parse("alice@pve!sep").expect("valid");
        assert_eq!(
            error(cfg.add_token(&token, Token::default())),
            Err("token 'alice@pve!sep' already exists".to_owned())
        );
        let orphan = Tokenid::parse("ghost@pve!t1").expect("valid");
        assert_eq!(
            error(cfg.add_token(&orphan, Token::default())),
            Err("user 'ghost@pve' does not exist".to_owned())
        );
        assert_eq!(
            error(cfg.add_group("ops", None)),
            Err("group 'ops' already exists".to_owned())
        );
        assert_eq!(
            error(cfg.add_group_member("nope", &userid("alice@pve"))),
            Err("group 'nope' does not exist".to_owned())
        );
        assert_eq!(
            error(cfg.add_role("PVEAdmin", &[])),
            Err("role 'PVEAdmin' already exists".to_owned())
        );
        assert_eq!(
            error(cfg.add_role("New", &["VM.Monitor"])),
            Err("invalid privilege 'VM.Monitor'".to_owned())
        );
    }

    #[test]
    fn acl_modify_adds_roles_and_keeps_other_entries() {
        let mut cfg = parse(FIXTURE);
        cfg.set_acl("/vms/100", &members(&["bob@pve"]), &["PVEAuditor"], true)
            .expect("valid change");
        let node = cfg.acl().get("/vms/100").expect("entries");
        assert_eq!(
            node.users.get(&userid("bob@pve")),
            Some(&BTreeMap::from([
                ("PVEAuditor".to_owned(), true),
                ("VMStarter".to_owned(), false),
            ]))
        );
        cfg.set_acl(
            "vms//200/",
            &members(&["@ops", "alice@pve!sep", "carol@pve"]),
            &["PVEVMUser", "VMStarter"],
            false,
        )
        .expect("valid change");
        assert!(
            cfg.render()
                .contains("acl:0:/vms/200:@ops,alice@pve!sep,carol@pve:PVEVMUser,VMStarter:\n")
        );
        assert_eq!(parse(&cfg.render()), cfg);
        cfg.delete_acl(
            "/vms/200",
            &members(&["@ops", "alice@pve!sep", "carol@pve"]),
            &["PVEVMUser", "VMStarter"],
        )
        .expect("valid change");
        assert!(!cfg.acl().contains_key("/vms/200"));
    }

    #[test]
    fn acl_modify_checks_path_roles_and_members() {
        let mut cfg = parse(FIXTURE);
        let before = cfg.clone();
        let mut error = |path: &str, who: &[&str], roles: &[&str]| {
            cfg.set_acl(path, &members(who), roles, true)
                .map_err(|e| e.to_string())
        };
        assert_eq!(
            error("/vm/100", &["bob@pve"], &["PVEAuditor"]),
            Err(
                "invalid ACL path '/vm/100': permissions can be set on '/', \
                 '/access[/groups[/<group>]]', '/access/realm[/<realm>]', '/nodes[/<node>]', \
                 '/pool[/<pool>[/<sub>[/<sub>]]]', '/sdn[/controllers|/dns|/ipams[/<id>]]', \
                 '/sdn/zones[/<zone>[/<vnet>[/<vlan>]]]', '/storage[/<storage>]', \
                 '/vms[/<vmid>]' and '/mapping[/<type>[/<id>]]'"
                    .to_owned()
            )
        );
        assert_eq!(
            error("/vms", &["bob@pve"], &["Nope"]),
            Err("role 'Nope' does not exist".to_owned())
        );
        assert_eq!(
            error("/vms", &["bob@pve", "ghost@pve"], &["PVEAuditor"]),
            Err("user 'ghost@pve' does not exist".to_owned())
        );
        assert_eq!(
            error("/vms", &["@nope"], &["PVEAuditor"]),
            Err("group 'nope' does not exist".to_owned())
        );
        assert_eq!(
            error("/vms", &["alice@pve!nope"], &["PVEAuditor"]),
            Err("no such token 'nope' for user 'alice@pve'".to_owned())
        );
        assert_eq!(
            error("/vms", &["root@pam"], &["PVEAuditor"]),
            Err(
                "ACL entries for root@pam are never saved: root@pam always has every \
                 privilege on every path"
                    .to_owned()
            )
        );
        assert_eq!(
            error("/vms", &[], &["PVEAuditor"]),
            Err("no user, group or token given".to_owned())
        );
        assert_eq!(
            error("/vms", &["bob@pve"], &[]),
            Err("no role given".to_owned())
        );
        assert_eq!(cfg, before, "nothing half-applied");
    }

    #[test]
    fn acl_members_parse_like_acl_lines() {
        assert_eq!(
            AclMember::parse("@ops"),
            Ok(AclMember::Group("ops".to_owned()))
        );
        assert_eq!(
            AclMember::parse("bob@pve"),
            Ok(AclMember::User(userid("bob@pve")))
        );
        assert!(matches!(
            AclMember::parse("bob@pve!ci"),
            Ok(AclMember::Token(_))
        ));
        // '@' followed by a user id is a user whose name starts with '@'.
        assert!(matches!(AclMember::parse("@x@pve"), Ok(AclMember::User(_))));
        assert!(AclMember::parse("bob").is_err());
    }
}
