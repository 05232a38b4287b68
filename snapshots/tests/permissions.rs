//! Who may do what: the privileges every user and token of a realistic `user.cfg`
//! (`tests/access/user.cfg`) has on a set of paths, what login and token checks say about
//! each, the login reply's `cap`, what corral writes back, and what it says about a broken
//! file (`tests/access/broken.cfg`).
//!
//! Review changes with `cargo insta review` (or `INSTA_UPDATE=always cargo test -p
//! corral-snapshots --test permissions` and `git diff`).

use std::fmt::Write as _;

use corral_core::access::{
    Authid, BUILTIN_ROLES, Domains, PrivSet, Privileges, TfaConfig, UserConfig, builtin_role,
};
use corral_core::time::UnixTime;

/// 2026-11-24 21:30:00 UTC.
const NOW: UnixTime = UnixTime(1_795_555_800);

const USER_CFG: &str = include_str!("access/user.cfg");
const BROKEN_CFG: &str = include_str!("access/broken.cfg");
const DOMAINS_CFG: &str = include_str!("access/domains.cfg");

const WHO: [&str; 13] = [
    "root@pam",
    "alice@pve",
    "alice@pve!backup",
    "alice@pve!ci",
    "bob@pve",
    "bob@pve!monitor",
    "bob@pve!old",
    "carol@ldap",
    "dave@pve",
    "erin@pve",
    "frank@pve",
    "frank@pve!none",
    "nobody@pve",
];

const PATHS: [&str; 17] = [
    "/",
    "/access/groups/devs",
    "/mapping/pci/gpu",
    "/nodes",
    "/nodes/pve1",
    "/pool/dev",
    "/pool/prod",
    "/sdn/zones/zone1",
    "/storage/ceph",
    "/storage/local",
    "/storage/nfs",
    "/vms",
    "/vms/100",
    "/vms/101",
    "/vms/102",
    "/vms/200",
    "/vms/300",
];

fn config() -> UserConfig {
    let parsed = UserConfig::parse(Some(USER_CFG));
    assert_eq!(parsed.warnings, [], "the fixture reads cleanly");
    parsed.config
}

fn authid(text: &str) -> Authid {
    Authid::parse(text).expect("valid auth id")
}

/// The roles a cell may be named after: built-in roles, then custom ones.
fn named_roles(cfg: &UserConfig) -> Vec<(String, PrivSet)> {
    BUILTIN_ROLES
        .iter()
        .filter_map(|name| Some(((*name).to_owned(), builtin_role(name)?)))
        .chain(
            cfg.custom_roles()
                .iter()
                .map(|(name, set)| (name.clone(), *set)),
        )
        .filter(|(_, set)| !set.is_empty())
        .collect()
}

/// A privilege set, short: `-` for none, `ALL`, `=Role` or `=RoleA+RoleB` when it is exactly
/// one or two roles' privileges, else the sorted names.
fn describe(set: PrivSet, roles: &[(String, PrivSet)]) -> String {
    if set.is_empty() {
        return "-".to_owned();
    }
    if set == PrivSet::all() {
        return "ALL".to_owned();
    }
    if let Some((name, _)) = roles.iter().find(|(_, role)| *role == set) {
        return format!("={name}");
    }
    for (index, (first, a)) in roles.iter().enumerate() {
        for (second, b) in &roles[index + 1..] {
            if a.union(*b) == set && !a.is_empty() && !b.is_empty() {
                return format!("={first}+{second}");
            }
        }
    }
    set.names().collect::<Vec<_>>().join(",")
}

/// A cell: the privileges, and which of them a propagating entry granted.
fn cell(privileges: Privileges, roles: &[(String, PrivSet)]) -> String {
    let mut out = describe(privileges.privs, roles);
    if privileges.privs.is_empty() || privileges.propagate == privileges.privs {
        return out;
    }
    if privileges.propagate.is_empty() {
        out.push_str("  [not propagated]");
    } else {
        let _ = write!(
            out,
            "  [propagated: {}]",
            describe(privileges.propagate, roles)
        );
    }
    out
}

