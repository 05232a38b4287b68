//! The runner's requests and its oracle: what a fault-free cluster answers to each request,
//! and which other outcomes a fault on the call's path excuses. The oracle sits outside the
//! system under test: it knows the cluster only as the runner set it up (the nodes, each
//! node's time zone, the fixtures' credentials) and the faults the seed scheduled.
//!
//! The rules, for a call by client `c` via node `v` (sent to `v`'s pveproxy), started at `s`
//! and ended at `e` (simulated time):
//!
//! - **A reply that is not 595/596/597** must be the fault-free answer ([`Oracle::expect`]):
//!   the status, the reason where Proxmox fixes it, and the fields that say who answered. The
//!   one node-identifying field is the time zone: every node gets its own
//!   ([`crate::host::ZONES`]), and no request of the runner changes it (`PUT /time` sets the
//!   node's own zone), so `GET /nodes/<b>/time` must name `b`'s zone — never another node's
//!   answer. `GET /nodes` must give figures (`uptime`, …) for `v` alone and
//!   `GET /cluster/status` must mark `v` alone `local`. `GET /nodes/<b>/status` must report
//!   `b`'s machine's uptime ([`crate::host::uptime_of_node`]: each machine's differs).
//! - **595/596/597** (pveproxy's transport errors, `io/src/forward.rs`) only for a call `v`
//!   forwards to another node `b`, and only when a fault on `v`, `b` or the link between them
//!   was in force at some time in `[s - grace, e]`.
//! - **No HTTP reply** (connect, TLS or HTTP error, or the client's timeout) only when a fault
//!   on `v` or on the link between `c` and `v` was in force at some time in `[s - grace, e]`;
//!   or, for the client's timeout (45 s) on a call `v` forwards to `b`, a fault on `b` or the
//!   link between `v` and `b`: each phase of a forward (connect, TLS, the reply's head) may
//!   take `SILENCE_MAX` (30 s), so across a faulted link the client may give up first.
//! - The 401s of a wrong password, a missing ticket and a missing CSRF token are part of the
//!   fault-free answer, with Proxmox's delay: they take at least
//!   [`corral_io::api::UNAUTHORIZED_DELAY`].
//!
//! Anything else is a correctness failure.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use corral_core::auth::csrf::DENIED_MESSAGE;
use corral_io::api::UNAUTHORIZED_DELAY;
use serde_json::Value;

use crate::EPOCH_SECS;
use crate::client::{Call, CallError, Login, Reply, node_number};
use crate::cluster::Fault;
use crate::fixtures::{ADMIN, ADMIN_PASSWORD};

/// A zone no simulated machine knows (`PUT /time` answers 400).
pub const UNKNOWN_ZONE: &str = "Mars/Olympus_Mons";

/// What `GET /nodes/<n>/status` reports on every simulated machine.
const PVEVERSION: &str = "pve-manager/9.2.11/corral-sim";

/// One request of the runner's mix; `String`s name the target node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `GET /version` with the ticket.
    Version,
    /// `GET /version` without a ticket: 401 `No ticket`, delayed.
    VersionAnonymous,
    /// `GET /nodes`, answered by the node itself.
    Nodes,
    /// `GET /cluster/status`, answered by the node itself.
    ClusterStatus,
    /// `GET /nodes/<b>/status`, forwarded to `b`.
    NodeStatus(String),
    /// `GET /nodes/<b>/time`, forwarded to `b` and protected (`b`'s pvedaemon answers).
    NodeTime(String),
    /// `PUT /nodes/<b>/time` with the CSRF token, setting `b`'s own zone again.
    SetTime(String),
    /// The same without the CSRF token: 401, delayed, decided by the node called.
    SetTimeNoCsrf(String),
    /// `PUT /nodes/<b>/time` naming [`UNKNOWN_ZONE`]: `b`'s pvedaemon answers 400.
    SetTimeBadZone(String),
    /// `POST /access/ticket` with the admin's password.
    Login,
    /// `POST /access/ticket` with a wrong password: 401, delayed.
    LoginWrong,
    /// `GET /nodes/<b>/status` marked as already forwarded (`PVEDisableProxy`): 500 `proxy
    /// loop detected` for another node, the status for the node called.
    ProxyLoop(String),
}

