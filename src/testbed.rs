//! The testbed: a fingerprint of the machine figures were measured on (CPU, cores,
//! memory, OS, kernel, probe), or the name a user gave it, so that figures are only
//! compared with their own kind.

use sha2::{Digest, Sha256};

use crate::measure::probe::ProbeKind;
use crate::measure::units::Bytes;
use crate::results::Testbed;

/// Reads this machine's testbed; `name` (if any) becomes its id.
pub fn current(probe: ProbeKind, name: Option<&str>) -> Testbed {
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
    let mut testbed = Testbed {
        id: String::new(),
        name: name.map(str::to_owned),
        os: std::env::consts::OS.into(),
        kernel,
        arch: std::env::consts::ARCH.into(),
        cpu,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        memory,
        probe,
    };
    testbed.id = match name {
        Some(name) => name.to_owned(),
        None => fingerprint(&testbed),
    };
    testbed
}

/// `auto-` and 12 hex digits of a hash of what makes figures comparable. Memory is taken
/// in whole GiB and the kernel to major.minor, so a patch update or a few MiB the
/// firmware keeps do not split a testbed.
pub fn fingerprint(t: &Testbed) -> String {
    let kernel: Vec<&str> = t.kernel.split(['.', '-']).take(2).collect();
    let text = format!(
        "{}|{}|{}|{}|{}|{}|{:?}",
        t.cpu,
        t.cores,
        (t.memory.0 as f64 / (1u64 << 30) as f64).round(),
        t.os,
        t.arch,
        kernel.join("."),
        t.probe
    );
    let hash = Sha256::digest(text.as_bytes());
    let hex: String = hash.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("auto-{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_ignore_small_differences() {
        let a = current(ProbeKind::Proc, None);
        assert!(a.id.starts_with("auto-") && a.id.len() == 17, "{}", a.id);
        let mut b = a.clone();
        b.kernel = format!("{}.99", a.kernel);
        b.memory = Bytes(a.memory.0 + (10 << 20));
        assert_eq!(fingerprint(&b), a.id);
        b.cores += 1;
        assert_ne!(fingerprint(&b), a.id);
        assert_eq!(current(ProbeKind::Proc, Some("ci-large")).id, "ci-large");
    }
}
