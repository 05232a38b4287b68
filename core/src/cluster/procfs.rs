//! `GET /nodes/{node}/status`: the Linux `/proc` texts it is made of, read as pve-common's
//! `PVE::ProcFSTools` reads them, and the reply pve-manager's `PVE/API2/Nodes.pm` (`status`)
//! builds from them.
//!
//! The shell reads the files (and `uname`, `statvfs("/")`, `/sys/firmware/efi`); everything here
//! is a pure function of their text, except [`CpuUsage`], a small machine over `/proc/stat`
//! samples. Where Proxmox falls back to zeros on a file it cannot match, these parsers return a
//! [`ProcError`] naming the file and the line, and the caller decides.
//!
//! Sources: pve-common `src/PVE/ProcFSTools.pm` (`read_cpuinfo`, `read_proc_uptime`,
//! `read_loadavg`, `read_proc_stat`, `read_meminfo`), pve-manager `PVE/API2/Nodes.pm`
//! (`status`), and the statd reference §1–§2 for the fields newer than the source read here
//! (`memory.available`, `memused` = total − available, `current-kernel`, `boot-info`, cpuinfo
//! `vendor`/`family`).

use crate::time::Monotonic;
use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::config::display::printable;

pub const MEMINFO: &str = "/proc/meminfo";
pub const LOADAVG: &str = "/proc/loadavg";
pub const UPTIME: &str = "/proc/uptime";
pub const STAT: &str = "/proc/stat";
pub const CPUINFO: &str = "/proc/cpuinfo";
pub const KSM_PAGES_SHARING: &str = "/sys/kernel/mm/ksm/pages_sharing";

/// Proxmox counts KSM pages as 4 KiB whatever the page size (`read_meminfo`).
const KSM_PAGE_SIZE: u64 = 4096;

/// `read_proc_stat` keeps the previous value until more than this many clock ticks (summed over
/// the CPUs) have passed since the last sample it used: "don't update too often".
const MIN_TICKS_BETWEEN_SAMPLES: f64 = 1000.0;

/// A `/proc` (or `/sys`) text that does not read as the kernel writes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProcError {
    #[error("{file}: no {what} line")]
    Missing {
        file: &'static str,
        what: &'static str,
    },
    #[error("{file} line {line}: {problem}")]
    Garbled {
        file: &'static str,
        line: usize,
        problem: String,
    },
}

fn garbled(file: &'static str, line: usize, problem: String) -> ProcError {
    ProcError::Garbled {
        file,
        line,
        problem,
    }
}

/// The `/proc/meminfo` values the status needs, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Meminfo {
    pub mem_total: u64,
    pub mem_free: u64,
    pub mem_available: u64,
    pub swap_total: u64,
    pub swap_free: u64,
}

impl Meminfo {
    /// Proxmox's `memused`: total − available (pve-common `read_meminfo`, statd reference §1).
    pub fn mem_used(&self) -> u64 {
        self.mem_total.saturating_sub(self.mem_available)
    }

    /// Proxmox's `swapused`: total − free.
    pub fn swap_used(&self) -> u64 {
        self.swap_total.saturating_sub(self.swap_free)
    }
}

/// `/proc/meminfo`: `Key:   <n> kB` lines, `<n>` in KiB (Proxmox multiplies by 1024). Lines
/// this needs no value from are skipped, as the kernel adds new ones; the five it needs must
/// be there and be numbers.
pub fn parse_meminfo(text: &str) -> Result<Meminfo, ProcError> {
    const WANTED: [&str; 5] = [
        "MemTotal",
        "MemFree",
        "MemAvailable",
        "SwapTotal",
        "SwapFree",
    ];
    let mut found: BTreeMap<&str, u64> = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let Some((key, rest)) = line.split_once(':') else {
            continue;
        };
        let Some(wanted) = WANTED.iter().find(|wanted| **wanted == key) else {
            continue;
        };
        let bytes = kib_to_bytes(rest).ok_or_else(|| {
            garbled(
                MEMINFO,
                index + 1,
                format!("{key}: '{}' is not a number of kB", printable(rest.trim())),
            )
        })?;
        found.insert(wanted, bytes);
    }
    let value = |what: &'static str| {
        found.get(what).copied().ok_or(ProcError::Missing {
            file: MEMINFO,
            what,
        })
    };
    Ok(Meminfo {
        mem_total: value("MemTotal")?,
        mem_free: value("MemFree")?,
        mem_available: value("MemAvailable")?,
        swap_total: value("SwapTotal")?,
        swap_free: value("SwapFree")?,
    })
}