/// How many kinds of [`Request`] there are (the mix has a weight for each).
pub const KINDS: usize = 12;

/// The kinds' names, in [`Request::kind`] order.
pub const KIND_NAMES: [&str; KINDS] = [
    "version",
    "anonymous",
    "nodes",
    "cluster",
    "status",
    "time",
    "set-time",
    "no-csrf",
    "bad-zone",
    "login",
    "wrong-password",
    "proxy-loop",
];

impl Request {
    /// The request of kind `kind` (an index into [`KIND_NAMES`]) for target node `target`.
    pub fn of_kind(kind: usize, target: &str) -> Request {
        let target = target.to_owned();
        match kind {
            0 => Request::Version,
            1 => Request::VersionAnonymous,
            2 => Request::Nodes,
            3 => Request::ClusterStatus,
            4 => Request::NodeStatus(target),
            5 => Request::NodeTime(target),
            6 => Request::SetTime(target),
            7 => Request::SetTimeNoCsrf(target),
            8 => Request::SetTimeBadZone(target),
            9 => Request::Login,
            10 => Request::LoginWrong,
            _ => Request::ProxyLoop(target),
        }
    }

    /// The index of the request's kind in [`KIND_NAMES`].
    pub fn kind(&self) -> usize {
        match self {
            Request::Version => 0,
            Request::VersionAnonymous => 1,
            Request::Nodes => 2,
            Request::ClusterStatus => 3,
            Request::NodeStatus(_) => 4,
            Request::NodeTime(_) => 5,
            Request::SetTime(_) => 6,
            Request::SetTimeNoCsrf(_) => 7,
            Request::SetTimeBadZone(_) => 8,
            Request::Login => 9,
            Request::LoginWrong => 10,
            Request::ProxyLoop(_) => 11,
        }
    }

    /// Whether the request carries the ticket (a client without one logs in first).
    pub fn needs_ticket(&self) -> bool {
        !matches!(
            self,
            Request::VersionAnonymous | Request::Login | Request::LoginWrong
        )
    }

    /// The node `via` forwards the request to, if any: the target of a `proxyto` call that is
    /// not `via` itself.
    pub fn forwarded_from(&self, via: &str) -> Option<&str> {
        match self {
            Request::NodeStatus(target)
            | Request::NodeTime(target)
            | Request::SetTime(target)
            | Request::SetTimeBadZone(target)
                if target != via =>
            {
                Some(target)
            }
            _ => None,
        }
    }

    /// The HTTP call, with `login`'s credentials where the request carries them; `zone` is the
    /// target's real zone (what `PUT /time` sets).
    pub fn call(&self, login: Option<&Login>, zone: &str) -> Call {
        let with_ticket = |call: Call| match login {
            Some(login) => call.ticket(login),
            None => call,
        };
        let with_csrf = |call: Call| match login {
            Some(login) => call.ticket_and_csrf(login),
            None => call,
        };
        let time = |target: &str| format!("/api2/json/nodes/{target}/time");
        match self {
            Request::Version => with_ticket(Call::get("/api2/json/version")),
            Request::VersionAnonymous => Call::get("/api2/json/version"),
            Request::Nodes => with_ticket(Call::get("/api2/json/nodes")),
            Request::ClusterStatus => with_ticket(Call::get("/api2/json/cluster/status")),
            Request::NodeStatus(target) => {
                with_ticket(Call::get(format!("/api2/json/nodes/{target}/status")))
            }
            Request::NodeTime(target) => with_ticket(Call::get(time(target))),
            Request::SetTime(target) => {
                with_csrf(Call::put(time(target))).form(&[("timezone", zone)])
            }
            Request::SetTimeNoCsrf(target) => {
                with_ticket(Call::put(time(target))).form(&[("timezone", zone)])
            }
            Request::SetTimeBadZone(target) => {
                with_csrf(Call::put(time(target))).form(&[("timezone", UNKNOWN_ZONE)])
            }
            Request::Login => Call::post("/api2/json/access/ticket")
                .form(&[("username", ADMIN), ("password", ADMIN_PASSWORD)]),
            Request::LoginWrong => Call::post("/api2/json/access/ticket")
                .form(&[("username", ADMIN), ("password", "a wrong guess")]),
            Request::ProxyLoop(target) => {
                with_ticket(Call::get(format!("/api2/json/nodes/{target}/status")))
                    .header("PVEDisableProxy", "true")
            }
        }
    }
}

