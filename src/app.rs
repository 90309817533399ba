//! Dispatch: each command gets its checked arguments and the context it runs in, and
//! returns the exit code. Errors go back to `main`, which prints them.

use crate::cli::{Cli, Command};
use crate::commands::{self, Context};
use crate::error::{Error, Result};

/// Runs the command `cli` asks for and returns its exit code.
pub fn run(cli: Cli) -> Result<i32> {
    let cwd =
        std::env::current_dir().map_err(|e| Error::io("cannot read the current directory", e))?;
    let ctx = Context::new(cwd, cli.store.as_deref(), cli.testbed.as_deref())?;
    match cli.command {
        Command::Run(args) => commands::run(&ctx, cli.config.as_deref(), args),
        Command::Show(args) => commands::show(&ctx, args),
        Command::Log(args) => commands::log(&ctx, cli.config.as_deref(), args),
        Command::Compare(args) => commands::compare(&ctx, cli.config.as_deref(), args),
        Command::Check(args) => commands::check(&ctx, cli.config.as_deref(), args),
        Command::Notes(command) => commands::notes(&ctx, command),
    }
}
