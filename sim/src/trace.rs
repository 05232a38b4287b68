//! The simulation's trace: one fixed-width line per event, in the order events happened,
//!
//! ```text
//!      1234ms client1  GET /api2/json/nodes/pve2/status via pve1 -> 200 OK
//!      5000ms sim      partition pve1 <-> pve3
//! ```
//!
//! (simulated time since the start, the host in [`HOST_WIDTH`] columns — the cluster refuses
//! longer names — and the event, a line break in it written `\n`, so one event is one line).
//! It holds only what a run decides — statuses, reasons, faults, starts and crashes — never
//! random bytes, so the same seed gives the same trace, byte for byte.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

/// The host name the harness writes its own events (faults) under.
pub const SIM_HOST: &str = "sim";

/// The host column's width: a host's name is at most this long.
pub const HOST_WIDTH: usize = 8;

/// The lines so far; clones share them (each simulated host gets one).
#[derive(Debug, Clone, Default)]
pub struct Trace(Rc<RefCell<Vec<String>>>);

impl Trace {
    /// Adds `event` of `host` at simulated time `at`.
    pub fn push(&self, at: Duration, host: &str, event: impl fmt::Display) {
        self.0.borrow_mut().push(line(at, host, event));
    }

    /// Adds `event` of `host` now (inside the simulation; 0 outside).
    pub fn event(&self, host: &str, event: impl fmt::Display) {
        self.push(now(), host, event);
    }

    /// A copy of the lines.
    pub fn lines(&self) -> Vec<String> {
        self.0.borrow().clone()
    }

    /// How many lines there are.
    pub fn len(&self) -> usize {
        self.0.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.borrow().is_empty()
    }

    /// The last `count` lines, one per line of text (for failure messages).
    pub fn tail(&self, count: usize) -> String {
        let lines = self.0.borrow();
        let start = lines.len().saturating_sub(count);
        lines[start..].iter().map(|l| format!("{l}\n")).collect()
    }
}

/// The whole trace, one event per line.
impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in self.0.borrow().iter() {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

/// `{ms:>9}ms {host:<8} {event}`, the event's line breaks (`\n`, `\r`, and a backslash, so
/// the escape reads back unambiguously) escaped as in Rust.
pub fn line(at: Duration, host: &str, event: impl fmt::Display) -> String {
    let event = event.to_string();
    let event = if event.contains(['\n', '\r', '\\']) {
        event
            .replace('\\', "\\\\")
            .replace('\n', "\\n")
            .replace('\r', "\\r")
    } else {
        event
    };
    format!("{:>9}ms {host:<HOST_WIDTH$} {event}", at.as_millis())
}

/// The simulation's time since its start, as the current host sees it; zero outside one.
pub fn now() -> Duration {
    turmoil::sim_elapsed().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_fixed_width_and_in_order() {
        let trace = Trace::default();
        let shared = trace.clone();
        trace.push(
            Duration::from_millis(1234),
            "client1",
            "GET / via pve1 -> 200 OK",
        );
        shared.push(Duration::from_secs(5), SIM_HOST, "partition pve1 <-> pve3");
        assert_eq!(
            trace.to_string(),
            "     1234ms client1  GET / via pve1 -> 200 OK\n     5000ms sim      partition pve1 <-> pve3\n"
        );
        assert_eq!(trace.len(), 2);
        assert_eq!(
            trace.tail(1),
            "     5000ms sim      partition pve1 <-> pve3\n"
        );
    }

    #[test]
    fn an_event_with_line_breaks_stays_on_one_line() {
        let text = line(
            Duration::from_millis(7),
            "client1",
            "failed: 500 oops {\"a\":\"b\\c\"}\r\nmore",
        );
        assert_eq!(
            text,
            "        7ms client1  failed: 500 oops {\"a\":\"b\\\\c\"}\\r\\nmore"
        );
    }
}
