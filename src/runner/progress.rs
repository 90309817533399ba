//! Progress on the terminal: an indicatif bar on a terminal, one plain line per finished
//! benchmark otherwise (CI logs), nothing with `--quiet`. The bar counts measured runs
//! (warmups show in its message, not its count) and says the time left, estimated from
//! the runs so far ([`Estimate`]); a plain line says it too. Main type: [`Progress`].

use std::io::IsTerminal;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use super::estimate::Estimate;
use crate::report::units::time_left;

/// How many times one job's command runs: in all, and in measured runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobCount {
    /// Warmups and measured executions (each value of a leak check counted).
    pub executions: u64,
    /// Measured executions: what the bar counts.
    pub measured: u64,
}

pub struct Progress {
    bar: Option<ProgressBar>,
    lines: bool,
    timing: Arc<Mutex<Timing>>,
}

/// What the time left is made of, shared with the bar that draws it between updates.
#[derive(Debug, Default)]
struct Timing {
    estimate: Estimate,
    /// The job whose execution is under way, and since when.
    running: Option<(usize, Instant)>,
    /// Each job's measured executions still to come.
    measured_left: Vec<u64>,
}

impl Timing {
    fn left(&self) -> Option<Duration> {
        self.estimate
            .left(self.running.map(|(job, since)| (job, since.elapsed())))
    }
}

/// `~1m20s left`; none without an estimate, or with nothing left.
fn left_words(left: Option<Duration>) -> Option<String> {
    left.filter(|l| !l.is_zero())
        .map(|l| format!("{} left", time_left(l.as_secs_f64())))
}

/// `3/10 measured runs  ~1m20s left`: the bar's count and time left, without the bar.
fn count_text(done: u64, of: u64, left: Option<Duration>) -> String {
    match left_words(left) {
        Some(words) => format!("{done}/{of} measured runs  {words}"),
        None => format!("{done}/{of} measured runs"),
    }
}

/// `automl[taxi]: ok (5 runs); ~1m20s left`: a finished benchmark's line in a log.
fn log_line(line: &str, left: Option<Duration>) -> String {
    match left_words(left) {
        Some(words) => format!("{line}; {words}"),
        None => line.to_owned(),
    }
}

impl Progress {
    /// A progress display over jobs of these counts (numbered in this order), drawn on
    /// stderr.
    pub fn new(jobs: &[JobCount], quiet: bool) -> Self {
        let timing = Arc::new(Mutex::new(Timing {
            estimate: Estimate::new(jobs.iter().map(|j| j.executions)),
            running: None,
            measured_left: jobs.iter().map(|j| j.measured).collect(),
        }));
        let (bar, lines) = if quiet {
            (None, false)
        } else if !std::io::stderr().is_terminal() {
            (None, true)
        } else {
            let measured = jobs.iter().map(|j| j.measured).sum();
            let bar = ProgressBar::with_draw_target(Some(measured), ProgressDrawTarget::stderr());
            let shared = Arc::clone(&timing);
            let count = move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                let left = lock(&shared).left();
                let _ = w.write_str(&count_text(state.pos(), state.len().unwrap_or(0), left));
            };
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {count}  {msg}",
                )
                .map(|style| style.with_key("count", count))
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            (Some(bar), false)
        };
        Progress { bar, lines, timing }
    }

    /// Says what runs now, such as `automl[taxi]: run 2/5` or `automl[taxi]: warmup 1/1`.
    pub fn now(&self, what: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(what.to_owned());
        }
    }

    /// An execution (warmup or measured) of job `job` starts.
    pub fn started(&self, job: usize) {
        lock(&self.timing).running = Some((job, Instant::now()));
    }

    /// The execution [`Self::started`] last ended (in success or not); `measured` if it
    /// was a measured one, which the bar counts.
    pub fn ended(&self, measured: bool) {
        let running = lock(&self.timing).running.take();
        if let Some((job, since)) = running {
            self.count(job, since.elapsed(), measured);
        }
    }

    /// An execution of job `job` took `took`.
    fn count(&self, job: usize, took: Duration, measured: bool) {
        {
            let mut timing = lock(&self.timing);
            timing.estimate.finished(job, took);
            if measured {
                timing.measured_left[job] = timing.measured_left[job].saturating_sub(1);
            }
        }
        if let (Some(bar), true) = (&self.bar, measured) {
            bar.inc(1);
        }
    }

    /// Job `job` failed: its executions left will not happen.
    pub fn dropped(&self, job: usize) {
        let measured = {
            let mut timing = lock(&self.timing);
            timing.estimate.dropped(job);
            std::mem::take(&mut timing.measured_left[job])
        };
        if let Some(bar) = &self.bar {
            bar.inc(measured);
        }
    }

    /// A benchmark × dataset is done; `line` says how it went. In a log, the time left
    /// follows it.
    pub fn finished(&self, line: &str) {
        if self.bar.is_none() && self.lines {
            let left = lock(&self.timing).left();
            self.say(&log_line(line, left));
        } else {
            self.say(line);
        }
    }

    /// A line to say between the runs, above the bar.
    pub fn say(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None if self.lines => eprintln!("{line}"),
            None => {}
        }
    }

    pub fn clear(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The timing, even if a thread panicked holding it: it holds figures, not invariants.
fn lock(timing: &Mutex<Timing>) -> MutexGuard<'_, Timing> {
    timing.lock().unwrap_or_else(|e| e.into_inner())
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_says_what_it_counts_and_the_time_left_once_known() {
        assert_eq!(count_text(0, 10, None), "0/10 measured runs");
        assert_eq!(
            count_text(3, 10, Some(Duration::from_secs(80))),
            "3/10 measured runs  ~1m20s left"
        );
        // Nothing left: nothing said.
        assert_eq!(
            count_text(10, 10, Some(Duration::ZERO)),
            "10/10 measured runs"
        );
        assert_eq!(
            log_line("a: ok (5 runs)", Some(Duration::from_secs(125))),
            "a: ok (5 runs); ~2m05s left"
        );
        assert_eq!(log_line("a: ok (5 runs)", None), "a: ok (5 runs)");
        assert_eq!(
            log_line("a: ok (5 runs)", Some(Duration::ZERO)),
            "a: ok (5 runs)"
        );
    }

    #[test]
    fn a_quiet_progress_still_keeps_time() {
        let jobs = [
            JobCount {
                executions: 3,
                measured: 2,
            },
            JobCount {
                executions: 2,
                measured: 2,
            },
        ];
        let progress = Progress::new(&jobs, true);
        assert_eq!(lock(&progress.timing).left(), None);
        progress.count(0, Duration::from_secs(4), false);
        assert_eq!(
            lock(&progress.timing).left(),
            Some(Duration::from_secs(4 * 4))
        );
        progress.count(0, Duration::from_secs(4), true);
        assert_eq!(lock(&progress.timing).measured_left, [1, 2]);
        progress.dropped(0);
        assert_eq!(lock(&progress.timing).measured_left, [0, 2]);
        assert_eq!(
            lock(&progress.timing).left(),
            Some(Duration::from_secs(2 * 4))
        );
    }
}
