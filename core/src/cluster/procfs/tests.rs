//! Tests of the `/proc` parsers and the status reply, on texts from a real Linux box.

use std::time::Duration;

use serde_json::json;

use super::*;

/// `/proc/meminfo` of a 24 GiB KVM guest, kernel 6.18 (no swap).
const MEMINFO_GUEST: &str = r#"MemTotal:       24684084 kB
MemFree:        22767116 kB
MemAvailable:   24106664 kB
Buffers:            7560 kB
Cached:          1175180 kB
SwapCached:            0 kB
Active:           586756 kB
Inactive:         602260 kB
Active(anon):       1496 kB
Inactive(anon):    13724 kB
Active(file):     585260 kB
Inactive(file):   588536 kB
Unevictable:       15452 kB
Mlocked:           14404 kB
SwapTotal:             0 kB
SwapFree:              0 kB
Zswap:                 0 kB
Zswapped:              0 kB
Dirty:               404 kB
Writeback:             0 kB
AnonPages:         21936 kB
Mapped:            15824 kB
Shmem:              8872 kB
KReclaimable:     567032 kB
Slab:             617888 kB
SReclaimable:     567032 kB
SUnreclaim:        50856 kB
KernelStack:        1408 kB
PageTables:         1480 kB
SecPageTables:         0 kB
NFS_Unstable:          0 kB
Bounce:                0 kB
WritebackTmp:          0 kB
CommitLimit:    12342040 kB
Committed_AS:      68372 kB
VmallocTotal:   34359738367 kB
VmallocUsed:       14220 kB
VmallocChunk:          0 kB
Percpu:              760 kB
AnonHugePages:         0 kB
ShmemHugePages:        0 kB
ShmemPmdMapped:        0 kB
FileHugePages:      8192 kB
FilePmdMapped:         0 kB
Balloon:               0 kB
HugePages_Total:       0
HugePages_Free:        0
HugePages_Rsvd:        0
HugePages_Surp:        0
Hugepagesize:       2048 kB
Hugetlb:               0 kB
DirectMap4k:       26624 kB
DirectMap2M:     2070528 kB
DirectMap1G:    25165824 kB
"#;

/// `/proc/cpuinfo` of the same guest: two vCPUs of an AMD EPYC, one socket, no nested
/// virtualisation (no `svm`).
const CPUINFO_EPYC_GUEST: &str = r#"processor	: 0
vendor_id	: AuthenticAMD
cpu family	: 25
model		: 17
model name	: AMD EPYC
stepping	: 1
microcode	: 0x1000065
cpu MHz		: 2596.152
cache size	: 1024 KB
physical id	: 0
siblings	: 2
core id		: 0
cpu cores	: 2
apicid		: 0
initial apicid	: 0
fpu		: yes
fpu_exception	: yes
cpuid level	: 28
wp		: yes
flags		: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology nonstop_tsc cpuid extd_apicid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand hypervisor lahf_lm cmp_legacy cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw topoext vmmcall fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid avx512f avx512dq rdseed adx smap avx512ifma clflushopt clwb avx512cd sha_ni avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves avx512_bf16 clzero xsaveerptr arat avx512vbmi umip avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni avx512_bitalg avx512_vpopcntdq rdpid fsrm
bugs		: sysret_ss_attrs null_seg spectre_v1 spectre_v2 spec_store_bypass srso spectre_v2_user
bogomips	: 5192.30
TLB size	: 3584 4K pages
clflush size	: 64
cache_alignment	: 64
address sizes	: 48 bits physical, 48 bits virtual
power management:

processor	: 1
vendor_id	: AuthenticAMD
cpu family	: 25
model		: 17
model name	: AMD EPYC
stepping	: 1
microcode	: 0x1000065
cpu MHz		: 2596.152
cache size	: 1024 KB
physical id	: 0
siblings	: 2
core id		: 1
cpu cores	: 2
apicid		: 1
initial apicid	: 1
fpu		: yes
fpu_exception	: yes
cpuid level	: 28
wp		: yes
flags		: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology nonstop_tsc cpuid extd_apicid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand hypervisor lahf_lm cmp_legacy cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw topoext vmmcall fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid avx512f avx512dq rdseed adx smap avx512ifma clflushopt clwb avx512cd sha_ni avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves avx512_bf16 clzero xsaveerptr arat avx512vbmi umip avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni avx512_bitalg avx512_vpopcntdq rdpid fsrm
bugs		: sysret_ss_attrs null_seg spectre_v1 spectre_v2 spec_store_bypass srso spectre_v2_user
bogomips	: 5192.30
TLB size	: 3584 4K pages
clflush size	: 64
cache_alignment	: 64
address sizes	: 48 bits physical, 48 bits virtual
power management:

