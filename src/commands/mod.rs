//! The commands, one file each: checked arguments in, output written, exit code out.

mod context;
mod log;
mod notes;
mod output;
mod run;
mod show;

pub use context::Context;
pub use log::log;
pub use notes::notes;
pub use output::emit;
pub use run::run;
pub use show::show;
