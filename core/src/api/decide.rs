//! Where an authenticated API call goes: Proxmox's `rest_handler` and `handle_api2_request`
//! as one pure function.
//!
//! In Proxmox's order:
//! 1. authenticate (done before: the caller passes who called, see [`Caller`]);
//! 2. find the handler, else 501 `Method 'GET /x' not implemented`;
//! 3. a URI parameter also given in the query or body with another value → 400 `duplicate
//!    parameter (already defined in URI) with conflicting values!`;
//! 4. an API token on an `allowtoken = 0` method → 403 `Permission check failed (URI '/x' not
//!    available with API token, need proper ticket.`;
//! 5. check the declared permission → 403 `Permission check failed (…)`;
//! 6. `proxyto` names another node → forward there (500 in pvedaemon, 500 `proxy loop detected`
//!    when the request was already forwarded once);
//! 7. protected and we are not the privileged daemon → forward to pvedaemon;
//! 8. run here; the parameters are verified where the call runs ([`super::schema::verify`]).

use std::collections::BTreeMap;

use http::{Method, StatusCode};
use serde_json::Value;

use super::methods::{self, ApiMethod, Permission};
use super::params::{Params, as_text};
use crate::http::ApiError;

/// Which daemon decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// pveproxy: unprivileged, forwards protected calls.
    Proxy,
    /// pvedaemon: privileged (Proxmox's `trusted_env`), never forwards.
    Daemon,
}

/// Who is calling, as authentication found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller<'a> {
    /// The authenticated user or token id (`user@realm` or `user@realm!token`); `None` for a
    /// call that needs no authentication and carried none.
    pub authid: Option<&'a str>,
    /// Whether the request carried an API token (even on a call that needs no authentication).
    pub token: bool,
}

/// Privilege checks, as the user configuration answers them.
pub trait PermissionCheck {
    /// Whether `authid` has the privileges on `path`: all of them, or with `any` one of them.
    /// `Err` names the privilege (or, with `any`, the `|`-joined list) that was missing.
    fn check(&self, authid: &str, path: &str, privs: &[&str], any: bool) -> Result<(), String>;
}

/// The call to decide on.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    pub method: &'a Method,
    /// Below `/api2/<format>`, percent-decoded.
    pub path: &'a str,
    pub params: &'a Params,
    pub caller: Caller<'a>,
    /// This node's name.
    pub node: &'a str,
    pub role: Role,
    /// The request carries `PVEDisableProxy` (it was forwarded to us already).
    pub forwarded: bool,
}

/// Where a call goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Answer with this error.
    Refuse(ApiError),
    /// Send the request to the local pvedaemon, unchanged but for the forwarding headers.
    ToDaemon,
    /// Send the request to the node of this name (#5 brings the cluster).
    ToNode(String),
    /// Run the method here with these parameters (URI parameters merged in).
    Run {
        method: &'static ApiMethod,
        params: Params,
    },
}

/// Decides where an authenticated call goes; see the module documentation for the order.
pub fn decide(call: &Call<'_>, permissions: &dyn PermissionCheck) -> Decision {
    match decide_inner(call, permissions) {
        Ok(decision) => decision,
        Err(error) => Decision::Refuse(error),
    }
}

fn decide_inner(call: &Call<'_>, permissions: &dyn PermissionCheck) -> Result<Decision, ApiError> {
    let Some((api, uri_params)) = methods::find(call.method, call.path) else {
        return Err(ApiError::not_implemented(call.method, call.path));
    };
    let params = merge_uri_params(uri_params, call.params)?;
    if call.caller.token && !api.allowtoken {
        // Proxmox's raise_perm_exc around a message with its own newline: the status line
        // ends at "ticket.", the JSON message has the rest.
        return Err(ApiError::permission_denied(&format!(
            "URI '{}' not available with API token, need proper ticket.\n",
            call.path
        )));
    }
    check_permission(api.permission, call.caller.authid, &params, permissions)?;
    if let Some(target) = other_node(api, &params, call.node) {
        return match (call.role, call.forwarded) {
            (Role::Daemon, _) => Err(server_error("proxy not allowed")),
            (Role::Proxy, true) => Err(server_error("proxy loop detected")),
            (Role::Proxy, false) => Ok(Decision::ToNode(target)),
        };
    }
    if api.protected && call.role == Role::Proxy {
        return Ok(Decision::ToDaemon);
    }
    Ok(Decision::Run {
        method: api,
        params,
    })
}