"#;

/// `/proc/stat` of the same guest (the `intr` line shortened).
const STAT_GUEST: &str = r#"cpu  1202153 0 372655 1981210 20988 0 63807 984 0 0
cpu0 548666 0 185333 1051803 6559 0 25463 486 0 0
cpu1 653487 0 187322 929406 14428 0 38344 498 0 0
intr 20133452 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 1 13 0 0 0 0 3666 3081 0 311 1 1128217 0
ctxt 64126864
btime 1795552886
processes 600268
procs_running 1
procs_blocked 0
softirq 211350840 0 1081823 4 204967285 1128181 0 489 1424976 320 2747762
"#;

/// The parts of `/proc/cpuinfo` that matter, for a two-socket Xeon host with VT-x: two
/// sockets of 2 cores, hyper-threading off.
const CPUINFO_TWO_SOCKETS: &str = "\
processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 63
model name\t: Intel(R) Xeon(R) CPU E5-2620 v3 @ 2.40GHz
cpu MHz\t\t: 1200.000
physical id\t: 0
core id\t\t: 0
cpu cores\t: 2
flags\t\t: fpu vme de pse tsc msr pae mce vmx smx est tm2 ssse3
vmx flags\t: vnmi preemption_timer

processor\t: 1
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) CPU E5-2620 v3 @ 2.40GHz
cpu MHz\t\t: 2400.000
physical id\t: 0
core id\t\t: 1
cpu cores\t: 2
flags\t\t: fpu vme de pse tsc msr pae mce vmx smx est tm2 ssse3

processor\t: 2
physical id\t: 1
core id\t\t: 0
cpu cores\t: 2

processor\t: 3
physical id\t: 1
core id\t\t: 1
cpu cores\t: 2
";

/// A Raspberry Pi style aarch64 `/proc/cpuinfo`: no model name, MHz, physical id or cores.
const CPUINFO_ARM: &str = "\
processor\t: 0
BogoMIPS\t: 108.00
Features\t: fp asimd evtstrm crc32 cpuid
CPU implementer\t: 0x41

processor\t: 1
BogoMIPS\t: 108.00
Features\t: fp asimd evtstrm crc32 cpuid
CPU implementer\t: 0x41
";

/// The driver's origin; only offsets from it matter.
fn t0() -> Monotonic {
    Monotonic::ZERO
}

#[test]
fn meminfo_of_a_real_guest_in_bytes() {
    let meminfo = parse_meminfo(MEMINFO_GUEST).expect("reads");
    assert_eq!(
        meminfo,
        Meminfo {
            mem_total: 24_684_084 * 1024,
            mem_free: 22_767_116 * 1024,
            mem_available: 24_106_664 * 1024,
            swap_total: 0,
            swap_free: 0,
        }
    );
    assert_eq!(meminfo.mem_used(), (24_684_084 - 24_106_664) * 1024);
    assert_eq!(meminfo.swap_used(), 0);
}

#[test]
fn meminfo_refuses_missing_and_garbled_values() {
    let without_available: String = MEMINFO_GUEST
        .lines()
        .filter(|line| !line.starts_with("MemAvailable"))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(
        parse_meminfo(&without_available)
            .expect_err("refused")
            .to_string(),
        "/proc/meminfo: no MemAvailable line"
    );
    assert_eq!(
        parse_meminfo("").expect_err("refused").to_string(),
        "/proc/meminfo: no MemTotal line"
    );
    let garbled = MEMINFO_GUEST.replace("MemFree:        22767116 kB", "MemFree: lots");
    assert_eq!(
        parse_meminfo(&garbled).expect_err("refused").to_string(),
        "/proc/meminfo line 2: MemFree: 'lots' is not a number of kB"
    );
    let overflow = MEMINFO_GUEST.replace("24684084 kB", "18446744073709551615 kB");
    assert!(parse_meminfo(&overflow).is_err(), "kB × 1024 overflows u64");
    // Lines without kB (HugePages_Total) and new keys are not this parser's business.
    assert!(parse_meminfo(&format!("{MEMINFO_GUEST}NewThing: 12 pages\n")).is_ok());
}

