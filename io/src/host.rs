//! The machine a node runs on, as a seam: its `/proc` and `/sys` figures and its root file
//! system, for `GET /nodes/{node}/status` and the node's own figures in `GET /nodes`.
//!
//! These are the machine's, not the node's files: they are read at their real paths whatever
//! `--root` says (several development nodes on one machine share it). The simulator gives each
//! node fixed figures instead.

use std::cell::RefCell;
use std::fmt::Debug;
use std::io;

use crate::clock::MonotonicClock;
use corral_core::cluster::procfs::{self, BootMode, CpuUsage, FsUsage, NodeStatusInput};
use corral_core::cluster::views::NodeStats;

/// Files Proxmox's status call reads (the `/proc` ones are named by core's parsers).
use procfs::{CPUINFO, KSM_PAGES_SHARING, LOADAVG, MEMINFO, STAT, UPTIME};
const OSTYPE: &str = "/proc/sys/kernel/ostype";
const OSRELEASE: &str = "/proc/sys/kernel/osrelease";
const KERNEL_VERSION: &str = "/proc/sys/kernel/version";
/// Present when the machine booted through UEFI.
const EFI_DIR: &str = "/sys/firmware/efi";
/// The largest `/proc` file read (`/proc/cpuinfo` of a 256-thread machine is about 400 KiB).
const PROC_LEN_MAX: u64 = 4 * 1024 * 1024;

/// Clock ticks per second of `/proc/stat` (USER_HZ: 100 on every Linux architecture Proxmox
/// runs on).
const USER_HZ: u32 = 100;

/// The machine's figures.
pub trait Host: Debug + 'static {
    /// A `/proc` or `/sys` text file, whole.
    fn read(&self, path: &str) -> io::Result<String>;
    /// Whether a directory exists (`/sys/firmware/efi`).
    fn dir_exists(&self, path: &str) -> bool;
    /// The size and use of the root file system, in bytes (statvfs of `/`).
    fn rootfs(&self) -> io::Result<FsUsage>;
    /// Whether the system's zone database has `name` (a checked zone name).
    fn has_zone(&self, name: &str) -> bool;
}

/// The system's zone database; `/etc/localtime` links into it.
pub const ZONEINFO_DIR: &str = "/usr/share/zoneinfo";

/// The real machine.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealHost;

impl Host for RealHost {
    fn read(&self, path: &str) -> io::Result<String> {
        use std::io::Read;
        let mut text = String::new();
        std::fs::File::open(path)?
            .take(PROC_LEN_MAX)
            .read_to_string(&mut text)?;
        Ok(text)
    }

    fn dir_exists(&self, path: &str) -> bool {
        std::path::Path::new(path).is_dir()
    }

    fn has_zone(&self, name: &str) -> bool {
        std::path::Path::new(ZONEINFO_DIR).join(name).is_file()
    }

    fn rootfs(&self) -> io::Result<FsUsage> {
        let stat = nix::sys::statvfs::statvfs("/").map_err(io::Error::from)?;
        Ok(FsUsage::from_statvfs(
            stat.fragment_size(),
            stat.blocks(),
            stat.blocks_free(),
            stat.blocks_available(),
        ))
    }
}

/// Why the node's status could not be read: the file and the problem.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StatusError(String);

/// Reads the node's live status, remembering the last CPU sample so `cpu` and `wait` are the
/// shares of the time since the previous call (as Proxmox's `read_proc_stat`).
#[derive(Debug)]
pub struct NodeStatusReader {
    host: Box<dyn Host>,
    cpu: RefCell<CpuUsage>,
    /// The CPU sampler's time.
    clock: MonotonicClock,
}

impl NodeStatusReader {
    pub fn new(host: Box<dyn Host>) -> Self {
        NodeStatusReader {
            host,
            cpu: RefCell::new(CpuUsage::new(USER_HZ)),
            clock: MonotonicClock::start(),
        }
    }

