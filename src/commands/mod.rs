//! The commands, one file each: checked arguments in, output written, exit code out.

mod check;
mod comment;
mod compare;
mod completions;
mod context;
mod explain;
mod gate;
mod init;
mod log;
mod notes;
mod output;
mod report;
mod run;
mod show;

pub use check::check;
pub use comment::comment;
pub use compare::compare;
pub use completions::{completions, man};
pub use context::Context;
pub use explain::explain;
pub use init::init;
pub use log::log;
pub use notes::notes;
pub use output::emit;
pub use report::report;
pub use run::run;
pub use show::show;