/// The URI parameters plus the others; one given both ways with different values is an error
/// (Proxmox raises it before any permission check; the same value twice is fine).
fn merge_uri_params(uri: BTreeMap<String, String>, params: &Params) -> Result<Params, ApiError> {
    let mut errors = BTreeMap::new();
    for (name, value) in params {
        let conflicts = uri
            .get(name)
            .is_some_and(|in_uri| as_text(value).as_deref() != Some(in_uri.as_str()));
        if conflicts {
            errors.insert(
                name.clone(),
                "duplicate parameter (already defined in URI) with conflicting values!".to_owned(),
            );
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::parameters(errors));
    }
    let mut merged = params.clone();
    merged.extend(
        uri.into_iter()
            .map(|(name, value)| (name, Value::String(value))),
    );
    Ok(merged)
}

fn check_permission(
    permission: Permission,
    authid: Option<&str>,
    params: &Params,
    permissions: &dyn PermissionCheck,
) -> Result<(), ApiError> {
    match (permission, authid) {
        (Permission::World, _) => Ok(()),
        (Permission::All, Some(_)) => Ok(()),
        (Permission::All | Permission::Privileges { .. }, None) => {
            Err(ApiError::permission_denied("user != null"))
        }
        (Permission::Privileges { path, privs, any }, Some(authid)) => {
            let path = substitute(path, params);
            permissions
                .check(authid, &path, privs, any)
                .map_err(|missing| ApiError::permission_denied(&format!("{path}, {missing}")))
        }
    }
}

