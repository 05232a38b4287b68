//! The wall clock, as a seam.
//!
//! Monotonic time is `tokio::time` everywhere (turmoil makes it virtual). Wall-clock time — HTTP
//! `Date`/`Expires`, access-log dates, rustls' certificate and ticket times — comes only from a
//! [`WallClock`], so the simulator can give every node the simulated time.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use corral_core::time::{Monotonic, UnixTime};

/// Turns tokio's instants (virtual under turmoil) into core's [`Monotonic`] points, counted
/// from when this clock was made: how a driver hands `now` to a core state machine.
#[derive(Debug, Clone, Copy)]
pub struct MonotonicClock {
    origin: tokio::time::Instant,
}

impl MonotonicClock {
    /// A clock whose origin is now.
    pub fn start() -> Self {
        MonotonicClock {
            origin: tokio::time::Instant::now(),
        }
    }

    /// Now, as a point since the origin.
    pub fn now(&self) -> Monotonic {
        Monotonic(tokio::time::Instant::now().saturating_duration_since(self.origin))
    }

    /// The tokio instant of a point (to sleep until it).
    pub fn instant(&self, at: Monotonic) -> tokio::time::Instant {
        self.origin + at.0
    }
}

/// Where wall-clock time comes from.
pub trait WallClock: fmt::Debug + Send + Sync + 'static {
    /// Seconds since the Unix epoch, now.
    fn now(&self) -> UnixTime;

    /// The local time zone's offset from UTC at `at`, for access-log dates (Proxmox logs local
    /// time with `%z`).
    fn utc_offset_secs(&self, at: UnixTime) -> i32;
}

/// The operating system's clock and time zone (`TZ`, else `/etc/localtime`), as Proxmox uses.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl WallClock for SystemClock {
    fn now(&self) -> UnixTime {
        // The one place in corral that reads the system's wall clock.
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        UnixTime(i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX))
    }

    fn utc_offset_secs(&self, at: UnixTime) -> i32 {
        use chrono::{Local, Offset, TimeZone};
        match Local.timestamp_opt(at.0, 0) {
            chrono::LocalResult::Single(local) | chrono::LocalResult::Ambiguous(local, _) => {
                local.offset().fix().local_minus_utc()
            }
            chrono::LocalResult::None => 0,
        }
    }
}

/// A wall clock that moves only when told to, at a fixed offset from UTC: for tests and for
/// anything that needs the same dates on every run.
#[derive(Debug, Default)]
pub struct ManualClock {
    now: AtomicI64,
    utc_offset_secs: i32,
}

impl ManualClock {
    /// A clock showing `now`, in UTC.
    pub fn new(now: UnixTime) -> Self {
        ManualClock {
            now: AtomicI64::new(now.0),
            utc_offset_secs: 0,
        }
    }

    /// The same clock in a time zone `secs` east of UTC (access-log dates show it).
    pub fn with_utc_offset(mut self, secs: i32) -> Self {
        self.utc_offset_secs = secs;
        self
    }

    pub fn set(&self, now: UnixTime) {
        self.now.store(now.0, Ordering::Relaxed);
    }

    pub fn advance(&self, secs: i64) {
        self.now.fetch_add(secs, Ordering::Relaxed);
    }
}

impl WallClock for ManualClock {
    fn now(&self) -> UnixTime {
        UnixTime(self.now.load(Ordering::Relaxed))
    }

    fn utc_offset_secs(&self, _at: UnixTime) -> i32 {
        self.utc_offset_secs
    }
}

/// rustls reads time for certificate validity and session tickets; this feeds it our clock.
#[derive(Debug)]
pub struct RustlsTime(pub Arc<dyn WallClock>);

impl rustls::time_provider::TimeProvider for RustlsTime {
    fn current_time(&self) -> Option<rustls_pki_types::UnixTime> {
        let seconds = u64::try_from(self.0.now().0).ok()?;
        Some(rustls_pki_types::UnixTime::since_unix_epoch(
            std::time::Duration::from_secs(seconds),
        ))
    }
}