#[test]
fn ksm_pages_are_counted_as_4_kib() {
    assert_eq!(parse_ksm_pages_sharing("0\n"), Ok(0));
    assert_eq!(parse_ksm_pages_sharing("12345\n"), Ok(12345 * 4096));
    assert_eq!(
        parse_ksm_pages_sharing("many\n")
            .expect_err("refused")
            .to_string(),
        "/sys/kernel/mm/ksm/pages_sharing line 1: 'many' is not a page count"
    );
}

#[test]
fn loadavg_keeps_the_kernel_text() {
    assert_eq!(
        parse_loadavg("0.00 0.57 1.18 1/86 9791\n").expect("reads"),
        ["0.00", "0.57", "1.18"]
    );
    assert_eq!(
        parse_loadavg("12.50 3.05 0.10 14/1203 88123\n").expect("reads"),
        ["12.50", "3.05", "0.10"]
    );
    assert_eq!(
        parse_loadavg("0.00 high 1.18 1/86 9791\n")
            .expect_err("refused")
            .to_string(),
        "/proc/loadavg line 1: expected three load averages like '0.12 0.34 0.56 1/234 5678', \
         got '0.00 high 1.18 1/86 9791'"
    );
    assert!(parse_loadavg("").is_err());
}

#[test]
fn uptime_is_whole_seconds() {
    assert_eq!(parse_uptime("18058.17 19340.78\n"), Ok(18058));
    assert_eq!(parse_uptime("0.99 1.50\n"), Ok(0));
    assert_eq!(
        parse_uptime("\u{1b}[2J\n")
            .expect_err("refused")
            .to_string(),
        "/proc/uptime line 1: expected '<seconds up> <seconds idle>' like '18058.17 19340.78', \
         got '\\x1b[2J'"
    );
}

#[test]
fn cpu_times_of_a_real_guest() {
    let times = parse_cpu_times(STAT_GUEST).expect("reads");
    assert_eq!(times.cpus, 2);
    let first: Vec<u64> = STAT_GUEST
        .lines()
        .next()
        .expect("a first line")
        .split_whitespace()
        .skip(1)
        .map(|field| field.parse().expect("reads"))
        .collect();
    assert_eq!(
        [
            times.user,
            times.nice,
            times.system,
            times.idle,
            times.iowait,
            times.irq,
            times.softirq,
            times.steal
        ],
        first[..8]
    );
    assert_eq!(times.busy(), first[0] + first[1] + first[2]);
}

#[test]
fn cpu_times_of_an_old_kernel_and_garbage() {
    let old = parse_cpu_times("cpu  10 20 30 40 50\ncpu0 10 20 30 40 50\n").expect("reads");
    assert_eq!((old.iowait, old.steal, old.cpus), (50, 0, 1));
    assert_eq!(
        parse_cpu_times("cpu  10 20 30 40\n")
            .expect_err("refused")
            .to_string(),
        "/proc/stat line 1: cpu: 4 fields, expected user nice system idle iowait at least"
    );
    assert_eq!(
        parse_cpu_times("intr 1\ncpu  10 -20 30 40 50\n")
            .expect_err("refused")
            .to_string(),
        "/proc/stat line 2: cpu: '-20' is not a tick count"
    );
    assert_eq!(
        parse_cpu_times("cpu0 1 2 3 4 5\n")
            .expect_err("refused")
            .to_string(),
        "/proc/stat: no cpu line"
    );
}

fn times(busy: u64, iowait: u64, cpus: u32) -> CpuTimes {
    CpuTimes {
        user: busy,
        iowait,
        cpus,
        ..CpuTimes::default()
    }
}

