//! The time a session's runs have left, estimated from the runs so far. Benchmarks
//! differ wildly in length, so a job's own finished runs predict its remaining ones; a
//! job with none finished yet borrows the mean of every run finished so far. Before any
//! run has finished there is no estimate at all, rather than a guess. Dataset
//! preparation and setup are not runs: they are neither timed nor foreseen. Pure (the
//! caller measures the durations), so it is tested with made-up ones. Main type:
//! [`Estimate`].

use std::time::Duration;

/// The runs of each job of a session: how many are left, and how long the finished
/// ones took.
#[derive(Clone, Debug, Default)]
pub struct Estimate {
    jobs: Vec<JobTimes>,
}

#[derive(Clone, Copy, Debug, Default)]
struct JobTimes {
    /// Executions still to come (warmups included), the one under way among them.
    left: u64,
    /// Executions finished, and the seconds they took together.
    done: u64,
    spent: f64,
}

impl Estimate {
    /// An estimate over jobs that will run `executions` times each (warmups and every
    /// execution of a leak check included), in the order the caller numbers them.
    pub fn new(executions: impl IntoIterator<Item = u64>) -> Estimate {
        Estimate {
            jobs: executions
                .into_iter()
                .map(|left| JobTimes {
                    left,
                    ..JobTimes::default()
                })
                .collect(),
        }
    }

    /// One execution of job `job` finished (in success or not) after `took`.
    pub fn finished(&mut self, job: usize, took: Duration) {
        if let Some(j) = self.jobs.get_mut(job) {
            j.left = j.left.saturating_sub(1);
            j.done += 1;
            j.spent += took.as_secs_f64();
        }
    }

    /// Job `job` failed: none of its executions left will run.
    pub fn dropped(&mut self, job: usize) {
        if let Some(j) = self.jobs.get_mut(job) {
            j.left = 0;
        }
    }

    /// The time the executions left will take, `running` (a job, and how long its
    /// execution under way has run) counted as that much nearer its end, though never
    /// beyond it. `None` until an execution has finished.
    pub fn left(&self, running: Option<(usize, Duration)>) -> Option<Duration> {
        let done: u64 = self.jobs.iter().map(|j| j.done).sum();
        if done == 0 {
            return None;
        }
        let overall = self.jobs.iter().map(|j| j.spent).sum::<f64>() / done as f64;
        let mean = |j: &JobTimes| {
            if j.done > 0 {
                j.spent / j.done as f64
            } else {
                overall
            }
        };
        let mut left: f64 = self.jobs.iter().map(|j| j.left as f64 * mean(j)).sum();
        if let Some((job, elapsed)) = running
            && let Some(j) = self.jobs.get(job).filter(|j| j.left > 0)
        {
            // An execution that overruns its mean is not taken as nearly done forever:
            // the rest of the estimate stands until it ends.
            left -= elapsed.as_secs_f64().min(mean(j));
        }
        Some(Duration::from_secs_f64(left.max(0.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[track_caller]
    fn assert_left(estimate: &Estimate, running: Option<(usize, f64)>, expected: f64) {
        let left = estimate
            .left(running.map(|(j, e)| (j, secs(e))))
            .expect("an estimate")
            .as_secs_f64();
        assert!((left - expected).abs() < 1e-9, "{left} != {expected}");
    }

    #[test]
    fn nothing_before_the_first_run_has_finished() {
        let estimate = Estimate::new([6, 3]);
        assert_eq!(estimate.left(None), None);
        assert_eq!(estimate.left(Some((0, secs(30.0)))), None);
        assert_eq!(Estimate::new([]).left(None), None);
    }

    #[test]
    fn each_job_is_predicted_by_its_own_runs() {
        // A slow job (10 s a run) and a quick one (1 s a run), 4 runs each.
        let mut estimate = Estimate::new([4, 4]);
        estimate.finished(0, secs(12.0));
        // The quick job has no run yet: it borrows the only mean there is.
        assert_left(&estimate, None, 3.0 * 12.0 + 4.0 * 12.0);
        estimate.finished(0, secs(8.0));
        assert_left(&estimate, None, 2.0 * 10.0 + 4.0 * 10.0);
        estimate.finished(0, secs(10.0));
        estimate.finished(0, secs(10.0));
        estimate.finished(1, secs(1.0));
        // The slow job is done; the quick one's own run predicts its other three.
        assert_left(&estimate, None, 3.0);
        estimate.finished(1, secs(1.5));
        estimate.finished(1, secs(0.5));
        assert_left(&estimate, None, 1.0);
        estimate.finished(1, secs(1.0));
        assert_left(&estimate, None, 0.0);
    }

    #[test]
    fn a_job_without_runs_borrows_the_mean_of_every_run() {
        let mut estimate = Estimate::new([2, 2, 5]);
        for took in [1.0, 3.0] {
            estimate.finished(0, secs(took));
        }
        estimate.finished(1, secs(8.0));
        // Job 1: its own 8 s; job 2: (1 + 3 + 8) / 3 = 4 s a run.
        assert_left(&estimate, None, 8.0 + 5.0 * 4.0);
    }

    #[test]
    fn a_run_under_way_counts_down_to_its_mean_and_no_further() {
        let mut estimate = Estimate::new([3, 2]);
        estimate.finished(0, secs(10.0));
        // Job 0's second run, 4 s in: 6 s of it left, 10 s for its third, 2 × 10 s after.
        assert_left(&estimate, Some((0, 4.0)), 6.0 + 10.0 + 20.0);
        // Overrunning: that run is taken as ending now, the rest stands.
        assert_left(&estimate, Some((0, 25.0)), 30.0);
        // A job with nothing left (or none known) has nothing to count down.
        assert_left(&estimate, Some((7, 5.0)), 40.0);
    }

    #[test]
    fn a_failed_job_leaves_nothing_to_wait_for() {
        let mut estimate = Estimate::new([5, 2]);
        estimate.finished(0, secs(2.0));
        estimate.dropped(0);
        assert_left(&estimate, None, 2.0 * 2.0);
        assert_left(&estimate, Some((0, 1.0)), 4.0);
    }
}