/// What login (users) or token authentication (tokens) says at `NOW`.
fn account(cfg: &UserConfig, who: &Authid) -> String {
    let result = match who {
        Authid::User(user) => cfg.check_user_enabled(user, NOW).map(|_| ()),
        Authid::Token(token) => cfg.check_token(token, NOW).map(|_| ()),
    };
    let mut out = match result {
        Ok(()) => "may authenticate".to_owned(),
        Err(error) => format!("refused: {error}"),
    };
    match who {
        Authid::User(user) => {
            let groups = cfg.groups_of(user);
            if !groups.is_empty() {
                let _ = write!(out, "; groups {}", groups.join(","));
            }
        }
        Authid::Token(token) => {
            if let Some(info) = cfg.token(token) {
                let kind = if info.privsep {
                    "privilege-separated"
                } else {
                    "user's privileges"
                };
                let _ = write!(out, "; token, {kind}");
            }
        }
    }
    out
}

#[test]
fn permission_matrix() {
    let cfg = config();
    let roles = named_roles(&cfg);
    let mut out = String::from(
        "Privileges per user/token and path. `=Role`: exactly that role's privileges; `ALL`: \
         every privilege;\n`-`: none; [not propagated]: granted on this path only (or through \
         a pool).\n",
    );
    for who in WHO {
        let id = authid(who);
        let _ = writeln!(out, "\n{who}  ({})", account(&cfg, &id));
        for path in PATHS {
            let _ = writeln!(
                out,
                "  {path:<21} {}",
                cell(cfg.privileges(&id, path), &roles)
            );
        }
    }
    insta::assert_snapshot!(out);
}

#[test]
fn login_cap() {
    let cfg = config();
    let mut out = String::new();
    for who in [
        "alice@pve!ci",
        "bob@pve",
        "carol@ldap",
        "frank@pve",
        "nobody@pve",
    ] {
        let cap = cfg.compute_api_permission(&authid(who));
        let _ = writeln!(out, "{who}:\n{}\n", pretty(&cap).trim_end());
    }
    insta::assert_snapshot!(out);
}

#[test]
fn effective_permissions() {
    let cfg = config();
    let mut out = String::new();
    for who in ["bob@pve", "bob@pve!monitor"] {
        let _ = writeln!(out, "{who}:");
        for (path, privs) in cfg.effective_permissions(&authid(who)) {
            let shown: Vec<String> = privs
                .iter()
                .map(|(name, propagate)| {
                    if *propagate {
                        format!("{name} (*)")
                    } else {
                        name.clone()
                    }
                })
                .collect();
            let _ = writeln!(out, "  {path:<16} {}", shown.join(", "));
        }
    }
    insta::assert_snapshot!(out);
}

#[test]
fn render() {
    let cfg = config();
    let written = cfg.render();
    assert_eq!(UserConfig::parse(Some(&written)).config, cfg, "round trip");
    insta::assert_snapshot!(written);
}

#[test]
fn broken_file_warnings_and_what_still_loads() {
    let parsed = UserConfig::parse(Some(BROKEN_CFG));
    let mut out = String::from("warnings:\n");
    for warning in &parsed.warnings {
        let _ = writeln!(out, "  {warning}");
    }
    out.push_str("\nwritten back:\n");
    out.push_str(&parsed.config.render());
    insta::assert_snapshot!(out);
}

#[test]
fn access_domains() {
    let parsed = Domains::parse(Some(DOMAINS_CFG));
    assert_eq!(parsed.warnings, []);
    insta::assert_snapshot!(pretty(&parsed.config.api_index()));
}

#[test]
fn second_factors() {
    let tfa = TfaConfig::parse(Some(
        r#"{"users": {
            "alice@pve": {"totp": [{"id": "a", "description": "phone", "created": 1,
                                    "entry": "otpauth://totp/x"}]},
            "bob@pve": {"webauthn": [{"id": "b", "description": "key", "created": 1,
                                      "enable": false, "entry": {}}]},
            "carol@ldap": {"recovery": {"secret": "s", "created": 1, "entries": ["h1", null]}}
        }}"#,
    ))
    .expect("valid tfa.cfg");
    let mut out = String::new();
    for who in ["alice@pve", "bob@pve", "carol@ldap", "dave@pve"] {
        let id = authid(who);
        let _ = writeln!(out, "{who}: {}", tfa.has_second_factor(id.user()));
    }
    insta::assert_snapshot!(out);
}

/// A JSON value pretty-printed (serde_json's `Display` with `{:#}`; this crate does not depend
/// on serde_json itself).
fn pretty(value: &impl std::fmt::Display) -> String {
    format!("{value:#}")
}