/// `GET /nodes/pve2/time`, `PUT /nodes/pve2/time (no CSRF)`: how the runner names a request.
impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Request::Version => write!(f, "GET /version"),
            Request::VersionAnonymous => write!(f, "GET /version (no ticket)"),
            Request::Nodes => write!(f, "GET /nodes"),
            Request::ClusterStatus => write!(f, "GET /cluster/status"),
            Request::NodeStatus(target) => write!(f, "GET /nodes/{target}/status"),
            Request::NodeTime(target) => write!(f, "GET /nodes/{target}/time"),
            Request::SetTime(target) => write!(f, "PUT /nodes/{target}/time"),
            Request::SetTimeNoCsrf(target) => write!(f, "PUT /nodes/{target}/time (no CSRF)"),
            Request::SetTimeBadZone(target) => {
                write!(f, "PUT /nodes/{target}/time ({UNKNOWN_ZONE})")
            }
            Request::Login => write!(f, "POST /access/ticket"),
            Request::LoginWrong => write!(f, "POST /access/ticket (wrong password)"),
            Request::ProxyLoop(target) => {
                write!(f, "GET /nodes/{target}/status (PVEDisableProxy)")
            }
        }
    }
}

/// A call as the oracle judges it.
#[derive(Debug, Clone, Copy)]
pub struct CallInfo<'a> {
    pub client: &'a str,
    pub via: &'a str,
    pub request: &'a Request,
    /// Simulated time at the call's start and end.
    pub started: Duration,
    pub ended: Duration,
}

/// What an accepted outcome was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// The fault-free answer.
    Correct,
    /// 595, 596 or 597 across a faulted path.
    Transport(u16),
    /// No HTTP reply, across a faulted path.
    NoReply,
}

/// When a fault was in force, and on what: one host (a node's crash) or two (a link).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub start: Duration,
    pub end: Duration,
    pub hosts: Vec<String>,
}

impl Window {
    /// The window of `fault`, in force from `start` until `end`.
    pub fn of(fault: &Fault, start: Duration, end: Duration) -> Window {
        Window {
            start,
            end,
            hosts: fault.hosts().into_iter().map(str::to_owned).collect(),
        }
    }

    /// Whether the fault touches the path between `a` and `b`: either end itself, or the link.
    fn touches(&self, a: &str, b: &str) -> bool {
        match self.hosts.as_slice() {
            [host] => host == a || host == b,
            [x, y] => (x == a && y == b) || (x == b && y == a),
            _ => false,
        }
    }
}

/// The oracle of one seed.
#[derive(Debug, Clone)]
pub struct Oracle {
    nodes: Vec<String>,
    /// Each node's zone, as the oracle believes it.
    zones: BTreeMap<String, String>,
    windows: Vec<Window>,
    grace: Duration,
}

impl Oracle {
    pub fn new(
        nodes: Vec<String>,
        zones: BTreeMap<String, String>,
        windows: Vec<Window>,
        grace: Duration,
    ) -> Self {
        assert!(
            nodes.iter().all(|node| zones.contains_key(node)),
            "every node has a zone"
        );
        Oracle {
            nodes,
            zones,
            windows,
            grace,
        }
    }

