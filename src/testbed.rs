//! The testbed: a fingerprint of the machine figures were measured on (CPU, cores,
//! memory, OS, kernel), so that figures are only compared with their own kind.

use crate::measure::probe::ProbeKind;
use crate::measure::units::Bytes;
use crate::results::Testbed;

/// Reads this machine's testbed.
pub fn current(probe: ProbeKind) -> Testbed {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')))
        .map(|(_, name)| name.trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.split_whitespace().next()?.parse().ok())
        .map_or(Bytes(0), Bytes::from_kib);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown".into());
    Testbed {
        os: std::env::consts::OS.into(),
        kernel,
        arch: std::env::consts::ARCH.into(),
        cpu,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        memory,
        probe,
    }
}
