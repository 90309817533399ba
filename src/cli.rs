//! The command line, as clap types only. Nothing here travels past `app`.

use std::path::PathBuf;

use clap::{Args, ColorChoice, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "memgate",
    version,
    about = "Run benchmarks under measurement and fail the build when peak memory or runtime regress.",
    after_help = "Exit codes: 0 success, 1 regression, 2 memgate could not do its job, 3 a benchmark failed, 130 interrupted."
)]
pub struct Cli {
    /// The config file (default: memgate.yml in the current directory, else at the
    /// repository root).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Keep results in this directory instead of git notes (for projects without git,
    /// and CI steps that pass results on as artifacts).
    #[arg(long, global = true, value_name = "DIR")]
    pub store: Option<PathBuf>,

    /// Name this machine's results (default: MEMGATE_TESTBED, the config's `testbed:`,
    /// else a fingerprint of the machine). Results are compared only within a testbed.
    #[arg(long, global = true, value_name = "NAME")]
    pub testbed: Option<String>,

    /// When to colour what memgate prints: auto (on a terminal, unless NO_COLOR is set),
    /// always, or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Look at the repository and write a commented memgate.yml of the benchmarks it
    /// already has: pytest-benchmark suites, asv, cargo bench targets, scripts/bench*, a
    /// Makefile bench target (console scripts as commented-out suggestions).
    Init(InitArgs),
    /// Run the configured benchmarks and save their figures under the revision.
    Run(RunArgs),
    /// Show what is stored for a revision (default HEAD).
    Show(ShowArgs),
    /// The stored figures along the first-parent history, newest first.
    Log(LogArgs),
    /// Compare stored results of two revisions: the gate without running anything.
    Compare(CompareArgs),
    /// The CI gate: run the working tree, compare with the base, fail on a regression.
    Check(CheckArgs),
    /// Draw the HTML report of stored results: one revision's run (default HEAD), or
    /// BASE against HEAD; each chart also as SVG and PNG.
    Report(ReportArgs),
    /// Run benchmarks once more under diagnosis, on head and on the base, and say what
    /// grew and why: the process tree and memory kinds at the peak, the trend at the end,
    /// and for Python the allocation sites alive at the peak and the objects kept alive by
    /// reference cycles (with the cycle's attribute names). Nothing it measures is stored
    /// or gated.
    Explain(ExplainArgs),
    /// Post a saved report (`check` writes .memgate/report.json in GitHub Actions) on the
    /// pull request, editing memgate's earlier comment. Runs nothing: the step that holds
    /// the token need not run any benchmark code.
    Comment(CommentArgs),
    /// Share results through a git remote.
    #[command(subcommand)]
    Notes(NotesCommand),
    /// Print the completions of memgate's commands and options for a shell, e.g.
    /// `memgate completions bash > ~/.local/share/bash-completion/completions/memgate`.
    Completions(CompletionsArgs),
    /// Print memgate's man page (roff), e.g. `memgate man > ~/.local/share/man/man1/memgate.1`.
    Man,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Write over an existing memgate.yml (and, with --github, existing workflows).
    #[arg(long)]
    pub force: bool,

    /// Also write GitHub Actions workflows into .github/workflows/: one gates each pull
    /// request, one keeps the default branch's baselines. With a memgate.yml already
    /// there (and no --force), only the workflows are written.
    #[arg(long)]
    pub github: bool,

    /// The project folder to look at and write memgate.yml in (default: the root of the
    /// git repository, else the current directory).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// HEAD alone (default HEAD) for a run, or BASE HEAD for a comparison.
    #[arg(value_name = "REV", num_args = 0..=2)]
    pub revisions: Vec<String>,

    /// The folder to write index.html and the charts into (default .memgate/report/
    /// beside the config).
    #[arg(long, short, value_name = "DIR")]
    pub output: Option<PathBuf>,

    /// Only these benchmarks (default: all), after `--`.
    #[arg(last = true, value_name = "BENCH")]
    pub benchmarks: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Only these benchmarks (default: all).
    #[arg(value_name = "BENCH")]
    pub benchmarks: Vec<String>,

    /// Also diagnose this revision, in a temporary worktree, and show what changed from it
    /// (default: the pull request's base in GitHub Actions, else the merge-base with the
    /// default branch, when there is one and it is not HEAD).
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,

    /// Diagnose head only.
    #[arg(long, conflicts_with = "base")]
    pub no_base: bool,

    #[arg(long, value_enum, default_value_t = ExplainFormat::Table)]
    pub format: ExplainFormat,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Python: also the allocation sites alive at the peak (tracemalloc). It slows
    /// allocation-heavy Python many times over and adds its own memory to the figures:
    /// see the README.
    #[arg(long)]
    pub sites: bool,

