//! Dispatch: each command gets its checked arguments and the context it runs in, and
//! returns the exit code. Errors go back to `main`, which prints them.

use crate::cli::{Cli, Command};
use crate::commands::{self, Context};
use crate::error::{Error, Result};
use crate::github::workflow;

/// Runs the command `cli` asks for and returns its exit code. Under GitHub Actions,
/// workflow commands are stopped on memgate's streams for the whole run (see
/// `github::workflow`), errors included.
pub fn run(cli: Cli) -> Result<i32> {
    let actions = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
    if actions {
        workflow::stop_commands();
    }
    let result = dispatch(cli);
    if actions {
        if let Err(error) = &result {
            // Printed here, inside the stop: an error may quote a benchmark's text.
            for one in error.each() {
                eprintln!("memgate: error: {one}");
            }
        }
        workflow::resume_commands();
        return result.or_else(|error| match error {
            Error::Interrupted => Err(error),
            _ => Ok(crate::exit::ERROR),
        });
    }
    result
}

fn dispatch(cli: Cli) -> Result<i32> {
    let cwd =
        std::env::current_dir().map_err(|e| Error::io("cannot read the current directory", e))?;
    let ctx = Context::new(cwd, cli.store.as_deref(), cli.testbed.as_deref())?;
    match cli.command {
        Command::Run(args) => commands::run(&ctx, cli.config.as_deref(), args),
        Command::Show(args) => commands::show(&ctx, args),
        Command::Log(args) => commands::log(&ctx, cli.config.as_deref(), args),
        Command::Compare(args) => commands::compare(&ctx, cli.config.as_deref(), args),
        Command::Check(args) => commands::check(&ctx, cli.config.as_deref(), args),
        Command::Comment(args) => commands::comment(args),
        Command::Notes(command) => commands::notes(&ctx, command),
    }
}
