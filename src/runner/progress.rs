//! Progress on the terminal: an indicatif bar on a terminal, one plain line per finished
//! benchmark otherwise (CI logs), nothing with `--quiet`. Main type: [`Progress`].

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
    lines: bool,
}

impl Progress {
    /// A progress display over `runs` executions, drawn on stderr.
    pub fn new(runs: u64, quiet: bool) -> Self {
        if quiet {
            return Progress {
                bar: None,
                lines: false,
            };
        }
        if !std::io::stderr().is_terminal() {
            return Progress {
                bar: None,
                lines: true,
            };
        }
        let bar = ProgressBar::with_draw_target(Some(runs), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} runs  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress {
            bar: Some(bar),
            lines: false,
        }
    }

    /// Says what runs now, such as `automl[taxi]: run 2/5`.
    pub fn now(&self, what: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(what.to_owned());
        }
    }

    /// One execution is done (or will not happen).
    pub fn advance(&self, runs: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(runs);
        }
    }

    /// A benchmark × dataset is done; `line` says how it went.
    pub fn finished(&self, line: &str) {
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

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}
