//! The API method table: every method corral serves, with what Proxmox declares for it
//! (`register_method` in pve-access-control and pve-manager): HTTP method, path template,
//! parameters, permission, `protected`, `proxyto` and `allowtoken`.

use std::collections::BTreeMap;

use http::Method;

use super::schema::{Format, Kind, NODE, Param, TEXT};

/// Who may call a method (Proxmox's `permissions` declaration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// `user => 'world'`: anyone, even without credentials.
    World,
    /// `user => 'all'`: any authenticated user or token (the handler may check more).
    All,
    /// `check => ['perm', path, privs, any => 1?]`: privileges on a path; `{param}` in the path
    /// is replaced by the call's parameter. `any`: one of the privileges suffices, else all.
    Privileges {
        path: &'static str,
        privs: &'static [&'static str],
        any: bool,
    },
}

/// What runs a method (io maps each to its implementation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Handler {
    /// `GET /version`.
    Version,
    /// `GET /access/domains`.
    Domains,
    /// `GET /access/permissions`.
    Permissions,
    /// `GET /access/ticket`: a placeholder for formatters that show a login page.
    TicketPage,
    /// `POST /access/ticket`: login and ticket renewal.
    CreateTicket,
    /// `GET /nodes/{node}/time`.
    NodeTime,
    /// `PUT /nodes/{node}/time`: set the node's time zone.
    SetTimezone,
    /// `GET /nodes`: the cluster's nodes and whether they are online.
    Nodes,
    /// `GET /nodes/{node}/status`: the node's live status (uptime, load, memory, …).
    NodeStatus,
    /// `GET /cluster/status`: the cluster, its quorum, and each member.
    ClusterStatus,
}

/// One API method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiMethod {
    pub method: HttpMethod,
    /// Below `/api2/<format>`, with `{name}` segments for URI parameters.
    pub path: &'static str,
    /// Every parameter, URI parameters included.
    pub params: &'static [Param],
    pub permission: Permission,
    /// Runs only in the privileged daemon (pvedaemon); pveproxy forwards it there.
    pub protected: bool,
    /// The parameter naming the node the call must run on.
    pub proxyto: Option<&'static str>,
    /// Whether API tokens may call it.
    pub allowtoken: bool,
    pub handler: Handler,
}

/// The four methods Proxmox accepts, as a `Copy` value for the const table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Delete,
}

impl HttpMethod {
    pub fn matches(self, method: &Method) -> bool {
        let expected = match self {
            HttpMethod::Get => Method::GET,
            HttpMethod::Post => Method::POST,
            HttpMethod::Put => Method::PUT,
            HttpMethod::Delete => Method::DELETE,
        };
        expected == *method
    }
}

const USERNAME: Kind = Kind::String {
    max_len: Some(64),
    format: None,
};
const REALM: Kind = Kind::String {
    max_len: None,
    format: Some(Format::Realm),
};
const AUTHID: Kind = Kind::String {
    max_len: None,
    format: Some(Format::Authid),
};
const ACL_PATH: Kind = Kind::String {
    max_len: Some(64),
    format: None,
};
/// A zone name as `/usr/share/zoneinfo` holds it (`Europe/Vienna`); the handler checks it
/// exists there.
const TIMEZONE: Kind = Kind::String {
    max_len: Some(64),
    format: Some(Format::Timezone),
};
const PRIVS: Kind = Kind::String {
    max_len: Some(64),
    format: Some(Format::PrivList),
};