    /// Python: native allocation sites with memray, where the benchmark's Python has it.
    #[arg(long)]
    pub native: bool,

    /// No progress on the terminal.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    Table,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct CommentArgs {
    /// The JSON report to post (as `check --format json` writes it).
    #[arg(long, value_name = "FILE")]
    pub report: PathBuf,

    /// The pull request's number (default: the one of this workflow run's event).
    #[arg(long, value_name = "N")]
    pub pr: Option<u64>,
}

/// How a comparison is written.
#[derive(Debug, Args)]
pub struct GateOutput {
    /// The output format.
    #[arg(long, value_enum, default_value_t = GateFormat::Table)]
    pub format: GateFormat,

    /// Write the output to FILE; the table still goes to the terminal.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Take a base record made on a working tree with changes (normally skipped).
    #[arg(long)]
    pub allow_dirty: bool,

    /// Pass when there are no base figures to compare with at all (normally exit 2: a
    /// missing baseline would let every change through).
    #[arg(long)]
    pub allow_missing: bool,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The base revision (default: the merge-base of HEAD with the default branch).
    #[arg(value_name = "BASE")]
    pub base: Option<String>,

    /// The head revision (default HEAD).
    #[arg(value_name = "HEAD")]
    pub head: Option<String>,

    #[command(flatten)]
    pub output: GateOutput,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Only these benchmarks (default: all).
    #[arg(value_name = "BENCH")]
    pub benchmarks: Vec<String>,

    /// The base revision (default: the merge-base of HEAD with the default branch).
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,

    /// Run the base in this session even if results for it are stored.
    #[arg(long)]
    pub rerun_base: bool,

    /// Also save the head's results under HEAD.
    #[arg(long)]
    pub save: bool,

    /// Post the report as a comment on the pull request (GitHub Actions: GITHUB_TOKEN,
    /// GITHUB_REPOSITORY, GITHUB_EVENT_PATH), editing memgate's earlier one.
    #[arg(long)]
    pub github_comment: bool,

    /// Measured runs per benchmark and dataset (overrides the config).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub repeat: Option<u32>,

    /// Unmeasured runs before the measured ones (overrides the config).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pub warmup: Option<u32>,

    /// No progress lines.
    #[arg(long, short)]
    pub quiet: bool,

    /// Do not write the HTML report (.memgate/report/index.html).
    #[arg(long)]
    pub no_report: bool,

    #[command(flatten)]
    pub output: GateOutput,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Only these benchmarks (default: all).
    #[arg(value_name = "BENCH")]
    pub benchmarks: Vec<String>,

    /// Measured runs per benchmark and dataset (overrides the config).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub repeat: Option<u32>,

    /// Unmeasured runs before the measured ones (overrides the config).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pub warmup: Option<u32>,

    /// Run another revision, checked out into a temporary worktree (the working tree is
    /// not touched), with the current memgate.yml; save under that revision.
    #[arg(long, value_name = "REV")]
    pub rev: Option<String>,

    /// Do not save the results.
    #[arg(long)]
    pub no_save: bool,

    /// With --store outside a git repository: the name to save the results under.
    #[arg(long, value_name = "NAME")]
    pub label: Option<String>,

    /// The output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Write the output to FILE; the table still goes to the terminal.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// No progress lines.
    #[arg(long, short)]
    pub quiet: bool,

    /// Do not write the HTML report (.memgate/report/index.html).
    #[arg(long)]
    pub no_report: bool,

    /// Testing aid: hold this much memory (like 300MiB) in memgate itself while running,
    /// to show it does not leak into any figure.
    #[arg(long, hide = true, value_name = "SIZE")]
    pub debug_hold_memory: Option<String>,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The revision (default HEAD; with --store outside git, the label).
    #[arg(value_name = "REV")]
    pub rev: Option<String>,

    /// The output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// Only this benchmark (default: all).
    #[arg(value_name = "BENCH")]
    pub benchmark: Option<String>,

    /// The metric to show.
    #[arg(long, short, default_value = "peak_memory", value_name = "METRIC")]
    pub metric: String,

    /// How many commits.
    #[arg(
        short = 'n',
        long = "max-count",
        default_value_t = 20,
        value_name = "N"
    )]
    pub count: usize,

    /// Start from this revision instead of HEAD.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub from: String,
}

#[derive(Debug, Subcommand)]
pub enum NotesCommand {
    /// Fetch the remote's memgate notes and merge them into the local ones.
    Fetch {
        #[arg(default_value = "origin")]
        remote: String,
    },
    /// Push the local memgate notes, merging in what others pushed first.
    Push {
        #[arg(default_value = "origin")]
        remote: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GateFormat {
    Table,
    Json,
    Markdown,
    Junit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}