/// `/nodes/{node}` with the call's `node` parameter put in (an absent one stays as written,
/// as Perl's substitution leaves it).
fn substitute(template: &str, params: &Params) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        out.push_str(&rest[..open]);
        let name = &rest[open + 1..close];
        match params.get(name).and_then(as_text) {
            Some(value) => out.push_str(&value),
            None => out.push_str(&rest[open..=close]),
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// The node a `proxyto` method must run on when it is not this one (`localhost` means here).
fn other_node(api: &ApiMethod, params: &Params, this_node: &str) -> Option<String> {
    let name = api.proxyto?;
    let node = params.get(name).and_then(as_text)?;
    (node != "localhost" && node != this_node).then_some(node)
}

/// The user configuration answers permission checks (Proxmox's `check` / `check_any`).
impl PermissionCheck for crate::access::UserConfig {
    fn check(&self, authid: &str, path: &str, privs: &[&str], any: bool) -> Result<(), String> {
        let who = crate::access::Authid::parse(authid).map_err(|e| e.to_string())?;
        // One walk of the ACL for all the privileges asked about.
        let held = self.privileges(&who, path).privs;
        if any {
            return if privs.iter().any(|privilege| held.contains(privilege)) {
                Ok(())
            } else {
                Err(privs.join("|"))
            };
        }
        // Proxmox reports the first privilege that is missing.
        match privs.iter().find(|privilege| !held.contains(privilege)) {
            Some(missing) => Err((*missing).to_owned()),
            None => Ok(()),
        }
    }
}

fn server_error(message: &str) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `root@pam` may do anything; `audit@pve` has Sys.Audit on `/nodes/pve1` only.
    struct Table;

    impl PermissionCheck for Table {
        fn check(
            &self,
            authid: &str,
            path: &str,
            privs: &[&str],
            _any: bool,
        ) -> Result<(), String> {
            let granted = authid == "root@pam"
                || (authid.starts_with("audit@pve")
                    && path == "/nodes/pve1"
                    && privs == ["Sys.Audit"]);
            if granted {
                Ok(())
            } else {
                Err(privs.join(","))
            }
        }
    }

    fn call<'a>(
        method: &'a Method,
        path: &'a str,
        params: &'a Params,
        authid: &'a str,
    ) -> Call<'a> {
        Call {
            method,
            path,
            params,
            caller: Caller {
                authid: Some(authid),
                token: authid.contains('!'),
            },
            node: "pve1",
            role: Role::Proxy,
            forwarded: false,
        }
    }

    fn refused(decision: Decision) -> (u16, String) {
        match decision {
            Decision::Refuse(error) => (error.status.as_u16(), error.message),
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn unknown_calls_are_501() {
        let params = Params::new();
        let d = decide(&call(&Method::GET, "/nope", &params, "root@pam"), &Table);
        assert_eq!(
            refused(d),
            (501, "Method 'GET /nope' not implemented".to_owned())
        );
    }

    #[test]
    fn a_uri_parameter_given_again_with_another_value_is_400_before_permissions() {
        let params = Params::from([("node".to_owned(), Value::from("x"))]);
        let d = decide(
            &call(&Method::GET, "/nodes/pve1/time", &params, "nobody@pve"),
            &Table,
        );
        let Decision::Refuse(error) = d else {
            panic!("refused")
        };
        assert_eq!(error.status.as_u16(), 400);
        assert_eq!(
            error.errors["node"],
            "duplicate parameter (already defined in URI) with conflicting values!"
        );
    }

    #[test]
    fn a_uri_parameter_given_again_with_the_same_value_is_fine() {
        let params = Params::from([("node".to_owned(), Value::from("pve1"))]);
        let d = decide(
            &call(&Method::GET, "/nodes/pve1/time", &params, "root@pam"),
            &Table,
        );
        assert!(matches!(d, Decision::ToDaemon), "{d:?}");
    }

    #[test]
    fn tokens_are_refused_on_allowtoken_0_methods_before_permissions() {
        let params = Params::new();
        let d = decide(
            &call(&Method::POST, "/access/ticket", &params, "root@pam!t"),
            &Table,
        );
        assert_eq!(
            refused(d),
            (
                403,
                "Permission check failed (URI '/access/ticket' not available with API token, \
                 need proper ticket.\n)\n"
                    .to_owned()
            )
        );
    }

    #[test]
    fn permissions_use_the_uri_parameters() {
        let params = Params::new();
        let denied = decide(
            &call(&Method::GET, "/nodes/pve1/time", &params, "other@pve"),
            &Table,
        );
        assert_eq!(
            refused(denied),
            (
                403,
                "Permission check failed (/nodes/pve1, Sys.Audit)\n".to_owned()
            )
        );
        let allowed = decide(
            &call(&Method::GET, "/nodes/pve1/time", &params, "audit@pve"),
            &Table,
        );
        assert_eq!(allowed, Decision::ToDaemon);
    }

    #[test]
    fn proxyto_goes_before_protected() {
        let params = Params::new();
        let mut c = call(&Method::GET, "/nodes/pve2/time", &params, "root@pam");
        assert_eq!(decide(&c, &Table), Decision::ToNode("pve2".to_owned()));
        c.forwarded = true;
        assert_eq!(
            refused(decide(&c, &Table)),
            (500, "proxy loop detected".to_owned())
        );
        c.role = Role::Daemon;
        assert_eq!(
            refused(decide(&c, &Table)),
            (500, "proxy not allowed".to_owned())
        );
    }

    #[test]
    fn protected_calls_run_in_the_daemon() {
        let params = Params::new();
        let mut c = call(&Method::GET, "/nodes/localhost/time", &params, "root@pam");
        assert_eq!(decide(&c, &Table), Decision::ToDaemon);
        c.role = Role::Daemon;
        c.forwarded = true;
        let Decision::Run { method, params } = decide(&c, &Table) else {
            panic!("run")
        };
        assert_eq!(method.path, "/nodes/{node}/time");
        assert_eq!(params["node"], Value::from("localhost"));
    }

    #[test]
    fn unprotected_calls_run_in_the_proxy() {
        let params = Params::new();
        let c = call(&Method::GET, "/version", &params, "someone@pve");
        assert!(matches!(decide(&c, &Table), Decision::Run { .. }));
    }

    #[test]
    fn substitution_keeps_unknown_names() {
        let params = Params::from([("vmid".to_owned(), Value::from(100))]);
        assert_eq!(substitute("/vms/{vmid}", &params), "/vms/100");
        assert_eq!(substitute("/nodes/{node}", &params), "/nodes/{node}");
    }
}
