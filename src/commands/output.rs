//! Where a command's output goes: the chosen format to `--output FILE` or stdout; with
//! `--output`, the table still goes to stdout.

use std::io::Write;
use std::path::Path;

use crate::cli::Format;
use crate::error::{Error, Result};

pub fn emit(table: &[u8], json: &[u8], format: Format, output: Option<&Path>) -> Result<()> {
    let chosen = match format {
        Format::Table => table,
        Format::Json => json,
    };
    let mut stdout = std::io::stdout().lock();
    let write_err = |e| Error::io("cannot write to stdout", e);
    match output {
        Some(path) => {
            std::fs::write(path, chosen)
                .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
            stdout.write_all(table).map_err(write_err)?;
        }
        None => stdout.write_all(chosen).map_err(write_err)?,
    }
    stdout.flush().map_err(write_err)
}