/// Every method corral serves. Proxmox's declarations, with their sources:
/// - `/version`: pve-manager `PVE/API2.pm` (`user => 'all'`);
/// - `/access/*`: pve-access-control `PVE/API2/AccessControl.pm`;
/// - `/nodes/{node}/time`: pve-manager `PVE/API2/Nodes.pm` (protected as the reference lists it:
///   it reads the host's time zone as root);
/// - `/nodes` and `/nodes/{node}/status`: pve-manager `PVE/API2/Nodes.pm` (`index` is
///   `user => 'all'` and shows a node's figures only with Sys.Audit on it; `status` needs
///   Sys.Audit and runs on the node itself, unprotected: it reads `/proc`);
/// - `/cluster/status`: pve-manager `PVE/API2/ClusterConfig.pm`/`Cluster.pm` (Sys.Audit on `/`).
pub const METHODS: &[ApiMethod] = &[
    ApiMethod {
        method: HttpMethod::Get,
        path: "/version",
        params: &[],
        permission: Permission::All,
        protected: false,
        proxyto: None,
        allowtoken: true,
        handler: Handler::Version,
    },
    ApiMethod {
        method: HttpMethod::Get,
        path: "/access/domains",
        params: &[],
        permission: Permission::World,
        protected: false,
        proxyto: None,
        allowtoken: true,
        handler: Handler::Domains,
    },
    ApiMethod {
        method: HttpMethod::Get,
        path: "/access/permissions",
        params: &[
            Param::optional("userid", AUTHID),
            Param::optional("path", TEXT),
        ],
        permission: Permission::All,
        protected: false,
        proxyto: None,
        allowtoken: true,
        handler: Handler::Permissions,
    },
    ApiMethod {
        method: HttpMethod::Get,
        path: "/access/ticket",
        params: &[],
        permission: Permission::World,
        protected: false,
        proxyto: None,
        allowtoken: true,
        handler: Handler::TicketPage,
    },
    ApiMethod {
        method: HttpMethod::Post,
        path: "/access/ticket",
        params: &[
            Param::required("username", USERNAME),
            Param::required("password", TEXT),
            Param::optional("realm", REALM),
            Param::optional("otp", TEXT),
            Param::optional("tfa-challenge", TEXT),
            Param::optional("new-format", Kind::Boolean),
            Param::optional("path", ACL_PATH),
            Param::optional("privs", PRIVS),
        ],
        permission: Permission::World,
        protected: true,
        proxyto: None,
        allowtoken: false,
        handler: Handler::CreateTicket,
    },
    ApiMethod {
        method: HttpMethod::Get,
        path: "/nodes/{node}/time",
        params: &[Param::required("node", NODE)],
        permission: Permission::Privileges {
            path: "/nodes/{node}",
            privs: &["Sys.Audit"],
            any: false,
        },
        protected: true,
        proxyto: Some("node"),
        allowtoken: true,
        handler: Handler::NodeTime,
    },
    ApiMethod {
        method: HttpMethod::Put,
        path: "/nodes/{node}/time",
        params: &[
            Param::required("node", NODE),
            Param::required("timezone", TIMEZONE),
        ],
        permission: Permission::Privileges {
            path: "/nodes/{node}",
            privs: &["Sys.Modify"],
            any: false,
        },
        protected: true,
        proxyto: Some("node"),
        allowtoken: true,
        handler: Handler::SetTimezone,
    },
    ApiMethod {
        method: HttpMethod::Get,
        path: "/nodes",
        params: &[],
        permission: Permission::All,
        protected: false,
        proxyto: None,
        allowtoken: true,
        handler: Handler::Nodes,
    },
    ApiMethod {
        method: HttpMethod::Get,
        path: "/nodes/{node}/status",
        params: &[Param::required("node", NODE)],
        permission: Permission::Privileges {
            path: "/nodes/{node}",
            privs: &["Sys.Audit"],
            any: false,
        },
        protected: false,
        proxyto: Some("node"),
        allowtoken: true,
        handler: Handler::NodeStatus,
    },
    ApiMethod {
        method: HttpMethod::Get,
        path: "/cluster/status",
        params: &[],
        permission: Permission::Privileges {
            path: "/",
            privs: &["Sys.Audit"],
            any: false,
        },
        protected: false,
        proxyto: None,
        allowtoken: true,
        handler: Handler::ClusterStatus,
    },
];

/// The method for `method` on `path` (below `/api2/<format>`, percent-decoded) and the values of
/// its URI parameters. Empty path segments are skipped, as Proxmox's `find_handler` does.
pub fn find(method: &Method, path: &str) -> Option<(&'static ApiMethod, BTreeMap<String, String>)> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    METHODS.iter().find_map(|api| {
        if !api.method.matches(method) {
            return None;
        }
        match_template(api.path, &segments).map(|uri_params| (api, uri_params))
    })
}

/// Whether the segments fit the template; the `{name}` values when they do.
fn match_template(template: &str, segments: &[&str]) -> Option<BTreeMap<String, String>> {
    let parts: Vec<&str> = template.split('/').filter(|s| !s.is_empty()).collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut values = BTreeMap::new();
    for (part, segment) in parts.iter().zip(segments) {
        match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(name) => {
                values.insert(name.to_owned(), (*segment).to_owned());
            }
            None if part == segment => {}
            None => return None,
        }
    }
    Some(values)
}

/// Calls that need no credentials at all, checked before any handler is looked up (Proxmox's
/// `auth_handler` list; the static pages are answered elsewhere).
pub fn needs_auth(method: &Method, path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let open = matches!(
        (method, segments.as_slice()),
        (&Method::GET, ["access", "domains"])
            | (&Method::GET | &Method::POST, ["access", "ticket"])
            | (&Method::POST, ["access", "vncticket"])
            | (&Method::POST, ["access", "openid", "login" | "auth-url"])
    );
    !open
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_bind_uri_parameters() {
        let (api, params) = find(&Method::GET, "/nodes/pve1/time").expect("found");
        assert_eq!(api.handler, Handler::NodeTime);
        assert_eq!(params["node"], "pve1");
        assert!(find(&Method::POST, "/nodes/pve1/time").is_none());
        assert!(find(&Method::GET, "/nodes/pve1").is_none());
        assert!(find(&Method::GET, "//version/").is_some());
    }

    #[test]
    fn the_same_path_has_a_method_per_verb() {
        let get = find(&Method::GET, "/access/ticket").expect("get").0;
        let post = find(&Method::POST, "/access/ticket").expect("post").0;
        assert_eq!(get.handler, Handler::TicketPage);
        assert_eq!(post.handler, Handler::CreateTicket);
        assert!(post.protected && !post.allowtoken);
    }

    #[test]
    fn only_the_login_calls_are_open() {
        assert!(!needs_auth(&Method::GET, "/access/domains"));
        assert!(!needs_auth(&Method::POST, "/access/ticket"));
        assert!(needs_auth(&Method::GET, "/version"));
        assert!(needs_auth(&Method::PUT, "/access/ticket"));
        assert!(needs_auth(&Method::GET, "/access/permissions"));
    }

    #[test]
    fn every_path_parameter_is_declared() {
        for api in METHODS {
            for part in api.path.split('/') {
                if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    assert!(
                        api.params.iter().any(|p| p.name == name),
                        "{} {name}",
                        api.path
                    );
                }
            }
            if let Some(node) = api.proxyto {
                assert!(api.params.iter().any(|p| p.name == node), "{}", api.path);
            }
        }
    }
}