#[test]
fn cpu_usage_is_the_share_of_the_interval_as_proxmox_computes_it() {
    let t = t0();
    let mut usage = CpuUsage::new(100);
    assert_eq!(usage.usage(), CpuLoad::default());
    usage.handle_sample(t, times(1000, 100, 2));
    assert_eq!(
        usage.usage(),
        CpuLoad::default(),
        "one sample is no interval"
    );

    // 10 s × 100 Hz × 2 CPUs = 2000 ticks; 500 busy, 100 waiting.
    usage.handle_sample(t + Duration::from_secs(10), times(1500, 200, 2));
    assert_eq!(
        usage.usage(),
        CpuLoad {
            cpu: 0.25,
            wait: 0.05
        }
    );

    // 4 s later is only 800 ticks: too soon, Proxmox keeps the last value and baseline.
    usage.handle_sample(t + Duration::from_secs(14), times(2300, 200, 2));
    assert_eq!(
        usage.usage(),
        CpuLoad {
            cpu: 0.25,
            wait: 0.05
        }
    );

    // 6 s after the baseline: 1200 ticks, 1200 busy (the 14 s sample was not taken).
    usage.handle_sample(t + Duration::from_secs(16), times(2700, 200, 2));
    assert_eq!(
        usage.usage(),
        CpuLoad {
            cpu: 1.0,
            wait: 0.0
        }
    );

    // More busy ticks than elapsed (a clock jump): capped at 1; counters going back: 0.
    usage.handle_sample(t + Duration::from_secs(26), times(9_999_999, 0, 2));
    assert_eq!(
        usage.usage(),
        CpuLoad {
            cpu: 1.0,
            wait: 0.0
        }
    );
    usage.handle_sample(t + Duration::from_secs(36), times(5, 0, 2));
    assert_eq!(
        usage.usage(),
        CpuLoad {
            cpu: 0.0,
            wait: 0.0
        }
    );
}

#[test]
fn cpuinfo_of_a_real_guest() {
    let info = parse_cpuinfo(CPUINFO_EPYC_GUEST, 100).expect("reads");
    assert_eq!(info.model, "AMD EPYC");
    assert_eq!(info.mhz.as_deref(), Some("2596.152"));
    assert_eq!((info.cpus, info.sockets, info.cores), (2, 1, 2));
    assert!(info.flags.starts_with("fpu vme de pse"));
    assert!(info.flags.ends_with("rdpid fsrm"));
    assert!(!info.hvm);
    assert_eq!(info.vendor.as_deref(), Some("AuthenticAMD"));
    assert_eq!(info.family.as_deref(), Some("25"));
}

#[test]
fn cpuinfo_counts_sockets_and_sums_their_cores() {
    let info = parse_cpuinfo(CPUINFO_TWO_SOCKETS, 100).expect("reads");
    assert_eq!((info.cpus, info.sockets, info.cores), (4, 2, 4));
    assert_eq!(info.mhz.as_deref(), Some("1200.000"), "the first one");
    assert!(info.hvm, "vmx");
    assert_eq!(
        info.flags,
        "fpu vme de pse tsc msr pae mce vmx smx est tm2 ssse3"
    );
}

#[test]
fn cpuinfo_without_x86_fields_falls_back_as_proxmox() {
    let info = parse_cpuinfo(CPUINFO_ARM, 100).expect("reads");
    assert_eq!(
        info,
        CpuInfo {
            user_hz: 100,
            model: "unknown".into(),
            mhz: None,
            cpus: 2,
            sockets: 1,
            cores: 1,
            flags: String::new(),
            hvm: false,
            vendor: None,
            family: None,
        }
    );
    assert_eq!(
        parse_cpuinfo("model name : x\n", 100)
            .expect_err("refused")
            .to_string(),
        "/proc/cpuinfo: no processor line"
    );
}

#[test]
fn hvm_needs_the_flag_between_others_as_proxmox_matches_it() {
    assert!(has_hvm_flag("fpu svm lm"));
    assert!(has_hvm_flag("fpu\tvmx  lm"));
    assert!(!has_hvm_flag("vmx fpu"), "first: no whitespace before");
    assert!(!has_hvm_flag("fpu vmx"), "last: no whitespace after");
    assert!(!has_hvm_flag("fpu vmxnet lm"));
    assert!(!has_hvm_flag(""));
}

#[test]
fn rootfs_from_statvfs_as_filesys_df() {
    // 4 KiB fragments: 1000 blocks, 300 free, 250 available to users.
    assert_eq!(
        FsUsage::from_statvfs(4096, 1000, 300, 250),
        FsUsage {
            total: 4_096_000,
            avail: 1_024_000,
            used: 2_867_200,
            free: 1_228_800,
        }
    );
}

