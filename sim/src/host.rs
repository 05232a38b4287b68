//! The machine a simulated node runs on: fixed `/proc` figures, so a node's status reads the
//! same on every run.

use std::io;

use corral_core::cluster::procfs::FsUsage;
use corral_io::host::Host;

/// The time zones the simulated machines know (`PUT /nodes/{node}/time` checks the name): one
/// per node of the largest cluster, so a runner can tell the nodes apart by their zone.
pub const ZONES: [&str; crate::fixtures::NODES_MAX] = [
    "Etc/UTC",
    "Europe/Vienna",
    "America/New_York",
    "Asia/Tokyo",
    "Australia/Sydney",
];

/// A machine with two CPUs, 4 GiB of memory and a 32 GiB root file system, up
/// [`FixedHost::uptime`]: node `pveN`'s machine has been up N days, so a status tells which
/// node answered.
#[derive(Debug, Clone, Copy, Default)]
pub struct FixedHost {
    /// Whole seconds in `/proc/uptime`.
    pub uptime: u64,
}

impl FixedHost {
    /// The machine of node `pve<number>`.
    pub fn of_node(number: usize) -> FixedHost {
        FixedHost {
            uptime: uptime_of_node(number),
        }
    }
}

/// What node `pve<number>`'s status reports as its uptime: `number` days.
pub fn uptime_of_node(number: usize) -> u64 {
    86_400 * u64::try_from(number).unwrap_or(0)
}

impl Host for FixedHost {
    fn read(&self, path: &str) -> io::Result<String> {
        if path == "/proc/uptime" {
            return Ok(format!("{}.42 160000.00\n", self.uptime));
        }
        let text = match path {
            "/proc/meminfo" => {
                "MemTotal:        4194304 kB\nMemFree:         1048576 kB\n\
                 MemAvailable:    2097152 kB\nSwapTotal:       1048576 kB\n\
                 SwapFree:         524288 kB\n"
            }
            "/proc/loadavg" => "0.12 0.34 0.56 1/234 5678\n",
            "/proc/stat" => {
                "cpu  1000 0 500 8000 100 0 0 0 0 0\ncpu0 500 0 250 4000 50 0 0 0 0 0\n\
                 cpu1 500 0 250 4000 50 0 0 0 0 0\n"
            }
            "/proc/cpuinfo" => CPUINFO,
            "/proc/sys/kernel/ostype" => "Linux\n",
            "/proc/sys/kernel/osrelease" => "6.8.12-4-pve\n",
            "/proc/sys/kernel/version" => {
                "#1 SMP PREEMPT_DYNAMIC PMX 6.8.12-4 (2024-11-06T15:04Z)\n"
            }
            _ => return Err(io::Error::from(io::ErrorKind::NotFound)),
        };
        Ok(text.to_owned())
    }

    fn dir_exists(&self, _path: &str) -> bool {
        false
    }

    fn rootfs(&self) -> io::Result<FsUsage> {
        Ok(FsUsage::from_statvfs(4096, 8_388_608, 4_194_304, 3_932_160))
    }

    fn has_zone(&self, name: &str) -> bool {
        ZONES.contains(&name)
    }
}

const CPUINFO: &str = "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n\
model name\t: Intel(R) Xeon(R) CPU\ncpu MHz\t\t: 2400.000\nphysical id\t: 0\ncpu cores\t: 2\n\
flags\t\t: fpu vmx sse2\n\nprocessor\t: 1\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n\
model name\t: Intel(R) Xeon(R) CPU\ncpu MHz\t\t: 2400.000\nphysical id\t: 0\ncpu cores\t: 2\n\
flags\t\t: fpu vmx sse2\n";
