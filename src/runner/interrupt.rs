//! Ctrl-C and SIGTERM: memgate notes the signal, kills the running tree, cleans up and
//! exits with code 130; the benchmarks' process group is not the terminal's, so only
//! memgate sees it. Once the handlers are installed, every wait memgate makes goes
//! through [`sleep`] or [`wait_for`], so no wait outlives a signal by more than a tick.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// How often a wait looks at the flag: short enough that Ctrl-C feels immediate.
const TICK: Duration = Duration::from_millis(20);

extern "C" fn on_signal(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Installs the handlers (without SA_RESTART, so a waiting poll returns at once).
pub fn install() {
    // SAFETY: the handler only stores to an atomic; sigaction gets valid pointers.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_signal as *const () as usize;
        libc::sigemptyset(&mut action.sa_mask);
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

/// Whether memgate has been asked to stop.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Sleeps for `duration`, or until memgate is asked to stop: then `Error::Interrupted`.
pub fn sleep(duration: Duration) -> Result<()> {
    let deadline = Instant::now() + duration;
    loop {
        if interrupted() {
            return Err(Error::Interrupted);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        std::thread::sleep(left.min(TICK));
    }
}

/// Runs `work` (a blocking call that cannot be interrupted itself, such as an HTTP
/// request) on its own thread and waits for it, or until memgate is asked to stop: then
/// `Error::Interrupted`, and the thread is left to end with the process.
pub fn wait_for<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(work());
    });
    loop {
        if interrupted() {
            return Err(Error::Interrupted);
        }
        match rx.recv_timeout(TICK) {
            Ok(value) => return Ok(value),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err(Error::io(
                    "a background task",
                    std::io::Error::other("it ended without an answer"),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_end_in_time_without_a_signal() {
        assert!(sleep(Duration::from_millis(30)).is_ok());
        assert_eq!(wait_for(|| 7).unwrap(), 7);
    }
}
