//! Dispatch: each command gets its checked arguments and the context it runs in, and
//! returns the exit code. Errors go back to `main`, which prints them.

use clap::ColorChoice;

use crate::cli::{Cli, Command};
use crate::commands::{self, Context};
use crate::error::{Error, Result};
use crate::github::workflow;

/// Runs the command `cli` asks for and returns its exit code: every outcome is mapped
/// to one here, and every error printed here. Under GitHub Actions, workflow commands
/// are stopped for the whole run, errors included (see `github::workflow`).
pub fn run(cli: Cli) -> i32 {
    // Every styled stream (`anstream`) follows the choice; auto leaves it to each.
    match cli.color {
        ColorChoice::Auto => {}
        ColorChoice::Always => anstream::ColorChoice::Always.write_global(),
        ColorChoice::Never => anstream::ColorChoice::Never.write_global(),
    }
    let actions = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
    if actions {
        workflow::stop_commands();
    }
    let code = match dispatch(cli) {
        Ok(code) => code,
        Err(Error::Interrupted) => {
            eprintln!("memgate: interrupted; every benchmark process was stopped");
            crate::exit::INTERRUPTED
        }
        Err(error) => {
            for one in error.each() {
                eprintln!("memgate: error: {one}");
            }
            crate::exit::ERROR
        }
    };
    if actions {
        workflow::resume_commands();
    }
    code
}

fn dispatch(cli: Cli) -> Result<i32> {
    // These print what the command line is; they need no project.
    match &cli.command {
        Command::Completions(args) => return commands::completions(args.shell),
        Command::Man => return commands::man(),
        _ => {}
    }
    let cwd =
        std::env::current_dir().map_err(|e| Error::io("cannot read the current directory", e))?;
    // It writes the config the others read, and needs no store.
    if let Command::Init(args) = cli.command {
        return commands::init(&cwd, cli.config.as_deref(), args);
    }
    let ctx = Context::new(cwd, cli.store.as_deref(), cli.testbed.as_deref())?;
    match cli.command {
        Command::Run(args) => commands::run(&ctx, cli.config.as_deref(), args),
        Command::Show(args) => commands::show(&ctx, args),
        Command::Log(args) => commands::log(&ctx, cli.config.as_deref(), args),
        Command::Compare(args) => commands::compare(&ctx, cli.config.as_deref(), args),
        Command::Check(args) => commands::check(&ctx, cli.config.as_deref(), args),
        Command::Report(args) => commands::report(&ctx, cli.config.as_deref(), args),
        Command::Explain(args) => commands::explain(&ctx, cli.config.as_deref(), args),
        Command::Comment(args) => commands::comment(args),
        Command::Notes(command) => commands::notes(&ctx, command),
        Command::Init(_) | Command::Completions(_) | Command::Man => {
            unreachable!("handled before the context")
        }
    }
}