/// `"   24684084 kB"` → bytes (`kB` in any case, as Proxmox's `/i` match).
fn kib_to_bytes(rest: &str) -> Option<u64> {
    let rest = rest.trim();
    let digits = rest
        .strip_suffix("kB")
        .or_else(|| rest.strip_suffix("KB"))
        .or_else(|| rest.strip_suffix("kb"))
        .or_else(|| rest.strip_suffix("Kb"))?
        .trim_end();
    parse_digits(digits)?.checked_mul(1024)
}

/// Only ASCII digits (no sign, no spaces), as Proxmox's `\d+`.
fn parse_digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `/sys/kernel/mm/ksm/pages_sharing` → bytes shared by KSM (pages × 4096, as Proxmox). The
/// caller passes 0 when the file is missing (no KSM), as Proxmox does.
pub fn parse_ksm_pages_sharing(text: &str) -> Result<u64, ProcError> {
    let first = text.lines().next().unwrap_or_default().trim();
    parse_digits(first)
        .and_then(|pages| pages.checked_mul(KSM_PAGE_SIZE))
        .ok_or_else(|| {
            garbled(
                KSM_PAGES_SHARING,
                1,
                format!("'{}' is not a page count", printable(first)),
            )
        })
}

/// `/proc/loadavg` → the 1, 5 and 15 minute averages as the kernel wrote them
/// (`["0.12", "0.34", "0.56"]`), the strings Proxmox returns.
pub fn parse_loadavg(text: &str) -> Result<[String; 3], ProcError> {
    let first = text.lines().next().unwrap_or_default();
    let mut fields = first.split_whitespace();
    let mut next_average = || fields.next().filter(|field| is_decimal(field));
    match (next_average(), next_average(), next_average()) {
        (Some(one), Some(five), Some(fifteen)) => {
            Ok([one.to_owned(), five.to_owned(), fifteen.to_owned()])
        }
        _ => Err(garbled(
            LOADAVG,
            1,
            format!(
                "expected three load averages like '0.12 0.34 0.56 1/234 5678', got '{}'",
                printable(first)
            ),
        )),
    }
}

/// `\d+\.\d+`.
fn is_decimal(text: &str) -> bool {
    text.split_once('.').is_some_and(|(whole, fraction)| {
        parse_digits(whole).is_some() && parse_digits(fraction).is_some()
    })
}

/// `/proc/uptime` → whole seconds since boot (Proxmox's `int($1)` of the first field).
pub fn parse_uptime(text: &str) -> Result<u64, ProcError> {
    let first = text.lines().next().unwrap_or_default();
    first
        .split_whitespace()
        .next()
        .filter(|field| is_decimal(field))
        .and_then(|field| field.split_once('.'))
        .and_then(|(whole, _)| parse_digits(whole))
        .ok_or_else(|| {
            garbled(
                UPTIME,
                1,
                format!(
                    "expected '<seconds up> <seconds idle>' like '18058.17 19340.78', got '{}'",
                    printable(first)
                ),
            )
        })
}

/// The first `cpu ` line of `/proc/stat` (clock ticks summed over all CPUs), and how many
/// `cpuN` lines follow it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTimes {
    pub user: u64,
    pub nice: u64,
    pub system: u64,
    pub idle: u64,
    pub iowait: u64,
    pub irq: u64,
    pub softirq: u64,
    pub steal: u64,
    /// The number of `cpuN` lines (at least 1), Proxmox's `$cpucount`.
    pub cpus: u32,
}

impl CpuTimes {
    /// What Proxmox counts as busy: user + nice + system.
    pub fn busy(&self) -> u64 {
        self.user
            .saturating_add(self.nice)
            .saturating_add(self.system)
    }
}

/// `/proc/stat`: the aggregate `cpu` line (Proxmox needs its first five fields; older kernels
/// lack the later ones, which then read 0) and the count of `cpuN` lines.
pub fn parse_cpu_times(text: &str) -> Result<CpuTimes, ProcError> {
    let mut times = None;
    let mut cpus: u32 = 0;
    for (index, line) in text.lines().enumerate() {
        let mut fields = line.split_whitespace();
        match fields.next() {
            Some("cpu") if times.is_none() => times = Some(cpu_line(index + 1, fields)?),
            Some(name) if is_numbered_cpu(name) => cpus = cpus.saturating_add(1),
            _ => {}
        }
    }
    let mut times = times.ok_or(ProcError::Missing {
        file: STAT,
        what: "cpu",
    })?;
    times.cpus = cpus.max(1);
    Ok(times)
}

