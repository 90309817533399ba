//! `memgate notes fetch|push [REMOTE]`: share results through a git remote.

use super::context::Context;
use crate::cli::NotesCommand;
use crate::error::Result;
use crate::exit;
use crate::store::sync::{self, Fetched};

pub fn notes(ctx: &Context, command: NotesCommand) -> Result<i32> {
    let repo = ctx.require_repo("memgate notes")?;
    let dir = repo
        .workdir()
        .map(|p| p.to_path_buf())
        .unwrap_or_else(|| repo.common_dir());
    match command {
        NotesCommand::Fetch { remote } => match sync::fetch(&dir, &remote)? {
            Fetched::Nothing => eprintln!("memgate: {remote} has no memgate notes yet"),
            Fetched::Merged => eprintln!("memgate: merged the memgate notes of {remote}"),
        },
        NotesCommand::Push { remote } => {
            let attempts = sync::push(&dir, &remote)?;
            let retried = match attempts {
                1 => String::new(),
                n => format!(" (after merging notes others had pushed; {n} attempts)"),
            };
            eprintln!("memgate: pushed the memgate notes to {remote}{retried}");
        }
    }
    Ok(exit::SUCCESS)
}
