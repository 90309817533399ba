//! An advisory file lock (flock), held while memgate reads, changes and writes stored
//! records, so two memgate processes on one machine never lose each other's records.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;

use crate::error::{Error, Result};

/// Held until dropped.
pub struct FileLock {
    _file: File,
}

impl FileLock {
    /// Waits for the lock; Ctrl-C or SIGTERM (once memgate handles them) ends the wait.
    pub fn acquire(path: &Path) -> Result<FileLock> {
        use std::os::unix::fs::OpenOptionsExt;
        // Not through a link, and never waiting on a FIFO someone put there.
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(path)
            .map_err(|e| Error::io(format!("cannot open the lock file {}", path.display()), e))?;
        if !file.metadata().is_ok_and(|m| m.is_file()) {
            return Err(Error::Usage(format!(
                "the lock file {} is not a regular file: remove it",
                path.display()
            )));
        }
        loop {
            // SAFETY: flock on a valid fd; released when the file closes.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                return Ok(FileLock { _file: file });
            }
            let error = std::io::Error::last_os_error();
            match error.raw_os_error() {
                Some(libc::EWOULDBLOCK) | Some(libc::EINTR) => {
                    crate::runner::interrupt::sleep(std::time::Duration::from_millis(20))?
                }
                _ => return Err(Error::io(format!("cannot lock {}", path.display()), error)),
            }
        }
    }
}