fn is_numbered_cpu(name: &str) -> bool {
    name.strip_prefix("cpu")
        .is_some_and(|number| parse_digits(number).is_some())
}

fn cpu_line<'a>(line: usize, fields: impl Iterator<Item = &'a str>) -> Result<CpuTimes, ProcError> {
    let mut values = [0u64; 8];
    let mut count = 0;
    for (slot, field) in values.iter_mut().zip(fields) {
        *slot = parse_digits(field).ok_or_else(|| {
            garbled(
                STAT,
                line,
                format!("cpu: '{}' is not a tick count", printable(field)),
            )
        })?;
        count += 1;
    }
    if count < 5 {
        return Err(garbled(
            STAT,
            line,
            format!("cpu: {count} fields, expected user nice system idle iowait at least"),
        ));
    }
    let [user, nice, system, idle, iowait, irq, softirq, steal] = values;
    Ok(CpuTimes {
        user,
        nice,
        system,
        idle,
        iowait,
        irq,
        softirq,
        steal,
        cpus: 1,
    })
}

/// The share of the CPUs' time spent busy and waiting for I/O, as fractions 0..1.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuLoad {
    pub cpu: f64,
    pub wait: f64,
}

/// CPU load from successive `/proc/stat` samples, as Proxmox's `read_proc_stat` computes it.
///
/// Drive it with [`handle_sample`](Self::handle_sample) each time `/proc/stat` is read (with the
/// caller's monotonic `now`), and read [`usage`](Self::usage). The load covers the interval
/// between the sample in use and the one before: busy ticks (user + nice + system) and iowait
/// ticks over `elapsed seconds × user_hz × CPUs`, each capped at 1. As in Proxmox, a sample
/// less than 1000 ticks (summed over the CPUs) after the last one used is ignored, so the load
/// only moves every `1000 / (user_hz × CPUs)` s or more; it is 0 before that.
#[derive(Debug, Clone)]
pub struct CpuUsage {
    user_hz: u32,
    last: Option<(Monotonic, CpuTimes)>,
    load: CpuLoad,
}

impl Default for CpuUsage {
    /// `USER_HZ` 100, what Linux reports on every architecture Proxmox VE runs on.
    fn default() -> Self {
        CpuUsage::new(100)
    }
}

impl CpuUsage {
    /// `user_hz` is `sysconf(_SC_CLK_TCK)`, the unit of `/proc/stat`.
    pub fn new(user_hz: u32) -> Self {
        CpuUsage {
            user_hz,
            last: None,
            load: CpuLoad::default(),
        }
    }

    /// Takes a `/proc/stat` sample read at `now`.
    pub fn handle_sample(&mut self, now: Monotonic, times: CpuTimes) {
        let Some((then, before)) = self.last else {
            self.last = Some((now, times));
            return;
        };
        let elapsed = now.saturating_duration_since(then).as_secs_f64();
        let ticks = elapsed * f64::from(self.user_hz) * f64::from(times.cpus);
        if ticks <= MIN_TICKS_BETWEEN_SAMPLES {
            return;
        }
        let share = |spent: u64| spent_ticks(spent).min(ticks) / ticks;
        self.load = CpuLoad {
            cpu: share(times.busy().saturating_sub(before.busy())),
            wait: share(times.iowait.saturating_sub(before.iowait)),
        };
        self.last = Some((now, times));
    }

    /// The load over the last interval measured; zeros before there is one.
    pub fn usage(&self) -> CpuLoad {
        self.load
    }
}

/// Tick counts as `f64` (exact below 2⁵³ ticks: 2.8 million years at 100 Hz).
#[allow(clippy::cast_precision_loss)]
fn spent_ticks(ticks: u64) -> f64 {
    ticks as f64
}