    /// Whether the system's zone database has `name`.
    pub fn has_zone(&self, name: &str) -> bool {
        self.host.has_zone(name)
    }

    fn read(&self, path: &str) -> Result<String, StatusError> {
        self.host
            .read(path)
            .map_err(|e| StatusError(format!("cannot read {path}: {e}")))
    }

    /// `GET /nodes/{node}/status`'s data; `pveversion` is `pve-manager/<version>/<repoid>`.
    pub fn status(&self, pveversion: &str) -> Result<serde_json::Value, StatusError> {
        let input = self.input(pveversion)?;
        Ok(procfs::node_status(&input))
    }

    /// The figures `GET /nodes` shows for this node: only the files they come from are read.
    pub fn stats(&self) -> Result<NodeStats, StatusError> {
        let meminfo = self.meminfo()?;
        let rootfs = self.rootfs()?;
        Ok(NodeStats {
            uptime: self.uptime()?,
            cpu: self.cpu_load()?.cpu,
            maxcpu: self.cpuinfo()?.cpus,
            mem: meminfo.mem_used(),
            maxmem: meminfo.mem_total,
            disk: rootfs.used,
            maxdisk: rootfs.total,
        })
    }

    fn input(&self, pveversion: &str) -> Result<NodeStatusInput, StatusError> {
        Ok(NodeStatusInput {
            uptime: self.uptime()?,
            loadavg: procfs::parse_loadavg(&self.read(LOADAVG)?).map_err(proc_error)?,
            cpu: self.cpu_load()?,
            meminfo: self.meminfo()?,
            ksm_shared: self.ksm_shared()?,
            cpuinfo: self.cpuinfo()?,
            rootfs: self.rootfs()?,
            kernel: procfs::Kernel {
                sysname: self.read(OSTYPE)?.trim().to_owned(),
                release: self.read(OSRELEASE)?.trim().to_owned(),
                version: self.read(KERNEL_VERSION)?.trim().to_owned(),
                machine: std::env::consts::ARCH.to_owned(),
            },
            pveversion: pveversion.to_owned(),
            boot_mode: if self.host.dir_exists(EFI_DIR) {
                // The SecureBoot variable needs efivarfs; unknown is left out.
                BootMode::Efi { secureboot: None }
            } else {
                BootMode::LegacyBios
            },
        })
    }

    fn uptime(&self) -> Result<u64, StatusError> {
        procfs::parse_uptime(&self.read(UPTIME)?).map_err(proc_error)
    }

    fn meminfo(&self) -> Result<procfs::Meminfo, StatusError> {
        procfs::parse_meminfo(&self.read(MEMINFO)?).map_err(proc_error)
    }

    fn cpuinfo(&self) -> Result<procfs::CpuInfo, StatusError> {
        procfs::parse_cpuinfo(&self.read(CPUINFO)?, USER_HZ).map_err(proc_error)
    }

    /// The CPU's use since the last sample (this one is remembered for the next).
    fn cpu_load(&self) -> Result<procfs::CpuLoad, StatusError> {
        let times = procfs::parse_cpu_times(&self.read(STAT)?).map_err(proc_error)?;
        let mut usage = self.cpu.borrow_mut();
        usage.handle_sample(self.clock.now(), times);
        Ok(usage.usage())
    }

    fn rootfs(&self) -> Result<FsUsage, StatusError> {
        self.host
            .rootfs()
            .map_err(|e| StatusError(format!("cannot stat the root file system: {e}")))
    }

    /// Bytes merged by KSM; 0 when the kernel has no KSM (as Proxmox).
    fn ksm_shared(&self) -> Result<u64, StatusError> {
        match self.host.read(KSM_PAGES_SHARING) {
            Ok(text) => procfs::parse_ksm_pages_sharing(&text).map_err(proc_error),
            Err(_) => Ok(0),
        }
    }
}

fn proc_error(error: procfs::ProcError) -> StatusError {
    StatusError(error.to_string())
}
