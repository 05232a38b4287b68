//! Waiting for a child process to exit, within a bound (`up.rs`, `cluster.rs`).

use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// `child`'s exit status, looking every `poll`; `None`, with the child killed, when it is still
/// running after `limit`.
pub fn exit_within(child: &mut Child, limit: Duration, poll: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("waitable") {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return None;
        }
        std::thread::sleep(poll);
    }
}
