//! Where CPU-heavy or blocking work runs, as a seam: on tokio's blocking threads in the
//! daemons, so password hashing, ticket signing, key generation and PAM never stall the event
//! loop; inline in the simulator, where a real thread would finish at a real-time moment and
//! make the simulated order of events depend on the machine.

/// Where [`Offload::run`] runs its work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Offload {
    /// On tokio's blocking thread pool (production).
    #[default]
    Threads,
    /// On the calling task, at once (the simulator: deterministic, no threads).
    Inline,
}

/// A task on the blocking pool that did not finish (it panicked or the runtime shut down).
#[derive(Debug, thiserror::Error)]
#[error("the {0} task failed")]
pub struct OffloadError(pub &'static str);

impl Offload {
    /// Runs `work` (named `what` in errors) where this offload says.
    pub async fn run<T: Send + 'static>(
        self,
        what: &'static str,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, OffloadError> {
        match self {
            Offload::Threads => tokio::task::spawn_blocking(work)
                .await
                .map_err(|_| OffloadError(what)),
            Offload::Inline => Ok(work()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn both_offloads_return_the_work_s_result() {
        assert_eq!(Offload::Threads.run("sum", || 2 + 2).await.ok(), Some(4));
        assert_eq!(Offload::Inline.run("sum", || 2 + 2).await.ok(), Some(4));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn inline_work_runs_on_the_calling_thread() {
        let caller = std::thread::current().id();
        let ran_on = Offload::Inline
            .run("thread", || std::thread::current().id())
            .await
            .ok();
        assert_eq!(ran_on, Some(caller));
    }
}