/// Proxmox's `cpuinfo` object (`read_cpuinfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpuInfo {
    /// `sysconf(_SC_CLK_TCK)`, passed in.
    pub user_hz: u32,
    /// The first `model name`, else `unknown`.
    pub model: String,
    /// The first `cpu MHz` written as `<digits>.<digits>`, kept as text; Proxmox shows `0` (a
    /// number) without one.
    pub mhz: Option<String>,
    /// `processor` lines: logical CPUs.
    pub cpus: u32,
    /// Distinct `physical id`s, at least 1.
    pub sockets: u32,
    /// Sum over the sockets of their `cpu cores` (1 per socket without that line), at least 1.
    pub cores: u32,
    /// The first `flags` line's value.
    pub flags: String,
    /// `vmx` or `svm` among the flags (Intel VT-x / AMD-V).
    pub hvm: bool,
    /// The first `vendor_id` (x86 only).
    pub vendor: Option<String>,
    /// The first `cpu family` (x86 only).
    pub family: Option<String>,
}

/// `/proc/cpuinfo` → Proxmox's cpuinfo, with the clock tick rate the caller read.
pub fn parse_cpuinfo(text: &str, user_hz: u32) -> Result<CpuInfo, ProcError> {
    let mut info = CpuInfo {
        user_hz,
        model: "unknown".to_owned(),
        ..CpuInfo::default()
    };
    // physical id → its cores; the id the following `cpu cores` line belongs to.
    let mut sockets: BTreeMap<u64, u32> = BTreeMap::new();
    let mut socket = 0;
    let mut model = None;
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let (key, value) = (key.trim_end(), value.trim_start());
        match key.to_ascii_lowercase().as_str() {
            "processor" if parse_digits(value.trim_end()).is_some() => {
                info.cpus = info.cpus.saturating_add(1);
            }
            "model name" if model.is_none() => model = Some(value.to_owned()),
            "cpu mhz" if info.mhz.is_none() && is_decimal(value.trim_end()) => {
                info.mhz = Some(value.trim_end().to_owned());
            }
            // Case-sensitive in Proxmox, and not `vmx flags`.
            "flags" if key == "flags" && info.flags.is_empty() => info.flags = value.to_owned(),
            "physical id" => {
                if let Some(id) = parse_digits(value.trim_end()) {
                    socket = id;
                    sockets.entry(id).or_insert(1);
                }
            }
            "cpu cores" => {
                let cores = parse_digits(value.trim_end()).and_then(|n| u32::try_from(n).ok());
                if let (Some(cores), Some(slot)) = (cores, sockets.get_mut(&socket)) {
                    *slot = cores;
                }
            }
            "vendor_id" if info.vendor.is_none() => info.vendor = Some(value.trim_end().to_owned()),
            "cpu family" if info.family.is_none() => {
                info.family = Some(value.trim_end().to_owned());
            }
            _ => {}
        }
    }
    if info.cpus == 0 {
        return Err(ProcError::Missing {
            file: CPUINFO,
            what: "processor",
        });
    }
    if let Some(model) = model {
        info.model = model;
    }
    info.hvm = has_hvm_flag(&info.flags);
    info.sockets = u32::try_from(sockets.len()).unwrap_or(u32::MAX).max(1);
    info.cores = sockets
        .values()
        .fold(0u32, |sum, cores| sum.saturating_add(*cores))
        .max(1);
    Ok(info)
}

/// Proxmox matches `\s(vmx|svm)\s` in the flags: the flag with whitespace on both sides, so
/// neither the first nor the last flag.
fn has_hvm_flag(flags: &str) -> bool {
    let pieces: Vec<&str> = flags.split(char::is_whitespace).collect();
    let inner = pieces
        .get(1..pieces.len().saturating_sub(1))
        .unwrap_or_default();
    inner.iter().any(|piece| matches!(*piece, "vmx" | "svm"))
}

/// The root file system's size, from `statvfs("/")` as Perl's `Filesys::Df::df('/', 1)`
/// reports it, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FsUsage {
    /// `f_blocks × f_frsize`.
    pub total: u64,
    /// `f_bavail × f_frsize`: free to unprivileged users.
    pub avail: u64,
    /// `(f_blocks − f_bfree) × f_frsize`.
    pub used: u64,
    /// `total − used` (Nodes.pm), that is `f_bfree × f_frsize`.
    pub free: u64,
}

