//! The command line, as clap types only. Nothing here travels past `app`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the configured benchmarks in the working tree and report their figures.
    Run(RunArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Only these benchmarks (default: all).
    #[arg(value_name = "BENCH")]
    pub benchmarks: Vec<String>,

    /// Measured runs per benchmark and dataset (overrides the config).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: Option<u32>,

    /// Unmeasured runs before the measured ones (overrides the config).
    #[arg(long, value_name = "N")]
    pub warmup: Option<u32>,

    /// The output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Write the output to FILE; the table still goes to the terminal.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// No progress lines.
    #[arg(long, short)]
    pub quiet: bool,

    /// Testing aid: hold this much memory (like 300MiB) in memgate itself while running,
    /// to show it does not leak into any figure.
    #[arg(long, hide = true, value_name = "SIZE")]
    pub debug_hold_memory: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}
