//! The commands: each takes checked arguments, does its work, writes its output and
//! returns the exit code. Errors go back to `main`, which prints them.

use std::io::Write;
use std::path::Path;

use crate::cli::{Cli, Command, Format, RunArgs};
use crate::error::{Error, Result};
use crate::results::{RunResults, Status};
use crate::{config, exit, measure, report, runner};

/// Runs the command `cli` asks for and returns its exit code.
pub fn run(cli: Cli) -> Result<i32> {
    let cwd =
        std::env::current_dir().map_err(|e| Error::io("cannot read the current directory", e))?;
    match cli.command {
        Command::Run(args) => run_command(cli.config.as_deref(), &cwd, args),
    }
}

fn run_command(config: Option<&Path>, cwd: &Path, args: RunArgs) -> Result<i32> {
    let _ballast = match &args.debug_hold_memory {
        Some(size) => Some(hold_memory(size)?),
        None => None,
    };
    let path = config::find(config, cwd)?;
    let mut plan = config::load(&path)?;
    plan.select(&args.benchmarks)?;
    plan.override_counts(args.repeat, args.warmup);

    runner::interrupt::install();
    let cgroup = measure::probe::choose().map_err(Error::Usage)?;
    let mut executor = runner::Executor::new(cgroup)?;
    let results = runner::run_plan(&plan, &mut executor, args.quiet)?;

    emit(&results, args.format, args.output.as_deref())?;
    let failed = results.benchmarks.iter().any(|b| b.status != Status::Ok);
    Ok(if failed {
        exit::BENCHMARK_FAILED
    } else {
        exit::SUCCESS
    })
}

/// Writes the chosen format to `--output` or stdout; with `--output`, the table still
/// goes to stdout.
fn emit(results: &RunResults, format: Format, output: Option<&Path>) -> Result<()> {
    let bytes = match format {
        Format::Table => report::table::render(results),
        Format::Json => report::json(results),
    };
    let mut stdout = std::io::stdout().lock();
    let write_err = |e| Error::io("cannot write to stdout", e);
    match output {
        Some(path) => {
            std::fs::write(path, &bytes)
                .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
            stdout
                .write_all(&report::table::render(results))
                .map_err(write_err)?;
        }
        None => stdout.write_all(&bytes).map_err(write_err)?,
    }
    stdout.flush().map_err(write_err)
}

/// Touches `size` of memory and keeps it until dropped.
fn hold_memory(size: &str) -> Result<Vec<u8>> {
    let bytes = config::units::parse_size(size)
        .map_err(|e| Error::Usage(format!("--debug-hold-memory: {e}")))?;
    Ok(vec![1u8; bytes.0 as usize])
}