    /// Judges a call of the safety phase: the class of an accepted outcome, or why it is wrong.
    pub fn judge(
        &self,
        call: &CallInfo<'_>,
        outcome: &Result<Reply, CallError>,
    ) -> Result<Class, String> {
        let reply = match outcome {
            Ok(reply) => reply,
            Err(_) if self.disturbed(call.client, call.via, call) => return Ok(Class::NoReply),
            // Each phase of a forward may take `SILENCE_MAX` (30 s): across a faulted link,
            // the client's 45 s may pass first.
            Err(CallError::TimedOut(_))
                if call
                    .request
                    .forwarded_from(call.via)
                    .is_some_and(|target| self.disturbed(call.via, target, call)) =>
            {
                return Ok(Class::NoReply);
            }
            Err(error) => {
                return Err(format!(
                    "no reply ({error}) though no fault touched {}, its link to {} or (for \
                     the client's timeout) the node it forwards to",
                    call.via, call.client
                ));
            }
        };
        if is_transport(reply.status) {
            return match call.request.forwarded_from(call.via) {
                Some(target) if self.disturbed(call.via, target, call) => {
                    Ok(Class::Transport(reply.status))
                }
                Some(target) => Err(format!(
                    "{} {} though no fault touched {}, {target} or the link between them",
                    reply.status, reply.reason, call.via
                )),
                None => Err(format!(
                    "{} {} for a call {} answers itself",
                    reply.status, reply.reason, call.via
                )),
            };
        }
        self.expect(call.via, call.request, call.started, call.ended, reply)
            .map(|()| Class::Correct)
    }

    /// Whether a fault on `a`, `b` or the link between them was in force at some time within
    /// `[started - grace, ended]`.
    fn disturbed(&self, a: &str, b: &str, call: &CallInfo<'_>) -> bool {
        let from = call.started.saturating_sub(self.grace);
        self.windows
            .iter()
            .any(|window| window.touches(a, b) && window.start <= call.ended && window.end >= from)
    }

    /// Whether `reply` is what a fault-free cluster answers to `request` sent to `via` between
    /// `started` and `ended`; else what differs.
    pub fn expect(
        &self,
        via: &str,
        request: &Request,
        started: Duration,
        ended: Duration,
        reply: &Reply,
    ) -> Result<(), String> {
        let data = reply.data();
        match request {
            Request::Version => {
                status(reply, 200)?;
                let wanted = [
                    ("version", "9.2.11"),
                    ("release", "9.2"),
                    ("repoid", "corral-sim"),
                ];
                for (key, value) in wanted {
                    field(&data, key, value)?;
                }
                Ok(())
            }
            Request::VersionAnonymous => delayed_401(reply, "No ticket"),
            Request::Nodes => self.nodes_index(via, reply),
            Request::ClusterStatus => self.cluster_status(via, reply),
            Request::NodeStatus(target) => node_status(reply, target),
            Request::NodeTime(target) => self.node_time(target, started, ended, reply),
            Request::SetTime(_) => status(reply, 200),
            Request::SetTimeNoCsrf(_) => delayed_401(reply, DENIED_MESSAGE),
            Request::SetTimeBadZone(_) => status(reply, 400),
            Request::Login => {
                status(reply, 200)?;
                field(&data, "username", ADMIN)?;
                for key in ["ticket", "CSRFPreventionToken"] {
                    if !data[key].is_string() {
                        return Err(format!("no {key} in the login's reply"));
                    }
                }
                Ok(())
            }
            Request::LoginWrong => delayed_401(reply, "authentication failure"),
            Request::ProxyLoop(target) if target == via => node_status(reply, target),
            Request::ProxyLoop(_) => {
                status(reply, 500)?;
                reason(reply, "proxy loop detected")
            }
        }
    }

    /// Every member, `via`'s own figures and no one else's.
    fn nodes_index(&self, via: &str, reply: &Reply) -> Result<(), String> {
        status(reply, 200)?;
        let data = reply.data();
        let entries = data.as_array().ok_or("GET /nodes: no list")?;
        self.members(&names(entries, "node"))?;
        let with_figures = names(
            entries.iter().filter(|entry| entry.get("uptime").is_some()),
            "node",
        );
        if with_figures != [via] {
            return Err(format!(
                "GET /nodes via {via} gave figures for {with_figures:?}: another node answered"
            ));
        }
        Ok(())
    }