fn status_input() -> NodeStatusInput {
    NodeStatusInput {
        uptime: parse_uptime("18058.17 19340.78\n").expect("reads"),
        loadavg: parse_loadavg("0.00 0.57 1.18 1/86 9791\n").expect("reads"),
        cpu: CpuLoad {
            cpu: 0.25,
            wait: 0.05,
        },
        meminfo: parse_meminfo(MEMINFO_GUEST).expect("reads"),
        ksm_shared: parse_ksm_pages_sharing("0\n").expect("reads"),
        cpuinfo: parse_cpuinfo(CPUINFO_TWO_SOCKETS, 100).expect("reads"),
        rootfs: FsUsage::from_statvfs(4096, 1000, 300, 250),
        kernel: Kernel {
            sysname: "Linux".into(),
            release: "6.8.12-4-pve".into(),
            version: "#1 SMP PREEMPT_DYNAMIC PMX 6.8.12-4 (2024-11-06T15:04Z)".into(),
            machine: "x86_64".into(),
        },
        pveversion: "pve-manager/8.3.0/c1689ccb1065a83b".into(),
        boot_mode: BootMode::Efi {
            secureboot: Some(false),
        },
    }
}

#[test]
fn node_status_has_the_fields_and_types_of_proxmox() {
    let status = node_status(&status_input());
    assert_eq!(
        status,
        json!({
            "uptime": 18058,
            "idle": 0,
            "loadavg": ["0.00", "0.57", "1.18"],
            "kversion": "Linux 6.8.12-4-pve #1 SMP PREEMPT_DYNAMIC PMX 6.8.12-4 (2024-11-06T15:04Z)",
            "current-kernel": {
                "sysname": "Linux",
                "release": "6.8.12-4-pve",
                "version": "#1 SMP PREEMPT_DYNAMIC PMX 6.8.12-4 (2024-11-06T15:04Z)",
                "machine": "x86_64",
            },
            "boot-info": { "mode": "efi", "secureboot": 0 },
            "cpuinfo": {
                "user_hz": 100,
                "model": "Intel(R) Xeon(R) CPU E5-2620 v3 @ 2.40GHz",
                "mhz": "1200.000",
                "cpus": 4,
                "sockets": 2,
                "cores": 4,
                "flags": "fpu vme de pse tsc msr pae mce vmx smx est tm2 ssse3",
                "hvm": "1",
                "vendor": "GenuineIntel",
                "family": "6",
            },
            "cpu": 0.25,
            "wait": 0.05,
            "memory": {
                "free": 22_767_116u64 * 1024,
                "total": 24_684_084u64 * 1024,
                "available": 24_106_664u64 * 1024,
                "used": (24_684_084u64 - 24_106_664) * 1024,
            },
            "ksm": { "shared": 0 },
            "swap": { "free": 0, "total": 0, "used": 0 },
            "pveversion": "pve-manager/8.3.0/c1689ccb1065a83b",
            "rootfs": { "total": 4_096_000, "avail": 1_024_000, "used": 2_867_200, "free": 1_228_800 },
        })
    );
    assert!(status["uptime"].is_u64() && status["memory"]["total"].is_u64());
    assert!(status["cpu"].is_f64());
}

#[test]
fn node_status_boot_modes_and_a_cpu_without_mhz() {
    let mut input = status_input();
    input.boot_mode = BootMode::LegacyBios;
    input.cpuinfo = parse_cpuinfo(CPUINFO_ARM, 100).expect("reads");
    let status = node_status(&input);
    assert_eq!(status["boot-info"], json!({ "mode": "legacy-bios" }));
    assert_eq!(
        status["cpuinfo"]["mhz"],
        json!(0),
        "a number, as Proxmox's default"
    );
    assert_eq!(status["cpuinfo"]["hvm"], json!(""));
    assert_eq!(status["cpuinfo"].get("vendor"), None);

    input.boot_mode = BootMode::Efi { secureboot: None };
    assert_eq!(node_status(&input)["boot-info"], json!({ "mode": "efi" }));
    input.boot_mode = BootMode::Efi {
        secureboot: Some(true),
    };
    assert_eq!(
        node_status(&input)["boot-info"],
        json!({ "mode": "efi", "secureboot": 1 })
    );
}
