//! Results kept per revision: git notes (default) or a directory (`--store DIR`), one
//! record per run per testbed, each with its schema version, and its timelines apart.

mod dir;
#[cfg(test)]
mod fuzz;
mod loaded;
mod lock;
mod notes;
mod record;
pub mod sync;
mod timelines;

pub use dir::DirStore;
pub use loaded::Loaded;
pub use notes::{NOTES_REF, NotesStore, TIMELINES_REF};
pub use record::{Record, SCHEMA_VERSION, STORED_TIMELINE_POINTS};

use crate::error::Result;

/// Where records are kept.
pub trait Store {
    /// For messages: `git notes (refs/notes/memgate)`, `directory DIR`.
    fn describe(&self) -> String;
    /// Adds a record under a revision; never touches the revision's other records.
    fn save(&self, revision: &str, record: &Record) -> Result<()>;
    /// Every record of a revision that can be read, and a message for each that cannot:
    /// their figures, without their runs (each benchmark's `runs` is empty), which are
    /// most of a record and which only [`Store::load_with_runs`] reads.
    fn load(&self, revision: &str) -> Result<Loaded>;
    /// Like [`Store::load`], with the runs and their timelines; a record whose runs or
    /// timelines cannot be read is kept without them, and a message says why.
    fn load_with_runs(&self, revision: &str) -> Result<Loaded>;
}