    /// The cluster's summary, every member, and `via` alone `local`.
    fn cluster_status(&self, via: &str, reply: &Reply) -> Result<(), String> {
        status(reply, 200)?;
        let data = reply.data();
        let entries = data.as_array().ok_or("GET /cluster/status: no list")?;
        let summary = entries.first().ok_or("GET /cluster/status: empty")?;
        if summary["type"] != "cluster" || summary["nodes"] != self.nodes.len() {
            return Err(format!("GET /cluster/status: summary {summary}"));
        }
        let members = &entries[1..];
        self.members(&names(members, "name"))?;
        let local = names(members.iter().filter(|entry| entry["local"] == 1), "name");
        if local != [via] {
            return Err(format!(
                "GET /cluster/status via {via} says {local:?} is local: another node answered"
            ));
        }
        Ok(())
    }

    fn members(&self, names: &[&str]) -> Result<(), String> {
        if names
            .iter()
            .copied()
            .eq(self.nodes.iter().map(String::as_str))
        {
            Ok(())
        } else {
            Err(format!("the members are {:?}, not {names:?}", self.nodes))
        }
    }

    /// `target`'s zone, and the simulated clock's time during the call.
    fn node_time(
        &self,
        target: &str,
        started: Duration,
        ended: Duration,
        reply: &Reply,
    ) -> Result<(), String> {
        status(reply, 200)?;
        let data = reply.data();
        let zone = data["timezone"].as_str().unwrap_or("?");
        let wanted = self.zones.get(target).map(String::as_str).unwrap_or("?");
        if zone != wanted {
            let owner = self
                .zones
                .iter()
                .find(|(_, z)| z.as_str() == zone)
                .map(|(node, _)| format!("{node}'s"))
                .unwrap_or_else(|| "no node's".to_owned());
            return Err(format!(
                "{target}'s time names zone {zone} ({owner}), not {wanted}: another node's answer"
            ));
        }
        let epoch = i64::try_from(EPOCH_SECS).unwrap_or(i64::MAX);
        let secs = |at: Duration| epoch.saturating_add_unsigned(at.as_secs());
        let time = data["time"].as_i64().unwrap_or_default();
        if !(secs(started)..=secs(ended) + 1).contains(&time) {
            return Err(format!(
                "{target}'s time {time} is outside the call ({}..={})",
                secs(started),
                secs(ended)
            ));
        }
        Ok(())
    }
}

/// Each entry's `key` (`?` where it has none).
fn names<'a>(entries: impl IntoIterator<Item = &'a Value>, key: &str) -> Vec<&'a str> {
    entries
        .into_iter()
        .map(|entry| entry[key].as_str().unwrap_or("?"))
        .collect()
}

/// pveproxy's transport errors: 595, 596 and 597.
pub fn is_transport(status: u16) -> bool {
    matches!(status, 595..=597)
}

fn status(reply: &Reply, wanted: u16) -> Result<(), String> {
    if reply.status == wanted {
        Ok(())
    } else {
        Err(format!("expected {wanted}, got {reply}"))
    }
}

fn reason(reply: &Reply, wanted: &str) -> Result<(), String> {
    if reply.reason == wanted {
        Ok(())
    } else {
        Err(format!("expected the reason '{wanted}', got {reply}"))
    }
}

fn field(data: &Value, key: &str, wanted: &str) -> Result<(), String> {
    if data[key] == wanted {
        Ok(())
    } else {
        Err(format!("expected {key} {wanted}, got {}", data[key]))
    }
}

