//! A benchmark's stdout and stderr go to files it writes itself (no pipe through memgate,
//! which would cost it time). So that a benchmark printing a gigabyte cannot fill the
//! disk, memgate keeps each file's tail only: while it runs, the file's beginning is
//! given back to the file system as a hole ([`LogCap::trim`]); when it ends, the file is
//! rewritten to its last [`KEEP`] bytes with a first line saying what was dropped
//! ([`finish`]). Main type: [`LogCap`].

use std::io::{Read, Seek, SeekFrom};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How much of each stream is kept: its last 8 MiB.
pub const KEEP: u64 = 8 * 1024 * 1024;
/// How often the files are looked at while the benchmark runs.
const EVERY: Duration = Duration::from_millis(250);

/// The log files of one execution, looked at every [`EVERY`].
pub struct LogCap {
    paths: Vec<PathBuf>,
    next: Instant,
}

impl LogCap {
    pub fn new(paths: &[&Path]) -> LogCap {
        LogCap {
            paths: paths.iter().map(|p| p.to_path_buf()).collect(),
            next: Instant::now() + EVERY,
        }
    }

    /// Gives the file system back all but the last [`KEEP`] bytes of a file that has
    /// grown past twice that. The file keeps its size and the writer its offset; the
    /// beginning reads as zeros until [`finish`] drops it. Where the file system cannot
    /// punch holes, nothing happens until the end.
    pub fn trim(&mut self) {
        if Instant::now() < self.next {
            return;
        }
        self.next = Instant::now() + EVERY;
        for path in &self.paths {
            // Only the regular file memgate's launcher made: a benchmark may have put
            // something else in its place.
            let Ok(meta) = std::fs::symlink_metadata(path) else {
                continue;
            };
            if !meta.is_file() || meta.blocks() * 512 <= 2 * KEEP {
                continue;
            }
            let Ok(file) = std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
                .open(path)
            else {
                continue;
            };
            let end = meta.len().saturating_sub(KEEP) / 4096 * 4096;
            // SAFETY: fallocate on a valid descriptor; offsets within the file.
            unsafe {
                libc::fallocate(
                    file.as_raw_fd(),
                    libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                    0,
                    end as libc::off_t,
                );
            }
        }
    }
}

/// Cuts the finished log at `path` to its last [`KEEP`] bytes (from a line's start),
/// behind a first line that says so; returns how many bytes were dropped.
pub fn finish(path: &Path) -> std::io::Result<u64> {
    // Anything but the regular file memgate made is left as it is (and read by nothing).
    let Ok(mut file) = crate::files::open_regular(path, false) else {
        return Ok(0);
    };
    let size = file.metadata()?.len();
    if size <= KEEP {
        return Ok(0);
    }
    file.seek(SeekFrom::Start(size - KEEP))?;
    let mut tail = Vec::with_capacity(KEEP as usize);
    file.take(KEEP).read_to_end(&mut tail)?;
    // Start at a line, if one starts soon: the cut line's remains would only confuse.
    let start = tail[..tail.len().min(4096)]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let kept = &tail[start..];
    let dropped = size - kept.len() as u64;
    let header = format!(
        "[memgate: the first {dropped} bytes of this log were dropped; the last {} are kept]\n",
        kept.len()
    );
    crate::files::replace(path, &[header.as_bytes(), kept])?;
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn punches_holes(dir: &Path) -> bool {
        let probe = dir.join("probe");
        std::fs::write(&probe, vec![1u8; 64 * 1024]).unwrap();
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&probe)
            .unwrap();
        // SAFETY: as in `trim`.
        let flags = libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE;
        unsafe { libc::fallocate(file.as_raw_fd(), flags, 0, 4096) == 0 }
    }

    #[test]
    fn only_the_tail_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run-1.stdout");
        let line = "0123456789abcdef\n";
        let lines = (KEEP as usize * 2) / line.len();
        std::fs::write(&path, line.repeat(lines) + "END\n").unwrap();
        let mut cap = LogCap::new(&[&path]);
        cap.next = Instant::now();
        cap.trim();
        // Where the file system punches holes, the disk holds the tail only, at once.
        if punches_holes(dir.path()) {
            let held = std::fs::metadata(&path).unwrap().blocks() * 512;
            assert!(held <= KEEP + 64 * 1024, "{held}");
        }
        let dropped = finish(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let (first, rest) = text.split_once('\n').unwrap();
        assert_eq!(
            first,
            format!(
                "[memgate: the first {dropped} bytes of this log were dropped; the last {} are kept]",
                rest.len()
            )
        );
        assert!(rest.len() as u64 <= KEEP && rest.ends_with(&format!("{line}END\n")));
        assert!(rest.starts_with(line), "the tail starts at a line");
        assert_eq!(dropped + rest.len() as u64, (line.len() * lines + 4) as u64);
        // A small log is left as it is.
        std::fs::write(&path, "short\n").unwrap();
        assert_eq!(finish(&path).unwrap(), 0);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "short\n");
    }
}
