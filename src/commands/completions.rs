//! `memgate completions SHELL` and `memgate man`: the shell completions and the man page,
//! generated from the clap definitions in `cli`, so they never drift from the commands.

use clap::CommandFactory;

use crate::cli::{Cli, Format};
use crate::error::{Error, Result};
use crate::exit;

/// Prints the completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Result<i32> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "memgate", &mut out);
    print(&out)
}

/// Prints the man page (section 1, roff).
pub fn man() -> Result<i32> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| Error::io("cannot render the man page", e))?;
    print(&out)
}

fn print(bytes: &[u8]) -> Result<i32> {
    super::output::emit(bytes, bytes, Format::Table, None)?;
    Ok(exit::SUCCESS)
}
