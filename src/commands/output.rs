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

/// Like [`emit`], for output that may hold ANSI styles (the gate's table): they reach a
/// terminal that wants them (not with `NO_COLOR`), and never a pipe or a file.
pub fn emit_styled(table: &[u8], chosen: &[u8], output: Option<&Path>) -> Result<()> {
    if output.is_none() && !chosen.contains(&0x1b) {
        // Nothing to strip (JSON, say): written as it is, not through the stripper, which
        // took a tenth of a 10,000-pair `compare --format json`.
        return emit(chosen, chosen, Format::Table, None);
    }
    let write_err = |e| Error::io("cannot write to stdout", e);
    let mut stdout = anstream::AutoStream::auto(std::io::stdout());
    match output {
        Some(path) => {
            let plain = anstream::adapter::strip_bytes(chosen).into_vec();
            std::fs::write(path, plain)
                .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
            stdout.write_all(table).map_err(write_err)?;
        }
        None => stdout.write_all(chosen).map_err(write_err)?,
    }
    stdout.flush().map_err(write_err)
}