impl FsUsage {
    /// From the `statvfs` fields (`f_frsize`, `f_blocks`, `f_bfree`, `f_bavail`).
    pub fn from_statvfs(
        fragment_size: u64,
        blocks: u64,
        blocks_free: u64,
        blocks_avail: u64,
    ) -> Self {
        let bytes = |count: u64| count.saturating_mul(fragment_size);
        let total = bytes(blocks);
        let used = bytes(blocks.saturating_sub(blocks_free));
        FsUsage {
            total,
            avail: bytes(blocks_avail),
            used,
            free: total.saturating_sub(used),
        }
    }
}

/// `uname()`'s fields as Nodes.pm uses them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kernel {
    pub sysname: String,
    pub release: String,
    pub version: String,
    pub machine: String,
}

/// How the node booted: EFI when `/sys/firmware/efi` exists, else legacy BIOS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootMode {
    /// `secureboot`: the `SecureBoot` EFI variable, when it could be read.
    Efi {
        secureboot: Option<bool>,
    },
    LegacyBios,
}

/// Everything `GET /nodes/{node}/status` shows, read by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeStatusInput {
    /// [`parse_uptime`].
    pub uptime: u64,
    /// [`parse_loadavg`].
    pub loadavg: [String; 3],
    /// [`CpuUsage::usage`].
    pub cpu: CpuLoad,
    /// [`parse_meminfo`].
    pub meminfo: Meminfo,
    /// [`parse_ksm_pages_sharing`]: bytes, 0 without KSM.
    pub ksm_shared: u64,
    /// [`parse_cpuinfo`].
    pub cpuinfo: CpuInfo,
    /// [`FsUsage::from_statvfs`] of `/`.
    pub rootfs: FsUsage,
    pub kernel: Kernel,
    /// `pve-manager/<version>/<repoid>`.
    pub pveversion: String,
    pub boot_mode: BootMode,
}

/// The reply of `GET /nodes/{node}/status`, field for field as Nodes.pm builds it: byte counts
/// and counts as JSON integers, `cpu`/`wait` as fractions, the load averages as strings.
pub fn node_status(input: &NodeStatusInput) -> Value {
    let kernel = &input.kernel;
    let memory = &input.meminfo;
    json!({
        "uptime": input.uptime,
        "idle": 0,
        "loadavg": input.loadavg,
        "kversion": format!("{} {} {}", kernel.sysname, kernel.release, kernel.version),
        "current-kernel": {
            "sysname": kernel.sysname,
            "release": kernel.release,
            "version": kernel.version,
            "machine": kernel.machine,
        },
        "boot-info": boot_info(input.boot_mode),
        "cpuinfo": cpuinfo_json(&input.cpuinfo),
        "cpu": input.cpu.cpu,
        "wait": input.cpu.wait,
        "memory": {
            "free": memory.mem_free,
            "total": memory.mem_total,
            "available": memory.mem_available,
            "used": memory.mem_used(),
        },
        "ksm": { "shared": input.ksm_shared },
        "swap": {
            "free": memory.swap_free,
            "total": memory.swap_total,
            "used": memory.swap_used(),
        },
        "pveversion": input.pveversion,
        "rootfs": {
            "total": input.rootfs.total,
            "avail": input.rootfs.avail,
            "used": input.rootfs.used,
            "free": input.rootfs.free,
        },
    })
}

fn boot_info(mode: BootMode) -> Value {
    match mode {
        BootMode::LegacyBios => json!({ "mode": "legacy-bios" }),
        BootMode::Efi { secureboot: None } => json!({ "mode": "efi" }),
        BootMode::Efi {
            secureboot: Some(on),
        } => json!({ "mode": "efi", "secureboot": u8::from(on) }),
    }
}

/// Perl's JSON shapes: `mhz` is the text matched (or the number 0), `hvm` the result of a
/// regex match, `"1"` or `""`.
fn cpuinfo_json(info: &CpuInfo) -> Value {
    let mut object = json!({
        "user_hz": info.user_hz,
        "model": info.model,
        "mhz": info.mhz.as_ref().map_or(json!(0), |mhz| json!(mhz)),
        "cpus": info.cpus,
        "sockets": info.sockets,
        "cores": info.cores,
        "flags": info.flags,
        "hvm": if info.hvm { "1" } else { "" },
    });
    if let Some(map) = object.as_object_mut() {
        if let Some(vendor) = &info.vendor {
            map.insert("vendor".into(), json!(vendor));
        }
        if let Some(family) = &info.family {
            map.insert("family".into(), json!(family));
        }
    }
    object
}

#[cfg(test)]
mod tests;