/// A 401 with Proxmox's reason, after the 401 delay.
fn delayed_401(reply: &Reply, wanted: &str) -> Result<(), String> {
    status(reply, 401)?;
    reason(reply, wanted)?;
    if reply.took < UNAUTHORIZED_DELAY {
        return Err(format!(
            "the 401 came after {}ms, before the {}ms delay",
            reply.took.as_millis(),
            UNAUTHORIZED_DELAY.as_millis()
        ));
    }
    Ok(())
}

/// The figures of every simulated machine.
/// `target`'s status, told by its machine's uptime (each node's differs).
fn node_status(reply: &Reply, target: &str) -> Result<(), String> {
    status(reply, 200)?;
    let data = reply.data();
    field(&data, "pveversion", PVEVERSION)?;
    let number = node_number(target).map_or(0, usize::from);
    let expected = crate::host::uptime_of_node(number);
    if data["uptime"] != expected {
        return Err(format!(
            "expected {target}'s uptime {expected}, got {} (another node's answer)",
            data["uptime"]
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oracle(windows: Vec<Window>) -> Oracle {
        let nodes = vec!["pve1".to_owned(), "pve2".to_owned()];
        let zones = [("pve1", "Etc/UTC"), ("pve2", "Europe/Vienna")]
            .into_iter()
            .map(|(n, z)| (n.to_owned(), z.to_owned()))
            .collect();
        Oracle::new(nodes, zones, windows, Duration::from_secs(2))
    }

    fn reply(status: u16, body: &str) -> Reply {
        Reply {
            status,
            reason: String::new(),
            body: body.as_bytes().to_vec(),
            took: Duration::from_millis(10),
        }
    }

    #[test]
    fn another_node_s_zone_is_a_wrong_answer_and_59x_needs_a_fault_on_the_path() {
        let secs = Duration::from_secs;
        let request = Request::NodeTime("pve2".to_owned());
        let call = CallInfo {
            client: "client1",
            via: "pve1",
            request: &request,
            started: secs(10),
            ended: secs(11),
        };
        let time = EPOCH_SECS + 10;
        let right = reply(
            200,
            &format!(r#"{{"data":{{"timezone":"Europe/Vienna","time":{time}}}}}"#),
        );
        let wrong = reply(
            200,
            &format!(r#"{{"data":{{"timezone":"Etc/UTC","time":{time}}}}}"#),
        );
        let clean = oracle(Vec::new());
        assert_eq!(clean.judge(&call, &Ok(right.clone())), Ok(Class::Correct));
        let error = clean.judge(&call, &Ok(wrong)).expect_err("pve1's zone");
        assert!(error.contains("pve1's"), "{error}");
        assert!(clean.judge(&call, &Ok(reply(596, ""))).is_err());
        let cut = Window::of(&Fault::partition("pve1", "pve2"), secs(3), secs(9));
        let faulted = oracle(vec![cut]);
        assert_eq!(
            faulted.judge(&call, &Ok(reply(596, ""))),
            Ok(Class::Transport(596))
        );
        // Long before the call, or on another path: no excuse.
        let early = Window::of(&Fault::partition("pve1", "pve2"), secs(1), secs(7));
        assert!(
            oracle(vec![early])
                .judge(&call, &Ok(reply(595, "")))
                .is_err()
        );
        let client = Window::of(&Fault::partition("client1", "pve2"), secs(9), secs(12));
        assert!(
            oracle(vec![client])
                .judge(&call, &Ok(reply(595, "")))
                .is_err()
        );
        // No reply needs a fault between the client and pve1, or on pve1, or for the client's
        // timeout on the forwarded path.
        let refused = Err(CallError::Connect("Connection refused".to_owned()));
        assert!(faulted.judge(&call, &refused).is_err());
        let silent = Err(CallError::TimedOut(secs(45)));
        assert_eq!(faulted.judge(&call, &silent), Ok(Class::NoReply));
        assert!(clean.judge(&call, &silent).is_err());
        let crash = Window::of(&Fault::crash("pve1"), secs(10), secs(30));
        assert_eq!(
            oracle(vec![crash]).judge(&call, &silent),
            Ok(Class::NoReply)
        );
    }
}
